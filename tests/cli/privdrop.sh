# -Z USER (issue 10): live capture on lo opens the interface as root, then runs as USER and writes its output as USER.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "ok - # SKIP dropping privileges needs root"
    exit 0
fi
skip_unless python3
skip_unless curl
id nobody >/dev/null 2>&1 || { echo "ok - # SKIP no user nobody"; exit 0; }
NOBODY_UID=$(id -u nobody)
P=$((20000 + ($$ + 7919) % 20000))
mkdir -p "$TMP/www" "$TMP/out"
chmod 755 "$TMP"
chmod 777 "$TMP/out"
printf 'dropped\n' >"$TMP/www/z.txt"
python3 -m http.server "$P" --bind 127.0.0.1 --directory "$TMP/www" >/dev/null 2>&1 &
SPID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$P/" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done

"$LYNCFLOW" -i lo -f "tcp port $P" -Z nobody --json "$TMP/out/z.json" 2>"$TMP/z.err" &
LPID=$!
sleep 1
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$LPID/status" 2>/dev/null)
expect_eq "after -Z nobody every uid of the process is nobody's" "$uid" \
    "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
expect_eq "no supplementary group of root left" \
    "$(awk '/^Groups:/ {for (i = 2; i <= NF; i++) if ($i == 0) print "root"}' "/proc/$LPID/status")" ""
curl -s -o "$TMP/got" "http://127.0.0.1:$P/z.txt"
expect_eq "curl got the file" "$(cat "$TMP/got")" "dropped"
sleep 0.5
kill -INT "$LPID"
wait "$LPID"
expect_eq "SIGINT: exit 0" "$?" 0
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null

expect_eq "the output file belongs to nobody" "$(stat -c %u "$TMP/out/z.json")" "$NOBODY_UID"
expect_eq "the request, captured after the drop" \
    "$(jq -r 'select(.type=="http") | "\(.method) \(.uri) \(.status)"' "$TMP/out/z.json")" "GET /z.txt 200"
expect_match "stats event at the end" "$TMP/out/z.json" '^\{"type":"stats","packets":[1-9]'

"$LYNCFLOW" -i lo -Z no-such-user-lf --json "$TMP/out/n.json" 2>"$TMP/n.err"
expect_eq "-Z with an unknown user: exit 1" "$?" 1
expect_match "-Z with an unknown user: one line naming it" "$TMP/n.err" "^lyncflow: -Z: no user 'no-such-user-lf'$"
"$LYNCFLOW" -i lo -Z nobody --json "$TMP/n.json" 2>"$TMP/n2.err" &
LPID=$!
sleep 1
kill -INT "$LPID" 2>/dev/null
wait "$LPID"
expect_eq "-Z nobody: output in a directory nobody cannot write fails with exit 1" "$?" 1
expect_match "-Z nobody: the refusal names the file" "$TMP/n2.err" "n\\.json"
