# TLS dissector (issue 4) end to end: SNI, JA3, alerts and certificates against tshark on corpus files;
# decryption with a key log and an RSA key on a local capture (curl to openssl s_server:
# TLS 1.2 ECDHE, TLS 1.3, TLS 1.2 RSA).
. "$(dirname "$0")/../lib.sh"
skip_unless tshark
C="$SHARED/corpus/ndpi/pcap"
D="$TOP/tests/data/tls"

# "server sni" rows of ClientHellos, and "client ja3" rows.
tshark_sni() {
    tshark -r "$1" -Y 'tls.handshake.type==1 && tcp' -T fields -E separator=/t \
        -e ip.dst -e ipv6.dst -e tcp.dstport -e tls.handshake.extensions_server_name 2>/dev/null |
        awk -F'\t' '$4 != "" { if ($2 != "") print "[" $2 "]:" $3, $4; else print $1 ":" $3, $4 }' | sort -u
}
tshark_ja3() {
    tshark -r "$1" -Y 'tls.handshake.type==1 && tcp' -T fields -E separator=/t \
        -e ip.src -e ipv6.src -e tcp.srcport -e tls.handshake.ja3 2>/dev/null |
        awk -F'\t' '$4 != "" { if ($2 != "") print "[" $2 "]:" $3, $4; else print $1 ":" $3, $4 }' | sort -u
}
ours_sni() { jq -r 'select(.type=="tls" and .sni != "") | "\(.server) \(.sni)"' "$1" | sort -u; }
ours_ja3() { jq -r 'select(.type=="tls" and .ja3 != null) | "\(.client) \(.ja3)"' "$1" | sort -u; }

rows=0
for f in 443-curl.pcap 443-chrome.pcap 443-firefox.pcap 443-safari.pcap tls_2_reasms.pcapng tls_2_reasms_b.pcapng \
    tls_ech.pcapng tls_esni_sni_both.pcap long_tls_certificate.pcap tls_with_huge_ch.pcapng tls_alert.pcap \
    google_ssl.pcap; do
    [ -f "$C/$f" ] || { notok "$f: missing from the corpus"; continue; }
    "$LYNCFLOW" -r "$C/$f" --json "$TMP/$f.json" 2>"$TMP/$f.err"
    expect_eq "$f: exit 0" "$?" 0
    tshark_sni "$C/$f" >"$TMP/$f.tsni"
    ours_sni "$TMP/$f.json" >"$TMP/$f.osni"
    expect_eq "$f: (server, SNI) rows equal tshark's ($(wc -l <"$TMP/$f.tsni"))" \
        "$(cat "$TMP/$f.osni")" "$(cat "$TMP/$f.tsni")"
    tshark_ja3 "$C/$f" >"$TMP/$f.tja3"
    ours_ja3 "$TMP/$f.json" >"$TMP/$f.oja3"
    expect_eq "$f: (client, JA3) rows equal tshark's ($(wc -l <"$TMP/$f.tja3"))" \
        "$(cat "$TMP/$f.oja3")" "$(cat "$TMP/$f.tja3")"
    rows=$((rows + $(wc -l <"$TMP/$f.tsni")))
done
expect_ge "SNI rows compared" "$rows" 10

# One tls event per connection.
expect_eq "443-curl: one tls event" "$(jcount "$TMP/443-curl.pcap.json" '.type=="tls"')" 1
# JA4 as nDPI computes it on the same capture (443-curl.pcap.out).
expect_eq "443-curl: JA4 equals nDPI's" \
    "$(jq -r 'select(.type=="tls") | .ja4' "$TMP/443-curl.pcap.json")" "t12d6707h2_2955a3196ffa_c83f907a73d3"
# The leaf's DNS names as tshark decodes them (the first Certificate's first names).
expect_eq "443-curl: cert_san equals tshark's dNSName" \
    "$(jq -r 'select(.type=="tls") | .cert_san' "$TMP/443-curl.pcap.json")" \
    "$(tshark -r "$C/443-curl.pcap" -Y 'tls.handshake.type==11' -T fields -e x509ce.dNSName 2>/dev/null | head -1)"
san=$(jq -r 'select(.type=="tls") | .cert_san' "$TMP/long_tls_certificate.pcap.json")
tsan=$(tshark -r "$C/long_tls_certificate.pcap" -Y 'tls.handshake.type==11' -T fields -e x509ce.dNSName 2>/dev/null |
    head -1)
expect_ge "long_tls_certificate: many SAN names" "$(echo "$san" | tr ',' '\n' | wc -l)" 20
case "$tsan" in "$san"*) ok "long_tls_certificate: cert_san is tshark's dNSName list" ;;
*)
    notok "long_tls_certificate: cert_san is tshark's dNSName list"
    echo "#   ours: $san"
    echo "#   tshark: $tsan"
    ;;
esac
# Alerts: level, description, the side that sent it (tshark: tls.alert_message from the server's port).
expect_eq "tls_alert: alert from the server as tshark decodes it" \
    "$(jq -r 'select(.type=="tls" and .alert_from) | "\(.alert_from) \(.alert_level) \(.alert)"' \
        "$TMP/tls_alert.pcap.json")" \
    "server $(tshark -r "$C/tls_alert.pcap" -Y tls.alert_message -T fields -e tls.alert_message.level \
        -e tls.alert_message.desc 2>/dev/null | head -1 | tr '\t' ' ')"
