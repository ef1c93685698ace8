# Roles, simple URLs, sign-ins, the timeline and findings, on IIS logs and on the lab's samples (issue 5).
# UPDATE=1 rewrites the golden timelines under tests/golden/analysis/.
. "$(dirname "$0")/../lib.sh"
G="$TOP/tests/golden/analysis"
IIS="$SAMPLES/iis"
ART="date time cs-method cs-uri-stem cs-uri-query s-port cs-username cs(User-Agent)"
ART="$ART sc-status sc-substatus sc-win32-status time-taken"

# golden_cmp DESC GOT WANT [optional]: equal files; UPDATE=1 copies GOT over WANT. An optional golden
# (a lab sample's, until it is written for the committed capture) may be missing.
golden_cmp() {
    if [ -n "$UPDATE" ]; then cp "$2" "$3"; ok "$1 (updated)"; return; fi
    if [ ! -f "$3" ] && [ -n "$4" ]; then ok "$1 # SKIP no golden yet (UPDATE=1 writes it)"; return; fi
    if [ ! -f "$3" ]; then notok "$1: $3 missing (UPDATE=1 writes it)"; return; fi
    if cmp -s "$2" "$3"; then ok "$1"; else notok "$1"; diff "$3" "$2" | head -20 | sed 's/^/#   /'; fi
}

# ---- the article's two IIS excerpts: one sign-in, Director first, then Front End ----
"$LYNCFLOW" --iis-log director="$IIS/director-article.log" --iis-log frontend="$IIS/frontend-article.log" \
    --iis-fields "$ART" --timeline --json "$TMP/a.json" >"$TMP/a.txt" 2>"$TMP/a.err"
expect_eq "article: exit 0" "$?" 0
golden_cmp "article: the timeline" "$TMP/a.txt" "$G/iis-article.timeline"
expect_eq "article: Director steps (1-9), then Front End steps (10-18)" \
    "$(awk '$1 ~ /^[0-9]+$/ && $2 ~ /^\+/ {print $1, $7}' "$TMP/a.txt" | tr '\n' ' ')" \
    "$( (seq 1 9 | sed 's/$/ (director)/'; seq 10 18 | sed 's/$/ (frontend)/') | tr '\n' ' ')"
expect_eq "article: roles from the services each log answered" \
    "$(jq -r 'select(.type=="http") | "\(.log_server)=\(.role)"' "$TMP/a.json" | sort -u | tr '\n' ' ')" \
    "director=director frontend=frontend "
expect_eq "article: every request has its service" \
    "$(jq -r 'select(.type=="http") | .service' "$TMP/a.json" | sort | uniq -c |
        awk '{print $2 ":" $1}' | tr '\n' ' ')" \
    "abs:1 certprov:2 groupexpansion:4 rgs:2 webticket:9 "
expect_eq "article: one sign-in, complete, homepool, 18 steps" \
    "$(jq -r 'select(.type=="signin") | "\(.verdict) \(.phase) \(.steps) \(.user)"' "$TMP/a.json")" \
    "complete homepool 18 sip:test1@mslync.net"
expect_eq "article: the five 401s are challenges, not failures" "$(grep -c ' challenge ' "$TMP/a.txt")" 5
expect_eq "article: no finding" "$(jcount "$TMP/a.json" '.type=="finding"')" 0
expect_eq "article: signin before stats, stats last" \
    "$(jq -r '.type' "$TMP/a.json" | tail -2 | tr '\n' ' ')" "signin stats "
expect_eq "article: nothing on stderr" "$(cat "$TMP/a.err")" ""

"$LYNCFLOW" --iis-log director="$IIS/director-article.log" --iis-log frontend="$IIS/frontend-article.log" \
    --iis-fields "$ART" --print-topology >"$TMP/t.conf" 2>&1
expect_match "article: the inferred topology says so" "$TMP/t.conf" "^# .*inferred from the traffic"
expect_eq "article: inferred roles" "$(grep -A1 '^\[server' "$TMP/t.conf" | grep -v '^--' | tr '\n' ' ')" \
    "[server director] role = director [server frontend] role = frontend "

# ---- two clients interleaved in one Director log: two sign-ins; bob... alice's wrong password retried ----
"$LYNCFLOW" --iis-log dir01="$TOP/tests/data/iis/two-fields.log" --timeline --json "$TMP/b.json" >"$TMP/b.txt" 2>&1
expect_eq "two clients: exit 0" "$?" 0
golden_cmp "two clients: the timeline" "$TMP/b.txt" "$G/iis-two-clients.timeline"
# 10.0.0.2 asks Autodiscover as Lync 2013, then gets its ticket as Lync 2010: two programs, two sign-ins
expect_eq "two clients: a sign-in per client program" \
    "$(jq -r 'select(.type=="signin") | "\(.client) \(.steps) \(.verdict)"' "$TMP/b.json" | tr '\n' ' ')" \
    "10.0.0.2:0 1 failed 10.0.0.2:0 4 incomplete 10.0.0.3:0 3 failed "
expect_eq "two clients: 10.0.0.3 stopped at its wrong password" \
    "$(jq -r 'select(.type=="signin" and .client=="10.0.0.3:0") | .reason' "$TMP/b.json")" \
    "step 3: 401 logon denied (wrong user name or password)"
