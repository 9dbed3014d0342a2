#!/usr/bin/env bash
# upgrade_cli.sh - a store upgraded in place, and nodes of adjacent schema
# versions syncing, through the `wings` CLI
#
#   bash tests/scenario/upgrade_cli.sh build/wings SOURCE-DIR PREV-BUILD-DIR
#
#   1. the office and HQ folders in tests/data/v1-store, written by the
#      release before upgrades (make-v1-store.sh), open in this build: every
#      record, history entry and audit entry is what that release printed,
#      `audit --verify` holds (every page, chain and signature), and the new
#      field can be written at once
#   2. the same tree built with WINGS_SCHEMA_PREV (the previous schema: no
#      certificate_valid_until) into PREV-BUILD-DIR, as a prefecture HQ
#      between a new office and a new province: writes both ways through
#      the old relay, no value lost, the new field arrives intact at the
#      province; then the old HQ's folder is opened by this build and merges
#      the field it had kept; every node agrees and verifies
#
# Prints one line per check and ends with "N passed, N failed"; exits 1 when
# any check failed. Needs jq.
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
    for t in training placement; do
        check "$n: list $t as that release printed it" \
            same "$("$W" --dir "$d" --json list "$t")" "$(cat "$DATA/$n.list-$t.json")"
    done
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
    exit_is 3 "$OLD" --dir "$P" add person name=x id_number=450226199604120126 \
    disability_category=physical county=450226 certificate_valid_until=2030-01-01
id=$("$W" --dir "$O" add person name=潘秀英 gender=female birth_date=1996-04-12 \
    id_number=450226199604120126 disability_category=physical \
    certificate_valid_until=2030-06-30)
check "the office's person holds the new field" \
    same "$("$W" --dir "$O" --json get person "$id" | jq -r .certificate_valid_until)" 2030-06-30

"$OLD" --dir "$P" serve --listen "tcp://127.0.0.1:$PP" --interval 3600 2>"$T/pref.log" &
PIDS+=($!)
for _ in $(seq 200); do [[ -S $P/wings.ctl ]] && break; sleep 0.05; done
check "office -> old prefecture" "$W" --dir "$O" sync liuzhou
check "the old prefecture holds the person, without the field it does not know" \
    same "$("$OLD" --dir "$P" --json get person "$id" | jq -c '[.name, has("certificate_valid_until")]')" '["潘秀英",false]'
pid=$("$OLD" --dir "$P" add person name=黄志强 gender=male birth_date=1985-03-07 \
    id_number=450226198503070014 disability_category=visual county=450226)
check "the old prefecture edits the office's person" \
    "$OLD" --dir "$P" update person "$id" township=古宜镇
check "province <- old prefecture" "$W" --dir "$N" sync liuzhou
check "the province holds the new field, relayed by the old node" \
    same "$("$W" --dir "$N" --json get person "$id" | jq -c '[.certificate_valid_until, .township]')" '["2030-06-30","古宜镇"]'
check "office <- old prefecture" "$W" --dir "$O" sync liuzhou
check "the office keeps its field and takes the old node's edit" \
    same "$("$W" --dir "$O" --json get person "$id" | jq -c '[.certificate_valid_until, .township]')" '["2030-06-30","古宜镇"]'
check "the office holds the old node's person" \
    same "$("$W" --dir "$O" --json get person "$pid" | jq -r .name)" 黄志强
check "the new office and the new province agree, byte for byte" \
    same "$("$W" --dir "$O" --json list person)" "$("$W" --dir "$N" --json list person)"
kill "${PIDS[0]}"; wait "${PIDS[0]}" || true
PIDS=()

check "the old prefecture, opened by this build, merges the field it kept" \
    same "$("$W" --dir "$P" --json get person "$id" | jq -r .certificate_valid_until)" 2030-06-30
check "and then agrees with the office, byte for byte" \
    same "$("$W" --dir "$P" --json list person)" "$("$W" --dir "$O" --json list person)"
for d in "$O" "$P" "$N"; do
    check "audit --verify on $(basename "$d")" "$W" --dir "$d" audit --verify
done

echo "$PASS passed, $FAIL failed"
((FAIL == 0))
