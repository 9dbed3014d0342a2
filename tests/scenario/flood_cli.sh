#!/usr/bin/env bash
# flood_cli.sh - hostile load against a serving daemon at `ulimit -n 1024`
#
#   bash tests/scenario/flood_cli.sh build/wings build/tests/wings_flood
#
# An HQ (450000) serves with its open-file limit at 1024; an office
# (450224) is its trusted peer. wings_flood opens 3,000 unauthenticated TCP
# connections (garbage, silence, a CURVE handshake cut off) and then makes
# 1,000 CURVE handshakes, each with a fresh random key. While it runs the
# office syncs; afterwards the daemon is still alive, answers a forwarded
# command through its control socket, syncs again, exits 0 on SIGTERM, and
# its audit grew by a bounded number of "refused" entries: at most
# REFUSAL_AUDITS (4) + 1 a minute begun, whatever the number of keys
# (sync/engine.c), and the refusals they count add up to the handshakes
# the flood saw refused.
#
# Prints one line per check, "N passed, 0 failed" at the end; exit 1 if any
# check failed.
set -euo pipefail

# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ $# -ne 2 ]]; then
    echo "usage: $0 PATH-TO-WINGS PATH-TO-WINGS_FLOOD" >&2
    exit 2
fi
lib_args "$1"
FLOOD=$2
case $FLOOD in /*) ;; *) FLOOD=$PWD/$FLOOD ;; esac
lib_need jq
lib_tmp

new_node hq 450000 hq
new_node office 450224 office
read -ra HQ <<<"${IDL[hq]}"
read -ra OF <<<"${IDL[office]}"
on hq peer add "${OF[@]}"
on office peer add "${HQ[@]}"
on office add person name=测试 id_number=11010519491231002X disability_category=physical
[[ $RC -eq 0 ]] || { echo "flood_cli.sh: add: $(show_last)" >&2; exit 1; }

# The daemon, at 1,024 descriptors.
( ulimit -n 1024 && exec "$W" --dir "$T/hq" serve --interval 86400 ) \
    </dev/null >"$T/serve.log" 2>&1 &
HQ_PID=$!
PIDS+=("$HQ_PID")
for ((i = 0; i < 500; i++)); do
    [[ -S $T/hq/wings.ctl && -s $T/hq/wings.pid ]] && break
    sleep 0.02
done
limit=$(awk '/Max open files/ {print $4}' "/proc/$HQ_PID/limits")
[[ $limit == 1024 ]] && ok "the daemon serves with 1024 open files allowed" ||
    bad "the daemon serves with 1024 open files allowed" "limit $limit"
on hq audit --json
before=$(jq '[.[] | select(.event == "refused")] | length' "$T/out")

t0=$SECONDS
timeout 300 "$FLOOD" "${HQ[2]}" "${HQ[1]}" 3000 1000 >"$T/flood.out" 2>&1 &
FPID=$!
PIDS+=("$FPID")
sleep 2
# An honest sync under the flood.
on office sync hq --timeout 60
[[ $RC -eq 0 ]] && grep -q '^hq ok sent=' "$T/out" &&
    ok "an honest sync completes under the flood" ||
    bad "an honest sync completes under the flood" "$(show_last)"
wait "$FPID" || true
echo "     ($(cat "$T/flood.out"); $((SECONDS - t0)) s)"
read -r _ raw dropped curve refused < <(tr '=' ' ' <"$T/flood.out" |
    awk '{print $1, $3, $5, $7, $9}') || true
[[ ${raw:-0} == 3000 && ${curve:-0} == 1000 ]] &&
    ok "the flood made 3000 connections and 1000 fresh-key handshakes" ||
    bad "the flood made 3000 connections and 1000 fresh-key handshakes" "$(cat "$T/flood.out")"

if kill -0 "$HQ_PID" 2>/dev/null; then ok "the daemon survives"; else
    bad "the daemon survives" "$(tail -n 5 "$T/serve.log" | tr '\n' '|')"; fi
on hq status
[[ $RC -eq 0 ]] && ok "a command forwarded through the control socket works" ||
    bad "a command forwarded through the control socket works" "$(show_last)"
on office add person name=测试二 id_number=110105194912310038 disability_category=physical
on office sync hq --timeout 30
[[ $RC -eq 0 ]] && grep -q '^hq ok sent=' "$T/out" &&
    ok "an honest sync after the flood" || bad "an honest sync after the flood" "$(show_last)"
fds=$(ls "/proc/$HQ_PID/fd" | wc -l)
echo "     (the daemon holds $fds descriptors after the flood)"

kill -TERM "$HQ_PID"
rc=0
wait "$HQ_PID" || rc=$?
[[ $rc == 0 ]] && ok "the daemon exits 0 on SIGTERM" ||
    bad "the daemon exits 0 on SIGTERM" "exit $rc; $(tail -n 3 "$T/serve.log" | tr '\n' '|')"
minutes=$(( (SECONDS - t0) / 60 + 1 ))
on hq audit --json
after=$(jq '[.[] | select(.event == "refused")] | length' "$T/out")
counted=$(jq '[.[] | select(.event == "refused") | (if (.peer_key // "") != "" then 1 else (.refused // 0) end)] | add // 0' "$T/out")
jq -r '.[] | select(.event == "refused") | "     audit: \(.time) refused=\(.refused) \(.reason)"' "$T/out" | tail -n 3
grew=$((after - before))
bound=$((minutes * 5))
echo "     (audit: $grew refused entries over $minutes minute(s) begun, bound $bound; they count $counted refusals; the flood saw $refused refused)"
((grew <= bound)) && ok "the audit grows by at most 5 entries a minute" ||
    bad "the audit grows by at most 5 entries a minute" "$grew entries, bound $bound"
((counted >= refused)) && ok "the refused entries account for every refused handshake" ||
    bad "the refused entries account for every refused handshake" "$counted < $refused"
on hq list person --json
n=$(jq length "$T/out")
[[ $n == 2 ]] && ok "the HQ holds the office's 2 persons" || bad "the HQ holds the office's 2 persons" "$n"

lib_finish
