#!/usr/bin/env bash
# members_cli.sh - a network's membership through the CLI (CLI.md
# "Membership")
#
#   bash tests/scenario/members_cli.sh build/wings
#
# A root province (gx, 450000, `init --root`) enrols a prefecture (liuzhou,
# 450200, hq), which enrols two offices (rongan 450224, rongshui 450225):
# tokens joined, records flow county -> prefecture -> province and back,
# every feed verifies at the province although it never talked to the
# offices (and its history names them by their certificates), and
# `members` lists the certificates. An enroller refuses a code
# outside its area and an office cannot enrol (exit 3); a token made for
# another key is refused (exit 3). A node in the peer list without a
# certificate is refused at the door. Revocation: rongan revoked at the
# prefecture: its next sync is refused and audited, `members` says revoked
# at the prefecture and, after one prefecture-province sync, at the
# province; a second office of the county (ranbak) that had not heard of
# the revocation takes rongan's later change, and relaying it to the
# province is refused there (exit 6, audited naming ranbak and the
# cut-off), while rongan's changes before the cut-off stay. A replacement PC enrolled with --replaces joins, syncs and
# holds its county's records; the old key stays refused.
#
# Prints one line per check, "N passed, 0 failed"; exit 1 if any failed.
set -euo pipefail
# shellcheck source=tests/scenario/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_args "$@"
lib_need jq
lib_tmp
kill_daemons() {
    local p
    for p in "${DPID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
on_cleanup kill_daemons

declare -A KEY EP
new_node() { # NAME COUNTY ROLE [--root]
    free_port
    on "$1" init --name "$1" --county "$2" --role "$3" ${4:-} \
        --listen "tcp://127.0.0.1:$PORT" --kdf test
    [[ $RC -eq 0 ]] || { echo "members_cli.sh: init $1: $(show_last)" >&2; exit 1; }
    local -a f
    read -ra f <"$T/out"
    KEY[$1]=${f[1]}
    EP[$1]=${f[2]}
}
start() {
    "$W" --dir "$T/$1" serve --interval 86400 </dev/null >"$T/$1.log" 2>&1 &
    DPID[$1]=$!
    for ((i = 0; i < 500; i++)); do
        [[ -S $T/$1/wings.ctl && -s $T/$1/wings.pid ]] && return 0
        sleep 0.02
    done
    echo "members_cli.sh: $1 did not start: $(cat "$T/$1.log")" >&2
    exit 1
}
synced() { # CLIENT PEER: a sync that succeeds
    on "$1" sync "$2" --timeout 20
    [[ $RC -eq 0 ]] && grep -q "^$2 ok sent=" "$T/out"
}
persons() { on "$1" --json list person; jq length "$T/out"; }

new_node gx 450000 hq --root
new_node liuzhou 450200 hq
new_node rongan 450224 office
new_node rongshui 450225 office
new_node ranbak 450224 office

on gx --json members
check "the root holds its own certificate" test "$(jq -r '.[0].state + " " + .[0].role + " " + .[0].county' "$T/out")" = "valid hq 450000"
on rongan --json status
check "a node that joined no network is a closed group" test "$(jq .closed_group "$T/out")" = true

on gx enrol liuzhou "${KEY[liuzhou]}" "${EP[liuzhou]}" --county 450200 --role hq
TOK=$(cat "$T/out")
check "enrol prints one join token" test "$(wc -w <"$T/out")" = 1
on liuzhou join "$TOK"
check "the prefecture joins" grep -qx "joined gx as hq for 450200" "$T/out"
on rongan join "$TOK"
check "a token made for another key: exit 3" test "$RC" = 3
on liuzhou enrol rongan "${KEY[rongan]}" "${EP[rongan]}" --county 450224
TRA=$(cat "$T/out")
on liuzhou enrol rongshui "${KEY[rongshui]}" "${EP[rongshui]}" --county 450225
TRS=$(cat "$T/out")
on liuzhou enrol baise "${KEY[rongshui]}" tcp://127.0.0.1:1 --county 451021
check "a code outside the enroller's area: exit 3" test "$RC" = 3
on rongan join "$TRA"
check "rongan joins" grep -qx "joined gx as office for 450224" "$T/out"
on rongshui join "$TRS"
on rongan enrol x "${KEY[rongshui]}" tcp://127.0.0.1:1 --county 450224
check "an office cannot enrol: exit 3" test "$RC" = 3
# The province trusts the prefecture (enrolled it); the prefecture the offices.
on gx peer list --json
check "enrol added the prefecture as the root's peer" test "$(jq -r '.[0].name' "$T/out")" = liuzhou

on rongan add person name=韦小宝 id_number=11010519491231002X disability_category=physical
on rongshui add person name=覃阿妹 id_number=110105194912310038 disability_category=visual
start gx
start liuzhou
check "rongan syncs with the prefecture" synced rongan liuzhou
check "rongshui syncs with the prefecture" synced rongshui liuzhou
check "the prefecture syncs with the province" synced liuzhou gx
check "the province holds both counties" test "$(persons gx)" = 2
on gx audit --verify
check "every feed verifies at the province" test "$RC" = 0
on gx --json members
check "the province knows the offices it never met" \
    test "$(jq -r '[.[] | select(.name == "rongan" or .name == "rongshui") | .state] | join(",")' "$T/out")" = "valid,valid"
on gx --json list person
XB=$(jq -r '.[] | select(.name == "韦小宝") | .id' "$T/out")
on gx --json history person "$XB"
check "history at the province names the office by its certificate's name" \
    test "$(jq -r '.[0].node' "$T/out")" = rongan
on gx history person "$XB"
check "and so in text" grep -q "^[0-9-]* [0-9:]*  rongan " "$T/out"
# Back down: an edit at the province reaches the office.
on gx add person name=province-added id_number=110105194912310046 disability_category=hearing county=450224
check "the province writes in its area" test "$RC" = 0
check "the prefecture syncs with the province again" synced liuzhou gx
check "rongan syncs again" synced rongan liuzhou
check "rongan holds its county's records, and only those" test "$(persons rongan)" = 2

# A peer-listed node without a certificate is refused at the door.
new_node stranger 450224 office
on liuzhou peer add stranger "${KEY[stranger]}" "${EP[stranger]}"
on stranger peer add liuzhou "${KEY[liuzhou]}" "${EP[liuzhou]}"
on stranger sync liuzhou --timeout 10
check "a peer without a certificate is refused (exit 6)" test "$RC" = 6

# A second office of the county (the PC in the next room), enrolled by the
# prefecture; rongan and it learn each other's certificates there, and it
# may sync with rongan and with the province.
on liuzhou enrol ranbak "${KEY[ranbak]}" "${EP[ranbak]}" --county 450224
on ranbak join "$(cat "$T/out")"
check "a second office of the county joins" grep -qx "joined gx as office for 450224" "$T/out"
check "it syncs with the prefecture" synced ranbak liuzhou
check "rongan syncs with the prefecture once more" synced rongan liuzhou
on ranbak peer add rongan "${KEY[rongan]}" "${EP[rongan]}"

on rongan peer add ranbak "${KEY[ranbak]}" "${EP[ranbak]}"
on ranbak peer add gx "${KEY[gx]}" "${EP[gx]}"
on gx peer add ranbak "${KEY[ranbak]}" "${EP[ranbak]}"
# A daemon syncs with its peers as it starts: let that round with the
# prefecture end before the revocation (one more session of ranbak's with
# it than before the start), so ranbak has not heard of it.
ranbak_out() {
    on ranbak --json audit
    jq '[.[] | select(.node == "ranbak" and .peer == "liuzhou" and .direction == "out")] | length' "$T/out"
}
before=$(ranbak_out)
start ranbak
for ((i = 0; i < 1500; i++)); do
    [[ $(ranbak_out) -gt $before ]] && break
    sleep 0.02
done

# The prefecture's daemon pushes a revocation to the peers it knows at
# once: ranbak, the relay of this test, must stay unaware, so the
# prefecture forgets it first.
on liuzhou peer remove ranbak

# Revocation at the prefecture.
on liuzhou revoke rongan --reason "PC stolen"
check "revoke" grep -qx "revoked rongan" "$T/out"
on liuzhou --json members
check "members shows revoked at the prefecture" test "$(jq -r '.[] | select(.name == "rongan") | .state' "$T/out")" = revoked
on rongan add person name=after-cut id_number=110105194912310054 disability_category=physical
on rongan sync liuzhou --timeout 10
check "the revoked office's sync is refused (exit 6)" test "$RC" = 6
on liuzhou --json audit
check "the refusal is audited" test "$(jq '[.[] | select(.event == "refused" and (.reason | contains("revoked")))] | length' "$T/out")" -ge 1
check "the second office, not told of the revocation, takes rongan's later change" synced rongan ranbak
check "... it holds it" test "$(on ranbak --json list person; jq '[.[] | select(.name == "after-cut")] | length' "$T/out")" = 1
check "the prefecture syncs the revocation up" synced liuzhou gx
on gx --json members
check "members shows revoked at the province" test "$(jq -r '.[] | select(.name == "rongan") | .state' "$T/out")" = revoked
on ranbak sync gx --timeout 10
check "relayed by the second office, rongan's later change is refused at the province (exit 6)" test "$RC" = 6
on gx --json audit
check "the province audits it naming the relaying node and the cut-off" \
    test "$(jq '[.[] | select(.peer == "ranbak" and .result == "failed" and (.reason | contains("after its origin'"'"'s revocation")))] | length' "$T/out")" -ge 1
