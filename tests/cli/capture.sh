# Capture engine (issue 2): per-connection packet counts against tshark, bad and truncated files, stdin, -w, stats.
. "$(dirname "$0")/../lib.sh"
skip_unless tshark
C="$SHARED/corpus/ndpi/pcap"

# "A B total" per TCP connection, endpoints sorted, v6 without brackets.
ours_conv() {
    jq -r 'select(.type=="flow" and .transport=="tcp") | "\(.client) \(.server) \(.c2s_packets + .s2c_packets)"' "$1" |
        tr -d '[]' | awk '{ if ($1 > $2) { t = $1; $1 = $2; $2 = t } print }' | sort
}
tshark_conv() {
    tshark -r "$1" -q -z conv,tcp 2>/dev/null |
        awk '$2 == "<->" { a = $1; b = $3; if (a > b) { t = a; a = b; b = t } print a, b, $10 }' | sort
}

for f in 443-curl.pcap http_ipv6.pcap tls_2_reasms.pcapng 443-chrome.pcap; do
    "$LYNCFLOW" -r "$C/$f" --json "$TMP/$f.json" 2>"$TMP/$f.err"
    expect_eq "$f: exit 0" "$?" 0
    ours_conv "$TMP/$f.json" >"$TMP/$f.ours"
    tshark_conv "$C/$f" >"$TMP/$f.tshark"
    expect_ge "$f: tshark sees connections" "$(wc -l <"$TMP/$f.tshark")" 1
    expect_eq "$f: per-connection packets equal tshark's ($(wc -l <"$TMP/$f.tshark") connections)" \
        "$(cat "$TMP/$f.ours")" "$(cat "$TMP/$f.tshark")"
done

