#!/usr/bin/env bash
# restore_cli.sh - a restored node never forks its own feed, in any order
#
# An office (O) syncs with two HQs (H1, the prefecture, and H2, the
# province; both serve). Each round: back O up, write more on O and sync it
# (to one HQ or both), then lose O: restore the backup into a new folder
# and go on there. The restored node holds what it writes until every peer
# has synced with it since the restore; then it signs those writes after
# the changes its peers gave back. Rounds, in this order:
#   1. restore, write, sync (all peers at once), sync again
#   2. restore, sync, write, sync
#   3. restore, write, sync with the HQ that lags first (H2), then H1
#   4. restore, write, SIGKILL during the first sync (three times, at
#      growing delays), then sync
# After each round: every record on every node (byte-identical `list
# --json`), no feed frozen anywhere, `audit --verify` clean on every node.
#
#   restore_cli.sh PATH-TO-WINGS
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

COUNTY=450224
new_node h1 450200 hq
new_node h2 450000 hq
new_node o1 $COUNTY office
trust o1 h1
trust o1 h2
trust h1 h2
start_daemon h1 || die "h1 does not serve"
start_daemon h2 || die "h2 does not serve"

# person NODE I: add person I (name pI; the id number's 17th digit is I's
# parity, and so is the gender).
NPERSONS=0
person() {
    local idn g=female
    idnum_v idn "${COUNTY}19600101$(printf %03d "$2")"
    (($2 % 2)) && g=male
    on "$1" add person name="p$2" gender=$g birth_date=1960-01-01 \
        id_number="$idn" disability_category=physical disability_grade=1
    [[ $RC -eq 0 ]] || bad "add p$2 on $1" "$(show_last)"
    NPERSONS=$(($2 > NPERSONS ? $2 : NPERSONS))
}
# more NODE FIRST N: persons FIRST .. FIRST+N-1 in one import.
more() {
    persons_csv $COUNTY "$2" "$3" >"$T/more.csv"
    on "$1" import person "$T/more.csv"
    [[ $RC -eq 0 ]] || bad "import on $1" "$(show_last)"
}

# everywhere NAME NODE: NODE, h1 and h2 hold the same persons (as many as
# WANT), no feed is frozen on any, and audit --verify is clean on each.
everywhere() {
    local name=$1 n
    for n in "$2" h1 h2; do
        save "$n" "list.$n" --json list person
    done
    check "$name: the same persons on $2, h1 and h2 ($WANT)" \
        all_same "$T/list.$2" "$T/list.h1" "$T/list.h2"
    check "$name: $WANT persons" jqt "$T/list.h1" "length == $WANT"
    for n in "$2" h1 h2; do
        on "$n" --json status
        check "$name: no feed frozen on $n" jqt "$T/out" '.frozen_feeds == 0'
        on "$n" audit --verify
        expect "$name: audit --verify clean on $n" rc=0 out:ok:
    done
}

# held_on, free_on: lib.sh.

# lose OLD NEW BACKUP: OLD is gone; BACKUP restored into NEW.
lose() {
    on "$2" restore "$3"
    expect "restore into $2: says writes are held until both HQs synced" \
        rc=0 out:restored 'out:held until these peers have synced with it: h1 h2'
    check "$2 holds its writes after the restore" held_on "$2"
    IDL[$2]=${IDL[$1]}
}

# ---- setting out ----------------------------------------------------------------
section "setting out"
person o1 1
person o1 2
on o1 sync
expect "o1 syncs both HQs" rc=0 out-lines=2
WANT=2
everywhere "start" o1

# ---- 1: restore, write, sync, sync -------------------------------------------------------
section "1: restore, write, sync"
save o1 b1.out backup "$T/b1.bak"
person o1 3
person o1 4
on o1 sync
expect "1: o1 sends persons 3 and 4 to both HQs" rc=0
lose o1 o2 "$T/b1.bak"
person o2 5
on o2 --json get person "$(jq -r '.[] | select(.name == "p1") | .id' "$T/list.h1")"
expect "1: the restored node reads its records" rc=0
on o2 --json list person
check "1: the write made after the restore is seen at once" \
    jqt "$T/out" 'map(.name) | index("p5") != null'
on o2 sync
expect "1: first sync after the restore: both ok" rc=0 out-lines=2 \
    out~'^h1 ok' out~'^h2 ok'
check "1: the held write is released once both peers synced" free_on o2
on o2 sync
expect "1: second sync" rc=0
WANT=5
everywhere "1" o2

# ---- 2: restore, sync, write, sync -------------------------------------------------------
section "2: restore, sync, write, sync"
save o2 b2.out backup "$T/b2.bak"
person o2 6
on o2 sync
expect "2: o2 sends person 6" rc=0
lose o2 o3 "$T/b2.bak"
on o3 sync
expect "2: first sync after the restore" rc=0 out-lines=2
check "2: nothing held after both peers synced" free_on o3
person o3 7
on o3 sync
expect "2: sync after the write" rc=0
WANT=7
everywhere "2" o3

# ---- 3: restore, write, sync with the lagging HQ first ------------------------------------
section "3: restore, write, sync with the second HQ first"
save o3 b3.out backup "$T/b3.bak"
person o3 8
on o3 sync h1
expect "3: o3 sends person 8 to h1 only" rc=0
person o3 9
on o3 sync h1
expect "3: and person 9, to h1 only" rc=0
lose o3 o4 "$T/b3.bak"
person o4 10
on o4 sync h2
expect "3: first sync after the restore is with h2, which lags" rc=0
check "3: writes still held: h1 has not synced since" held_on o4
check "3: status names the peer waited for" jqt "$T/out" '.held.waiting_for == "h1"'
on o4 sync h1
expect "3: then h1" rc=0
check "3: released after h1" free_on o4
on o4 sync
expect "3: sync both" rc=0
on h1 sync h2
expect "3: h1 and h2 sync" rc=0
WANT=10
everywhere "3" o4

# ---- 4: restore, write, SIGKILL during the first sync -------------------------------------
section "4: SIGKILL during the first sync after a restore"
save o4 b4.out backup "$T/b4.bak"
more o4 11 400
on o4 sync
expect "4: o4 sends 400 persons" rc=0
lose o4 o5 "$T/b4.bak"
person o5 411
for delay in 0.05 0.2 0.5; do
    spawn_on killed o5 sync
    nap "$delay"
    sigkill "$SPID" || info "the sync had ended before $delay s"
    reap "$SPID" 10
    check "4: after a SIGKILL at $delay s the store opens and says held or released" \
        one_of "$(on o5 --json status && jq -r 'if .held then "held" else "free" end' "$T/out")" held free
done
on o5 sync
expect "4: sync after the kills" rc=0
on o5 sync
expect "4: and again" rc=0
check "4: released" free_on o5
WANT=411
everywhere "4" o5

stop_ok h1
stop_ok h2
lib_finish
