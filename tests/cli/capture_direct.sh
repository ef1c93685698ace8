# Records read in place from a mapped pcap file give what libpcap gives: a file and the same bytes through a
# pipe (read by libpcap alone) yield the same NDJSON, messages and exit status, for plain, nanosecond,
# byte-swapped, modified-format, over-snaplen, filtered and truncated files (issue 10).
. "$(dirname "$0")/../lib.sh"
skip_unless tshark
skip_unless editcap
N="$SHARED/corpus/ndpi/pcap"
T="$SHARED/corpus/tcpdump"

# same_as_pipe NAME FILE [ARGS...]: the file, then a pipe from it; NDJSON, stderr (the name aside) and exit.
same_as_pipe() {
    sp_name=$1 sp_f=$2
    shift 2
    "$LYNCFLOW" -r "$sp_f" "$@" --json "$TMP/file.json" >/dev/null 2>"$TMP/file.err"
    rf=$?
    cat "$sp_f" | "$LYNCFLOW" -r - "$@" --json "$TMP/pipe.json" >/dev/null 2>"$TMP/pipe.err"
    rp=$?
    sed "s#$sp_f#(stdin)#" "$TMP/file.err" >"$TMP/file.err2"
    if [ "$rf" = "$rp" ] && cmp -s "$TMP/file.json" "$TMP/pipe.json" && cmp -s "$TMP/file.err2" "$TMP/pipe.err"; then
        ok "$sp_name: the file read in place gives what libpcap gives through a pipe"
    else
        notok "$sp_name: the file read in place differs from libpcap through a pipe (exit $rf/$rp)"
        diff "$TMP/file.err2" "$TMP/pipe.err" | head -4 | sed 's/^/#   /'
        diff "$TMP/file.json" "$TMP/pipe.json" | head -4 | sed 's/^/#   /'
    fi
}
packets() { jq -r 'select(.type=="stats") | .packets' "$1"; }

# A capture of several mapped windows (2 MiB each), with TLS and HTTP.
"$TOP/build/tools/gencap" tls "$TMP/w.pcap" 300 9 "$TOP/tests/bench/tls-handshake.hex" >/dev/null 2>&1
records=$(tshark -r "$TMP/w.pcap" 2>/dev/null | wc -l | tr -d ' ')
same_as_pipe "plain pcap" "$TMP/w.pcap"
expect_eq "plain pcap: every record read" "$(packets "$TMP/file.json")" "$records"
cp "$TMP/file.json" "$TMP/plain.json"

# Nanosecond time stamps are scaled down as libpcap does: the same NDJSON as the microsecond file.
editcap -F nsecpcap "$TMP/w.pcap" "$TMP/w-nsec.pcap"
same_as_pipe "nanosecond pcap" "$TMP/w-nsec.pcap"
check "nanosecond pcap: the same NDJSON as microseconds" cmp -s "$TMP/file.json" "$TMP/plain.json"

# The other byte order and the modified format are libpcap's alone; they read the same.
editcap -F modpcap "$TMP/w.pcap" "$TMP/w-mod.pcap"
same_as_pipe "modified pcap (24-byte records)" "$TMP/w-mod.pcap"
check "modified pcap: the same NDJSON as the plain file" cmp -s "$TMP/file.json" "$TMP/plain.json"
for f in nfsv3.pcap fuzz-2006-09-29-28586.pcap; do
    expect_eq "$f is big-endian" "$(head -c 4 "$N/$f" | od -An -tx1 | tr -d ' ')" a1b2c3d4
    same_as_pipe "big-endian $f" "$N/$f"
    expect_eq "big-endian $f: every record read" "$(packets "$TMP/file.json")" \
        "$(tshark -r "$N/$f" 2>/dev/null | wc -l | tr -d ' ')"
done

# A snapshot length below some records' captured length: libpcap cuts those (reads snaplen bytes, skips the
# rest); the records between them are read in place.
cp "$TMP/w.pcap" "$TMP/w-snap.pcap"
printf '\310\000\000\000' | dd of="$TMP/w-snap.pcap" bs=1 seek=16 conv=notrunc 2>/dev/null
over=$(tshark -r "$TMP/w.pcap" -Y 'frame.cap_len > 200' 2>/dev/null | wc -l | tr -d ' ')
expect_ge "snaplen 200: some records are longer" "$over" 100
expect_ge "snaplen 200: some records are shorter" "$((records - over))" 100
same_as_pipe "snaplen 200" "$TMP/w-snap.pcap"
expect_eq "snaplen 200: every record read" "$(packets "$TMP/file.json")" "$records"
same_as_pipe "snaplen 200, filtered" "$TMP/w-snap.pcap" -f "tcp[tcpflags] & tcp-push != 0"

# A capture filter applies to records read in place as libpcap applies it.
same_as_pipe "filtered" "$TMP/w.pcap" -f "tcp[tcpflags] & tcp-push != 0"
expect_eq "filtered: the records tshark matches" "$(packets "$TMP/file.json")" \
    "$(tshark -r "$TMP/w.pcap" -Y 'tcp.flags.push == 1' 2>/dev/null | wc -l | tr -d ' ')"

# -w writes back every record as read: a plain file comes out byte for byte.
"$LYNCFLOW" -r "$TMP/w.pcap" -w "$TMP/w-out.pcap" --json /dev/null 2>/dev/null
check "-w: the file written is the file read" cmp -s "$TMP/w.pcap" "$TMP/w-out.pcap"

# Cut in a record header and in record data, at and around the second window's start.
for cut in 2097152 2097160 2097170 2097400 4194310; do
    head -c "$cut" "$TMP/w.pcap" >"$TMP/cut.pcap"
    same_as_pipe "cut at $cut" "$TMP/cut.pcap"
    expect_match "cut at $cut: the message names the offset" "$TMP/file.err" "truncated.*at byte offset [0-9]+ after"
done
head -c 24 "$TMP/w.pcap" >"$TMP/empty.pcap"
same_as_pipe "a file header alone" "$TMP/empty.pcap"
expect_eq "a file header alone: no packet" "$(packets "$TMP/file.json")" 0

# Captures from the corpora: a subset here, every one with CORPUS=full.
if [ "$CORPUS" = full ]; then
    ls "$N"/* "$T"/* >"$TMP/list"
else
    for f in 443-curl.pcap http_ipv6.pcap KakaoTalk_chat.pcap fuzz-2021-10-13.pcap dlt_ppp.pcap 4in6tunnel.pcap \
        ip_fragmented_garbage.pcap tls_missing_ch_frag.pcap smb_frags.pcap tls-esni-fuzzed.pcap; do
        echo "$N/$f"
    done >"$TMP/list"
    for f in LINKTYPE_IPV4_invalid.pcap LINKTYPE_RAW_ipv6.pcap loopback.pcap ipv6_jumbogram_1.pcap \
        tcp_header_heapoverflow.pcap tcp_rst_data-trunc.pcap nflog.pcap tcp-handshake-nano.pcap pppoe.pcap time_2038_overflow.pcap; do
        echo "$T/$f"
    done >>"$TMP/list"
fi
while read -r f; do
    same_as_pipe "${f#"$SHARED"/corpus/}" "$f"
done <"$TMP/list"
