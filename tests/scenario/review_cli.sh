#!/usr/bin/env bash
# review_cli.sh - one person once: id_number unique on a node, duplicates
# from two offices found by `review` and joined by `merge`
#
#   bash tests/scenario/review_cli.sh build/wings
#
#   1. `add` of an id_number this node holds: exit 3 naming the record;
#      the same after a delete is accepted; `update` onto another person's
#      id_number refused; an import carrying a held id_number refused
#   2. two offices under one HQ register the same person before they sync:
#      after the sync the HQ holds both, `review` lists them (text and
#      --json), `merge person KEEP DUPLICATE` moves the trainings and
#      placements and deletes the duplicate; the offices take the merge by
#      sync; `review` is empty everywhere; history keeps both records
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

section "1. one id_number once on a node"
new_node rongan 450224
idnum_v A 45022419960412012
idnum_v B 45022419800313001
on rongan add person name=韦小梅 gender=female id_number="$A" disability_category=physical
expect "a person" rc=0
P1=$(cat "$T/out")
on rongan add person name=韦小梅 gender=female id_number="$A" disability_category=physical
expect "the same id_number again is refused, naming the record" rc=3 err-line \
    "err:id_number: $A is already registered here as person $P1"
on rongan --json list person
check "and nothing was written" jqt "$T/out" 'length == 1'
on rongan add person name=覃大山 gender=male id_number="$B" disability_category=visual
expect "another person" rc=0
P2=$(cat "$T/out")
on rongan update person "$P2" id_number="$A" birth_date=1996-04-12 gender=female
expect "an update onto a held id_number is refused" rc=3 err-line \
    "err:id_number: $A is already registered here as person $P1"
on rongan update person "$P1" id_number="$A" name=韦晓梅
expect "an update keeping its own id_number is fine" rc=0
printf 'name,gender,id_number,disability_category\n黄志强,male,%s,visual\n' "$B" >"$T/dup.csv"
on rongan import person "$T/dup.csv"
expect "an import row with a held id_number is refused by line, naming the person" rc=3 \
    "err:line 2: id: this node holds person $P2 with other values; use --update"
on rongan delete person "$P2"
expect "delete" rc=0
on rongan add person name=覃大山 gender=male id_number="$B" disability_category=visual
expect "a deleted person's id_number may be registered again" rc=0

section "2. registered at two offices before they synced"
new_node sanjiang 450226
new_node liuzhou 450200 hq
trust sanjiang liuzhou
trust rongan liuzhou
idnum_v C 45022619900707002
on rongan add person name=梁秀 gender=female id_number="$C" disability_category=speech county=450224
expect "rongan registers her" rc=0
KEEP=$(cat "$T/out")
on sanjiang add person name=梁秀 gender=female id_number="$C" disability_category=speech
expect "sanjiang registers her too, not knowing" rc=0
DUP=$(cat "$T/out")
on sanjiang add training person_id="$DUP" course=电商直播 category=ecommerce_live start_date=2026-03-02 outcome=enrolled
expect "a training at sanjiang" rc=0
TR=$(cat "$T/out")
on sanjiang add placement person_id="$DUP" employer=网店 employment_type=online start_date=2026-06-01 status=active monthly_income=1800
expect "a placement at sanjiang" rc=0
PL=$(cat "$T/out")
start_daemon liuzhou
on rongan sync liuzhou
expect "rongan syncs" rc=0
on sanjiang sync liuzhou
expect "sanjiang syncs" rc=0
stop_daemon liuzhou
on liuzhou review
expect "review at the HQ names both records and the command" rc=0 \
    "out:person held 2 times with id_number=$C:" "out:$KEEP" "out:$DUP" \
    "out:keep one: wings merge person KEEP DUPLICATE"
on liuzhou --json review
check "review --json: one duplicate of person with both ids" jqt "$T/out" \
    "length == 1 and .[0].kind == \"duplicate\" and .[0].table == \"person\" and (.[0].ids | sort) == ([\"$KEEP\",\"$DUP\"] | sort) and .[0].fields.id_number == \"$C\""
