# Live capture on lo (issue 2): a real HTTP request to a local server, caught with a BPF filter, flushed on SIGINT.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "ok - # SKIP live capture needs root"
    exit 0
fi
skip_unless python3
skip_unless curl
P=$((20000 + $$ % 20000))
mkdir -p "$TMP/www"
printf 'hello from the live test\n' >"$TMP/www/hello.txt"
python3 -m http.server "$P" --bind 127.0.0.1 --directory "$TMP/www" >/dev/null 2>&1 &
SPID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$P/" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done

"$LYNCFLOW" -i lo -f "tcp port $P" --json "$TMP/live.json" 2>"$TMP/live.err" &
LPID=$!
sleep 1
curl -s -o "$TMP/got" --local-port 47000-47999 "http://127.0.0.1:$P/hello.txt"
expect_eq "curl got the file" "$(cat "$TMP/got")" "hello from the live test"
# live: the request's line is in the file while lyncflow still runs (within a second; 3 s allowed here)
i=0
until grep -q '"uri":"/hello.txt"' "$TMP/live.json" 2>/dev/null || [ $i -ge 30 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "live: the http line is written while the capture goes on" \
    "$(grep -c '"uri":"/hello.txt"' "$TMP/live.json" 2>/dev/null)" 1
sleep 0.5
kill -INT "$LPID"
wait "$LPID"
expect_eq "SIGINT: exit 0" "$?" 0

# SIGINT right after the request: the frames still in the kernel's last block are read before the end.
"$LYNCFLOW" -i lo -f "tcp port $P" --json "$TMP/quick.json" 2>"$TMP/quick.err" &
QPID=$!
sleep 1
curl -s -o /dev/null --local-port 48000-48999 "http://127.0.0.1:$P/hello.txt"
kill -INT "$QPID"
wait "$QPID"
expect_eq "SIGINT at once: exit 0" "$?" 0
expect_eq "SIGINT at once: the request is still seen" \
    "$(jq -r 'select(.type=="http") | "\(.method) \(.uri) \(.status)"' "$TMP/quick.json")" "GET /hello.txt 200"
expect_eq "SIGINT at once: the flow is complete" \
    "$(jq -r "select(.type==\"flow\" and .server==\"127.0.0.1:$P\") | .handshake" "$TMP/quick.json")" "true"
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null

sel=".type==\"flow\" and .server==\"127.0.0.1:$P\""
expect_eq "one flow to the server" "$(jcount "$TMP/live.json" "$sel")" 1
expect_eq "client is curl's port, handshake seen" \
    "$(jq -r "select($sel) | \"\(.client|test(\"^127\\\\.0\\\\.0\\\\.1:47[0-9]{3}$\")) \(.handshake) \(.transport)\"" \
        "$TMP/live.json")" "true true tcp"
expect_ge "client packets (SYN, ACK, request, ACK, FIN)" "$(jq -r "select($sel) | .c2s_packets" "$TMP/live.json")" 4
expect_ge "server packets (SYN-ACK, response, FIN)" "$(jq -r "select($sel) | .s2c_packets" "$TMP/live.json")" 3
expect_ge "server bytes hold the response" "$(jq -r "select($sel) | .s2c_bytes" "$TMP/live.json")" 200
expect_eq "the filter kept other traffic out" \
    "$(jcount "$TMP/live.json" ".type==\"flow\" and .server!=\"127.0.0.1:$P\"")" 0
expect_eq "the request, seen by the HTTP dissector" \
    "$(jq -r 'select(.type=="http") | "\(.method) \(.uri) \(.status)"' "$TMP/live.json")" "GET /hello.txt 200"
expect_match "stats event at the end" "$TMP/live.json" '^\{"type":"stats","packets":[1-9]'
expect_match "packets and kernel drops on stderr" "$TMP/live.err" \
    '^lyncflow: [0-9]+ packets captured, [0-9]+ dropped by the kernel$'
