#!/usr/bin/env bash
# report_stats.sh - the federation's statistics through `wings report`
#
#   bash tests/scenario/report_stats.sh build/wings
#
# 1. A data set to the seed's proportions on a prefecture HQ (450200), over
#    three counties it names: 6,291 persons of working age of whom 3,652
#    hold an active placement (40 of them two), 100 more with only an ended
#    placement, 150 persons under 16 (10 employed) and 400 over 59 (25
#    employed). Births are placed years away from any age boundary, so the
#    figures hold whatever day the test runs. Expected: persons 6,841,
#    working_age 6,291, working_age_employed 3,652, employment_rate 58.05,
#    employed 3,687, placements 3,727, in text, CSV, JSON and the workbook
#    (read back with python3-openpyxl).
# 2. Every breakdown's total equals the county total, each table sums to its
#    total, two-way tables add up both ways.
# 3. --as-of 2025-06-30 --from 2025-01-01 --to 2025-06-30 on known dates:
#    a person turning 60 the day after is counted, one turning 60 that day
#    is not, one turning 16 that day is; a placement that ended the day
#    before, or on the day, is not counted; one ending later is; a person
#    registered after the date is left out.
# 4. The chart: well-formed XML, one bar per area sorted by rate, counts as
#    text, a name holding <script> rendered as text, Chinese under
#    LANG=zh_CN.UTF-8, height growing with the rows, no temporary file
#    left, a symlink at the target replaced, not followed.
# 5. Area names travel: an office syncing with the HQ receives the name of
#    its own county (and only that) and shows it in its report.
# 6. Bad input: one `wings: ` line, exit 2 or 3, nothing written.
#
# Prints one line per check and ends with "N passed, 0 failed"; exit 1
# naming every failed check. Needs jq, xmllint and python3 with openpyxl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq xmllint
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
"$PY" -c 'import openpyxl' 2>/dev/null ||
    { echo "report_stats.sh: needs python3-openpyxl" >&2; exit 2; }
unset LC_ALL LC_MESSAGES
export LANG=C.UTF-8

same() { same_text "$@"; }
jqn() { jq -e "$@" >/dev/null 2>&1; }
# grp N: N with thousands separated by commas (1218 -> 1,218).
grp() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }
one_error_line() {
    [[ $(wc -l <"$T/err") -eq 1 ]] && grep -q '^wings: ' "$T/err" && [[ ! -s $T/out ]]
}

# ===========================================================================
echo "-- 1. the seed's proportions"

new_node hq 450200 hq
on hq area set 450224 融安县
check "area set 450224 融安县: exit 0" same "$RC" 0
printf 'code,name\n450225,融水苗族自治县\n450226,三江<script>alert(1)</script>侗族自治县\n450200,柳州市\n' >areas.csv
on hq area import areas.csv
check "area import: three names written" grep -qx '3 area names written' "$T/out"
on hq --json area list
check "area list --json: four names, in code order" jqt "$T/out" \
    '[.[].code] == ["450200","450224","450225","450226"] and .[1].name == "融安县"'

