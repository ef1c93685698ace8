#!/bin/sh
# Live capture speed (issue 10; not part of make check, needs root): replays a
# generated capture on lo with tcpreplay at rising rates while
# `lyncflow -i lo --json /dev/null` runs (TUI=1: under tmux with --tui), and
# prints, per rate, the packets sent, the packets lyncflow captured and the
# kernel drops from pcap_stats; then the highest rate with no drop.
# The capture's addresses are rewritten into 127.0.0.0/8 first, so nothing
# but loopback addresses is ever sent. RATES: Mbit/s values or "top".
set -u
cd "$(dirname "$0")/../.." || exit 2
RATES=${RATES:-"500 1000 2000 4000 top"}
TUI=${TUI:-0}
B=build/bench
[ "$(id -u)" = 0 ] || { echo "live bench: needs root"; exit 2; }
dpkg-query -W -f='${Status}' tcpreplay 2>/dev/null | grep -q 'ok installed' ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpreplay >/dev/null
[ "$TUI" = 1 ] && { command -v tmux >/dev/null || { echo "live bench: TUI=1 needs tmux"; exit 2; }; }
mkdir -p "$B"
[ -x build/lyncflow ] && [ -x build/tools/gencap ] || make --no-print-directory all tests >/dev/null || exit 2
if [ ! -f "$B/live.pcap" ]; then
    build/tools/gencap tls "$B/live-src.pcap" 8000 200 tests/bench/tls-handshake.hex || exit 2
    # 10.0.0.0/8 clients -> 127.10.0.0/16, 192.168.0.0/16 servers -> 127.192.0.0/16; ports 443 and 80
    # moved to 44443 and 48080, away from any real service on this machine
    tcprewrite --pnat=10.0.0.0/8:127.10.0.0/16,192.168.0.0/16:127.192.0.0/16 --portmap=443:44443,80:48080 --fixcsum \
        -i "$B/live-src.pcap" -o "$B/live.pcap" || exit 2
    rm -f "$B/live-src.pcap"
fi
FILTER="net 127.10.0.0/16 or net 127.192.0.0/16"
best=none
printf '%-6s %10s %10s %10s %8s %10s\n' rate sent captured dropped Mbit/s wall_s | tee "$B/live.txt"
for rate in $RATES; do
    rm -f "$B/live.err"
    if [ "$TUI" = 1 ]; then
        tmux kill-session -t lf-live-bench 2>/dev/null
        tmux new-session -d -s lf-live-bench -x 160 -y 50 \
            "build/lyncflow -i lo -f '$FILTER' --tui --json /dev/null 2>$B/live.err"
    else
        build/lyncflow -i lo -f "$FILTER" --json /dev/null 2>"$B/live.err" &
        LPID=$!
    fi
    sleep 2
    if [ "$rate" = top ]; then speed=--topspeed; else speed=--mbps=$rate; fi
    tcpreplay -i lo "$speed" "$B/live.pcap" >"$B/live.replay" 2>&1
    sleep 2
    if [ "$TUI" = 1 ]; then
        tmux send-keys -t lf-live-bench q
        i=0
        while tmux has-session -t lf-live-bench 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
    else
        kill -INT "$LPID"
        wait "$LPID"
    fi
    sent=$(awk '/Actual:/ {print $2; exit}' "$B/live.replay")
    mbps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i ~ /Mbps/) {print $(i-1); exit}}' "$B/live.replay")
    wall=$(awk '/Actual:/ {for (i = 1; i <= NF; i++) if ($i == "in") {print $(i+1); exit}}' "$B/live.replay")
    got=$(sed -n 's/^lyncflow: \([0-9]*\) packets captured, \([0-9]*\) dropped by the kernel$/\1 \2/p' "$B/live.err")
    cap=${got% *}
    drop=${got#* }
    [ -n "$got" ] || { cap=?; drop=?; }
    printf '%-6s %10s %10s %10s %8s %10s\n' "$rate" "${sent:-?}" "$cap" "$drop" "${mbps:-?}" "${wall:-?}" |
        tee -a "$B/live.txt"
    [ "$drop" = 0 ] && [ "$cap" -ge "${sent:-1}" ] 2>/dev/null && best="$rate (${mbps} Mbit/s)"
done
echo "highest rate with no kernel drop and every packet captured: $best" | tee -a "$B/live.txt"