on gx --json list person
check "nothing after the cut-off is stored at the province" test "$(jq '[.[] | select(.name == "after-cut")] | length' "$T/out")" = 0
check "changes before the cut-off are kept at the province" test "$(persons gx)" = 3
on gx --json status
check "no feed frozen at the province" test "$(jq .frozen_feeds "$T/out")" = 0
# Even as a listed peer of the province, the revoked key is refused there.
on gx peer add rongan "${KEY[rongan]}" "${EP[rongan]}"
on rongan peer add gx "${KEY[gx]}" "${EP[gx]}"
on rongan sync gx --timeout 10
check "the revoked office is refused at the province too" test "$RC" = 6
on liuzhou revoke nobody
check "revoke of an unknown node: exit 5" test "$RC" = 5

# The replacement PC.
new_node rongan2 450224 office
on liuzhou enrol rongan2 "${KEY[rongan2]}" "${EP[rongan2]}" --replaces rongan
TR2=$(cat "$T/out")
on rongan2 join "$TR2"
check "the replacement joins for the same county" grep -qx "joined gx as office for 450224" "$T/out"
check "the replacement syncs" synced rongan2 liuzhou
check "the replacement holds its county's records" test "$(persons rongan2)" = 2
on rongan sync liuzhou --timeout 10
check "the old key stays refused" test "$RC" = 6

for n in gx liuzhou ranbak; do
    kill -TERM "${DPID[$n]}"
    rc=0
    wait "${DPID[$n]}" || rc=$?
    unset "DPID[$n]"
    check "$n's daemon exits 0" test "$rc" = 0
done
lib_finish
