#!/usr/bin/env bash
# killsteps_cli.sh - the first sync after a restore or a copy-back, killed
# at every durable step: no fork, no loss, no frozen feed
#
# An office (o) syncs with one HQ, h1, which serves (KILLSTEPS_HQS=2: two
# HQs, whose sessions then interleave, so a run's Nth step may not be the
# counted run's). Two starting states, each saved as folders (o's and the
# HQ's: the HQ writes too):
#   A. o backed up, two more records written and synced, o lost; the backup
#      restored (`wings restore`) and one record typed.
#   B. o's folder copied aside whole (`cp -a`, wings.mark included), two
#      more records written and synced, the copy put back; one record typed.
# For each: an unkilled first `wings sync` of o, run with libwg_killat.so
# preloaded (tests/reliability/killat.c), counts its fsync/fdatasync calls:
# the steps (twice: the two counts must agree). Then for each N = 1 ..
# steps and WHEN = before, after (kill just before the Nth call runs, or
# just after it returned): the saved folders put back, the HQ started, o's
# first sync SIGKILLed at step N, then `wings sync` without the shim until
# o holds nothing, and once more. Each run must end with every record (the
# lost ones and the typed one) on o and the HQ, byte-identical `list
# --json`, no frozen feed, `audit --verify` clean on both, nothing held on
# o, and in B a new `fork` entry and its `release` in o's audit; and over a
# case, some kills must have come before o released its held write and
# some after. One line per run.
# Then the HQ's side: h1's daemon, preloaded, is counted from its start
# through o's first sync to its stop, and killed before each of those
# steps in turn (as it starts, during the session, as it stops); o's sync
# runs (--timeout 1), h1 is started again without the shim, o settles, and
# the same checks hold. KILLSTEPS_HQ=0 leaves the HQ's kills out.
#
# Runs per case and WHEN are at most KILLSTEPS_MAX (default 12, at least
# 8; KILLSTEPS_HQ_MAX, default 12, for the HQ, which is killed only
# before); 0 takes every step. Over it, the first and last three steps are
# taken and every k-th (deterministic: i mod k = 0 before, i mod k = 1
# after; with k = 2, as the default gives for these counts, the two ways
# together kill at every step). Sanitized binaries: the preloaded runs add
# verify_asan_link_order=0 to ASAN_OPTIONS (the shim has no sanitizer
# runtime of its own and comes before the binary's). The last lines give
# "figure faults_kill_steps=N" for tests/reliability.sh.
#
#   killsteps_cli.sh PATH-TO-WINGS PATH-TO-LIBWG_KILLAT.SO
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ $# -ne 2 ]]; then
    echo "usage: $0 PATH-TO-WINGS PATH-TO-LIBWG_KILLAT.SO" >&2
    exit 2