Y=$(date +%Y)
# Generated with awk, one process: the check character as lib.sh's idnum().
awk -v Y="$(date +%Y)" 'BEGIN {
    split("450224 450225 450226", C, " ")
    split("physical visual hearing speech intellectual mental multiple", K, " ")
    split("长安镇 浮石镇 泗顶镇", TW, " ")
    split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", WT, " ")
    M = "10X98765432"
    print "id,name,gender,birth_date,id_number,disability_category,disability_grade,county,township,rural,registered_on"
    n = 0
    split("6291 150 400", CNT, " "); split("40 10 70", AGE, " ")
    for (g = 1; g <= 3; g++)
        for (i = 0; i < CNT[g]; i++) {
            c = C[n % 3 + 1]; by = Y - AGE[g] - n % 5
            # (county, year) follows n % 15, so n / 15 keeps id numbers
            # unique; the last digit of the serial is odd for a man, as the
            # 17th digit of an id number says
            b = sprintf("%s%04d0315%03d", c, by,
                        2 * (int(n / 15) % 500) + (n % 2 ? 0 : 1)); s = 0
            for (j = 1; j <= 17; j++) s += substr(b, j, 1) * WT[j]
            printf "%032x,P%d,%s,%04d-03-15,%s%s,%s,%d,%s,%s,%d,2015-01-01\n", \
                1048576 + n, n, n % 2 ? "female" : "male", by, b, \
                substr(M, s % 11 + 1, 1), K[n % 7 + 1], 1 + n % 4, c, \
                TW[n % 3 + 1], n % 4 ? 1 : 0
            n++
        }
}' >persons.csv
# Placements: working-age persons 0..3651 active (0..39 a second one),
# 3652..3751 an ended one; under-16 persons 6291..6300 and over-59 persons
# 6441..6465 active.
awk 'function place(p, st) {
        printf "%032x,%032x,Employer %d,%s,2024-01-01,%s,%d,%s,%s\n", \
            2097152 + k, 1048576 + p, k, T[k % 7 + 1], \
            st == "ended" ? "2024-12-31" : "", 2000 + (k % 9) * 250, st, \
            C[p % 3 + 1]
        k++
    }
    BEGIN {
    split("450224 450225 450226", C, " ")
    split("enterprise online assisted self_employed public_welfare agricultural flexible", T, " ")
    print "id,person_id,employer,employment_type,start_date,end_date,monthly_income,status,county"
    k = 0
    for (p = 0; p < 3652; p++) place(p, "active")
    for (p = 0; p < 40; p++) place(p, "active")
    for (p = 3652; p < 3752; p++) place(p, "ended")
    for (p = 6291; p < 6301; p++) place(p, "active")
    for (p = 6441; p < 6466; p++) place(p, "active")
}' >placements.csv
on hq import person persons.csv
check "import 6,841 persons" grep -q '6841' "$T/out"
on hq import placement placements.csv
check "import 3,827 placements" grep -q '3827' "$T/out"
# The median of the active placements' incomes, worked out apart.
MED=$(awk -F, 'NR > 1 && $8 == "active" { print $7 }' placements.csv | sort -n |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
          else { m = (v[NR / 2] + v[NR / 2 + 1]) / 2; print (m == int(m) ? m : sprintf("%.1f", m)) } }')

on hq report
check "report (text): exit 0, nothing on stderr" same "$RC:$(cat "$T/err")" "0:"
check "report (text): the total row, exactly" grep -qxE \
    "total +- +6841 +6291 +3652 +58\.05 +3687 +0 +0 +3727 +$MED" "$T/out"
check "report (text): county rows carry names" grep -qE '^450224 +融安县 ' "$T/out"
check "report (text): the caption names the date and working age 16-59" \
    grep -qE "^as of $Y-[0-9]{2}-[0-9]{2} \(the records as they are\), working age 16-59\$" "$T/out"
on hq report --csv
check "report --csv: header" same "$(head -n 1 "$T/out" | tr -d '\r')" \
    "county,name,persons,working_age,working_age_employed,employment_rate,employed,trained,certified,placements,median_monthly_income"
check "report --csv: the total row, exactly" same "$(tail -n 1 "$T/out" | tr -d '\r')" \
    "total,,6841,6291,3652,58.05,3687,0,0,3727,$MED"
on hq --json report
cp out county.json
check "report --json: total 58.05 % of 6,291, 3,652 employed" jqt county.json \
    ".[-1] | .county == \"total\" and .persons == 6841 and .working_age == 6291 and .working_age_employed == 3652 and .employment_rate == 58.05 and .employed == 3687 and .placements == 3727 and .median_monthly_income == $MED"
check "report --json: the rate is printed with two decimals" grep -q '"employment_rate":58.05' county.json
check "report --json: rows sum to the total" jqt county.json \
    '(.[:-1] | map(.persons) | add) == .[-1].persons and (.[:-1] | map(.working_age_employed) | add) == .[-1].working_age_employed'
check "report --json: names from the area table" jqt county.json \
    '.[0].name == "融安县" and .[1].name == "融水苗族自治县" and .[-1].name == null'
on hq report --recount --json
check "report --recount: the same figures from the records" same "$(cat "$T/out")" "$(cat county.json)"

on hq report --xlsx "$T/report.xlsx"
check "report --xlsx: exit 0, 8 tables" same "$RC:$(cat "$T/out")" "0:wrote $T/report.xlsx: 8 tables"
cat >"$T/readxlsx.py" <<'EOF'
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
want = ["county", "township", "gender", "disability_category",
        "disability_grade", "rural", "employment_type", "category"]
