#!/usr/bin/env bash
# demo_cli.sh - `wings demo --dir DIR` keeps a network a newcomer can open
#
#   bash tests/scenario/demo_cli.sh build/wings
#
# The demo with --dir (no passphrase given) ends within 60 s leaving
# nothing running; it prints the nodes' passphrase (also in DIR/passphrase,
# mode 0600), a clerk's account and the one command that serves the HQ's
# page. That command, run as printed (on a free port), serves the demo's
# data: the clerk signs in and finds the five persons; the passphrase
# opens every node; the revoked office is listed as revoked at the HQ.
# Prints one line per check and ends with "N passed, 0 failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need curl
lib_need jq

D=$T/demo-kept
start=$SECONDS
run env -u WINGS_PASSPHRASE -u WINGS_DIR timeout -k 5 60 "$W" demo --dir "$D"
took=$((SECONDS - start))
cp -- "$T/out" "$T/demo.out"
expect "wings demo --dir: exit 0 within 60 s (took ${took}s)" rc=0
check "it says the nodes are kept in DIR" \
    grep -qx "demo finished; nothing left running, the nodes are in $D" "$T/demo.out"
LEFT=$(pgrep -f -- "$D/" || true)
check "nothing left running with the folder in its command line" same_text "$LEFT" ""

PASS=$(sed -n 's/^  passphrase of every node: \([0-9a-f]*\) (also in .*)$/\1/p' "$T/demo.out")
check "the passphrase is printed" test "${#PASS}" -eq 32
check "and kept in DIR/passphrase, readable by its owner only" \
    test "$(head -n 1 "$D/passphrase")" = "$PASS" -a "$(stat -c %a "$D/passphrase")" = 600
CLERK_PW=$(sed -n "s/^  a clerk's account at the HQ's page: user clerk, password \\([0-9a-f]*\\)$/\\1/p" "$T/demo.out")
check "a clerk's account is printed" test "${#CLERK_PW}" -eq 16
CMD=$(grep -A1 "^  serve the HQ's page on the demo's data" "$T/demo.out" | tail -n 1)
check "the one command that serves the HQ's page is printed" \
    same_text "$CMD" "    wings --dir $D/liuzhou-hq --passphrase-file $D/passphrase serve --http 127.0.0.1:${CMD##*127.0.0.1:}"
for n in rongan sanjiang liuzhou-hq; do
    run env WINGS_PASSPHRASE="$PASS" "$W" --dir "$D/$n" --json status
    expect "the passphrase opens $n" rc=0
done
run env -u WINGS_PASSPHRASE "$W" --dir "$D/liuzhou-hq" --passphrase-file "$D/passphrase" --json members
check "the HQ lists sanjiang as revoked" \
    jqt "$T/out" '.[] | select(.name == "sanjiang") | .state == "revoked"'

# The printed command, as printed, on a port free here.
free_port
read -r -a ARGS <<<"${CMD% *}"
unset 'ARGS[0]'
env -u WINGS_PASSPHRASE "$W" "${ARGS[@]}" "127.0.0.1:$PORT" </dev/null \
    >"$T/serve.out" 2>&1 &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 1 100); do
    grep -q "web page on" "$T/serve.out" 2>/dev/null && break
    sleep 0.1
done
check "the command serves the page" grep -q "web page on http://127.0.0.1:$PORT/" "$T/serve.out"
B="http://127.0.0.1:$PORT"
curl -s -c "$T/jar" -b "$T/jar" -o /dev/null "$B/signin"
PRE=$(awk '$6 == "wings_pre" {print $7}' "$T/jar")
CODE=$(curl -s -c "$T/jar" -b "$T/jar" -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrf=$PRE" --data-urlencode user=clerk \
    --data-urlencode "password=$CLERK_PW" "$B/signin")
check "the clerk signs in with the printed password" test "$CODE" = 303
curl -s -b "$T/jar" -H 'Accept-Language: en' -o "$T/persons.html" "$B/persons"
check "and finds the demo's five persons" grep -q "5 person(s) found." "$T/persons.html"
check "among them one of Sanjiang's, synced before the revocation" grep -q "杨丽娟" "$T/persons.html"
curl -s -b "$T/jar" -H 'Accept-Language: en' -o "$T/report.html" "$B/report"
check "the report page names the counties" grep -q "三江侗族自治县" "$T/report.html"
kill -TERM "$SPID" 2>/dev/null || true
reap "$SPID" 20
check "the page's daemon stops on SIGTERM" test "$REAPED" = 0
lib_finish
