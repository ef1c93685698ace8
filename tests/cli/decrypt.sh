#!/bin/sh
# decrypt.sh: TLS decryption end to end: every client request decrypted, the same requests as tshark given the same
# secrets, wrong secrets counted and reported, pcapng secrets, the sanitized build.
. "$(dirname "$0")/../lib.sh"
skip_unless jq
skip_unless tshark
D="$TOP/tests/data/decrypt"

"$LYNCFLOW" -r "$D/ciphers.pcap" --keylog "$D/keylog.txt" --json "$TMP/probe.json" 2>"$TMP/probe.err"
if grep -q "not available in this build" "$TMP/probe.err"; then
    echo "ok - # SKIP the capture engine is not in this build"
    exit 0
fi

# reqs JSON: "server-ip method host uri" of the http requests read from the capture (decrypted or plain, as
# tshark lists them), sorted
reqs() {
    jq -r 'select(.type=="http" and .source=="pcap" and .method != "") |
           [(.server|sub(":[0-9]+$";"")|sub("^\\[";"")|sub("\\]$";"")), .method, .host, .uri] | @tsv' "$1" | sort
}
# tshark_reqs PCAP OPTION: the same from tshark (pipelined requests in one frame split apart)
tshark_reqs() {
    tshark -r "$1" -o "$2" -Y http.request -T fields -E 'aggregator=|' -e ip.dst -e ipv6.dst -e http.request.method \
        -e http.host -e http.request.uri 2>/dev/null |
        awk -F '\t' -v OFS='\t' '{ n = split($3, m, "|"); split($4, h, "|"); split($5, u, "|")
                                   for (i = 1; i <= n; i++) print $1 $2, m[i], h[i], u[i] }' | sort
}
stat() { jq -r "select(.type==\"stats\") | .$2" "$1"; }

# --- the cipher capture (tests/data/decrypt/make-capture.sh) ---------------
out="$TMP/keylog.json"
"$LYNCFLOW" -r "$D/ciphers.pcap" --keylog "$D/keylog.txt" --json "$out" 2>"$TMP/err"
expect_eq "ciphers: exit 0 with the key log" "$?" 0
expect_eq "ciphers: 19 connections decrypted, none failed" "$(stat "$out" tls_decrypted) $(stat "$out" tls_no_secret) \
$(stat "$out" tls_decrypt_failures)" "19 0 0"
expect_eq "ciphers: 34 requests, all with status 200" \
    "$(jcount "$out" '.type=="http" and .decrypted==true and .status==200 and .method=="GET"')" 34
for n in $(seq 1 17); do
    got=$(jcount "$out" ".type==\"http\" and .decrypted==true and (.uri|endswith(\"case=$n\"))")
    expect_eq "ciphers: run $(sed -n "${n}p" "$D/cases.txt"): both requests" "$got" 2
done
reqs "$out" >"$TMP/lf"
tshark_reqs "$D/ciphers.pcap" "tls.keylog_file:$D/keylog.txt" >"$TMP/ts"
expect_eq "ciphers: tshark sees 34 requests with the key log" "$(wc -l <"$TMP/ts" | tr -d ' ')" 34
check "ciphers: the same requests as tshark (key log)" diff "$TMP/ts" "$TMP/lf"
secret=$(sed -n 's/^CLIENT_RANDOM [0-9a-f]* \([0-9a-f]\{16\}\).*/\1/p' "$D/keylog.txt" | head -1)
expect_nomatch "ciphers: no secret in the output" "$out" "$secret"

out="$TMP/rsa.json"
"$LYNCFLOW" -r "$D/ciphers.pcap" --rsa-key "$D/server-key.pem" --json "$out" 2>"$TMP/err"
expect_eq "ciphers: exit 0 with the RSA key" "$?" 0
reqs "$out" >"$TMP/lf"
tshark_reqs "$D/ciphers.pcap" "uat:rsa_keys:\"$D/server-key.pem\",\"\"" >"$TMP/ts"
expect_eq "ciphers: TLS_RSA requests decrypted with the key (GCM+EMS, CBC-SHA256, CBC-SHA resumed, TLS 1.1, MtE)" \
    "$(wc -l <"$TMP/lf" | tr -d ' ')" 10
check "ciphers: the same requests as tshark (RSA key)" diff "$TMP/ts" "$TMP/lf"
expect_eq "ciphers: the ECDHE connections have no secret" "$(stat "$out" tls_no_secret)" 13

