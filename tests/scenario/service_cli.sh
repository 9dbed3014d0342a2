#!/usr/bin/env bash
# service_cli.sh - installing wings and running it as its systemd unit does
#
#   bash tests/scenario/service_cli.sh BUILD-DIR
#
# 1. `cmake --install BUILD-DIR --prefix T/pfx` (a temporary prefix, so the
#    unit's ExecStart names a binary that exists): every file in place; the
#    man page and the bash completion carry every command of `wings --help`.
# 2. `systemd-analyze verify` on the installed unit: no complaint (and one
#    for a broken copy, so the check can fail).
# 3. The user from the installed sysusers.d snippet (systemd-sysusers
#    --root=T/sysroot: the machine's own users are not touched), then the
#    unit's ExecStart line, %i and /var/lib/wings/ mapped into T, run as that
#    user (setpriv; as root only) with its Environment=, LimitNOFILE= and the
#    passphrase passed as systemd passes a LoadCredential=: a 0400 file
#    named wings.passphrase in the folder $CREDENTIALS_DIRECTORY names. A
#    peer syncs with it; its stderr (the journal) has one line per event;
#    SIGTERM stops it with exit 0. Without the credential it exits 4.
# 4. `cpack -G DEB`: the package's files and dependencies; installed with
#    `dpkg --root=T/dpkgroot --force-script-chrootless` (its postinst
#    honours $DPKG_ROOT, so nothing outside T changes), `wings --version`
#    run from it, then removed.
# Whether systemd runs as PID 1 here is printed; `systemctl start` is only
# tried where it does.
set -euo pipefail

# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ $# -ne 1 || ! -x $1/wings ]]; then
    echo "usage: $0 BUILD-DIR (holding the built wings)" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)

lib_tmp
chmod 711 "$T" # the service user must reach its state folder inside
# Nothing from lib_tmp's environment either: each step sets what it needs.
unset WINGS_PASSPHRASE WINGS_NEW_PASSPHRASE WINGS_DIR WINGS_LOG CREDENTIALS_DIRECTORY WINGS_TEST_KDF

PASS='Larkspur-5w-glacier-tunnel-83'
empty() { [[ ! -s $1 ]]; }
nonempty() { [[ -s $1 ]]; }

if [[ $(cat /proc/1/comm 2>/dev/null) == systemd && -d /run/systemd/system ]]; then
    PID1=1
    echo "systemd runs as PID 1 here"
else
    PID1=0
    echo "systemd does not run as PID 1 here (PID 1 is '$(cat /proc/1/comm 2>/dev/null)'): systemctl start is not tried"
fi

# ---- 1. cmake --install --------------------------------------------------------

PFX=$T/pfx
run cmake --install "$BUILD" --prefix "$PFX"
expect "cmake --install into a temporary prefix" rc=0
for f in bin/wings share/man/man1/wings.1 share/bash-completion/completions/wings \
         lib/systemd/system/wings@.service lib/sysusers.d/wings.conf \
         lib/tmpfiles.d/wings.conf; do
    check "installed: $f" test -s "$PFX/$f"
done
UNIT=$PFX/lib/systemd/system/wings@.service
run "$PFX/bin/wings" --version
expect "installed wings --version" rc=0 "out:wings 0.1.0 (store schema"
VERSION_LINE=$(cat "$T/out")

# Every command of --help, with its summary, is in the man page and the
# completion: both are made from the same table.
"$PFX/bin/wings" --help | awk '/^commands:/{on=1; next} /^$/{on=0} on && $1 != "help" {print}' >"$T/cmds"
check "--help lists commands" test "$(wc -l <"$T/cmds")" -ge 10
python3 - "$T/cmds" "$PFX/share/man/man1/wings.1" >"$T/out" 2>&1 <<'EOF' && RC=0 || RC=$?
import sys
man = open(sys.argv[2], encoding='utf-8').read()
missing = []
for line in open(sys.argv[1], encoding='utf-8'):
    name, summary = line.split(None, 1)
    entry = '.SS "%s \\(em %s"' % (name.replace('-', '\\-'),
                                   summary.strip().replace('-', '\\-'))
    if entry not in man:
        missing.append(name)
print('missing:', ' '.join(missing) if missing else 'none')
sys.exit(1 if missing else 0)
EOF
expect "man page: an entry per command of --help, with its summary" rc=0 "out:missing: none"
grep -q '^\.TH WINGS 1' "$PFX/share/man/man1/wings.1" && ok "man page: a section 1 page" || bad "man page: a section 1 page"
if command -v man >/dev/null; then
    run env MANWIDTH=100 man -l "$PFX/share/man/man1/wings.1"
    expect "man page renders" rc=0 "out:backup FILE" "out:restore FILE" "out:CREDENTIALS_DIRECTORY"