expect_eq "two clients: the sip URI of the query, and NTLM, name alice" \
    "$(jq -r 'select(.type=="signin" and .client=="10.0.0.2:0") | .user | sub("\\\\"; "/")' "$TMP/b.json" |
        tr '\n' ' ')" \
    "sip:alice@contoso.com CONTOSO/alice "

# ---- the lab's samples: with and without TLS secrets ----
# expect_findings NAME WHAT JSON CODES: the warning/error codes, sorted and unique, are CODES.
expect_findings() {
    expect_eq "$1: $2" \
        "$(jq -r 'select(.type=="finding" and .severity!="info") | .code' "$3" | sort -u | tr '\n' ' ')" "$4"
}
n=0
for d in "$SAMPLES"/*/; do
    s=$(basename "$d")
    [ -f "$d/capture.pcap" ] && [ -f "$d/topology.conf" ] || continue
    n=$((n + 1))
    for mode in names keylog; do
        set -- -r "$d/capture.pcap" -c "$d/topology.conf"
        if [ "$mode" = keylog ]; then
            [ -f "$d/keylog.txt" ] || continue
            set -- "$@" --keylog "$d/keylog.txt"
            [ -f "$d/server-key.pem" ] && set -- "$@" --rsa-key "$d/server-key.pem"
        fi
        j="$TMP/$s.$mode.json"
        "$LYNCFLOW" "$@" --json "$j" --timeline >"$TMP/$s.$mode.txt" 2>"$TMP/$s.$mode.err"
        expect_eq "$s ($mode): exit 0" "$?" 0
        golden_cmp "$s ($mode): the timeline" "$TMP/$s.$mode.txt" "$G/$s.$mode.timeline" optional
        expect_ge "$s ($mode): stitched front and back legs" \
            "$(jq -r 'select(.type=="stats") | .stitched' "$j")" 1
        # steps of each sign-in in time order
        expect_eq "$s ($mode): steps in time order" \
            "$(awk '/^sign-in/ {last=-1} {f1=$1; f2=$2; if ($1=="!") {f1=$2; f2=$3}}
                   f1 ~ /^[0-9]+$/ && f2 ~ /^\+/ {t=substr(f2,2)+0; if (t < last) bad++; last=t} END {print bad+0}' \
                 "$TMP/$s.$mode.txt")" 0
        # the names: simple URLs marked, and only them
        # the name asked for: Host when the request is readable, else SNI
        expect_eq "$s ($mode): simple_url exactly on meet/dialin/lyncdiscover names" \
            "$(jq -r 'select(.type=="tls" or .type=="http") |
                 (if .type=="http" and .host != "" then .host else .sni end)
                 as $n | select($n != "") | ((($n | test("^(meet|dialin|lyncdiscover)\\.")) == (.simple_url != "")))' \
                 "$j" | sort -u | tr '\n' ' ')" "true "
        case "$s" in
        healthy-*|tls-rsa|ipv6-listener)
            expect_eq "$s ($mode): every tls/http event has a director or frontend role" \
                "$(jcount "$j" '(.type=="tls" or .type=="http") and (.role != "director" and .role != "frontend")')" 0
            expect_eq "$s ($mode): the Director's name and the simple URLs go to the Director" \
                "$(jcount "$j" '(.type=="tls" or .type=="http") and .role != "director" and
                   (.sni | test("^(dirweb|meet|dialin|lyncdiscover)\\."))')" 0
            expect_eq "$s ($mode): the Front End's name goes to the Front End" \
                "$(jcount "$j" '(.type=="tls" or .type=="http") and .role != "frontend" and
                   (.sni | test("^feweb\\."))')" 0
            expect_findings "$s ($mode)" "no warning or error" "$j" ""
            # like the article's two IIS excerpts: within a sign-in the Director's steps, then the Front End's
            expect_eq "$s ($mode): no Director step after a Front End step in a sign-in" \
                "$(awk '/^sign-in/ {fe=0} /\(frontend\)/ {fe=1} /\(director\)/ && fe {bad++} END {print bad+0}' \
                   "$TMP/$s.$mode.txt")" 0
            expect_ge "$s ($mode): sign-ins that go from the Director to the Front End" \
                "$(awk '/^sign-in/ {d=0; if (f) n++; f=0} /\(director\)/ {d=1} /\(frontend\)/ && d {f=1}
                        END {if (f) n++; print n+0}' "$TMP/$s.$mode.txt")" 3
            expect_eq "$s ($mode): no sign-in failed" "$(jcount "$j" '.type=="signin" and .verdict=="failed"')" 0
            ;;
        director-unpublished) expect_findings "$s ($mode)" "its finding" "$j" "director-unpublished " ;;
        frontend-unpublished) expect_findings "$s ($mode)" "its finding" "$j" "frontend-unpublished " ;;
        simple-urls-to-frontend) expect_findings "$s ($mode)" "its finding" "$j" "simple-url-not-director " ;;
        bridge-internal-443) expect_findings "$s ($mode)" "its finding" "$j" "bridge-internal-port " ;;
        san-missing) expect_findings "$s ($mode)" "its finding" "$j" "san-mismatch " ;;
        esac
    done
    check "$s: sanitized run is clean" \
        "$LYNCFLOW_SAN" -r "$d/capture.pcap" -c "$d/topology.conf" --json /dev/null --timeline
done
[ "$n" -gt 0 ] || ok "# SKIP no lab samples under samples/ yet"
