#!/usr/bin/env bash
# sync_cli.sh - scenario tests of sync, serve, the daemon and the audit trail
# as seen through the `wings` CLI
#
#   bash tests/scenario/sync_cli.sh build/wings
#
# Drives the real binary: throw-away nodes (lib.sh's new_node: the test KDF,
# so each unlock is fast) listening on free loopback ports, `wings serve`
# daemons started in the background and stopped with SIGTERM, and asserts
# exact outcomes (CLI.md "Sync" and "Audit", DESIGN.md "Sync", "Audit" and
# "One process owns the store"):
#
#   1. two offices (450224, 450225) and a regional HQ (450000): offline
#      writes, a conflicting edit of one field (the later wall clock wins
#      everywhere), deletes; syncs in several orders, once through the HQ's
#      daemon; per county `list --json` byte-identical; no office holds
#      another county; the output of `sync` and `--json sync`
#   2. randomised convergence: five nodes, a fixed seed, random writes, random
#      pairwise syncs and syncs killed with SIGKILL part-way; then rounds of
#      syncs until nothing changes: every node agrees per county and
#      `audit --verify` holds everywhere
#   3. SIGKILL in the middle of a 3,000-person catch-up: of the syncing
#      client, of the serving (sending) office daemon, and of a serving
#      (receiving) office daemon; every record arrives exactly once
#   4. an untrusted node is refused (exit 6, within its timeout, audited on
#      the HQ, nothing of it lands); an unreachable peer fails within the
#      timeout; a peer removed on the HQ is refused at once
#   5. a national HQ (000000) above the regional one: every county arrives,
#      byte-identical, every feed verifies, the offices' audit entries and
#      record origins arrive intact
#   6. one process owns the store: commands through the daemon, the same
#      output as without it; during a 3,000-row import only the daemon has
#      wings.db open; SIGTERM exits 0 and removes the control socket
#   7. `peer list --json` after a session; `peer remove`, then sync: exit 5
#
# Every session appends an audit entry to its node's own feed, which the next
# session carries; so two nodes never reach "sync received=0 both ways", and
# scenario 2 syncs in rounds until the record tables stop changing instead.
#
# Prints one line per check and ends with "N passed, 0 failed"; exits 1
# naming every failed check. Known bugs are XFAIL lines, counted apart.
# Needs jq. SYNC_CLI_SEED overrides scenario 2's seed.
set -euo pipefail
# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq

SEED=${SYNC_CLI_SEED:-4502}
C1=450224 # Rong'an
C2=450225 # Rongshui
TABLES=(person training placement)

# ---- helpers ----------------------------------------------------------------

# distinct_ids FILE N: the JSON array in FILE has N records with N distinct ids.
distinct_ids() {
    [[ $(jq length "$1") -eq $2 && $(jq -r '.[].id' "$1" | sort -u | wc -l) -eq $2 ]]
}
# only_counties FILE C...: every record in the JSON array in FILE is of one
# of the counties C.
only_counties() {
    local f=$1
    shift
    jq -e --args '[.[] | select(.county as $c | $ARGS.positional | index($c) | not)] == []' \
        "$f" "$@" >/dev/null 2>&1
}
# lt_ms A B: A < B (milliseconds).
lt_ms() { (($1 < $2)); }
# between_ms X LO HI: LO <= X < HI.
between_ms() { (($2 <= $1 && $1 < $3)); }
# kill_on_write PID DIR first|settled: SIGKILL PID once the store in DIR is
# being written (after 20 s at the latest). A transaction's frames reach the
# WAL when it commits (the WAL is empty while the store is open and unchanged,
# and checkpointed away when a process closes it), and a catch-up of 3,000
# persons comes in two batches (2,048 changes, then the rest), each applied
# in one transaction. "first": at the first bytes of the first commit (torn
# mid-write); "settled": once the first commit's frames are all there (the
# WAL stopped growing), while the next batch is being applied.
# Then reaps PID into REAPED.
kill_on_write() { kill_on_write_ "$@" 2>/dev/null; }
kill_on_write_() {
    local i wal=$2/wings.db-wal size last=-1
    for ((i = 0; i < 10000; i++)); do
        if [[ -s $wal ]]; then
            [[ $3 == first ]] && break
            size=$(stat -c %s "$wal" 2>/dev/null) || size=0
            ((size == last)) && break
            last=$size
        fi
        nap 0.002
    done
    if ours "$1"; then kill -9 "$1" || true; fi
    reap_ "$1" 10
}
# sync_as_server_dies CLIENT SERVER DIR first|settled: CLIENT syncs with
# SERVER's daemon (--timeout 3), which kill_on_write SIGKILLs by the store in
# DIR; the sync's exit status goes to REAPED, and a line says how it ended.
sync_as_server_dies() {
    "$W" --dir "$T/$1" sync "$2" --timeout 3 </dev/null >"$T/cut.out" 2>&1 &
    local p=$!
    PIDS+=("$p")
    kill_on_write "${DPID[$2]}" "$3" "$4"
    unset "DPID[$2]"
    reap "$p" 15
    info "$1's sync when $2's daemon died: exit $REAPED: $(tr '\n' '|' <"$T/cut.out")"
}

