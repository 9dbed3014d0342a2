#!/usr/bin/env bash
# killpoints.sh - crash points: SIGKILL wings processes at uniformly random
# moments while two county offices and a regional HQ write and sync, and
# check that nothing acknowledged is lost, nothing is applied twice and
# nothing appears that no command wrote.
#
#   bash tests/reliability/killpoints.sh build/wings
#   KILL_POINTS=200 bash tests/reliability/killpoints.sh build/wings
#
# Topology: office1 (450224), office2 (450225) and a regional HQ (450000,
# --role hq) that both offices trust; the HQ relays (it receives each
# office's county and sends each office what the HQ wrote for it). Nodes are
# throw-away (`--kdf test`, WINGS_TEST_KDF=1), jrun from a private copy of
# the binary (others may rebuild build/wings meanwhile). The first sessions
# carry a backlog of 3,600 persons imported from generated CSVs (1,500 per
# office, 300 per county on the HQ); every sync cycle first adds a fresh
# backlog (an import on the sending side, KILLPOINTS_BACKLOG rows on
# average, 600 every BIG_EVERY cycles), so kills land mid-batch. The stores
# are kept to some ten thousand records: `audit --verify`, jrun after every
# kill point, costs in proportion to them, and so does the run.
#
# The jrun rotates through three daemon layouts ("phases"):
#   P1  the HQ's daemon serves; offices work directly. Kills: an office's
#       `wings sync hq` (the client), the HQ's daemon while both offices sync
#       with it at once (the HQ relaying), writes.
#   P2  the offices' daemons serve; the HQ works directly. Kills: the HQ's
#       `wings sync` (all peers: the HQ relaying, as client), an office's
#       daemon while the HQ pulls from / pushes to it (the serving daemon),
#       writes (forwarded ones: the command line or the daemon itself).
#   P3  every node's daemon runs; a `wings sync` is carried out by the
#       initiating node's daemon. Kills: that daemon (the client), writes.
# A cycle: set up (backlog), start the operation, SIGKILL one process after
# a delay drawn uniformly from [0, D], where D is the operation's measured
# duration (measured by running the same cycle uncut: three times at first,
# and again every RECAL cycles as the stores grow). A kill point is a SIGKILL
# delivered to a live process; a draw that comes after the operation ended
# is counted apart ("missed") and the cycle does not count. After the kill:
# whatever else of the operation is still running gets GRACE_MS to end on
# its own, then is killed too ("collateral": peers left waiting on a dead
# peer would otherwise wait for their --timeout; the first few of each kind
# are left to end on their own and their exit checked instead). Then every
# node involved is checked with `wings audit --verify` (exit 0; a killed
# node is checked directly, before its daemon is restarted; the nodes at
# once, being separate stores), and what was killed is restarted. A sync
# whose peer was killed must exit 0 or 6; a forwarded command whose daemon
# was killed 0, or 1 with "the daemon ... stopped before answering"; a
# command with nothing killed 0.
#
# A write is acknowledged when `wings add`/`update`/`delete`/`import`
# exited 0; the log ($T/log.jsonl) holds every attempted write, its fields
# and whether it was acknowledged (and the id `add` printed). At the end the
# nodes converge (rounds of syncs until nothing changes), and for each
# county and table every node's `list --json` is compared with the log:
#   lost        an acknowledged write that is not in the final state (a
#               record missing, an update overwritten by an older value, a
#               delete undone)
#   doubled     a record present twice (same id, or the same record written
#               once but present under two ids), or a history with more
#               changes than commands that attempted them
#   unexpected  a record or a field value that no command attempted
# Writes that were killed (unacknowledged) may or may not be present.
#
# Prints a line per failed check (the harness is tests/scenario/lib.sh) and at
# the end:
#   figure kill_points=N        SIGKILLs delivered at random moments
#   figure sessions_interrupted=N  sync sessions that a kill cut short
#   figure lost=N  figure doubled=N  figure unexpected=N
#   figure crashes=N            a wings process that died of a signal we did
#                               not send, exited outside 0-6, or printed a
#                               sanitizer report
# then a check of each of lost/doubled/unexpected/crashes being zero and the
# line "N passed, N failed"; exits 1 if any check failed. Checked once, at
# the end: a forwarded command whose daemon is SIGKILLed and restarted within
# a second ends (during the cycles such command lines are killed before a
# daemon is restarted).
#
# Environment: KILL_POINTS (default 1000), KILLPOINTS_SEED (the choices'
# seed; timings are not reproducible), KILLPOINTS_BACKLOG (rows per sync
# cycle, default 6), KILLPOINTS_KEEP=1 keeps the temporary folder.
# Needs jq and awk.
set -uo pipefail
LIB_PASSPHRASE='Quarry-8k-lantern-osprey-51'
LIB_KEEP=${KILLPOINTS_KEEP:-0}
# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scenario/lib.sh"
lib_args "$@"
lib_need jq awk
WSRC=$W

KILL_POINTS=${KILL_POINTS:-1000}
SEED=${KILLPOINTS_SEED:-$((SRANDOM % 1000000))}
BACKLOG=${KILLPOINTS_BACKLOG:-6}
INITIAL=1500     # persons each office imports before anything syncs (the HQ a fifth of it per county)
BIG=600          # rows of the occasional big backlog
BIG_EVERY=300    # cycles between big backlogs
RECAL=400        # cycles between re-measurements of the durations
PHASE_LEN=50     # cycles per daemon layout
GRACE_MS=20      # what a kill leaves running gets this long to end
SAMPLES=1        # per kind, peers of a killed process left to end naturally
TIMEOUT=3        # --timeout of syncs during the cycles (an idle limit)

lib_tmp
# Our own copy: others may rebuild the binary while we run.
cp -- "$WSRC" "$T/wings" || exit 1
W=$T/wings

C1=450224
C2=450225
NODES=(office1 office2 hq)
declare -A COUNTY_OF=([office1]=$C1 [office2]=$C2 [hq]=450000)
declare -A OFFICE_OF=([$C1]=office1 [$C2]=office2)
TABLES=(person training placement)

# ---- counters and reporting ----------------------------------------------------

