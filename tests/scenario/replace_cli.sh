#!/usr/bin/env bash
# replace_cli.sh - a lost office PC replaced with `enrol --replaces` (CLI.md
# "Membership"; DESIGN.md "A node's life")
#
#   bash tests/scenario/replace_cli.sh build/wings
#
# A root province (gx, 450000) enrols two offices, Rong'an (450224) and
# Rongshui (450225). Rong'an registers persons and a training and syncs;
# the province adds a person of 450224 of its own and persons of other
# counties. Rong'an's PC is lost: the province enrols a new PC with
# `--replaces rongan`. The new node joins for the same county; its first
# sync brings back every record of 450224 the province holds (and nothing
# of any other county); it edits the old PC's records at once, and those
# edits and a new record reach the province; the old key is refused at the
# province (exit 6, audited), `members` says revoked, what the old PC wrote
# before it was replaced stays, no feed is frozen and every feed verifies.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

section "1. a network: the province and two offices"
free_port
on gx init --name gx --county 450000 --role hq --root \
    --listen "tcp://127.0.0.1:$PORT" --kdf test
expect "the province is the network's root (init --root)" rc=0 out-lines=1
read -ra idw <"$T/out"
KEY[gx]=${idw[1]}
PORT_OF[gx]=$PORT
new_node rongan 450224
new_node rongshui 450225
ep_of() { echo "tcp://127.0.0.1:${PORT_OF[$1]}"; }
for o in rongan rongshui; do
    on gx enrol "$o" "${KEY[$o]}" "$(ep_of "$o")" --county "${COUNTY_OF[$o]}"
    expect "gx enrols $o" rc=0 out-lines=1
    TOK=$(cat "$T/out")
    on "$o" join "$TOK"
    expect "$o joins" rc=0 "out=joined gx as office for ${COUNTY_OF[$o]}"
done

section "2. records of three counties at the province"
idnum_v A 45022419800313001
idnum_v B 45022419751102002
idnum_v C 45022419900521003
idnum_v D 45022519660101004
idnum_v E 45022419700707005
idnum_v F 45102119881212006
add_ok P1 "rongan registers a person" rongan person name=韦小宝 id_number="$A" disability_category=physical
add_ok P2 "and a second" rongan person name=覃阿妹 id_number="$B" disability_category=visual
add_ok P3 "and a third" rongan person name=蓝天 id_number="$C" disability_category=hearing
add_ok TR "and a training" rongan training person_id="$P1" course=电商直播 category=ecommerce_live start_date=2026-03-02 outcome=enrolled
add_ok Q1 "rongshui registers a person" rongshui person name=莫小花 id_number="$D" disability_category=physical
start_daemon gx
sync_check "rongan syncs with the province" rongan gx
sync_check "rongshui syncs with the province" rongshui gx
add_ok G1 "the province registers a person of 450224" gx person name=province-added id_number="$E" disability_category=speech county=450224
add_ok G2 "and one of Baise's 451021" gx person name=baise-one id_number="$F" disability_category=physical county=451021
on rongan update person "$P2" phone=13800000002
expect "the old PC edits a record before it is lost" rc=0
sync_check "and syncs it up" rongan gx

section "3. the replacement PC"
new_node rongan2 450224
on gx enrol rongan2 "${KEY[rongan2]}" "$(ep_of rongan2)" --replaces rongan
expect "the province enrols the new PC in place of the lost one" rc=0 out-lines=1
TOK=$(cat "$T/out")
on rongan2 join "$TOK"
expect "the new PC joins for the same county" rc=0 "out=joined gx as office for 450224"
sync_check "its first sync" rongan2 gx
save gx gx_persons --json list person
save gx gx_trainings --json list training
on rongan2 --json list person
check "it holds every person of 450224 the province holds, and only those" \
    same_text "$(jq -r '.[].id' "$T/out" | sort)" \
    "$(jq -r '.[] | select(.county == "450224") | .id' "$T/gx_persons" | sort)"
check "... that is four" jqt "$T/out" 'length == 4'
check "... none of another county" jqt "$T/out" 'all(.[]; .county == "450224")'
on rongan2 --json list training
check "it holds the county's training" same_text "$(jq -r '.[].id' "$T/out")" "$TR"
on rongan2 --json get person "$P2"
check "with the old PC's last edit" jqt "$T/out" '.phone == "13800000002"'

section "4. it edits them at once, and the edits reach the province"
on rongan2 update person "$P1" phone=13900000001
expect "it edits a record the old PC registered" rc=0
on rongan2 update person "$G1" disability_grade=2
expect "and one the province registered" rc=0
on rongan2 delete person "$P3"
expect "and deletes one" rc=0
idnum_v N 45022420010101007
add_ok P4 "and registers a new person" rongan2 person name=新来的 id_number="$N" disability_category=physical
sync_check "it syncs them up" rongan2 gx
on gx --json get person "$P1"
check "the province holds the new PC's edit" jqt "$T/out" '.phone == "13900000001"'
on gx --json get person "$G1"
check "and its edit of the province's record" jqt "$T/out" '.disability_grade == "2" or .disability_grade == 2'
on gx --json get person "$P3"
check "and its delete" jqt "$T/out" '.deleted == true'
on gx --json get person "$P4"
check "and its new person" jqt "$T/out" '.county == "450224"'

section "5. the old key"
on rongan add person name=after-loss id_number="$(idnum 45022419550505008)" disability_category=physical
on rongan sync gx --timeout 10
expect "the old PC is refused at the province (exit 6)" rc=6
on gx --json audit
check "the refusal is audited, naming the old PC and its revocation" \
    jqt "$T/out" '[.[] | select(.event == "refused" and .peer == "rongan" and (.reason // "" | contains("revoked")))] | length >= 1'
on gx --json list person
check "nothing of the old PC after the cut-off reached the province" \
    jqt "$T/out" 'all(.[]; .name != "after-loss")'
check "what it wrote before stays" jqt "$T/out" "any(.[]; .id == \"$P2\" and .phone == \"13800000002\")"
on gx --json members
check "members: the old PC revoked, the new one valid" \
    same_text "$(jq -r '[.[] | select(.name == "rongan" or .name == "rongan2") | .name + "=" + .state] | sort | join(",")' "$T/out")" \
    "rongan2=valid,rongan=revoked"
on gx --json status
check "no feed frozen at the province" jqt "$T/out" '.frozen_feeds == 0'
on gx audit --verify
expect "every feed verifies at the province" rc=0
stop_ok gx
lib_finish