# ===========================================================================
section "1. two offices and a regional HQ: offline writes, a conflict, deletes"

new_node office1 $C1 office
new_node office2 $C2 office
new_node hq 450000 hq
trust office1 hq
trust office2 hq

idnum_v N1 "${C1}19800101001"
idnum_v N2 "${C1}19810202002"
idnum_v N3 "${C1}19820303003"
idnum_v N4 "${C2}19830404004"
idnum_v N5 "${C2}19840505005"
idnum_v N6 "${C1}19850606006"
idnum_v N7 "${C2}19860707007"
idnum_v N8 "${C2}19870808008"

# Offline: nobody serves, nobody syncs.
add_ok A1 "office1 adds person A1 offline" office1 person name=韦一 \
    id_number="$N1" birth_date=1980-01-01 disability_category=physical \
    disability_grade=2 township=长安镇
add_ok A2 "office1 adds person A2 offline" office1 person name=韦二 \
    id_number="$N2" disability_category=visual
add_ok A3 "office1 adds person A3 offline" office1 person name=韦三 \
    id_number="$N3" disability_category=hearing
add_ok TA1 "office1 adds a training of A1 offline" office1 training \
    person_id="$A1" course=直播电商 category=ecommerce_live \
    start_date=2026-03-01 outcome=enrolled
add_ok PA2 "office1 adds a placement of A2 offline" office1 placement \
    person_id="$A2" employer=柳州螺蛳粉厂 employment_type=enterprise \
    start_date=2026-04-01 monthly_income=2600 status=active
add_ok B1 "office2 adds person B1 offline" office2 person name=覃一 \
    id_number="$N4" disability_category=speech phone=13700000000
add_ok B2 "office2 adds person B2 offline" office2 person name=覃二 \
    id_number="$N5" disability_category=mental
add_ok TB1 "office2 adds a training of B1 offline" office2 training \
    person_id="$B1" course=客服 category=customer_service \
    start_date=2026-03-02 outcome=completed hours=40
add_ok PB1 "office2 adds a placement of B1 offline" office2 placement \
    person_id="$B1" employer=融水苗绣 employment_type=self_employed \
    start_date=2026-05-01 status=active
add_ok H1 "hq adds a person of $C1 offline" hq person name=黄一 \
    id_number="$N6" disability_category=multiple county=$C1
add_ok H2 "hq adds a person of $C2 offline" hq person name=黄二 \
    id_number="$N7" disability_category=intellectual county=$C2
add_ok H3 "hq adds another person of $C2 offline" hq person name=黄三 \
    id_number="$N8" disability_category=physical county=$C2
add_ok TH2 "hq adds a training of $C2 offline" hq training person_id="$H2" \
    course=竹编 category=handicraft start_date=2026-03-03 outcome=enrolled \
    county=$C2
add_ok PH1 "hq adds a placement of $C1 offline" hq placement person_id="$H1" \
    employer=三江茶园 employment_type=agricultural start_date=2026-06-01 \
    status=active county=$C1
on office1 delete person "$A3"
expect "office1 deletes A3 offline" rc=0
on office2 delete person "$B2"
expect "office2 deletes B2 offline" rc=0
on hq delete person "$H3"
expect "hq deletes H3 offline" rc=0

# First contact: office1, office2, office1 again, each against the serving HQ.
start_daemon hq
on office1 sync hq
expect "office1 sync hq: exit 0, one line 'hq ok sent=N received=M'" rc=0 \
    err-empty "out~^hq ok sent=[0-9]+ received=[0-9]+\$"
check "office1's sync output is that one line alone" sync_ok "$T/out" hq
on office2 --json sync
expect "office2 --json sync (all peers): exit 0" rc=0 err-empty
check "--json sync is an array of {peer,ok,sent,received,error}" jqt "$T/out" \
    'type == "array" and length == 1 and
     (.[0] | keys_unsorted) == ["peer","ok","sent","received","error"] and
     .[0].peer == "hq" and .[0].ok == true and
     (.[0].sent | type) == "number" and (.[0].received | type) == "number" and
     .[0].error == null'
check "office2 sent its changes to hq (sent > 0)" jqt "$T/out" '.[0].sent > 0'
sync_check "office1 sync hq again: ok" office1 hq
stop_ok hq