KP=0          # kill points
MISSED=0      # draws that came after the operation had ended
COLLATERAL=0  # processes killed after the kill point (left waiting)
INTERRUPTED=0 # sessions cut short
CRASHES=0
CYCLES=0
VERIFIES=0
declare -A KINDS=() # kill points per kind

# fail WHAT: a failed check (lib.sh's bad), named by what went wrong.
fail() { bad "$1"; }
crash() {
    CRASHES=$((CRASHES + 1))
    fail "crash: $1"
}
# ---- processes ------------------------------------------------------------------

# nap_us N
nap_us() {
    local s
    printf -v s '%d.%06d' "$(($1 / 1000000))" "$(($1 % 1000000))"
    nap "$s"
}
now_us() { local t=${EPOCHREALTIME/./}; NOW=$((10#$t)); }
rand_upto() { RND=$((((RANDOM << 15) | RANDOM) % ($1 + 1))); }

# judge WHAT RC KILLED ERRFILE: a crash is a signal we did not send, an exit
# outside 0-6, or a sanitizer report.
judge() {
    local what=$1 rc=$2 killed=$3 errf=$4
    if [[ $rc == hung ]]; then
        fail "hang: $what did not end"
    elif [[ $rc == 137 && $killed == 1 ]]; then
        :
    elif ((rc > 6)); then
        crash "$what exited $rc$( ((rc > 128)) && echo " (signal $((rc - 128)))"): $(tail -c 300 "$errf" 2>/dev/null | tr '\n' '|')"
    fi
    if [[ -s $errf ]] && grep -qE 'Sanitizer|runtime error:' "$errf"; then
        crash "$what: sanitizer report in $errf: $(grep -m1 -E 'Sanitizer|runtime error:' "$errf")"
    fi
}

# jrun NODE ARGS...: `on NODE ARGS...` (lib.sh), judged: RC, and
# stdout/stderr in $T/out, $T/err.
jrun() {
    local n=$1
    shift
    on "$n" "$@"
    judge "'$n: $*'" "$RC" 0 "$T/err"
}
# must NODE ARGS...: jrun, exit 0 required.
must() {
    jrun "$@"
    [[ $RC == 0 ]] || fail "'$1: ${*:2}' exited $RC ($(show_last))"
}

# ---- ports, nodes, daemons ------------------------------------------------------

# new_kp_node NAME: NAME's node (lib.sh's new_node), an HQ if NAME is hq;
# the run stops if it cannot be made.
new_kp_node() {
    local role=office
    [[ $1 == hq ]] && role=hq
    new_node "$1" "${COUNTY_OF[$1]}" $role
    [[ $RC == 0 ]] || die "cannot create node $1: $(show_last)"
}

# stop_judged NODE: NODE's daemon stopped with SIGTERM (lib.sh's
# stop_daemon); it must exit 0.
stop_judged() {
    local n=$1
    up "$n" || return 0
    stop_daemon "$n"
    judge "$n's daemon (SIGTERM)" "$STOP_RC" 0 /dev/null # its log: scanned at the end
    [[ $STOP_RC == 0 ]] || fail "$n's daemon exits $STOP_RC on SIGTERM, not 0: $(tail -n 3 "$T/$n.serve.log" | tr '\n' '|')"
}
# killed_daemon NODE: NODE's daemon got our SIGKILL: reap it.
killed_daemon() {
    local n=$1 pid=${DPID[$1]}
    reap "$pid" 10
    unset "DPID[$n]"
    judge "$n's daemon (SIGKILLed)" "$REAPED" 1 /dev/null
}
up() { [[ -n ${DPID[$1]-} ]]; }

# verify CONTEXT NODE...: `audit --verify` on each NODE (at once: they are
# separate stores) exits 0 and says ok.
verify() {
    local ctx=$1 n i=0 first
    shift
    local -a vp=()
    for n in "$@"; do
        spawn_on "v-$n" "$n" audit --verify
        vp+=("$SPID")
    done
    for n in "$@"; do
        reap "${vp[i]}" 60
        i=$((i + 1))
        VERIFIES=$((VERIFIES + 1))
        judge "'$n: audit --verify'" "$REAPED" 0 "$T/v-$n.err"
        first=
        read -r first <"$T/v-$n.out" || true
        if [[ $REAPED != 0 || $first != ok:* ]]; then
            fail "audit --verify on $n after $ctx: exit $REAPED; stdout: $(head -c 300 "$T/v-$n.out" | tr '\n' '|'); stderr: $(head -c 300 "$T/v-$n.err" | tr '\n' '|')"
            cp -r -- "$T/$n" "$T/failed-verify-$n-$VERIFIES" 2>/dev/null || true
        fi
    done
}

# ---- writes and the log -----------------------------------------------------------

G=0   # tags: every attempted record carries a unique one
S=0   # the log's order
LOG=$T/log.jsonl
: >"$LOG"
declare -A LIVE=([office1]="" [office2]="" [hq]="") # "id:county " of acked persons made there, never delete-attempted
declare -A LIVE_N=([office1]=0 [office2]=0 [hq]=0)
IMPORTS=0

# person_fields COUNTY: a fresh person (tag k$G), as FIELD=VALUE words in PF.
person_fields() {
    G=$((G + 1))
    local y=$((1940 + (G / 336) % 60)) mo=$(((G / 28) % 12 + 1)) d=$((G % 28 + 1))
    local q=$(((G / 20160) % 999 + 1)) bd
    printf -v bd '%04d-%02d-%02d' $y $mo $d
    idnum_v IDN "$(printf '%s%04d%02d%02d%03d' "$1" $y $mo $d $q)"
    local gs=(female male)   # the id number's 17th digit: odd is male
    PF=("name=k$G" "gender=${gs[q % 2]}" "birth_date=$bd"
        "id_number=$IDN" disability_category=physical "disability_grade=$((G % 4 + 1))"
        "county=$1")
}
# fields_json WORD...: FIELD=VALUE words as a JSON object (values are plain
# tokens: no quotes or backslashes).
fields_json() {
    local w out=""
    for w in "$@"; do
        out+=",\"${w%%=*}\":\"${w#*=}\""
    done
    FJ="{${out#,}}"
}
# log_write KIND ACK TABLE COUNTY NODE ID FIELDS_JSON [BATCH]
log_write() {
    S=$((S + 1))
    printf '{"s":%d,"k":"%s","ack":%s,"t":"%s","c":"%s","n":"%s","id":%s,"f":%s,"b":%s}\n' \
        "$S" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:-null}" >>"$LOG"
}
live_add() { LIVE[$1]+="$2:$3 "; LIVE_N[$1]=$((LIVE_N[$1] + 1)); }
live_drop() { LIVE[$1]=${LIVE[$1]/"$2:$3 "/}; LIVE_N[$1]=$((LIVE_N[$1] - 1)); }
# live_pick NODE: a random live person made on NODE -> PICK_ID PICK_C (or fail)
live_pick() {
    local -a l
    read -ra l <<<"${LIVE[$1]}"
    ((${#l[@]})) || return 1
    local x=${l[RANDOM % ${#l[@]}]}
    PICK_ID=${x%:*} PICK_C=${x#*:}
}
county_for() { # a county NODE may write
    if [[ $1 == hq ]]; then
        ((RANDOM % 2)) && WC=$C1 || WC=$C2
    else
        WC=${COUNTY_OF[$1]}
    fi
}

# csv_chunk FILE COUNTY N: N fresh persons (tags continue G); rows also go to
# $FILE.jsonl-rows as field objects.
csv_chunk() {
    awk -v n="$3" -v c="$2" -v g0="$G" -v rows="$1.rows" "$AWK_IDNUM"'BEGIN {
        print "name,gender,birth_date,id_number,disability_category,disability_grade,county"
        for (j = 1; j <= n; j++) {
            g = g0 + j
            y = 1940 + int(g / 336) % 60; mo = int(g / 28) % 12 + 1; d = g % 28 + 1
            q = int(g / 20160) % 999 + 1
            idn = idnum(sprintf("%s%04d%02d%02d%03d", c, y, mo, d, q))
            gen = (q % 2 ? "male" : "female")
            bd = sprintf("%04d-%02d-%02d", y, mo, d)
            printf "k%d,%s,%s,%s,physical,%d,%s\n", g, gen, bd, idn, g % 4 + 1, c
            printf "{\"name\":\"k%d\",\"gender\":\"%s\",\"birth_date\":\"%s\",\"id_number\":\"%s\",\"disability_category\":\"physical\",\"disability_grade\":\"%d\",\"county\":\"%s\"}\n", g, gen, bd, idn, g % 4 + 1, c > rows
        }
    }' >"$1"
    G=$((G + $3))
}
# log_import ACK COUNTY NODE ROWSFILE BATCH
log_import() {
    local f
    while IFS= read -r f; do
        log_write add "$1" person "$2" "$3" null "$f" "$5"
    done <"$4"
}

# A write, prepared: WR_ARGS (the command), WR_KIND/TABLE/COUNTY/ID/FJ for
# the log. prep_write NODE [imp]
prep_write() {
    local n=$1 r=$((RANDOM % 100))
    [[ ${2:-} == imp ]] && r=99
    if ((r >= 40 && r < 90)) && ! live_pick "$n"; then r=0; fi
    county_for "$n"
    WR_ID=null WR_BATCH=null
    if ((r < 40)); then
        person_fields "$WC"
        WR_KIND=add WR_TABLE=person WR_COUNTY=$WC
        WR_ARGS=(add person "${PF[@]}")
        fields_json "${PF[@]}"
    elif ((r < 65)); then
        G=$((G + 1))
        local f=("township=u$G" "disability_grade=$((G % 4 + 1))")
        WR_KIND=upd WR_TABLE=person WR_COUNTY=$PICK_C WR_ID="\"$PICK_ID\""
        WR_ARGS=(update person "$PICK_ID" "${f[@]}")
        fields_json "${f[@]}"
    elif ((r < 75)); then
        WR_KIND=del WR_TABLE=person WR_COUNTY=$PICK_C WR_ID="\"$PICK_ID\""
        WR_ARGS=(delete person "$PICK_ID")
        FJ=null
        live_drop "$n" "$PICK_ID" "$PICK_C" # never touched again
    elif ((r < 90)); then
        G=$((G + 1))
        local f
        if ((r < 83)); then
            WR_TABLE=training
            f=("person_id=$PICK_ID" "course=k$G" category=it start_date=2026-07-01 outcome=enrolled "county=$PICK_C")
        else
            WR_TABLE=placement
            f=("person_id=$PICK_ID" "employer=k$G" employment_type=online start_date=2026-08-01 "monthly_income=$G" status=active "county=$PICK_C")
        fi
        WR_KIND=add WR_COUNTY=$PICK_C
        WR_ARGS=(add "$WR_TABLE" "${f[@]}")
        fields_json "${f[@]}"
    else
        local k=$((RANDOM % 200 + 20))
        IMPORTS=$((IMPORTS + 1))
        csv_chunk "$T/imp$IMPORTS.csv" "$WC" $k
        WR_KIND=imp WR_TABLE=person WR_COUNTY=$WC WR_BATCH=$IMPORTS
        WR_ARGS=(import person "$T/imp$IMPORTS.csv")
        WR_ROWS=$T/imp$IMPORTS.csv.rows
    fi
}
# finish_write NODE ACK STDOUTFILE: log the prepared write.
finish_write() {
    local n=$1 ack=$2 id=$WR_ID
    if [[ $WR_KIND == imp ]]; then
        log_import "$ack" "$WR_COUNTY" "$n" "$WR_ROWS" "$WR_BATCH"
        return
    fi
    if [[ $WR_KIND == add && $ack == true ]]; then
        id=$(head -n 1 "$3")
        if [[ ! $id =~ ^[0-9a-f]{32}$ ]]; then
            fail "'$n: ${WR_ARGS[*]:0:2}' exited 0 but printed '$id', not an id"
            ack=false id=null
        else
            [[ $WR_TABLE == person ]] && live_add "$n" "$id" "$WR_COUNTY"
            id="\"$id\""
        fi
    fi
    log_write "$WR_KIND" "$ack" "$WR_TABLE" "$WR_COUNTY" "$n" "$id" "$FJ" "$WR_BATCH"
}
# write_now NODE: a prepared write, uncut; it must succeed.
write_now() {
    jrun "$1" "${WR_ARGS[@]}"
    if [[ $RC == 0 ]]; then
        finish_write "$1" true "$T/out"
    else
        fail "uncut write '$1: ${WR_ARGS[*]:0:3}' exited $RC ($(show_last))"
        finish_write "$1" false "$T/out"
    fi
}
# backlog_start TAG NODE COUNTY N / backlog_end TAG: an acknowledged import
# of N fresh persons of COUNTY on NODE (in the background between the two).
declare -A BL_PID BL_ARGS
backlog_start() {
    local tag=$1 n=$2 c=$3 k=$4
    IMPORTS=$((IMPORTS + 1))
    csv_chunk "$T/imp$IMPORTS.csv" "$c" "$k"
    spawn_on "$tag" "$n" import person "$T/imp$IMPORTS.csv"
    BL_PID[$tag]=$SPID
    BL_ARGS[$tag]="$n $c $k $IMPORTS"
}
backlog_end() {
    local tag=$1 n c k b
    read -r n c k b <<<"${BL_ARGS[$tag]}"
    reap "${BL_PID[$tag]}" 60
    judge "'$n: import person' ($k rows)" "$REAPED" 0 "$T/$tag.err"
    if [[ $REAPED == 0 ]]; then
        log_import true "$c" "$n" "$T/imp$b.csv.rows" "$b"
    else
        fail "backlog import of $k rows on $n exited $REAPED: $(head -c 300 "$T/$tag.err" | tr '\n' '|')"
        log_import false "$c" "$n" "$T/imp$b.csv.rows" "$b"
    fi
}
backlog() {
    backlog_start bl "$@"
    backlog_end bl
}
backlog_size() {
    BL_N=$((BACKLOG / 2 + RANDOM % (BACKLOG + 1)))
    if ((CYCLES % BIG_EVERY == BIG_EVERY - 1)); then BL_N=$BIG; fi
}
# cycle_backlog OFFICE: fresh changes on one side of OFFICE <-> hq.
cycle_backlog() {
    local o=$1
    backlog_size
    if ((RANDOM % 3)); then
        backlog "$o" "${COUNTY_OF[$o]}" $BL_N
    else
        backlog hq "${COUNTY_OF[$o]}" $BL_N
    fi
}
# relay_backlog: fresh changes for the HQ to relay both ways: one office's
# own, and the HQ's for the other county (two stores: at once).
relay_backlog() {
    local o=office$((RANDOM % 2 + 1))
    local p
    [[ $o == office1 ]] && p=office2 || p=office1
    backlog_size
    backlog_start bl1 "$o" "${COUNTY_OF[$o]}" $BL_N
    backlog_size
    backlog_start bl2 hq "${COUNTY_OF[$p]}" $BL_N
    backlog_end bl1
    backlog_end bl2
}

# ---- durations ----------------------------------------------------------------------

declare -A DUR_N DUR_SUM DUR # per kind: samples, their sum, the mean (us)
# measuring KIND: true while KIND needs uncut samples.
measuring() { ((${DUR_N[$1]:-0} < 3)); }
measured() {
    DUR_N[$1]=$((${DUR_N[$1]:-0} + 1))
    DUR_SUM[$1]=$((${DUR_SUM[$1]:-0} + $2))
    DUR[$1]=$((DUR_SUM[$1] / DUR_N[$1]))
}
recalibrate() { # one fresh sample, weighed against the old mean 1:2
    local k
    for k in "${!DUR_N[@]}"; do
        DUR_N[$k]=2 DUR_SUM[$k]=$((2 * DUR[$k]))
    done
}

# ---- the kill ------------------------------------------------------------------------

# Every cycle: OP_PIDS/OP_TAGS are the operation's processes (command lines);
# kill_at KIND TARGETPID: draw the delay from [0, DUR[KIND]], SIGKILL TARGET.
# Sets KILLED=1 if it landed. START is when the operation began.
kill_at() {
    local kind=$1 target=$2 d=${DUR[$1]}
    rand_upto "$d"
    now_us
    local left=$((START + RND - NOW))
    ((left > 0)) && nap_us $left
    KILLED=0
    if sigkill "$target"; then
        KILLED=1
        KP=$((KP + 1))
        KINDS[$kind]=$((${KINDS[$kind]:-0} + 1))
    else
        MISSED=$((MISSED + 1))
    fi
}
declare -A SAMPLED
# settle KIND PID...: after a kill, the operation's other processes get
# GRACE_MS, then are killed (collateral); the first SAMPLES of each KIND are
# left to end on their own (they must within their timeout + 2 s).
settle() {
    local kind=$1 p i
    shift
    local wait_s=0
    if ((${SAMPLED[$kind]:-0} < SAMPLES)); then
        SAMPLED[$kind]=$((${SAMPLED[$kind]:-0} + 1))
        wait_s=1
    fi
    if ((wait_s)); then
        now_us
        local t0=$NOW
        for p in "$@"; do
            for ((i = 0; i < 2000; i++)); do
                ours "$p" || break
                nap 0.005
            done
        done
        now_us
        if (((NOW - t0) > (TIMEOUT + 2) * 1000000)); then
            fail "$kind: the peers of the killed process took $(((NOW - t0) / 1000)) ms to end (timeout ${TIMEOUT} s)"
        fi
        return
    fi
    for ((i = 0; i < GRACE_MS / 5; i++)); do
        local any=0
        for p in "$@"; do ours "$p" && any=1; done
        ((any)) || return 0
        nap 0.005
    done
    for p in "$@"; do
        if sigkill "$p"; then COLLATERAL=$((COLLATERAL + 1)); fi
    done
}

# end_sync TAG PID KILLED_ITSELF PEER_KILLED WHAT: reap a sync command line;
# checks its exit: uncut 0; killed 137; a dead peer 0 or 6; a forwarded one
# whose daemon died 0 or 1 (with "stopped before answering").
end_sync() {
    local tag=$1 pid=$2 self=$3 peer=$4 what=$5
    reap "$pid" 30
    local rc=$REAPED
    judge "$what" "$rc" 1 "$T/$tag.err"
    if ((self == 0 && peer == 0)); then
        [[ $rc == 0 ]] || fail "$what (nothing killed) exited $rc: $(head -c 300 "$T/$tag.out" "$T/$tag.err" | tr '\n' '|')"
        return
    fi
    case $rc in
    0) ;;
    137) INTERRUPTED=$((INTERRUPTED + 1)) ;;
    6 | 1)
        INTERRUPTED=$((INTERRUPTED + 1))
        if [[ $rc == 1 ]] && ! grep -q 'stopped before answering' "$T/$tag.err"; then
            fail "$what exited 1: $(head -c 300 "$T/$tag.err" | tr '\n' '|')"
        fi
        ;;
    hung) ;;
    *) fail "$what exited $rc after a kill: $(head -c 300 "$T/$tag.out" "$T/$tag.err" | tr '\n' '|')" ;;
    esac
}

# ---- cycles ----------------------------------------------------------------------------


# cyc_client: an office's `wings sync hq` (P1, direct; P3, carried out by the
# office's daemon, which is then the target). Kill the client.
cyc_client() {
    local o=office$((RANDOM % 2 + 1)) kind target
    cycle_backlog "$o"
    if up "$o"; then kind=client-daemon; else kind=client; fi
    now_us
    START=$NOW
    spawn_on c "$o" sync hq --timeout $TIMEOUT
    local c=$SPID
    if measuring $kind; then
        end_sync c "$c" 0 0 "$kind: '$o sync hq'"
        now_us
        measured $kind $((NOW - START))
        return
    fi
    target=$c
    [[ $kind == client-daemon ]] && target=${DPID[$o]}
    kill_at $kind "$target"
    if [[ $kind == client-daemon ]]; then
        ((KILLED)) && settle $kind "$c"
        end_sync c "$c" 0 "$KILLED" "$kind: '$o sync hq' (forwarded; its daemon killed)"
        if ((KILLED)); then
            killed_daemon "$o"
            verify "$kind kill" "$o" hq
            start_daemon "$o"
        fi
    else
        end_sync c "$c" "$KILLED" 0 "$kind: '$o sync hq'"
        ((KILLED)) && verify "$kind kill" "$o" hq
    fi
}

# cyc_relay_hqd (P1): both offices sync with the HQ's daemon at once; kill
# the HQ's daemon. Half the time a write goes to the HQ's daemon meanwhile.
cyc_relay_hqd() {
    local kind=relay-hq-daemon w=0 o
    relay_backlog
    if ((RANDOM % 2)); then
        w=1
        prep_write hq
    fi
    now_us
    START=$NOW
    spawn_on c1 office1 sync hq --timeout $TIMEOUT
    local p1=$SPID
    spawn_on c2 office2 sync hq --timeout $TIMEOUT
    local p2=$SPID pw=
    if ((w)); then
        spawn_on w hq "${WR_ARGS[@]}"
        pw=$SPID
    fi
    if measuring $kind; then
        end_sync c1 "$p1" 0 0 "$kind: 'office1 sync hq'"
        end_sync c2 "$p2" 0 0 "$kind: 'office2 sync hq'"
        if ((w)); then
            reap "$pw" 30
            judge "hq write" "$REAPED" 0 "$T/w.err"
            [[ $REAPED == 0 ]] || fail "uncut 'hq: ${WR_ARGS[*]:0:3}' exited $REAPED"
            finish_write hq "$([[ $REAPED == 0 ]] && echo true || echo false)" "$T/w.out"
        fi
        now_us
        measured $kind $((NOW - START))
        return
    fi
    kill_at $kind "${DPID[hq]}"
    if ((KILLED)); then
        settle $kind "$p1" "$p2" $pw
    fi
    end_sync c1 "$p1" 0 "$KILLED" "$kind: 'office1 sync hq'"
    end_sync c2 "$p2" 0 "$KILLED" "$kind: 'office2 sync hq'"
    if ((w)); then
        reap "$pw" 30
        judge "'hq: ${WR_ARGS[*]:0:2}' (forwarded)" "$REAPED" 1 "$T/w.err"
        if ((KILLED == 0)) && [[ $REAPED != 0 ]]; then
            fail "'hq: ${WR_ARGS[*]:0:3}' exited $REAPED with nothing killed"
        fi
        finish_write hq "$([[ $REAPED == 0 ]] && echo true || echo false)" "$T/w.out"
    fi
    if ((KILLED)); then
        killed_daemon hq
        verify "$kind kill" hq office1 office2
        start_daemon hq
    fi
}

# cyc_relay_hqc (P2): the HQ's `wings sync` (both offices' daemons serve);
# kill it.
cyc_relay_hqc() {
    local kind=relay-hq-client
    relay_backlog
    now_us
    START=$NOW
    spawn_on c hq sync --timeout $TIMEOUT
    local c=$SPID
    if measuring $kind; then
        end_sync c "$c" 0 0 "$kind: 'hq sync'"
        now_us
        measured $kind $((NOW - START))
        return
    fi
    kill_at $kind "$c"
    end_sync c "$c" "$KILLED" 0 "$kind: 'hq sync'"
    if ((KILLED)); then
        verify "$kind kill" hq office1 office2
    fi
}

# cyc_server (P2): the HQ syncs with one office, whose daemon serves; kill
# that daemon.
cyc_server() {
    local kind=server-daemon o=office$((RANDOM % 2 + 1))
    cycle_backlog "$o"
    now_us
    START=$NOW
    spawn_on c hq sync "$o" --timeout $TIMEOUT
    local c=$SPID
    if measuring $kind; then
        end_sync c "$c" 0 0 "$kind: 'hq sync $o'"
        now_us
        measured $kind $((NOW - START))
        return
    fi
    kill_at $kind "${DPID[$o]}"
    ((KILLED)) && settle $kind "$c"
    end_sync c "$c" 0 "$KILLED" "$kind: 'hq sync $o'"
    if ((KILLED)); then
        killed_daemon "$o"
        verify "$kind kill" "$o" hq
        start_daemon "$o"
    fi
}

# cyc_relay_fwd (P3): `wings --dir hq sync`, carried out by the HQ's daemon
# (both offices' daemons serve); kill the HQ's daemon.
cyc_relay_fwd() {
    local kind=relay-hq-daemon-client
    relay_backlog
    now_us
    START=$NOW
    spawn_on c hq sync --timeout $TIMEOUT
    local c=$SPID
    if measuring $kind; then
        end_sync c "$c" 0 0 "$kind: 'hq sync' (forwarded)"
        now_us
        measured $kind $((NOW - START))
        return
    fi
    kill_at $kind "${DPID[hq]}"
    ((KILLED)) && settle $kind "$c"
    end_sync c "$c" 0 "$KILLED" "$kind: 'hq sync' (forwarded; its daemon killed)"
    if ((KILLED)); then
        killed_daemon hq
        verify "$kind kill" hq office1 office2
        start_daemon hq
    fi
}

# cyc_write: a write on a random node (add, update, delete, training,
# placement, import); kill the command line, or (forwarded) the daemon.
cyc_write() {
    local n=${NODES[RANDOM % 3]} kind target
    prep_write "$n"
    local wk=rec # durations: imports apart, the other writes alike
    [[ $WR_KIND == imp ]] && wk=imp
    if up "$n"; then
        if ((RANDOM % 2)); then kind=write-$wk-daemon; else kind=write-$wk-fwd; fi
    else
        kind=write-$wk
    fi
    now_us
    START=$NOW
    spawn_on w "$n" "${WR_ARGS[@]}"
    local p=$SPID
    if measuring "$kind"; then
        reap "$p" 30
        judge "'$n: ${WR_ARGS[*]:0:2}'" "$REAPED" 0 "$T/w.err"
        [[ $REAPED == 0 ]] || fail "uncut write '$n: ${WR_ARGS[*]:0:3}' exited $REAPED: $(head -c 300 "$T/w.err")"
        finish_write "$n" "$([[ $REAPED == 0 ]] && echo true || echo false)" "$T/w.out"
        now_us
        measured "$kind" $((NOW - START))
        return
    fi
    target=$p
    [[ $kind == *-daemon ]] && target=${DPID[$n]}
    kill_at "$kind" "$target"
    if [[ $kind == *-daemon ]] && ((KILLED)); then settle "$kind" "$p"; fi
    reap "$p" 30
    local rc=$REAPED
    judge "'$n: ${WR_ARGS[*]:0:2}'" "$rc" 1 "$T/w.err"
    case $rc in
    0 | 137) ;;
    1) [[ $kind == *-daemon ]] && grep -q 'stopped before answering' "$T/w.err" ||
        fail "$kind: '$n: ${WR_ARGS[*]:0:3}' exited 1: $(head -c 300 "$T/w.err")" ;;
    *) fail "$kind: '$n: ${WR_ARGS[*]:0:3}' exited $rc: $(head -c 300 "$T/w.err")" ;;
    esac
    finish_write "$n" "$([[ $rc == 0 ]] && echo true || echo false)" "$T/w.out"
    if ((KILLED)); then
        if [[ $kind == *-daemon ]]; then
            killed_daemon "$n"
            verify "$kind kill" "$n"
            start_daemon "$n"
        else
            verify "$kind kill" "$n"
        fi
    fi
}

