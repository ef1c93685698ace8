# A capture on the proxy host without the clients' secrets: every request the proxy passes on to a server
# (decrypted with the servers' secrets alone) is attributed to the client connection that caused it, by the
# timing and size of that connection's TLS records. Truth: the same capture with every secret, where the
# client's own request is read. The lab's proxies pool their upstream connections across clients.
. "$(dirname "$0")/../lib.sh"
skip_unless tshark
skip_unless python3
right=0
all=0
# pooled NAME SECRET-KEYLOG: the lab's pooled sample run with every secret and with SECRET-KEYLOG (none when
# empty), scored against what the lab's driver wrote each client sending, on which connection.
pooled() {
    d="$TOP/samples/$1"
    "$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" --keylog "$d/keylog.txt" --json "$TMP/$1.full" 2>/dev/null
    "$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" ${2:+--keylog "$2"} --json "$TMP/$1.back" 2>/dev/null
    python3 "$TOP/tests/tools/attr_check.py" "$TMP/$1.full" "$TMP/$1.back" "$d/client.ndjson" >"$TMP/$1.score"
    echo "# $1: $(cat "$TMP/$1.score")"
    n=$(sed -n 's/^\([0-9]*\) back requests: \([0-9]*\) attributed right.*/\1 \2/p' "$TMP/$1.score")
    expect_ge "$1: every client's requests read on the back leg (100)" "${n% *}" 100
    expect_ge "$1: share attributed to the right client" \
        "$(awk -v r="${n#* }" -v a="${n% *}" 'BEGIN {printf "%.4f", r / a}')" 0.99
    all=$((all + ${n% *}))
    right=$((right + ${n#* }))
}
for s in healthy-two-listeners healthy-one-listener director-unpublished frontend-unpublished simple-urls-to-frontend \
    san-missing bridge-internal-443 healthy-iis-logs tls-rsa; do
    d="$TOP/samples/$s"
    [ -f "$d/capture.pcap" ] || continue
    # the secrets of the proxy's own connections to the servers: the ClientHellos it sent
    tshark -r "$d/capture.pcap" -Y 'tls.handshake.type == 1 && ip.src == 127.0.0.2' -T fields \
        -e tls.handshake.random 2>/dev/null | sort -u >"$TMP/$s.randoms"
    grep -iF -f "$TMP/$s.randoms" "$d/keylog.txt" >"$TMP/$s.keylog"
    "$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" --keylog "$d/keylog.txt" --json "$TMP/$s.full" 2>/dev/null
    "$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" --keylog "$TMP/$s.keylog" --json "$TMP/$s.back" \
        2>/dev/null
    expect_eq "$s: no client connection decrypted with the servers' secrets alone" \
        "$(jcount "$TMP/$s.back" '.type == "http" and (.client | startswith("127.0.2."))')" 0
    python3 "$TOP/tests/tools/attr_check.py" "$TMP/$s.full" "$TMP/$s.back" >"$TMP/$s.score"
    n=$(sed -n 's/^\([0-9]*\) back requests: \([0-9]*\) attributed right.*/\1 \2/p' "$TMP/$s.score")
    all=$((all + ${n% *}))
    right=$((right + ${n#* }))
    echo "# $s: $(cat "$TMP/$s.score")"
    expect_eq "$s: an attributed request says so, with its candidates and client" \
        "$(jq -c 'select(.attributed) | [.attributed, (.candidates >= 1), (.front_client | startswith("127.0.2."))]' \
            "$TMP/$s.back" | sort -u)" '["timing",true,true]'
done
# The lab's pooled proxies: nginx (upstream keepalive), HAProxy (http-reuse always) and Apache httpd
# (mod_proxy_http, enablereuse), each from its own source address, eight clients at once; keylog_server.txt
# holds the servers' secrets only, as an admin on the proxy host has them.
for s in pooled-nginx pooled-haproxy pooled-apache; do
    [ -f "$TOP/samples/$s/capture.pcap" ] || continue
    pooled "$s" "$TOP/samples/$s/keylog_server.txt"
    expect_eq "$s: no client connection decrypted with the servers' secrets" \
        "$(jcount "$TMP/$s.back" '.type == "http" and (.client | startswith("127.0.2."))')" 0
    expect_ge "$s: back connections that carried requests of two clients or more" \
        "$(jq -r 'select(.type == "http" and .front_client) | "\(.client) \(.front_client | sub(":[0-9]+$"; ""))"' \
            "$TMP/$s.back" | sort -u | awk '{print $1}' | uniq -c | awk '$1 > 1' | wc -l)" 2
done
# The back leg in plain HTTP (the external sites' 8080): no secret at all.
for s in pooled-nginx-http pooled-haproxy-http pooled-apache-http; do
    [ -f "$TOP/samples/$s/capture.pcap" ] && pooled "$s" ""
done
expect_ge "back requests compared" "$all" 700
share=$(awk -v r="$right" -v a="$all" 'BEGIN {printf "%.4f", r / a}')
expect_ge "back requests attributed to the right client, over the samples ($right of $all)" "$share" 0.98
# the steps: a client's sign-in shows the proxy's requests for it, not its TLS names
s=healthy-two-listeners
"$LYNCFLOW" -r "$TOP/samples/$s/capture.pcap" -c "$TOP/samples/$s/topology.conf" --keylog "$TMP/$s.keylog" \
    --timeline >"$TMP/$s.timeline" 2>/dev/null
expect_match "the timeline shows the forwarded requests under the client" "$TMP/$s.timeline" \
    '^ +[0-9]+ +\+[0-9.]+ +127\.0\.2\.1 .*POST /WebTicket/WebTicketService\.svc'
expect_eq "no TLS-name step where a request was matched: every sign-in step of the client is a request" \
    "$(grep -cE '^ +[0-9]+ +\+[0-9.]+ +127\.0\.2\.1 .* TLS [a-z]+\.contoso\.com' "$TMP/$s.timeline")" 0
