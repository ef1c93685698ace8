# Helpers for tests/cli/*.sh: each check prints one TAP line.
# Sourced with LYNCFLOW, LYNCFLOW_SAN, SHARED and TOP set by tests/run.sh.
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${LYNCFLOW:=$TOP/build/lyncflow}"
: "${LYNCFLOW_SAN:=$TOP/build/sanitize/lyncflow}"
: "${SHARED:=$TOP/../shared}"
SAMPLES="$TOP/samples"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }

# check DESC CMD...: passes when CMD exits 0.
check() {
    d=$1
    shift
    if "$@" >"$TMP/.out" 2>&1; then ok "$d"; else
        notok "$d"
        sed 's/^/#   /' "$TMP/.out" | head -20
    fi
}
# expect_eq DESC GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi
}
# expect_ge DESC GOT MIN (numbers, decimals allowed)
expect_ge() {
    if awk -v a="$2" -v b="$3" 'BEGIN{exit !(a+0 >= b+0)}'; then ok "$1 ($2 >= $3)"; else notok "$1 ($2 < $3)"; fi
}
# expect_match DESC FILE REGEX: FILE has a line matching the extended regex.
expect_match() {
    if grep -Eq -- "$3" "$2"; then ok "$1"; else notok "$1"; echo "#   no line matches: $3"; head -20 "$2" | sed 's/^/#   /'; fi
}
expect_nomatch() {
    if grep -Eq -- "$3" "$2"; then notok "$1"; grep -E -- "$3" "$2" | head -5 | sed 's/^/#   /'; else ok "$1"; fi
}
# jcount FILE JQ-FILTER: how many NDJSON objects of FILE the select() filter keeps.
jcount() { jq -c "select($2)" "$1" | wc -l | tr -d ' '; }
skip_unless() { command -v "$1" >/dev/null 2>&1 || { echo "ok - # SKIP $1 not installed"; exit 0; }; }
