#!/usr/bin/env bash
# copyback_cli.sh - an old copy of a whole node folder put back, then
# written in before it synced, repairs its own feed from its peers
#
# An office (O) syncs with two HQs (H1, the prefecture, and H2, the
# province; both serve). Each case: O's folder is copied aside whole
# (`cp -a`, wings.mark included: nothing at open tells the copy from the
# original), O writes more and syncs both HQs, then the copy is put back in
# place of the folder. The clerk types records before O syncs, so O signs
# changes at seqs it had signed before. Cases:
#   a. fewer new changes than were lost, then sync
#   b. exactly as many as were lost (both heads equal: the sync would see
#      nothing to do without what O learns of its own feed from its peers)
#   c. more than were lost, then sync
#   d. SIGKILL the first sync after the copy-back (at several delays), then
#      sync
#   e. the office serves: its daemon stopped for the copies, records typed
#      with it stopped, then started: its start-up round repairs, a `sync`
#      it carries out sends the rest
# After each: every record (the lost ones back, the new ones) on every node
# (byte-identical `list --json`), no feed frozen, `audit --verify` clean on
# every node, and O's audit names the repair (a `fork` entry, then the
# `release` that signed the held writes again).
#
#   copyback_cli.sh PATH-TO-WINGS
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

COUNTY=450224
new_node h1 450200 hq
new_node h2 450000 hq
new_node o $COUNTY office
trust o h1
trust o h2
trust h1 h2
start_daemon h1 || die "h1 does not serve"
start_daemon h2 || die "h2 does not serve"

# person NODE I: add person I (name pI; the id number's 17th digit is I's
# parity, and so is the gender).
NEXT=1
person() {
    local idn g=female i=$NEXT
    idnum_v idn "${COUNTY}19600101$(printf %03d "$i")"
    ((i % 2)) && g=male
    on "$1" add person name="p$i" gender=$g birth_date=1960-01-01 \
        id_number="$idn" disability_category=physical disability_grade=1
    [[ $RC -eq 0 ]] || bad "add p$i on $1" "$(show_last)"
    NEXT=$((i + 1))
}

# changes NODE: how many changes NODE holds (O's own, in this test: no one
# else writes in its county).
changes() {
    on "$1" --json status
    jq -r '.changes' "$T/out"
}

# everywhere NAME: o, h1 and h2 hold the same persons (NEXT - 1 of them), no
# feed is frozen on any, and audit --verify is clean on each.
everywhere() {
    local name=$1 n want=$((NEXT - 1))
    for n in o h1 h2; do
        save "$n" "list.$n" --json list person
    done
    check "$name: the same persons on o, h1 and h2" \
        all_same "$T/list.o" "$T/list.h1" "$T/list.h2"
    check "$name: all $want persons, the lost ones and the new ones" \
        jqt "$T/list.h1" "length == $want"
    for n in o h1 h2; do
        on "$n" --json status
        check "$name: no feed frozen on $n" jqt "$T/out" '.frozen_feeds == 0'
        on "$n" audit --verify
        expect "$name: audit --verify clean on $n" rc=0 out:ok:
    done
}

FORKS=0
RELEASES=0
# repaired NAME: O's audit holds one more fork entry than before, naming a
# peer and where the feed was cut, and one more release of the writes it
# held (the audit lists entries by second, not in order within one).
repaired() {
    save o audit.o --json audit
    local n r
    n=$(jq '[.[] | select(.event == "fork")] | length' "$T/audit.o")
    r=$(jq '[.[] | select(.event == "release" and .result == "ok" and (.reason | startswith("fork: every peer has synced since")))] | length' "$T/audit.o")
    check "$1: the audit names the repair" test "$n" -gt "$FORKS"
    check "$1: the fork entry names the peer and the seq" jqt "$T/audit.o" \
        '[.[] | select(.event == "fork")] | last | (.peer == "h1" or .peer == "h2") and (.reason | test("own feed '$COUNTY' from #[0-9]+ differs from what h[12] holds"))'
    check "$1: the held writes were released, nothing lost" test "$r" -gt "$RELEASES"
    FORKS=$n
    RELEASES=$r
}

# copy_back LOST: copy O aside, write LOST persons and sync both HQs, put
# the copy back; LOSTN gets how many of O's changes the copy lacks.
copy_back() {
    local before after
    rm -rf "$T/o-copy"
    cp -a "$T/o" "$T/o-copy"
    before=$(changes o)
    for ((k = 0; k < $1; k++)); do person o; done
    on o sync
    expect "$CASE: the persons to be lost reach both HQs" rc=0 out-lines=2 \
        out~'^h1 ok' out~'^h2 ok'
    after=$(changes o)
    LOSTN=$((after - before))
    rm -rf "$T/o"
    cp -a "$T/o-copy" "$T/o"
    check "$CASE: the copy put back opens as healthy (nothing to see)" \
        same_text "$(changes o)" "$before"
}

