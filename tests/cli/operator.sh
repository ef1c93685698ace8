# The operator's basics: --version, -h, the man page, the summary of a run with no output option, the
# progress of a file read on a terminal, SIGHUP reopening the --json file, make install.
. "$(dirname "$0")/../lib.sh"
S="$TOP/samples"

"$LYNCFLOW" --version >"$TMP/v" 2>&1
expect_eq "--version exits 0" "$?" 0
expect_match "--version names the program and its version" "$TMP/v" '^lyncflow [0-9]+\.[0-9]+\.[0-9]+$'
"$LYNCFLOW" -h >"$TMP/h" 2>&1
expect_eq "-h exits 0" "$?" 0
expect_match "-h shows the usage" "$TMP/h" '^usage: lyncflow -r FILE'

# The man page renders without a warning and names every long option the program takes.
groff -man -ww -z "$TOP/src/lyncflow.1" 2>"$TMP/groff"
expect_eq "the man page renders without warnings" "$(cat "$TMP/groff")" ""
MANWIDTH=200 man -l "$TOP/src/lyncflow.1" 2>/dev/null >"$TMP/man"
: >"$TMP/undocumented"
for o in $(sed -n 's/^    {"\([a-z-]*\)", [a-z_]*, NULL, .*/\1/p' "$TOP/src/main.c"); do
    grep -q -- "--$o" "$TMP/man" || echo "$o" >>"$TMP/undocumented"
done
expect_ge "long options found in main.c" "$(sed -n 's/^    {"\([a-z-]*\)", [a-z_]*, NULL, .*/\1/p' "$TOP/src/main.c" | wc -l)" 15
expect_eq "every long option is in the man page" "$(cat "$TMP/undocumented")" ""
for o in -r -i -f -c -w -C -G -W -Z -q; do
    grep -q -- "^       $o" "$TMP/man" || echo "$o" >>"$TMP/undocumented"
done
expect_eq "every short option is in the man page" "$(cat "$TMP/undocumented")" ""
for s in "TOPOLOGY FILE" "EVENTS" "EXIT STATUS" "SIGNALS"; do
    expect_match "the man page has $s" "$TMP/man" "^$s"
done

# No output option: a summary on stdout.
d="$S/director-unpublished"
"$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" --keylog "$d/keylog.txt" >"$TMP/sum" 2>"$TMP/sum.err"
expect_eq "a run with no output option exits 0" "$?" 0
expect_match "summary: what was read" "$TMP/sum" '^read: 412 packets, 20 flows; 20 TLS connections, 38 HTTP requests'
expect_match "summary: sign-ins by verdict" "$TMP/sum" '^sign-ins: 6 \(1 complete, 0 incomplete, 5 failed\)$'
expect_match "summary: a failed sign-in named with its reason" "$TMP/sum" \
    '^  failed: 127\.0\.2\.1 -: step 1: not forwarded: nothing reached dir01$'
expect_match "summary: findings by severity" "$TMP/sum" '^findings: 1 errors, 0 warnings, 0 notes$'
expect_match "summary: the finding's code" "$TMP/sum" '^  error: director-unpublished \(1\)$'
expect_match "summary: all decrypted" "$TMP/sum" '^TLS: 20 of 20 connections decrypted$'
"$LYNCFLOW" -r "$d/capture.pcap" >"$TMP/sum2" 2>&1
expect_match "summary without secrets: why nothing was decrypted" "$TMP/sum2" \
    '^TLS: 0 of 20 connections decrypted; not decrypted: 20, no key log or RSA key given'
"$LYNCFLOW" -r "$d/capture.pcap" -q >"$TMP/quiet" 2>&1
expect_eq "-q: no summary" "$(cat "$TMP/quiet")" ""
"$LYNCFLOW" -r "$d/capture.pcap" --json "$TMP/x.json" >"$TMP/nosum" 2>&1
expect_eq "an output option: no summary" "$(cat "$TMP/nosum")" ""

# Progress: on a terminal (script gives one), read at the capture's own pace so that it lasts.
d="$S/healthy-two-listeners"
if command -v script >/dev/null 2>&1; then
    script -qec "'$LYNCFLOW' -r '$d/capture.pcap' --realtime --json /dev/null" /dev/null >"$TMP/tty" 2>&1
    expect_match "a file read on a terminal shows its progress" "$TMP/tty" '[0-9]+% of [0-9.]+ MB, [0-9]+ MB/s'
    "$LYNCFLOW" -r "$d/capture.pcap" --realtime --json /dev/null 2>"$TMP/notty"
    expect_eq "no progress when stderr is not a terminal" "$(cat "$TMP/notty")" ""
fi

# SIGHUP: the file moved away (logrotate) gets the lines before it; a new one by the name the rest.
"$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" --keylog "$d/keylog.txt" --realtime \
    --json "$TMP/rot.json" 2>"$TMP/rot.err" &
