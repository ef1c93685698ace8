# The command-line contract: exit statuses and messages (design.md).
. "$(dirname "$0")/../lib.sh"

"$LYNCFLOW" >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "no input is a usage error (2)" "$rc" 2
expect_match "no input says what is missing" "$TMP/err" "nothing to read"

"$LYNCFLOW" -r x.pcap -i lo >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "-r with -i is a usage error" "$rc" 2

"$LYNCFLOW" --bogus >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "unknown option is a usage error" "$rc" 2
expect_match "unknown option is named" "$TMP/err" "unknown option --bogus"

"$LYNCFLOW" -r x.pcap --max-flows abc >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "--max-flows needs a number" "$rc" 2

"$LYNCFLOW" -r "$TMP/missing.pcap" >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "a missing capture exits 1" "$rc" 1
expect_match "a missing capture is named" "$TMP/err" "missing.pcap"
expect_eq "the message is one line" "$(wc -l <"$TMP/err" | tr -d ' ')" 1

"$LYNCFLOW" --help >"$TMP/out" 2>&1; rc=$?
expect_eq "--help exits 0" "$rc" 0
expect_match "--help shows usage" "$TMP/out" "^usage: lyncflow"