fi
complete_words() { # WORDS...: what completing the last word offers
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _wings; echo "${COMPREPLY[*]}"' \
        _ "$PFX/share/bash-completion/completions/wings" "$@"
}
check "completion: 'wings ba' -> backup" [ "$(complete_words wings ba)" = backup ]
check "completion: after --dir D, 'rest' -> restore" [ "$(complete_words wings --dir x rest)" = restore ]
check "completion: 'wings passwd --re' -> --rekey" [ "$(complete_words wings passwd --re)" = --rekey ]
check "completion: 'wings peer s' -> set" [ "$(complete_words wings peer s)" = set ]
ncomp=$(complete_words wings "" | wc -w)
check "completion: every command of --help offered" [ "$ncomp" -ge "$(wc -l <"$T/cmds")" ]

# ---- 2. the unit --------------------------------------------------------------

check "unit: ExecStart names the installed binary" \
    grep -qx "ExecStart=$PFX/bin/wings --dir /var/lib/wings/%i serve" "$UNIT"
for line in "User=wings" "Group=wings" \
            "LoadCredential=wings.passphrase:/etc/wings/%i.pass" \
            "StateDirectory=wings/%i" "StateDirectoryMode=0700" \
            "LimitNOFILE=65536" "Restart=on-failure" "Environment=WINGS_LOG=info"; do
    check "unit: $line" grep -qx "$line" "$UNIT"
done
check "unit: no passphrase file on the command line" bash -c "! grep -q -- '--passphrase-file' '$UNIT'"
if command -v systemd-analyze >/dev/null; then
    run env MANPATH="$PFX/share/man" systemd-analyze verify "$UNIT"
    expect "systemd-analyze verify: exit 0" rc=0
    check "systemd-analyze verify: no complaint" bash -c "! [[ -s '$T/out' || -s '$T/err' ]]"
    mkdir "$T/broken"
    sed "s|^ExecStart=$PFX/bin/wings|ExecStart=$T/no-such/wings|" "$UNIT" >"$T/broken/wings@.service"
    run env MANPATH="$PFX/share/man" systemd-analyze verify "$T/broken/wings@.service"
    check "systemd-analyze verify: complains of a broken copy (the check can fail)" \
        grep -q "no-such/wings" "$T/err"
else
    echo "skip systemd-analyze verify (not installed)"
fi

# ---- 3. ExecStart as the unit's user, with its credential ------------------------

SYSROOT=$T/sysroot
mkdir -p "$SYSROOT/etc"
HAVE_SYSUSERS=0
if [[ $(id -u) == 0 ]] && command -v systemd-sysusers >/dev/null &&
    command -v systemd-tmpfiles >/dev/null; then
    HAVE_SYSUSERS=1
    run systemd-sysusers --root="$SYSROOT" "$PFX/lib/sysusers.d/wings.conf"
    expect "systemd-sysusers makes the unit's user from the installed snippet" rc=0
    check "the user is 'wings', its home /var/lib/wings" \
        grep -qE '^wings:x:[0-9]+:[0-9]+:wings node:/var/lib/wings:' "$SYSROOT/etc/passwd"
    run systemd-tmpfiles --root="$SYSROOT" --create "$PFX/lib/tmpfiles.d/wings.conf"
    expect "systemd-tmpfiles makes /etc/wings" rc=0
    check "/etc/wings is root's alone (0700)" [ "$(stat -c %a:%u "$SYSROOT/etc/wings")" = 700:0 ]
else
    echo "skip systemd-sysusers and systemd-tmpfiles (need root and both tools)"
    mkdir -m 700 "$SYSROOT/etc/wings"
fi
if ((HAVE_SYSUSERS)) && command -v setpriv >/dev/null; then
    SUID=$(awk -F: '$1 == "wings" {print $3}' "$SYSROOT/etc/passwd")
    SGID=$(awk -F: '$1 == "wings" {print $4}' "$SYSROOT/etc/passwd")
    AS_USER=(setpriv --reuid="$SUID" --regid="$SGID" --clear-groups --)
else
    SUID=$(id -u)
    SGID=$(id -g)
    AS_USER=()
    echo "skip running as the unit's user (needs root and setpriv): run as $(id -un)"
