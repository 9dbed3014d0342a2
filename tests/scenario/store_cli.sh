#!/usr/bin/env bash
# store_cli.sh - scenario tests of the store as seen through the `wings` CLI
#
#   bash tests/scenario/store_cli.sh build/wings
#
# Drives the real binary against throw-away nodes (created with `--kdf test`,
# so each unlock is fast; the HQ node with `--kdf interactive`, the cheapest
# cost a real node may use) and asserts exact outcomes:
# exit codes from CLI.md (0 ok, 2 usage, 3 invalid input, 4 store cannot be
# opened) and the words of the messages. Covers: identity (init/id/help),
# passphrase sources, the store at rest, tampering with pages and the key
# file, passwd, and secrets kept out of output. Prints one line per check and
# ends with "N passed, 0 failed"; exits 1 naming every failed check. The
# harness (run, expect, check, the summary) is lib.sh.
#
# Layout relied on (store/vfs.c): database page N (1-based) is 4096 bytes at
# offset (N-1)*4096 of wings.db; the key file wings.key is 128 bytes.
set -euo pipefail
# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"

PAGE=4096
KEYFILE_BYTES=128
# Distinctive strings, so a search for them cannot match by accident.
P1='Tulip-7q-orbit-saddle-91'          # node A's passphrase
P2='Quartz-4k-meadow-lantern-38'       # node A's passphrase after passwd
PB='Cobalt-2x-harbor-violet-55'        # node B's passphrase
PWRONG='Wrongful-9z-pebble-canyon-12'  # never any node's passphrase
NAME_A=ronanoffice
NAME_B=mapletonoffice
COUNTY=450224
ENDPOINT_DEFAULT=tcp://127.0.0.1:7400
A=$T/node-a
B=$T/node-b

# wings PASSPHRASE ARGS...: run wings with WINGS_PASSPHRASE=PASSPHRASE
# ("-" leaves it unset).
wings() {
    local pass=$1
    shift
    if [[ $pass == - ]]; then
        run env -u WINGS_PASSPHRASE "$W" "$@"
    else
        run env WINGS_PASSPHRASE="$pass" "$W" "$@"
    fi
}

# ---- helpers on files -----------------------------------------------------

# flip FILE OFFSET: xor one byte of FILE with 0x01, in place.
flip() {
    local f=$1 off=$2 v
    v=$(od -An -tu1 -j "$off" -N1 -- "$f" | tr -d ' \n')
    [[ -n $v ]] || { echo "store_cli.sh: $f has no byte at $off" >&2; return 1; }
    printf '%b' "\\0$(printf '%03o' $((v ^ 1)))" |
        dd of="$f" bs=1 seek="$off" count=1 conv=notrunc status=none
}

# copy_page FROM TO N: page N of database FROM written over page N of TO.
copy_page() {
    dd if="$1" of="$2" bs=$PAGE skip=$(($3 - 1)) seek=$(($3 - 1)) count=1 \
        conv=notrunc status=none
}

# count_in FILE STR: lines of binary FILE holding STR (0 if none).
count_in() { grep -a -c -F -- "$2" "$1" || true; }

mode_is() { [[ $(stat -c %a -- "$1") == "$2" ]]; }
same_sha() { [[ $(sha "$1") == "$2" ]]; }
differs() { [[ $(sha "$1") != "$2" ]]; }
is_zero() { [[ $1 -eq 0 ]]; }
is_absent() { [[ ! -e $1 ]]; }
json_valid() {
    if command -v jq >/dev/null; then
        jq -e 'type == "object"' "$1" >/dev/null
    elif command -v python3 >/dev/null; then
        python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), dict)' "$1"
    else
        return 0
    fi
}
# json_has FILE FIELD VALUE: FILE holds "FIELD": "VALUE" (any spacing;
# VALUE is an ERE).
json_has() {
    grep -qE "\"$2\"[[:space:]]*:[[:space:]]*\"$3\"" "$1"
}
# json_identity FILE NAME KEY ENDPOINT COUNTY ROLE
json_identity() {
    json_has "$1" name "$2" && json_has "$1" key "$3" &&
        json_has "$1" endpoint "$4" && json_has "$1" county "$5" &&
        json_has "$1" role "$6"
}
# node_untouched DIR DB-SHA KEY-SHA
node_untouched() { same_sha "$1/wings.db" "$2" && same_sha "$1/wings.key" "$3"; }
# whole_pages FILE MIN: FILE's size is a whole number >= MIN of pages.
whole_pages() {
    local s
    s=$(stat -c %s -- "$1")
    ((s >= $2 * PAGE && s % PAGE == 0))
}
# lacks_all TEXT STR...: TEXT contains none of the STRs.
lacks_all() {
    local text=$1 s
    shift
    for s in "$@"; do [[ $text != *"$s"* ]] || return 1; done
}
# file_lacks_all FILE STR...: binary FILE contains none of the STRs.
file_lacks_all() {
    local f=$1 s
    shift
    for s in "$@"; do is_zero "$(count_in "$f" "$s")" || return 1; done
}

