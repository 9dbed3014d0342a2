#!/usr/bin/env bash
# report_cli.sh - scenario tests of `wings report` and `wings demo`
#
#   bash tests/scenario/report_cli.sh build/wings
#
# Builds a known data set on two county offices (throw-away nodes at the
# test KDF, so each unlock is fast), syncs both to a regional HQ
# over loopback, and asserts the HQ's report exactly, figures worked out by
# hand from the definitions in store/report.c and CLI.md "Audit and reports":
#
#   office A, county 450224: persons P1..P4
#     placements  P1 active 3000 enterprise, P1 active 2000 online,
#                 P2 active 4000 enterprise, P3 ENDED 5000 enterprise
#     trainings   P1 ecommerce_live certified, P2 ecommerce_live completed,
#                 P3 ecommerce_live enrolled, P4 handicraft dropped
#   office B, county 450225: persons Q1..Q3
#     placements  Q1 active 2500 online, Q2 active 3600 self_employed
#     trainings   Q1 customer_service certified, Q3 customer_service certified
#   HQ 450000 (role hq)
#
#   Everyone is born 1990-01-01, so of working age (16-59); the rate is
#   working_age_employed / working_age, two decimals; a person counts once
#   in every table (employment_type: of the placement started last, ties to
#   the higher income; category: of the course started last).
#   by county:  450224  4 persons, 2 employed (50.00%), 2 trained, 1 certified,
#                       3 active placements, median of 2000 3000 4000 = 3000
#                       (the ended 5000 not)
#               450225  3 persons, 2 employed (66.67%), 2 trained, 2 certified,
#                       2 placements, median of 2500 3600 = 3050
#               total   7, 4 (57.14%), 4, 3, 5, median of five = 3000
#   by employment_type: enterprise P1 P2, online Q1, self_employed Q2,
#               (none) P3 P4 Q3; by category: customer_service Q1 Q3,
#               ecommerce_live P1 P2 P3, handicraft P4, (none) Q2
#
# Then: JSON, CSV (CRLF), the aligned text table and the SVG chart on the HQ
# (through its serving daemon and again after it stopped); office A reports
# only its own county; `wings demo` runs to the end within 60 s, narrates
# sync, report and audit, leaves no process and no folder behind; help texts.
#
# Prints one line per check and ends with "N passed, 0 failed"; exits 1
# naming every failed check. Known bugs are XFAIL lines, counted apart.
# Needs jq; uses xmllint (else python3) to parse the SVG. The harness (nodes,
# ports, daemons, run/expect/check, the summary) is lib.sh.
set -euo pipefail
LIB_PASSPHRASE='Juniper-8r-signal-marble-27' # every node's passphrase
# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

LEFT_PIDS="" # processes a demo left behind: ours to end
# end_pids PID...: SIGTERM each (by id), then wait up to 10 s for them to go.
end_pids() {
    local p i
    for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "$@"; do
        for ((i = 0; i < 100; i++)); do
            [[ -e /proc/$p ]] || break
            sleep 0.1
        done
    done
}
# shellcheck disable=SC2016 # expanded at exit
on_cleanup 'end_pids $LEFT_PIDS'

CA=450224                          # office A's county
CB=450225                          # office B's county
CHQ=450000                         # the HQ: every 45xxxx

# ---- helpers ----------------------------------------------------------------

# report_node NAME COUNTY ROLE: new_node, then a check that `id` prints the
# identity with the port it was given.
report_node() {
    new_node "$@"
    on "$1" id
    expect "setup: $1 id prints NAME KEY ENDPOINT" rc=0 \
        "out~^$1 [^ ]+ tcp://127\\.0\\.0\\.1:${PORT_OF[$1]}\$"
}

# person VAR NAME NODE COUNTY SERIAL: a person of COUNTY born 1990-01-01.
person() {
    local num
    num=$(idnum "${4}19900101$5")
    add_ok "$1" "setup: person $2 ($4)" "$3" person name="$2" id_number="$num" \
        birth_date=1990-01-01 disability_category=physical
}
# placement NAME NODE PERSON STATUS INCOME TYPE
placement() {
    local end=()
    [[ $4 == ended ]] && end=(end_date=2026-02-28)
    add_ok _ "setup: placement $1" "$2" placement person_id="$3" \
        employer="Test Employer $1" employment_type="$6" \
        start_date=2026-01-05 "${end[@]}" monthly_income="$5" status="$4"
}
# training NAME NODE PERSON CATEGORY OUTCOME
training() {
    add_ok _ "setup: training $1" "$2" training person_id="$3" course="Course $1" \
        category="$4" start_date=2025-09-01 outcome="$5"
}

