# The TUI in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen (issue 7).
#
# Reproduce one run by hand:
#   tmux new-session -d -s t -x 120 -y 40 "build/tools/tui_feed; echo \$? >/tmp/st; sleep 60"
#   tmux send-keys -t t Tab j Enter; tmux capture-pane -p -t t
. "$(dirname "$0")/../lib.sh"
skip_unless tmux
FEED="$TOP/build/tools/tui_feed"
SOCK="lyncflow-tui-$$"
T() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$TMP"' EXIT

# start NAME COLS ROWS CMD...: runs CMD in a new session; when it ends, its
# status goes to $TMP/NAME.status and the shell prints TUI-EXITED.
start() {
    name=$1 cols=$2 rows=$3
    shift 3
    rm -f "$TMP/$name.status"
    T new-session -d -s "$name" -x "$cols" -y "$rows" \
        "cd '$TOP' && export LANG=C.UTF-8 TZ=UTC && $*; echo \$? >'$TMP/$name.status'; echo TUI-EXITED; sleep 60"
}
# screen NAME: the pane's text into $TMP/NAME.screen
screen() { T capture-pane -p -t "$1" >"$TMP/$1.screen"; }
# settle NAME: until two captures 0.2 s apart agree (a redraw may be half way through the terminal)
settle() {
    i=0
    screen "$1"
    while [ "$i" -lt 10 ]; do
        cp "$TMP/$1.screen" "$TMP/$1.prev"
        sleep 0.2
        screen "$1"
        cmp -s "$TMP/$1.screen" "$TMP/$1.prev" && return 0
        i=$((i + 1))
    done
}
# wait_for NAME REGEX [TENTHS [now]]: until the screen matches (default 10 s), then settled unless "now"
wait_for() {
    i=0
    while [ "$i" -lt "${3:-100}" ]; do
        screen "$1"
        if grep -Eq -- "$2" "$TMP/$1.screen"; then
            [ "$4" = now ] || settle "$1"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
keys() {
    n=$1
    shift
    for k in "$@"; do T send-keys -t "$n" "$k"; done
    sleep 0.2
    settle "$n"
}
# quit_ok NAME DESC: q ends it with status 0 and the shell is back on the main screen
quit_ok() {
    T send-keys -t "$1" q
    wait_for "$1" "TUI-EXITED" 50
    expect_eq "$2: q exits with status 0" "$(cat "$TMP/$1.status" 2>/dev/null)" 0
    expect_eq "$2: alternate screen left" "$(T display-message -p -t "$1" '#{alternate_on}')" 0
    expect_nomatch "$2: nothing of the TUI is left on the screen" "$TMP/$1.screen" "Sign-ins|Ladder|Findings"
}

# --- a model filled by tests/tools/tui_feed, 120x40 ---
start feed 120 40 "$FEED"
wait_for feed "END OF INPUT"
expect_match "feed: header says the input ended" "$TMP/feed.screen" "lyncflow .*tui_feed.*END OF INPUT"
expect_match "feed: the list shows alice, complete, 10 steps" "$TMP/feed.screen" \
    "198\.51\.100\.7 +CONTOSO.alice +09:00:00 +homepool +complete +10"
expect_match "feed: the list shows bob failed" "$TMP/feed.screen" "203\.0\.113\.9 +CONTOSO.bob .*failed +2"
expect_match "feed: the newest sign-in is selected" "$TMP/feed.screen" "Ladder  #2 CONTOSO.bob"
expect_match "feed: findings pane" "$TMP/feed.screen" "error +director_unpublished +dirweb\.contoso\.com"
keys feed k
expect_match "feed: k selects alice" "$TMP/feed.screen" "Ladder  #1 CONTOSO.alice 198\.51\.100\.7  complete"
expect_match "feed: lanes client, both listeners, Director, Front End" "$TMP/feed.screen" \
    "client +lst-dir +lst-fe +Director +Front End"
expect_match "feed: servers under their roles" "$TMP/feed.screen" "dir01 +fe01"
expect_match "feed: Director step: arrow through the listener to the Director lane" "$TMP/feed.screen" \
    "^09:00:00\.105 +│─+┼─+▶│ +│ +POST /WebTicket/WebTicketService\.svc +401 +12ms"
expect_match "feed: Front End step: arrow to the last lane" "$TMP/feed.screen" \
    "^09:00:00\.315 +│─+┼─+▶│ +GET /abs/handler/C-0e8e-0e97\.lsabs +200"
expect_eq "feed: ten step rows" "$(grep -c '^09:00:00\.[0-9]* *│' "$TMP/feed.screen")" 10
keys feed Tab j j j j Enter
expect_match "feed: Enter opens details of step 5" "$TMP/feed.screen" "step +5 of 10  POST /WebTicket/WebTicketService\.svc"
expect_match "feed: details: NTLM type 3 with the user" "$TMP/feed.screen" "auth +NTLM  NTLM type 3  CONTOSO.alice"
expect_match "feed: details: TLS version and cipher" "$TMP/feed.screen" "TLS 1\.2  cipher ECDHE-RSA-AES256-GCM-SHA384"
expect_match "feed: details: certificate SANs" "$TMP/feed.screen" "SANs +dirweb\.contoso\.com, feweb\.contoso\.com"
keys feed Right PgDn
expect_match "feed: details scroll to the stitched back leg" "$TMP/feed.screen" \
    "back leg +10\.0\.0\.1:[0-9]+ -> 10\.0\.1\.10:4443  dir01 director"
expect_match "feed: back-leg timing" "$TMP/feed.screen" "timing +client -> proxy 09:00:00\.175; proxy -> server \+900us; server 9ms; proxy added 3ms"
keys feed Escape
expect_nomatch "feed: Esc closes the details" "$TMP/feed.screen" "Details"
keys feed / b o b Enter
expect_match "feed: the filter narrows the list to 1 of 2" "$TMP/feed.screen" 'Sign-ins  1 of 2  filter "bob"'
expect_nomatch "feed: alice is filtered out" "$TMP/feed.screen" "CONTOSO.alice"
keys feed / C-u 5 0 2 Enter
expect_match "feed: a status filters too" "$TMP/feed.screen" 'Sign-ins  1 of 2  filter "502"'
keys feed / C-u n o b o d y Enter
expect_match "feed: a filter that matches nothing says so" "$TMP/feed.screen" "no sign-in matches the filter"
keys feed Escape
expect_match "feed: Esc clears the filter" "$TMP/feed.screen" "Sign-ins  2 of 2"
keys feed '?'
expect_match "feed: ? shows the help" "$TMP/feed.screen" "p +pause updates"
keys feed x
expect_nomatch "feed: any key closes the help" "$TMP/feed.screen" "pause updates"
quit_ok feed "feed"

# --- 80x24, then a resize to 120x40 and back to 80x24 ---
start small 80 24 "$FEED"
wait_for small "END OF INPUT"
expect_eq "80x24: nothing drawn past 80 columns" "$(LC_ALL=C.UTF-8 wc -L <"$TMP/small.screen")" 80
expect_match "80x24: the list" "$TMP/small.screen" "203\.0\.113\.9 .*failed"
expect_match "80x24: the ladder with its roles" "$TMP/small.screen" "client .*Dir.* FE "
wait_for small "^ q quit \? help" 100
expect_match "80x24: the status line, once the stderr line has been shown" "$TMP/small.screen" "^ q quit \? help"
keys small f Enter
expect_match "80x24: f jumps to the failed step, Enter details it" "$TMP/small.screen" "step +2 of 2  POST .*\[failed here\]"
T resize-window -t small -x 120 -y 40
sleep 0.5
screen small
expect_match "resize to 120x40: the header spans the width" "$TMP/small.screen" "^ lyncflow .{90,}END OF INPUT"
expect_match "resize to 120x40: details still open" "$TMP/small.screen" "step +2 of 2"
T resize-window -t small -x 80 -y 24
sleep 0.5
screen small
expect_eq "resize back to 80x24: nothing past 80 columns" "$(LC_ALL=C.UTF-8 wc -L <"$TMP/small.screen")" 80
expect_match "resize back to 80x24: the header ends at column 80" "$TMP/small.screen" "^ lyncflow .{40,}END OF INPUT$"
quit_ok small "80x24"

# --- live: sign-ins appear while they happen; p freezes the screen ---
start live 120 40 "$FEED" -d 150 -n 3
wait_for live "CONTOSO.alice " 50
expect_match "live: the first sign-in shows while it runs" "$TMP/live.screen" "LIVE"
keys live p
cp "$TMP/live.screen" "$TMP/live.paused"
expect_match "live: p pauses" "$TMP/live.screen" "PAUSED"
sleep 1
screen live
expect_eq "live: the paused screen does not move" "$(grep -c '^.  *[0-9] ' "$TMP/live.screen")" \
    "$(grep -c '^.  *[0-9] ' "$TMP/live.paused")"
keys live p
wait_for live "END OF INPUT" 150
expect_match "live: after resuming every sign-in is there (nothing lost)" "$TMP/live.screen" "Sign-ins  6 of 6"
quit_ok live "live"

# --- signals: SIGTERM and Ctrl-C restore the terminal ---
start term 100 30 "$FEED" -d 300 -n 50
wait_for term "LIVE" 50
pid=$(pgrep -P "$(T display-message -p -t term '#{pane_pid}')" tui_feed)
kill -TERM "$pid"
wait_for term "TUI-EXITED" 50
expect_eq "SIGTERM: exit status 0" "$(cat "$TMP/term.status")" 0
expect_eq "SIGTERM: the alternate screen is left" "$(T display-message -p -t term '#{alternate_on}')" 0
expect_nomatch "SIGTERM: nothing of the TUI is left" "$TMP/term.screen" "Sign-ins|Ladder"
expect_match "SIGTERM: stderr written meanwhile comes back after the screen" "$TMP/term.screen" "tui_feed: [0-9]+ sign-ins fed"

start int 100 30 "$FEED" -d 300 -n 50
wait_for int "LIVE" 50
T send-keys -t int C-c
wait_for int "TUI-EXITED" 50
expect_eq "Ctrl-C: exit status 0" "$(cat "$TMP/int.status")" 0
expect_eq "Ctrl-C: the alternate screen is left" "$(T display-message -p -t int '#{alternate_on}')" 0
expect_nomatch "Ctrl-C: nothing of the TUI is left" "$TMP/int.screen" "Sign-ins|Ladder"

# --- lyncflow on the lab's healthy-two-listeners sample: what the TUI shows equals what --json says ---
S="$SAMPLES/healthy-two-listeners"
if [ ! -f "$S/capture.pcap" ]; then
    echo "ok - # SKIP samples/healthy-two-listeners not there"
    exit 0
fi
RUN="-r $S/capture.pcap -c $S/topology.conf --keylog $S/keylog.txt"
# shellcheck disable=SC2086
"$LYNCFLOW" $RUN --json "$TMP/h.json" 2>/dev/null
jq -r 'select(.type=="signin") | "\(.client|sub(":0$";"")) \(if .user == "" then "-" else .user end) \(.verdict) \(.steps)"' \
    "$TMP/h.json" >"$TMP/h.signins"
nsign=$(wc -l <"$TMP/h.signins" | tr -d ' ')
read -r c1 u1 v1 n1 <"$TMP/h.signins"
# the first step of the first sign-in: its client's first request on a listener
first=$(jq -r --arg c "$c1:" 'select(.type=="http" and (.client|startswith($c)) and .listener != null) |
    "\(.method) \(.uri)"' "$TMP/h.json" | head -1)
frames=$(tshark -r "$S/capture.pcap" 2>/dev/null | wc -l | tr -d ' ')
mkdir -p "$TMP/save"
start h 120 40 "cd '$TMP/save' && '$LYNCFLOW' $RUN --tui"
wait_for h "END OF INPUT"
expect_match "sample: header: the file" "$TMP/h.screen" "lyncflow │ file .*healthy-two-listeners/capture\.pcap"
expect_match "sample: header: packets as tshark counts them ($frames)" "$TMP/h.screen" "packets $frames  flows [0-9]+  drops 0"
expect_match "sample: header: decryption" "$TMP/h.screen" "TLS [0-9]+, decrypted [1-9]"
expect_match "sample: the list counts every sign-in of --json ($nsign)" "$TMP/h.screen" "Sign-ins  $nsign of $nsign"
while read -r c u v n; do
    expect_match "sample: list row $c $u $v $n" "$TMP/h.screen" \
        "$(printf '%s' "$c" | sed 's/\./\\./g') +$(printf '%s' "$u" | sed 's/[\\.]/./g') .* $v +$n( |$)"
done <"$TMP/h.signins"
keys h g
expect_match "sample: g selects the first sign-in" "$TMP/h.screen" "Ladder  #1 $(printf '%s' "$u1" | sed 's/[\\.]/./g') "
expect_match "sample: the ladder's roles" "$TMP/h.screen" "client +dir +fe +Director +Front End"
expect_match "sample: the servers of the topology under their roles" "$TMP/h.screen" "127\.0\.0\.10 +127\.0\.0\.11 +dir01 +fe01"
expect_match "sample: the first step is the client's first request ($first)" "$TMP/h.screen" \
    "^[0-9:.]+ +│─+┼─+▶│ +│ +$(printf '%s' "$first" | cut -c1-30 | sed 's/[.?]/./g')"
expect_eq "sample: one ladder row per step ($n1)" "$(grep -c '^[0-9][0-9]:[0-9][0-9]:[0-9.]* *│' "$TMP/h.screen")" \
    "$([ "$n1" -gt 23 ] && echo 23 || echo "$n1")"
keys h Tab Enter
expect_match "sample: Enter: details of step 1" "$TMP/h.screen" "step +1 of $n1  $(printf '%s' "$first" | cut -c1-30 | sed 's/[.?]/./g')"
expect_match "sample: details: the front connection to the listener" "$TMP/h.screen" "front +$c1:[0-9]+ -> 127\.0\.0\.10:443"
expect_match "sample: details: X-MS-Server-Fqdn" "$TMP/h.screen" "server +X-MS-Server-Fqdn: dir01\.contoso\.local"
expect_match "sample: details: TLS and cipher" "$TMP/h.screen" "TLS +TLS 1\.[23]  cipher [A-Z0-9_-]+ \(0x[0-9A-F]{4}\)"
keys h Right PgDn
expect_match "sample: details: the certificate's SANs" "$TMP/h.screen" "SANs +.*dirweb\.contoso\.com"
expect_match "sample: details: the stitched back leg to dir01" "$TMP/h.screen" "back leg +127\.0\.0\.2:[0-9]+ -> 127\.0\.1\.10:4443  dir01 director"
keys h Escape s
sleep 1
screen h
expect_match "sample: s says what it saved" "$TMP/h.screen" "saved [0-9]+ events to \./lyncflow-signin-1\.ndjson and [0-9]+ frames"
expect_eq "sample: s: the NDJSON has the sign-in's requests (and its back legs), no one else's" \
    "$(jq -r 'select(.type=="http") | .client | sub(":[0-9]+$";"")' "$TMP/save/lyncflow-signin-1.ndjson" | sort -u | tr '\n' ' ')" \
    "127.0.0.2 $c1 "
expect_eq "sample: s: the NDJSON ends with the sign-in" \
    "$(jq -r 'select(.type=="signin") | "\(.user) \(.steps) \(.verdict)"' "$TMP/save/lyncflow-signin-1.ndjson")" "$u1 $n1 $v1"
expect_ge "sample: s: as many requests as steps" "$(jcount "$TMP/save/lyncflow-signin-1.ndjson" ".type==\"http\" and (.client|startswith(\"$c1:\"))")" "$n1"
expect_eq "sample: s: the pcap holds only this client's connections and the proxy's back legs" \
    "$(tshark -r "$TMP/save/lyncflow-signin-1.pcap" -T fields -e ip.src 2>/dev/null | sort -u | grep -v '^127\.0\.[01]\.1[01]$' | tr '\n' ' ')" \
    "127.0.0.2 $c1 "
keys h / "$c1" Enter
nmatch=$(grep -c "^$c1 " "$TMP/h.signins")
expect_match "sample: a client filter narrows the list to its $nmatch sign-ins" "$TMP/h.screen" "Sign-ins  $nmatch of $nsign  filter \"$c1\""
nbob=$(grep -ci "^[^ ]* [^ ]*bob" "$TMP/h.signins")
keys h Escape / b o b Enter
expect_match "sample: a user filter narrows the list to bob's $nbob sign-in(s)" "$TMP/h.screen" "Sign-ins  $nbob of $nsign  filter \"bob\""
expect_nomatch "sample: ... and alice is gone" "$TMP/h.screen" "CONTOSO.alice"
quit_ok h "sample"

# A failing scenario: the Director's name is not published; f jumps to where the first sign-in failed.
D="$SAMPLES/director-unpublished"
DRUN="-r $D/capture.pcap -c $D/topology.conf --keylog $D/keylog.txt"
# shellcheck disable=SC2086
"$LYNCFLOW" $DRUN --json "$TMP/d.json" 2>/dev/null
dfailed=$(jcount "$TMP/d.json" '.type=="signin" and .verdict=="failed"')
read -r dsteps dstep <<DS
$(jq -r 'select(.type=="signin") | "\(.steps) \(.reason|capture("^step (?<n>[0-9]+)").n // 0)"' "$TMP/d.json" | head -1)
DS
dcode=$(jq -r 'select(.type=="finding") | .code' "$TMP/d.json" | head -1)
start d 120 40 "'$LYNCFLOW' $DRUN --tui"
wait_for d "END OF INPUT"
expect_eq "director-unpublished: the list shows the $dfailed failed sign-ins" "$(grep -c '^✗ .* failed ' "$TMP/d.screen")" "$dfailed"
expect_match "director-unpublished: the finding ($dcode)" "$TMP/d.screen" "error +$dcode "
keys d g f Enter
expect_match "director-unpublished: f and Enter: step $dstep of $dsteps, where it failed" "$TMP/d.screen" \
    "step +$dstep of $dsteps .*\\[failed here\\]"
expect_match "director-unpublished: nothing reached the Director: the back leg is dashed" "$TMP/d.screen" "┼╌+▶│"
quit_ok d "director-unpublished"

# The capture with its IIS logs: the details of a step say what the server's log has for it.
I="$SAMPLES/healthy-iis-logs"
IRUN="-r $I/capture.pcap -c $I/topology.conf --keylog $I/keylog.txt --iis-log dir01=$I/iis/dir01.log"
IRUN="$IRUN --iis-log fe01=$I/iis/fe01.log"
# the first sign-in's third step is its first WebTicket POST: the first such line of the Director's log
iwant=$(awk '/^#Fields:/ { for (i = 2; i <= NF; i++) c[$i] = i - 1; next } /^#/ { next }
    $c["cs-uri-stem"] == "/WebTicket/WebTicketService.svc" && $c["cs-method"] == "POST" {
        printf "dir01 logged %s.%s  win32 0x%08X", $c["sc-status"], $c["sc-substatus"], $c["sc-win32-status"]; exit }' \
    "$I/iis/dir01.log")
start ii 120 40 "'$LYNCFLOW' $IRUN --tui"
wait_for ii "END OF INPUT"
keys ii g Tab Down Down Enter
expect_match "IIS logs: details of step 3, the first WebTicket POST" "$TMP/ii.screen" \
    "step +3 of [0-9]+  POST /WebTicket/WebTicketService\.svc"
expect_match "IIS logs: details: what the Director's log has for it ($iwant)" "$TMP/ii.screen" "IIS log +$iwant "
quit_ok ii "IIS logs"

# 80x24 and a resize, under ASan/UBSan: nothing on stderr after q
start hs 80 24 "'$LYNCFLOW_SAN' $RUN --tui 2>'$TMP/hs.err'"
wait_for hs "END OF INPUT"
expect_eq "sample 80x24: nothing drawn past 80 columns" "$(LC_ALL=C.UTF-8 wc -L <"$TMP/hs.screen")" 80
expect_match "sample 80x24: the list" "$TMP/hs.screen" "Sign-ins  $nsign of $nsign"
expect_match "sample 80x24: the ladder's roles, short" "$TMP/hs.screen" "cli(ent)? +dir +fe +Dir +FE"
T resize-window -t hs -x 100 -y 30
keys hs f Enter
expect_match "sample resized to 100x30: details" "$TMP/hs.screen" "step +[0-9]+ of [0-9]+"
expect_eq "sample resized to 100x30: the header follows (its state ends at column 99)" \
    "$(head -1 "$TMP/hs.screen" | LC_ALL=C.UTF-8 wc -L)" 99
expect_ge "sample resized to 100x30: nothing past 100 columns" 100 "$(LC_ALL=C.UTF-8 wc -L <"$TMP/hs.screen")"
quit_ok hs "sample, sanitized"
expect_eq "sample, sanitized: stderr empty" "$(cat "$TMP/hs.err")" ""

# --- live on loopback: the sample replayed by tcpreplay while lyncflow -i lo --tui watches ---
# In a network namespace of its own (unshare -n), so nobody else's loopback sees the replay.
#   unshare -n sh -c 'ip link set lo up; (sleep 2; tcpreplay -i lo capture.pcap) & lyncflow -i lo -f ... --tui'
if ! command -v tcpreplay >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    echo "ok - # SKIP live: needs tcpreplay and unshare -n (root)"
    exit 0
fi
BPF="host 127.0.0.10 or host 127.0.0.11 or host 127.0.1.10 or host 127.0.1.11"
want=$(tcpdump -r "$S/capture.pcap" "$BPF" 2>/dev/null | wc -l | tr -d ' ')
cat >"$TMP/live.sh" <<LIVE
ip link set lo up
(sleep 2; tcpreplay -i lo --multiplier 0.5 '$S/capture.pcap' >'$TMP/replay.log' 2>&1; touch '$TMP/replayed') &
'$LYNCFLOW' -i lo -f '$BPF' -c '$S/topology.conf' --keylog '$S/keylog.txt' --tui
LIVE
start lv 120 40 "unshare -n sh '$TMP/live.sh'"
wait_for lv "LIVE" 50
expect_match "live: the header names the interface and filter" "$TMP/lv.screen" "live lo filter host 127\.0\.0\.10 or"
wait_for lv "^. +1 +$c1 " 150 now
if [ -f "$TMP/replayed" ]; then notok "live: the first sign-in shows while the replay still runs"; else
    ok "live: the first sign-in shows while the replay still runs"; fi
expect_match "live: ... and the header says LIVE" "$TMP/lv.screen" "LIVE"
i=0
while [ ! -f "$TMP/replayed" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
wait_for lv "packets $want " 50
expect_match "live: every packet of the replay counted ($want)" "$TMP/lv.screen" "packets $want  flows [0-9]+  drops 0"
wait_for lv "^. +1 +$c1 +$(printf '%s' "$u1" | sed 's/[\\.]/./g') .*complete" 100
expect_match "live: the first sign-in completes after its last steps" "$TMP/lv.screen" "^✓ +1 +$c1 "
quit_ok lv "live"
