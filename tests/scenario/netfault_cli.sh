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
# and last "N passed, N failed"; exits 1 naming every failed check. The
# harness (nodes, ports, the daemon, run/check, the summary) is lib.sh.
set -euo pipefail
# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_args "$@"
lib_need jq

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

lib_tmp
SMALL=$T/small
# shellcheck disable=SC2016 # expanded at exit
on_cleanup 'umount "$SMALL" 2>/dev/null'

mkdir "$SMALL"
if ! mount -t tmpfs -o size=16m,mode=0700 tmpfs "$SMALL" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs (mount -t tmpfs refused)"
    exit 0
fi

INTERRUPTED=0
FAULTS=0

# ---- the nodes ------------------------------------------------------------------

section nodes
new_node a 450224
new_node "$SMALL/b" 450224
# shellcheck disable=SC2086 # NAME KEY ENDPOINT
on a peer add ${IDL[b]}
check "a trusts b" test "$RC" -eq 0
# shellcheck disable=SC2086 # NAME KEY ENDPOINT
on "$SMALL/b" peer add ${IDL[a]}
check "b trusts a" test "$RC" -eq 0
for ((first = 0; first < PERSONS; first += COMMIT)); do
    persons_csv 450224 "$first" "$COMMIT" person- short >"$T/p.csv"
    on "$T/a" import person "$T/p.csv"
    if [[ $RC -ne 0 ]]; then
        bad "a imports persons $first.." "$(show_last)"
        break
    fi
done
on "$T/a" --json status
check "a holds $PERSONS persons" test "$(jq .records.person "$T/out")" -eq "$PERSONS"
A_CHANGES=$(jq .changes "$T/out")

start_daemon a || true
check "a serves" test -S "$T/a/wings.ctl"

# ---- fill the disk ------------------------------------------------------------------

section "the disk fills during sync"
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

section "space freed, sync resumes"
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

stop_ok a

echo "figure sessions_interrupted=$INTERRUPTED"
echo "figure net_faults=$FAULTS"
echo "figure lost=${LOST:-0}"
echo "figure doubled=${DOUBLED:-0}"
lib_finish