# aligned FILE: every line of FILE has its cells (runs of non-spaces) start
# at the same columns as the first line's, and as many of them.
aligned() {
    awk '
        { s = ""
          for (i = 1; i <= length($0); i++)
              if (substr($0, i, 1) != " " && (i == 1 || substr($0, i - 1, 1) == " "))
                  s = s " " i
          if (NR == 1) first = s
          else if (s != first) bad = 1 }
        END { exit (NR > 1 && !bad) ? 0 : 1 }' "$1"
}

# xml_ok FILE: FILE parses as XML (xmllint, else python3; else the root
# element is checked by hand and a note printed).
xml_ok() {
    if command -v xmllint >/dev/null; then
        xmllint --noout "$1" 2>/dev/null
    elif command -v python3 >/dev/null; then
        python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" 2>/dev/null
    else
        echo "note: neither xmllint nor python3: no XML parser check of $1;" \
            "only its root element and balanced tags"
        grep -q '<svg[ >]' "$1" && [[ $(tail -n 1 "$1") == "</svg>" ]] &&
            balanced "$1" svg g text title rect line
    fi
}
# balanced FILE TAG...: each TAG is opened (not self-closed) as often as it is
# closed in FILE.
balanced() {
    local f=$1 tag open close
    shift
    for tag in "$@"; do
        open=$(grep -oE "<$tag( [^>]*)?>" "$f" | grep -cv '/>$' || true)
        close=$(grep -oF "</$tag>" "$f" | wc -l)
        [[ $open -eq $close ]] || return 1
    done
}
count_of() { grep -o -F -- "$2" "$1" | wc -l | tr -d ' '; }

# procs_with STR: pids of processes whose command line contains STR.
procs_with() {
    local d cmd
    for d in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
        [[ $cmd == *"$1"* ]] && echo "${d#/proc/}"
    done
    return 0
}

# ===========================================================================
section "0. helpers"

check "idnum gives 11010519491231002 its X" \
    same_text "$(idnum 11010519491231002)" 11010519491231002X
check "idnum gives 45022419880808107 its X" \
    same_text "$(idnum 45022419880808107)" 45022419880808107X

# ===========================================================================
section "1. the data set: two offices, one HQ, synced"

report_node a "$CA" office
report_node b "$CB" office
report_node hq "$CHQ" hq
read -r _ KEY_A END_A <<<"${IDL[a]}"
read -r _ KEY_B END_B <<<"${IDL[b]}"
read -r _ KEY_HQ END_HQ <<<"${IDL[hq]}"
on a peer add hq "$KEY_HQ" "$END_HQ"
expect "setup: a trusts hq" rc=0
on b peer add hq "$KEY_HQ" "$END_HQ"
expect "setup: b trusts hq" rc=0
on hq peer add a "$KEY_A" "$END_A"
expect "setup: hq trusts a" rc=0
on hq peer add b "$KEY_B" "$END_B"
expect "setup: hq trusts b" rc=0

person P1 P1 a "$CA" 001
person P2 P2 a "$CA" 002
person P3 P3 a "$CA" 003
person P4 P4 a "$CA" 004
placement P1-enterprise a "$P1" active 3000 enterprise
placement P1-online a "$P1" active 2000 online
placement P2-enterprise a "$P2" active 4000 enterprise
placement P3-enterprise a "$P3" ended 5000 enterprise
training P1 a "$P1" ecommerce_live certified
training P2 a "$P2" ecommerce_live completed
training P3 a "$P3" ecommerce_live enrolled
training P4 a "$P4" handicraft dropped

person Q1 Q1 b "$CB" 011
person Q2 Q2 b "$CB" 012
person Q3 Q3 b "$CB" 013
placement Q1-online b "$Q1" active 2500 online
placement Q2-self b "$Q2" active 3600 self_employed
training Q1 b "$Q1" customer_service certified
training Q3 b "$Q3" customer_service certified

start_daemon hq --interval 3600 || true
check "hq serve --interval 3600: its control socket appears" test -e "$T/hq/wings.ctl"