# --- wrong secrets: counted, said in the summary, exit 0 -------------------
openssl genrsa -out "$TMP/other.pem" 2048 2>/dev/null
out="$TMP/other.json"
"$LYNCFLOW" -r "$D/ciphers.pcap" --rsa-key "$TMP/other.pem" --json "$out" 2>"$TMP/err"
expect_eq "wrong RSA key: exit 0" "$?" 0
expect_eq "wrong RSA key: nothing decrypted" "$(jcount "$out" '.type=="http" and .decrypted==true')" 0
expect_eq "wrong RSA key: every connection without secrets" "$(stat "$out" tls_no_secret)" 19
expect_match "wrong RSA key: the summary names the 5 key exchanges for another key" "$TMP/err" \
    "TLS: 0 connections decrypted, 19 without secrets, .* 5 pre-master secrets not for any --rsa-key"

# every secret altered in its last digit: the tags do not verify
awk '{ c = substr($3, length($3)); $3 = substr($3, 1, length($3) - 1) (c == "0" ? "1" : "0"); print }' \
    "$D/keylog.txt" >"$TMP/bad-keylog.txt"
out="$TMP/bad.json"
"$LYNCFLOW" -r "$D/ciphers.pcap" --keylog "$TMP/bad-keylog.txt" --json "$out" 2>"$TMP/err"
expect_eq "wrong key log: exit 0" "$?" 0
expect_eq "wrong key log: nothing decrypted" "$(jcount "$out" '.type=="http" and .decrypted==true')" 0
expect_ge "wrong key log: failures counted" "$(stat "$out" tls_decrypt_failures)" 19
expect_match "wrong key log: said in the summary" "$TMP/err" "TLS: .* [1-9][0-9]* records failed authentication"
expect_ge "wrong key log: the tls events carry the failures" \
    "$(jcount "$out" '.type=="tls" and .decrypt_failures > 0')" 19

# a key log for other connections, with malformed lines
{
    echo "CLIENT_RANDOM 00000000000000000000000000000000000000000000000000000000000000aa $(printf '%096d' 1)"
    echo "CLIENT_RANDOM nothex"
    echo "EXPORTER_SECRET 00000000000000000000000000000000000000000000000000000000000000aa $(printf '%064d' 2)"
    echo "garbage line"
} >"$TMP/other-keylog.txt"
out="$TMP/nosecret.json"
"$LYNCFLOW" -r "$D/ciphers.pcap" --keylog "$TMP/other-keylog.txt" --json "$out" 2>"$TMP/err"
expect_eq "other key log: exit 0" "$?" 0
expect_eq "other key log: every connection without secrets" "$(stat "$out" tls_no_secret)" 19
expect_match "other key log: malformed lines named by file:line, in one line" "$TMP/err" \
    "other-keylog.txt:2: 2 malformed key log lines ignored \(also line 4\)"
expect_eq "other key log: one warning line for them" "$(grep -c malformed "$TMP/err")" 1

# --- pcapng Decryption Secrets Block ---------------------------------------
if command -v editcap >/dev/null 2>&1; then
    editcap --inject-secrets "tls,$D/keylog.txt" "$D/ciphers.pcap" "$TMP/dsb.pcapng"
    out="$TMP/dsb.json"
    "$LYNCFLOW" -r "$TMP/dsb.pcapng" --json "$out" 2>"$TMP/err"
    expect_eq "pcapng secrets: 34 requests decrypted without --keylog" \
        "$(jcount "$out" '.type=="http" and .decrypted==true')" 34
    # The secrets in a second section, after 9 MB of packets (several mapped windows of the file).
    "$TOP/build/tools/gencap" tls "$TMP/first.pcap" 300 9 "$TOP/tests/bench/tls-handshake.hex" >/dev/null 2>&1
    editcap -F pcapng "$TMP/first.pcap" "$TMP/first.pcapng"
    cat "$TMP/first.pcapng" "$TMP/dsb.pcapng" >"$TMP/late.pcapng"
    expect_ge "pcapng secrets: the first section spans windows" "$(wc -c <"$TMP/first.pcapng")" 8000000
    "$LYNCFLOW" -r "$TMP/late.pcapng" --json "$TMP/late.json" 2>"$TMP/err"
    expect_eq "pcapng secrets in a second section, 9 MB in: 34 requests decrypted" \
        "$(jcount "$TMP/late.json" '.type=="http" and .decrypted==true')" 34
    # Cut inside the secrets block: a warning naming its offset; the packets before it are read.
    dsb_at=$(od -An -tu4 -j 4 -N4 "$TMP/dsb.pcapng" | tr -d ' ')
    expect_eq "pcapng secrets: a secrets block after the section header" \
        "$(od -An -tu4 -j "$dsb_at" -N4 "$TMP/dsb.pcapng" | tr -d ' ')" 10
    head -c $((dsb_at + 40)) "$TMP/dsb.pcapng" >"$TMP/dsb-cut.pcapng"
    "$LYNCFLOW" -r "$TMP/dsb-cut.pcapng" --json /dev/null 2>"$TMP/err"
    expect_match "pcapng secrets cut short: the warning names the block's offset" "$TMP/err" \
        "truncated pcapng secrets block at offset $dsb_at"
    # A named pipe is read once, by the capture: every packet arrives (its secrets are not read ahead).
    mkfifo "$TMP/fifo"
    cat "$TMP/dsb.pcapng" >"$TMP/fifo" &
    "$LYNCFLOW" -r "$TMP/fifo" --json "$TMP/fifo.json" 2>"$TMP/err"
    expect_eq "pcapng from a named pipe: exit 0" "$?" 0
    expect_eq "pcapng from a named pipe: every packet read" \
        "$(jq -r 'select(.type=="stats") | .packets' "$TMP/fifo.json")" 325
