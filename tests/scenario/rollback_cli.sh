#!/usr/bin/env bash
# rollback_cli.sh - a store that went back in time says so, and loses nothing
#
# An office (r) syncs with its HQ (h, serving). Its folder is then put back
# in time four ways, each with the node closed:
#   A. an older copy of wings.db (taken with the node closed)
#   B. its WAL cut at an earlier commit (r's daemon SIGKILLed twice: the
#      WAL after the first kill is a prefix of the one after the second)
#   C. an older copy of its WAL (taken after one kill, put back after the
#      next)
#   D. as B, but the lost change was never synced: no peer holds it
# and one the node cannot see at open:
#   E. the whole folder copied back, wings.mark included: not noticed at
#      open; a record typed then takes a seq h holds otherwise; the next
#      sync learns r's own feed back from h, holds r's differing tail and
#      signs it again after it (copyback_cli.sh tries every order), freezing
#      nothing on either side
# Each time the next command warns on stderr that the store went back in
# time, `audit --verify` fails (exit 4) naming it, `status` says writes are
# held, and a write made then is held. One sync with h brings back what h
# holds, releases the held write (signed after what came back), and after
# one more sync r and h hold the same persons, no feed frozen, `audit
# --verify` clean on both. In D the change no peer held is said lost in
# r's audit trail, never silently; r's next change takes its seq, which
# no one else ever saw, so h accepts it.
#
#   rollback_cli.sh PATH-TO-WINGS
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

COUNTY=450224
new_node h 450200 hq
new_node r $COUNTY office
trust r h
start_daemon h || die "h does not serve"
# h never calls r (only r calls h), so nothing commits at r behind the
# script's back while its daemon runs.
free_port
on h peer set r "tcp://127.0.0.1:$PORT"
expect "h knows r at an address nobody serves" rc=0

person() { # person NODE I: add person I (gender as the id number says)
    local idn g=female
    idnum_v idn "${COUNTY}19600101$(printf %03d "$2")"
    (($2 % 2)) && g=male
    on "$1" add person name="p$2" gender=$g birth_date=1960-01-01 \
        id_number="$idn" disability_category=physical disability_grade=1
    [[ $RC -eq 0 ]] || bad "add p$2 on $1" "$(show_last)"
}
# serve_r: start r's daemon and wait for the session it opens with h as it
# starts, so nothing commits behind the script's back.
serve_r() {
    local before i
    before=$(grep -c 'session out' "$T/r.serve.log" 2>/dev/null || true)
    start_daemon r || die "r does not serve"
    for ((i = 0; i < 5000; i++)); do
        (($(grep -c 'session out' "$T/r.serve.log") > before)) && return 0
        nap 0.002
    done
    die "r's daemon did not sync with h as it started"
}
kill_r() { # SIGKILL r's daemon: its WAL stays, with its commits
    sigkill "${DPID[r]}" || die "r's daemon was not running"
    reap "${DPID[r]}" 10
    unset "DPID[r]"
    [[ -s $T/r/wings.db-wal ]] || die "no WAL left by the killed daemon"
}

# detected CASE: the next open says so; verify fails; writes are held.
detected() {
    on r --json list person
    expect "$1: the open warns that the store went back in time" rc=0 \
        'err:went back in time'
    on r audit --verify
    expect "$1: audit --verify fails naming it" rc=4 'out:went back in time'
    on r --json status
    check "$1: status: writes held after a rollback" \
        jqt "$T/out" '.held.reason == "rollback" and .held.waiting_for == "h"'
}
# recovered CASE N: after syncs, r and h agree on N persons, all clean.
recovered() {
    on r sync
    expect "$1: the first sync brings back what h holds" rc=0 out~'^h ok'
    on r --json status
    check "$1: the held write is released" jqt "$T/out" '.held == null'
    on r sync
    expect "$1: the next sync sends it" rc=0
    save r list.r --json list person
    save h list.h --json list person
    check "$1: r and h hold the same persons" same_file "$T/list.r" "$T/list.h"
    check "$1: $2 persons" jqt "$T/list.h" "length == $2"
    for n in r h; do
        on $n --json status
        check "$1: no feed frozen on $n" jqt "$T/out" '.frozen_feeds == 0'
        on $n audit --verify
        expect "$1: audit --verify clean on $n" rc=0 out:ok:
    done
}