# ---- phases ----------------------------------------------------------------------------

PHASE=
set_phase() {
    local want n
    PHASE=$1
    case $1 in
    P1) want=(hq) ;;
    P2) want=(office1 office2) ;;
    P3) want=(office1 office2 hq) ;;
    esac
    for n in "${NODES[@]}"; do
        if [[ " ${want[*]} " == *" $n "* ]]; then
            up "$n" || start_daemon "$n"
        else
            up "$n" && stop_judged "$n"
        fi
    done
}
declare -A CYC_US CYC_N
one_cycle() {
    local r=$((RANDOM % 100)) c t0
    CYCLES=$((CYCLES + 1))
    case $PHASE in
    P1) if ((r < 30)); then c=cyc_write; elif ((r < 65)); then c=cyc_client; else c=cyc_relay_hqd; fi ;;
    P2) if ((r < 30)); then c=cyc_write; elif ((r < 55)); then c=cyc_relay_hqc; else c=cyc_server; fi ;;
    P3) if ((r < 35)); then c=cyc_write; elif ((r < 70)); then c=cyc_client; else c=cyc_relay_fwd; fi ;;
    esac
    now_us
    t0=$NOW
    $c
    now_us
    CYC_US[$c]=$((${CYC_US[$c]:-0} + NOW - t0))
    CYC_N[$c]=$((${CYC_N[$c]:-0} + 1))
}