# A, then B, then A again: the HQ holds B's county by then, and must not
# pass it to A (an office's scope is its own county).
for node in a b a; do
    on "$node" sync
    expect "$node sync with the serving hq: exit 0, one ok line" rc=0 \
        "out~^hq ok sent=[0-9]+ received=[0-9]+\$"
done

# ===========================================================================
section "2. the HQ's report (through its serving daemon)"

J_A='{"county":"450224","name":null,"persons":4,"working_age":4,"working_age_employed":2,"employment_rate":50.00,"employed":2,"trained":2,"certified":1,"placements":3,"median_monthly_income":3000}'
J_B='{"county":"450225","name":null,"persons":3,"working_age":3,"working_age_employed":2,"employment_rate":66.67,"employed":2,"trained":2,"certified":2,"placements":2,"median_monthly_income":3050}'
J_T='{"county":"total","name":null,"persons":7,"working_age":7,"working_age_employed":4,"employment_rate":57.14,"employed":4,"trained":4,"certified":3,"placements":5,"median_monthly_income":3000}'
J_COUNTY="[$J_A,$J_B,$J_T]"
J_TYPE='[{"employment_type":"enterprise","persons":2,"working_age":2,"working_age_employed":2,"employment_rate":100.00,"employed":2,"trained":2,"certified":1,"placements":3,"median_monthly_income":3000},{"employment_type":"online","persons":1,"working_age":1,"working_age_employed":1,"employment_rate":100.00,"employed":1,"trained":1,"certified":1,"placements":1,"median_monthly_income":2500},{"employment_type":"self_employed","persons":1,"working_age":1,"working_age_employed":1,"employment_rate":100.00,"employed":1,"trained":0,"certified":0,"placements":1,"median_monthly_income":3600},{"employment_type":null,"persons":3,"working_age":3,"working_age_employed":0,"employment_rate":0.00,"employed":0,"trained":1,"certified":1,"placements":0,"median_monthly_income":null},{"employment_type":"total","persons":7,"working_age":7,"working_age_employed":4,"employment_rate":57.14,"employed":4,"trained":4,"certified":3,"placements":5,"median_monthly_income":3000}]'
J_CAT='[{"category":"customer_service","persons":2,"working_age":2,"working_age_employed":1,"employment_rate":50.00,"employed":1,"trained":2,"certified":2,"placements":1,"median_monthly_income":2500},{"category":"ecommerce_live","persons":3,"working_age":3,"working_age_employed":2,"employment_rate":66.67,"employed":2,"trained":2,"certified":1,"placements":3,"median_monthly_income":3000},{"category":"handicraft","persons":1,"working_age":1,"working_age_employed":0,"employment_rate":0.00,"employed":0,"trained":0,"certified":0,"placements":0,"median_monthly_income":null},{"category":null,"persons":1,"working_age":1,"working_age_employed":1,"employment_rate":100.00,"employed":1,"trained":0,"certified":0,"placements":1,"median_monthly_income":3600},{"category":"total","persons":7,"working_age":7,"working_age_employed":4,"employment_rate":57.14,"employed":4,"trained":4,"certified":3,"placements":5,"median_monthly_income":3000}]'

on hq --json report
expect "hq --json report: exactly the hand-computed rows and total" rc=0 \
    err-empty "out=$J_COUNTY"
on hq --json report --by county
expect "hq --json report --by county: the same as the default" rc=0 \
    "out=$J_COUNTY"


# cells FILE: FILE's lines after the first (the caption: as of which date,
# working age) with their cells separated by one space.
cells() { tail -n +2 "$1" | awk '{ $1 = $1; print }'; }
# cells_are FILE LINE...: FILE's lines, cells separated by one space, are
# exactly these.
cells_are() {
    local f=$1
    shift
    [[ $(cells "$f") == "$(printf '%s\n' "$@")" ]]
}
# table_aligned FILE: the table below the caption line is aligned.
table_aligned() { tail -n +2 "$1" >"$T/table-only"; aligned "$T/table-only"; }
FIG=persons,working_age,working_age_employed,employment_rate,employed,trained,certified,placements,median_monthly_income
HEAD_COUNTY=county,name,$FIG
ROWS_COUNTY=("450224,,4,4,2,50.00,2,2,1,3,3000" "450225,,3,3,2,66.67,2,2,2,2,3050"
    "total,,7,7,4,57.14,4,4,3,5,3000")
