# IIS W3C logs as http events: the article's excerpts, #Fields changes, bad lines (issue 9).
. "$(dirname "$0")/../lib.sh"
D="$TOP/tests/data/iis"
ART="date time cs-method cs-uri-stem cs-uri-query s-port cs-username cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken"

# The article's two excerpts, Director then Front End, merged into one stream.
"$LYNCFLOW" --iis-log director="$SAMPLES/iis/director-article.log" --iis-log frontend="$SAMPLES/iis/frontend-article.log" \
    --iis-fields "$ART" --json "$TMP/a.json" 2>"$TMP/a.err"
expect_eq "article: exit 0" "$?" 0
expect_eq "article: 18 requests" "$(jcount "$TMP/a.json" '.type=="http"')" 18
expect_eq "article: all from iis" "$(jcount "$TMP/a.json" '.type=="http" and .source=="iis"')" 18
jq -r 'select(.type=="http") | "\(.log_server) \(.method) \(.uri) \(.status)"' "$TMP/a.json" >"$TMP/a.order"
grep -E '^2011' "$SAMPLES/iis/director-article.log" "$SAMPLES/iis/frontend-article.log" >/dev/null
awk '{print FILENAME=="'"$SAMPLES/iis/director-article.log"'" ? "director" : "frontend", $3, $4, $9}' \
    "$SAMPLES/iis/director-article.log" "$SAMPLES/iis/frontend-article.log" >"$TMP/a.want"
expect_eq "article: the article's order, Director first then Front End" "$(cat "$TMP/a.order")" "$(cat "$TMP/a.want")"
expect_eq "article: first step is CertProv mex at 13:18:07 UTC" \
    "$(jq -r 'select(.type=="http") | "\(.ts*1e6|round) \(.uri)"' "$TMP/a.json" | head -1)" \
    "1301059087000000 /CertProv/CertProvisioningService.svc/mex"
expect_eq "article: '+' in the user agent is a space" \
    "$(jq -r 'select(.type=="http") | .user_agent' "$TMP/a.json" | sort -u)" "OC/4.0.7577.108 (Microsoft Lync 2010)"
expect_eq "article: the web ticket is issued to sip:test1@mslync.net" \
    "$(jq -r 'select(.type=="http" and .status==200 and .uri=="/WebTicket/WebTicketService.svc") | .user' "$TMP/a.json")" \
    "sip:test1@mslync.net"
expect_eq "article: 2148074254 decoded" \
    "$(jq -r 'select(.win32_status==2148074254) | .win32_status_name' "$TMP/a.json" | sort -u | cut -d' ' -f1-2)" \
    "0x8009030E SEC_E_NO_CREDENTIALS"
expect_eq "article: 2148074252 is a logon denied" \
    "$(jq -r 'select(.win32_status==2148074252) | .win32_status_name' "$TMP/a.json" | cut -d' ' -f1-2)" \
    "0x8009030C SEC_E_LOGON_DENIED"
expect_eq "article: substatus kept" "$(jcount "$TMP/a.json" '.type=="http" and .status==401 and .substatus==1')" 3
expect_eq "article: time-taken kept" \
    "$(jq -r 'select(.uri=="/abs/handler/C-0e8e-0e97.lsabs") | .time_taken_ms' "$TMP/a.json")" 204
expect_eq "article: stats counts 18 lines, 0 errors" \
    "$(jq -r 'select(.type=="stats") | "\(.iis_lines) \(.iis_errors)"' "$TMP/a.json")" "18 0"
expect_eq "article: nothing on stderr" "$(cat "$TMP/a.err")" ""

# A second #Fields block in another order, two clients interleaved.
"$LYNCFLOW" --iis-log dir01="$D/two-fields.log" --json "$TMP/b.json" 2>"$TMP/b.err"
expect_eq "two #Fields: exit 0" "$?" 0
expect_eq "two #Fields: 8 requests" "$(jcount "$TMP/b.json" '.type=="http"')" 8
expect_eq "two #Fields: fields after the switch land in the right place" \
    "$(jq -r 'select(.type=="http" and .status==200 and .uri=="/WebTicket/WebTicketService.svc") | "\(.client) \(.server) \(.user) \(.host) \(.time_taken_ms)"' "$TMP/b.json")" \
    '10.0.0.2:0 10.0.1.10:4443 CONTOSO\alice dirweb.contoso.com 221'