# The lab's samples (tcpdump on lo): packet counts per connection, and the client is the SYN sender.
for d in "$SAMPLES"/*/; do
    f="$d/capture.pcap"
    [ -f "$f" ] || continue
    s=$(basename "$d")
    "$LYNCFLOW" -r "$f" --json "$TMP/s.json" 2>/dev/null
    expect_eq "samples/$s: per-connection packets equal tshark's" \
        "$(ours_conv "$TMP/s.json")" "$(tshark_conv "$f")"
    jq -r 'select(.type=="flow" and .transport=="tcp" and .handshake) | .client' "$TMP/s.json" | tr -d '[]' |
        sort >"$TMP/s.cli"
    tshark -r "$f" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -E separator=, \
        -e ip.src -e ipv6.src -e tcp.srcport 2>/dev/null | awk -F, '{ print ($1 != "" ? $1 : $2) ":" $3 }' |
        sort -u >"$TMP/s.syn"
    expect_eq "samples/$s: clients are the SYN senders ($(wc -l <"$TMP/s.syn" | tr -d ' '))" \
        "$(cat "$TMP/s.cli")" "$(cat "$TMP/s.syn")"
done

# The handshake fixes the client: 443-curl.pcap is one connection from 192.168.1.13 to port 443, closed by FIN.
expect_eq "443-curl: client, server, close, handshake" \
    "$(jq -r 'select(.type=="flow") | "\(.client) \(.server) \(.close) \(.handshake)"' "$TMP/443-curl.pcap.json")" \
    "192.168.1.13:55523 178.62.197.130:443 fin true"
expect_eq "443-curl: bytes per direction are frame lengths" \
    "$(jq -r 'select(.type=="flow") | "\(.c2s_bytes) \(.s2c_bytes)"' "$TMP/443-curl.pcap.json")" "4260 69722"
expect_eq "http_ipv6: endpoints in [v6]:port form" \
    "$(jcount "$TMP/http_ipv6.pcap.json" '.type=="flow" and .transport=="tcp" and (.client|test("^\\[[0-9a-f:]+\\]:[0-9]+$"))')" \
    "$(jcount "$TMP/http_ipv6.pcap.json" '.type=="flow" and .transport=="tcp"')"
# The final stats event.
expect_eq "443-curl: one stats event, last" "$(tail -1 "$TMP/443-curl.pcap.json" | jq -r .type)" "stats"
expect_eq "443-curl: stats packets bytes flows" \
    "$(jq -r 'select(.type=="stats") | "\(.packets) \(.bytes) \(.flows) \(.evicted) \(.decode_errors) \(.drops)"' \
        "$TMP/443-curl.pcap.json")" "109 73982 1 0 0 0"
expect_eq "443-curl: stats packets equal tshark's frame count" \
    "$(jq -r 'select(.type=="stats") | .packets' "$TMP/443-curl.pcap.json")" \
    "$(tshark -r "$C/443-curl.pcap" 2>/dev/null | wc -l | tr -d ' ')"

# Not a capture, and a missing file: exit 1, one line naming the file.
printf 'this is not a capture file at all\n' >"$TMP/not-a-capture.pcap"
"$LYNCFLOW" -r "$TMP/not-a-capture.pcap" --json "$TMP/x.json" 2>"$TMP/bad.err"
expect_eq "not a capture: exit 1" "$?" 1
expect_eq "not a capture: one line" "$(wc -l <"$TMP/bad.err" | tr -d ' ')" 1
expect_match "not a capture: names the file" "$TMP/bad.err" "^lyncflow: .*not-a-capture\\.pcap"
"$LYNCFLOW" -r "$TMP/missing.pcap" 2>"$TMP/missing.err"
expect_eq "missing file: exit 1" "$?" 1
expect_eq "missing file: one line" "$(wc -l <"$TMP/missing.err" | tr -d ' ')" 1
expect_match "missing file: names the file and the reason" "$TMP/missing.err" \
    "^lyncflow: .*missing\\.pcap.*No such file"

# A truncated copy: the readable packets are analysed, then a warning with the offset.
size=$(wc -c <"$C/443-curl.pcap")
cut=$((size - 700))
head -c "$cut" "$C/443-curl.pcap" >"$TMP/trunc.pcap"
"$LYNCFLOW" -r "$TMP/trunc.pcap" --json "$TMP/trunc.json" 2>"$TMP/trunc.err"
expect_eq "truncated: exit 0" "$?" 0
want=$(tshark -r "$TMP/trunc.pcap" 2>/dev/null | wc -l | tr -d ' ')
expect_eq "truncated: the readable packets are analysed" \
    "$(jq -r 'select(.type=="stats") | .packets' "$TMP/trunc.json")" "$want"
expect_eq "truncated: the flow is still written" "$(jcount "$TMP/trunc.json" '.type=="flow"')" 1
expect_match "truncated: warning names the file and the byte offset" "$TMP/trunc.err" \
    "^lyncflow: .*trunc\\.pcap: .*truncated.*at byte offset [0-9]+ after $want packets"
off=$(sed -n 's/.*at byte offset \([0-9]*\).*/\1/p' "$TMP/trunc.err")
expect_eq "truncated: the offset is where the cut record starts" \
    "$(head -c "$off" "$TMP/trunc.pcap" | tshark -r - 2>/dev/null | wc -l | tr -d ' ')" "$want"
expect_eq "truncated: one byte less cuts the record before" \
    "$(head -c "$((off - 1))" "$TMP/trunc.pcap" | tshark -r - 2>/dev/null | wc -l | tr -d ' ')" "$((want - 1))"

# stdin.
"$LYNCFLOW" -r - --json "$TMP/stdin.json" <"$C/443-curl.pcap" 2>"$TMP/stdin.err"
expect_eq "stdin: exit 0" "$?" 0
expect_eq "stdin: same flow as the file" \
    "$(jq -c 'select(.type=="flow")' "$TMP/stdin.json")" "$(jq -c 'select(.type=="flow")' "$TMP/443-curl.pcap.json")"

