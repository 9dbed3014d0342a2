#!/usr/bin/env bash
# netfault_cli.sh - a disk that fills during sync, through the real binary
#
#   bash tests/scenario/netfault_cli.sh build/wings
#
# Two offices of one county: "a" holds PERSONS records and serves them
# (`wings serve`, a daemon); "b" lives on a small tmpfs in a private mount
# namespace (`unshare -m`, so nothing leaks to the host's mounts) that a
# filler file has nearly filled. `wings sync a` on b must:
#
#   1. fail with exit 6 (CLI.md: sync failed) and say "storage full";
#   2. have acknowledged nothing it did not store: a's audit entry for the
#      session (sent = changes b acknowledged) equals what b holds of a's
#      feed, and b's records are whole commits of a (no torn batch);
#   3. leave b's store intact: `audit --verify` exits 0;
#   4. once the filler is deleted, resume and complete: b holds exactly
#      a's records (`list person --json` byte-identical), verify clean.
#
# Needs root (mount) and unshare; otherwise prints "SKIP: ..." and exits 0.
# Prints one line per check, then the figure lines
#   figure sessions_interrupted=N  figure net_faults=N  figure lost=N
#   figure doubled=N
# and exits 1 naming every failed check.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PATH-TO-WINGS" >&2
    exit 2
fi
W=$1
if [[ ! -x $W ]]; then
    echo "netfault_cli.sh: '$W' is not an executable" >&2
    exit 2