assert wb.sheetnames == want, wb.sheetnames
for name in want:
    ws = wb[name]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0].startswith("As of ") and "working age 16-59" in rows[0][0], rows[0]
    head = [i for i, r in enumerate(rows) if r[0] == name][0]
    cols = rows[head]
    total = [r for r in rows[head + 1:] if r[0] == "total"][0]
    t = dict(zip(cols, total))
    assert t["persons"] == 6841 and t["working_age"] == 6291, t
    assert t["working_age_employed"] == 3652 and t["employed"] == 3687, t
    assert t["employment_rate"] == 58.05, t
    for k in ("persons", "working_age", "employment_rate", "placements"):
        assert isinstance(t[k], (int, float)), (k, type(t[k]))
    end = rows.index(tuple([None] * len(cols)), head)
    body = [dict(zip(cols, r)) for r in rows[head + 1:end] if r[0] != "total"]
    assert sum(r["persons"] for r in body) == 6841, name
    assert any(r[0] == "Definitions:" for r in rows), "no definitions"
ws = wb["county"]
rows = list(ws.iter_rows(values_only=True))
assert ("450224", "融安县") == rows[3][:2], rows[3]
assert isinstance(rows[3][0], str), "a county code must stay text"
print("ok")
EOF
run "$PY" "$T/readxlsx.py" "$T/report.xlsx"
check "the workbook read back (openpyxl): every sheet's total, numbers as numbers, definitions, as-of" \
    same "$(cat "$T/out")" ok
check "no temporary folder or file left beside the workbook" \
    same "$(find "$T" -maxdepth 1 -name '.wings-xlsx-*' -o -maxdepth 1 -name '*.tmp' | wc -l)" 0

# ===========================================================================
echo "-- 2. breakdowns add up"

for dim in township gender disability_category disability_grade rural employment_type category; do
    on hq --json report --by "$dim"
    cp out "by-$dim.json"
    check "--by $dim: total equals the county total" jqt "by-$dim.json" \
        ".[-1] | .$dim == \"total\" and .persons == 6841 and .working_age == 6291 and .working_age_employed == 3652 and .employed == 3687 and .employment_rate == 58.05 and .placements == 3727"
    check "--by $dim: its rows sum to its total" jqt "by-$dim.json" \
        '(.[:-1] | (map(.persons) | add) == 6841 and (map(.working_age) | add) == 6291 and (map(.working_age_employed) | add) == 3652 and (map(.employed) | add) == 3687)'
done
check "--by employment_type: the not-employed row (null) holds 3,154 persons" \
    jqt by-employment_type.json '.[] | select(.employment_type == null) | .persons == 3154'
check "--by gender: 3,421 male and 3,420 female" \
    jqt by-gender.json '.[0].gender == "female" and .[0].persons == 3420 and .[1].gender == "male" and .[1].persons == 3421'
on hq --json report --by county,gender
cp out two.json
check "--by county,gender: 6 cells, 3 county subtotals, 2 gender subtotals, the total" \
    jqt two.json 'length == 12 and ([.[] | select(.county != "total" and .gender != "total")] | length) == 6'
for f in persons working_age working_age_employed employed placements; do
    check "--by county,gender: $f adds up across each gender and to the total" jqt two.json \
        ". as \$all | [.[] | select(.county == \"total\" and .gender != \"total\")] as \$sub | all(\$sub[]; . as \$s | ([\$all[] | select(.gender == \$s.gender and .county != \"total\") | .$f] | add) == \$s.$f) and ([\$all[] | select(.county != \"total\" and .gender != \"total\") | .$f] | add) == (\$all[-1].$f)"
    check "--by county,gender: $f of each county subtotal equals its cells" jqt two.json \
        ". as \$all | [.[] | select(.county != \"total\" and .gender == \"total\")] as \$sub | all(\$sub[]; . as \$s | ([\$all[] | select(.county == \$s.county and .gender != \"total\") | .$f] | add) == \$s.$f)"
done
check "--by county,gender: each county subtotal equals the county table's row" \
    jqn -n --slurpfile t two.json --slurpfile c county.json 'all($c[0][:-1][]; . as $r | ($t[0][] | select(.county == $r.county and .gender == "total") | .persons == $r.persons and .working_age_employed == $r.working_age_employed))' 

# ===========================================================================
echo "-- 3. --as-of and --from/--to on known dates"