# A file larger than the reader's mapped window (2 MiB), as pcap and pcapng: read from the file, from
# stdin redirected from it, and from a pipe (read(), no mapping), the NDJSON is the same byte for byte;
# cut in a record past the first window, the packets before the cut are all read and the offset is exact.
"$TOP/build/tools/gencap" tls "$TMP/win.pcap" 300 9 "$TOP/tests/bench/tls-handshake.hex" >/dev/null 2>&1
editcap -F pcapng "$TMP/win.pcap" "$TMP/win.pcapng"
for f in win.pcap win.pcapng; do
    "$LYNCFLOW" -r "$TMP/$f" --json "$TMP/$f.file.json" 2>"$TMP/$f.err"
    expect_eq "$f: exit 0" "$?" 0
    expect_eq "$f: every packet read" "$(jq -r 'select(.type=="stats") | .packets' "$TMP/$f.file.json")" \
        "$(tshark -r "$TMP/$f" 2>/dev/null | wc -l | tr -d ' ')"
    "$LYNCFLOW" -r - --json "$TMP/$f.redir.json" <"$TMP/$f" 2>/dev/null
    cat "$TMP/$f" | "$LYNCFLOW" -r - --json "$TMP/$f.pipe.json" 2>/dev/null
    check "$f: stdin from the file gives the same NDJSON" cmp -s "$TMP/$f.file.json" "$TMP/$f.redir.json"
    check "$f: a pipe gives the same NDJSON" cmp -s "$TMP/$f.file.json" "$TMP/$f.pipe.json"
    head -c 5000001 "$TMP/$f" >"$TMP/cut-$f"
    "$LYNCFLOW" -r "$TMP/cut-$f" --json "$TMP/cut-$f.json" 2>"$TMP/cut-$f.err"
    want=$(tshark -r "$TMP/cut-$f" 2>/dev/null | wc -l | tr -d ' ')
    expect_eq "$f cut at 5,000,001: the packets before the cut" \
        "$(jq -r 'select(.type=="stats") | .packets' "$TMP/cut-$f.json")" "$want"
    off=$(sed -n 's/.*at byte offset \([0-9]*\).*/\1/p' "$TMP/cut-$f.err")
    expect_eq "$f cut at 5,000,001: the offset is where the cut record starts" \
        "$(head -c "${off:-0}" "$TMP/$f" | tshark -r - 2>/dev/null | wc -l | tr -d ' ')" "$want"
    expect_eq "$f cut at 5,000,001: one byte less cuts the record before" \
        "$(head -c "$((${off:-0} - 1))" "$TMP/$f" | tshark -r - 2>/dev/null | wc -l | tr -d ' ')" "$((want - 1))"
done

# -w: a file tshark reads with the same packet count.
"$LYNCFLOW" -r "$C/http_ipv6.pcap" -w "$TMP/out.pcap" --json "$TMP/w.json" 2>"$TMP/w.err"
expect_eq "-w: exit 0" "$?" 0
expect_eq "-w: tshark reads as many packets" "$(tshark -r "$TMP/out.pcap" 2>/dev/null | wc -l | tr -d ' ')" \
    "$(tshark -r "$C/http_ipv6.pcap" 2>/dev/null | wc -l | tr -d ' ')"
expect_eq "-w: same packets as read" "$(jq -r 'select(.type=="stats") | .packets' "$TMP/w.json")" \
    "$(tshark -r "$TMP/out.pcap" 2>/dev/null | wc -l | tr -d ' ')"
"$LYNCFLOW" -r "$C/http_ipv6.pcap" -w "$TMP/no/such/dir/out.pcap" 2>"$TMP/w2.err"
expect_eq "-w into a missing directory: exit 1" "$?" 1
expect_match "-w into a missing directory: names the file" "$TMP/w2.err" "^lyncflow: cannot write .*out\\.pcap"

# --max-flows on a busy capture: LRU evictions reported in stats and on stderr.
B="$C/1kxun.pcap"
"$LYNCFLOW" -r "$B" --max-flows 10 --json "$TMP/ev.json" 2>"$TMP/ev.err"
expect_eq "--max-flows 10: exit 0" "$?" 0
"$LYNCFLOW" -r "$B" --json "$TMP/all.json" 2>/dev/null
flows=$(jq -r 'select(.type=="stats") | .flows' "$TMP/all.json")
expect_ge "busy capture has many flows" "$flows" 20
evicted=$(jq -r 'select(.type=="stats") | .evicted' "$TMP/ev.json")
expect_ge "--max-flows 10: evictions counted in stats" "$evicted" 1
expect_match "--max-flows 10: evictions on stderr" "$TMP/ev.err" "^lyncflow: $evicted flows evicted \\(--max-flows 10\\)"
expect_eq "--max-flows 10: every flow still ends with an event" "$(jcount "$TMP/ev.json" '.type=="flow"')" \
    "$(jq -r 'select(.type=="stats") | .flows' "$TMP/ev.json")"