on rongan review
expect "nothing to review at an office holding one" rc=0 out="nothing to review"
on liuzhou merge person "$KEEP" "$KEEP"
expect "a record cannot be merged into itself" rc=3 err-line
on liuzhou merge person "$KEEP" 0123456789abcdef0123456789abcdef
expect "merging an unknown record: not found" rc=5 err-line
on liuzhou merge person "$KEEP" "$DUP"
expect "the HQ merges them" rc=0 "out=merged person $DUP into $KEEP (2 records moved)"
on liuzhou --json get training "$TR"
check "the training now belongs to the person kept" jqt "$T/out" ".person_id == \"$KEEP\""
on liuzhou --json get placement "$PL"
check "and the placement" jqt "$T/out" ".person_id == \"$KEEP\""
on liuzhou review
expect "nothing left to review" rc=0 out="nothing to review"
on liuzhou --json list person
check "the HQ lists the person once" jqt "$T/out" "[.[] | select(.id_number == \"$C\")] | length == 1"
on liuzhou --json history person "$DUP"
check "history keeps the duplicate, deleted" jqt "$T/out" 'length == 2 and .[1].deleted == true'
start_daemon liuzhou
on sanjiang sync liuzhou
expect "sanjiang takes the merge" rc=0
stop_daemon liuzhou
on sanjiang --json get training "$TR"
check "at sanjiang the training follows the person kept" jqt "$T/out" ".person_id == \"$KEEP\""
on sanjiang --json list person
check "and sanjiang's duplicate is gone" jqt "$T/out" "[.[] | select(.id == \"$DUP\")] | length == 0"

section "3. finding records: search, sort, pages, id prefixes, undelete"
new_node sanjiang2 450226
for i in 1 2 3 4 5; do
    idnum_v X "45022619900707${i}02"
    on sanjiang2 add person name="潘秀英$i" gender=female id_number="$X" \
        disability_category=physical registered_on="2025-0$i-01" township="古宜镇"
    expect "person $i" rc=0
done
on sanjiang2 add person name="Mo_%x" gender=female id_number="$(idnum 45022619900707602)" disability_category=visual
expect "a name with LIKE's wildcards in it" rc=0
MO=$(cat "$T/out")
on sanjiang2 --json list person --search 秀英
check "--search finds a part of the name" jqt "$T/out" 'length == 5'
on sanjiang2 --json list person --search 19900707302
check "--search finds a part of the id number" jqt "$T/out" 'length == 1 and .[0].name == "潘秀英3"'
on sanjiang2 --json list person --search %
check "--search takes % literally" jqt "$T/out" "length == 1 and .[0].id == \"$MO\""
on sanjiang2 --json list person --search o_
check "--search takes _ literally" jqt "$T/out" 'length == 1'
on sanjiang2 --json list person --sort -registered_on --limit 2
check "--sort -FIELD --limit 2: the two latest registrations" jqt "$T/out" '[.[].name] == ["潘秀英5","潘秀英4"]'
on sanjiang2 --json list person --sort registered_on --limit 2 --offset 1
check "--offset takes the next page" jqt "$T/out" '[.[].name] == ["潘秀英2","潘秀英3"]'
on sanjiang2 list person --sort hukou
expect "--sort by no field: exit 3 naming it" rc=3 err-line "err:sort: person has no field 'hukou'"
on sanjiang2 list person --limit -1
expect "--limit -1: usage" rc=2 err-line
on sanjiang2 --json list person --search 潘秀英1
P=$(jq -r '.[0].id' "$T/out")
on sanjiang2 get person "${P:0:8}"
expect "an 8-character prefix is enough" rc=0 "out:$P"
on sanjiang2 get person "${P:0:7}"
expect "7 characters are not an id" rc=5 err-line
on sanjiang2 add training person_id="$P" course=手工编织 start_date=2026-01-05 outcome=enrolled
expect "a training of person 1" rc=0
TRN=$(cat "$T/out")
on sanjiang2 delete person "${P:0:10}"
expect "delete by prefix" rc=0 "out=deleted person $P"
on sanjiang2 --json list training
check "the deleted person's training is hidden with it" jqt "$T/out" 'length == 0'
on sanjiang2 undelete person "$P"
expect "undelete" rc=0 "out=undeleted person $P"
on sanjiang2 --json list training
check "and comes back with it" jqt "$T/out" "length == 1 and .[0].id == \"$TRN\""
on sanjiang2 undelete person "$P"
expect "undelete of a live person: exit 3" rc=3 err-line "err:is not deleted"
{
    echo "id,name,gender,id_number,disability_category"
    echo "abcdef0100000000000000000000000a,甲,female,$(idnum 45022619800101002),physical"
    echo "abcdef0100000000000000000000000b,乙,female,$(idnum 45022619800101012),physical"
} >"$T/twins.csv"
on sanjiang2 import person "$T/twins.csv"
expect "two persons whose ids share 8 characters" rc=0
on sanjiang2 get person abcdef01
expect "an ambiguous prefix: usage, naming two matches" rc=2 err-line \
    "err:id abcdef01 is ambiguous: abcdef0100000000000000000000000a, abcdef0100000000000000000000000b"
on sanjiang2 get person abcdef0100000000000000000000000b
expect "the whole id still works" rc=0 out:乙
lib_finish
