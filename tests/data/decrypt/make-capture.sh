#!/bin/sh
# make-capture.sh: regenerates ciphers.pcap, keylog.txt, cases.txt and server-key.pem (root: nginx, tcpdump on lo).
# One curl run per cipher suite / version against a local nginx, two requests each:
# TLS 1.3 (AES-256-GCM, ChaCha20, AES-128-GCM, a HelloRetryRequest), TLS 1.2 ECDHE (GCM, ChaCha20,
# CBC-SHA384, CBC-SHA with encrypt-then-MAC), TLS_RSA (GCM with extended master secret, CBC-SHA256,
# CBC-SHA and its resumed session), TLS 1.0 and 1.1 CBC, a resumed ECDHE session.
set -e
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
chmod 755 "$work" # nginx workers read the pages
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/www/abs/handler" "$work/logs"
echo hello >"$work/www/index.html"
echo abs >"$work/www/abs/handler/file.lsabs"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$here/server-key.pem" -out "$work/server.pem" \
    -subj /CN=feweb.contoso.com -days 3650 -addext "subjectAltName=DNS:feweb.contoso.com" 2>/dev/null
server() { # port, extra directives
    cat <<EOT
    server {
        listen 127.0.0.1:$1 ssl;
        server_name feweb.contoso.com;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $here/server-key.pem;
        root $work/www;
        $2
    }
EOT
}
{
    echo "worker_processes 1; pid $work/nginx.pid; error_log $work/logs/error.log;"
    echo "events { worker_connections 64; }"
    echo "http { access_log off; client_body_temp_path $work/body; ssl_session_cache shared:S:1m;"
    server 8443 "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers ALL:@SECLEVEL=0;"
    server 8444 "ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve X25519;"
    echo "}"
} >"$work/nginx.conf"
nginx -c "$work/nginx.conf"
rm -f "$here/keylog.txt" "$here/cases.txt"
tcpdump -i lo -s 0 -U -w "$work/cap.pcap" 'tcp port 8443 or tcp port 8444' 2>/dev/null &
td=$!
sleep 1
n=0
go() { # port, curl options
    port=$1
    shift
    n=$((n + 1))
    echo "$n port $port: $*" >>"$here/cases.txt"
    url=https://feweb.contoso.com:$port
    SSLKEYLOGFILE="$here/keylog.txt" curl -sk -o /dev/null -o /dev/null \
        --resolve "feweb.contoso.com:$port:127.0.0.1" "$@" \
        "$url/abs/handler/file.lsabs?case=$n" "$url/index.html?case=$n"
}
go 8443 --tlsv1.3
go 8443 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
go 8443 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256
go 8443 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
go 8443 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
go 8443 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-SHA384
go 8443 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA
go 8443 --tls-max 1.2 --ciphers AES128-GCM-SHA256
go 8443 --tls-max 1.2 --ciphers AES256-SHA256
go 8443 --tls-max 1.2 --ciphers AES128-SHA -H 'Connection: close'
go 8443 --tlsv1.0 --tls-max 1.0 --ciphers 'ECDHE-RSA-AES256-SHA:@SECLEVEL=0'
go 8443 --tlsv1.1 --tls-max 1.1 --ciphers 'AES128-SHA:@SECLEVEL=0'
go 8443 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 -H 'Connection: close'
go 8444 --tlsv1.3 --curves P-256:X25519
# MAC-then-encrypt CBC: openssl s_client without encrypt-then-MAC, two pipelined requests
sc() {
    n=$((n + 1))
    echo "$n port 8443: openssl s_client $*" >>"$here/cases.txt"
    printf 'GET /abs/handler/file.lsabs?case=%s HTTP/1.1\r\nHost: feweb.contoso.com\r\n\r\n' $n >"$work/req"
    printf 'GET /index.html?case=%s HTTP/1.1\r\nHost: feweb.contoso.com\r\nConnection: close\r\n\r\n' $n >>"$work/req"
    openssl s_client -connect 127.0.0.1:8443 -servername feweb.contoso.com -keylogfile "$here/keylog.txt" -quiet \
        -ign_eof "$@" <"$work/req" >/dev/null 2>&1
}
sc -tls1_2 -no_etm -cipher ECDHE-RSA-AES128-SHA
sc -tls1 -no_etm -cipher 'ECDHE-RSA-AES256-SHA:@SECLEVEL=0'
sc -tls1_2 -no_etm -cipher AES256-SHA
sleep 1
kill $td
wait $td 2>/dev/null || true
cp "$work/cap.pcap" "$here/ciphers.pcap"
echo "$n runs, $(wc -l <"$here/keylog.txt") key log lines"