else
    echo "ok - # SKIP editcap not installed"
fi

# --- sanitized build ---------------------------------------------------------
if [ -x "$LYNCFLOW_SAN" ]; then
    "$LYNCFLOW_SAN" -r "$D/ciphers.pcap" --keylog "$TMP/other-keylog.txt" --rsa-key "$D/server-key.pem" \
        --json "$TMP/san.json" 2>"$TMP/san.err"
    expect_eq "sanitized: exit 0 with another key log and the RSA key" "$?" 0
    expect_eq "sanitized: the TLS_RSA requests decrypt" "$(jcount "$TMP/san.json" '.type=="http" and .decrypted')" 10
    "$LYNCFLOW_SAN" -r "$D/ciphers.pcap" --keylog "$D/keylog.txt" --json "$TMP/san2.json" 2>>"$TMP/san.err"
    expect_eq "sanitized: every request decrypts with the key log" \
        "$(jcount "$TMP/san2.json" '.type=="http" and .decrypted')" 34
    "$LYNCFLOW_SAN" -r "$D/ciphers.pcap" --keylog "$TMP/bad-keylog.txt" --json "$TMP/san3.json" 2>>"$TMP/san.err"
    expect_eq "sanitized: exit 0 with a wrong key log" "$?" 0
    expect_nomatch "sanitized: no sanitizer report" "$TMP/san.err" "runtime error|AddressSanitizer|LeakSanitizer"
fi

# --- live capture, the key log written while it runs ----------------------
if [ "$(id -u)" = 0 ] && command -v nginx >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then
    P=$((20000 + ($$ + 7) % 20000))
    chmod 755 "$TMP"
    mkdir -p "$TMP/live/www"
    echo live >"$TMP/live/www/x.txt"
    openssl req -x509 -key "$D/server-key.pem" -out "$TMP/live/cert.pem" -subj /CN=feweb.contoso.com -days 2 2>/dev/null
    cat >"$TMP/live/nginx.conf" <<EOT
worker_processes 1; pid $TMP/live/nginx.pid; error_log $TMP/live/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $TMP/live/body;
    server { listen 127.0.0.1:$P ssl; ssl_certificate $TMP/live/cert.pem; ssl_certificate_key $D/server-key.pem;
             ssl_protocols TLSv1.2 TLSv1.3; root $TMP/live/www; } }
EOT
    nginx -c "$TMP/live/nginx.conf"
    : >"$TMP/live/keylog.txt"
    "$LYNCFLOW" -i lo -f "tcp port $P" --keylog "$TMP/live/keylog.txt" --json "$TMP/live.json" 2>"$TMP/live.err" &
    LPID=$!
    sleep 1
    for i in 1 2 3; do
        SSLKEYLOGFILE="$TMP/live/keylog.txt" curl -sk -o /dev/null --tlsv1.3 "https://127.0.0.1:$P/x.txt?tls13=$i"
        SSLKEYLOGFILE="$TMP/live/keylog.txt" curl -sk -o /dev/null --tls-max 1.2 "https://127.0.0.1:$P/x.txt?tls12=$i"
    done
    sleep 0.5
    kill -INT "$LPID"
    wait "$LPID"
    expect_eq "live: exit 0 on SIGINT" "$?" 0
    kill "$(cat "$TMP/live/nginx.pid")" 2>/dev/null
    expect_eq "live: the key log was empty at the start, every request decrypted as it grew" \
        "$(jcount "$TMP/live.json" '.type=="http" and .decrypted==true and .status==200')" 6
    expect_eq "live: TLS 1.3 ones too (their secrets are logged as the packets pass)" \
        "$(jcount "$TMP/live.json" '.type=="http" and .decrypted==true and (.uri|test("tls13"))')" 3