fi
lib_args "$1"
SHIM=$2
case $SHIM in /*) ;; *) SHIM=$PWD/$SHIM ;; esac
[[ -r $SHIM ]] || {
    echo "$ME: '$SHIM' is not readable" >&2
    exit 2
}
lib_need jq
lib_tmp

MAXRUNS=${KILLSTEPS_MAX:-12}
((MAXRUNS == 0 || MAXRUNS >= 8)) || MAXRUNS=8
COUNTY=450224
# One HQ by default: the first sync is then one session, and step N is the
# same step in every run. KILLSTEPS_HQS=2: two, whose sessions interleave as
# the network lets them (a run's Nth step may then differ from the counted
# run's; a run that ends unkilled says so).
if [[ ${KILLSTEPS_HQS:-1} == 2 ]]; then HQS=(h1 h2); else HQS=(h1); fi
new_node h1 450200 hq
[[ ${#HQS[@]} == 1 ]] || new_node h2 450000 hq
new_node o $COUNTY office
for h in "${HQS[@]}"; do trust o "$h"; done
[[ ${#HQS[@]} == 1 ]] || trust h1 h2
for h in "${HQS[@]}"; do start_daemon "$h" || die "$h does not serve"; done

# shim_sync N WHEN: o's `wings sync` with the shim, killed at step N (0:
# never) WHEN (before/after); its count of steps goes to $T/steps. Bash's
# own "Killed" notice is kept out of the output.
shim_sync() {
    rm -f "$T/steps"
    {
        run env LD_PRELOAD="$SHIM" WG_KILLAT="$1" WG_KILLAT_WHEN="$2" \
            WG_KILLAT_COUNT_FILE="$T/steps" \
            ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
            "$W" --dir "$T/o" sync
    } 2>/dev/null
}

# save_start TAG: stop the HQs' daemons, keep o's and every HQ's folder as
# TAG.NODE, start the daemons again.
save_start() {
    local n
    for n in "${HQS[@]}"; do
        stop_daemon "$n"
        [[ $STOP_RC == 0 ]] || die "$n's daemon exits $STOP_RC"
    done
    for n in o "${HQS[@]}"; do copy_node "$n" "$1.$n"; done
    for n in "${HQS[@]}"; do start_daemon "$n" || die "$n does not serve"; done
}

# back_to TAG: the HQs' daemons stopped, every folder put back as saved in
# TAG, the daemons started. A daemon that does not stop cleanly or start
# goes into WHY.
back_to() {
    local n
    for n in "${HQS[@]}"; do
        stop_daemon "$n"
        [[ $STOP_RC == 0 ]] || WHY+="$n's daemon exits $STOP_RC; "
    done
    for n in o "${HQS[@]}"; do copy_node "$1.$n" "$n"; done
    for n in "${HQS[@]}"; do start_daemon "$n" || WHY+="$n does not serve; "; done
}

# settle: o syncs until it holds nothing (at most three times), then once
# more to send what it signed again; anything wrong goes into WHY.
settle() {
    local i
    for ((i = 1; i <= 3; i++)); do
        on o sync
        [[ $RC == 0 ]] || WHY+="sync $i after the kill: $(show_last); "
        free_on o && break
    done
    free_on o || WHY+="o still holds its writes after 3 syncs; "
    on o sync
    [[ $RC == 0 ]] || WHY+="the last sync: $(show_last); "
}

# verdict: every one of WANT_NAMES on o and every HQ, the same `list --json`
# on each, no frozen feed, `audit --verify` clean on each; else WHY.
verdict() {
    local n
    for n in o "${HQS[@]}"; do
        on "$n" --json list person
        [[ $RC == 0 ]] || WHY+="list on $n: $(show_last); "
        cp "$T/out" "$T/list.$n"
        on "$n" --json status
        jqt "$T/out" '.frozen_feeds == 0' || WHY+="a frozen feed on $n; "
        on "$n" audit --verify
        [[ $RC == 0 ]] && grep -q '^ok:' "$T/out" ||
            WHY+="audit --verify on $n: $(show_last); "
    done
    for n in "${HQS[@]}"; do
        cmp -s "$T/list.o" "$T/list.$n" || WHY+="o and $n list differently; "
    done
    AUDIT_BAD=
    if [[ -n ${AUDIT_WANT-} ]]; then
        on o --json audit
        jqt "$T/out" "$AUDIT_WANT" ||
            AUDIT_BAD="o's audit lacks $AUDIT_SAYS: it has $(jq -c '[.[] | select(.event == "fork" or .event == "release") | [.event, .result]]' "$T/out")"
    fi
    [[ -z $AUDIT_BAD ]] || WHY+="$AUDIT_BAD; "
    [[ $(jq -r '[.[].name] | sort | join(" ")' "$T/list.o") == "$WANT_NAMES" ]] ||
        WHY+="o holds $(jq -r '[.[].name] | sort | join(" ")' "$T/list.o"), not $WANT_NAMES; "
}

# pick STEPS PHASE: the steps to kill at, into PICK: all of them if STEPS
# fits MAXRUNS (or MAXRUNS is 0), else the first and last three and those
# i with i mod k = PHASE mod k, k the smallest stride that fits. Phases 0
# (before) and 1 (after) together take every step at least once.
pick() {
    local s=$1 i
    PICK=()
    K=1
    if ((MAXRUNS == 0 || s <= MAXRUNS)); then
        for ((i = 1; i <= s; i++)); do PICK+=("$i"); done
        return
    fi
    K=$(((s - 6 + MAXRUNS - 7) / (MAXRUNS - 6)))
    for ((i = 1; i <= s; i++)); do
        if ((i <= 3 || i > s - 3 || i % K == $2 % K)); then PICK+=("$i"); fi
    done
}

KILLRUNS=0
# kill_every TAG: count the steps of o's first sync from TAG (unkilled,
# then settled and judged), then kill at each picked step before and after.
kill_every() {
    local tag=$1 steps n when got
    WHY=
    back_to "$tag"
    shim_sync 0 before
    steps=$(cat "$T/steps" 2>/dev/null || echo 0)
    [[ $RC == 0 ]] || WHY+="the unkilled first sync: $(show_last); "
    settle
    verdict
    if [[ -z $WHY ]]; then
        ok "$tag: the unkilled first sync takes $steps durable steps; all settles"
    else
        bad "$tag: the unkilled first sync and after" "$WHY"
    fi
    check "$tag: the first sync has durable steps to kill at" test "$steps" -gt 0
    if ((${#HQS[@]} == 1)); then
        WHY=
        back_to "$tag"
        shim_sync 0 before
        got=$(cat "$T/steps" 2>/dev/null || echo 0)
        check "$tag: a second unkilled first sync takes the same $steps steps" \
            same_text "$got" "$steps"
    fi
    HELD=0 FREED=0
    for when in before after; do
        pick "$steps" "$([[ $when == before ]] && echo 0 || echo 1)"
        # KILLSTEPS_AT="N...": those steps only (to look at one again).
        [[ -z ${KILLSTEPS_AT-} ]] || read -ra PICK <<<"$KILLSTEPS_AT"
        info "$tag: $steps steps; killing $when ${#PICK[@]} of them: ${PICK[*]}"
        for n in "${PICK[@]}"; do
            WHY=
            back_to "$tag"
            shim_sync "$n" "$when"
            got=$RC
            KILLRUNS=$((KILLRUNS + 1))
            if [[ $got != 137 ]] && ((${#HQS[@]} == 1)); then
                WHY+="not killed at step $n (exit $got): the steps moved; "
            elif [[ $got != 137 ]]; then
                # With two HQs a run's steps may differ from the counted
                # run's by the interleaving of the two sessions.
                info "$tag $when $n: not killed (exit $got; this run took $(cat "$T/steps" 2>/dev/null || echo '?') steps)"
            fi
            on o --json status
            [[ $RC == 0 ]] || WHY+="the store does not open after the kill: $(show_last); "
            if jqt "$T/out" '.held != null'; then
                HELD=$((HELD + 1))
            else
                FREED=$((FREED + 1))
            fi
            settle
            verdict
            if [[ -z $WHY ]]; then
                ok "$tag: killed $when step $n/$steps; then all $WANT persons everywhere, nothing frozen or held, audits clean"
            else
                bad "$tag: killed $when step $n/$steps" "$WHY"
            fi
        done
    done
    # The kills landed on both sides of the release of the held writes
    # (else the steps would not be the ones that matter).
    info "$tag: after the kill o still held its writes $HELD times, had released them $FREED times"
    check "$tag: some kills came before the release of the held writes" test "$HELD" -gt 0
    check "$tag: and some after it" test "$FREED" -gt 0
}

# shim_serve N WHEN: h1's daemon started with the shim, killed at its step
# N (0: never) WHEN, counting into $T/hsteps at a normal exit. Returns 0
# once it serves, 1 if it died first (killed while it started).
shim_serve() {
    local d=$T/h1 i pid got
    rm -f "$T/hsteps"
    env LD_PRELOAD="$SHIM" WG_KILLAT="$1" WG_KILLAT_WHEN="$2" \
        WG_KILLAT_COUNT_FILE="$T/hsteps" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$W" --dir "$d" serve --interval 86400 </dev/null >>"$T/h1.serve.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    DPID[h1]=$pid
    for ((i = 0; i < 5000; i++)); do
        got=
        if [[ -S $d/wings.ctl && -s $d/wings.pid ]]; then
            read -r got <"$d/wings.pid" || true
        fi
        [[ $got == "$pid" ]] && return 0
        ours "$pid" || break
        nap 0.002
    done
    return 1
}

HQKILLS=0
# hq_kill_every TAG: h1's steps from its start through o's first sync from
# TAG to its stop, counted unkilled; then h1 killed at each picked step
# (before only), o's first sync run (it fails if h1 died during it), h1
# started again without the shim, o settled and judged.
hq_kill_every() {
    local tag=$1 steps n pre
    WHY=
    back_to "$tag"
    stop_daemon h1
    shim_serve 0 before || die "h1 does not serve with the shim"
    stop_daemon h1
    pre=$(cat "$T/hsteps" 2>/dev/null || echo 0)
    shim_serve 0 before || die "h1 does not serve with the shim"
    on o sync
    stop_daemon h1
    steps=$(cat "$T/hsteps" 2>/dev/null || echo 0)
    start_daemon h1 || die "h1 does not serve"
    settle
    verdict
    check "$tag: h1's durable steps counted (its start and stop: $pre; with o's first sync: $steps)" \
        test -z "$WHY" -a "$steps" -gt "$pre"
    local omax=$MAXRUNS
    MAXRUNS=${KILLSTEPS_HQ_MAX:-12}
    ((MAXRUNS == 0 || MAXRUNS >= 8)) || MAXRUNS=8
    pick "$steps" 0
    MAXRUNS=$omax
    info "$tag: h1 has $steps steps; killing it before ${#PICK[@]} of them: ${PICK[*]}"
    for n in "${PICK[@]}"; do
        hq_run "$tag" "$n" "$steps" 2>>"$T/shell.err"
    done
}

# hq_run TAG N STEPS: one run of hq_kill_every (bash's notices of the
# killed daemon go to $T/shell.err).
hq_run() {
    local tag=$1 n=$2 steps=$3 died
    {
        WHY=
        back_to "$tag"
        stop_daemon h1
        died=
        shim_serve "$n" before || died="as it started"
        # h1 may be dead or die in the session: o waits 1 s, not the default.
        on o sync --timeout 1
        if [[ -z $died ]] && ! ours "${DPID[h1]}"; then
            died="during o's sync"
        elif [[ -z $died ]]; then
            # Past the sync's steps: the step is one of h1's stop.
            died="as it stopped"
        fi
        stop_daemon h1
        [[ $STOP_RC == 137 ]] || WHY+="h1 not killed at step $n (exit $STOP_RC); "
        forget_dead
        HQKILLS=$((HQKILLS + 1))
        start_daemon h1 || WHY+="h1 does not serve again after the kill; "
        settle
        verdict
        if [[ -z $WHY ]]; then
            ok "$tag: h1 killed before its step $n/$steps ($died); then all $WANT persons on both, nothing frozen or held, audits clean"
        else
            bad "$tag: h1 killed before its step $n/$steps ($died)" "$WHY"
        fi
    }
}

# forget_dead: leave every ended background process out of the cleanup.
forget_dead() {
    local p
    for p in "${PIDS[@]}"; do
        ours "$p" || { wait "$p" 2>/dev/null || true; forget "$p"; }
    done
}

# ---- setting out ------------------------------------------------------------------
section "setting out"
add_person o 1
add_person o 2
on o sync
expect "o syncs with ${HQS[*]}" rc=0 out-lines=${#HQS[@]} out~'^h1 ok'

# ---- A: restore, one record typed ----------------------------------------------------
section "A: restore, then one record typed"
save o b.out backup "$T/a.bak"
add_person o 3
add_person o 4
on o sync
expect "A: persons 3 and 4 reach ${HQS[*]}" rc=0 out-lines=${#HQS[@]}
mv "$T/o" "$T/o.lost"
on o restore "$T/a.bak"
expect "A: the backup restored; writes held until ${HQS[*]} synced" rc=0 \
    "out:held until these peers have synced with it: ${HQS[*]}"
add_person o 5
save_start A
WANT=5 WANT_NAMES="p1 p2 p3 p4 p5"
kill_every A
((${#HQS[@]} > 1 || ${KILLSTEPS_HQ:-1} == 0)) || hq_kill_every A

# ---- B: the folder copied back, one record typed -------------------------------------------
section "B: the folder copied back whole, then one record typed"
WHY=
back_to A
settle
verdict
[[ -z $WHY ]] || die "B cannot start: $WHY"
copy_node o o.copy
add_person o 6
add_person o 7
on o sync
expect "B: persons 6 and 7 reach ${HQS[*]}" rc=0 out-lines=${#HQS[@]}
copy_node o.copy o
check "B: the copy put back opens as healthy" free_on o
add_person o 8
save_start B
WANT=8 WANT_NAMES="p1 p2 p3 p4 p5 p6 p7 p8"
# o's audit must name the repair: one more `fork` entry than the saved
# state holds, and the release of the held write it signed again. (Each
# entry commits with what it tells of: written in a transaction of its own
# after the repair's or the release's commit, a kill between the two lost
# it while the repair or release stood.)
on B.o --json audit
FORKS0=$(jq '[.[] | select(.event == "fork")] | length' "$T/out")
AUDIT_WANT="([.[] | select(.event == \"fork\")] | length) > $FORKS0 and
    ([.[] | select(.event == \"release\" and .result == \"ok\" and
        (.reason | startswith(\"fork: every peer has synced since\")))] | length) > 0"
AUDIT_SAYS="a new fork entry and the release after it"
kill_every B
((${#HQS[@]} > 1 || ${KILLSTEPS_HQ:-1} == 0)) || hq_kill_every B

section "done"
info "$KILLRUNS kill runs of the office, $HQKILLS of the HQ"
echo "figure faults_kill_steps=$((KILLRUNS + HQKILLS))"
for h in "${HQS[@]}"; do stop_ok "$h"; done
lib_finish
