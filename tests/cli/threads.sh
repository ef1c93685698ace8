# The capture thread and the analysis thread (src/handoff.c) under ThreadSanitizer: no report, and the
# same NDJSON and timeline as the plain build, on a merged capture with IIS logs and a generated capture.
. "$(dirname "$0")/../lib.sh"
T="$TOP/build/tsan/lyncflow"
[ -x "$T" ] || { echo "ok - # SKIP no ThreadSanitizer build (make tsan)"; exit 0; }
S="$TOP/samples/healthy-iis-logs"
"$TOP/build/tools/gencap" tls "$TMP/gen.pcap" 3000 40 "$TOP/tests/bench/tls-handshake.hex" >/dev/null 2>&1
MERGED="-r $S/capture.pcap -c $S/topology.conf --keylog $S/keylog.txt"
MERGED="$MERGED --iis-log dir01=$S/iis/dir01.log --iis-log fe01=$S/iis/fe01.log"
set -- "merged" "$MERGED" "generated" "-r $TMP/gen.pcap"
while [ $# -ge 2 ]; do
    name=$1
    args=$2
    shift 2
    # shellcheck disable=SC2086
    TSAN_OPTIONS=halt_on_error=1 "$T" $args --json "$TMP/$name-t.json" --timeline >"$TMP/$name-t.txt" \
        2>"$TMP/$name-t.err"
    expect_eq "$name: ThreadSanitizer build exits 0" "$?" 0
    expect_eq "$name: no ThreadSanitizer report" "$(grep -c 'ThreadSanitizer' "$TMP/$name-t.err")" 0
    # shellcheck disable=SC2086
    "$LYNCFLOW" $args --json "$TMP/$name.json" --timeline >"$TMP/$name.txt" 2>/dev/null
    expect_ge "$name: events written" "$(wc -l <"$TMP/$name.json" | tr -d ' ')" 10
    expect_eq "$name: same NDJSON as the plain build" "$(cmp -s "$TMP/$name.json" "$TMP/$name-t.json"; echo $?)" 0
    expect_eq "$name: same timeline as the plain build" "$(cmp -s "$TMP/$name.txt" "$TMP/$name-t.txt"; echo $?)" 0
done
