#!/usr/bin/env bash
# scope_cli.sh - an HQ's own writes stay inside its certificate's scope
#
#   bash tests/scenario/scope_cli.sh build/wings
#
# A root province (gx, 450000) enrols Baise's prefecture HQ (baise, 451000:
# area 4510xx), which registers a person of 451021 and syncs. The province
# then enrols the same key again as an office of 451000 alone (its newest
# certificate, narrower than the code and role baise was initialised
# with). Once baise has synced and holds that certificate, its own writes
# are judged by it, not by its configuration: a person of 451021 typed,
# imported, updated or deleted there is invalid input (exit 3) and nothing
# is written, while a person of 451000 is accepted and reaches the province.
# The province refuses nothing and freezes nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

free_port
on gx init --name gx --county 450000 --role hq --root \
    --listen "tcp://127.0.0.1:$PORT" --kdf test
expect "the province is the network's root" rc=0 out-lines=1
read -ra idw <"$T/out"
KEY[gx]=${idw[1]}
new_node baise 451000 hq
EPB="tcp://127.0.0.1:${PORT_OF[baise]}"
on gx enrol baise "${KEY[baise]}" "$EPB" --county 451000 --role hq
expect "gx enrols baise for its prefecture" rc=0 out-lines=1
on baise join "$(cat "$T/out")"
expect "baise joins" rc=0 "out=joined gx as hq for 451000"
idnum_v A 45102119800313001
idnum_v B 45102119751102002
idnum_v C 45100019900521003
add_ok P1 "baise registers a person of 451021 (in its area)" baise person name=岑一 id_number="$A" disability_category=physical county=451021
start_daemon gx
sync_check "baise syncs" baise gx

on gx enrol baise "${KEY[baise]}" "$EPB" --county 451000 --role office
expect "gx enrols the same key again, as an office of 451000 alone" rc=0 out-lines=1
sync_check "baise syncs and takes its newest certificate" baise gx
on baise --json members
check "baise knows its narrower certificate" \
    jqt "$T/out" '[.[] | select(.name == "baise" and .role == "office" and .county == "451000")] | length == 1'
save baise before --json list person

on baise add person name=岑二 id_number="$B" disability_category=visual county=451021
expect "typing a person of 451021: exit 3, naming the certificate's scope" rc=3 err-line \
    "err:451021 is outside this node's certified scope (office 451000)"
printf 'name,id_number,disability_category,county\n岑二,%s,visual,451021\n' "$B" >"$T/b.csv"
on baise import person "$T/b.csv"
expect "importing it: exit 3" rc=3
on baise update person "$P1" phone=13800000001
expect "updating the person of 451021 it registered before: exit 3" rc=3 \
    "err:certified scope (office 451000)"
on baise delete person "$P1"
expect "deleting it: exit 3" rc=3
on baise --json list person
check "nothing was written" same_file "$T/out" "$T/before"
add_ok P2 "a person of 451000, inside the certificate, is accepted" baise person name=岑三 id_number="$C" disability_category=hearing county=451000
sync_check "and syncs" baise gx
on gx --json get person "$P2"
check "the province holds it" jqt "$T/out" '.county == "451000"'
on gx --json get person "$P1"
check "the province's copy of the earlier person is unchanged" \
    jqt "$T/out" '(.phone // "") == "" and (.deleted // false) == false'
on gx --json audit
check "the province refused nothing of baise" \
    jqt "$T/out" '[.[] | select(.peer == "baise" and .result == "failed")] | length == 0'
on gx --json status
check "no feed frozen at the province" jqt "$T/out" '.frozen_feeds == 0'
stop_ok gx
lib_finish
