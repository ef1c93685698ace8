# The diagram from the command line: --dot/--svg/--png read back by Graphviz itself, structure through gvpr,
# golden DOT on the lab samples, errors naming the file (issue 8). UPDATE=1 rewrites the golden files.
. "$(dirname "$0")/../lib.sh"
skip_unless dot
skip_unless gvpr
G="$TOP/tests/golden/dot"
GVPR="$TOP/tests/data/dot/structure.gvpr"
IIS="$SAMPLES/iis"
ART="date time cs-method cs-uri-stem cs-uri-query s-port cs-username cs(User-Agent) sc-status sc-substatus"
ART="$ART sc-win32-status time-taken"

valid_svg() { # FILE
    if command -v xmllint >/dev/null 2>&1; then xmllint --noout "$1"; else grep -q '</svg>' "$1"; fi
}
is_png() { # FILE
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}
# golden_cmp DESC GOT WANT: equal files; UPDATE=1 copies GOT over WANT.
golden_cmp() {
    if [ -n "$UPDATE" ]; then cp "$2" "$3"; ok "$1 (updated)"; return; fi
    if [ ! -f "$3" ]; then notok "$1: $3 missing (UPDATE=1 writes it)"; return; fi
    if cmp -s "$2" "$3"; then ok "$1"; else notok "$1"; diff "$3" "$2" | head -20 | sed 's/^/#   /'; fi
}

# gvpr reads the golden DOT of the unit tests' hand-built models the way lyncflow meant it.
gvpr -f "$GVPR" "$G/healthy-model.dot" >"$TMP/hm" 2>"$TMP/hm.err"
expect_eq "healthy model: listener -> server paths through gvpr" "$(grep '^path' "$TMP/hm")" \
"path listener:public-dir -> server:dir01 used style= color=gray25 codes= \
names=lyncdiscover.contoso.com,dirweb.contoso.com,meet.contoso.com
path listener:public-fe -> server:fe01 used style= color=gray25 codes= names=feweb.contoso.com"
expect_eq "healthy model: names on each listener through gvpr" "$(grep '^listener' "$TMP/hm")" \
"listener listener:public-dir 203.0.113.10:443 names=dialin.contoso.com,dirweb.contoso.com,\
lyncdiscover.contoso.com,meet.contoso.com
listener listener:public-fe 203.0.113.11:443 names=feweb.contoso.com"
gvpr -f "$GVPR" "$G/broken-model.dot" >"$TMP/bm" 2>"$TMP/bm.err"
expect_eq "broken model: dashed unused path, red failing paths with codes" "$(grep '^path' "$TMP/bm")" \
"path listener:public-dir -> server:dir01 unused style=dashed color=gray25 codes= names=dirweb.contoso.com
path listener:public-dir -> server:fe01 failing style= color=red codes=director-unpublished,wrong-pool \
names=dirweb.contoso.com
path listener:public-dir -> server:(none) failing style= color=red codes=no-backend names=lyncdiscover.contoso.com
path listener:public-fe -> server:fe01 used style= color=gray25 codes= names=feweb.contoso.com"
expect_eq "gvpr: no complaint" "$(cat "$TMP/hm.err" "$TMP/bm.err")" ""

# Any run: the three outputs, accepted by Graphviz, stderr clean.
"$LYNCFLOW" --iis-log director="$IIS/director-article.log" --iis-log frontend="$IIS/frontend-article.log" \
    --iis-fields "$ART" -c "$TOP/tests/data/topology/good.conf" --dot "$TMP/i.dot" --svg "$TMP/i.svg" \
    --png "$TMP/i.png" >"$TMP/i.out" 2>"$TMP/i.err"
expect_eq "iis logs: exit 0" "$?" 0
expect_eq "iis logs: nothing on stderr" "$(cat "$TMP/i.err")" ""
check "iis logs: dot -Tsvg accepts the DOT" dot -Tsvg -o "$TMP/i2.svg" "$TMP/i.dot"
expect_match "iis logs: the DOT is lyncflow's digraph" "$TMP/i.dot" '^digraph lyncflow \{'
check "iis logs: the SVG is well-formed" valid_svg "$TMP/i.svg"
check "iis logs: the PNG is a PNG" is_png "$TMP/i.png"
"$LYNCFLOW" --iis-log director="$IIS/director-article.log" --iis-fields "$ART" -c "$TOP/tests/data/topology/good.conf" \
    --dot - >"$TMP/s.dot" 2>"$TMP/s.err"
expect_eq "--dot -: the same DOT on stdout" "$(grep -c '^digraph lyncflow' "$TMP/s.dot")" 1

# Rendering goes through fontconfig, whose caches outlive the process: only the DOT runs under the sanitizers.
check "sanitized: --dot runs clean" "$LYNCFLOW_SAN" --iis-log director="$IIS/director-article.log" --iis-fields "$ART" \
    -c "$TOP/tests/data/topology/good.conf" --dot "$TMP/san.dot"
expect_eq "sanitized: the same DOT as --dot -" "$(cat "$TMP/san.dot")" "$(cat "$TMP/s.dot")"