TEXT_COUNTY=("450224 - 4 4 2 50.00 2 2 1 3 3000" "450225 - 3 3 2 66.67 2 2 2 2 3050"
    "total - 7 7 4 57.14 4 4 3 5 3000")

on hq report --csv
expect "hq report --csv: exit 0, nothing on stderr" rc=0 err-empty
check "hq report --csv: header and rows exactly, CRLF line ends" \
    is_crlf_lines "$T/out" "$HEAD_COUNTY" "${ROWS_COUNTY[@]}"
on hq report --by category --csv
check "hq report --by category --csv: exactly, CRLF line ends" \
    is_crlf_lines "$T/out" "category,$FIG" \
    customer_service,2,2,1,50.00,1,2,2,1,2500 ecommerce_live,3,3,2,66.67,2,2,1,3,3000 \
    handicraft,1,1,0,0.00,0,0,0,0, ,1,1,1,100.00,1,0,0,1,3600 \
    total,7,7,4,57.14,4,4,3,5,3000

on hq --json report --by employment_type
expect "hq --json report --by employment_type: exactly" rc=0 err-empty \
    "out=$J_TYPE"
on hq --json report --by category
expect "hq --json report --by category: exactly" rc=0 err-empty \
    "out=$J_CAT"

on hq report
expect "hq report (text): exit 0, nothing on stderr" rc=0 err-empty
cp -- "$T/out" "$T/table-county"
check "hq report (text): a caption naming the date and working age" \
    grep -qxE 'as of [0-9]{4}-[0-9]{2}-[0-9]{2} \(the records as they are\), working age 16-59' \
    <(head -n 1 "$T/table-county")
check "hq report (text): header, one row per county, the total row; exact cells" \
    cells_are "$T/table-county" "${HEAD_COUNTY//,/ }" "${TEXT_COUNTY[@]}"
check "hq report (text): every column starts at the same position on every line" \
    table_aligned "$T/table-county"
on hq report --by employment_type
check "hq report --by employment_type (text): exact cells" \
    cells_are "$T/out" "employment_type ${FIG//,/ }" \
    "enterprise 2 2 2 100.00 2 2 1 3 3000" "online 1 1 1 100.00 1 1 1 1 2500" \
    "self_employed 1 1 1 100.00 1 0 0 1 3600" "(none) 3 3 0 0.00 0 1 1 0 -" \
    "total 7 7 4 57.14 4 4 3 5 3000"
check "hq report --by employment_type (text): columns aligned" table_aligned "$T/out"
on hq report --by category
check "hq report --by category (text): exact cells" \
    cells_are "$T/out" "category ${FIG//,/ }" \
    "customer_service 2 2 1 50.00 1 2 2 1 2500" "ecommerce_live 3 3 2 66.67 2 2 1 3 3000" \
    "handicraft 1 1 0 0.00 0 0 0 0 -" "(none) 1 1 1 100.00 1 0 0 1 3600" \
    "total 7 7 4 57.14 4 4 3 5 3000"
check "hq report --by category (text): columns aligned" table_aligned "$T/out"

on hq report --svg "$T/rates.svg"
expect "hq report --svg FILE: exit 0, says what it wrote" rc=0 err-empty \
    "out=wrote $T/rates.svg: employment rate of 2 county rows and the total"
check "the SVG is well-formed XML" xml_ok "$T/rates.svg"
check "the SVG's root element is <svg> in the SVG namespace" \
    grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$T/rates.svg"
check "the SVG has exactly 2 county bars and the total bar" \
    same_text "$(count_of "$T/rates.svg" 'class="bar"'):$(count_of "$T/rates.svg" 'class="total-bar"')" 2:1
check "the SVG's bars are sorted by rate: 450225 (66.67) before 450224 (50.00)" \
    same_text "$(grep -o 'class="bar" data-key="[^"]*"' "$T/rates.svg" |
        cut -d'"' -f4 | tr '\n' ' ')" "450225 450224 "
check "no temporary file left beside rates.svg" \
    same_text "$(find "$T" -maxdepth 1 -name 'rates.svg.*' | wc -l | tr -d ' ')" 0
