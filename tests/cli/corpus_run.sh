# Captures from the shared corpora under ASan+UBSan: no sanitizer report, no signal, no hang (issue 2).
# make check runs a subset chosen to cover link types, tunnels, fragments and malformed files;
# CORPUS=full (make check-corpus) runs every capture of ndpi/pcap and tcpdump.
. "$(dirname "$0")/../lib.sh"
N="$SHARED/corpus/ndpi/pcap"
T="$SHARED/corpus/tcpdump"
LIMIT=${CORPUS_TIMEOUT:-120}

if [ "$CORPUS" = full ]; then
    ls "$N"/* "$T"/* >"$TMP/list"
else
    for f in 443-curl.pcap http_ipv6.pcap tls_2_reasms.pcapng KakaoTalk_chat.pcap http2.pcapng bets.pcapng \
        fuzz-2021-10-13.pcap nats.pcap kerberos_fuzz.pcapng quic-fuzz-overflow.pcapng ossfuzz_seed_fake_traces_1.pcapng \
        dlt_ppp.pcap 4in6tunnel.pcap ip_fragmented_garbage.pcap dns_fragmented.pcap reasm_crash_anon.pcapng \
        reasm_segv_anon.pcapng tls_missing_ch_frag.pcap tcp_scan.pcapng bittorrent_tcp_miss.pcapng smb_frags.pcap \
        gre.pcapng heuristic_tcp_ack_payload.pcap tls-esni-fuzzed.pcap; do
        echo "$N/$f"
    done >"$TMP/list"
    for f in 802.1ad_QinQ.pcap LINKTYPE_IPV4.pcap LINKTYPE_IPV4_invalid.pcap LINKTYPE_IPV6_invalid.pcap \
        LINKTYPE_RAW_ipv6.pcap loopback.pcap bigtcp-ipv6-hbh.pcap ipv4_tcp_http_xml_tso.pcap ipv6-routing-header.pcap \
        ipv6_jumbogram_1.pcap ipv6_frag6_negative_len.pcap ip6_frag_asan.pcap ipv4_invalid_total_length.pcap \
        ipv4_invalid_hdr_length.pcap tcp_header_heapoverflow.pcap heapoverflow-tcp_print.pcap tcp_rst_data-trunc.pcap \
        tcp-handshake-nano.pcap nflog.pcap ieee802.11_exthdr.pcap pppoe.pcap mptcp-dss-oobr.pcap \
        time_2038_overflow.pcap resp_4_infiniteloop.pcapng; do
        echo "$T/$f"
    done >>"$TMP/list"
fi

start=$(date +%s)
files=0
bad=0
while read -r f; do
    files=$((files + 1))
    name=${f#"$SHARED"/corpus/}
    if [ ! -f "$f" ]; then
        notok "$name: missing from the corpus"
        bad=$((bad + 1))
        continue
    fi
    timeout "$LIMIT" "$LYNCFLOW_SAN" -r "$f" --json /dev/null >/dev/null 2>"$TMP/err"
    rc=$?
    if [ "$rc" -eq 124 ]; then
        notok "$name: no answer within ${LIMIT}s"
        bad=$((bad + 1))
    elif [ "$rc" -gt 1 ]; then
        notok "$name: exit status $rc"
        head -5 "$TMP/err" | sed 's/^/#   /'
        bad=$((bad + 1))
    elif grep -Eq 'Sanitizer|runtime error' "$TMP/err"; then
        notok "$name: sanitizer report"
        grep -E -m3 'Sanitizer|runtime error' "$TMP/err" | sed 's/^/#   /'
        bad=$((bad + 1))
    elif [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
        notok "$name: exit 1 without a one-line message"
        bad=$((bad + 1))
    elif [ "$CORPUS" != full ]; then
        ok "$name: exit $rc, clean"
    fi
done <"$TMP/list"
expect_eq "corpus: $files captures, none crashed, hung or tripped a sanitizer ($(($(date +%s) - start))s)" "$bad" 0
