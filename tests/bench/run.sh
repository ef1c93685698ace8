#!/bin/sh
# make bench: lyncflow against the bare libpcap read, ndpiReader and tshark on
# the same generated capture (and lyncflow against the bare read of its pcapng
# copy), medians of RUNS runs, as ratios (the machine is
# shared and noisy: only ratios from one run of this script compare).
# Then the SYN flood with --max-flows 100000. Results: build/bench/results.txt.
set -u
cd "$(dirname "$0")/../.." || exit 2
RUNS=${RUNS:-3}
LF=${LYNCFLOW:-build/lyncflow}
B=build/bench
mkdir -p "$B"
for p in libndpi-bin; do
    dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'ok installed' ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $p >/dev/null
done
[ -f "$B/big.pcap" ] || build/tools/gencap tls "$B/big.pcap" 40000 500 tests/bench/tls-handshake.hex
[ -f "$B/big.pcapng" ] || editcap -F pcapng "$B/big.pcap" "$B/big.pcapng"
[ -f "$B/synflood.pcap" ] || build/tools/gencap synflood "$B/synflood.pcap" 1000000

# measure NAME CMD...: RUNS runs; prints "NAME median_wall_s peak_rss_kb median_cpu_s" (CPU = user +
# system: on a loaded machine the wall time mostly measures the wait for a core)
measure() {
    name=$1
    shift
    : >"$B/$name.runs"
    i=0
    while [ $i -lt "$RUNS" ]; do
        /usr/bin/time -f "%e %M %U %S" -o "$B/$name.time" "$@" >/dev/null 2>"$B/$name.err"
        cat "$B/$name.time" >>"$B/$name.runs"
        i=$((i + 1))
    done
    awk '{print $3 + $4}' "$B/$name.runs" | sort -n >"$B/$name.cpu"
    cpu=$(awk '{c[NR]=$1} END {print c[int((NR+1)/2)]}' "$B/$name.cpu")
    sort -n "$B/$name.runs" | awk -v n="$name" -v cpu="$cpu" \
        '{t[NR]=$1; if ($2>m) m=$2} END {printf "%s %.3f %d %.3f\n", n, t[int((NR+1)/2)], m, cpu}'
}

{
    echo "capture: $(ls -l "$B/big.pcap" | awk '{print $5}') bytes, $(build/tools/pcapread "$B/big.pcap" | cut -d' ' -f1) packets"
    measure bare build/tools/pcapread "$B/big.pcap"
    measure lyncflow "$LF" -r "$B/big.pcap" --json /dev/null
    measure bare-ng build/tools/pcapread "$B/big.pcapng"
    measure lyncflow-ng "$LF" -r "$B/big.pcapng" --json /dev/null
    measure ndpiReader ndpiReader -i "$B/big.pcap" -q
    RUNS=1 measure tshark tshark -r "$B/big.pcap" -T fields -e tls.handshake.extensions_server_name -e http.host -e http.request.uri
    measure synflood "$LF" -r "$B/synflood.pcap" --max-flows 100000 --json "$B/synflood.json"
} | tee "$B/raw.txt"

awk '
/^capture/ {print; next}
{t[$1]=$2; m[$1]=$3; c[$1]=$4}
END {
    printf "                         wall      CPU\n"
    printf "lyncflow / bare read     %6.2fx  %6.2fx   (target <= 2)\n", t["lyncflow"]/t["bare"], c["lyncflow"]/c["bare"]
    printf "same, the file as pcapng %6.2fx  %6.2fx\n", t["lyncflow-ng"]/t["bare-ng"], c["lyncflow-ng"]/c["bare-ng"]
    printf "ndpiReader / lyncflow    %6.2fx  %6.2fx   (target >= 5)\n", t["ndpiReader"]/t["lyncflow"],
        c["ndpiReader"]/c["lyncflow"]
    printf "tshark / lyncflow        %6.2fx  %6.2fx   (target >= 40)\n", t["tshark"]/t["lyncflow"],
        c["tshark"]/c["lyncflow"]
    printf "lyncflow peak RSS        %.1f MiB (target < 64)\n", m["lyncflow"]/1024
    printf "SYN flood peak RSS       %.1f MiB (target < 160, --max-flows 100000)\n", m["synflood"]/1024
}' "$B/raw.txt" | tee "$B/results.txt"
echo "SYN flood evictions: $(jq -r 'select(.type=="stats") | .evicted' "$B/synflood.json")" | tee -a "$B/results.txt"