# A conflict: the same field of one record, the later wall clock on the
# other side of the link; one of each direction.
on office1 update person "$A1" township=office1写的镇
expect "office1 edits A1's township" rc=0
on hq update person "$B1" phone=13800000001
expect "hq edits B1's phone" rc=0
sleep 1.1
on hq update person "$A1" township=hq写的镇
expect "1.1 s later hq edits A1's township" rc=0
on office2 update person "$B1" phone=13900000002
expect "1.1 s later office2 edits B1's phone" rc=0
# Deletes of records another node wrote.
on hq delete placement "$PA2"
expect "hq deletes office1's placement PA2" rc=0
on office1 delete placement "$PH1"
expect "office1 deletes hq's placement PH1" rc=0
on office2 delete training "$TH2"
expect "office2 deletes hq's training TH2" rc=0

start_daemon hq
sync_check "office2 sync hq: ok" office2 hq
sync_check "office1 sync hq: ok" office1 hq
stop_ok hq

# Once through the HQ's daemon: `wings --dir hq sync office2` is carried out
# by the daemon (it holds the store), with office2 serving too.
start_daemon office2
start_daemon hq
sync_check "hq sync office2 through hq's daemon: ok" hq office2 --timeout 10
stop_ok hq
stop_ok office2

start_daemon hq
sync_check "office1 sync hq: ok" office1 hq
sync_check "office2 sync hq: ok" office2 hq
on office1 sync hq
expect "office1 sync hq once more: only its own last audit entry moves" rc=0 \
    err-empty "out=hq ok sent=1 received=0"
stop_ok hq

for t in "${TABLES[@]}"; do
    save office1 "s1-o1-$t" --json list "$t" --where county=$C1
    save hq "s1-hq-$C1-$t" --json list "$t" --where county=$C1
    check "$t of $C1: list --json byte-identical on office1 and hq" \
        same_file "$T/s1-o1-$t" "$T/s1-hq-$C1-$t"
    save office2 "s1-o2-$t" --json list "$t" --where county=$C2
    save hq "s1-hq-$C2-$t" --json list "$t" --where county=$C2
    check "$t of $C2: list --json byte-identical on office2 and hq" \
        same_file "$T/s1-o2-$t" "$T/s1-hq-$C2-$t"
done
check "persons of $C1: exactly A1, A2, H1 (A3 deleted)" \
    ids_are "$T/s1-o1-person" "$A1" "$A2" "$H1"
check "persons of $C2: exactly B1, H2 (B2 and H3 deleted)" \
    ids_are "$T/s1-o2-person" "$B1" "$H2"
check "trainings of $C1: exactly TA1" ids_are "$T/s1-o1-training" "$TA1"
check "trainings of $C2: exactly TB1 (TH2 deleted)" \
    ids_are "$T/s1-o2-training" "$TB1"
check "placements of $C1: none (PA2 and PH1 deleted)" \
    is_lines "$T/s1-o1-placement" "[]"
check "placements of $C2: exactly PB1" ids_are "$T/s1-o2-placement" "$PB1"
check "A1's township is hq's later write, on office1 and hq" jqt \
    "$T/s1-o1-person" "(.[] | select(.id == \"$A1\") | .township) == \"hq写的镇\""
check "B1's phone is office2's later write, on office2 and hq" jqt \
    "$T/s1-o2-person" "(.[] | select(.id == \"$B1\") | .phone) == \"13900000002\""
on hq --json history person "$A1"
check "A1's history on hq keeps the losing township too" jqt "$T/out" \
    '[.[].fields.township // empty] == ["长安镇","office1写的镇","hq写的镇"]'
for t in "${TABLES[@]}"; do
    on office1 --json list "$t" --where county=$C2
    expect "office1 holds no $t of $C2" rc=0 "out=[]"
    on office2 --json list "$t" --where county=$C1
    expect "office2 holds no $t of $C1" rc=0 "out=[]"
done

# ===========================================================================
section "2. randomised convergence (seed $SEED): writes, syncs, SIGKILLed syncs"

new_node rhq 450000 hq
new_node ra1 $C1 office
new_node ra2 $C1 office
new_node rb1 $C2 office
new_node rb2 $C2 office
EDGES=("ra1 rhq" "ra2 rhq" "rb1 rhq" "rb2 rhq" "ra1 ra2" "rb1 rb2")
RNODES=(rhq ra1 ra2 rb1 rb2)
for e in "${EDGES[@]}"; do
    read -r x y <<<"$e"
    trust "$x" "$y"
done

t0=0 t1=0
WRITES=0 SYNCS=0 KILLED=0 FINISHED=0 STOPS=0 SEQ=0
WRITE_FAILS=() SYNC_FAILS=() KILL_ODD=() STOP_FAILS=()

