#!/usr/bin/env bash
# web_browser.sh - the clerk's web page in a real browser
#
#   bash tests/browser/web_browser.sh build/wings SHOTS-DIR
#
# Makes a throw-away office node (and an HQ it names as a peer, never
# started), a clerk account, starts `wings serve --http` on 127.0.0.1 with
# free ports, and runs web_test.mjs: Debian's chromium driven by
# puppeteer-core, axe-core on every page. Screenshots go to SHOTS-DIR.
# Exits 77 (skipped) when chromium or the npm packages are missing
# (`scripts/dev deps` installs them).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 PATH-TO-WINGS SHOTS-DIR" >&2
    exit 2
fi
W=$1
SHOTS=$2
case $W in /*) ;; *) W=$PWD/$W ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [[ -z $CHROMIUM || ! -d $HERE/node_modules/puppeteer-core ||
      ! -d $HERE/node_modules/axe-core ]] || ! command -v node >/dev/null; then
    echo "web_browser.sh: SKIP: needs chromium, node and 'npm ci' in tests/browser"
    exit 77
fi
mkdir -p "$SHOTS"
rm -f -- "$SHOTS"/*.png

T=$(mktemp -d "${TMPDIR:-/tmp}/wings-web.XXXXXX")
DPID=
cleanup() {
    if [[ -n $DPID ]]; then
        kill "$DPID" 2>/dev/null || true
        wait "$DPID" 2>/dev/null || true
    fi
    rm -rf -- "$T"
}
trap cleanup EXIT

unset WINGS_DIR WINGS_NEW_PASSPHRASE LANGUAGE LC_ALL LC_MESSAGES
export LANG=C.UTF-8
export WINGS_TEST_KDF=1
export WINGS_PASSPHRASE='Lantern-7q-orchard-basalt-19'
CLERK_PASSWORD='Pomelo-4k-river-stone'

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",
        ()=>{console.log(s.address().port);s.close()})'
}
HTTP_PORT=$(free_port)
SYNC_PORT=$(free_port)
HQ_PORT=$(free_port)
while [[ $SYNC_PORT == "$HTTP_PORT" ]]; do SYNC_PORT=$(free_port); done
while [[ $HQ_PORT == "$HTTP_PORT" || $HQ_PORT == "$SYNC_PORT" ]]; do
    HQ_PORT=$(free_port)
done

"$W" --dir "$T/hq" init --name nanning-hq --county 450100 --role hq \
    --kdf test --listen "tcp://127.0.0.1:$HQ_PORT" >/dev/null
"$W" --dir "$T/ronan" init --name ronan --county 450224 --kdf test \
    --listen "tcp://127.0.0.1:$SYNC_PORT" >/dev/null
HQ_KEY=$("$W" --dir "$T/hq" id | awk '{print $2}')
"$W" --dir "$T/ronan" peer add nanning-hq "$HQ_KEY" "tcp://127.0.0.1:$HQ_PORT" \
    >/dev/null
WINGS_USER_PASSWORD=$CLERK_PASSWORD "$W" --dir "$T/ronan" user add wei \
    --role clerk >/dev/null
ADMIN_PASSWORD='Camphor-2w-terrace-flint'
WINGS_USER_PASSWORD=$ADMIN_PASSWORD "$W" --dir "$T/ronan" user add lan \
    --role admin >/dev/null

# A person registered at two offices of the county before they synced:
# the review page lists her twice. The second office syncs once, then is
# forgotten (the page's peers stay the HQ alone).
DUP_PORT=$(free_port)
while [[ $DUP_PORT == "$HTTP_PORT" || $DUP_PORT == "$SYNC_PORT" ||
         $DUP_PORT == "$HQ_PORT" ]]; do DUP_PORT=$(free_port); done
"$W" --dir "$T/ronan2" init --name ronan-east --county 450224 --kdf test \
    --listen "tcp://127.0.0.1:$DUP_PORT" >/dev/null
read -r -a ID1 <<<"$("$W" --dir "$T/ronan" id)"
read -r -a ID2 <<<"$("$W" --dir "$T/ronan2" id)"
"$W" --dir "$T/ronan" peer add "${ID2[@]}" >/dev/null
"$W" --dir "$T/ronan2" peer add "${ID1[@]}" >/dev/null
DUP_ID=45022419920707002X
"$W" --dir "$T/ronan" add person name=梁秀 gender=female id_number=$DUP_ID \
    disability_category=speech >/dev/null
"$W" --dir "$T/ronan2" add person name=梁秀 gender=female id_number=$DUP_ID \
    disability_category=speech township=长安镇 >/dev/null
# And a person both offices hold whose phone each changed while apart:
# review lists the edit the last-writer rule overwrote.
QIN=$("$W" --dir "$T/ronan" add person name=覃美 gender=female \
    id_number=450224198504120041 disability_category=visual \
    phone=13800000001)
"$W" --dir "$T/ronan2" serve --interval 3600 >"$T/ronan2.log" 2>&1 &
DPID=$!
for _ in $(seq 1 100); do
    "$W" --dir "$T/ronan" sync ronan-east --timeout 2 >/dev/null 2>&1 && break
    sleep 0.1
done
"$W" --dir "$T/ronan" update person "$QIN" phone=13800000002 >/dev/null
"$W" --dir "$T/ronan2" update person "$QIN" phone=13900000003 >/dev/null
"$W" --dir "$T/ronan" sync ronan-east --timeout 5 >/dev/null
kill "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
"$W" --dir "$T/ronan" peer remove ronan-east >/dev/null
if [[ $("$W" --dir "$T/ronan" --json review | jq -c '[.[].kind] | sort') != \
      '["duplicate","overwritten"]' ]]; then
    echo "FAIL: review does not hold the person twice and the overwritten edit"
    "$W" --dir "$T/ronan" --json review
    exit 1
fi
echo "ok - a person registered at two offices is held twice; an edit overwritten"

# One failed session (the HQ is never started), so the audit trail has one.
"$W" --dir "$T/ronan" sync nanning-hq --timeout 1 >/dev/null 2>&1 || true

# A non-loopback address is refused without --http-public (exit 2).
set +e
"$W" --dir "$T/ronan" serve --http 192.0.2.1:8080 2>"$T/refused.err"
rc=$?
set -e
if [[ $rc -ne 2 ]] || ! grep -q "not a loopback address" "$T/refused.err"; then
    echo "FAIL: serve --http 192.0.2.1:8080 gave exit $rc: $(cat "$T/refused.err")"
    exit 1
fi
echo "ok - a non-loopback --http is refused with exit 2"

"$W" --dir "$T/ronan" serve --http "127.0.0.1:$HTTP_PORT" --interval 5 \
    >"$T/serve.log" 2>&1 &
DPID=$!
for _ in $(seq 1 100); do
    grep -q "web page on" "$T/serve.log" 2>/dev/null && break
    sleep 0.1
done
if ! grep -q "web page on" "$T/serve.log"; then
    echo "FAIL: the daemon did not start:"
    cat "$T/serve.log"
    exit 1
fi

WEB_BASE="http://127.0.0.1:$HTTP_PORT" WINGS="$W" NODE_DIR="$T/ronan" \
    CLERK=wei CLERK_PASSWORD=$CLERK_PASSWORD ADMIN=lan \
    ADMIN_PASSWORD=$ADMIN_PASSWORD SHOTS_DIR="$SHOTS" \
    CHROMIUM="$CHROMIUM" node "$HERE/web_test.mjs"