fi
INST=office1
STATE=$T/var/lib/wings/$INST
# What systemd does before ExecStart: StateDirectory= (0700, the user's),
# and the credential copied from /etc/wings/%i.pass (0400, the user's).
printf '%s\n' "$PASS" >"$SYSROOT/etc/wings/$INST.pass"
chmod 600 "$SYSROOT/etc/wings/$INST.pass"
mkdir -p "$T/var/lib/wings"
chmod 755 "$T/var" "$T/var/lib" "$T/var/lib/wings"
install -d -m 0700 -o "$SUID" -g "$SGID" "$STATE"
CREDS=$T/run/credentials/wings@$INST.service
mkdir -p "$CREDS"
chmod 755 "$T/run" "$T/run/credentials"
install -m 0400 -o "$SUID" -g "$SGID" "$SYSROOT/etc/wings/$INST.pass" "$CREDS/wings.passphrase"
chown "$SUID:$SGID" "$CREDS"
chmod 500 "$CREDS"
NOFILE=$(sed -n 's/^LimitNOFILE=//p' "$UNIT")
# systemd sets it as root before it drops to the user; a container may cap
# the hard limit below the unit's (then the cap is what applies).
if ! prlimit --nofile="$NOFILE" true 2>/dev/null; then
    echo "note: this machine caps open files at $(ulimit -Hn): LimitNOFILE=$NOFILE applied as that"
    NOFILE=$(ulimit -Hn)
fi
UNIT_ENV=$(sed -n 's/^Environment=//p' "$UNIT")
as_service() { # ARGS...: as the unit's user, with its environment and limits
    run prlimit --nofile="$NOFILE" "${AS_USER[@]}" env -i PATH=/usr/bin:/bin \
        $UNIT_ENV WINGS_TEST_KDF=1 CREDENTIALS_DIRECTORY="$CREDS" "$@"
}
free_port
as_service "$PFX/bin/wings" --dir "$STATE" init --name $INST --county 450224 \
    --kdf test --listen tcp://127.0.0.1:$PORT
expect "init as the unit's user, the passphrase from the credential" rc=0 "out:$INST "
KO=$(cut -d' ' -f2 "$T/out")
check "node files are the user's, 0600, in its 0700 folder" \
    [ "$(stat -c %u:%a "$STATE" "$STATE/wings.db" "$STATE/wings.key" | tr '\n' ' ')" = "$SUID:700 $SUID:600 $SUID:600 " ]

# A peer for it: an HQ run by root elsewhere.
HQ=$T/hq
export WINGS_TEST_KDF=1
run env WINGS_PASSPHRASE="$PASS-hq" "$PFX/bin/wings" --dir "$HQ" init --name hq \
    --county 450000 --role hq --kdf test --listen tcp://127.0.0.1:1
expect "an HQ to sync with" rc=0
KH=$(cut -d' ' -f2 "$T/out")
run env WINGS_PASSPHRASE="$PASS-hq" "$PFX/bin/wings" --dir "$HQ" peer add $INST "$KO" tcp://127.0.0.1:$PORT
expect "HQ trusts the office" rc=0
as_service "$PFX/bin/wings" --dir "$STATE" peer add hq "$KH" tcp://127.0.0.1:1
expect "the office trusts the HQ" rc=0
as_service "$PFX/bin/wings" --dir "$STATE" add person name=Service-Case \
    id_number=450224199003151231 gender=male birth_date=1990-03-15 \
    disability_category=hearing disability_grade=4
expect "a record on the office" rc=0

EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
EXEC=${EXEC//%i/$INST}
EXEC=${EXEC//\/var\/lib\/wings\//$T/var/lib/wings/}
echo "     ExecStart as run: $EXEC"
read -r -a EXEC_ARGV <<<"$EXEC"
prlimit --nofile="$NOFILE" "${AS_USER[@]}" env -i PATH=/usr/bin:/bin $UNIT_ENV \
    CREDENTIALS_DIRECTORY="$CREDS" "${EXEC_ARGV[@]}" >"$T/journal.out" \
    2>"$T/journal.err" </dev/null &
SVC=$!
PIDS+=($SVC)
check "ExecStart: serving" wait_for "$T/journal.out" "serving $INST on tcp://127.0.0.1:$PORT"
WPID=$(pgrep -P $SVC -x wings || echo $SVC)
check "ExecStart: runs as the unit's user" [ "$(stat -c %u /proc/$WPID)" = "$SUID" ]
check "ExecStart: LimitNOFILE applied" \
    grep -qE "^Max open files +$NOFILE +$NOFILE" /proc/$WPID/limits
check "ExecStart: the passphrase is in neither its command line nor its environment" \
    bash -c "grep -qa serve /proc/$WPID/cmdline && ! grep -qaF -- '$PASS' /proc/$WPID/cmdline /proc/$WPID/environ"
run env WINGS_PASSPHRASE="$PASS-hq" "$PFX/bin/wings" --dir "$HQ" sync
expect "a peer syncs with the service" rc=0 "out:$INST ok sent=0 received="
as_service "$PFX/bin/wings" --dir "$STATE" --json status
expect "status through the service's daemon" rc=0 'out:"serving":true' \
    "out:\"endpoint\":\"tcp://127.0.0.1:$PORT\""
kill -TERM $WPID 2>/dev/null || true
wait $SVC && RC=0 || RC=$?
check "SIGTERM: the service exits 0" [ "$RC" = 0 ]
check "SIGTERM: says stopped" grep -qx stopped "$T/journal.out"
J=$T/journal.err
check "journal: session start" grep -qF "info sync: session start in peer=hq key=${KH:0:16}" "$J"
check "journal: session end with counts" \
    grep -qE "info sync: session in ok peer=hq key=${KH:0:16} sent=[1-9][0-9]* received=0 refused=0$" "$J"
check "journal: no passphrase, no record text" \
    bash -c "! grep -qaF -e '$PASS' -e 'Service-Case' -e '450224199003151231' '$J'"
empty_creds=$T/run/credentials/empty
mkdir -p "$empty_creds"
run "${AS_USER[@]}" env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$empty_creds" \
    "${EXEC_ARGV[@]}"
expect "ExecStart without the credential: exit 4, says how to give one" rc=4 "err:no passphrase"
if ((PID1)); then
    echo "note: systemctl start wings@NAME needs the unit installed system-wide; not done by this test"
fi

# ---- 4. the Debian package ------------------------------------------------------------

if command -v cpack >/dev/null && command -v dpkg-deb >/dev/null; then
    run cpack -G DEB -B "$T/pkg" --config "$BUILD/CPackConfig.cmake"
    expect "cpack -G DEB" rc=0
    DEB=$(ls "$T"/pkg/wings_*.deb 2>/dev/null | head -1)
    check "a .deb was made" test -s "$DEB"
    dpkg-deb -c "$DEB" | awk '{print $6}' | grep -v '/$' | sort >"$T/deb-files"
    printf '%s\n' ./usr/bin/wings ./usr/lib/systemd/system/wings@.service \
        ./usr/lib/sysusers.d/wings.conf ./usr/lib/tmpfiles.d/wings.conf \
        ./usr/share/bash-completion/completions/wings \
        ./usr/share/locale/zh_CN/LC_MESSAGES/wings.mo ./usr/share/man/man1/wings.1 |
        sort >"$T/deb-want"
    check "the .deb holds exactly the installed files, under /usr" cmp -s "$T/deb-files" "$T/deb-want"
    dpkg-deb -I "$DEB" >"$T/out"
    expect "the .deb depends on its libraries" "out:libsodium23" "out:libzmq5" "out:libsqlite3-0"
    dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./usr/lib/systemd/system/wings@.service >"$T/deb-unit"
    check "the .deb's unit runs /usr/bin/wings" \
        grep -qx "ExecStart=/usr/bin/wings --dir /var/lib/wings/%i serve" "$T/deb-unit"
    R=$T/dpkgroot
    mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/etc"
    : >"$R/var/lib/dpkg/status"
    run dpkg --root="$R" --force-script-chrootless --force-depends --force-not-root -i "$DEB"
    expect "dpkg -i into a fresh root: exit 0" rc=0 "out:Setting up wings"
    check "its postinst made the wings user there" grep -q '^wings:' "$R/etc/passwd"
    check "its postinst made /etc/wings 0700 there" [ "$(stat -c %a "$R/etc/wings")" = 700 ]
    run "$R/usr/bin/wings" --version
    expect "wings --version from the installed package" rc=0 "out:$VERSION_LINE"
    run dpkg --root="$R" --force-script-chrootless --force-not-root -r wings
    expect "dpkg -r: exit 0" rc=0
    check "removed: no binary left" test ! -e "$R/usr/bin/wings"
else
    echo "skip the Debian package (no cpack or dpkg-deb)"
fi

lib_finish