# =====================================================================================
echo "-- killpoints: $KILL_POINTS kill points, seed $SEED, backlog $BACKLOG rows per sync cycle [${SECONDS}s]"
RANDOM=$SEED
for n in "${NODES[@]}"; do new_kp_node "$n"; done
trust office1 hq
trust office2 hq
backlog office1 $C1 $INITIAL
backlog office2 $C2 $INITIAL
backlog hq $C1 $((INITIAL / 5))
backlog hq $C2 $((INITIAL / 5))
for n in "${NODES[@]}"; do
    for ((i = 0; i < 20; i++)); do
        prep_write "$n"
        write_now "$n"
    done
done
(($FAILED == 0)) || { echo "killpoints.sh: setting up failed" >&2; exit 1; }

set_phase P1
MAX_CYCLES=$((KILL_POINTS * 3 + 100))
while ((KP < KILL_POINTS && CYCLES < MAX_CYCLES)); do
    if ((CYCLES % PHASE_LEN == 0 && CYCLES > 0)); then
        case $PHASE in P1) set_phase P2 ;; P2) set_phase P3 ;; P3) set_phase P1 ;; esac
    fi
    if ((CYCLES % RECAL == 0 && CYCLES > 0)); then recalibrate; fi
    one_cycle
    if ((CYCLES % 100 == 0)); then
        info "cycle $CYCLES: $KP kill points, $MISSED missed, $FAILED failed checks [${SECONDS}s]"
    fi
    if (($FAILED > 50)); then
        echo "killpoints.sh: more than 50 failed checks; stopping the cycles" >&2
        break
    fi
