#!/usr/bin/env bash
# life_cli.sh - a node's life through the `wings` CLI: backup and restore,
# local safety, passwd --rekey, the endpoint in use, peer set, daemon logs
#
#   bash tests/scenario/life_cli.sh build/wings
#
# Throw-away nodes (WINGS_TEST_KDF=1, --kdf test) on 127.0.0.1 with ports
# the OS picks. Asserts exact exit codes (CLI.md) and words of messages.
# Prints one line per check, ends with "N passed, 0 failed"; exits 1 naming
# every failed check.
#
# Backup layout relied on (store/backup.c): a 144-byte header (magic at 0,
# manifest length u32 BE at 12, the key file at 16..144), then the sealed
# manifest, then the database copy in whole 4096-byte pages.
set -euo pipefail

# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
# Some folders here are made unreadable; make them removable again.
on_cleanup 'chmod -R u+rwX "$T" 2>/dev/null || true'
# No passphrase in the environment: each command is given its own.
unset WINGS_PASSPHRASE WINGS_NEW_PASSPHRASE WINGS_DIR WINGS_LOG CREDENTIALS_DIRECTORY

P1='Marigold-3v-anchor-tundra-64'
P2='Saffron-8j-comet-ledger-17'
PWRONG='Wrongful-9z-pebble-canyon-12'
COUNTY=450224
NAME1='覃秀兰'
ID1=11010519491231002X
NAME2='Lanxiang-Wei'
ID2=110105194912310038
NAME3='Mo-Jinhua'
ID3=450224199003151231

# wings PASS ARGS...: the binary with WINGS_PASSPHRASE=PASS.
wings() {
    local pass=$1
    shift
    run env WINGS_PASSPHRASE="$pass" "$W" "$@"
}
mode_of() { stat -c %a "$1"; }
differ() { ! cmp -s "$1" "$2"; }
json() { python3 -c "import json,sys; d=json.load(open('$T/out')); print($1)"; }
no_plaintext() { # FILE: none of the record's words in its bytes
    ! grep -qaF -e "$NAME1" -e "$ID1" -e "$NAME2" -e "$ID2" -e "$NAME3" -e "$ID3" "$1"
}
flip() { # flip FILE OFFSET: xor one byte
    python3 - "$1" "$2" <<'EOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[off] ^= 0x5a
open(p, 'wb').write(b)
EOF
}

# ---- a node with records ----------------------------------------------------

A=$T/node-a
wings "$P1" --dir "$A" init --name officea --county $COUNTY --kdf test
expect "init A" rc=0
wings "$P1" --dir "$A" add person name="$NAME1" id_number=$ID1 gender=female \
    birth_date=1949-12-31 disability_category=physical disability_grade=2
expect "add person 1" rc=0
P1ID=$(cat "$T/out")
wings "$P1" --dir "$A" add person name="$NAME2" id_number=$ID2 gender=male \
    birth_date=1949-12-31 disability_category=visual disability_grade=3
expect "add person 2" rc=0
wings "$P1" --dir "$A" add training person_id="$P1ID" course=massage \
    start_date=2026-03-01 outcome=enrolled
expect "add training" rc=0

# ---- backup, no daemon --------------------------------------------------------

wings "$P1" --dir "$A" backup "$T/b1.wingsbak"
expect "backup (no daemon): exit 0, says what it holds" rc=0 \
    "out:backup of officea (office, county $COUNTY" \
    "out:records: 2 person, 1 training, 0 placement" "out:written to $T/b1.wingsbak"
check "backup file: mode 600" [ "$(mode_of "$T/b1.wingsbak")" = 600 ]
check "backup file: no record text in its bytes" no_plaintext "$T/b1.wingsbak"
check "backup file: the key file is its bytes 16..144" \
    cmp -s <(tail -c +17 "$T/b1.wingsbak" | head -c 128) "$A/wings.key"
check "backup: no partial file left beside it" \
    [ -z "$(find "$T" -maxdepth 1 -name 'b1.wingsbak.*')" ]
check "backup: no copy left in the node folder" \
    [ "$(ls "$A" | sort | tr '\n' ' ')" = "wings.db wings.key wings.mark " ]
