# lib.sh - the harness every scenario script sources
#
#   set -euo pipefail            # the script's own choice (killpoints: -uo)
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   lib_start "$@"               # PATH-TO-WINGS -> W; $T; traps; cd "$T"
#   lib_need jq                  # exit 2 naming a missing tool
#   ...
#   new_node office1 450224 office
#   on office1 --json list person
#   expect "list works" rc=0 err-empty
#   check "one person" jqt "$T/out" 'length == 1'
#   lib_finish                   # "N passed, N failed" alone; exit 1 on a failure
#
# Running commands: `run CMD...` leaves the exit code in RC and the output in
# $T/out and $T/err (stdin is /dev/null, so nothing reaches a prompt);
# `on NODE ARGS...` is `run $W --dir $T/NODE ARGS...` (NODE may also be an
# absolute path). Assertions: `expect NAME ASSERTION...` on the last command's
# exact exit code and output, `check NAME CMD...` that CMD succeeds,
# `xfail NAME BUG CMD...` a known bug, counted apart and never failing the
# run. Each prints one line ("ok   NAME" or "FAIL NAME" and why);
# `lib_finish` ends with the line "N passed, N failed" and exits 1 naming
# every failed check.
#
# Processes: `spawn TAG CMD...` starts one in the background (pid in SPID,
# output in $T/TAG.out/.err), `reap PID SECONDS` waits for it (status in
# REAPED, "hung" if it had to be killed), `start_daemon NODE` / `stop_daemon
# NODE` run `wings serve`. Every process started here and not reaped yet is
# SIGKILLed and waited for on every way out of the script (EXIT, INT, TERM);
# then the functions registered with `on_cleanup` run and $T is removed
# (kept when LIB_KEEP=1).
#
# Nodes are throw-away: WINGS_TEST_KDF=1 is exported and `new_node` passes
# `--kdf test` (the minimum Argon2id cost), listening on a free loopback port.
# Every node's passphrase is WINGS_PASSPHRASE, exported by lib_start (a
# script may export another; it never goes on a command line).

# ---- setting up -----------------------------------------------------------------

