#!/usr/bin/env bash
# partition_cli.sh - a record stays in its partition for ever, through the CLI
#
#   bash tests/scenario/partition_cli.sh build/wings
#
# An HQ (450000) and two offices, Rong'an (450224) and Rongshui (450225).
# Rongshui's person reaches the HQ. Rong'an imports a CSV carrying that
# person's record id under its own county (the shipped binary accepted
# it), deletes it, and syncs: the HQ refuses the batch (exit 6 at Rong'an),
# audits the refusal naming Rong'an and the reason, and Rongshui's record,
# its county and the report's figures at the HQ stay as they were; the
# next honest sync from Rongshui completes. At the HQ, typing another
# county into an existing record is invalid input (exit 3) and changes
# nothing. Every node is a closed group: `status` says so.
#
# Prints one line per check, "N passed, 0 failed"; exit 1 if any failed.
set -euo pipefail
# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_args "$@"
lib_need jq
lib_tmp

new_node hq 450000 hq
new_node rongan 450224 office
new_node rongshui 450225 office
trust hq rongan
trust hq rongshui
start_daemon hq || true

on rongshui add person name=韦小宝 id_number=11010519491231002X disability_category=physical
X=$(head -n 1 "$T/out")
on rongshui sync hq
check "rongshui's person reaches the hq" grep -q '^hq ok sent=' "$T/out"
on hq --json get person "$X"
check "the hq holds it in 450225" test "$(jq -r .county "$T/out")" = 450225
on hq --json report
before=$(cat "$T/out")

# The attack, with the shipped commands: import the id under 450224.
printf 'id,name,id_number,disability_category,county\n%s,冒名,110105194912310038,physical,450224\n' "$X" >"$T/steal.csv"
on rongan import person "$T/steal.csv"
echo "     (rongan's import: exit $RC)"
on rongan delete person "$X"
on rongan sync hq --timeout 20
check "rongan's sync is refused (exit 6)" test "$RC" = 6
check "the refusal names the partition rule" grep -q "belongs to partition 450225 for ever" "$T/out"
on hq --json audit
check "the hq audits the refusal naming rongan" \
    test "$(jq '[.[] | select(.peer == "rongan" and .result == "failed" and (.reason | contains("belongs to partition 450225")))] | length' "$T/out")" -ge 1
on hq --json get person "$X"
check "the hq's record keeps its county" test "$(jq -r .county "$T/out")" = 450225
check "the hq's record keeps its name" test "$(jq -r .name "$T/out")" = 韦小宝
check "the hq's record is not deleted" test "$(jq -r '.deleted // false' "$T/out")" = false
on hq --json report
check "the hq's report is unchanged" test "$(cat "$T/out")" = "$before"
on hq --json status
check "no feed frozen at the hq" test "$(jq .frozen_feeds "$T/out")" = 0
check "status says closed group" test "$(jq .closed_group "$T/out")" = true

# Typed at the hq: another county into an existing record.
on hq update person "$X" county=450224
check "typing another county into a record: exit 3" test "$RC" = 3
on hq --json get person "$X"
check "... and nothing changed" test "$(jq -r .county "$T/out")" = 450225

on rongshui update person "$X" phone=13800000000
on rongshui sync hq
check "rongshui's next sync completes" grep -q '^hq ok sent=' "$T/out"
stop_ok hq
lib_finish