# A file that cannot be written: exit 1, one line naming it; the other outputs are not affected.
"$LYNCFLOW" --iis-log director="$IIS/director-article.log" --iis-fields "$ART" --dot "$TMP/ok.dot" \
    --svg "$TMP/no/such/dir/x.svg" >"$TMP/e.out" 2>"$TMP/e.err"
expect_eq "unwritable svg: exit 1" "$?" 1
expect_eq "unwritable svg: one line naming the file" "$(cat "$TMP/e.err")" \
    "lyncflow: $TMP/no/such/dir/x.svg: cannot write the diagram: No such file or directory"
expect_match "unwritable svg: the DOT was still written" "$TMP/ok.dot" '^digraph lyncflow'

# The lab samples: every one drawn, read back, and its structure compared; full DOT for one healthy, one broken.
n=0
for d in "$SAMPLES"/*/; do
    s=$(basename "$d")
    [ -f "$d/capture.pcap" ] && [ -f "$d/topology.conf" ] || continue
    n=$((n + 1))
    set -- -r "$d/capture.pcap" -c "$d/topology.conf"
    [ -f "$d/keylog.txt" ] && set -- "$@" --keylog "$d/keylog.txt"
    [ -f "$d/server-key.pem" ] && set -- "$@" --rsa-key "$d/server-key.pem"
    "$LYNCFLOW" "$@" --dot "$TMP/$s.dot" --svg "$TMP/$s.svg" --png "$TMP/$s.png" >/dev/null 2>"$TMP/$s.err"
    expect_eq "$s: exit 0" "$?" 0
    expect_nomatch "$s: no Graphviz message on stderr" "$TMP/$s.err" '^(Warning|Error)|[Ff]ontconfig'
    check "$s: dot -Tsvg accepts the DOT" dot -Tsvg -o "$TMP/$s.2.svg" "$TMP/$s.dot"
    check "$s: the SVG is well-formed" valid_svg "$TMP/$s.svg"
    check "$s: the PNG is a PNG" is_png "$TMP/$s.png"
    check "$s: sanitized --dot runs clean" "$LYNCFLOW_SAN" "$@" --dot "$TMP/$s.san.dot"
    gvpr -f "$GVPR" "$TMP/$s.dot" >"$TMP/$s.structure"
    golden_cmp "$s: listeners, their names, servers and paths (gvpr)" "$TMP/$s.structure" "$G/$s.structure"
    case "$s" in
    healthy-two-listeners | director-unpublished)
        golden_cmp "$s: golden DOT" "$TMP/$s.dot" "$G/$s.dot"
        ;;
    esac
done
[ "$n" -gt 0 ] || ok "# SKIP no lab samples in $SAMPLES yet"

# What the scenarios must show, written by hand: UPDATE=1 does not touch these.
paths() { # SCENARIO: "tail -> head state" of every listener -> server edge
    [ -f "$TMP/$1.structure" ] && grep '^path' "$TMP/$1.structure" | cut -d' ' -f2-5
}
if [ -f "$SAMPLES/healthy-two-listeners/capture.pcap" ]; then
    s=healthy-two-listeners
    expect_eq "$s: the article's two paths, Director names to the Director, Front End to the Front End" "$(paths $s)" \
"listener:listener-dir -> server:dir01 used
listener:listener-fe -> server:fe01 used"
    want='names=dialin.contoso.com,dirweb.contoso.com,lyncdiscover.contoso.com,meet.contoso.com$'
    expect_match "$s: the Director listener served its name and the simple URLs" "$TMP/$s.structure" \
        "^listener listener:listener-dir 127.0.0.10:443 $want"
    expect_match "$s: the Front End listener served the pool's name alone" "$TMP/$s.structure" \
        '^listener listener:listener-fe 127.0.0.11:443 names=feweb.contoso.com$'
    expect_match "$s: server roles" "$TMP/$s.structure" '^server server:dir01 director 127.0.1.10:4443 fqdn=dirweb'
    expect_nomatch "$s: nothing red, nothing dashed" "$TMP/$s.dot" 'color=red|style=dashed'
    check "$s: the README's diagram.png is a PNG" is_png "$SAMPLES/$s/diagram.png"
    expect_match "$s: the README shows it" "$TOP/README.md" "\(samples/$s/diagram.png\)"
    s=director-unpublished
    expect_eq "$s: the Director's path fails, the unused Front End path is dashed" "$(paths $s)" \
"listener:listener-dir -> server:dir01 failing
listener:listener-fe -> server:fe01 unused"
    expect_match "$s: red with its finding code" "$TMP/$s.structure" \
        '^path listener:listener-dir -> server:dir01 failing style= color=red codes=[a-z,-]*director-unpublished'
    s=frontend-unpublished
    expect_match "$s: the Front End's path fails" "$TMP/$s.structure" \
        '^path listener:listener-fe -> server:fe01 failing style= color=red codes=[a-z,-]*frontend-unpublished'
    s=simple-urls-to-frontend
    expect_match "$s: meet and dialin reach the Front End from the Director's listener" "$TMP/$s.structure" \
        '^path listener:listener-dir -> server:fe01 .*names=.*(meet|dialin).contoso.com'
    s=san-missing
    expect_match "$s: the name left out of the certificate fails on one listener" "$TMP/$s.structure" \
        '^path listener:listener-all -> server:fe01 failing .*codes=[a-z,-]*san-mismatch'
fi
