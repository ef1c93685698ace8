#!/bin/sh
# make bench: lyncflow against the bare libpcap read, ndpiReader and tshark on
# the same generated capture, medians of RUNS runs, as ratios (the machine is
# shared and noisy: only ratios from one run of this script compare).
# Then the SYN flood with --max-flows 100000. Results: build/bench/results.txt.
set -u
cd "$(dirname "$0")/../.." || exit 2
RUNS=${RUNS:-3}
B=build/bench
mkdir -p "$B"
for p in libndpi-bin; do
    dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'ok installed' ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $p >/dev/null
done
[ -f "$B/big.pcap" ] || build/tools/gencap tls "$B/big.pcap" 40000 500 tests/bench/tls-handshake.hex
[ -f "$B/synflood.pcap" ] || build/tools/gencap synflood "$B/synflood.pcap" 1000000

# measure NAME CMD...: RUNS runs; prints "NAME median_seconds peak_rss_kb"
measure() {
    name=$1
    shift
    : >"$B/$name.runs"
    i=0
    while [ $i -lt "$RUNS" ]; do
        /usr/bin/time -f "%e %M" -o "$B/$name.time" "$@" >/dev/null 2>"$B/$name.err"
        cat "$B/$name.time" >>"$B/$name.runs"
        i=$((i + 1))
    done
    sort -n "$B/$name.runs" | awk -v n="$name" '{t[NR]=$1; if ($2>m) m=$2} END {printf "%s %.3f %d\n", n, t[int((NR+1)/2)], m}'
}

{
    echo "capture: $(ls -l "$B/big.pcap" | awk '{print $5}') bytes, $(build/tools/pcapread "$B/big.pcap" | cut -d' ' -f1) packets"
    measure bare build/tools/pcapread "$B/big.pcap"
    measure lyncflow build/lyncflow -r "$B/big.pcap" --json /dev/null
    measure ndpiReader ndpiReader -i "$B/big.pcap" -q
    RUNS=1 measure tshark tshark -r "$B/big.pcap" -T fields -e tls.handshake.extensions_server_name -e http.host -e http.request.uri
    measure synflood build/lyncflow -r "$B/synflood.pcap" --max-flows 100000 --json "$B/synflood.json"
} | tee "$B/raw.txt"

awk '
/^capture/ {print; next}
{t[$1]=$2; m[$1]=$3}
END {
    printf "lyncflow / bare read     %.2fx   (target <= 2)\n", t["lyncflow"]/t["bare"]
    printf "ndpiReader / lyncflow    %.2fx   (target >= 5)\n", t["ndpiReader"]/t["lyncflow"]
    printf "tshark / lyncflow        %.2fx   (target >= 40)\n", t["tshark"]/t["lyncflow"]
    printf "lyncflow peak RSS        %.1f MiB (target < 64)\n", m["lyncflow"]/1024
    printf "SYN flood peak RSS       %.1f MiB (target < 160, --max-flows 100000)\n", m["synflood"]/1024
}' "$B/raw.txt" | tee "$B/results.txt"
echo "SYN flood evictions: $(jq -r 'select(.type=="stats") | .evicted' "$B/synflood.json")" | tee -a "$B/results.txt"