ME=${0##*/}
PASSED=0
FAILED=0
FAILED_NAMES=()
XFAIL=0
PIDS=()          # processes started in the background and not reaped yet
CLEANUP_HOOKS=() # run on exit, after those processes are gone
RC=0

# die MESSAGE: the harness itself cannot go on (not a failed check): a line
# "SCRIPT: MESSAGE" on stderr, exit 1.
die() {
    echo "$ME: $1" >&2
    exit 1
}

# lib_args "$@": the one argument, PATH-TO-WINGS, into W (made absolute).
# Exit 2 on a usage error.
lib_args() {
    if [[ $# -ne 1 ]]; then
        echo "usage: $0 PATH-TO-WINGS" >&2
        exit 2
    fi
    W=$1
    if [[ ! -x $W ]]; then
        echo "$ME: '$W' is not an executable" >&2
        exit 2
    fi
    case $W in /*) ;; *) W=$PWD/$W ;; esac
}

# lib_need TOOL...: exit 2 naming the first TOOL that is not installed.
lib_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || {
            echo "$ME: needs $t" >&2
            exit 2
        }
    done
}

# lib_tmp: a fresh temporary folder $T (its physical path, as /proc/PID/fd
# links name it), the cleanup traps, a hermetic environment, cd "$T".
lib_tmp() {
    local tag=${ME%.sh}
    T=$(mktemp -d "${TMPDIR:-/tmp}/wings-${tag//_/-}.XXXXXX")
    T=$(cd "$T" && pwd -P)
    trap lib_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [[ $- == *e* ]]; then
        trap 'echo "$ME: aborted by an unexpected failure at line $LINENO" >&2' ERR
    fi
    # Hermetic: nothing from the caller's environment picks a node or a
    # passphrase for us. One passphrase for every node, in the environment.
    unset WINGS_PASSPHRASE WINGS_NEW_PASSPHRASE WINGS_DIR
    export WINGS_PASSPHRASE=${LIB_PASSPHRASE:-Juniper-6t-quarry-beacon-27}
    export WINGS_TEST_KDF=1
    cd "$T" || exit 1
}

# lib_start "$@": lib_args, then lib_tmp.
lib_start() {
    lib_args "$@"
    lib_tmp
}

# on_cleanup CMD: run CMD (a function name, or words) on exit, once every
# background process is gone and before $T is removed.
on_cleanup() { CLEANUP_HOOKS+=("$*"); }

lib_cleanup() {
    local rc=$? p h
    trap - ERR
    set +e
    {
        for p in "${PIDS[@]}"; do
            if ours "$p"; then kill -9 "$p"; fi
        done
        for p in "${PIDS[@]}"; do wait "$p"; done
    } 2>/dev/null
    PIDS=()
    for h in "${CLEANUP_HOOKS[@]}"; do eval "$h"; done
    if [[ ${LIB_KEEP:-0} == 1 ]]; then
        echo "$ME: kept $T" >&2
    else
        rm -rf -- "$T"
    fi
    exit "$rc"
}

# ---- running a command -------------------------------------------------------------

# run CMD...: run with stdin from /dev/null; leaves RC, and stdout/stderr in
# $T/out and $T/err.
run() {
    if "$@" </dev/null >"$T/out" 2>"$T/err"; then RC=0; else RC=$?; fi
}

# node_dir NODE: $T/NODE, or NODE itself if it is an absolute path.
node_dir() {
    case $1 in /*) printf '%s' "$1" ;; *) printf '%s' "$T/$1" ;; esac
}

# on NODE ARGS...: `wings --dir NODE ARGS...` (through NODE's daemon when one
# serves it).
on() {
    local node=$1
    shift
    case $node in /*) ;; *) node=$T/$node ;; esac
    run "$W" --dir "$node" "$@"
}

# save NODE FILE ARGS...: `on NODE ARGS...`, which must exit 0 (else the
# script stops: a step others rely on failed); its stdout is kept in $T/FILE.
save() {
    local node=$1 file=$2
    shift 2
    on "$node" "$@"
    [[ $RC -eq 0 ]] || die "'$node: $*' failed: $(show_last)"
    cp -- "$T/out" "$T/$file"
}

# ---- reporting ---------------------------------------------------------------------

ok() {
    PASSED=$((PASSED + 1))
    echo "ok   $1"
}

# bad NAME [WHY]: a failed check.
bad() {
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$1")
    echo "FAIL $1"
    [[ -z ${2-} ]] || echo "     why: $2"
}

info() { echo "     ($1)"; }

section() { echo "-- $1 [${SECONDS}s]"; }

# show_last: the last command's outcome, for failure reports (CR shown as ~,
# LF as |).
show_last() {
    printf 'exit %s; stdout: %s; stderr: %s' "$RC" \
        "$(head -c 600 "$T/out" 2>/dev/null | tr '\r\n' '~|')" \
        "$(head -c 400 "$T/err" 2>/dev/null | tr '\n' '|')"
}

# expect NAME ASSERTION...: check the last command's outcome; the first
# assertion that does not hold is the reason of the failure.
#   rc=N        exit code N
#   out:STR     stdout contains STR          err:STR    stderr contains STR
#   !out:STR    stdout does not contain STR  !err:STR   stderr lacks STR
#   out~ERE     a line of stdout matches ERE err~ERE    likewise for stderr
#   !out~ERE    no line of stdout matches    !err~ERE   likewise for stderr
#   out=STR     stdout is exactly the line STR
#   err=STR     stderr is exactly the line STR
#   out-empty   nothing on stdout            err-empty  nothing on stderr
#   out-lines=N stdout has exactly N lines
#   err-line    stderr is exactly one line, beginning "wings: "
expect() {
    local name=$1 a why=""
    shift
    for a in "$@"; do
        case $a in
        rc=*)
            [[ $RC == "${a#rc=}" ]] || why="expected exit ${a#rc=}, got $RC"
            ;;
        out:*) grep -qF -- "${a#out:}" "$T/out" ||
            why="stdout lacks '${a#out:}'" ;;
        err:*) grep -qF -- "${a#err:}" "$T/err" ||
            why="stderr lacks '${a#err:}'" ;;
        '!out:'*) ! grep -qF -- "${a#!out:}" "$T/out" ||
            why="stdout contains '${a#!out:}'" ;;
        '!err:'*) ! grep -qF -- "${a#!err:}" "$T/err" ||
            why="stderr contains '${a#!err:}'" ;;
        out~*) grep -qE -- "${a#out~}" "$T/out" ||
            why="no stdout line matches /${a#out~}/" ;;
        err~*) grep -qE -- "${a#err~}" "$T/err" ||
            why="no stderr line matches /${a#err~}/" ;;
        '!out~'*) ! grep -qE -- "${a#!out~}" "$T/out" ||
            why="a stdout line matches /${a#!out~}/" ;;
        '!err~'*) ! grep -qE -- "${a#!err~}" "$T/err" ||
            why="a stderr line matches /${a#!err~}/" ;;
        out=*) is_lines "$T/out" "${a#out=}" ||
            why="stdout is not exactly '${a#out=}'" ;;
        err=*) is_lines "$T/err" "${a#err=}" ||
            why="stderr is not exactly '${a#err=}'" ;;
        out-empty) [[ ! -s $T/out ]] || why="stdout is not empty" ;;
        err-empty) [[ ! -s $T/err ]] || why="stderr is not empty" ;;
        out-lines=*) has_lines "$T/out" "${a#out-lines=}" ||
            why="stdout is not ${a#out-lines=} lines" ;;
        err-line)
            [[ $(wc -l <"$T/err") -eq 1 && $(head -c 7 "$T/err") == "wings: " ]] ||
                why="stderr is not one line beginning 'wings: '"
            ;;
        *)
            echo "$ME: bad assertion '$a'" >&2
            exit 2
            ;;
        esac
        [[ -z $why ]] || break
    done
    if [[ -z $why ]]; then ok "$name"; else bad "$name" "$why ($(show_last))"; fi
}

# check NAME CMD...: a check that CMD succeeds (a failure shows the last
# command's outcome too).
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name" "'$*' failed ($(show_last))"; fi
}

# xfail NAME BUG CMD...: a known bug. CMD states the correct behaviour; while
# it fails the line reads XFAIL and is counted apart. Never fails the run.
xfail() {
    local name=$1 bug=$2
    shift 2
    XFAIL=$((XFAIL + 1))
    if "$@"; then
        echo "XPASS $name (known bug appears fixed: $bug; make this a check)"
    else
        echo "XFAIL $name (known bug: $bug)"
    fi
}

# lib_finish: the summary; the last line is "N passed, N failed" alone.
# Exits 1 if a check failed (or none ran), else 0.
lib_finish() {
    echo "-- summary [${SECONDS}s]"
    if ((XFAIL)); then
        echo "$XFAIL known bug(s) marked XFAIL above (not counted)"
    fi
    if ((FAILED)); then
        echo "failed checks:"
        printf '  %s\n' "${FAILED_NAMES[@]}"
    elif ((PASSED == 0)); then
        echo "no check ran"
        FAILED_NAMES+=("(none ran)")
    fi
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0 && PASSED > 0)) || exit 1
    exit 0
}

# ---- predicates (for check) ------------------------------------------------------------

not() { ! "$@"; }
same_text() { [[ $1 == "$2" ]]; }
differ_text() { [[ $1 != "$2" ]]; }
same_file() { cmp -s -- "$1" "$2"; }
# all_same FILE...: the files are byte-identical.
all_same() {
    local f=$1
    shift
    while (($#)); do
        cmp -s -- "$f" "$1" || return 1
        shift
    done
}
# is_lines FILE LINE...: FILE holds exactly these lines, each ended by LF.
is_lines() {
    local f=$1
    shift
    printf '%s\n' "$@" >"$T/want"
    cmp -s -- "$T/want" "$f"
}
# is_crlf_lines FILE LINE...: FILE holds exactly these lines, each ended by
# CR LF (RFC 4180).
is_crlf_lines() {
    local f=$1
    shift
    printf '%s\r\n' "$@" >"$T/want"
    cmp -s -- "$T/want" "$f"
}
nlines() { wc -l <"$1" | tr -d ' '; }
# has_lines FILE N: FILE has N lines.
has_lines() { [[ $(nlines "$1") -eq $2 ]]; }
# none N: N is 0 (a count of problems).
none() { (($1 == 0)); }
# one_of X Y...: X is one of the Ys.
one_of() {
    local x=$1 y
    shift
    for y in "$@"; do [[ $x == "$y" ]] && return 0; done
    return 1
}
sha() { sha256sum <"$1" | cut -d' ' -f1; }
sorted() { if (($#)); then printf '%s\n' "$@" | LC_ALL=C sort; fi; }
# jqt FILE FILTER: FILTER (jq -e) holds of the JSON in FILE.
jqt() { jq -e "$2" "$1" >/dev/null 2>&1; }
# ids_are FILE ID...: the JSON array in FILE holds records with exactly these
# ids, in id order (as list sorts them).
ids_are() {
    local f=$1
    shift
    [[ $(jq -r '.[].id' "$f") == "$(sorted "$@")" ]]
}
# last_is_id: the last command printed one lower-case 32-hex id alone.
last_is_id() { has_lines "$T/out" 1 && grep -qxE '[0-9a-f]{32}' "$T/out"; }

# ---- resident id numbers and person rows ---------------------------------------------------

# GB 11643: the check character of 17 digits is "10X98765432"[S mod 11], S
# the sum of digit i times weight i.
GB11643_WEIGHTS=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2)
# idnum_v VAR PREFIX17: the 18-character id number into VAR (no subshell).
idnum_v() {
    local _b=$2 _s=0 _i _m=10X98765432
    for ((_i = 0; _i < 17; _i++)); do
        _s=$((_s + ${_b:_i:1} * GB11643_WEIGHTS[_i]))
    done
    printf -v "$1" '%s%s' "$_b" "${_m:_s%11:1}"
}
# idnum PREFIX17: the 18-character id number, printed.
idnum() {
    local n
    idnum_v n "$1"
    printf '%s\n' "$n"
}
# wrong_check ID18: a check character other than ID18's own.
wrong_check() { if [[ ${1:17} == 0 ]]; then echo 1; else echo 0; fi; }

# The same rule for awk programs: `awk "$AWK_IDNUM"' BEGIN { ... idnum(b) ... }'`
# gives idnum(PREFIX17) = the 18-character id number.
# shellcheck disable=SC2016 # awk's text, not the shell's
AWK_IDNUM='
function idnum(b,    k, s, w) {
    split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ")
    s = 0
    for (k = 1; k <= 17; k++) s += substr(b, k, 1) * w[k]
    return b substr("10X98765432", s % 11 + 1, 1)
}
'

# persons_csv COUNTY FIRST N [NAME [short]]: a person CSV (header first) of
# rows FIRST .. FIRST+N-1 of COUNTY on stdout. Row i: name NAMEi (NAME
# defaults to "person-"), born 1960-01-01 plus i days-of-28 (distinct dates
# for i < 20160), id number of that date and serial i mod 1000 with its
# check character. Full columns: name, gender (the id number's: its 17th
# digit, the parity of i, is odd for male),
# birth_date, id_number, disability_category (physical), disability_grade
# (i mod 4 + 1), county; "short": name, id_number, disability_category.
persons_csv() {
    awk -v c="$1" -v first="$2" -v n="$3" -v nm="${4:-person-}" \
        -v short="${5:-}" "$AWK_IDNUM"'BEGIN {
        if (short == "short") print "name,id_number,disability_category"
        else print "name,gender,birth_date,id_number,disability_category,disability_grade,county"
        for (i = first; i < first + n; i++) {
            y = 1960 + int(i / 336); mo = int(i / 28) % 12 + 1; d = i % 28 + 1
            idn = idnum(sprintf("%s%04d%02d%02d%03d", c, y, mo, d, i % 1000))
            if (short == "short")
                printf "%s%d,%s,physical\n", nm, i, idn
            else
                printf "%s%d,%s,%04d-%02d-%02d,%s,physical,%d,%s\n", nm, i,
                    (i % 2 ? "male" : "female"), y, mo, d, idn, i % 4 + 1, c
        }
    }'
}

# ---- processes ---------------------------------------------------------------------------

# ours PID: PID runs (a zombie does not count) and is a child of this shell.
# Only such a process is ever signalled: a pid of a process that ended may
# have been handed to someone else's since.
ours() {
    local line
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    line=${line##*) } # "STATE PPID ..."
    [[ ${line:0:1} != Z ]] || return 1
    line=${line:2}
    [[ ${line%% *} == "$$" ]]
}
alive() { ours "$1"; }

# forget PID: PID was reaped; leave it out of the cleanup.
forget() {
    local p
    local -a keep=()
    for p in "${PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# nap SECONDS: sleep without starting a process (a read that times out on a
# pipe nobody writes to).
exec {NAPFD}<> <(:)
nap() { read -r -t "$1" -u "$NAPFD" _ || true; }
# sleep_ms N
sleep_ms() {
    local s
    printf -v s '%d.%03d' "$(($1 / 1000))" "$(($1 % 1000))"
    nap "$s"
}
# now_ms VAR: wall clock in milliseconds.
now_ms() {
    local t=${EPOCHREALTIME//[!0-9]/}
    printf -v "$1" '%d' "$((10#$t / 1000))"
}

# spawn TAG CMD...: CMD in the background, stdin /dev/null, output in
# $T/TAG.out and $T/TAG.err; its pid in SPID, reaped on exit if not before.
spawn() {
    local tag=$1
    shift
    "$@" </dev/null >"$T/$tag.out" 2>"$T/$tag.err" &
    SPID=$!
    PIDS+=("$SPID")
}

# spawn_on TAG NODE ARGS...: `wings --dir NODE ARGS...` through spawn.
spawn_on() {
    local tag=$1 d
    d=$(node_dir "$2")
    shift 2
    spawn "$tag" "$W" --dir "$d" "$@"
}

# sigkill PID: SIGKILL PID if it is ours and runs; returns 0 if it did.
sigkill() {
    if ours "$1"; then
        kill -9 "$1" 2>/dev/null && return 0
    fi
    return 1
}

# reap PID SECONDS: wait up to SECONDS for PID (a child) to end; its exit
# status goes to REAPED, or "hung" if it had to be killed.
reap() { reap_ "$@" 2>/dev/null; } # no "Killed" notices from bash
reap_() {
    local pid=$1 i
    for ((i = 0; i < $2 * 500; i++)); do
        ours "$pid" || break
        nap 0.002
    done
    if ours "$pid"; then
        kill -9 "$pid" || true
        wait "$pid" || true
        REAPED=hung
    elif wait "$pid"; then
        REAPED=0
    else
        REAPED=$?
    fi
    forget "$pid"
}

# wait_for FILE TEXT: up to 20 s for TEXT to appear in FILE (a daemon's
# output); returns 1 if it does not.
wait_for() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---- ports ---------------------------------------------------------------------------------

# free_port: a TCP port in 20000-60000, outside the kernel's range of
# ephemeral ports (a client socket may hold any of those for a while), that
# no socket here uses and this script has not handed out, into PORT.
USED_PORTS=" "
EPH_LO=32768 EPH_HI=60999
if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r EPH_LO EPH_HI </proc/sys/net/ipv4/ip_local_port_range
fi
free_port() {
    local p hex tries=0
    while :; do
        p=$((20000 + SRANDOM % 40001))
        if ((tries < 1000 && p >= EPH_LO && p <= EPH_HI)); then
            tries=$((tries + 1))
            continue
        fi
        printf -v hex ':%04X ' "$p"
        if [[ $USED_PORTS != *" $p "* ]] &&
            ! grep -qs -- "$hex" /proc/net/tcp /proc/net/tcp6; then
            break
        fi
        ((++tries <= 2000)) || die "no free port found"
    done
    USED_PORTS+="$p "
    PORT=$p
}

# ---- nodes and daemons -------------------------------------------------------------------------

# shellcheck disable=SC2034 # read by the scripts
declare -A IDL KEY COUNTY_OF ROLE_OF PORT_OF DPID

# new_node NAME COUNTY [ROLE]: a fresh node (ROLE office by default) in
# $T/NAME (or NAME, an absolute path; its name is then the last part)
# listening on a free loopback port, at the test KDF; a check that init
# exits 0, prints one identity line and nothing on stderr. Its identity line
# goes to IDL[NAME], its key to KEY[NAME], its port to PORT_OF[NAME].
new_node() {
    local n=${1##*/} role=${3:-office}
    local -a idw
    free_port
    on "$1" init --name "$n" --county "$2" --role "$role" \
        --listen "tcp://127.0.0.1:$PORT" --kdf test
    expect "node $n ($role $2) created" rc=0 out-lines=1 err-empty
    IDL[$n]=$(head -n 1 "$T/out")
    read -ra idw <<<"${IDL[$n]}"
    KEY[$n]=${idw[1]-}
    COUNTY_OF[$n]=$2
    ROLE_OF[$n]=$role
    PORT_OF[$n]=$PORT
}

# trust A B: A and B add each other as peers (a check). A and B are node
# names (their folders in $T, or absolute paths as given to new_node).
trust() {
    local -a ida idb
    read -ra ida <<<"${IDL[${1##*/}]}"
    read -ra idb <<<"${IDL[${2##*/}]}"
    on "$1" peer add "${idb[@]}"
    local rc1=$RC
    on "$2" peer add "${ida[@]}"
    if [[ $rc1 -eq 0 && $RC -eq 0 ]]; then
        ok "${1##*/} and ${2##*/} trust each other"
    else
        bad "${1##*/} and ${2##*/} trust each other" \
            "peer add exits $rc1 and $RC ($(show_last))"
    fi
}

# start_daemon NODE [SERVE-ARGS...]: `wings serve SERVE-ARGS...` (by default
# `--interval 86400`: it only answers) for NODE in the background (log in
# $T/NODE.serve.log, pid in DPID[NODE]); returns 0 once its control socket
# and pid file name it. If it does not come up within 10 s: a failed check
# naming the log's end, the process killed, returns 1.
start_daemon() {
    local n=${1##*/} d i pid got
    d=$(node_dir "$1")
    shift
    (($#)) || set -- --interval 86400
    "$W" --dir "$d" serve "$@" </dev/null >>"$T/$n.serve.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < 5000; i++)); do
        got=
        if [[ -S $d/wings.ctl && -s $d/wings.pid ]]; then
            read -r got <"$d/wings.pid" || true
        fi
        if [[ $got == "$pid" ]]; then
            DPID[$n]=$pid
            return 0
        fi
        ours "$pid" || break
        nap 0.002
    done
    bad "the daemon of $n comes up" "log: $(tail -n 5 "$T/$n.serve.log" | tr '\n' '|')"
    sigkill "$pid" || true
    reap "$pid" 5
    return 1
}

# stop_daemon NODE: SIGTERM to NODE's daemon, reaped; its exit status (or
# "hung") goes to STOP_RC. No daemon: STOP_RC is "none".
stop_daemon() {
    local n=${1##*/} pid
    pid=${DPID[$n]-}
    STOP_RC=none
    [[ -n $pid ]] || return 0
    if ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    reap "$pid" 20
    STOP_RC=$REAPED
    unset "DPID[$n]"
}

# stop_ok NODE: stop NODE's daemon; a check that it exits 0.
stop_ok() {
    local n=${1##*/}
    stop_daemon "$1"
    if [[ $STOP_RC == 0 ]]; then
        ok "$n's daemon exits 0 on SIGTERM"
    else
        bad "$n's daemon exits 0 on SIGTERM" \
            "exit $STOP_RC; log: $(tail -n 3 "$T/$n.serve.log" | tr '\n' '|')"
    fi
}

# add_ok VAR NAME NODE TABLE FIELD=VALUE...: a check that the add succeeds
# and prints the new id alone, nothing on stderr; the id goes into VAR.
add_ok() {
    local var=$1 name=$2 node=$3
    shift 3
    on "$node" add "$@"
    if [[ $RC -eq 0 ]] && last_is_id && [[ ! -s $T/err ]]; then
        ok "$name"
    else
        bad "$name" "$(show_last)"
    fi
    printf -v "$var" '%s' "$(head -n 1 "$T/out")"
}

# sync_ok FILE PEER: FILE is exactly one line "PEER ok sent=N received=M".
sync_ok() {
    has_lines "$1" 1 && grep -qE "^$2 ok sent=[0-9]+ received=[0-9]+\$" "$1"
}

# sync_check NAME CLIENT PEER [ARGS...]: a check that `wings --dir CLIENT
# sync PEER ARGS...` exits 0 with exactly the line "PEER ok sent=N
# received=M" and nothing on stderr.
sync_check() {
    local name=$1 client=$2 peer=$3
    shift 3
    on "$client" sync "$peer" "$@"
    if [[ $RC -eq 0 ]] && sync_ok "$T/out" "$peer" && [[ ! -s $T/err ]]; then
        ok "$name"
    else
        bad "$name" "expected exit 0 and one line '$peer ok sent=N received=M' ($(show_last))"
    fi
}

# ---- records and node states shared by the life scenarios ------------------------------

# add_person NODE I [COUNTY]: add person I on NODE (a failed check if the add
# fails): name pI, born 1960-01-01, the id number of COUNTY (default
# $COUNTY) with serial I, gender by I's parity as the id number's 17th digit
# says (odd: male).
add_person() {
    local idn g=female c=${3:-$COUNTY}
    idnum_v idn "${c}19600101$(printf %03d "$2")"
    (($2 % 2)) && g=male
    on "$1" add person name="p$2" gender=$g birth_date=1960-01-01 \
        id_number="$idn" disability_category=physical disability_grade=1
    [[ $RC -eq 0 ]] || bad "add p$2 on $1" "$(show_last)"
}

# held_on NODE: NODE's status says its own writes are held (after a restore
# or a copy-back, until its peers have synced with it); free_on NODE: not.
held_on() {
    on "$1" --json status
    jqt "$T/out" '.held != null'
}
free_on() {
    on "$1" --json status
    jqt "$T/out" '.held == null'
}

# copy_node FROM TO: TO (a folder in $T, or absolute) becomes a copy of FROM
# made with `cp -a` (wings.mark included), whatever TO held before.
copy_node() {
    local from to
    from=$(node_dir "$1")
    to=$(node_dir "$2")
    rm -rf -- "$to"
    cp -a -- "$from" "$to"
}