expect_eq "two #Fields: the query joins the stem" \
    "$(jq -r 'select(.type=="http") | .uri' "$TMP/b.json" | head -1)" \
    "/Autodiscover/AutodiscoverService.svc/root/user?sipuri=alice@contoso.com"
expect_eq "two #Fields: fractional seconds; the start is the stamp less time-taken" \
    "$(jq -r 'select(.win32_status==2148074252) | .ts*1e6|round' "$TMP/b.json")" "1714640405248000"
expect_eq "two #Fields: clients interleave in time order" \
    "$(jq -r 'select(.type=="http") | .client' "$TMP/b.json" | tr '\n' ' ')" \
    "10.0.0.2:0 10.0.0.2:0 10.0.0.3:0 10.0.0.2:0 10.0.0.3:0 10.0.0.2:0 10.0.0.3:0 10.0.0.2:0 "
expect_eq "two #Fields: the log's server name" "$(jq -r 'select(.type=="http") | .log_server' "$TMP/b.json" | sort -u)" "dir01"

# Malformed lines: counted, reported with file:line, skipped; good lines still come out.
"$LYNCFLOW" --iis-log "$D/malformed.log" --json "$TMP/c.json" 2>"$TMP/c.err"
expect_eq "malformed: exit 0" "$?" 0
expect_eq "malformed: the two good lines come out" \
    "$(jq -r 'select(.type=="http") | .uri' "$TMP/c.json" | tr '\n' ' ')" "/abs/handler/C-0e8e-0e97.lsabs /GroupExpansion/service.svc "
expect_eq "malformed: CRLF stripped from the last field" "$(jq -r 'select(.type=="http") | .time_taken_ms' "$TMP/c.json" | head -1)" 204
expect_eq "malformed: 4 errors counted" "$(jq -r 'select(.type=="stats") | .iis_errors' "$TMP/c.json")" 4
expect_match "malformed: wrong field count named with file:line" "$TMP/c.err" "malformed.log:3: wrong number of fields"
expect_match "malformed: bad date named" "$TMP/c.err" "malformed.log:4: bad date"
expect_match "malformed: bad status named" "$TMP/c.err" "malformed.log:5: bad sc-status"
expect_match "malformed: garbage named" "$TMP/c.err" "malformed.log:6: "

"$LYNCFLOW" --iis-log "$D/overlong.log" --json "$TMP/d.json" 2>"$TMP/d.err"
expect_eq "overlong: exit 0" "$?" 0
expect_match "overlong: reported with its line" "$TMP/d.err" "overlong.log:2: line longer than 64 KiB"
expect_eq "overlong: the next line (no final newline) still comes out" \
    "$(jq -r 'select(.type=="http") | .uri' "$TMP/d.json")" "/meet/alice/ABCD"

# No #Fields and no --iis-fields: said once, with where.
"$LYNCFLOW" --iis-log "$SAMPLES/iis/director-article.log" --json "$TMP/e.json" 2>"$TMP/e.err"
expect_match "no #Fields: says what to give" "$TMP/e.err" "director-article.log:1: .*--iis-fields"
expect_eq "no #Fields: one message" "$(wc -l <"$TMP/e.err" | tr -d ' ')" 1
expect_eq "no #Fields: all 9 lines counted as errors" "$(jq -r 'select(.type=="stats") | .iis_errors' "$TMP/e.json")" 9

"$LYNCFLOW" --iis-log "$TMP/nope.log" 2>"$TMP/f.err"
expect_eq "missing log: exit 1" "$?" 1
expect_match "missing log: named" "$TMP/f.err" "nope.log: No such file"

"$LYNCFLOW" --iis-log "$D/two-fields.log" --iis-fields "date cs-method" 2>"$TMP/g.err"
expect_eq "bad --iis-fields: exit 1" "$?" 1
expect_match "bad --iis-fields: says why" "$TMP/g.err" "needs .* 'time'"

# A lab capture and the W3C logs its IIS stand-ins wrote during the same run, merged by time.
S="$SAMPLES/healthy-iis-logs"
"$LYNCFLOW" -r "$S/capture.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" \
    --iis-log dir01="$S/iis/dir01.log" --iis-log fe01="$S/iis/fe01.log" --json "$TMP/m.json" --timeline >"$TMP/m.txt" 2>"$TMP/m.err"