# rand_write NODE: one random valid write on NODE.
rand_write() {
    local n=$1 county=${COUNTY_OF[$1]} op pick pid id
    local -a held=()
    SEQ=$((SEQ + 1))
    [[ ${ROLE_OF[$n]} == hq ]] && { ((RANDOM % 2)) && county=$C2 || county=$C1; }
    op=$((RANDOM % 8))
    ((op < 6)) || op=0 # adds of persons three times as often
    if ((op > 0)); then
        on "$n" --json list person
        mapfile -t held < <(jq -r '.[] | "\(.id) \(.county)"' "$T/out")
        if ((${#held[@]} == 0)); then
            op=0
        else
            pick=${held[RANDOM % ${#held[@]}]}
            pid=${pick% *}
            county=${pick#* }
        fi
    fi
    case $op in
    0)
        idnum_v id "${county}19900101$(printf '%03d' "$SEQ")"
        on "$n" add person name="随机$SEQ" id_number="$id" birth_date=1990-01-01 \
            disability_category=physical county="$county"
        ;;
    1) on "$n" update person "$pid" township="镇$SEQ" ;;
    2) on "$n" update person "$pid" phone="$(printf '138%08d' $SEQ)" disability_grade=$((SEQ % 4 + 1)) ;;
    3)
        on "$n" add training person_id="$pid" course="课程$SEQ" category=it \
            start_date=2026-07-01 outcome=enrolled county="$county"
        ;;
    4)
        on "$n" add placement person_id="$pid" employer="企业$SEQ" \
            employment_type=online start_date=2026-08-01 monthly_income="$SEQ" \
            status=active county="$county"
        ;;
    5) on "$n" delete person "$pid" ;;
    esac
    WRITES=$((WRITES + 1))
    [[ $RC -eq 0 ]] || WRITE_FAILS+=("$n op $op: $(show_last)")
}

# note_stop NODE: stop NODE's daemon, remembering a non-zero exit.
note_stop() {
    stop_daemon "$1"
    STOPS=$((STOPS + 1))
    [[ $STOP_RC == 0 ]] || STOP_FAILS+=("$1: exit $STOP_RC")
}

# note_sync CLIENT SERVER: `wings sync` (SERVER's daemon runs), remembering
# anything but exit 0 with the one "ok" line.
note_sync() {
    on "$1" sync "$2" --timeout 10
    SYNCS=$((SYNCS + 1))
    if [[ $RC -ne 0 ]] || ! sync_ok "$T/out" "$2"; then
        SYNC_FAILS+=("$1 sync $2: $(show_last)")
    fi
}

# kill_sync CLIENT SERVER MS: `wings sync` in the background, SIGKILLed MS
# milliseconds after it started (SERVER's daemon runs).
kill_sync() {
    local p
    "$W" --dir "$T/$1" sync "$2" --timeout 10 </dev/null >"$T/killed.out" 2>&1 &
    p=$!
    PIDS+=("$p")
    sleep_ms "$3"
    {
        if ours "$p"; then kill -9 "$p" || true; fi
        reap_ "$p" 15
    } 2>/dev/null
    case $REAPED in
    137) KILLED=$((KILLED + 1)) ;;
    0) FINISHED=$((FINISHED + 1)) ;;
    *) KILL_ODD+=("$1 sync $2 killed after $3 ms: exit $REAPED: $(tr '\n' '|' <"$T/killed.out")") ;;
    esac
}

RANDOM=$SEED
for ((step = 1; step <= 40; step++)); do
    r=$((RANDOM % 6))
    if ((r < 3)); then
        rand_write "${RNODES[RANDOM % 5]}"
    else
        read -r x y <<<"${EDGES[RANDOM % 6]}"
        if ((RANDOM % 2)); then z=$x x=$y y=$z; fi
        start_daemon "$y"
        if ((r < 5)); then
            note_sync "$x" "$y"
        else
            kill_sync "$x" "$y" $((RANDOM % 201))
        fi
        note_stop "$y"
    fi