head -c 8192 /dev/urandom >"$A/wings.db.backup-0123456789ab" # a dead backup's copy
wings "$P1" --dir "$A" --json backup "$T/b1j.wingsbak"
expect "backup --json" rc=0
check "backup: a copy left by a dead backup is removed" [ ! -e "$A/wings.db.backup-0123456789ab" ]
check "backup --json: counts" [ "$(json 'd["records"]["person"], d["records"]["training"], d["name"]')" = "2 1 officea" ]
wings "$PWRONG" --dir "$A" backup "$T/bx.wingsbak"
expect "backup with a wrong passphrase: exit 4" rc=4 "err:wrong passphrase"
check "backup with a wrong passphrase: no file" [ ! -e "$T/bx.wingsbak" ]

# ---- backup while serve runs: the daemon takes it -------------------------------

free_port
PA=$PORT
WINGS_PASSPHRASE="$P1" "$W" --dir "$A" serve --listen tcp://127.0.0.1:$PA \
    --interval 3600 >"$T/serve-a.out" 2>"$T/serve-a.err" </dev/null &
PIDS+=($!)
SERVE_A=$!
check "serve A started" wait_for "$T/serve-a.out" "serving officea"
wings "$P1" --dir "$A" add person name="$NAME3" id_number=$ID3 gender=male \
    birth_date=1990-03-15 disability_category=hearing disability_grade=4
expect "add through the daemon" rc=0
# The daemon holds the store exclusively: only it can take the copy.
wings "$P1" --dir "$A" backup "$T/b2.wingsbak"
expect "backup while serving: exit 0, with the record just added" rc=0 \
    "out:records: 3 person, 1 training, 0 placement"
check "backup while serving: no record text in its bytes" no_plaintext "$T/b2.wingsbak"
wings "$P1" --dir "$A" --json list person
cp "$T/out" "$T/a-persons.json"
kill -TERM $SERVE_A
wait $SERVE_A || true
check "serve A stopped" wait_for "$T/serve-a.out" "stopped"

# ---- restore ---------------------------------------------------------------------

R1=$T/restored-1
wings "$P1" --dir "$R1" restore "$T/b2.wingsbak"
expect "restore into a new folder: exit 0, verified" rc=0 \
    "out:restored officea (office, county $COUNTY" \
    "out:records: 3 person, 1 training, 0 placement" "out:verified:"
check "restored folder: mode 700" [ "$(mode_of "$R1")" = 700 ]
check "restored files: mode 600" [ "$(mode_of "$R1/wings.db")$(mode_of "$R1/wings.key")" = 600600 ]
wings "$P1" --dir "$R1" audit --verify
expect "audit --verify clean after restore" rc=0 "out:ok:"
wings "$P1" --dir "$R1" --json list person
check "restored persons are the node's, byte for byte" cmp -s "$T/out" "$T/a-persons.json"
wings "$P1" --dir "$R1" id
expect "restored identity" rc=0 "out:officea "