# ===========================================================================
section "1. identity, usage and help"

old_umask=$(umask)
umask 000 # the store must set its own modes, whatever the caller's umask
wings "$P1" --dir "$A" init --name "$NAME_A" --county "$COUNTY" --kdf test
umask "$old_umask"
ID_RE="^$NAME_A [0-9a-f]{64} tcp://127\\.0\\.0\\.1:7400\$"
expect "init prints NAME KEY ENDPOINT (KEY 64 lower-case hex)" \
    rc=0 "out~$ID_RE"
check "init prints exactly one line" test "$(wc -l <"$T/out")" -eq 1
check "init is quiet on stderr" test ! -s "$T/err"
ID_LINE=$(cat "$T/out")
KEY_A=$(cut -d' ' -f2 <<<"$ID_LINE")

wings "$P1" --dir "$A" id
expect "id exits 0" rc=0
check "id prints the same line as init" same_text "$(cat "$T/out")" "$ID_LINE"

wings "$P1" --json --dir "$A" id
expect "--json id exits 0" rc=0
check "--json id is one JSON object" json_valid "$T/out"
check "--json id: name, key, endpoint, county, role" json_identity "$T/out" \
    "$NAME_A" "$KEY_A" "$ENDPOINT_DEFAULT" "$COUNTY" office

HQ=$T/node-hq
wings "$PB" --dir "$HQ" --json init --name hq45 --county 450000 --role hq \
    --listen tcp://127.0.0.1:7499 --kdf interactive
expect "--json init (hq, --listen) exits 0" rc=0
check "--json init is one JSON object" json_valid "$T/out"
check "--json init: name, key, endpoint, county, role" json_identity "$T/out" \
    hq45 "[0-9a-f]{64}" "tcp://127\\.0\\.0\\.1:7499" 450000 hq
HQ_JSON=$(cat "$T/out")
wings "$PB" --dir "$HQ" --json id
check "--json id matches --json init" same_text "$(cat "$T/out")" "$HQ_JSON"

A_DB=$(sha "$A/wings.db")
A_KEY=$(sha "$A/wings.key")
wings "$P1" --dir "$A" init --name other --county "$COUNTY" --kdf test
expect "init into a folder holding a node: exit 3, one 'wings: ' line" \
    rc=3 err-line out-empty
check "refused init left the node's files untouched" \
    node_untouched "$A" "$A_DB" "$A_KEY"

wings "$P1" --dir "$T/badcounty" init --name x --county 45022 --kdf test
expect "init with county 45022: exit 3, one 'wings: ' line naming the county" \
    rc=3 err-line err:45022
check "refused init created no folder" is_absent "$T/badcounty"

wings "$P1" --dir "$T/badname" init --name 'a b' --county "$COUNTY" --kdf test
expect "init with a name holding a space: exit 3" rc=3 err-line

wings "$P1" --dir "$A" --no-such-option id
expect "unknown global option: exit 2, names it" \
    rc=2 err-line "err:--no-such-option"
check "unknown global option's hint points at a real help topic" \
    grep -qF -- "(see 'wings --help')" "$T/err"
wings "$P1" --dir "$A" id --no-such-option
expect "unknown option of a command: exit 2, hints 'wings help id'" \
    rc=2 err-line "err:--no-such-option" "err:wings help id"
wings "$P1" --dir "$T/x" init --name x --county "$COUNTY" --bogus
expect "unknown option of init: exit 2" rc=2 err-line
wings "$P1" --dir "$T/x" init --county "$COUNTY"
expect "init without --name: exit 2" rc=2 err-line
check "usage errors created no folder" is_absent "$T/x"
wings "$P1" --dir "$A" frobnicate
expect "unknown command: exit 2, names it" \
    rc=2 err-line "err:unknown command" err:frobnicate