fi
case $W in /*) ;; *) W=$PWD/$W ;; esac
if ! command -v jq >/dev/null; then
    echo "netfault_cli.sh: needs jq" >&2
    exit 2
fi

# ---- into a private mount namespace ------------------------------------------

if [[ ${NETFAULT_IN_NS:-} != 1 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "SKIP: netfault_cli.sh needs root to mount a small tmpfs"
        exit 0
    fi
    if ! command -v unshare >/dev/null; then
        echo "SKIP: netfault_cli.sh needs unshare(1)"
        exit 0
    fi
    if ! unshare -m --propagation private true 2>/dev/null; then
        echo "SKIP: unshare -m is not permitted here"
        exit 0
    fi
    NETFAULT_IN_NS=1 exec unshare -m --propagation private bash "$0" "$W"
fi

PERSONS=${NETFAULT_PERSONS:-4000}
COMMIT=500 # rows per import: one commit, one signed head each

T=$(mktemp -d "${TMPDIR:-/tmp}/wings-netfault-cli.XXXXXX")
T=$(cd "$T" && pwd -P)
SMALL=$T/small
DPID=""

cleanup() {
    {
        if [[ -n $DPID ]] && kill -0 "$DPID"; then
            kill -9 "$DPID" || true
            wait "$DPID" || true
        fi
        umount "$SMALL" || true
    } 2>/dev/null
    rm -rf -- "$T"
}
trap cleanup EXIT
trap 'echo "netfault_cli.sh: aborted by an unexpected failure at line $LINENO" >&2' ERR

unset WINGS_PASSPHRASE WINGS_NEW_PASSPHRASE WINGS_DIR
export WINGS_PASSPHRASE='Juniper-6t-quarry-beacon-27'
export WINGS_TEST_KDF=1
cd "$T"

mkdir "$SMALL"
if ! mount -t tmpfs -o size=16m,mode=0700 tmpfs "$SMALL" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs (mount -t tmpfs refused)"
    exit 0
fi

PASSED=0
FAILED=0
FAILED_NAMES=()
INTERRUPTED=0
FAULTS=0

run() {
    if "$@" </dev/null >"$T/out" 2>"$T/err"; then RC=0; else RC=$?; fi
}
on() {
    local node=$1
    shift
    run "$W" --dir "$node" "$@"
}
ok() {
    PASSED=$((PASSED + 1))
    echo "ok   $1"
}
bad() {
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$1")
    echo "FAIL $1"
    echo "     why: $2"
}
show_last() {
    printf 'exit %s; stdout: %s; stderr: %s' "$RC" \
        "$(head -c 400 "$T/out" | tr '\n' '|')" \
        "$(head -c 400 "$T/err" | tr '\n' '|')"
}
# check NAME CONDITION-COMMAND...
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name" "'$*' failed ($(show_last))"; fi
}

# free_port: a TCP port in 20000-60000, outside the ephemeral range, that
# nothing listens on now (as sync_cli.sh picks them).
read -r EPH_LO EPH_HI </proc/sys/net/ipv4/ip_local_port_range
free_port() {
    local p hex tries=0
    while :; do
        p=$((20000 + SRANDOM % 40001))
        if ((tries < 1000 && p >= EPH_LO && p <= EPH_HI)); then
            tries=$((tries + 1))
            continue
        fi
        printf -v hex ':%04X ' "$p"
        if ! grep -qs -- "$hex" /proc/net/tcp /proc/net/tcp6; then
            break
        fi
        if ((++tries > 2000)); then
            echo "netfault_cli.sh: no free port found" >&2
            exit 1
        fi
    done
    PORT=$p
}

# persons.csv FIRST N: N valid person rows (resident ids with their check
# digit), serials from FIRST.
persons_csv() {
    awk -v first="$1" -v n="$2" 'BEGIN {
        split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ")
        split("1 0 X 9 8 7 6 5 4 3 2", cd, " ")
        print "name,id_number,disability_category"
        for (i = first; i < first + n; i++) {
            d = 19600101 + (i % 28) + 100 * (int(i / 28) % 12) + 10000 * int(i / 336)
            s = sprintf("450224%08d%03d", d, i % 1000)
            sum = 0
            for (k = 1; k <= 17; k++) sum += substr(s, k, 1) * w[k]
            printf "person-%d,%s%s,physical\n", i, s, cd[sum % 11 + 1]
        }
    }'
}

# ---- the nodes ------------------------------------------------------------------

echo "-- nodes [${SECONDS}s]"
free_port
PA=$PORT
on "$T/a" init --name a --county 450224 --listen "tcp://127.0.0.1:$PA" --kdf test
check "node a created" test "$RC" -eq 0
IDA=$(head -n 1 "$T/out")
on "$SMALL/b" init --name b --county 450224 --listen "tcp://127.0.0.1:1" --kdf test
check "node b created on the small tmpfs" test "$RC" -eq 0
IDB=$(head -n 1 "$T/out")
# shellcheck disable=SC2086
on "$T/a" peer add $IDB
check "a trusts b" test "$RC" -eq 0
# shellcheck disable=SC2086
on "$SMALL/b" peer add $IDA
check "b trusts a" test "$RC" -eq 0
for ((first = 0; first < PERSONS; first += COMMIT)); do
    persons_csv "$first" "$COMMIT" >"$T/p.csv"
    on "$T/a" import person "$T/p.csv"
    if [[ $RC -ne 0 ]]; then
        bad "a imports persons $first.." "$(show_last)"
        break
    fi
done
on "$T/a" --json status
check "a holds $PERSONS persons" test "$(jq .records.person "$T/out")" -eq "$PERSONS"
A_CHANGES=$(jq .changes "$T/out")

"$W" --dir "$T/a" serve --interval 86400 </dev/null >>"$T/a.serve.log" 2>&1 &
DPID=$!
for ((i = 0; i < 100; i++)); do
    [[ -S $T/a/wings.ctl ]] && break
    sleep 0.05
done
check "a serves" test -S "$T/a/wings.ctl"

# ---- fill the disk ------------------------------------------------------------------

echo "-- the disk fills during sync [${SECONDS}s]"
# Leave b room for its store to open and take a few batches, not all.
avail_kib() { df -k --output=avail "$SMALL" | tail -n 1 | tr -d ' '; }
LEAVE_KIB=${NETFAULT_LEAVE_KIB:-1200}
FILL=$(($(avail_kib) - LEAVE_KIB))
dd if=/dev/zero of="$SMALL/filler" bs=1k count="$FILL" status=none
echo "     (tmpfs: $(avail_kib) KiB left for b)"

on "$SMALL/b" sync a --timeout 20
FAULTS=$((FAULTS + 1))
INTERRUPTED=$((INTERRUPTED + 1))
cp "$T/out" "$T/sync1.out"
cp "$T/err" "$T/sync1.err"
check "sync onto a full disk exits 6" test "$RC" -eq 6
check "it says storage full" grep -q "a failed: .*storage full" "$T/sync1.out"
echo "     ($(head -c 300 "$T/sync1.out"))"

# What b holds now (its store opens with the disk still full: reads only).
on "$SMALL/b" --json status
check "b's store opens on the full disk" test "$RC" -eq 0
B_PERSONS=$(jq .records.person "$T/out" 2>/dev/null || echo -1)
echo "     (b holds $B_PERSONS of $PERSONS persons)"
check "b stopped part-way" test "$B_PERSONS" -lt "$PERSONS"
check "b stored some batches before the disk filled" test "$B_PERSONS" -gt 0

# a's account of the session: sent = changes b acknowledged.
on "$T/a" --json audit --peer b
jq -c '[.[] | select(.event == "session" and .peer == "b" and .direction == "in")] | last' "$T/out" >"$T/a_entry" || true
A_RESULT=$(jq -r .result "$T/a_entry" 2>/dev/null || echo none)
A_SENT=$(jq -r .sent "$T/a_entry" 2>/dev/null || echo -1)
A_REASON=$(jq -r .reason "$T/a_entry" 2>/dev/null || echo "")
echo "     (a audited: $A_RESULT, sent=$A_SENT, reason: $A_REASON)"
check "a audited the session as failed" test "$A_RESULT" = failed
check "a's reason names storage full" grep -q "storage full" <<<"$A_REASON"
check "nothing acknowledged that b did not store (a sent=$A_SENT, b holds $B_PERSONS)" \
    test "$A_SENT" -eq "$B_PERSONS"

on "$SMALL/b" audit --verify
check "b's audit --verify is clean on the full disk" test "$RC" -eq 0

# ---- free the space, resume -----------------------------------------------------------

echo "-- space freed, sync resumes [${SECONDS}s]"
rm -f "$SMALL/filler"
on "$T/a" --json status
A_CHANGES=$(jq .changes "$T/out") # a's feed, with its audit entries now
on "$SMALL/b" sync a --timeout 20
check "the sync resumes and completes" test "$RC" -eq 0
echo "     ($(head -c 200 "$T/out"))"
REST=$(sed -n 's/^a ok sent=[0-9]* received=\([0-9]*\)$/\1/p' "$T/out")
on "$SMALL/b" --json status
B_NOW=$(jq .records.person "$T/out")
check "b holds all $PERSONS persons" test "$B_NOW" -eq "$PERSONS"
# What arrived now is exactly what was missing: a's feed (its records and
# audit entries) minus what b had acknowledged.
check "the resumed session carried the rest, once (received=$REST)" \
    test "${REST:-0}" -eq $((A_CHANGES - B_PERSONS))
on "$T/a" --json list person
cp "$T/out" "$T/a.list"
on "$SMALL/b" --json list person
check "b's persons are a's, byte for byte" cmp -s "$T/a.list" "$T/out"
LOST=$(jq -n --slurpfile a "$T/a.list" --slurpfile b "$T/out" \
    '[$a[0][].id] - [$b[0][].id] | length')
DOUBLED=$(jq '[.[].name] | length - (unique | length)' "$T/out")
check "none lost ($LOST), none doubled ($DOUBLED)" test "$LOST" -eq 0 -a "$DOUBLED" -eq 0
on "$SMALL/b" audit --verify
check "b's audit --verify is clean after resuming" test "$RC" -eq 0
on "$SMALL/b" --json audit --peer a
jq -c '[.[] | select(.node == "b" and .event == "session" and .peer == "a")]' \
    "$T/out" >"$T/b_entries"
check "b audited the disk-full session as failed, storage full" \
    test "$(jq '[.[] | select(.result == "failed" and
                  (.reason | test("storage full")))] | length' "$T/b_entries")" -eq 1
check "b audited the resumed session as ok" \
    test "$(jq '[.[] | select(.result == "ok" and .received == '"${REST:-0}"')] |
                length' "$T/b_entries")" -eq 1

kill -TERM "$DPID"
wait "$DPID" || true
DPID=""

echo "$PASSED passed, $FAILED failed [${SECONDS}s]"
echo "figure sessions_interrupted=$INTERRUPTED"
echo "figure net_faults=$FAULTS"
echo "figure lost=${LOST:-0}"
echo "figure doubled=${DOUBLED:-0}"
if ((FAILED)); then
    printf 'failed: %s\n' "${FAILED_NAMES[@]}" >&2
    exit 1
fi
