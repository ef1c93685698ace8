# The lab's samples (issue 3): each sample's files are there, tshark with the key log sees the very requests
# and statuses the client reported in client.ndjson, each scenario shows its fault, and lyncflow -r reads it.
. "$(dirname "$0")/../lib.sh"
skip_unless tshark
skip_unless jq

SCENARIOS="healthy-two-listeners healthy-one-listener director-unpublished frontend-unpublished
simple-urls-to-frontend bridge-internal-443 san-missing tls-rsa ipv6-listener"
present=0
for s in $SCENARIOS; do [ -f "$SAMPLES/$s/capture.pcap" ] && present=$((present + 1)); done
expect_eq "every scenario has its sample" "$present" 9

# tshark's HTTP messages: frame, src, src6, sport, dst, dport, method, host, uri, request_in, code, server, time.
http_fields() { # capture, keylog, extra tshark options...
    cap=$1
    kl=$2
    shift 2
    tshark -r "$cap" -o "tls.keylog_file:$kl" -d tcp.port==4443,tls "$@" -Y http -T fields \
        -e frame.number -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e tcp.dstport \
        -e http.request.method -e http.host -e http.request.uri -e http.request_in -e http.response.code \
        -e http.server -e frame.time_epoch 2>/dev/null
}
# The client leg's requests as "client method host uri status", sorted (the proxy's back leg leaves from 127.0.0.2).
client_side() {
    awk -F'\t' '
        $7 != "" { src = ($2 != "") ? $2 ":" $4 : "[" $3 "]:" $4; if ($2 == "127.0.0.2") next
                   req[$1] = src " " $7 " " $8 " " $9; order[++n] = $1; next }
        $10 != "" { code[$10] = $11 }
        END { for (i = 1; i <= n; i++) { f = order[i]; print req[f] " " ((f in code) ? code[f] : 0) } }' "$1" | sort
}

for s in $SCENARIOS; do
    d="$SAMPLES/$s"
    [ -f "$d/capture.pcap" ] || continue
    for f in capture.pcap keylog.txt topology.conf client.ndjson; do
        [ -s "$d/$f" ] || notok "$s: $f missing or empty"
    done
    size=$(wc -c <"$d/capture.pcap" | tr -d ' ')
    expect_eq "$s: capture under 1 MiB" "$([ "$size" -lt 1048576 ] && echo yes)" yes
    expect_eq "$s: client.ndjson is one JSON object a line with every field" \
        "$(jq -c 'select(has("ts") and has("client") and has("url") and has("host") and has("method") and
                  has("user_agent") and has("status") and has("curl_exit") and has("curl_error") and has("sent"))' \
              "$d/client.ndjson" | wc -l | tr -d ' ')" "$(wc -l <"$d/client.ndjson" | tr -d ' ')"

    http_fields "$d/capture.pcap" "$d/keylog.txt" >"$TMP/$s.tsv"
    client_side "$TMP/$s.tsv" >"$TMP/$s.wire"
    jq -r 'select(.sent) | "\(.client) \(.method) \(.host) \(.uri) \(.status)"' "$d/client.ndjson" | sort \
        >"$TMP/$s.client"
    expect_ge "$s: requests on the client leg" "$(wc -l <"$TMP/$s.wire" | tr -d ' ')" 10
    if cmp -s "$TMP/$s.wire" "$TMP/$s.client"; then ok "$s: tshark's client-leg requests agree with client.ndjson"
    else
        notok "$s: tshark's client-leg requests agree with client.ndjson"
        diff "$TMP/$s.wire" "$TMP/$s.client" | head -10 | sed 's/^/#   /'
    fi
    # client.ndjson's times are the wire's: the n-th request of a client port with its method and uri, within 200 ms.
    awk -F'\t' '$7 != "" && $2 != "127.0.0.2" { src = ($2 != "") ? $2 ":" $4 : "[" $3 "]:" $4
                                                k = src " " $7 " " $9; print k " #" (++n[k]) "\t" $13 }' \
        "$TMP/$s.tsv" | sort >"$TMP/$s.wt"
    jq -r 'select(.sent) | "\(.client) \(.method) \(.uri)\t\(.ts)"' "$d/client.ndjson" |
        awk -F'\t' '{ print $1 " #" (++n[$1]) "\t" $2 }' | sort >"$TMP/$s.ct"
    expect_eq "$s: client.ndjson times within 200 ms of the capture's" \
        "$(join -t "$(printf '\t')" "$TMP/$s.wt" "$TMP/$s.ct" |
           awk -F'\t' '{ d = $2 - $3; if (d < 0) d = -d; if (d < 0.2) ok++ } END { print ok + 0 }')" \
        "$(wc -l <"$TMP/$s.ct" | tr -d ' ')"
    # Every answer the client got from IIS (not from nginx itself) had its request on the back leg.
    back=$(awk -F'\t' '$7 != "" && $2 == "127.0.0.2"' "$TMP/$s.tsv" | wc -l | tr -d ' ')
    iis=$(awk -F'\t' '$11 != "" && $5 != "127.0.0.2" && $12 ~ /Microsoft-IIS/' "$TMP/$s.tsv" | wc -l | tr -d ' ')
    expect_eq "$s: back-leg requests = client-leg answers from IIS (the key log has both legs)" "$back" "$iis"
