#!/usr/bin/env bash
# edits_cli.sh - who changed what, when, and what the last-writer rule
# decided, through the `wings` CLI and the page
#
#   bash tests/scenario/edits_cli.sh build/wings
#
#   1. a clerk's edit on the page is recorded with her account: history
#      shows wei@rongan (text), "clerk":"wei" (--json, the contract's keys
#      kept); the CLI's own edits name the node alone; times in the zone TZ
#      names (Asia/Shanghai: +08:00), the HLC and UTC time kept; the other
#      office's name shown where known (a peer), its key's start where not
#   2. two offices of one county edit the same field of the same person
#      while apart and sync through the HQ: `review` lists the overwritten
#      edit (kind "overwritten", both values, both nodes, the clerk) on the
#      HQ and on both offices, the same whatever order the changes came
#      in; a later edit made knowing the value adds nothing
#   3. audit names the peer and shows local times
#   4. income in yuan with two decimals, kept exactly as fen; the whole
#      yuan for older nodes; refused past two decimals; the report's median
#      exact to the fen
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq
lib_need curl
unset WINGS_USER_PASSWORD

section "1. a clerk's edit, and times in the local zone"
new_node rongan 450224
new_node anchui 450224
new_node liuzhou 450200 hq
trust rongan liuzhou
trust anchui liuzhou
idnum_v A 45022419960412012
on rongan add person name=韦小梅 gender=female id_number="$A" disability_category=physical township=长安镇
expect "rongan registers a person" rc=0
P=$(cat "$T/out")
WINGS_USER_PASSWORD=Longan-3p-weir-slate on rongan user add wei
expect "a clerk account" rc=0
start_daemon liuzhou
on rongan sync liuzhou
expect "rongan -> HQ" rc=0
on anchui sync liuzhou
expect "anchui <- HQ" rc=0
on anchui --json get person "$P"
check "anchui holds the person" jqt "$T/out" '.township == "长安镇"'

# apart: the clerk at rongan edits on the page, anchui at its CLI
free_port
HTTP=$PORT
start_daemon rongan --http "127.0.0.1:$HTTP" --interval 86400
for _ in $(seq 1 100); do
    grep -q "web page on" "$T/rongan.serve.log" 2>/dev/null && break
    sleep 0.1
