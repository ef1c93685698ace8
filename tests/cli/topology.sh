# The topology file from the command line: malformed files exit 2 with FILE:LINE, --print-topology (issue 5).
. "$(dirname "$0")/../lib.sh"
D="$TOP/tests/data/topology"
IIS="$SAMPLES/iis"
ART="date time cs-method cs-uri-stem cs-uri-query s-port cs-username cs(User-Agent)"
ART="$ART sc-status sc-substatus sc-win32-status time-taken"

"$LYNCFLOW" --iis-log "$IIS/director-article.log" --iis-fields "$ART" -c "$D/unknown-key.conf" >"$TMP/o" 2>"$TMP/e"
expect_eq "unknown key: exit 2" "$?" 2
expect_eq "unknown key: one line naming file:line" "$(cat "$TMP/e")" \
    "lyncflow: $D/unknown-key.conf:7: unknown key 'port' in [server dir01] (want role, address, fqdn)"
expect_eq "unknown key: nothing on stdout" "$(wc -c <"$TMP/o" | tr -d ' ')" 0

"$LYNCFLOW" --iis-log "$IIS/director-article.log" --iis-fields "$ART" -c "$D/bad-role.conf" >"$TMP/o" 2>"$TMP/e"
expect_eq "bad role: exit 2" "$?" 2
expect_match "bad role: file:line and the value" "$TMP/e" "bad-role.conf:3: unknown role 'directory'"

"$LYNCFLOW" --iis-log "$IIS/director-article.log" --iis-fields "$ART" -c "$TMP/none.conf" >"$TMP/o" 2>"$TMP/e"
expect_eq "missing file: exit 2" "$?" 2
expect_match "missing file: named" "$TMP/e" "none.conf: cannot open topology"

# A good file is printed back as it was read (comments aside), and reads again.
"$LYNCFLOW" --iis-log "$IIS/director-article.log" --iis-fields "$ART" -c "$D/good.conf" --print-topology \
    >"$TMP/p.conf" 2>"$TMP/e"
expect_eq "good: exit 0" "$?" 0
expect_eq "good: printed as read" "$(grep -v '^#' "$TMP/p.conf" | grep -v '^$')" \
    "$(grep -v '^#' "$D/good.conf" | grep -v '^$')"
"$LYNCFLOW" --iis-log "$IIS/director-article.log" --iis-fields "$ART" -c "$TMP/p.conf" --print-topology \
    >"$TMP/p2.conf" 2>"$TMP/e"
expect_eq "good: the printed file reads back the same" "$(cat "$TMP/p2.conf")" "$(cat "$TMP/p.conf")"

check "sanitized: malformed files exit 2 cleanly" sh -c \
    "'$LYNCFLOW_SAN' --iis-log '$IIS/director-article.log' --iis-fields '$ART' -c '$D/unknown-key.conf' 2>/dev/null;
     test \$? = 2"