sums() { sha256sum "$R1"/* | sort; }
before=$(sums)
wings "$P1" --dir "$R1" restore "$T/b1.wingsbak"
expect "restore into a folder holding a node: exit 3" rc=3 "err:is not empty"
check "refused restore changed nothing" [ "$(sums)" = "$before" ]
mkdir -m 700 "$T/other"
echo note >"$T/other/note.txt"
wings "$P1" --dir "$T/other" restore "$T/b1.wingsbak"
expect "restore into a folder holding any file: exit 3" rc=3 "err:is not empty"
check "refused restore wrote nothing" [ "$(ls "$T/other")" = note.txt ]
mkdir -m 700 "$T/empty"
wings "$P1" --dir "$T/empty" --json restore "$T/b1.wingsbak"
expect "restore into an empty folder: exit 0" rc=0
check "restore --json: verified, counts" \
    [ "$(json 'd["verified"], d["records"]["person"]')" = "True 2" ]
mkdir "$T/open"
chmod 777 "$T/open"
wings "$P1" --dir "$T/open" restore "$T/b1.wingsbak"
expect "restore into a folder open to others: exit 3, says how to fix" rc=3 \
    "err:open to other users (mode 0777): run 'chmod 700"
check "restore into an open folder wrote nothing" [ -z "$(ls "$T/open")" ]
wings "$PWRONG" --dir "$T/r-wrong" restore "$T/b1.wingsbak"
expect "restore with a wrong passphrase: exit 4" rc=4 "err:wrong passphrase"
check "restore with a wrong passphrase: no folder" [ ! -e "$T/r-wrong" ]

# ---- tampered backups ---------------------------------------------------------------

SIZE=$(stat -c %s "$T/b2.wingsbak")
MLEN=$(python3 -c "import sys; b=open('$T/b2.wingsbak','rb').read(); print(int.from_bytes(b[12:16],'big'))")
DB0=$((144 + MLEN))
tamper() { # NAME OFFSET RC TEXT
    cp "$T/b2.wingsbak" "$T/t.wingsbak"
    flip "$T/t.wingsbak" "$2"
    wings "$P1" --dir "$T/r-tampered" restore "$T/t.wingsbak"
    expect "tampered backup ($1): exit $3" rc="$3" "err:$4"
    check "tampered backup ($1): nothing restored" [ ! -e "$T/r-tampered" ]
}
tamper "magic" 0 3 "is not a wings backup"
tamper "manifest length" 13 3 "damaged in its header"
tamper "sealed data key" 110 4 "wrong passphrase, or its key file was altered"
tamper "manifest" $((144 + 30)) 4 "manifest fails authentication"
tamper "database page 1" $((DB0 + 100)) 4 "database copy does not match its manifest"
tamper "last database byte" $((SIZE - 1)) 4 "database copy does not match its manifest"
head -c $((SIZE - 4096)) "$T/b2.wingsbak" >"$T/t.wingsbak"
wings "$P1" --dir "$T/r-tampered" restore "$T/t.wingsbak"
expect "truncated backup: exit 4" rc=4 "err:altered or corrupt"
check "truncated backup: nothing restored" [ ! -e "$T/r-tampered" ]
# A page of an older backup of the same node, under the same key, in place
# of the newer one's: each page authenticates alone, the manifest does not.
MLEN1=$(python3 -c "b=open('$T/b1.wingsbak','rb').read(); print(int.from_bytes(b[12:16],'big'))")
cp "$T/b2.wingsbak" "$T/t.wingsbak"
python3 - "$T/b1.wingsbak" "$T/t.wingsbak" $((144 + MLEN1)) $DB0 <<'EOF'
import sys
old, new, o0, n0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a = open(old, 'rb').read()
b = bytearray(open(new, 'rb').read())
p = 2 * 4096  # page 3 of each copy
b[n0 + p:n0 + p + 4096] = a[o0 + p:o0 + p + 4096]
open(new, 'wb').write(b)
EOF
check "swapped page differs from the original" differ "$T/t.wingsbak" "$T/b2.wingsbak"
wings "$P1" --dir "$T/r-tampered" restore "$T/t.wingsbak"
expect "a page swapped in from an older backup: exit 4" rc=4 \
    "err:database copy does not match its manifest"
head -c 5000 /dev/urandom >"$T/t.wingsbak"
wings "$P1" --dir "$T/r-tampered" restore "$T/t.wingsbak"
expect "random bytes: exit 3" rc=3 "err:is not a wings backup"
wings "$P1" --dir "$T/r-tampered" restore "$T/no-such-file"
expect "missing backup file: exit 5" rc=5 "err:cannot read backup"
wings "$P1" --dir "$A" backup
expect "backup without FILE: exit 2" rc=2 "err:backup needs a FILE"

# ---- the node folder is its owner's alone ---------------------------------------------

mkdir "$T/ww"
chmod 777 "$T/ww"
wings "$P1" --dir "$T/ww" init --name ww --county $COUNTY --kdf test
expect "init into a world-writable folder: exit 3, says how to fix" rc=3 \
    "err:open to other users (mode 0777): run 'chmod 700 $T/ww'"
check "init into a world-writable folder: nothing written" [ -z "$(ls -A "$T/ww")" ]
mkdir -m 770 "$T/gw"
wings "$P1" --dir "$T/gw" init --name gw --county $COUNTY --kdf test
expect "init into a group-writable folder: exit 3" rc=3 "err:(mode 0770)"
mkdir -m 700 "$T/mine"
wings "$P1" --dir "$T/mine" init --name mine --county $COUNTY --kdf test
expect "init into an empty 0700 folder of ours: exit 0" rc=0 "out:mine "
chmod 755 "$A"
wings "$P1" --dir "$A" list person
expect "opening a node folder open to others: exit 4, says how to fix" rc=4 \
    "err:node folder '$A' is open to other users (mode 0755): run 'chmod 700 $A'"
chmod 700 "$A"
wings "$P1" --dir "$A" list person
expect "after chmod 700 it opens" rc=0
if [[ $(id -u) == 0 ]]; then
    chown 65534 "$A"
    wings "$P1" --dir "$A" list person
    expect "opening a node folder owned by another user: exit 4" rc=4 \
        "err:belongs to user 65534, not to you (0)"
    chown 0 "$A"
else
    echo "skip opening a folder owned by another user (needs root to chown)"
fi

# ---- files made beside their target, never adopted ---------------------------------------

echo "another user's file" >"$T/victim"
ln -s "$T/victim" "$T/persons.csv.partial"
wings "$P1" --dir "$A" export person --out "$T/persons.csv"
expect "export --out beside a planted .partial link: exit 0" rc=0
check "export: the planted link's target untouched" [ "$(cat "$T/victim")" = "another user's file" ]
check "export: FILE is a regular file with the rows" \
    bash -c "[[ -f '$T/persons.csv' && ! -L '$T/persons.csv' ]] && grep -q '$ID2' '$T/persons.csv'"
check "export: no partial file of ours left" \
    [ "$(find "$T" -maxdepth 1 -name 'persons.csv.*' | wc -l)" = 1 ]
ln -s "$T/victim" "$T/rates.svg.partial"
wings "$P1" --dir "$A" report --svg "$T/rates.svg"
expect "report --svg beside a planted .partial link: exit 0" rc=0
check "report: the planted link's target untouched" [ "$(cat "$T/victim")" = "another user's file" ]
check "report: the chart is a regular file" \
    bash -c "[[ -f '$T/rates.svg' && ! -L '$T/rates.svg' ]] && grep -q '<svg' '$T/rates.svg'"
if command -v strace >/dev/null && strace -f -qq -e trace=none true 2>/dev/null; then
    # (LeakSanitizer cannot run under ptrace: off for these two runs of a
    # sanitizer build.)
    env WINGS_PASSPHRASE="$P1" ASAN_OPTIONS=detect_leaks=0 \
        strace -f -qq -e trace=open,openat -o "$T/strace" \
        "$W" --dir "$A" export person --out "$T/p2.csv" >/dev/null 2>&1
    check "export opens its partial file with O_EXCL|O_NOFOLLOW" \
        grep -qE "p2\.csv\.[0-9a-f]{12}\.partial\".*O_EXCL.*O_NOFOLLOW|p2\.csv\.[0-9a-f]{12}\.partial\".*O_NOFOLLOW.*O_EXCL" "$T/strace"
    env WINGS_PASSPHRASE="$P1" WINGS_NEW_PASSPHRASE="$P1" \
        ASAN_OPTIONS=detect_leaks=0 strace -f -qq \
        -e trace=open,openat -o "$T/strace" "$W" --dir "$A" passwd >/dev/null 2>&1
    check "passwd opens wings.key.new with O_EXCL|O_NOFOLLOW" \
        grep -qE "wings\.key\.new\".*O_EXCL.*O_NOFOLLOW|wings\.key\.new\".*O_NOFOLLOW.*O_EXCL" "$T/strace"
else
    echo "skip the system-call checks (no usable strace)"
fi
ln -s "$T/victim" "$A/wings.key.new"
run env WINGS_PASSPHRASE="$P1" WINGS_NEW_PASSPHRASE="$P2" "$W" --dir "$A" passwd
expect "passwd beside a planted wings.key.new link: exit 0" rc=0 "out:passphrase changed"
check "passwd: the planted link's target untouched" [ "$(cat "$T/victim")" = "another user's file" ]
check "passwd: wings.key is a regular 128-byte file" \
    bash -c "[[ -f '$A/wings.key' && ! -L '$A/wings.key' && \$(stat -c %s '$A/wings.key') == 128 ]]"
echo planted >"$A/wings.key.new"
PLANTED=$(stat -c %i "$A/wings.key.new")
exec 9<"$A/wings.key.new" # whoever planted it keeps it open
run env WINGS_PASSPHRASE="$P2" WINGS_NEW_PASSPHRASE="$P1" "$W" --dir "$A" passwd
expect "passwd beside a planted wings.key.new file: exit 0" rc=0
check "passwd: the planted file was not adopted (another inode)" \
    [ "$(stat -c %i "$A/wings.key")" != "$PLANTED" ]
check "passwd: the planter's descriptor sees nothing new" [ "$(cat <&9)" = planted ]
exec 9<&-
wings "$P1" --dir "$A" list person
expect "passwd: the node opens with the passphrase set" rc=0

# ---- passwd --rekey --------------------------------------------------------------------------

cp "$A/wings.key" "$T/old.key"
cp "$A/wings.db" "$T/old.db"
run env WINGS_PASSPHRASE="$P1" WINGS_NEW_PASSPHRASE="$P2" "$W" --dir "$A" passwd --rekey
expect "passwd --rekey: exit 0" rc=0 "out:re-encrypted under a new data key"
check "passwd --rekey: no file left behind" \
    [ "$(ls "$A" | sort | tr '\n' ' ')" = "wings.db wings.key wings.mark " ]
check "passwd --rekey: every page rewritten" differ "$A/wings.db" "$T/old.db"
wings "$P2" --dir "$A" audit --verify
expect "passwd --rekey: audit --verify clean" rc=0 "out:ok:"
wings "$P2" --dir "$A" --json list person
check "passwd --rekey: the same records" cmp -s "$T/out" "$T/a-persons.json"
wings "$P2" --dir "$A" add person name=Rekeyed-Since id_number=450224198001011230 \
    gender=male birth_date=1980-01-01 disability_category=speech disability_grade=1
expect "a record written after the rekey" rc=0
mkdir -m 700 "$T/oldcopy"
cp "$A/wings.db" "$T/oldcopy/wings.db"
cp "$T/old.key" "$T/oldcopy/wings.key"
wings "$P1" --dir "$T/oldcopy" list person
expect "an old key file with the old passphrase opens nothing written since" \
    rc=4 "err:page 1 of the database failed authentication"
wings "$P1" --dir "$T/oldcopy" audit --verify
expect "... and audit --verify says every page fails" rc=4 "err:failed verification"

# A crash between the two renames of a rekey: the key file is new, the old
# database still in place, the new one beside it. The next open finishes it.
N=$T/node-n
wings "$P1" --dir "$N" init --name noden --county $COUNTY --kdf test
wings "$P1" --dir "$N" add person name=Crash-Case id_number=450224198505051236 \
    gender=male birth_date=1985-05-05 disability_category=physical disability_grade=2
cp "$N/wings.db" "$T/n-old.db"
run env WINGS_PASSPHRASE="$P1" WINGS_NEW_PASSPHRASE="$P2" "$W" --dir "$N" passwd --rekey
expect "rekey of N" rc=0
mv "$N/wings.db" "$N/wings.db.rekey"
cp "$T/n-old.db" "$N/wings.db"
wings "$P2" --dir "$N" list person
expect "open after a crash between the renames finishes the rekey" rc=0 "out:Crash-Case"
check "the finished rekey left no wings.db.rekey" [ ! -e "$N/wings.db.rekey" ]
# A crash before the key file was replaced: a copy under another key.
cp "$T/n-old.db" "$N/wings.db.rekey"
wings "$P2" --dir "$N" list person
expect "open beside an unfinished rekey's copy: the node as it was" rc=0 "out:Crash-Case"
check "the unfinished copy is removed" [ ! -e "$N/wings.db.rekey" ]
wings "$P2" --dir "$N" audit --verify
expect "audit --verify after both" rc=0 "out:ok:"

# ---- the endpoint in use; peer set; the daemon's log ------------------------------------------

B=$T/node-b
wings "$P1" --dir "$B" init --name officeb --county $COUNTY --kdf test
expect "init B (default endpoint)" rc=0 "out:tcp://127.0.0.1:7400"
KB=$(cut -d' ' -f2 "$T/out")
wings "$P2" --dir "$A" id
KA=$(cut -d' ' -f2 "$T/out")
wings "$P1" --dir "$B" peer add officea "$KA" tcp://127.0.0.1:1
free_port
PB=$PORT
WINGS_PASSPHRASE="$P1" "$W" --dir "$B" serve --listen tcp://127.0.0.1:$PB \
    --interval 3600 >"$T/serve-b.out" 2>"$T/serve-b.err" </dev/null &
PIDS+=($!)
SERVE_B=$!
check "serve B started" wait_for "$T/serve-b.out" "serving officeb"
wings "$P1" --dir "$B" id
expect "id shows the endpoint serve --listen uses" rc=0 \
    "out:officeb $KB tcp://127.0.0.1:$PB"
wings "$P1" --dir "$B" --json status
check "status --json shows it too" [ "$(json 'd["endpoint"]')" = "tcp://127.0.0.1:$PB" ]
wings "$P1" --dir "$B" status
expect "status shows it" rc=0 "out:officeb $KB tcp://127.0.0.1:$PB"

wings "$P2" --dir "$A" peer add officeb "$KB" tcp://127.0.0.1:1
expect "A trusts B at a wrong address" rc=0
wings "$P2" --dir "$A" sync --timeout 2
expect "sync to the wrong address fails" rc=6 "out:officeb failed"
wings "$P2" --dir "$A" peer set officeb tcp://127.0.0.1:$PB
expect "peer set: exit 0" rc=0 "out:peer officeb now at tcp://127.0.0.1:$PB"
wings "$P2" --dir "$A" --json peer list
check "peer set: same key, new endpoint, history kept" \
    [ "$(json 'd[0]["key"], d[0]["endpoint"], d[0]["last_result"]')" = "$KB tcp://127.0.0.1:$PB failed" ]
wings "$P2" --dir "$A" sync
expect "sync at the new address" rc=0 "out:officeb ok sent="
wings "$P2" --dir "$A" peer set nosuch tcp://127.0.0.1:$PB
expect "peer set of an unknown peer: exit 5" rc=5 "err:no peer named 'nosuch'"
wings "$P2" --dir "$A" peer set officeb 10.0.0.1:7400
expect "peer set with a malformed endpoint: exit 3" rc=3 "err:not of the form tcp://HOST:PORT"
wings "$P2" --dir "$A" peer set officeb
expect "peer set without ENDPOINT: exit 2" rc=2

# A node B does not trust knocks: refused, one line.
C=$T/node-c
wings "$P1" --dir "$C" init --name strangerc --county $COUNTY --kdf test
wings "$P1" --dir "$C" peer add officeb "$KB" tcp://127.0.0.1:$PB
wings "$P1" --dir "$C" sync --timeout 3
expect "an untrusted node is refused" rc=6
check "daemon log: the refusal" wait_for "$T/serve-b.err" "info sync: refused in failed peer=unknown"
kill -TERM $SERVE_B
wait $SERVE_B || true
LOG=$T/serve-b.err
check "daemon log: session start, with the peer and a short key" \
    grep -qF "info sync: session start in peer=officea key=${KA:0:16}" "$LOG"
check "daemon log: session end with its counts" \
    grep -qE "info sync: session in ok peer=officea key=${KA:0:16} sent=[0-9]+ received=[1-9][0-9]* refused=0$" "$LOG"
check "daemon log: every line is 'TIME LEVEL MODULE: event'" \
    bash -c "! grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z (error|warn|info|debug) [a-z]+: ' '$LOG'"
check "daemon log: no passphrase, no record text, no full key" \
    bash -c "! grep -qaF -e '$P1' -e '$P2' -e '$NAME1' -e '$ID1' -e '$NAME3' -e '$ID3' -e '$KA' '$LOG'"
check "serve B stopped cleanly" grep -qx stopped "$T/serve-b.out"

lib_finish