expect_eq "merged: exit 0" "$?" 0
lines=$(cat "$S/iis/dir01.log" "$S/iis/fe01.log" | grep -vc '^#')
expect_eq "merged: every log line is an iis event" "$(jcount "$TMP/m.json" '.type=="http" and .source=="iis"')" "$lines"
expect_eq "merged: every request the client made is a decrypted pcap event on the front leg" \
    "$(jcount "$TMP/m.json" '.type=="http" and .source=="pcap" and (.server|startswith("127.0.0.1")) and .decrypted')" \
    "$(jq -c 'select(.sent)' "$S/client.ndjson" | wc -l | tr -d ' ')"
jq -r 'select(.type=="http" or .type=="tls") | .ts*1e6|round' "$TMP/m.json" >"$TMP/m.ts"
expect_eq "merged: one stream in time order (tls and http events)" "$(sort -n "$TMP/m.ts")" "$(cat "$TMP/m.ts")"
first_iis=$(jq -r 'select(.source=="iis") | .ts*1e6|round' "$TMP/m.json" | head -1)
first_pcap=$(jq -r 'select(.source=="pcap") | .ts*1e6|round' "$TMP/m.json" | head -1)
last_pcap=$(jq -r 'select(.source=="pcap") | .ts*1e6|round' "$TMP/m.json" | tail -1)
check "merged: log lines interleave with the capture's requests" test "$first_iis" -gt "$first_pcap" -a "$first_iis" -lt "$last_pcap"
expect_eq "merged: the Director's log belongs to dir01, a director" \
    "$(jq -r 'select(.source=="iis" and .log_server=="dir01") | .role' "$TMP/m.json" | sort -u)" "director"
expect_eq "merged: the Front End's log belongs to fe01, a frontend" \
    "$(jq -r 'select(.source=="iis" and .log_server=="fe01") | .role' "$TMP/m.json" | sort -u)" "frontend"
expect_ge "merged: NTLM challenges logged as 401.1 0x8009030E" \
    "$(jcount "$TMP/m.json" '.source=="iis" and .status==401 and .substatus==1 and .win32_status==2148074254')" 1
expect_eq "merged: the NTLM user as IIS logs it" \
    "$(jq -r 'select(.source=="iis" and .status==200 and .uri=="/WebTicket/WebTicketService.svc") | .user' "$TMP/m.json" | sort -u | head -1)" \
    'CONTOSO\alice'
expect_match "merged: the timeline shows alice's sign-in" "$TMP/m.txt" "^sign-in [0-9]+: client 127.0.2.1, user CONTOSO.alice"

# Three-way match: each log line is the proxy's back-leg request of the same exchange, and its substatus,
# win32 status and user land on the step that request shows in.
"$LYNCFLOW" -r "$S/capture.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --json "$TMP/p.json" --timeline \
    >"$TMP/p.txt" 2>/dev/null
expect_eq "three-way: as many sign-ins with the logs as from the capture alone" \
    "$(jcount "$TMP/m.json" '.type=="signin"')" "$(jcount "$TMP/p.json" '.type=="signin"')"
expect_eq "three-way: the same steps as from the capture alone" \
    "$(grep -E '^[ !] +[0-9]+ +[+]' "$TMP/m.txt" | cut -c1-120)" "$(grep -E '^[ !] +[0-9]+ +[+]' "$TMP/p.txt" | cut -c1-120)"
expect_eq "three-way: every log line matched, none left over" \
    "$(jq -r 'select(.type=="stats") | "\(.iis_matched) \(.iis_unmatched)"' "$TMP/m.json")" "$lines 0"
expect_match "three-way: the timeline says so" "$TMP/m.txt" "^iis: $lines log lines matched to the capture's requests, 0 not$"
expect_eq "three-way: each line names a capture request to its server with its method, URI and status, each its own" \
    "$(jq -s -r '. as $a | [$a[] | select(.source=="iis") | . as $i | $a[($i.matched_seq // 0) - 1] |
        .source=="pcap" and .server==$i.server and .method==$i.method and .uri==$i.uri and .status==$i.status and
        $i.stitched] | "\(length) \(map(select(.)) | length)"' "$TMP/m.json") $(jq -s '[.[] | select(.source=="iis") |
        .matched_seq] | unique | length' "$TMP/m.json")" "$lines $lines $lines"
