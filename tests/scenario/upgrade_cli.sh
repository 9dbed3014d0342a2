#!/usr/bin/env bash
# upgrade_cli.sh - a store upgraded in place, and nodes of adjacent schema
# versions syncing, through the `wings` CLI
#
#   bash tests/scenario/upgrade_cli.sh build/wings SOURCE-DIR PREV-BUILD-DIR
#
#   1. the office and HQ folders in tests/data/v1-store, written by the
#      release before upgrades (make-v1-store.sh, schema 1), open in this
#      build (schema 1 -> 3 in one transaction): every record, history
#      entry and audit entry is what that release printed, `audit --verify`
#      holds (every page, chain and signature), and the fields of schemas 2
#      and 3 can be written at once
#   2. the same tree built with WINGS_SCHEMA_PREV (the previous schema, 2:
#      no monthly_income_fen, no changed_by or base_clocks) into
#      PREV-BUILD-DIR, as a prefecture HQ between a new office and a new
#      province: writes both ways through the old relay, no value lost, the
#      new field (and the clerk and base clocks of the office's edits, one
#      made on its page) arrives intact at the province; then the old HQ's folder, a schema-2 store, is
#      opened by this build and merges what it had kept; every node agrees
#      and verifies
#
# Prints one line per check and ends with "N passed, N failed"; exits 1 when
# any check failed. Needs jq and curl.
set -euo pipefail
if [[ $# -ne 3 ]]; then
    echo "usage: $0 PATH-TO-WINGS SOURCE-DIR PREV-BUILD-DIR" >&2
    exit 2
fi
W=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
SRC=$(cd "$2" && pwd -P)
PREVB=$3
DATA=$SRC/tests/data/v1-store

T=$(mktemp -d "${TMPDIR:-/tmp}/wings-upgrade.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf -- "$T"
}
trap cleanup EXIT
unset WINGS_PASSPHRASE WINGS_NEW_PASSPHRASE WINGS_DIR
export WINGS_TEST_KDF=1 TZ=UTC LC_ALL=C.UTF-8

PASS=0
FAIL=0
check() { # NAME COMMAND...
    local name=$1
    shift
    if "$@"; then
        PASS=$((PASS + 1))
        echo "ok   $name"
    else
        FAIL=$((FAIL + 1))
        echo "FAIL $name"
    fi
}
exit_is() { local want=$1 rc=0; shift; "$@" >/dev/null 2>&1 || rc=$?; [[ $rc == "$want" ]] || { echo "     exit $rc, want $want" >&2; return 1; }; }
same() { [[ $1 == "$2" ]] || { echo "     want: $2" >&2; echo "     got:  $1" >&2; return 1; }; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- 1. a store of the previous release, upgraded in place -------------------
echo "-- 1. stores written by release $(cat "$DATA/commit"), opened by this one"
for n in office hq; do
    mkdir -m 700 "$T/$n"
    cp "$DATA/$n/wings.key" "$DATA/$n/wings.db" "$T/$n/"
    chmod 600 "$T/$n"/*
done
export WINGS_PASSPHRASE="v1 fixture passphrase"
P1=$(cat "$DATA/person-id")
for n in office hq; do
    d=$T/$n
    check "$n: audit --verify after the upgrade" \
        "$W" --dir "$d" audit --verify
    check "$n: list training as that release printed it" \
        same "$("$W" --dir "$d" --json list training)" "$(cat "$DATA/$n.list-training.json")"
    check "$n: list placement as that release printed it, the new field empty" \
        same "$("$W" --dir "$d" --json list placement | jq -c 'map(del(.monthly_income_fen))')" \
        "$(jq -c . "$DATA/$n.list-placement.json")"
    check "$n: schema 3's field is there for every placement, unset" \
        same "$("$W" --dir "$d" --json list placement | jq -c '[.[] | has("monthly_income_fen") and .monthly_income_fen == null] | unique')" '[true]'
    check "$n: list person as that release printed it, the new field empty" \
        same "$("$W" --dir "$d" --json list person | jq -c 'map(del(.certificate_valid_until))')" \
        "$(jq -c . "$DATA/$n.list-person.json")"
    check "$n: the new field is there for every person, unset" \
        same "$("$W" --dir "$d" --json list person | jq -c '[.[] | has("certificate_valid_until") and .certificate_valid_until == null] | unique')" '[true]'
    keep='map({node,peer,event,direction,sent,received,refused,result,reason,peer_key})'
    check "$n: every audit entry survived" \
        same "$("$W" --dir "$d" --json audit | jq -c "$keep")" "$(jq -c "$keep" "$DATA/$n.audit.json")"
    keep='map({hlc,origin,fields})'
    check "$n: the history of a record survived" \
        same "$("$W" --dir "$d" --json history person "$P1" | jq -c "$keep")" "$(jq -c "$keep" "$DATA/$n.history.json")"
    check "$n: a second open changes nothing" \
        same "$("$W" --dir "$d" --json list person | jq -c 'map(del(.certificate_valid_until))')" \
        "$(jq -c . "$DATA/$n.list-person.json")"
done
check "office: the new field can be written" \
    "$W" --dir "$T/office" update person "$P1" certificate_valid_until=2031-06-30
check "office: and is read back" \
    same "$("$W" --dir "$T/office" --json get person "$P1" | jq -r .certificate_valid_until)" 2031-06-30
PL1=$("$W" --dir "$T/office" --json list placement | jq -r '.[0].id')
check "office: schema 3's field can be written" \
    "$W" --dir "$T/office" update placement "$PL1" monthly_income=2345.67
check "office: and is read back, the whole yuan beside it" \
    same "$("$W" --dir "$T/office" --json get placement "$PL1" | jq -c '[.monthly_income_fen, .monthly_income]')" '[234567,2345]'
check "office: the update names what it replaced, not shown as a field" \
    same "$("$W" --dir "$T/office" --json history placement "$PL1" | jq -c '.[-1].fields | keys')" '["monthly_income","monthly_income_fen"]'
check "office: audit --verify after writing it" "$W" --dir "$T/office" audit --verify
# Every field the description has (as `get --json` shows it) is a CSV
# column of export, is listed by `help add`, and comes back through import.
helped() { "$W" help add "$1" | grep -q "^  $2 "; }
for t in person training placement; do
    id=$("$W" --dir "$T/office" --json list "$t" | jq -r '.[0].id')
    fields=$("$W" --dir "$T/office" --json get "$t" "$id" | jq -r 'keys_unsorted | join(",")')
    check "$t: export's header is every field of the description" \
        same "$("$W" --dir "$T/office" export "$t" | head -n 1 | tr -d '\r')" "$fields"
    for f in $(echo "$fields" | tr , ' '); do
        [[ $f == id ]] || check "$t: help add lists $f" helped "$t" "$f"
    done
done

# ---- 2. adjacent versions syncing, through an old relay ----------------------
echo "-- 2. an office and a province of this version, a prefecture of the previous"
if [[ ! -x $PREVB/wings ]]; then
    cmake -S "$SRC" -B "$PREVB" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DWINGS_SCHEMA_PREV=ON -DBUILD_TESTING=OFF >/dev/null
    cmake --build "$PREVB" -j 2 --target wings >/dev/null
fi
OLD=$(cd "$PREVB" && pwd -P)/wings
export WINGS_PASSPHRASE="adjacent versions"
OP=$(port); PP=$(port); NP=$(port)
O=$T/n-office; P=$T/o-pref; N=$T/n-prov
"$W" --dir "$O" init --name sanjiang --county 450226 --kdf test --listen "tcp://127.0.0.1:$OP" >/dev/null
"$OLD" --dir "$P" init --name liuzhou --county 450200 --role hq --kdf test --listen "tcp://127.0.0.1:$PP" >/dev/null
"$W" --dir "$N" init --name guangxi --county 450000 --role hq --kdf test --listen "tcp://127.0.0.1:$NP" >/dev/null
key() { "$1" --dir "$2" --json id | jq -r .key; }
"$W" --dir "$O" peer add liuzhou "$(key "$OLD" "$P")" "tcp://127.0.0.1:$PP" >/dev/null
"$OLD" --dir "$P" peer add sanjiang "$(key "$W" "$O")" "tcp://127.0.0.1:$OP" >/dev/null
"$OLD" --dir "$P" peer add guangxi "$(key "$W" "$N")" "tcp://127.0.0.1:$NP" >/dev/null
"$W" --dir "$N" peer add liuzhou "$(key "$OLD" "$P")" "tcp://127.0.0.1:$PP" >/dev/null

check "the previous build does not know the new field" \
    exit_is 3 "$OLD" --dir "$P" add placement person_id=0123456789abcdef0123456789abcdef \
    employer=x employment_type=online start_date=2026-01-01 status=active \
    county=450226 monthly_income_fen=100
id=$("$W" --dir "$O" add person name=潘秀英 gender=female birth_date=1996-04-12 \
    id_number=450226199604120126 disability_category=physical \
    certificate_valid_until=2030-06-30)
pl=$("$W" --dir "$O" add placement person_id="$id" employer=网店 employment_type=online \
    start_date=2026-06-01 status=active monthly_income=2800.50)
check "the office's placement holds the new field" \
    same "$("$W" --dir "$O" --json get placement "$pl" | jq -c '[.monthly_income_fen, .monthly_income]')" '[280050,2800]'
check "the office edits its person (the edit names the clock it replaced)" \
    "$W" --dir "$O" update person "$id" phone=13812345678
# A clerk's edit on the office's page: the change names her (changed_by, a
# field the old relay does not know).
WINGS_USER_PASSWORD=Longan-3p-weir-slate "$W" --dir "$O" user add wei >/dev/null
HP=$(port)
"$W" --dir "$O" serve --listen "tcp://127.0.0.1:$OP" --http "127.0.0.1:$HP" \
    --interval 3600 >"$T/office.log" 2>&1 &
OPID=$!
PIDS+=($OPID)
for _ in $(seq 200); do grep -q "web page on" "$T/office.log" 2>/dev/null && break; sleep 0.05; done
B="http://127.0.0.1:$HP"
curl -s -c "$T/jar" -b "$T/jar" -o /dev/null "$B/signin"
pre=$(awk '$6 == "wings_pre" {print $7}' "$T/jar")
curl -s -c "$T/jar" -b "$T/jar" -o /dev/null --data-urlencode "csrf=$pre" \
    --data-urlencode user=wei --data-urlencode password=Longan-3p-weir-slate "$B/signin"
csrf=$(curl -s -b "$T/jar" "$B/edit/person/$id" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}' || true)
check "a clerk edits the person on the office's page" \
    same "$(curl -s -b "$T/jar" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$csrf" \
        --data-urlencode name=潘秀英 --data-urlencode id_number=450226199604120126 \
        --data-urlencode disability_category=physical --data-urlencode certificate_no=45022619960412012641 \
        "$B/edit/person/$id")" 303
kill "$OPID"; wait "$OPID" || true
PIDS=()
check "the office's history names the clerk" \
    same "$("$W" --dir "$O" --json history person "$id" | jq -c '[.[] | select(.clerk == "wei") | .fields]')" '[{"certificate_no":"45022619960412012641"}]'

"$OLD" --dir "$P" serve --listen "tcp://127.0.0.1:$PP" --interval 3600 2>"$T/pref.log" &
PIDS+=($!)
for _ in $(seq 200); do [[ -S $P/wings.ctl ]] && break; sleep 0.05; done
check "office -> old prefecture" "$W" --dir "$O" sync liuzhou
check "the old prefecture holds the person and the office's edit" \
    same "$("$OLD" --dir "$P" --json get person "$id" | jq -c '[.name, .phone]')" '["潘秀英","13812345678"]'
check "the old prefecture holds the placement, without the field it does not know, its whole yuan shown" \
    same "$("$OLD" --dir "$P" --json get placement "$pl" | jq -c '[.employer, .monthly_income, has("monthly_income_fen")]')" '["网店",2800,false]'
check "the old prefecture edits the office's placement" \
    "$OLD" --dir "$P" update placement "$pl" position=店长
pid=$("$OLD" --dir "$P" add person name=黄志强 gender=male birth_date=1985-03-07 \
    id_number=450226198503070014 disability_category=visual county=450226)
check "the old prefecture edits the office's person" \
    "$OLD" --dir "$P" update person "$id" township=古宜镇
check "province <- old prefecture" "$W" --dir "$N" sync liuzhou
check "the province holds the new field, relayed by the old node" \
    same "$("$W" --dir "$N" --json get placement "$pl" | jq -c '[.monthly_income_fen, .monthly_income, .position]')" '[280050,2800,"店长"]'
check "and the person with both edits" \
    same "$("$W" --dir "$N" --json get person "$id" | jq -c '[.certificate_valid_until, .township, .phone]')" '["2030-06-30","古宜镇","13812345678"]'
check "the province's history names the office's clerk, relayed by the old node" \
    same "$("$W" --dir "$N" --json history person "$id" | jq -c "[.[] | select(.clerk == \"wei\") | [.origin == \"$(key "$W" "$O")\", .fields.certificate_no]]")" '[[true,"45022619960412012641"]]'
check "the province sees no concurrent edit (the base clocks came through whole)" \
    same "$("$W" --dir "$N" --json review)" '[]'
check "office <- old prefecture" "$W" --dir "$O" sync liuzhou
check "the office keeps its field and takes the old node's edit" \
    same "$("$W" --dir "$O" --json get placement "$pl" | jq -c '[.monthly_income_fen, .position]')" '[280050,"店长"]'
check "and the old node's edit of its person" \
    same "$("$W" --dir "$O" --json get person "$id" | jq -r .township)" 古宜镇
check "the office holds the old node's person" \
    same "$("$W" --dir "$O" --json get person "$pid" | jq -r .name)" 黄志强
check "the new office and the new province agree, byte for byte" \
    same "$("$W" --dir "$O" --json list person)" "$("$W" --dir "$N" --json list person)"
check "and on placements" \
    same "$("$W" --dir "$O" --json list placement)" "$("$W" --dir "$N" --json list placement)"
kill "${PIDS[0]}"; wait "${PIDS[0]}" || true
PIDS=()

check "the old prefecture's schema-2 store, opened by this build, merges the field it kept" \
    same "$("$W" --dir "$P" --json get placement "$pl" | jq -c '[.monthly_income_fen, .position]')" '[280050,"店长"]'
check "and then agrees with the office, byte for byte" \
    same "$("$W" --dir "$P" --json list person)" "$("$W" --dir "$O" --json list person)"
check "on placements too" \
    same "$("$W" --dir "$P" --json list placement)" "$("$W" --dir "$O" --json list placement)"
check "and its history of the placement names both writers" \
    same "$("$W" --dir "$P" --json history placement "$pl" | jq -c '[.[].node]')" '["sanjiang","liuzhou"]'
for d in "$O" "$P" "$N"; do
    check "audit --verify on $(basename "$d")" "$W" --dir "$d" audit --verify
done

echo "$PASS passed, $FAIL failed"
((FAIL == 0))