done
KILL_SECONDS=$SECONDS
echo "-- $CYCLES cycles, $KP kill points, $MISSED draws after the end, $COLLATERAL collateral kills [${SECONDS}s]"
for k in $(printf '%s\n' "${!CYC_N[@]}" | sort); do
    info "$k: ${CYC_N[$k]} cycles, $((CYC_US[$k] / CYC_N[$k] / 1000)) ms each"
done
for k in $(printf '%s\n' "${!KINDS[@]}" | sort); do
    info "kill points of $k: ${KINDS[$k]} (D = $((${DUR[$k]:-0} / 1000)) ms)"
done

# ---- a forwarded command whose daemon dies -----------------------------------------
# A forwarded command whose daemon is SIGKILLed and restarted within a second
# must end (the new daemon never saw its request), not wait for ever.
set_phase P1
spawn_on fw hq sync office1 --timeout 3
FW=$SPID
nap 0.3
sigkill "${DPID[hq]}"
killed_daemon hq
start_daemon hq
for ((i = 0; i < 150; i++)); do ours "$FW" || break; nap 0.02; done
if ours "$FW"; then
    fail "a forwarded 'wings sync' whose daemon was SIGKILLed and restarted at once did not end within 3 s"
    sigkill "$FW"
else
    ok "a forwarded command ends when its daemon is SIGKILLed and restarted"