# What each client did on each server, in order, from the logs (by user agent) and from the timeline (by address).
jq -r '"\(.client | split(":")[0])\t\(.user_agent)"' "$S/client.ndjson" | sort -u >"$TMP/ua.map"
expect_eq "three-way: one user agent per client address" "$(cut -f1 "$TMP/ua.map" | uniq -d)" ""
for f in dir01 fe01; do
    awk -v srv=$f '/^#Fields:/ { for (i = 2; i <= NF; i++) col[$i] = i - 1; next } /^#/ { next }
        { ua = $col["cs(User-Agent)"]; gsub(/\+/, " ", ua); uri = $col["cs-uri-stem"]
          if ($col["cs-uri-query"] != "-") uri = uri "?" $col["cs-uri-query"]
          st = $col["sc-status"]; if ($col["sc-substatus"] != 0) st = st "." $col["sc-substatus"]
          if ($col["sc-win32-status"] != 0) st = sprintf("%s 0x%08X", st, $col["sc-win32-status"])
          printf "%s\t%s\t%s %s %s\n", srv, ua, $col["cs-method"], uri, st }' "$S/iis/$f.log"
done | sort -s -t "$(printf '\t')" -k1,2 >"$TMP/log.seq"
# tl_seq TIMELINE: server, the client's user agent, method, URI and status of each step.
tl_seq() {
    awk 'NR == FNR { split($0, kv, "\t"); ua[kv[1]] = kv[2]; next } /^[ !] +[0-9]+ +[+]/ { sub(/^!/, " ")
        st = $10; if ($11 ~ /^0x/) st = st " " $11
        printf "%s\t%s\t%s %s %s\n", $6, ua[$3], $8, $9, st }' "$TMP/ua.map" "$1" | sort -s -t "$(printf '\t')" -k1,2
}
tl_seq "$TMP/m.txt" >"$TMP/tl.seq"
expect_eq "three-way: the log's requests, in each client's order on each server" "$(wc -l <"$TMP/tl.seq")" "$lines"
expect_eq "three-way: status, substatus and win32 status on the very step the log has them" \
    "$(cat "$TMP/tl.seq")" "$(cat "$TMP/log.seq")"
expect_ge "three-way: WebTicket NTLM challenges among them" \
    "$(grep -c 'POST /WebTicket/WebTicketService.svc 401.1 0x8009030E' "$TMP/tl.seq")" 4
expect_match "merged: IIS substatus and win32 status reach the timeline" "$TMP/m.txt" \
    "POST /WebTicket/WebTicketService.svc +401\.1 0x8009030E challenge"
expect_nomatch "three-way: no 200 carries a challenge's substatus" "$TMP/m.txt" " 200\.[0-9]"

# The capture without the back leg: each line is stitched to the client's request instead.
tcpdump -r "$S/capture.pcap" -w "$TMP/front.pcap" 'not (host 127.0.1.10 or host 127.0.1.11)' 2>/dev/null
"$LYNCFLOW" -r "$TMP/front.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --iis-log dir01="$S/iis/dir01.log" \
    --iis-log fe01="$S/iis/fe01.log" --json "$TMP/fo.json" --timeline >"$TMP/fo.txt" 2>/dev/null
expect_eq "front leg only: no back-leg request in the capture" \
    "$(jcount "$TMP/fo.json" '.source=="pcap" and (.server|startswith("127.0.1."))')" 0
expect_eq "front leg only: every log line matched" \
    "$(jq -r 'select(.type=="stats") | "\(.iis_matched) \(.iis_unmatched)"' "$TMP/fo.json")" "$lines 0"
expect_eq "front leg only: as many sign-ins as with the back leg" "$(jcount "$TMP/fo.json" '.type=="signin"')" \
    "$(jcount "$TMP/p.json" '.type=="signin"')"
expect_eq "front leg only: each line names the client's request" \
    "$(jq -s -r '. as $a | [$a[] | select(.source=="iis") | . as $i | $a[($i.matched_seq // 0) - 1] |
        .source=="pcap" and (.server|startswith("127.0.0.1")) and .uri==$i.uri and .status==$i.status] |
        map(select(.)) | length' "$TMP/fo.json")" "$lines"