wings - --dir "$A"
expect "no command: exit 2" rc=2 out-empty

wings - --help
expect "wings --help: exit 0, lists init" rc=0 "out~^ +init " "out~^ +id "
wings - help init
expect "wings help init: exit 0, usage and an example" \
    rc=0 "out:usage: wings init" out:Example "out:wings --dir"
wings - init --help
expect "wings init --help: exit 0, usage and an example" \
    rc=0 "out:usage: wings init" out:Example "out:wings --dir"
check "init --help made no folder" is_absent ./wings-node
wings - help frobnicate
expect "wings help of an unknown command: exit 2" rc=2

# ===========================================================================
section "2. passphrase sources"

wings "$P1" --dir "$A" id
expect "WINGS_PASSPHRASE unlocks" rc=0 "out~$ID_RE"

printf '%s\n%s\n' "$P1" "second line is not read" >"$T/pass-ok"
wings - --dir "$A" --passphrase-file "$T/pass-ok" id
expect "--passphrase-file: first line (newline, second line present)" \
    rc=0 "out~$ID_RE"

printf '%s' "$P1" >"$T/pass-nonl"
wings - --dir "$A" --passphrase-file "$T/pass-nonl" id
expect "--passphrase-file without a trailing newline" rc=0 "out~$ID_RE"

printf '%s\n%s\n' "$PWRONG" "$P1" >"$T/pass-second"
wings - --dir "$A" --passphrase-file "$T/pass-second" id
expect "--passphrase-file reads only the first line" \
    rc=4 "err:wrong passphrase" out-empty

wings "$P1" --dir "$A" --passphrase-file "$T/pass-second" id
expect "WINGS_PASSPHRASE wins over --passphrase-file (right env)" rc=0
wings "$PWRONG" --dir "$A" --passphrase-file "$T/pass-ok" id
expect "WINGS_PASSPHRASE wins over --passphrase-file (wrong env)" \
    rc=4 "err:wrong passphrase"

wings "$PWRONG" --dir "$A" id
expect "wrong passphrase: exit 4, 'wrong passphrase', nothing on stdout" \
    rc=4 err-line "err:wrong passphrase" out-empty
wings "$PWRONG" --dir "$A" audit --verify
expect "wrong passphrase on audit --verify: exit 4" rc=4 "err:wrong passphrase"
wings "" --dir "$A" id
expect "empty passphrase: exit 4" rc=4

wings - --dir "$A" id
expect "no passphrase, stdin not a terminal: exit 4, mentions WINGS_PASSPHRASE" \
    rc=4 err-line err:WINGS_PASSPHRASE out-empty
wings - --dir "$A" audit --verify
expect "no passphrase on audit --verify: exit 4" rc=4 err:WINGS_PASSPHRASE
wings - --dir "$T/nopass" init --name x --county "$COUNTY" --kdf test
expect "no passphrase on init: exit 4, mentions WINGS_PASSPHRASE" \
    rc=4 err:WINGS_PASSPHRASE
check "init without a passphrase created no folder" is_absent "$T/nopass"
wings - --dir "$A" --passphrase-file "$T/no-such-file" id
expect "missing --passphrase-file: exit 4, names the file" \
    rc=4 err-line err:no-such-file

# ===========================================================================
section "3. at rest"

wings "$PB" --dir "$B" init --name "$NAME_B" --county 450225 --kdf test
expect "second node (for page swaps) created" rc=0

shopt -s nullglob
A_FILES=("$A"/* "$A"/.[!.]*)
shopt -u nullglob
check "node folder holds wings.db and wings.key" \
    test -f "$A/wings.db" -a -f "$A/wings.key"
check "wings.key is $KEYFILE_BYTES bytes" \
    test "$(stat -c %s "$A/wings.key")" -eq $KEYFILE_BYTES
check "wings.db is whole pages, at least 2" whole_pages "$A/wings.db" 2
for f in "${A_FILES[@]}"; do
    b=${f##*/}
    check "$b: no 'SQLite format 3'" is_zero "$(count_in "$f" 'SQLite format 3')"
    check "$b: no node name" is_zero "$(count_in "$f" "$NAME_A")"
    check "$b: no passphrase" is_zero "$(count_in "$f" "$P1")"
    check "$b: no endpoint" is_zero "$(count_in "$f" "tcp://")"
    check "$b: mode 0600 (created under umask 000)" mode_is "$f" 600