done
B="http://127.0.0.1:$HTTP"
curl -s -c jar -b jar -o /dev/null "$B/signin"
pre=$(awk '$6 == "wings_pre" {print $7}' jar)
code=$(curl -s -c jar -b jar -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$pre" \
    --data-urlencode user=wei --data-urlencode password=Longan-3p-weir-slate "$B/signin")
check "the clerk signs in" [ "$code" = 303 ]
csrf=$(curl -s -b jar "$B/edit/person/$P" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
code=$(curl -s -b jar -o edit.html -w '%{http_code}' --data-urlencode "csrf=$csrf" \
    --data-urlencode name=韦小梅 --data-urlencode gender=female \
    --data-urlencode "id_number=$A" --data-urlencode disability_category=physical \
    --data-urlencode township=古宜镇 "$B/edit/person/$P")
check "the clerk's edit is accepted (303)" [ "$code" = 303 ]
on rongan --json get person "$P"
check "and written" jqt "$T/out" '.township == "古宜镇" and (has("changed_by") | not) and (has("base_clocks") | not)'
on rongan history person "$P"
expect "history names the clerk at the node" rc=0 "out:wei@rongan" "out:township=古宜镇"
on rongan --json history person "$P"
check "history --json: the contract's keys kept, the clerk added" jqt "$T/out" \
    'length == 2 and (.[0] | has("hlc") and has("time") and has("origin") and has("fields")) and .[0].clerk == null and .[0].node == "rongan" and .[1].clerk == "wei" and .[1].fields == {"township":"古宜镇"}'
check "meta fields are not offered in help add" not grep -q "changed_by\|base_clocks" <("$W" help add person)
stop_daemon rongan

sleep 1
on anchui update person "$P" township=三江镇
expect "anchui edits the same field, not knowing" rc=0
TZ=Asia/Shanghai on anchui --json history person "$P"
check "history --json: time_local in the zone TZ names, with its offset" jqt "$T/out" \
    '.[1].time_local | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+08:00$")'
check "the UTC time and the HLC kept" jqt "$T/out" '(.[1].time | endswith("Z")) and (.[1].hlc | type) == "number"'
H=$(jq -r '.[1].time_local[11:19]' "$T/out")
U=$(jq -r '.[1].time[11:19]' "$T/out")
check "and it is the same moment eight hours on" \
    [ "$(( (10#${H:0:2} - 10#${U:0:2} + 24) % 24 ))" = 8 ]
TZ=Asia/Shanghai on anchui history person "$P"
expect "history shows the local time" rc=0 "out:${H}  anchui"
TZ=UTC on anchui history person "$P"
expect "and another zone's under TZ=UTC" rc=0 "out:${U}  anchui"
check "the other office, unknown to anchui, by its key's start" \
    grep -q "^.\{19\}  ${KEY[rongan]:0:16}" "$T/out"

section "2. overwritten concurrent edits, found on every node"
on anchui sync liuzhou
expect "anchui -> HQ (anchui's edit first)" rc=0
on rongan sync liuzhou
expect "rongan -> HQ (the clerk's edit second)" rc=0
on anchui sync liuzhou
expect "anchui <- HQ" rc=0
stop_daemon liuzhou
for n in liuzhou rongan anchui; do
    on $n --json get person "$P"
    cp "$T/out" "$T/get-$n.json"
done
check "all three hold one value" all_same "$T/get-liuzhou.json" "$T/get-rongan.json" "$T/get-anchui.json"
WIN=$(jq -r .township "$T/get-liuzhou.json")
info "kept: $WIN"
for n in liuzhou rongan anchui; do
    on $n --json review
    check "$n: review --json lists the overwritten edit" jqt "$T/out" \
        "length == 1 and .[0].kind == \"overwritten\" and .[0].table == \"person\" and .[0].ids == [\"$P\"] and .[0].fields == {\"township\":\"$WIN\"}"
    check "$n: both values, the kept one first" jqt "$T/out" \
        "[.[0].edits[].value] == ([\"$WIN\"] + ([\"古宜镇\",\"三江镇\"] - [\"$WIN\"])) and [.[0].edits[].kept] == [true,false]"
    check "$n: both nodes, and the clerk" jqt "$T/out" \
        "([.[0].edits[].origin] | sort) == ([\"${KEY[rongan]}\",\"${KEY[anchui]}\"] | sort) and ([.[0].edits[].clerk] | sort) == [null,\"wei\"]"
    jq -c '[.[0].edits[] | [.value, .origin, .clerk]]' "$T/out" >"$T/rev-$n.json"
done
check "the three nodes list the same pair" all_same "$T/rev-liuzhou.json" "$T/rev-rongan.json" "$T/rev-anchui.json"
on liuzhou review
expect "review at the HQ names both writers by name" rc=0 \
    "out:township edited at two places at once" "out:wei@rongan" "out:anchui" \
    "out:古宜镇" "out:三江镇"
on liuzhou history person "$P"
expect "HQ's history names both offices" rc=0 "out:wei@rongan" "out:  anchui "

on anchui update person "$P" township=丹洲镇
expect "a later edit at anchui, knowing the kept value" rc=0
start_daemon liuzhou
on anchui sync liuzhou
expect "anchui -> HQ" rc=0
on rongan sync liuzhou
expect "rongan <- HQ" rc=0
stop_daemon liuzhou
for n in liuzhou rongan; do
    on $n --json review
    check "$n: the later edit is no new overwritten edit" jqt "$T/out" \
        "length == 1 and .[0].kind == \"overwritten\""
done

section "3. audit: names and local times"
TZ=Asia/Shanghai on rongan --json audit
check "audit --json: node, peer and a local time with its offset" jqt "$T/out" \
    '[.[] | select(.node == "rongan" and .peer == "liuzhou")] | length > 0 and (.[0].time_local | endswith("+08:00")) and (.[0].time | endswith("Z"))'
TZ=Asia/Shanghai on rongan audit
expect "audit in text: local times" rc=0 "out:liuzhou"
check "no UTC Z time in the table" not grep -q "T[0-9:]*Z" "$T/out"

section "4. income in yuan, kept exactly as fen"
on rongan add placement person_id="$P" employer=网店 employment_type=online start_date=2026-06-01 status=active monthly_income=2800.50
expect "monthly_income=2800.50 is taken" rc=0
PL=$(cat "$T/out")
on rongan --json get placement "$PL"
check "kept as 280050 fen, the whole yuan beside it" jqt "$T/out" '.monthly_income_fen == 280050 and .monthly_income == 2800'
on rongan get placement "$PL"
expect "shown as yuan with two decimals" rc=0 "out:2800.50"
on rongan update placement "$PL" monthly_income=3000.5
expect "one decimal is fine" rc=0
on rongan --json get placement "$PL"
check "3000.5 is 300050 fen" jqt "$T/out" '.monthly_income_fen == 300050 and .monthly_income == 3000'
on rongan update placement "$PL" monthly_income=1234.567
expect "three decimals are refused, naming the field" rc=3 err-line "err:monthly_income"
on rongan update placement "$PL" monthly_income=12,34
expect "a comma is refused" rc=3 err-line
on rongan update placement "$PL" monthly_income=3100
expect "whole yuan still work" rc=0
on rongan --json get placement "$PL"
check "and set both" jqt "$T/out" '.monthly_income_fen == 310000 and .monthly_income == 3100'
on rongan update placement "$PL" monthly_income=3100.25
expect "back to an amount with fen" rc=0
on rongan export placement --out "$T/pl.csv"
expect "export" rc=0
check "export has the whole yuan and the fen" grep -q ",3100,.*,310025\$" <(tr -d '\r' <"$T/pl.csv")
on rongan import placement "$T/pl.csv" --update
expect "the export imported again writes nothing" rc=0 "out=imported 0 placement rows; 1 unchanged (already held)"
printf 'id,monthly_income\n%s,3100.75\n' "$PL" >"$T/pl2.csv"
on rongan import placement "$T/pl2.csv" --update
expect "an edited amount with fen is an update, though the whole yuan is the same" rc=0 "out=imported 1 placement rows; 1 of them updates"
on rongan --json get placement "$PL"
check "and kept to the fen" jqt "$T/out" '.monthly_income_fen == 310075 and .monthly_income == 3100'
on rongan import placement "$T/pl2.csv" --update
expect "and again: nothing to do" rc=0 "out=imported 0 placement rows; 1 unchanged (already held)"
on rongan update placement "$PL" monthly_income=3100
expect "whole yuan again" rc=0
on rongan add placement person_id="$P" employer=农场 employment_type=agricultural start_date=2026-07-01 status=active monthly_income=0.90
expect "less than a yuan" rc=0
on rongan --json report
check "the report's median is exact to the fen (3100 and 0.90, not 3100 and 0)" jqt "$T/out" \
    '.[] | select(.county == "450224") | .placements == 2 and .median_monthly_income == 1550.45'
on rongan report --csv
expect "and so in the table" rc=0 "out:1550.45"
on rongan --json report --by employment_type
check "a report that does not use the aggregates agrees" jqt "$T/out" \
    '.[] | select(.employment_type == "total" or .county == "total") | .median_monthly_income == 1550.45'
on rongan audit --verify
expect "the aggregates equal a recount" rc=0

lib_finish