expect_eq "front leg only: status, substatus and win32 status on the very step the log has them" \
    "$(tl_seq "$TMP/fo.txt")" "$(cat "$TMP/log.seq")"

# One back-leg connection not decrypted (its secrets left out): its log lines match the client's requests.
if command -v tshark >/dev/null 2>&1; then
    rnd=$(tshark -r "$S/capture.pcap" -Y 'tls.handshake.type==1 && ip.src==127.0.0.2' -T fields \
        -e tls.handshake.random 2>/dev/null | head -1)
    grep -v "$rnd" "$S/keylog.txt" >"$TMP/part.keylog"
    "$LYNCFLOW" -r "$S/capture.pcap" -c "$S/topology.conf" --keylog "$TMP/part.keylog" --iis-log dir01="$S/iis/dir01.log" \
        --iis-log fe01="$S/iis/fe01.log" --json "$TMP/pk.json" --timeline >"$TMP/pk.txt" 2>/dev/null
    expect_eq "one back leg not decrypted: one connection without secrets" \
        "$(jq -r 'select(.type=="stats") | .tls_no_secret' "$TMP/pk.json")" 1
    expect_eq "one back leg not decrypted: every line matched" \
        "$(jq -r 'select(.type=="stats") | "\(.iis_matched) \(.iis_unmatched)"' "$TMP/pk.json")" "$lines 0"
    expect_ge "one back leg not decrypted: its lines name client requests" \
        "$(jq -s '. as $a | [$a[] | select(.source=="iis") | $a[.matched_seq-1].server |
            select(startswith("127.0.0.1"))] | length' "$TMP/pk.json")" 1
    expect_eq "one back leg not decrypted: statuses on the very step the log has them" \
        "$(tl_seq "$TMP/pk.txt")" "$(cat "$TMP/log.seq")"
fi

# A capture of the back leg alone (taken on the servers' side): the lines enrich the proxy's requests.
tcpdump -r "$S/capture.pcap" -w "$TMP/back.pcap" 'host 127.0.1.10 or host 127.0.1.11' 2>/dev/null
"$LYNCFLOW" -r "$TMP/back.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --timeline >"$TMP/bo0.txt" 2>/dev/null
"$LYNCFLOW" -r "$TMP/back.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --iis-log dir01="$S/iis/dir01.log" \
    --iis-log fe01="$S/iis/fe01.log" --timeline >"$TMP/bo.txt" 2>/dev/null
expect_eq "back leg only: the sign-ins and steps of the capture alone" "$(head -1 "$TMP/bo.txt")" "$(head -1 "$TMP/bo0.txt")"
expect_match "back leg only: every log line matched" "$TMP/bo.txt" "^iis: $lines log lines matched to the capture's requests, 0 not$"
expect_eq "back leg only: the steps carry the log's statuses" \
    "$(awk '/^[ !] +[0-9]+ +[+]/ { sub(/^!/, " "); st = $10; if ($11 ~ /^0x/) st = st " " $11; print $8, $9, st }' \
        "$TMP/bo.txt" | sort)" "$(cut -f3 "$TMP/log.seq" | sort)"

# The same logs with whole seconds, as IIS writes by default: the second a request completed in, the
# order of repeated requests from the log's own order; the very same timeline, with and without the back leg.
for f in dir01 fe01; do
    sed -E 's/^([0-9-]+ [0-9:]+)\.[0-9]+ /\1 /' "$S/iis/$f.log" >"$TMP/$f-sec.log"
done
expect_eq "whole seconds: no fraction left" "$(grep -c '^[0-9-]* [0-9:]*\.' "$TMP/dir01-sec.log" "$TMP/fe01-sec.log" |
    cut -d: -f2 | tr '\n' ' ')" "0 0 "
"$LYNCFLOW" -r "$S/capture.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --iis-log dir01="$TMP/dir01-sec.log" \
    --iis-log fe01="$TMP/fe01-sec.log" --timeline >"$TMP/ws.txt" 2>/dev/null