# The daemon carries the command out: a relative FILE is still the caller's.
mkdir -- "$T/elsewhere"
cd "$T/elsewhere"
on hq report --svg rel.svg
cd "$T"
expect "hq report --svg rel.svg from another folder: exit 0" rc=0 err-empty
check "rel.svg lands in the caller's folder, 2 county bars" \
    same_text "$(count_of "$T/elsewhere/rel.svg" 'class="bar"')" 2
on hq report --by county,gender --svg "$T/two.svg"
expect "report --by county,gender --svg: usage, exit 2, nothing written" rc=2 \
    out-empty "err:--svg draws a report by one dimension"
check "no two.svg written" test ! -e "$T/two.svg"

# ===========================================================================
section "3. each office reports only its own county"

on hq --json report
cp -- "$T/out" "$T/hq.json"
on a --json report
expect "office a --json report: its county and the total, exactly" rc=0 \
    "out=[$J_A,{\"county\":\"total\",\"name\":null,\"persons\":4,\"working_age\":4,\"working_age_employed\":2,\"employment_rate\":50.00,\"employed\":2,\"trained\":2,\"certified\":1,\"placements\":3,\"median_monthly_income\":3000}]"
check "office a: one county row (450224) plus the total" \
    jqt "$T/out" '[.[].county] == ["450224", "total"]'
check "office a: its 450224 row equals the hq's, figure for figure" \
    same_text "$(jq -c '.[0]' "$T/out")" "$(jq -c '.[0]' "$T/hq.json")"
on a --json list person
check "office a holds only its own 4 persons after hq held county $CB" \
    jqt "$T/out" "length == 4 and all(.[]; .county == \"$CA\")"
on b --json report
expect "office b --json report: its county and the total, exactly" rc=0 \
    "out=[$J_B,{\"county\":\"total\",\"name\":null,\"persons\":3,\"working_age\":3,\"working_age_employed\":2,\"employment_rate\":66.67,\"employed\":2,\"trained\":2,\"certified\":2,\"placements\":2,\"median_monthly_income\":3050}]"

# ===========================================================================
section "4. the HQ stops; its report is the same read straight from the store"

stop_daemon hq
check "hq serve exits 0 on SIGTERM" same_text "$STOP_RC" 0
check "hq control socket removed" test ! -e "$T/hq/wings.ctl"
on hq --json report
expect "hq --json report without the daemon: the same, exactly" rc=0 \
    err-empty "out=$J_COUNTY"

# ===========================================================================
section "5. wings demo"

DEMO_TMP=$T/demo-tmp
mkdir -- "$DEMO_TMP"
start=$SECONDS
run env -u WINGS_PASSPHRASE TMPDIR="$DEMO_TMP" timeout -k 5 60 "$W" demo
took=$((SECONDS - start))
cp -- "$T/out" "$T/demo.out"
# The folder it names, then whatever still runs with that folder in its
# command line: both looked at right away.
DEMO_DIR=$(sed -n '1s/.* in \([^ ]*\)$/\1/p' "$T/demo.out")
LEFT=$(procs_with "$DEMO_TMP/wings-demo-")
expect "wings demo (no --dir): exit 0 within 60 s (took ${took}s)" rc=0
check "demo: first line names its folder $DEMO_TMP/wings-demo-XXXXXX" \
    grep -qxE "wings demo: .* in $DEMO_TMP/wings-demo-[A-Za-z0-9]{6}" \
    <(head -n 1 "$T/demo.out")
check "demo: narrates sync" grep -q 'sync' "$T/demo.out"
check "demo: narrates the report" grep -q 'report' "$T/demo.out"
check "demo: narrates the audit trail" grep -q 'audit' "$T/demo.out"
check "demo: the HQ enrols each office and the office joins" \
    grep -qx "    joined liuzhou-hq as office for 450226" "$T/demo.out"
check "demo: narrates a revocation" grep -qx "    revoked sanjiang" "$T/demo.out"
check "demo: members shows the office revoked" \
    grep -qE "^    sanjiang .* revoked$" "$T/demo.out"
check "demo: the revoked office's next sync is refused" \
    grep -qE "^    liuzhou-hq failed: refused" "$T/demo.out"
check "demo: the HQ's audit trail holds the refusal, naming the office" \
    grep -qE "refused .*certificate of sanjiang .*is revoked" "$T/demo.out"
check "demo: last line says finished, nothing running, folder removed" \
    same_text "$(tail -n 1 "$T/demo.out")" \
    "demo finished; nothing left running, temporary folder removed"