done
info "$WRITES writes, $SYNCS syncs, $((KILLED + FINISHED)) syncs SIGKILLed ($KILLED died, $FINISHED had finished)"
check "every random write succeeded ($WRITES)" none "${#WRITE_FAILS[@]}"
((${#WRITE_FAILS[@]} == 0)) || printf '     %s\n' "${WRITE_FAILS[@]}"
check "every random sync exits 0 with its one ok line ($SYNCS)" \
    none "${#SYNC_FAILS[@]}"
((${#SYNC_FAILS[@]} == 0)) || printf '     %s\n' "${SYNC_FAILS[@]}"
check "every SIGKILLed sync died of it or had finished (exit 137 or 0)" \
    none "${#KILL_ODD[@]}"
((${#KILL_ODD[@]} == 0)) || printf '     %s\n' "${KILL_ODD[@]}"

# note_syncs_at_once SERVER CLIENT...: every CLIENT's `wings sync SERVER` at
# the same time (SERVER's daemon runs), remembering failures as note_sync.
note_syncs_at_once() {
    local server=$1 c
    local -A pid=()
    shift
    for c in "$@"; do
        "$W" --dir "$T/$c" sync "$server" --timeout 10 </dev/null \
            >"$T/$c.sync.out" 2>&1 &
        pid[$c]=$!
        PIDS+=("$!")
    done
    for c in "$@"; do
        reap "${pid[$c]}" 30
        SYNCS=$((SYNCS + 1))
        if [[ $REAPED != 0 ]] || ! sync_ok "$T/$c.sync.out" "$server"; then
            SYNC_FAILS+=("$c sync $server (at once): exit $REAPED: $(tr '\n' '|' <"$T/$c.sync.out")")
        fi
    done
}

# Rounds: the four offices against the HQ at once, then each pair of
# same-county offices, until no node's tables change in a round.
snapshot() {
    local d=$T/snap$1 t
    mkdir -p "$d"
    for t in "${TABLES[@]}"; do
        save ra1 "snap$1/ra1-$t" --json list "$t"
        save ra2 "snap$1/ra2-$t" --json list "$t"
        save rb1 "snap$1/rb1-$t" --json list "$t"
        save rb2 "snap$1/rb2-$t" --json list "$t"
        save rhq "snap$1/rhq-$C1-$t" --json list "$t" --where county=$C1
        save rhq "snap$1/rhq-$C2-$t" --json list "$t" --where county=$C2
        save rhq "snap$1/rhq-$t" --json list "$t"
    done
}
ROUNDS=0
CONVERGED=0
for ((round = 1; round <= 6; round++)); do
    start_daemon rhq
    note_syncs_at_once rhq ra1 ra2 rb1 rb2
    note_stop rhq
    start_daemon ra2
    note_sync ra1 ra2
    note_stop ra2
    start_daemon rb2
    note_sync rb1 rb2
    note_stop rb2
    snapshot "$round"
    ROUNDS=$round
    if ((round > 1)) && diff -r "$T/snap$((round - 1))" "$T/snap$round" >/dev/null; then
        CONVERGED=1
        break
    fi
done
check "the tables stop changing within 6 rounds of syncs (took $ROUNDS)" \
    same_text "$CONVERGED" 1
check "every sync of the rounds exits 0 with its one ok line" \
    none "${#SYNC_FAILS[@]}"
((${#SYNC_FAILS[@]} == 0)) || printf '     %s\n' "${SYNC_FAILS[@]}"
check "every daemon stopped by SIGTERM exits 0 ($STOPS)" \
    none "${#STOP_FAILS[@]}"
((${#STOP_FAILS[@]} == 0)) || printf '     %s\n' "${STOP_FAILS[@]}"
S=$T/snap$ROUNDS
for t in "${TABLES[@]}"; do
    check "$t of $C1: list --json identical on ra1, ra2 and rhq" \
        all_same "$S/ra1-$t" "$S/ra2-$t" "$S/rhq-$C1-$t"
    check "$t of $C2: list --json identical on rb1, rb2 and rhq" \
        all_same "$S/rb1-$t" "$S/rb2-$t" "$S/rhq-$C2-$t"
    check "rhq holds no $t outside $C1 and $C2" only_counties "$S/rhq-$t" $C1 $C2
done
info "rhq holds $(jq length "$S/rhq-person") persons, $(jq length "$S/rhq-training") trainings, $(jq length "$S/rhq-placement") placements"
check "the random writes left persons in both counties" jqt "$S/rhq-person" \
    "any(.[]; .county == \"$C1\") and any(.[]; .county == \"$C2\")"
for n in "${RNODES[@]}"; do
    on "$n" audit --verify
    expect "$n: audit --verify exits 0" rc=0 err-empty "out~^ok: "
done

# ===========================================================================
section "3. SIGKILL in the middle of a 3,000-person catch-up"

new_node bulk $C1 office
new_node hq3 450000 hq
trust bulk hq3
persons_csv $C1 0 3000 学员 >"$T/p3000.csv"
on bulk import person "$T/p3000.csv"
expect "bulk imports 3,000 persons" rc=0 "out=imported 3000 person rows"
save bulk bulk-person --json list person
check "(bulk lists 3,000 distinct ids)" distinct_ids "$T/bulk-person" 3000

start_daemon bulk
# Kills land while hq3 writes the commit of its first batch, of its second,
# and (from a fresh start) of whatever batch is next. After each, a direct
# `list` reopens hq3's store (recovering it) and closes it again.
KILLS=()
for mode in first settled first; do
    "$W" --dir "$T/hq3" sync bulk --timeout 10 </dev/null >"$T/killed.out" 2>&1 &
    p=$!
    PIDS+=("$p")
    kill_on_write "$p" "$T/hq3" "$mode"
    on hq3 --json list person
    KILLS+=("$mode: exit $REAPED, then $(jq length "$T/out") persons;")
done
info "hq3's sync killed at ${KILLS[*]}"
sync_check "hq3 sync bulk, after the kills: ok" hq3 bulk
stop_ok bulk
save hq3 hq3-person --json list person
check "hq3's persons: list --json byte-identical to bulk's (3,000, each once)" \
    same_file "$T/hq3-person" "$T/bulk-person"
check "hq3 holds exactly 3,000 distinct persons" distinct_ids "$T/hq3-person" 3000
on hq3 audit --verify
expect "hq3: audit --verify exits 0" rc=0 "out~^ok: "
on bulk audit --verify
expect "bulk: audit --verify exits 0" rc=0 "out~^ok: "

# The serving side killed while it sends: bulk's daemon, to a fresh HQ.
new_node hq4 450000 hq
trust bulk hq4
start_daemon bulk
sync_as_server_dies hq4 bulk "$T/hq4" first
check "hq4's sync ends within its timeout when the serving side dies (exit 6 or 0)" \
    one_of "$REAPED" 6 0
start_daemon bulk
sync_check "bulk's daemon restarted: hq4 sync bulk ok" hq4 bulk
stop_ok bulk
save hq4 hq4-person --json list person
check "hq4's persons: list --json byte-identical to bulk's" \
    same_file "$T/hq4-person" "$T/bulk-person"
on hq4 audit --verify
expect "hq4: audit --verify exits 0" rc=0 "out~^ok: "
on bulk audit --verify
expect "bulk: audit --verify exits 0 after its daemon was SIGKILLed" rc=0 "out~^ok: "

# The serving side killed while it receives: a fresh office's daemon, fed by
# hq3.
new_node bulk2 $C1 office
trust bulk2 hq3
start_daemon bulk2
sync_as_server_dies hq3 bulk2 "$T/bulk2" settled
check "hq3's sync ends within its timeout when the receiving side dies (exit 6 or 0)" \
    one_of "$REAPED" 6 0
on bulk2 --json list person
info "bulk2 held $(jq length "$T/out") persons after its daemon was SIGKILLed"
start_daemon bulk2
sync_check "bulk2's daemon restarted: hq3 sync bulk2 ok" hq3 bulk2
stop_ok bulk2
save bulk2 bulk2-person --json list person
check "bulk2's persons: list --json byte-identical to bulk's" \
    same_file "$T/bulk2-person" "$T/bulk-person"
on bulk2 audit --verify
expect "bulk2: audit --verify exits 0" rc=0 "out~^ok: "

# ===========================================================================
section "4. an untrusted node, an unreachable peer, a removed peer"

new_node stranger $C1 office
read -ra HQ_IDL <<<"${IDL[hq]}"
on stranger peer add "${HQ_IDL[@]}"
expect "stranger trusts hq (hq does not trust it)" rc=0
idnum_v N12 "${C1}19700101099"
add_ok SX "stranger adds a person" stranger person name=陌生人 \
    id_number="$N12" disability_category=physical
start_daemon hq
save hq s4-before --json list person --where county=$C1
now_ms t0
on stranger sync --timeout 5
now_ms t1
expect "stranger sync: exit 6, 'hq failed: ...refused...'" rc=6 \
    "out~^hq failed: .*refused"
check "stranger's sync output is that one line" has_lines "$T/out" 1
check "stranger's refused sync returns within 7 s ($((t1 - t0)) ms)" \
    lt_ms $((t1 - t0)) 7000
on hq --json audit
expect "hq audit --json through its daemon: exit 0" rc=0 err-empty
check "hq's audit holds a refused entry, result failed" jqt "$T/out" \
    'any(.[]; .event == "refused" and .result == "failed")'
check "the refused entry: peer unknown, reason names the peer list" jqt \
    "$T/out" 'any(.[]; .event == "refused" and .peer == "unknown" and
               (.reason | test("not in the peer list")))'
save hq s4-after --json list person --where county=$C1
check "nothing of stranger's landed on hq" same_file "$T/s4-before" "$T/s4-after"
check "stranger's person is not on hq" not grep -q "$SX" "$T/s4-after"

# An unreachable peer: office2's key at a port nobody listens on.
free_port
read -ra O2_IDL <<<"${IDL[office2]}"
on stranger peer add ghost "${O2_IDL[1]}" "tcp://127.0.0.1:$PORT"
expect "stranger adds a peer 'ghost' at an unused port" rc=0
now_ms t0
on stranger sync ghost --timeout 5
now_ms t1
expect "sync to an unreachable peer: exit 6, the exact reason" rc=6 \
    "out=ghost failed: ghost unreachable at tcp://127.0.0.1:$PORT (no answer within 5 s)"
check "it returns after the 5 s timeout, within 7 s ($((t1 - t0)) ms)" \
    between_ms $((t1 - t0)) 4900 7000
on stranger --json sync ghost --timeout 1
check "--json sync of a failure: ok false, the error" jqt "$T/out" \
    '.[0].peer == "ghost" and .[0].ok == false and .[0].sent == 0 and
     (.[0].error | test("unreachable"))'

# A peer the HQ forgets (through its daemon) is refused from then on.
on hq peer remove office2
expect "hq peer remove office2 through the daemon" rc=0 "out=removed peer office2"
now_ms t0
on office2 sync hq --timeout 5
now_ms t1
expect "office2 sync hq after hq removed it: exit 6, refused" rc=6 \
    "out~^hq failed: .*refused"
check "the refusal comes within 7 s ($((t1 - t0)) ms)" lt_ms $((t1 - t0)) 7000
stop_ok hq
read -ra O2_IDL <<<"${IDL[office2]}"
on hq peer add "${O2_IDL[@]}"
expect "hq trusts office2 again" rc=0

# ===========================================================================
section "5. a national HQ above the regional one: provenance intact"

new_node national 000000 hq
trust hq national
idnum_v N9 "${C1}19880808009"
add_ok A4 "office1 adds person A4 after the national HQ joined" office1 person \
    name=韦四 id_number="$N9" disability_category=physical
on office2 update person "$B1" township=融水镇
expect "office2 updates B1 after the national HQ joined" rc=0
start_daemon hq
sync_check "office1 sync hq: ok" office1 hq
sync_check "office2 sync hq: ok" office2 hq
sync_check "national sync hq: ok" national hq
stop_ok hq
for c in $C1 $C2; do
    for t in "${TABLES[@]}"; do
        save hq "s5-hq-$c-$t" --json list "$t" --where "county=$c"
        save national "s5-nat-$c-$t" --json list "$t" --where "county=$c"
        check "$t of $c: byte-identical on national and hq" \
            same_file "$T/s5-nat-$c-$t" "$T/s5-hq-$c-$t"
    done
done
save hq s5-hq-all --json list person
save national s5-nat-all --json list person
check "national's whole person list equals hq's" \
    same_file "$T/s5-nat-all" "$T/s5-hq-all"
check "A4 reached national through hq" grep -q "$A4" "$T/s5-nat-$C1-person"
on national audit --verify
expect "national: audit --verify exits 0" rc=0 err-empty "out~^ok: "
save national s5-nat-audit --json audit
save hq s5-hq-audit --json audit
check "national's audit holds office1's session entries" jqt \
    "$T/s5-nat-audit" 'any(.[]; .node == "office1" and .event == "session")'
check "national's audit holds office2's session entries" jqt \
    "$T/s5-nat-audit" 'any(.[]; .node == "office2" and .event == "session")'
check "national's audit holds hq's session entries" jqt \
    "$T/s5-nat-audit" 'any(.[]; .node == "hq" and .event == "session")'
jq -c '[.[] | select(.node == "office1")]' "$T/s5-nat-audit" >"$T/s5-nat-o1"
jq -c '[.[] | select(.node == "office1")]' "$T/s5-hq-audit" >"$T/s5-hq-o1"
check "office1's audit entries are the same on national as on hq" \
    same_file "$T/s5-nat-o1" "$T/s5-hq-o1"
on national --json history person "$A1"
check "A1's history on national: changes by office1 and by hq, 3 townships" jqt \
    "$T/out" "([.[].origin] | unique) == ([\"${KEY[office1]}\", \"${KEY[hq]}\"] | unique) and
              [.[].fields.township // empty] == [\"长安镇\",\"office1写的镇\",\"hq写的镇\"]"

# ===========================================================================
section "6. one process owns the store"

new_node hq6 450000 hq
read -ra O1_IDL <<<"${IDL[office1]}"
on hq6 peer add "${O1_IDL[@]}"
expect "hq6 adds office1 as a peer" rc=0
free_port
on hq6 peer add ghost "${KEY[office2]}" "tcp://127.0.0.1:$PORT"
expect "hq6 adds a peer 'ghost' at an unused port" rc=0
idnum_v N10 "${C2}19890909010"
idnum_v N11 "${C2}19891010011"
add_ok D1 "hq6 adds a person directly" hq6 person name=直写 \
    id_number="$N10" disability_category=visual county=$C2
save hq6 s6-list --json list person
save hq6 s6-peers peer list
save hq6 s6-jpeers --json peer list
save hq6 s6-status status
save hq6 s6-audit audit
start_daemon hq6
D6=${DPID[hq6]}
check "(hq6's control socket is there)" test -S "$T/hq6/wings.ctl"
on hq6 --json list person
expect "list --json through the daemon: exit 0, byte-identical" rc=0 err-empty
check "list --json through the daemon equals the direct one" \
    same_file "$T/out" "$T/s6-list"
on hq6 peer list
expect "peer list through the daemon: exit 0" rc=0 err-empty
check "peer list through the daemon equals the direct one" \
    same_file "$T/out" "$T/s6-peers"
on hq6 --json peer list
check "peer list --json through the daemon equals the direct one" \
    same_file "$T/out" "$T/s6-jpeers"
on hq6 status
expect "status through the daemon: exit 0" rc=0 err-empty
sed -n '1p;3,$p' "$T/out" >"$T/s6-status-d"
sed -n '1p;3,$p' "$T/s6-status" >"$T/s6-status-x"
check "status through the daemon: the same lines as direct but the role line" \
    same_file "$T/s6-status-d" "$T/s6-status-x"
on hq6 audit
expect "audit through the daemon: exit 0" rc=0 err-empty
check "audit through the daemon: the same as direct" same_file "$T/out" "$T/s6-audit"
add_ok D2 "add through the daemon prints the new id alone" hq6 person \
    name=代写 id_number="$N11" disability_category=hearing county=$C2
on hq6 --json get person "$D2"
expect "get --json through the daemon finds it" rc=0 "out:\"id\":\"$D2\""

persons_csv $C2 0 3000 学员 >"$T/p3000-c2.csv"
"$W" --dir "$T/hq6" import person "$T/p3000-c2.csv" </dev/null >"$T/imp.out" 2>"$T/imp.err" &
IMP=$!
PIDS+=("$IMP")
SAMPLES=0
BAD_HOLDERS=()
while :; do
    running=0
    alive "$IMP" && running=1
    holders=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "$T/hq6/wings.db*" 2>/dev/null |
        cut -d/ -f3 | sort -u | tr '\n' ' ' || true)
    if ((running)) && alive "$IMP"; then
        SAMPLES=$((SAMPLES + 1))
        [[ $holders == "$D6 " ]] || BAD_HOLDERS+=("[$holders]")
    fi
    ((running)) || break
done
reap "$IMP" 60
RC=$REAPED
cp -- "$T/imp.out" "$T/out"
cp -- "$T/imp.err" "$T/err"
expect "import of 3,000 rows through the daemon" rc=0 err-empty \
    "out=imported 3000 person rows"
info "$SAMPLES samples of /proc/*/fd taken while the import ran"
check "/proc was sampled while the import ran" not none "$SAMPLES"
check "only the daemon (pid $D6) had wings.db open during the import" \
    none "${#BAD_HOLDERS[@]}"
((${#BAD_HOLDERS[@]} == 0)) || info "holders seen: ${BAD_HOLDERS[*]}"
on hq6 --json list person --where county=$C2
check "hq6 lists 3,002 persons of $C2 through the daemon" jqt "$T/out" \
    'length == 3002'
# A `wings sync` typed while the daemon serves is carried out by it; the
# clerk's other commands, and SIGTERM, must not wait for it.
"$W" --dir "$T/hq6" sync ghost --timeout 4 </dev/null >"$T/ghost.out" 2>&1 &
g=$!
PIDS+=("$g")
nap 0.5
now_ms t0
on hq6 status
now_ms t1
expect "status through the daemon while a typed sync waits for ghost: exit 0" rc=0
xfail "... and it answers within 1.5 s, not when the sync gives up ($((t1 - t0)) ms)" \
    "a command forwarded while a forwarded 'wings sync' runs waits for it" \
    lt_ms $((t1 - t0)) 1500
reap "$g" 10
RC=$REAPED
cp -- "$T/ghost.out" "$T/out"
: >"$T/err"
expect "the typed sync to ghost: exit 6, unreachable within 4 s" rc=6 \
    "out=ghost failed: ghost unreachable at tcp://127.0.0.1:$PORT (no answer within 4 s)"
"$W" --dir "$T/hq6" sync ghost --timeout 4 </dev/null >"$T/ghost.out" 2>&1 &
g=$!
PIDS+=("$g")
nap 0.5
now_ms t0
stop_ok hq6
now_ms t1
xfail "SIGTERM while a typed sync waits: the daemon stops within 1.5 s ($((t1 - t0)) ms)" \
    "SIGTERM is not seen while a forwarded 'wings sync' runs" \
    lt_ms $((t1 - t0)) 1500
reap "$g" 10
info "the typed sync interrupted by SIGTERM: exit $REAPED: $(tr '\n' '|' <"$T/ghost.out")"
check "the control socket is gone after SIGTERM" test ! -e "$T/hq6/wings.ctl"
check "the pid file is gone after SIGTERM" test ! -e "$T/hq6/wings.pid"
on hq6 status
expect "status without the daemon again: exit 0" rc=0 err-empty \
    "out:records: 3002 persons"

# ===========================================================================
section "7. peer list after a session; a removed peer"

on office1 --json peer list
expect "office1 peer list --json: exit 0" rc=0 err-empty
check "office1's peer hq: last_sync is a time, last_result ok" jqt "$T/out" \
    '.[] | select(.name == "hq") |
     (.last_sync | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")) and
     .last_result == "ok" and (.sent | type) == "number" and
     (.received | type) == "number"'
on office1 peer remove hq
expect "office1 peer remove hq" rc=0 "out=removed peer hq"
on office1 sync hq
expect "office1 sync hq after removing it: exit 5, one error line" rc=5 \
    out-empty err-line "err:hq"
on office1 --json peer list
expect "office1's peer list is empty" rc=0 "out=[]"

lib_finish