new_node dated 450224 office
SERIAL=100
pers() { # var name birth registered
    local num
    SERIAL=$((SERIAL + 1))
    num=$(idnum "450224${3//-/}$SERIAL")
    on dated add person name="$2" id_number="$num" birth_date="$3" \
        disability_category=physical registered_on="$4"
    printf -v "$1" '%s' "$(cat "$T/out")"
}
pers A A 1965-07-01 2020-01-01 # 60 the day after: working age
pers B B 1965-06-30 2020-01-01 # 60 that day: not
pers C C 2009-06-30 2020-01-01 # 16 that day: working age
pers Dp D 1990-01-01 2025-07-15 # registered after the date: left out
pers E E 1990-01-01 2025-03-01
pers F F 1980-05-05 2019-01-01
pers G G 1985-01-01 2018-01-01
plc() { # person start end status income
    local end=()
    [[ -n $3 ]] && end=(end_date="$3")
    on dated add placement person_id="$1" employer=X employment_type=online \
        start_date="$2" "${end[@]}" status="$4" monthly_income="$5"
    [[ $RC -eq 0 ]] || bad "setup: placement of $1" "$(show_last)"
}
# shellcheck disable=SC2154 # set by pers
{
    plc "$A" 2024-01-01 "" active 3000         # active at the date
    plc "$C" 2025-01-01 2025-06-29 ended 2500  # ended the day before
    plc "$E" 2025-02-01 2025-12-31 ended 4000  # ends after the date
    plc "$F" 2025-07-01 "" active 5000         # starts after the date
    plc "$G" 2020-01-01 2025-06-30 ended 2800  # ends on the date
    on dated add training person_id="$F" course=K start_date=2025-03-01 \
        end_date=2025-05-01 outcome=completed
    on dated add training person_id="$F" course=L start_date=2025-06-01 \
        end_date=2025-08-01 outcome=certified
}
on dated --json report --as-of 2025-06-30 --from 2025-01-01 --to 2025-06-30
check "--as-of 2025-06-30 --from/--to: every figure exact" same "$(cat "$T/out")" \
    '[{"county":"450224","name":null,"persons":6,"working_age":5,"working_age_employed":2,"employment_rate":40.00,"employed":2,"trained":1,"certified":0,"placements":2,"median_monthly_income":3500,"newly_trained":1,"newly_placed":2,"placements_ended":2},{"county":"total","name":null,"persons":6,"working_age":5,"working_age_employed":2,"employment_rate":40.00,"employed":2,"trained":1,"certified":0,"placements":2,"median_monthly_income":3500,"newly_trained":1,"newly_placed":2,"placements_ended":2}]'
on dated --json report --as-of 2025-07-01
check "--as-of 2025-07-01: A turned 60, F's placement started, D registered later still" \
    jqt "$T/out" '.[-1] | .persons == 6 and .working_age == 4 and .working_age_employed == 2 and .employed == 3 and .certified == 0'
on dated report --as-of 2025-06-30 --ages 16-16
check "--ages 16-16: only C" grep -qE '^total +- +6 +1 +0 +0\.00 ' "$T/out"

# ===========================================================================
echo "-- 4. the chart"

on hq report --svg "$T/rates.svg"
check "report --svg: exit 0, says what it wrote" same "$RC:$(cat "$T/out")" \
    "0:wrote $T/rates.svg: employment rate of 3 county rows and the total"
check "the SVG parses as XML (xmllint)" xmllint --noout "$T/rates.svg"
check "one bar per area (3) and one total bar" same \
    "$(grep -o 'class="bar"' "$T/rates.svg" | wc -l):$(grep -o 'class="total-bar"' "$T/rates.svg" | wc -l)" "3:1"
WANT_ORDER=$(jq -r '.[:-1] | sort_by(-.employment_rate, .county) | map(.county) | join(" ")' county.json)
check "bars sorted by rate, highest first ($WANT_ORDER)" same \
    "$(grep -o 'data-key="[0-9]*"' "$T/rates.svg" | cut -d'"' -f2 | tr '\n' ' ' | sed 's/ $//')" "$WANT_ORDER"
check "counts beside the total bar as text: 58.05% (3,652 / n = 6,291)" \
    grep -qF '>58.05% (3,652 / n = 6,291)</text>' "$T/rates.svg"