check "demo: no process left with the demo folder in its command line" \
    same_text "$LEFT" ""
check "demo: its temporary folder is gone" \
    test -n "$DEMO_DIR" -a ! -e "${DEMO_DIR:-/nonexistent}"
check "demo: nothing left in TMPDIR" \
    same_text "$(find "$DEMO_TMP" -mindepth 1 | head -n 1)" ""
# The demo's own figures: Rong'an 3 persons of working age, 2 placed (3500
# after the HQ's later edit wins, and 2600), 3 trained, 2 certified;
# Sanjiang 2 persons, 2 placed (3100, 2900), 2 trained and certified; the
# HQ names both counties.
cells "$T/demo.out" >"$T/demo.cells"
check "demo: the HQ's report shows Rong'an by name: 450224 融安县 3 3 2 66.67 2 3 2 2 3050" \
    grep -qxF "450224 融安县 3 3 2 66.67 2 3 2 2 3050" "$T/demo.cells"
check "demo: the HQ's report shows Sanjiang by name: 450226 三江侗族自治县 2 2 2 100.00 2 2 2 2 3000" \
    grep -qxF "450226 三江侗族自治县 2 2 2 100.00 2 2 2 2 3000" "$T/demo.cells"
check "demo: the HQ's report total - 5 5 4 80.00 4 5 4 4 3000" \
    grep -qxF "total - 5 5 4 80.00 4 5 4 4 3000" "$T/demo.cells"
# Anything the demo left running was started by this script: end it by id.
LEFT_PIDS+=" $LEFT"
# shellcheck disable=SC2086 # a list of pids
end_pids $LEFT

# Stopped half-way (by `timeout`, `kill`, a service manager), the demo must
# still stop the HQ daemon it started and remove its folder.
DEMO_TMP2=$T/demo-tmp2
mkdir -- "$DEMO_TMP2"
env -u WINGS_PASSPHRASE TMPDIR="$DEMO_TMP2" "$W" demo </dev/null >"$T/demo2.out" 2>&1 &
DEMO_PID=$!
PIDS+=("$DEMO_PID")
for ((i = 0; i < 600; i++)); do
    grep -q '^==> 6\.' "$T/demo2.out" && break
    kill -0 "$DEMO_PID" 2>/dev/null || break
    sleep 0.1
done
check "demo in the background reaches step 6 (its HQ serving)" \
    grep -q '^==> 6\.' "$T/demo2.out"
if ours "$DEMO_PID"; then kill -TERM "$DEMO_PID" 2>/dev/null || true; fi
reap "$DEMO_PID" 60
# Commands it was running finish on their own; give them 10 s (more than
# one process left means one of them is still finishing).
for ((i = 0; i < 100; i++)); do
    [[ $(procs_with "$DEMO_TMP2/wings-demo-" | wc -l) -le 1 ]] && break
    sleep 0.1
done
LEFT=$(procs_with "$DEMO_TMP2/wings-demo-")
check "demo stopped by SIGTERM: no process left with its folder in the command line" \
    same_text "$LEFT" ""
LEFT_PIDS+=" $LEFT"
# shellcheck disable=SC2086 # a list of pids
end_pids $LEFT
check "demo stopped by SIGTERM: its temporary folder is removed" \
    same_text "$(find "$DEMO_TMP2" -mindepth 1 -maxdepth 1)" ""

# ===========================================================================
section "6. help"

run "$W" --help
expect "wings --help: exit 0" rc=0 err-empty
# One line a command (now thirty of them) and the global options: a tall
# terminal's screen.
check "wings --help fits one screen (<= 52 lines; has $(nlines "$T/out"))" \
    test "$(nlines "$T/out")" -le 52
cp -- "$T/out" "$T/help.out"
for cmd in init id passwd peer add update delete get list history import \
    export sync serve status audit report demo help undelete review merge \
    backup restore enrol join revoke members area user; do
    check "wings --help lists '$cmd'" grep -qE "^  $cmd +[^ ]" "$T/help.out"
done
run "$W" help report
expect "wings help report: exit 0 with an example" rc=0 err-empty \
    "out:Example" "out~^  wings report( |\$)"
run "$W" report --help
expect "wings report --help: exit 0 with an example" rc=0 err-empty \
    "out:Example" "out~^  wings report( |\$)"

lib_finish