# type_n N: the clerk types persons until O holds N changes more.
type_n() {
    local goal=$(($(changes o) + $1))
    while (($(changes o) < goal)); do person o; done
}

# settle: O syncs until nothing is held any more, then once more; H1 and
# H2 sync.
settle() {
    on o sync
    expect "$CASE: the first sync after the copy-back: both ok" rc=0 \
        out-lines=2 out~'^h1 ok' out~'^h2 ok'
    on o --json status
    check "$CASE: nothing held once both HQs synced" jqt "$T/out" '.held == null'
    on o sync
    expect "$CASE: the next sync sends what was signed again" rc=0 \
        out-lines=2 out~'^h1 ok' out~'^h2 ok'
    on h1 sync h2
    expect "$CASE: h1 and h2 sync" rc=0
}

# ---- setting out ------------------------------------------------------------------
section "setting out"
person o
person o
on o sync
expect "o syncs both HQs" rc=0 out-lines=2
everywhere "start"

# ---- a: fewer typed than lost -----------------------------------------------------
section "a: fewer new changes than were lost"
CASE=a
copy_back 3
type_n 1
settle
everywhere a
repaired a

# ---- b: as many as were lost: equal heads --------------------------------------------
section "b: exactly as many new changes as were lost (equal heads)"
CASE=b
copy_back 2
type_n "$LOSTN"
settle
everywhere b
repaired b

# ---- c: more than were lost ------------------------------------------------------------
section "c: more new changes than were lost"
CASE=c
copy_back 1
type_n $((LOSTN + 3))
settle
everywhere c
repaired c

# ---- d: SIGKILL during the first sync ---------------------------------------------------
section "d: SIGKILL during the first sync after the copy-back"
CASE=d
copy_back 2
type_n $((LOSTN + 1))
for delay in 0.005 0.02 0.05; do
    spawn_on killed o sync
    nap "$delay"
    sigkill "$SPID" || info "the sync had ended before $delay s"
    reap "$SPID" 10
    on o --json status
    check "d: after a SIGKILL at $delay s the store opens, nothing frozen" \
        jqt "$T/out" '.frozen_feeds == 0'
done
on o sync
expect "d: sync after the kills: both ok" rc=0 out-lines=2 out~'^h1 ok' \
    out~'^h2 ok'
on o sync
expect "d: and again" rc=0 out-lines=2
on o --json status
check "d: nothing held" jqt "$T/out" '.held == null'
on h1 sync h2
expect "d: h1 and h2 sync" rc=0
everywhere d
repaired d

# ---- e: the office serves -------------------------------------------------------------
section "e: the office's own daemon repairs it as it starts"
CASE=e
# serve_o: start o's daemon and wait for the sessions with h1 and h2 it
# opens as it starts.
serve_o() {
    local before i
    before=$(grep -c 'session out' "$T/o.serve.log" 2>/dev/null || true)
    start_daemon o || die "o does not serve"
    for ((i = 0; i < 5000; i++)); do
        (($(grep -c 'session out' "$T/o.serve.log") >= before + 2)) && return 0
        nap 0.002
    done
    die "o's daemon did not sync with h1 and h2 as it started"
}
serve_o
stop_ok o
rm -rf "$T/o-copy"
cp -a "$T/o" "$T/o-copy"
before=$(changes o)
serve_o
person o
person o
on o sync
expect "e: the persons to be lost reach both HQs (sync by the daemon)" rc=0 \
    out-lines=2 out~'^h1 ok' out~'^h2 ok'
stop_ok o
LOSTN=$(($(changes o) - before))
rm -rf "$T/o"
cp -a "$T/o-copy" "$T/o"
type_n "$LOSTN"
serve_o
check "e: the daemon's log says it repaired the feed" \
    grep -q "own feed $COUNTY from #[0-9]* differs" "$T/o.serve.log"
on o sync
expect "e: a sync by the daemon sends what was signed again" rc=0 \
    out-lines=2 out~'^h1 ok' out~'^h2 ok'
on o --json status
check "e: nothing held" jqt "$T/out" '.held == null'
on h1 sync h2
expect "e: h1 and h2 sync" rc=0
stop_ok o
everywhere e
repaired e

stop_ok h1
stop_ok h2
lib_finish