expect_eq "tls_ech: ECH flagged" "$(jcount "$TMP/tls_ech.pcapng.json" '.type=="tls" and .ech==true')" 1
expect_eq "tls_2_reasms: TLS 1.3 certificate encrypted" \
    "$(jcount "$TMP/tls_2_reasms.pcapng.json" '.type=="tls" and .cert_encrypted==true and .cert_subject==""')" 1

# Decryption: three connections to feweb.contoso.com (TLS 1.2 ECDHE, TLS 1.3, TLS 1.2 RSA key exchange).
P="$D/local-three.pcap"
"$LYNCFLOW" -r "$P" --keylog "$D/local-three.keylog" --json "$TMP/dec.json" 2>"$TMP/dec.err"
expect_eq "keylog: exit 0" "$?" 0
expect_eq "keylog: three tls events, all decrypting" "$(jcount "$TMP/dec.json" '.type=="tls" and .decrypting==true')" 3
expect_eq "keylog: versions and ciphers" \
    "$(jq -r 'select(.type=="tls") | "\(.version) \(.cipher)"' "$TMP/dec.json" | tr '\n' ';')" \
    "TLS 1.2 0xc030;TLS 1.3 0x1302;TLS 1.2 0x009c;"
expect_eq "keylog: TLS 1.3 certificate read from the decrypted handshake" \
    "$(jq -r 'select(.type=="tls" and .version=="TLS 1.3") | "\(.cert_subject) \(.cert_san) \(.cert_encrypted)"' \
        "$TMP/dec.json")" "CN=feweb.contoso.com feweb.contoso.com,meet.contoso.com null"
expect_eq "keylog: certificate fingerprint is openssl's" \
    "$(jq -r 'select(.type=="tls") | .cert_sha256' "$TMP/dec.json" | sort -u)" \
    "$(openssl x509 -in "$D/local-three-cert.pem" -outform der | openssl dgst -sha256 -r | cut -d' ' -f1)"
expect_eq "keylog: the HTTP inside each connection, with its SNI" \
    "$(jq -r 'select(.type=="http") | "\(.sni) \(.method) \(.uri) \(.status) \(.decrypted)"' "$TMP/dec.json" |
        tr '\n' ';')" \
    "$(printf 'feweb.contoso.com GET %s 200 true;' /abs/handler /abs/handler /rsa)"
expect_eq "keylog: stats decrypted, no secret, failures" \
    "$(jq -r 'select(.type=="stats") | "\(.tls_decrypted) \(.tls_no_secret) \(.tls_decrypt_failures)"' \
        "$TMP/dec.json")" "3 0 0"
expect_eq "keylog: JA3 equals tshark's" "$(ours_ja3 "$TMP/dec.json")" "$(tshark_ja3 "$P")"

"$LYNCFLOW_SAN" -r "$P" --keylog "$D/local-three.keylog" --json "$TMP/dec-san.json" 2>"$TMP/dec-san.err"
expect_eq "keylog, sanitized: exit 0, nothing on stderr" "$? $(wc -c <"$TMP/dec-san.err")" "0 0"
expect_eq "keylog, sanitized: same events" "$(grep -c . "$TMP/dec-san.json")" "$(grep -c . "$TMP/dec.json")"

# Only the RSA key: the RSA connection is read, the other two have no secret.
"$LYNCFLOW" -r "$P" --rsa-key "$D/local-three-key.pem" --json "$TMP/rsa.json" 2>"$TMP/rsa.err"
expect_eq "rsa key: only /rsa decrypted" \
    "$(jq -r 'select(.type=="http") | .uri' "$TMP/rsa.json" | tr '\n' ' ')" "/rsa "
expect_eq "rsa key: stats decrypted, no secret" \
    "$(jq -r 'select(.type=="stats") | "\(.tls_decrypted) \(.tls_no_secret)"' "$TMP/rsa.json")" "1 2"

# No secrets: the events are there, application data is skipped, the TLS 1.3 certificate is encrypted.
"$LYNCFLOW" -r "$P" --json "$TMP/plain.json" 2>"$TMP/plain.err"
expect_eq "no keys: three tls events, no http" \
    "$(jcount "$TMP/plain.json" '.type=="tls"') $(jcount "$TMP/plain.json" '.type=="http"')" "3 0"
expect_eq "no keys: TLS 1.3 certificate encrypted, TLS 1.2 certificates read" \
    "$(jq -r 'select(.type=="tls") | "\(.cert_encrypted) \(.cert_subject)"' "$TMP/plain.json" | tr '\n' ';')" \
    "null CN=feweb.contoso.com;true ;null CN=feweb.contoso.com;"

# Wrong secrets for the TLS 1.3 connection: its records fail their tags, counted, and nothing comes out.
awk '$1 ~ /TRAFFIC_SECRET/ { $3 = "00" substr($3, 3) } { print }' "$D/local-three.keylog" >"$TMP/bad.keylog"
"$LYNCFLOW" -r "$P" --keylog "$TMP/bad.keylog" --json "$TMP/bad.json" 2>"$TMP/bad.err"
expect_eq "bad secrets: exit 0" "$?" 0
expect_ge "bad secrets: the TLS 1.3 event counts failures" \
    "$(jq -r 'select(.type=="tls" and .version=="TLS 1.3") | .decrypt_failures' "$TMP/bad.json")" 1
expect_ge "bad secrets: stats count failures" \
    "$(jq -r 'select(.type=="stats") | .tls_decrypt_failures' "$TMP/bad.json")" 1
expect_eq "bad secrets: the TLS 1.2 connections still decrypted" \
    "$(jq -r 'select(.type=="http") | .uri' "$TMP/bad.json" | tr '\n' ' ')" "/abs/handler /rsa "
