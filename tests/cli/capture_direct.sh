# Packets read in place from a mapped pcap or pcapng file are what libpcap gives: a file and the same bytes
# through a pipe (read by libpcap alone) yield the same NDJSON, messages and exit status, for plain,
# nanosecond, byte-swapped, modified-format, over-snaplen, filtered and truncated pcap files, and pcapng
# files with other time stamp resolutions and offsets, several interfaces and sections (issue 10).
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

# pcapng: microsecond and nanosecond interfaces give the NDJSON of the pcap file.
editcap -F pcapng "$TMP/w.pcap" "$TMP/w.pcapng"
editcap -F pcapng "$TMP/w-nsec.pcap" "$TMP/w-nsec.pcapng"
for f in w.pcapng w-nsec.pcapng; do
    same_as_pipe "$f" "$TMP/$f"
    check "$f: the same NDJSON as the pcap file" cmp -s "$TMP/file.json" "$TMP/plain.json"
done
same_as_pipe "pcapng, filtered" "$TMP/w.pcapng" -f "tcp[tcpflags] & tcp-push != 0"
expect_eq "pcapng, filtered: the records tshark matches" "$(packets "$TMP/file.json")" \
    "$(tshark -r "$TMP/w.pcap" -Y 'tcp.flags.push == 1' 2>/dev/null | wc -l | tr -d ' ')"

# The nanosecond file's interface block, edited: its if_tsresol byte (after the 16-byte block start and
# the 4-byte option header), its options (if_tsoffset instead), its snapshot length.
u32at() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
idb=$(u32at "$TMP/w-nsec.pcapng" 4)
expect_eq "nanosecond pcapng: if_tsresol 9 where expected" \
    "$(od -An -tu1 -j $((idb + 16)) -N5 "$TMP/w-nsec.pcapng" | tr -s ' ')" " 9 0 1 0 9"
patch() { # patch FILE OFFSET OCTAL-BYTES
    printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
cp "$TMP/w-nsec.pcapng" "$TMP/ms.pcapng"
patch "$TMP/ms.pcapng" $((idb + 20)) '\003'
cp "$TMP/w-nsec.pcapng" "$TMP/bin.pcapng"
patch "$TMP/bin.pcapng" $((idb + 20)) '\224'
cp "$TMP/w-nsec.pcapng" "$TMP/snap.pcapng"
patch "$TMP/snap.pcapng" $((idb + 12)) '\310\000\000\000'
for f in ms bin snap; do
    same_as_pipe "pcapng, $f" "$TMP/$f.pcapng"
done
"$LYNCFLOW" -r "$TMP/ms.pcapng" --json "$TMP/ms.json" 2>/dev/null
check "pcapng, millisecond resolution: read with other times" sh -c "! cmp -s '$TMP/plain.json' '$TMP/ms.json'"
expect_match "pcapng, snaplen 200: libpcap's message" "$TMP/file.err" "invalid packet capture length.*at byte offset"
# The microsecond file with an if_tsoffset of 16 s: a new 36-byte interface block in place of its 20 bytes.
widb=$(u32at "$TMP/w.pcapng" 4)
expect_eq "pcapng: a 20-byte interface block" "$(u32at "$TMP/w.pcapng" $((widb + 4)))" 20
{
    head -c "$widb" "$TMP/w.pcapng"
    printf '\001\000\000\000\044\000\000\000\001\000\000\000\000\000\004\000'
    printf '\016\000\010\000\020\000\000\000\000\000\000\000\000\000\000\000\044\000\000\000'
    tail -c +$((widb + 21)) "$TMP/w.pcapng"
} >"$TMP/off.pcapng"
same_as_pipe "pcapng, if_tsoffset" "$TMP/off.pcapng"
expect_eq "pcapng, if_tsoffset: 16 s later" \
    "$(jq -r 'select(.type=="flow") | .ts' "$TMP/file.json" | head -1)" \
    "$(jq -r 'select(.type=="flow") | .ts + 16' "$TMP/plain.json" | head -1)"
# A block whose trailer disagrees with its header, some way in.
epb=$((widb + 20))
i=0
while [ $i -lt 200 ]; do
    epb=$((epb + $(u32at "$TMP/w.pcapng" $((epb + 4)))))
    i=$((i + 1))
done
cp "$TMP/w.pcapng" "$TMP/trailer.pcapng"
patch "$TMP/trailer.pcapng" $((epb + $(u32at "$TMP/w.pcapng" $((epb + 4))) - 4)) '\377'
same_as_pipe "pcapng, a trailer that disagrees" "$TMP/trailer.pcapng"
expect_match "pcapng, a trailer that disagrees: libpcap's message at the block" "$TMP/file.err" \
    "don't match, at byte offset $epb after 200 packets"

# Two interfaces, two sections, and a cut inside the second window.
"$TOP/build/tools/gencap" tls "$TMP/g.pcap" 50 3 "$TOP/tests/bench/tls-handshake.hex" >/dev/null 2>&1
mergecap -I none -F pcapng -w "$TMP/two-if.pcapng" "$TMP/w.pcap" "$TMP/g.pcap"
same_as_pipe "pcapng, two interfaces" "$TMP/two-if.pcapng"
expect_eq "pcapng, two interfaces: every packet read" "$(packets "$TMP/file.json")" \
    "$(tshark -r "$TMP/two-if.pcapng" 2>/dev/null | wc -l | tr -d ' ')"
cat "$TMP/w.pcapng" "$TMP/w-nsec.pcapng" >"$TMP/two-sec.pcapng"
same_as_pipe "pcapng, two sections" "$TMP/two-sec.pcapng"
expect_eq "pcapng, two sections: every packet read" "$(packets "$TMP/file.json")" "$((records * 2))"
for cut in 2097152 2097160 2097190; do
    head -c "$cut" "$TMP/w.pcapng" >"$TMP/cut.pcapng"
    same_as_pipe "pcapng cut at $cut" "$TMP/cut.pcapng"
    expect_match "pcapng cut at $cut: the message names the offset" "$TMP/file.err" \
        "truncated.*at byte offset [0-9]+ after"
done

# Captures from the corpora: a subset here, every one with CORPUS=full.
if [ "$CORPUS" = full ]; then
    ls "$N"/* "$T"/* >"$TMP/list"
else
    for f in 443-curl.pcap http_ipv6.pcap KakaoTalk_chat.pcap fuzz-2021-10-13.pcap dlt_ppp.pcap 4in6tunnel.pcap \
        ip_fragmented_garbage.pcap tls_missing_ch_frag.pcap smb_frags.pcap tls-esni-fuzzed.pcap tls_2_reasms.pcapng \
        http2.pcapng bets.pcapng kerberos_fuzz.pcapng quic-fuzz-overflow.pcapng ossfuzz_seed_fake_traces_1.pcapng \
        reasm_crash_anon.pcapng; do
        echo "$N/$f"
    done >"$TMP/list"
    for f in LINKTYPE_IPV4_invalid.pcap LINKTYPE_RAW_ipv6.pcap loopback.pcap ipv6_jumbogram_1.pcap \
        tcp_header_heapoverflow.pcap tcp_rst_data-trunc.pcap nflog.pcap tcp-handshake-nano.pcap pppoe.pcap \
        time_2038_overflow.pcap resp_4_infiniteloop.pcapng; do
        echo "$T/$f"
    done >>"$TMP/list"
fi
while read -r f; do
    same_as_pipe "${f#"$SHARED"/corpus/}" "$f"
done <"$TMP/list"