done

# What each scenario must show.
nd() { jq -c "select($2)" "$SAMPLES/$1/client.ndjson" | wc -l | tr -d ' '; }
if [ -f "$SAMPLES/healthy-two-listeners/client.ndjson" ]; then
    s=healthy-two-listeners
    expect_eq "$s: no curl error" "$(nd $s '.curl_exit != 0')" 0
    expect_eq "$s: every sequence ran (A B C E)" \
        "$(jq -r .sequence "$SAMPLES/$s/client.ndjson" | sort -u | tr -d '\n')" ABCE
    expect_ge "$s: NTLM round trips ending in 200" "$(nd $s '.auth == "ntlm-type3" and .status == 200')" 4
    expect_ge "$s: every client but the browser reached the Front End" \
        "$(jq -r 'select(.host == "feweb.contoso.com" and .status == 200) | .client_name' \
            "$SAMPLES/$s/client.ndjson" | sort -u | wc -l | tr -d ' ')" 5
    expect_eq "$s: two listeners" "$(jq -r 'select(.sent) | .server' "$SAMPLES/$s/client.ndjson" | sort -u |
        tr '\n' ' ')" "127.0.0.10:443 127.0.0.11:443 "
fi

# back DEST HOST-REGEX: how many back-leg requests went to DEST (ip:port) for a Host matching the regex.
back() { awk -F'\t' -v d="$2" -v h="$3" '$7 != "" && $2 == "127.0.0.2" && ($5 ":" $6) == d && $8 ~ h' "$TMP/$1.tsv" |
    wc -l | tr -d ' '; }
if [ -f "$SAMPLES/healthy-one-listener/client.ndjson" ]; then
    s=healthy-one-listener
    expect_eq "$s: no curl error" "$(nd $s '.curl_exit != 0')" 0
    expect_eq "$s: one listener for every name" "$(jq -r 'select(.sent) | .server' "$SAMPLES/$s/client.ndjson" |
        sort -u | tr '\n' ' ')" "127.0.0.10:443 "
    expect_eq "$s: five names on it" "$(jq -r .sni "$SAMPLES/$s/client.ndjson" | sort -u | wc -l | tr -d ' ')" 5
fi
if [ -f "$SAMPLES/director-unpublished/client.ndjson" ]; then
    s=director-unpublished
    expect_ge "$s: requests for dirweb" "$(nd $s '.sni == "dirweb.contoso.com" and .sent')" 3
    expect_eq "$s: every dirweb request answered 404" "$(nd $s '.sni == "dirweb.contoso.com" and .status != 404')" 0
    expect_eq "$s: ... by nginx itself (Server header)" \
        "$(awk -F'\t' '$11 == "404" && $12 ~ /^nginx/' "$TMP/$s.tsv" | wc -l | tr -d ' ')" \
        "$(nd $s '.sni == "dirweb.contoso.com"')"
    expect_eq "$s: nothing for dirweb on the back leg" "$(back $s 127.0.1.10:4443 '^dirweb')" 0
    expect_ge "$s: lyncdiscover still reaches the Director" "$(back $s 127.0.1.10:4443 '^lyncdiscover')" 1
fi
if [ -f "$SAMPLES/frontend-unpublished/client.ndjson" ]; then
    s=frontend-unpublished
    expect_ge "$s: requests for feweb" "$(nd $s '.sni == "feweb.contoso.com"')" 3
    expect_eq "$s: every feweb request closed without an answer (curl 52)" \
        "$(nd $s '.sni == "feweb.contoso.com" and (.status != 0 or .curl_exit != 52 or .sent != true)')" 0
    expect_eq "$s: nothing reaches the Front End" "$(back $s 127.0.1.11:4443 '.')" 0
    expect_ge "$s: the Director's steps succeed" "$(nd $s '.sni == "dirweb.contoso.com" and .status == 200')" 4
fi
if [ -f "$SAMPLES/simple-urls-to-frontend/client.ndjson" ]; then
    s=simple-urls-to-frontend
    expect_ge "$s: meet and dialin proxied to the Front End" "$(back $s 127.0.1.11:4443 '^(meet|dialin)\\.')" 2
    expect_eq "$s: none to the Director" "$(back $s 127.0.1.10:4443 '^(meet|dialin)\\.')" 0
    expect_eq "$s: the joins still answer 200" "$(nd $s '(.sni | test("^(meet|dialin)")) and .status != 200')" 0
