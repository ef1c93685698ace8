#!/bin/sh
# Builds one libFuzzer binary per tests/fuzz/fuzz_*.c into build/fuzz, against
# the library compiled with clang, ASan and UBSan. FUZZ_SECONDS=N then runs
# each for N seconds on its seed corpus (tests/fuzz/corpus/<name>/).
set -e
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "fuzz: clang is needed (make deps)"; exit 1; }
make --no-print-directory BUILD=build/fuzzlib CC=clang OPT='-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' \
    LDFLAGS='-fsanitize=address,undefined' build/fuzzlib/liblyncflow.a >/dev/null
mkdir -p build/fuzz
flags=$(pkg-config --cflags libpcap openssl ncursesw libcgraph libgvc)
libs=$(pkg-config --libs libpcap openssl ncursesw libcgraph libgvc)
for src in tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    clang -O1 -g -std=c11 -D_GNU_SOURCE -Iinclude $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -o "build/fuzz/$name" "$src" build/fuzzlib/liblyncflow.a $libs -lpthread -lm
    echo "built build/fuzz/$name"
done
if [ -n "$FUZZ_SECONDS" ]; then
    for bin in build/fuzz/fuzz_*; do
        name=$(basename "$bin")
        mkdir -p "build/fuzz/corpus-$name"
        seeds="tests/fuzz/corpus/${name#fuzz_}"
        [ -d "$seeds" ] || seeds=
        echo "running $name for $FUZZ_SECONDS s"
        "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "build/fuzz/corpus-$name" $seeds
    done
fi
