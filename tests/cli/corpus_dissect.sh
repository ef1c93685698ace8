#!/bin/sh
# corpus_dissect.sh: tls and http events against tshark on the nDPI captures.
# Rows (file, server address, port, SNI) against tls.handshake.extensions_server_name, and (file, server address,
# port, method, Host, URI) against http.request, both over TCP. A fixed subset runs in make check; CORPUS=full
# runs every capture. tshark's rows are cached per file under build/corpus-tshark.
. "$(dirname "$0")/../lib.sh"
skip_unless tshark
skip_unless jq
DIR="$SHARED/corpus/ndpi/pcap"
[ -d "$DIR" ] || { echo "ok - # SKIP no corpus at $DIR"; exit 0; }
CACHE="$TOP/build/corpus-tshark"
mkdir -p "$CACHE"
export LC_ALL=C
US=$(printf '\037') # separates a field's occurrences in tshark's output

if [ "$CORPUS" = full ]; then
    files=$(ls "$DIR" | grep -E '\.(pcap|pcapng|cap)$')
else
    # HTTP edge cases (split headers, mid-stream, proxies, pipelining, attacks) and TLS over v4, v6 and tunnels
    files="WebattackRCE.pcap quickplay.pcap http_ua_splitted_in_two_pkts.pcapng ocsp.pcapng webdav.pcap
        conncheck.pcap anyconnect-vpn.pcap WebattackSQLinj.pcap zattoo.pcap ocs.pcap sites.pcapng socks.pcap
        ookla.pcap mpeg-dash.pcap fuzz-2006-09-29-28586.pcap android.pcap log4j-webapp-exploit.pcap
        http_asymmetric.pcapng http-manipulated.pcap emotet.pcap wow.pcap tls_certificate_too_long.pcap
        http_starting_with_reply.pcapng KakaoTalk_chat.pcap EAQ.pcap xss.pcap steam.pcapng http_connect.pcap
        http_auth.pcap http-proxy.pcapng http-lines-split.pcap http_origin_different_than_host.pcap
        http_invalid_server.pcap tls_heur__vmess-websocket.pcapng 443-curl.pcap 443-firefox.pcap 6in4tunnel.pcap
        4in6tunnel.pcap http_ipv6.pcap chrome.pcap yandex.pcapng dazn.pcapng no_sni.pcap cloudflare-warp.pcap
        pluralsight.pcap tls_heur__vmess-tcp-tls.pcapng"
fi

# tshark's rows: kind (h or s), file, address, port, then method, host, uri or the SNI. The address is the
# innermost IP header's (tunnels carry several).
tshark_rows() { # file
    c="$CACHE/$1.v2.tsv"
    if [ ! -f "$c" ] || [ "$DIR/$1" -nt "$c" ]; then
        tshark -r "$DIR/$1" -Y '(http.request || tls.handshake.extensions_server_name) && tcp' -T fields \
            -E separator=/t -E "aggregator=$US" -e frame.protocols -e ip.dst -e ipv6.dst -e tcp.dstport \
            -e http.request.method -e http.host -e http.request.uri -e tls.handshake.extensions_server_name \
            >"$c.tmp" 2>/dev/null
        mv "$c.tmp" "$c"
    fi
    awk -F '\t' -v f="$1" -v us="$US" '
    function last(s,  a, n) { n = split(s, a, us); return n ? a[n] : "" }
    {
        np = split($1, p, ":"); v = "";
        for (i = 1; i <= np && p[i] != "tcp"; i++) if (p[i] == "ip" || p[i] == "ipv6") v = p[i];
        addr = (v == "ipv6") ? last($3) : last($2);
        split($4, ports, us); port = ports[1];
        if ($5 != "") {
            n = split($5, m, us); split($6, h, us); split($7, u, us);
            for (i = 1; i <= n; i++)
                printf "h\t%s\t%s\t%s\t%s\t%s\t%s\n", f, addr, port, m[i], h[i], u[i];
        }
        if ($8 != "") {
            n = split($8, s, us);
            for (i = 1; i <= n; i++) printf "s\t%s\t%s\t%s\t%s\n", f, addr, port, s[i];
        }
    }' "$c"
}

# lyncflow's rows, in the same shape.
our_rows() { # file
    "$LYNCFLOW" -r "$DIR/$1" --json "$TMP/run.json" 2>>"$TMP/stderr"
    echo "$1 $?" >>"$TMP/status"
    jq -r 'select((.type == "http" and .method != "" and .source == "pcap") or (.type == "tls" and .sni != ""))
               | if .type == "http" then ["h", .server, .method, .host, .uri] else ["s", .server, .sni] end
               | join("\t")' "$TMP/run.json" |
        awk -F '\t' -v f="$1" '{
            s = $2;
            if (substr(s, 1, 1) == "[") { i = index(s, "]"); addr = substr(s, 2, i - 2); port = substr(s, i + 2) }
            else { i = match(s, /:[0-9]+$/); addr = substr(s, 1, i - 1); port = substr(s, i + 1) }
            if ($1 == "h") printf "h\t%s\t%s\t%s\t%s\t%s\t%s\n", f, addr, port, $3, $4, $5;
            else printf "s\t%s\t%s\t%s\t%s\n", f, addr, port, $3;
        }'
}

: >"$TMP/theirs"
: >"$TMP/ours"
: >"$TMP/status"
n=0
for f in $files; do
    [ -f "$DIR/$f" ] || { notok "corpus file $f exists"; continue; }
    tshark_rows "$f" >>"$TMP/theirs"
    our_rows "$f" >>"$TMP/ours"
    n=$((n + 1))
done

# figures over unique rows: the kind is the first column
figures() { # kind -> "theirs ours common"
    grep "^$1	" "$TMP/theirs" | sort -u >"$TMP/t.$1"
    grep "^$1	" "$TMP/ours" | sort -u >"$TMP/o.$1"
    echo "$(wc -l <"$TMP/t.$1") $(wc -l <"$TMP/o.$1") $(comm -12 "$TMP/t.$1" "$TMP/o.$1" | wc -l)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "1.0000"; else printf "%.4f\n", a / b }'; }

set -- $(figures h)
http_recall=$(ratio "$3" "$1")
echo "# http over $n captures: tshark $1 rows, lyncflow $2, common $3: recall $http_recall"
comm -23 "$TMP/t.h" "$TMP/o.h" | head -15 | sed 's/^/#   missed: /'
expect_ge "http (server, port, method, Host, URI) recall against tshark" "$http_recall" 0.98

set -- $(figures s)
sni_recall=$(ratio "$3" "$1")
sni_precision=$(ratio "$3" "$2")
echo "# sni over $n captures: tshark $1 rows, lyncflow $2, common $3: recall $sni_recall, precision $sni_precision"
comm -23 "$TMP/t.s" "$TMP/o.s" | head -20 | sed 's/^/#   missed: /'
comm -13 "$TMP/t.s" "$TMP/o.s" | head -10 | sed 's/^/#   extra: /'
expect_ge "sni (server, port, SNI) precision against tshark" "$sni_precision" 0.98
expect_ge "sni (server, port, SNI) recall against tshark" "$sni_recall" 0.99
expect_eq "lyncflow exits 0 on every capture" "$(awk '$2 != 0' "$TMP/status" | head -5)" ""