fi
reap "$FW" 5
verify "the forwarded-sync check" hq

# ---- converge -------------------------------------------------------------------------
echo "-- converging [${SECONDS}s]"
set_phase P1
snapshot() {
    local d=$T/snap$1 t c
    mkdir -p "$d"
    for t in "${TABLES[@]}"; do
        for c in $C1 $C2; do
            jrun hq --json list "$t" --where "county=$c"
            cp "$T/out" "$d/hq-$c-$t"
            jrun "${OFFICE_OF[$c]}" --json list "$t" --where "county=$c"
            cp "$T/out" "$d/${OFFICE_OF[$c]}-$c-$t"
        done
    done
}
CONVERGED=0
for ((round = 1; round <= 8; round++)); do
    for o in office1 office2; do
        jrun "$o" sync hq --timeout 20
        [[ $RC == 0 ]] || fail "converging: '$o sync hq' exited $RC ($(show_last))"
    done
    snapshot $round
    if ((round > 1)) && diff -r "$T/snap$((round - 1))" "$T/snap$round" >/dev/null; then
        CONVERGED=1
        break
    fi
done
((CONVERGED)) || fail "the record tables still changed after 8 rounds of syncs"
info "converged in $round rounds [${SECONDS}s]"
stop_judged hq
verify "the final syncs" "${NODES[@]}"
SN=$T/snap$round