section "A: an older wings.db"
person r 1
on r sync
expect "A: sync" rc=0
cp "$T/r/wings.db" "$T/old.db"
person r 2
person r 3
on r sync
expect "A: persons 2 and 3 reach h" rc=0
cp "$T/old.db" "$T/r/wings.db"
detected A
person r 4
on r --json list person
check "A: the write made meanwhile is seen at once" \
    jqt "$T/out" 'map(.name) | index("p4") != null'
recovered A 4

section "B: a WAL cut at an earlier commit"
serve_r
person r 5
on r sync
expect "B: person 5 reaches h" rc=0
kill_r
WAL1=$(stat -c %s "$T/r/wings.db-wal")
cp "$T/r/wings.db-wal" "$T/wal1"
serve_r
person r 6
on r sync
expect "B: person 6 reaches h" rc=0
kill_r
check "B: the second WAL is the first one and more" \
    [ "$(stat -c %s "$T/r/wings.db-wal")" -gt "$WAL1" ]
truncate -s "$WAL1" "$T/r/wings.db-wal"
detected B
person r 7
recovered B 7

section "C: an older WAL"
serve_r
person r 8
kill_r
cp "$T/r/wings.db" "$T/db2"
cp "$T/r/wings.db-wal" "$T/wal2"
serve_r
person r 9
on r sync
expect "C: persons 8 and 9 reach h" rc=0
kill_r
check "C: the database file itself did not change" same_file "$T/r/wings.db" "$T/db2"
cp "$T/wal2" "$T/r/wings.db-wal"
detected C
person r 10
recovered C 10

section "D: a lost change no peer held"
serve_r
person r 11
on r sync
expect "D: person 11 reaches h" rc=0
kill_r
WAL3=$(stat -c %s "$T/r/wings.db-wal")
serve_r
person r 12
kill_r
truncate -s "$WAL3" "$T/r/wings.db-wal"
detected D
recovered D 11
on r --json audit
check "D: r's audit trail says what was lost" \
    jqt "$T/out" '[.[] | select(.event == "release")] | last | .result == "failed" and (.reason | test("changes this node signed before the rollback were held by no peer and are lost"))'
person r 13
on r sync
expect "D: the next change (at the lost one's seq) is accepted by h" rc=0 out~'^h ok'
save r list.r --json list person
save h list.h --json list person
check "D: r and h agree" same_file "$T/list.r" "$T/list.h"
on h audit --verify
expect "D: audit --verify clean on h" rc=0

section "E: a whole folder copied back, mark included (not noticed at open)"
cp -a "$T/r" "$T/r-copy"
person r 14
on r sync
expect "E: person 14 reaches h" rc=0
on r sync
expect "E: and the session's audit entry" rc=0
rm -rf "$T/r"
cp -a "$T/r-copy" "$T/r"
person r 15
on r sync
expect "E: the first sync repairs r's own feed from h and says so" rc=0 \
    out~'^h ok' "err:its feed was repaired from the peer"
on r sync
expect "E: the next sync sends the record typed after the copy-back" rc=0 \
    out~'^h ok'
save r list.r --json list person
save h list.h --json list person
check "E: r and h agree, person 14 back on r and 15 on h" same_file \
    "$T/list.r" "$T/list.h"
check "E: persons 14 and 15 on both" jqt "$T/list.h" \
    'map(.name) | index("p14") != null and index("p15") != null'
on r audit --verify
expect "E: audit --verify clean on r" rc=0
on r --json status
check "E: nothing frozen on r" jqt "$T/out" '.frozen_feeds == 0'
on h --json status
check "E: nothing frozen on h" jqt "$T/out" '.frozen_feeds == 0'

stop_ok h
lib_finish