pid=$!
i=0
until [ -s "$TMP/rot.json" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
mv "$TMP/rot.json" "$TMP/rot.json.1"
kill -HUP "$pid"
wait "$pid"
expect_eq "SIGHUP does not end the run" "$?" 0
"$LYNCFLOW" -r "$d/capture.pcap" -c "$d/topology.conf" --keylog "$d/keylog.txt" --json "$TMP/all.json" 2>/dev/null
expect_ge "lines before SIGHUP in the moved file" "$(wc -l <"$TMP/rot.json.1")" 1
expect_ge "lines after SIGHUP in the new file" "$(wc -l <"$TMP/rot.json")" 1
expect_eq "no line lost or doubled across the reopen" "$(cat "$TMP/rot.json.1" "$TMP/rot.json" | sort | md5sum)" \
    "$(sort "$TMP/all.json" | md5sum)"

# make install puts the binary and the man page in place.
make -s -C "$TOP" install DESTDIR="$TMP/dest" PREFIX=/usr >/dev/null 2>&1
expect_eq "make install: the binary" "$(test -x "$TMP/dest/usr/bin/lyncflow" && echo yes)" yes
expect_eq "make install: the man page" "$(test -f "$TMP/dest/usr/share/man/man1/lyncflow.1" && echo yes)" yes

# -w rotation, as tcpdump's -C, -W and -G; and SIGHUP opening the -w file again.
if [ -x "$TOP/build/tools/gencap" ] && command -v capinfos >/dev/null 2>&1; then
    mkdir -p "$TMP/rot"
    "$TOP/build/tools/gencap" tls "$TMP/rot/in.pcap" 300 40 "$TOP/tests/bench/tls-handshake.hex" >/dev/null 2>&1
    total=$("$TOP/build/tools/pcapread" "$TMP/rot/in.pcap" | cut -d' ' -f1)
    (cd "$TMP/rot" && "$LYNCFLOW" -r in.pcap -q -w c.pcap -C 1)
    n=$(ls "$TMP/rot"/c.pcap* | wc -l)
    expect_ge "-C 1: a 45 MB capture goes to many files" "$n" 40
    expect_eq "-C: the first file has the name given, the next ones a number" \
        "$(cd "$TMP/rot" && ls c.pcap c.pcap1 c.pcap2 | tr '\n' ' ')" "c.pcap c.pcap1 c.pcap2 "
    expect_eq "-C: every packet in one of the files" \
        "$(capinfos -c -M "$TMP/rot"/c.pcap* | awk '/Number of packets/ {s += $4} END {print s}')" "$total"
    big=$(for f in "$TMP/rot"/c.pcap*; do stat -c %s "$f"; done | sort -n | tail -1)
    expect_eq "-C: no file much past 1 MB" "$([ "$big" -le 1100000 ] && echo yes)" yes
    (cd "$TMP/rot" && "$LYNCFLOW" -r in.pcap -q -w r.pcap -C 1 -W 3)
    expect_eq "-W 3: a ring of three files" "$(cd "$TMP/rot" && ls r.pcap* | tr '\n' ' ')" "r.pcap0 r.pcap1 r.pcap2 "
    d="$S/healthy-two-listeners"
    (cd "$TMP/rot" && "$LYNCFLOW" -r "$d/capture.pcap" -q -w 'g-%H%M%S.pcap' -G 1)
    expect_ge "-G 1: a file a second of capture time, named by strftime" \
        "$(ls "$TMP/rot" | grep -cE '^g-[0-9]{6}\.pcap$')" 4
    "$LYNCFLOW" -r "$d/capture.pcap" -q -w x.pcap -W 2 >/dev/null 2>"$TMP/w.err"
    expect_eq "-W alone is a usage error" "$?" 2
    "$LYNCFLOW" -r "$d/capture.pcap" -q -C 1 >/dev/null 2>"$TMP/w.err"
    expect_eq "-C without -w is a usage error" "$?" 2
    # SIGHUP: the moved -w file keeps what came before, a new one by the name gets the rest.
    "$LYNCFLOW" -r "$d/capture.pcap" --realtime -q -w "$TMP/rot/h.pcap" 2>"$TMP/h.err" &
    pid=$!
    sleep 1.5
    mv "$TMP/rot/h.pcap" "$TMP/rot/h.pcap.1"
    kill -HUP "$pid"
    wait "$pid"
    expect_eq "SIGHUP: the run goes on to its end" "$?" 0
    a=$(capinfos -c -M "$TMP/rot/h.pcap.1" | awk '/Number of packets/ {print $4}')
    b=$(capinfos -c -M "$TMP/rot/h.pcap" | awk '/Number of packets/ {print $4}')
    expect_ge "SIGHUP: packets before it in the moved file" "$a" 1
    expect_ge "SIGHUP: packets after it in the new file" "$b" 1
    expect_eq "SIGHUP: no packet lost" "$((a + b))" "$("$TOP/build/tools/pcapread" "$d/capture.pcap" | cut -d' ' -f1)"
fi