done
check "node folder: mode 0700 (created under umask 000)" mode_is "$A" 700

if command -v sqlite3 >/dev/null; then
    mkdir "$T/sq"
    for f in "${A_FILES[@]}"; do
        b=${f##*/}
        cp -- "$f" "$T/sq/$b" # a copy: sqlite3 must not touch the node
        run sqlite3 "$T/sq/$b" 'select * from sqlite_master'
        check "sqlite3 cannot read $b" test "$RC" -ne 0
    done
else
    echo "SKIP sqlite3 cannot read the files (no sqlite3 shell installed)"
fi

# ===========================================================================
section "4. tampering"

A_DB=$(sha "$A/wings.db")
OFF2=$((PAGE + 1234)) # a byte inside page 2
OFF1=100              # a byte inside page 1

wings "$P1" --dir "$A" audit --verify
expect "audit --verify of an intact store: exit 0" rc=0 out:ok

flip "$A/wings.db" $OFF2
check "(byte in page 2 flipped)" differs "$A/wings.db" "$A_DB"
wings "$P1" --dir "$A" audit --verify
expect "flipped byte in page 2: verify exits 4, names page 2" \
    rc=4 "out:page 2 of the database failed authentication" \
    "!out:page 1 " "err:failed verification"
wings "$P1" --dir "$A" --json audit --verify
expect "flipped byte in page 2: --json verify lists it, ok false" \
    rc=4 "out:page 2 of the database failed authentication" 'out~"ok": ?false'
wings "$P1" --dir "$A" id
expect "flipped byte in page 2: id exits 4 naming page 2, stdout empty" \
    rc=4 err-line "err:page 2 of the database" out-empty
flip "$A/wings.db" $OFF2
check "(byte flipped back: file identical)" same_sha "$A/wings.db" "$A_DB"
wings "$P1" --dir "$A" audit --verify
expect "byte flipped back: verify exits 0" rc=0

flip "$A/wings.db" $OFF1
wings "$P1" --dir "$A" id
expect "flipped byte in page 1: id exits 4 naming page 1, stdout empty" \
    rc=4 err-line "err:page 1 of the database failed authentication" out-empty
wings "$P1" --dir "$A" audit --verify
expect "flipped byte in page 1: verify exits 4, names page 1" \
    rc=4 "out:page 1 of the database failed authentication" "!out:page 2 "
flip "$A/wings.db" $OFF1
check "(page 1 restored)" same_sha "$A/wings.db" "$A_DB"

cp -p -- "$A/wings.db" "$T/a.db.bak"
copy_page "$B/wings.db" "$A/wings.db" 2
check "(page 2 of node B's database copied over node A's)" \
    differs "$A/wings.db" "$A_DB"
wings "$P1" --dir "$A" audit --verify
expect "page 2 from another node's database: verify exits 4, names page 2" \
    rc=4 "out:page 2 of the database failed authentication" "!out:page 1 "
cp -p -- "$T/a.db.bak" "$A/wings.db"
wings "$P1" --dir "$A" audit --verify
expect "own page 2 restored: verify exits 0" rc=0

cp -p -- "$A/wings.key" "$T/a.key.bak"
truncate -s 100 "$A/wings.key"
wings "$P1" --dir "$A" id
expect "key file truncated to 100 bytes: exit 4, names the key file" \
    rc=4 err-line "err:key file" out-empty
wings "$P1" --dir "$A" audit --verify
expect "key file truncated: verify exits 4, names the key file" \
    rc=4 "err:key file"
rm -- "$A/wings.key"
wings "$P1" --dir "$A" id
expect "key file removed: exit 4, says the key file is missing" \
    rc=4 err-line "err~key file.*missing" out-empty
wings "$P1" --dir "$A" audit --verify
expect "key file removed: verify exits 4, says it is missing" \
    rc=4 "err~key file.*missing"
cp -p -- "$T/a.key.bak" "$A/wings.key"
wings "$P1" --dir "$A" id
expect "key file restored: id works again" rc=0 "out~$ID_RE"

cp -p -- "$A/wings.db" "$T/a.db.bak"
: >"$A/wings.db"
wings "$P1" --dir "$A" id
expect "database emptied: id exits 4" rc=4 err-line out-empty
check "database emptied: id's message says the store is altered or corrupt" \
    grep -qE "altered|corrupt|truncated|missing" "$T/err"
wings "$P1" --dir "$A" audit --verify
check "database emptied to 0 bytes: audit --verify exits 4" \
    test "$RC" -eq 4
cp -p -- "$T/a.db.bak" "$A/wings.db"
check "(database restored)" same_sha "$A/wings.db" "$A_DB"

# ===========================================================================
section "5. passwd"

A_DB=$(sha "$A/wings.db")
A_KEY=$(sha "$A/wings.key")
run env WINGS_PASSPHRASE="$PWRONG" WINGS_NEW_PASSPHRASE="$P2" \
    "$W" --dir "$A" passwd
expect "passwd with a wrong old passphrase: exit 4" \
    rc=4 err-line "err:wrong passphrase"
check "refused passwd left the key file alone" same_sha "$A/wings.key" "$A_KEY"

run env WINGS_PASSPHRASE="$P1" WINGS_NEW_PASSPHRASE="$P2" \
    "$W" --dir "$A" passwd
expect "passwd (WINGS_PASSPHRASE old, WINGS_NEW_PASSPHRASE new): exit 0" rc=0
P_OUT=$(cat "$T/out") P_ERR=$(cat "$T/err")
check "passwd rewrote the key file" differs "$A/wings.key" "$A_KEY"
check "passwd left wings.db byte-identical (sha256)" same_sha "$A/wings.db" "$A_DB"
wings "$P1" --dir "$A" id
expect "old passphrase no longer opens: exit 4" rc=4 "err:wrong passphrase"
wings "$P2" --dir "$A" id
expect "new passphrase opens, same identity" rc=0 "out~$ID_RE"
check "identity unchanged by passwd" same_text "$(cat "$T/out")" "$ID_LINE"
wings "$P2" --dir "$A" audit --verify
expect "new passphrase: verify exits 0" rc=0

# ===========================================================================
section "6. the WAL"
echo "SKIP WAL frames: the store checkpoints and removes wings.db-wal on close," \
    "so no frame survives a command to tamper with at CLI level"

# ===========================================================================
section "7. secrets stay out of output"

check "passwd printed neither passphrase" \
    lacks_all "$P_OUT$P_ERR" "$P1" "$P2"

wings "$P2" --dir "$A" id
expect "id: passphrase in neither stdout nor stderr" \
    rc=0 "!out:$P2" "!err:$P2"
wings "$P2" --dir "$A" --json id
expect "--json id: passphrase in neither stdout nor stderr" \
    rc=0 "!out:$P2" "!err:$P2"
wings "$P2" --dir "$A" audit --verify
expect "audit --verify: passphrase in neither stdout nor stderr" \
    rc=0 "!out:$P2" "!err:$P2"
wings "$PWRONG" --dir "$A" id
expect "wrong passphrase (env): the message omits the passphrase tried" \
    rc=4 "err:wrong passphrase" "!err:$PWRONG" "!out:$PWRONG"
printf '%s\n' "$PWRONG" >"$T/pass-wrong"
wings - --dir "$A" --passphrase-file "$T/pass-wrong" id
expect "wrong passphrase (file): the message omits the passphrase tried" \
    rc=4 "err:wrong passphrase" "!err:$PWRONG" "!out:$PWRONG"
run env WINGS_PASSPHRASE="$PWRONG" WINGS_NEW_PASSPHRASE="$P1" \
    "$W" --dir "$A" passwd
expect "failed passwd: neither passphrase in its output" \
    rc=4 "!err:$PWRONG" "!err:$P1" "!out:$PWRONG" "!out:$P1"
S=$T/node-s
wings "$P1" --dir "$S" init --name secretive --county "$COUNTY" --kdf test
expect "init: passphrase in neither stdout nor stderr" \
    rc=0 "!out:$P1" "!err:$P1"
shopt -s nullglob
for f in "$S"/* "$A"/*; do
    check "${f#"$T"/}: holds no passphrase" file_lacks_all "$f" "$P1" "$P2"
done
shopt -u nullglob

lib_finish
