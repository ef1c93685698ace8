# The habits kept by a tool: banned functions, file summaries, no unfinished-work markers.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
SRC="src/*.c src/*/*.c dissectors/*.c include/lyncflow/*.h"

# Functions that invite overflows or silent truncation in parsers (curl's list).
grep -nE '(^|[^_a-zA-Z0-9])(sprintf|vsprintf|strcat|strcpy|strncpy|strtok|sscanf|atoi|atol|atoll|strtol|strtoul|strtoll|strtoull|gets)[[:space:]]*\(' \
    $SRC >"$TMP/banned" 2>/dev/null
expect_eq "no banned function in the sources" "$(cat "$TMP/banned")" ""

# Every source file and header opens with a comment that says its job.
: >"$TMP/nosummary"
for f in $SRC; do
    head -n 1 "$f" | grep -q '^/\*' || echo "$f" >>"$TMP/nosummary"
done
expect_eq "every file opens with its summary" "$(cat "$TMP/nosummary")" ""

# Each dissector names its specification in its opening comment.
: >"$TMP/norfc"
for f in dissectors/*.c; do
    [ "$f" = dissectors/registry.c ] && continue
    head -n 12 "$f" | grep -qE 'RFC|MS-[A-Z]+|protocol\.txt|specification' || echo "$f" >>"$TMP/norfc"
done
expect_eq "every dissector names its specification" "$(cat "$TMP/norfc")" ""

grep -nE 'TODO|FIXME|XXX' $SRC >"$TMP/markers" 2>/dev/null
expect_eq "no unfinished-work markers" "$(cat "$TMP/markers")" ""

# Lines within 120 columns.
awk 'length($0) > 120 {print FILENAME ":" FNR}' $SRC >"$TMP/long"
expect_eq "lines within 120 columns" "$(head -5 "$TMP/long")" ""

# Both compilers build it without warnings.
if command -v clang >/dev/null 2>&1; then
    check "clang builds it with -Werror" make -s -C "$TOP" BUILD=build/clang CC=clang all
fi
