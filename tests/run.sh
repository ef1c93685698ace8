#!/bin/sh
# The one test harness: unit binaries (cmocka, TAP output) and tests/cli/*.sh
# scripts (TAP lines "ok - ..." / "not ok - ..."). Ends with "N passed, N failed".
# ONLY=pattern runs the matching tests alone; CORPUS=full widens corpus tests.
cd "$(dirname "$0")/.." || exit 2
export LYNCFLOW="$PWD/build/lyncflow"
export LYNCFLOW_SAN="$PWD/build/sanitize/lyncflow"
export SHARED="${SHARED:-$PWD/../shared}"
export TOP="$PWD"
export TZ=UTC
export CMOCKA_MESSAGE_OUTPUT=TAP
pass=0
fail=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count() { # name, output file, exit status
    p=$(grep -c '^ok ' "$2")
    f=$(grep -c '^not ok ' "$2")
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $1 exited with status $3" >>"$2"
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $1 ran no test" >>"$2"
    fi
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        echo "== $1: $p passed, $f failed"
        grep -v '^ok ' "$2" | sed 's/^/   /' | head -40
    else
        echo "== $1: $p passed"
    fi
}

for t in build/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    name=$(basename "$t")
    [ -n "$ONLY" ] && case "$name" in *$ONLY*) ;; *) continue ;; esac
    timeout 300 "$t" >"$log/$name" 2>&1
    count "$name" "$log/$name" $?
done

for t in tests/cli/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    [ -n "$ONLY" ] && case "$name" in *$ONLY*) ;; *) continue ;; esac
    timeout 600 sh "$t" >"$log/$name" 2>&1
    count "$name" "$log/$name" $?
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
