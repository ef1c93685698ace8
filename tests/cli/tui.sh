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
        "cd '$TOP' && env LANG=C.UTF-8 TZ=UTC $*; echo \$? >'$TMP/$name.status'; echo TUI-EXITED; sleep 60"
}
# screen NAME: the pane's text into $TMP/NAME.screen
screen() { T capture-pane -p -t "$1" >"$TMP/$1.screen"; }
# wait_for NAME REGEX [TENTHS]: until the screen matches (default 10 s)
wait_for() {
    i=0
    while [ "$i" -lt "${3:-100}" ]; do
        screen "$1"
        grep -Eq -- "$2" "$TMP/$1.screen" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
keys() {
    n=$1
    shift
    for k in "$@"; do T send-keys -t "$n" "$k"; done
    sleep 0.4
    screen "$n"
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