expect_eq "--max-flows 10: packets of all flow events add up to the unevicted run's" \
    "$(jq -s '[.[] | select(.type=="flow") | .c2s_packets + .s2c_packets] | add' "$TMP/ev.json")" \
    "$(jq -s '[.[] | select(.type=="flow") | .c2s_packets + .s2c_packets] | add' "$TMP/all.json")"

# An unsupported link type: one warning naming the file, every frame a decode error, exit 0.
U="$SHARED/corpus/tcpdump/ieee802.11_exthdr.pcap"
"$LYNCFLOW" -r "$U" --json "$TMP/u.json" 2>"$TMP/u.err"
expect_eq "unsupported link type: exit 0" "$?" 0
expect_eq "unsupported link type: one warning" "$(wc -l <"$TMP/u.err" | tr -d ' ')" 1
expect_match "unsupported link type: names the file and the link type" "$TMP/u.err" \
    "^lyncflow: .*ieee802\\.11_exthdr\\.pcap: link type 127 \\(IEEE802_11_RADIO\\) is not supported"
expect_eq "unsupported link type: every frame counted as a decode error" \
    "$(jq -r 'select(.type=="stats") | .decode_errors == .packets and .packets > 0' "$TMP/u.json")" "true"

# Idle timeout: flows idle longer than --tcp-idle end, and their next packet starts a new flow.
"$LYNCFLOW" -r "$B" --tcp-idle 1 --json "$TMP/idle.json" 2>/dev/null
expect_ge "--tcp-idle 1 ends idle TCP flows: more flows than without" \
    "$(jq -r 'select(.type=="stats") | .flows' "$TMP/idle.json")" "$((flows + 1))"
expect_eq "--tcp-idle 1: the packets are all still counted" \
    "$(jq -s '[.[] | select(.type=="flow") | .c2s_packets + .s2c_packets] | add' "$TMP/idle.json")" \
    "$(jq -s '[.[] | select(.type=="flow") | .c2s_packets + .s2c_packets] | add' "$TMP/all.json")"

# A pcapng frame stamped 2^64-1 microseconds after 1970 (found by fuzz_capture): read under the
# sanitizers without an overflow, its time clamped to the year 5138, the frames around it intact.
H="$TOP/tests/data/huge-timestamp.pcapng"
"$LYNCFLOW_SAN" -r "$H" --json "$TMP/huge.json" 2>"$TMP/huge.err"
expect_eq "huge timestamp: sanitized run exits 0" "$?" 0
expect_eq "huge timestamp: no sanitizer report" "$(grep -c 'runtime error' "$TMP/huge.err")" 0
expect_eq "huge timestamp: all three frames counted" \
    "$(jq -r 'select(.type=="stats") | .packets' "$TMP/huge.json")" 3
expect_eq "huge timestamp: the flow starts at the first frame and ends at the clamp" \
    "$(jq -r 'select(.type=="flow") | "\(.ts) \(.end | floor)"' "$TMP/huge.json")" "1703195356.452472 100000000000"

# Seconds past 2038 in a pcap header are unsigned 32-bit: the times tshark shows, not negative ones.
for f in time_2038_overflow time_2106_max; do
    F="$SHARED/corpus/tcpdump/$f.pcap"
    [ -f "$F" ] || { echo "ok - # SKIP $f.pcap not in the corpus"; continue; }
    "$LYNCFLOW" -r "$F" --json "$TMP/$f.json" 2>/dev/null
    expect_eq "$f: the first flow starts when tshark says (microseconds)" \
        "$(jq -r 'select(.type=="flow") | .ts * 1000000 | floor' "$TMP/$f.json" | head -1)" \
        "$(tshark -r "$F" -T fields -e frame.time_epoch 2>/dev/null | head -1 | awk '{printf "%.0f\n", $1 * 1000000}')"
done