else
    echo "ok - # SKIP live decryption needs root, nginx and curl"
fi

# --- the lab samples ---------------------------------------------------------
for s in "$SAMPLES"/*/; do
    name=$(basename "$s")
    [ -f "$s/capture.pcap" ] && [ -f "$s/client.ndjson" ] || continue
    if [ -f "$s/keylog.txt" ]; then
        set -- --keylog "$s/keylog.txt"
        opt="tls.keylog_file:$s/keylog.txt"
        how="key log"
    elif [ -f "$s/server-key.pem" ]; then
        set -- --rsa-key "$s/server-key.pem"
        opt="uat:rsa_keys:\"$s/server-key.pem\",\"\""
        how="RSA key"
    else
        continue
    fi
    [ -f "$s/topology.conf" ] && set -- "$@" -c "$s/topology.conf"
    out="$TMP/$name.json"
    "$LYNCFLOW" -r "$s/capture.pcap" "$@" --json "$out" 2>"$TMP/err"
    expect_eq "$name: exit 0 with the $how" "$?" 0
    jq -r 'select(.sent==true and .status > 0) | "\(.client) \(.method) \(.uri) \(.status)"' "$s/client.ndjson" |
        sort >"$TMP/want"
    jq -r 'select(.type=="http" and .decrypted==true) | "\(.client) \(.method) \(.uri) \(.status)"' "$out" |
        sort >"$TMP/got"
    total=$(wc -l <"$TMP/want" | tr -d ' ')
    missing=$(comm -23 "$TMP/want" "$TMP/got" | wc -l | tr -d ' ')
    expect_eq "$name: every client request decrypted with method, uri and status ($((total - missing))/$total)" \
        "$missing" 0
    [ "$missing" = 0 ] || comm -23 "$TMP/want" "$TMP/got" | head -5 | sed 's/^/#   missing: /'
    expect_eq "$name: every decrypted request has a role" \
        "$(jcount "$out" '.type=="http" and .decrypted==true and (.role==null or .role=="")')" 0
    reqs "$out" >"$TMP/lf"
    tshark_reqs "$s/capture.pcap" "$opt" >"$TMP/ts"
    check "$name: the same requests as tshark ($(wc -l <"$TMP/ts" | tr -d ' ') with the $how)" diff "$TMP/ts" "$TMP/lf"
    if [ "$name" = tls-rsa ] && [ -f "$s/server-key.pem" ]; then
        out="$TMP/$name-rsa.json"
        set -- --rsa-key "$s/server-key.pem"
        [ -f "$s/topology.conf" ] && set -- "$@" -c "$s/topology.conf"
        "$LYNCFLOW" -r "$s/capture.pcap" "$@" --json "$out" 2>"$TMP/err"
        jq -r 'select(.type=="http" and .decrypted==true) | "\(.client) \(.method) \(.uri) \(.status)"' "$out" |
            sort >"$TMP/got"
        missing=$(comm -23 "$TMP/want" "$TMP/got" | wc -l | tr -d ' ')
        expect_eq "$name: with only --rsa-key, every client request decrypted ($((total - missing))/$total)" \
            "$missing" 0
        reqs "$out" >"$TMP/lf"
        tshark_reqs "$s/capture.pcap" "uat:rsa_keys:\"$s/server-key.pem\",\"\"" >"$TMP/ts"
        check "$name: the same requests as tshark with the RSA key" diff "$TMP/ts" "$TMP/lf"
    fi
done

# --- every corpus capture through a live decryptor, sanitized (CORPUS=full) --
if [ "$CORPUS" = full ] && [ -x "$LYNCFLOW_SAN" ]; then
    n=0
    bad=0
    for f in "$SHARED"/corpus/ndpi/pcap/* "$SHARED"/corpus/tcpdump/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        timeout 120 "$LYNCFLOW_SAN" -r "$f" --keylog "$D/keylog.txt" --rsa-key "$D/server-key.pem" --json /dev/null \
            >/dev/null 2>"$TMP/corpus.err"
        rc=$?
        if [ "$rc" -gt 1 ] || grep -qE "runtime error|AddressSanitizer|LeakSanitizer" "$TMP/corpus.err"; then
            bad=$((bad + 1))
            echo "#   $f: exit $rc"
            grep -E "runtime error|ERROR|SUMMARY" "$TMP/corpus.err" | head -3 | sed 's/^/#     /'
        fi
    done
    expect_ge "corpus: captures read with a key log and an RSA key" "$n" 1000
    expect_eq "corpus: no sanitizer report, no crash" "$bad" 0
fi
