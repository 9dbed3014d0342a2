#!/usr/bin/env bash
# make-v1-store.sh - remake tests/data/v1-store: node folders written by the
# release before schemas were upgraded in place (store layout 2, schema 1)
#
#   bash tests/data/make-v1-store.sh [COMMIT]     (default 6d4053c)
#
# Builds `wings` from COMMIT of this repository in a temporary folder, then
# with it: an office (450224) and its prefecture HQ (450200), persons,
# trainings and placements written on both, an update, a delete, a sync in
# each direction (so each holds the other's feeds, signatures and audit
# entries). It copies both node folders (closed cleanly: wings.key and
# wings.db) into tests/data/v1-store/ with what that release printed for
# them (list --json per table, audit --json, history of one record), which
# tests/scenario/upgrade_cli.sh compares with what this tree prints after
# upgrading them. The passphrase of both is "v1 fixture passphrase"; their
# KDF is the test minimum.
set -euo pipefail
COMMIT=${1:-6d4053c}
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(git -C "$here" rev-parse --show-toplevel)
out=$here/v1-store
T=$(mktemp -d "${TMPDIR:-/tmp}/wings-v1.XXXXXX")
PID=
cleanup() {
    [ -z "$PID" ] || { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
    rm -rf -- "$T"
}
trap cleanup EXIT

mkdir -p "$T/src"
git -C "$repo" archive "$COMMIT" | tar -x -C "$T/src"
cmake -S "$T/src" -B "$T/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBUILD_TESTING=OFF >/dev/null
cmake --build "$T/build" -j "$(nproc)" --target wings >/dev/null
W=$T/build/wings

export WINGS_TEST_KDF=1 WINGS_PASSPHRASE="v1 fixture passphrase" TZ=UTC
unset WINGS_DIR
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
OP=$(port)
HP=$(port)
O=$T/office
H=$T/hq
$W --dir "$O" init --name rongan --county 450224 --kdf test \
    --listen "tcp://127.0.0.1:$OP" >/dev/null
$W --dir "$H" init --name liuzhou --county 450200 --role hq --kdf test \
    --listen "tcp://127.0.0.1:$HP" >/dev/null
okey=$($W --dir "$O" --json id | jq -r .key)
hkey=$($W --dir "$H" --json id | jq -r .key)
$W --dir "$O" peer add liuzhou "$hkey" "tcp://127.0.0.1:$HP"
$W --dir "$H" peer add rongan "$okey" "tcp://127.0.0.1:$OP"

p1=$($W --dir "$O" add person name=韦小梅 gender=female birth_date=1996-04-12 \
    id_number=450224199604120123 disability_category=physical \
    disability_grade=3 township=长安镇 rural=1 registered_on=2025-11-02)
p2=$($W --dir "$O" add person name=覃大山 gender=male birth_date=1980-03-13 \
    id_number=450224198003130014 disability_category=visual \
    disability_grade=2 phone=13800138000)
p3=$($W --dir "$O" add person name='Lu "Quote", Jr.' gender=male \
    birth_date=2001-01-01 id_number=450224200101010016 \
    disability_category=hearing)
t1=$($W --dir "$O" add training person_id="$p1" course="E-commerce live streaming" \
    category=ecommerce_live start_date=2026-03-02 outcome=enrolled hours=120)
$W --dir "$O" update training "$t1" outcome=certified end_date=2026-05-29
$W --dir "$O" add placement person_id="$p1" employer="柳州螺蛳粉厂" \
    employment_type=enterprise start_date=2026-06-01 monthly_income=2800 \
    status=active >/dev/null
$W --dir "$O" add placement person_id="$p2" employer="Online shop" \
    employment_type=online start_date=2026-01-01 status=ended \
    end_date=2026-04-30 monthly_income=1500 >/dev/null
$W --dir "$O" delete person "$p3"
$W --dir "$H" add person name=梁秀 gender=female birth_date=1990-07-07 \
    id_number=450225199007070021 disability_category=speech county=450225 \
    >/dev/null

$W --dir "$H" serve --listen "tcp://127.0.0.1:$HP" --interval 3600 \
    2>"$T/serve.log" &
PID=$!
for _ in $(seq 100); do [ -S "$H/wings.ctl" ] && break; sleep 0.1; done
$W --dir "$O" sync liuzhou
$W --dir "$O" update person "$p2" township=大将镇
$W --dir "$O" sync liuzhou
kill "$PID"
wait "$PID" || true
PID=

rm -rf "$out"
mkdir -p "$out"
for n in office hq; do
    d=$T/$n
    mkdir -p "$out/$n"
    cp "$d/wings.key" "$d/wings.db" "$out/$n/"
    [ ! -e "$d/wings.db-wal" ] || { echo "unexpected WAL in $n" >&2; exit 1; }
    for t in person training placement; do
        $W --dir "$d" --json list "$t" >"$out/$n.list-$t.json"
    done
    $W --dir "$d" --json audit >"$out/$n.audit.json"
    $W --dir "$d" --json history person "$p1" >"$out/$n.history.json"
done
echo "$p1" >"$out/person-id"
git -C "$repo" rev-parse --short "$COMMIT" >"$out/commit"
echo "made $out from $(cat "$out/commit")"