# ---- compare --------------------------------------------------------------------------
echo "-- comparing with the log of $S attempted writes [${SECONDS}s]"
for c in $C1 $C2; do
    o=${OFFICE_OF[$c]}
    for t in "${TABLES[@]}"; do
        cmp -s "$SN/hq-$c-$t" "$SN/$o-$c-$t" ||
            fail "$t of $c: 'list --json' differs between hq and $o"
    done
    for t in "${TABLES[@]}"; do
        oc=$C1
        [[ $c == "$C1" ]] && oc=$C2
        jrun "$o" --json list "$t" --where "county=$oc"
        [[ $RC == 0 && $(<"$T/out") == "[]" ]] || fail "$o holds $t of another county"
    done
done

read -r -d '' MODEL <<'EOF'
.n as $n | .c as $c | .t as $t | .list |
def tagf: {"person": "name", "training": "course", "placement": "employer"}[$t];
def s: if . == null then null else tostring end;
($log | map(select(.t == $t and .c == $c))) as $L
| ($log | map(select(.t == "person" and .k == "del") | {key: .id, value: true})
   | from_entries) as $pdel
| ($L | map(select(.k == "add"))) as $A
| ($L | map(select(.k != "add")) | group_by(.id)
   | map({key: .[0].id, value: sort_by(.s)}) | from_entries) as $mods
| . as $list
| ($list | group_by(.[tagf] | s) | map({key: (.[0][tagf] | s), value: .}) | from_entries) as $have
| ($A | map({key: .f[tagf], value: .}) | from_entries) as $byTag
| [ $list | group_by(.id)[] | select(length > 1)
    | {d: "\($n): \($t) \(.[0].id) listed \(length) times"} ] as $d1
| [ $have | to_entries[] | select((.value | map(.id) | unique | length) > 1)
    | {d: "\($n): \($t) \(.key) present under \(.value | map(.id) | unique | length) ids (\([.value[].id] | join(" ")))"} ] as $d2
| [ $have | keys[] | select($byTag[.] == null)
    | {u: "\($n): \($t) \(.) is not in the log"} ] as $u1