fi
if [ -f "$SAMPLES/bridge-internal-443/client.ndjson" ]; then
    s=bridge-internal-443
    expect_ge "$s: the back leg goes to the servers' 443" "$(back $s 127.0.1.10:443 '.')" 5
    expect_eq "$s: ... never to 4443" "$(( $(back $s 127.0.1.10:4443 '.') + $(back $s 127.0.1.11:4443 '.') ))" 0
    expect_ge "$s: Autodiscover answers AccessLocation=\"Internal\"" \
        "$(tshark -r "$SAMPLES/$s/capture.pcap" -o "tls.keylog_file:$SAMPLES/$s/keylog.txt" \
            -Y 'http.response && ip.src == 127.0.0.10' -T fields -e http.file_data 2>/dev/null |
            grep -c 'AccessLocation="Internal"')" 2
    expect_ge "$s: clients cannot resolve the internal pool FQDN it hands out" \
        "$(nd $s '.host == "dirpool.contoso.local" and .curl_exit == 6 and .sent == false')" 2
fi
if [ -f "$SAMPLES/san-missing/client.ndjson" ]; then
    s=san-missing
    expect_ge "$s: feweb fails the name check (curl 60), no request sent" \
        "$(nd $s '.sni == "feweb.contoso.com" and .curl_exit == 60 and .sent == false')" 3
    expect_eq "$s: ... and nothing else for feweb" "$(nd $s '.sni == "feweb.contoso.com" and .curl_exit != 60')" 0
    tshark -r "$SAMPLES/$s/capture.pcap" -Y 'ip.src == 127.0.0.10 && tls.handshake.type == 11' -T fields \
        -e x509ce.dNSName 2>/dev/null | sort -u >"$TMP/san"
    expect_eq "$s: the certificate, readable without keys, lacks feweb" "$(cat "$TMP/san")" \
        "dirweb.contoso.com,meet.contoso.com,dialin.contoso.com,lyncdiscover.contoso.com"
    tshark -r "$SAMPLES/$s/capture.pcap" -o "tls.keylog_file:$SAMPLES/$s/keylog.txt" \
        -Y 'tls.handshake.extensions_server_name == "feweb.contoso.com"' -T fields -e tcp.stream 2>/dev/null |
        sort -u >"$TMP/fe.streams"
    tshark -r "$SAMPLES/$s/capture.pcap" -o "tls.keylog_file:$SAMPLES/$s/keylog.txt" \
        -Y 'tls.alert_message && ip.dst == 127.0.0.10' -T fields -e tcp.stream 2>/dev/null |
        sort -u >"$TMP/alert.streams"
    expect_eq "$s: every feweb connection ends with the client's alert" \
        "$(comm -12 "$TMP/fe.streams" "$TMP/alert.streams" | wc -l | tr -d ' ')" \
        "$(nd $s '.sni == "feweb.contoso.com"')"
fi
if [ -f "$SAMPLES/tls-rsa/client.ndjson" ]; then
    s=tls-rsa
    expect_eq "$s: the listener chose TLS_RSA_WITH_AES_128_GCM_SHA256 every time" \
        "$(tshark -r "$SAMPLES/$s/capture.pcap" -Y 'ip.src == 127.0.0.10 && tls.handshake.type == 2' -T fields \
            -e tls.handshake.ciphersuite 2>/dev/null | sort -u | tr '\n' ' ')" "0x009c "
    http_fields "$SAMPLES/$s/capture.pcap" /dev/null -o "uat:rsa_keys:\"$SAMPLES/$s/server-key.pem\",\"\"" \
        >"$TMP/rsa.tsv"
    client_side "$TMP/rsa.tsv" >"$TMP/rsa.wire"
    check "$s: with server-key.pem alone tshark sees the requests of client.ndjson" cmp "$TMP/rsa.wire" \
        "$TMP/$s.client"
fi
if [ -f "$SAMPLES/ipv6-listener/client.ndjson" ]; then
    s=ipv6-listener
    expect_eq "$s: no curl error" "$(nd $s '.curl_exit != 0')" 0
    expect_eq "$s: every client on ::1, to [::1]:443" \
        "$(nd $s '(.client | startswith("[::1]:")) and .server == "[::1]:443"')" \
        "$(wc -l <"$SAMPLES/$s/client.ndjson" | tr -d ' ')"
fi

if [ -x "$LYNCFLOW" ] && ! head -1 "$TOP/src/capture/capture.c" | grep -q placeholder; then
    for s in $SCENARIOS; do
        d="$SAMPLES/$s"
        [ -f "$d/capture.pcap" ] || continue
        "$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" --json "$TMP/$s.json" >/dev/null 2>"$TMP/$s.err"
        expect_eq "$s: lyncflow -r exits 0" "$?" 0
        expect_eq "$s: lyncflow -r writes one stats event" "$(jcount "$TMP/$s.json" '.type == "stats"')" 1
    done
else
    ok "# SKIP lyncflow -r on the samples: the capture module is still a placeholder"
fi