expect_eq "whole seconds: the timeline of the sub-second logs" "$(cat "$TMP/ws.txt")" "$(cat "$TMP/m.txt")"
"$LYNCFLOW" -r "$TMP/front.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --iis-log dir01="$TMP/dir01-sec.log" \
    --iis-log fe01="$TMP/fe01-sec.log" --timeline >"$TMP/wf.txt" 2>/dev/null
expect_eq "whole seconds, front leg only: the timeline of the sub-second logs" "$(cat "$TMP/wf.txt")" "$(cat "$TMP/fo.txt")"

# A line the capture lacks: not matched, counted, still in the timeline under the address IIS logged.
awk '/^#/ { print; next } { print } ++n == 10 { $5 = "/Reach/sip.svc"; $6 = "-"; print }' "$S/iis/dir01.log" \
    >"$TMP/dir01-extra.log"
"$LYNCFLOW" -r "$S/capture.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --iis-log dir01="$TMP/dir01-extra.log" \
    --iis-log fe01="$S/iis/fe01.log" --json "$TMP/x.json" --timeline >"$TMP/x.txt" 2>"$TMP/x.err"
expect_eq "extra line: exit 0" "$?" 0
expect_eq "extra line: the others matched, it is not" \
    "$(jq -r 'select(.type=="stats") | "\(.iis_matched) \(.iis_unmatched)"' "$TMP/x.json")" "$lines 1"
expect_match "extra line: the timeline says so" "$TMP/x.txt" "^iis: $lines log lines matched to the capture's requests, 1 not$"
expect_eq "extra line: its event names no request" \
    "$(jq -c 'select(.uri=="/Reach/sip.svc") | [.source, .matched_seq, .stitched]' "$TMP/x.json")" '["iis",null,null]'
expect_match "extra line: in the timeline, marked" "$TMP/x.txt" \
    "^  +[0-9]+ .* 127\.0\.0\.2 .* -> dir01 \(director\) +GET /Reach/sip\.svc .*  IIS log only: not in the capture$"
expect_eq "extra line: the only step so marked" "$(grep -c 'IIS log only' "$TMP/x.txt")" 1
expect_eq "extra line: the capture's steps unchanged" \
    "$(grep -E '^[ !] +[0-9]+ +[+]' "$TMP/x.txt" | grep -v /Reach/ | cut -c17-120 | sort)" \
    "$(grep -E '^[ !] +[0-9]+ +[+]' "$TMP/m.txt" | cut -c17-120 | sort)"
expect_eq "merged: no warning or error finding" "$(jcount "$TMP/m.json" '.type=="finding" and .severity!="info"')" 0

# Lines an hour before and after the capture: not matched, marked as outside the capture's time.
awk '/^#/ { print; next } !n++ { l = $0; $2 = "15" substr($2, 3); print; $0 = l } { print; l = $0 }
    END { $0 = l; $2 = "17" substr($2, 3); print }' "$S/iis/dir01.log" >"$TMP/dir01-span.log"
"$LYNCFLOW" -r "$S/capture.pcap" -c "$S/topology.conf" --keylog "$S/keylog.txt" --iis-log dir01="$TMP/dir01-span.log" \
    --iis-log fe01="$S/iis/fe01.log" --json "$TMP/sp.json" --timeline >"$TMP/sp.txt" 2>/dev/null
expect_eq "outside the capture: the two lines not matched" \
    "$(jq -r 'select(.type=="stats") | "\(.iis_matched) \(.iis_unmatched)"' "$TMP/sp.json")" "$lines 2"
expect_eq "outside the capture: marked before and after" \
    "$(grep -o 'IIS log only: .*' "$TMP/sp.txt" | sort | tr '\n' ' ')" \
    "IIS log only: after the capture IIS log only: before the capture "

# Under ASan/UBSan too.
check "sanitized: capture and logs matched, with an extra line and whole seconds, run clean" sh -c \
    "'$LYNCFLOW_SAN' -r '$S/capture.pcap' -c '$S/topology.conf' --keylog '$S/keylog.txt' \
     --iis-log dir01='$TMP/dir01-extra.log' --iis-log fe01='$TMP/fe01-sec.log' --json /dev/null --timeline >/dev/null"
check "sanitized: article and malformed logs run clean" sh -c \
    "'$LYNCFLOW_SAN' --iis-log '$D/malformed.log' --iis-log '$D/overlong.log' --iis-log '$D/two-fields.log' --json /dev/null 2>/dev/null"