for c in 450224 450225 450226; do
    n=$(jq -r ".[] | select(.county == \"$c\") | .working_age" county.json)
    e=$(jq -r ".[] | select(.county == \"$c\") | .working_age_employed" county.json)
    check "bar $c carries its own counts ($e of n = $n)" \
        grep -qE "data-key=\"$c\">.*>[0-9.]+% \\($(grp "$e") / n = $(grp "$n")\\)</text>" "$T/rates.svg"
done
check "a name holding <script> is text, never an element" \
    same "$(grep -c '<script' "$T/rates.svg"):$(xmllint --xpath 'count(//*[local-name()="script"])' "$T/rates.svg")" "0:0"
check "that name reads back as the text it is" same \
    "$(xmllint --xpath 'string(//*[local-name()="g"][@data-key="450226"]/*[local-name()="text"][1])' "$T/rates.svg")" \
    '三江<script>alert(1)</script>侗族自治县'
check "the caption: as-of date and source node" grep -qE "As of $Y-[0-9]{2}-[0-9]{2}\. Source: node hq " "$T/rates.svg"
check "no temporary file left beside the chart" same "$(find "$T" -maxdepth 1 -name 'rates.svg.*' | wc -l)" 0
on hq report --svg "$T/cat.svg" --by disability_category
H3=$(grep -o '<svg[^>]* height="[0-9]*"' "$T/rates.svg" | sed 's/.*height="//;s/"//')
H7=$(grep -o '<svg[^>]* height="[0-9]*"' "$T/cat.svg" | sed 's/.*height="//;s/"//')
check "the chart grows with its rows (3 rows: $H3 px, 7 rows: $H7 px)" test "$H7" -gt "$H3"
run env LANG=zh_CN.UTF-8 "$W" --dir "$T/hq" report --svg "$T/zh.svg"
check "LANG=zh_CN.UTF-8: a Chinese title and caption" grep -qF '持证残疾人就业率' "$T/zh.svg"
check "LANG=zh_CN.UTF-8: the caption says 截至 and 数据来源" grep -q '截至 .*数据来源：节点 hq' "$T/zh.svg"
echo "keep me" >victim
ln -s victim "$T/link.svg"
on hq report --svg "$T/link.svg"
check "a symlink at the target is replaced, the file it named untouched" \
    same "$(cat victim):$(test -L "$T/link.svg" && echo link || echo file)" "keep me:file"

# ===========================================================================
echo "-- 5. area names reach the office by sync"

new_node office 450224 office
read -r _ KEY_HQ END_HQ <<<"${IDL[hq]}"
read -r _ KEY_O END_O <<<"${IDL[office]}"
on office peer add hq "$KEY_HQ" "$END_HQ"
on hq peer add office "$KEY_O" "$END_O"
start_daemon hq
on office sync --timeout 60
check "office sync with the hq: ok" grep -qE '^hq ok sent=[0-9]+ received=[0-9]+$' "$T/out"
on office --json area list
check "the office holds the name of its own county, and only that" same \
    "$(cat "$T/out")" '[{"code":"450224","name":"融安县"}]'
on office --json report
check "the office's report names its county" jqt "$T/out" \
    '.[0].county == "450224" and .[0].name == "融安县"'
on office area set 450224 别名
check "an office cannot name areas: exit 3, one line" same "$RC" 3
stop_daemon hq

# ===========================================================================
echo "-- 6. bad input"

for args in "--by nonsense" "--by county,county" "--by county,gender,rural" \
    "--as-of 2025-02-30" "--from 2025-01-01" "--from 2025-02-01 --to 2025-01-01" \
    "--ages 60-16" "--ages 16" "--svg x.svg --by county,gender"; do
    # shellcheck disable=SC2086 # the words are the arguments
    on hq report $args
    check "report $args: exit 2, one 'wings: ' line" eval '[[ $RC -eq 2 ]] && one_error_line'
done
check "nothing written by a refused --svg" test ! -e "$T/x.svg"
printf 'code,name\n450224,新名\n450299\n' >bad.csv
on hq area import bad.csv
check "area import with a bad row: exit 3, nothing written" eval \
    '[[ $RC -eq 3 ]] && one_error_line'
on hq area list
check "the earlier name stands" grep -qE '^450224 +融安县$' "$T/out"
on hq area set 450301 外地
check "area set outside the hq's scope: exit 3" same "$RC" 3
on hq area set 450224 "$(printf 'a\tb')"
check "area set with a control character: exit 3" same "$RC" 3

lib_finish