| [ $A[] | . as $e | ($e.f[tagf]) as $tag | (($have[$tag] // [])[0]) as $r
    | ($mods[$e.id // ""] // []) as $m
    | ($m | map(select(.k == "del"))) as $dels
    | if $r == null then
        # (a record whose person was deleted is hidden with it)
        if $e.ack and ($dels | length) == 0 and
           ($pdel[$e.f.person_id // ""] | not) then
          {l: "\($n): \($t) \($tag) (\($e.id // "imported, batch \($e.b)") written by \($e.n)) acknowledged, missing"}
        else empty end
      else
        ( if ($dels | any(.ack)) then
            {l: "\($n): \($t) \($tag) \($e.id): acknowledged delete lost (still listed)"}
          else empty end ),
        ( if $e.id != null and $r.id != $e.id then
            {u: "\($n): \($t) \($tag) has id \($r.id), add printed \($e.id)"}
          else empty end ),
        ( (($e.f | keys) + [$m[] | select(.k == "upd") | .f | keys[]] | unique)[] as $k
          | ($e.f[$k]) as $v0
          | ($m | map(select(.k == "upd" and .f[$k] != null))) as $u
          | (([-1] + [$u | to_entries[] | select(.value.ack) | .key]) | max) as $la
          | ((if $la < 0 then [$v0] else [$u[$la].f[$k]] end) + [$u[($la + 1):][] | .f[$k]]) as $ok
          | ($r[$k] | s) as $got
          | if any($ok[]; . == $got) then empty
            elif any(([$v0] + [$u[].f[$k]])[]; . == $got) then
              {l: "\($n): \($t) \($tag) \($e.id): \($k) is \($got), an acknowledged later write set \($ok[0])"}
            else
              {u: "\($n): \($t) \($tag) \($e.id // ""): \($k) is \($got), which no write set (expected one of \($ok))"}
            end )
      end ] as $rest
| ($d1 + $d2 + $u1 + $rest)
| {n: $n, c: $c, t: $t, lost: [.[] | .l // empty], doubled: [.[] | .d // empty], unexpected: [.[] | .u // empty]}
EOF

LOST=0 DOUBLED=0 UNEXPECTED=0
for c in $C1 $C2; do
    for n in hq "${OFFICE_OF[$c]}"; do
        for t in "${TABLES[@]}"; do
            printf '{"n":"%s","c":"%s","t":"%s","list":' "$n" "$c" "$t"
            cat "$SN/$n-$c-$t"
            printf '}\n'
        done
    done
done >"$T/finals.jsonl"
if ! jq -c --slurpfile log "$LOG" "$MODEL" "$T/finals.jsonl" >"$T/model.out" 2>"$T/model.err"; then
    fail "comparing the final lists with the log: jq failed: $(head -c 300 "$T/model.err")"
fi
while read -r n c t l d u; do
    LOST=$((LOST + l)) DOUBLED=$((DOUBLED + d)) UNEXPECTED=$((UNEXPECTED + u))
    if ((l + d + u)); then
        fail "$n's $t of $c against the log: lost $l, doubled $d, unexpected $u"
        jq -r --arg n "$n" --arg c "$c" --arg t "$t" 'select(.n == $n and .c == $c and .t == $t) |
            (.lost[:5][] | "     lost: \(.)"), (.doubled[:5][] | "     doubled: \(.)"),
            (.unexpected[:5][] | "     unexpected: \(.)")' "$T/model.out"
    fi
done < <(jq -r '"\(.n) \(.c) \(.t) \(.lost | length) \(.doubled | length) \(.unexpected | length)"' "$T/model.out")
for c in $C1 $C2; do
    for n in hq "${OFFICE_OF[$c]}"; do
        info "$n holds $(jq length "$SN/$n-$c-person") persons, $(jq length "$SN/$n-$c-training") trainings, $(jq length "$SN/$n-$c-placement") placements of $c"
    done
done

# Killed imports: whole, none or part of their rows present (per record,
# any is allowed; a part is worth knowing).
jq -rs --slurpfile hqp "$SN/hq-$C1-person" --slurpfile hqq "$SN/hq-$C2-person" '
  ([$hqp[0][], $hqq[0][]] | map(.name) | INDEX(.)) as $have
  | [.[] | select(.b != null and .ack == false)] | group_by(.b)
  | map(length as $n | [.[] | .f.name | select($have[.] != null)] | length as $p | {n: $n, p: $p})
  | "killed imports: \(length); rows present: all \(map(select(.p == .n)) | length), none \(map(select(.p == 0)) | length), part \(map(select(.p > 0 and .p < .n)) | length)"' "$LOG" |
    while read -r line; do info "$line"; done

# Histories: for a sample of updated records, each node's history has no
# change twice, no more changes than commands attempted, no fewer than were
# acknowledged, and is the same on the office and the HQ.
jq -rs '[.[] | select(.k == "upd" or .k == "del")] | group_by(.id) | map(select(any(.k == "upd")))
  | map({id: .[0].id, c: .[0].c, att: (length + 1), ack: ([.[] | select(.ack)] | length + 1)})
  | .[:40][] | "\(.id) \(.c) \(.att) \(.ack)"' "$LOG" >"$T/hsample"
HCHECKED=0
while read -r id c att ack; do
    o=${OFFICE_OF[$c]}
    jrun hq --json history person "$id"
    cp "$T/out" "$T/h-hq"
    jrun "$o" --json history person "$id"
    cp "$T/out" "$T/h-o"
    cmp -s "$T/h-hq" "$T/h-o" || fail "history of person $id differs between hq and $o"
    # (a delete attempt adds one change: counted in att)
    read -r len uniq < <(jq -r '"\(length) \(map("\(.hlc) \(.origin)") | unique | length)"' "$T/h-hq")
    if ((len != uniq)); then
        DOUBLED=$((DOUBLED + len - uniq))
        fail "history of person $id on hq lists a change twice ($len entries, $uniq distinct)"
    elif ((len > att)); then
        DOUBLED=$((DOUBLED + len - att))
        fail "history of person $id holds $len changes; only $att commands attempted one"
    elif ((len < ack)); then
        LOST=$((LOST + ack - len))
        fail "history of person $id holds $len changes; $ack were acknowledged"
    fi
    HCHECKED=$((HCHECKED + 1))
done <"$T/hsample"
info "histories of $HCHECKED updated persons checked on the HQ and their office"

for f in "$T"/*.serve.log; do
    if grep -qE 'Sanitizer|runtime error:' "$f"; then
        crash "sanitizer report in $(basename "$f")"
    fi
done

echo "-- done in ${SECONDS}s (the kill cycles took ${KILL_SECONDS}s; $VERIFIES audit --verify runs)"
check "$KILL_POINTS kill points landed ($KP in $CYCLES cycles)" test "$KP" -ge "$KILL_POINTS"
echo "figure kill_points=$KP"
echo "figure sessions_interrupted=$INTERRUPTED"
echo "figure lost=$LOST"
echo "figure doubled=$DOUBLED"
echo "figure unexpected=$UNEXPECTED"
echo "figure crashes=$CRASHES"
check "no acknowledged write lost" none "$LOST"
check "no record or change doubled" none "$DOUBLED"
check "nothing present that no command wrote" none "$UNEXPECTED"
check "no wings process crashed" none "$CRASHES"
lib_finish
