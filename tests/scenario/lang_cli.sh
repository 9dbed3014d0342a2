#!/usr/bin/env bash
# lang_cli.sh - the command line in Chinese, its contract lines unchanged
#
#   bash tests/scenario/lang_cli.sh build/wings
#
# LANG=zh_CN.UTF-8 gives Chinese help, errors and validator messages, on a
# machine whether or not the zh_CN locale is generated; LANG=C gives
# English. What CLI.md fixes stays the same in every locale: the identity
# line, a new record's id, `PEER ok sent=N received=M`, --json field names.
# A command forwarded to a daemon answers in the caller's language. The
# catalogue is found from the build tree and from an installed tree.
# Prints one line per check and ends with "N passed, 0 failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq
BUILD=$(dirname "$W")
unset LANGUAGE LC_ALL LC_MESSAGES WINGS_LOCALEDIR

zh() { LANG=zh_CN.UTF-8 "$W" "$@"; }
en() { LANG=C "$W" "$@"; }
free_port
P1=$PORT
free_port
P2=$PORT

# Help.
zh help >zh-help.txt
en help >en-help.txt
check "LANG=zh_CN.UTF-8 wings help is Chinese" \
    grep -q "^用法：wings \[--dir DIR\]" zh-help.txt
check "its command table is Chinese" grep -qx "  add      新增一条记录，显示其编号" zh-help.txt
check "LANG=C wings help is English" grep -qx "  add      add a record, print its id" en-help.txt
check "wings help add is Chinese" \
    bash -c "LANG=zh_CN.UTF-8 '$W' help add | grep -q '^TABLE 为 person（人员）'"
rc=0
zh frobnicate 2>zh-usage.err || rc=$?
check "an unknown command exits 2 under zh_CN" [ "$rc" -eq 2 ]
check "with a Chinese usage line" \
    grep -qx "wings: 未知命令 'frobnicate'（见 'wings --help'）" zh-usage.err

# Identity line: the same in both languages.
zh --dir a init --name office-a --county 450224 --kdf test \
    --listen "tcp://127.0.0.1:$P1" >zh-init.txt
en --dir b init --name hq-b --county 450200 --role hq --kdf test \
    --listen "tcp://127.0.0.1:$P2" >/dev/null
check "init prints the identity line under zh_CN" \
    grep -Eqx "office-a [0-9a-f]{64} tcp://127\.0\.0\.1:$P1" zh-init.txt
# One process holds a store at a time: each language's output is taken
# in turn, then compared.
zh --dir a id >zh-id.txt
en --dir a id >en-id.txt
zh --dir a --json id >zh-id.json
en --dir a --json id >en-id.json
check "id is byte-identical in both languages" cmp -s zh-id.txt en-id.txt
check "id --json is byte-identical in both languages" \
    cmp -s zh-id.json en-id.json

# An error of add, in Chinese, with its exit code; nothing written.
rc=0
zh --dir a add person name=韦小宝 id_number=110105194912310025 \
    disability_category=physical 2>zh-add.err || rc=$?
rc_en=0
en --dir a add person name=韦小宝 id_number=110105194912310025 \
    disability_category=physical 2>en-add.err || rc_en=$?
check "add with a wrong check digit exits 3 in Chinese" [ "$rc" -eq 3 ]
check "its message is Chinese" \
    grep -qx "wings: 身份证号：校验位是 5，应为 X，请核对号码" zh-add.err
check "and English under LANG=C" \
    grep -qx "wings: id_number: check digit is 5, expected X" en-add.err
check "the English exit code is the same" [ "$rc_en" -eq 3 ]
check "nothing was written" [ "$(en --dir a --json list person)" = "[]" ]

# A new record's id and --json: the same shape in Chinese.
zh --dir a add person name=韦小宝 id_number=11010519491231002X \
    disability_category=physical >zh-id.txt
check "add prints only the new id under zh_CN" grep -Eqx "[0-9a-f]{32}" zh-id.txt
# One after the other: one process at a time holds a store open.
zh --dir a --json list person | jq -c '[.[] | keys]' >zh-keys.json
en --dir a --json list person | jq -c '[.[] | keys]' >en-keys.json
check "list --json has the same keys in both languages" \
    bash -c 'grep -q name zh-keys.json && cmp -s zh-keys.json en-keys.json'
zh --dir a list person --csv | head -1 >zh-head.csv
en --dir a list person --csv | head -1 >en-head.csv
check "list --csv has the same header in both languages" \
    bash -c 'grep -q "^id,name," zh-head.csv && cmp -s zh-head.csv en-head.csv'

# Sync: the result line is fixed; a failure's reason is Chinese.
KA=$(en --dir a id | awk '{print $2}')
KB=$(en --dir b id | awk '{print $2}')
en --dir a peer add hq-b "$KB" "tcp://127.0.0.1:$P2" >/dev/null
en --dir b peer add office-a "$KA" "tcp://127.0.0.1:$P1" >/dev/null
rc=0
zh --dir a sync hq-b --timeout 2 >zh-sync-fail.txt 2>&1 || rc=$?
check "a failed sync exits 6 under zh_CN" [ "$rc" -eq 6 ]
check "its line keeps 'PEER failed: ' with the reason in Chinese" \
    grep -q "^hq-b failed: 无法连接 hq-b" zh-sync-fail.txt
LANG=C start_daemon b --interval 3600
zh --dir a sync hq-b --timeout 10 >zh-sync.txt
check "sync prints 'PEER ok sent=N received=M' under zh_CN" \
    grep -Eqx "hq-b ok sent=[0-9]+ received=[0-9]+" zh-sync.txt

# A command the daemon carries out answers in the caller's language.
rc=0
zh --dir b add person name=x id_number=110105194912310025 \
    disability_category=physical 2>zh-fwd.err || rc=$?
check "a forwarded add answers in Chinese (exit 3)" \
    bash -c "[ $rc -eq 3 ] && grep -q '校验位是 5' zh-fwd.err"
stop_daemon b

# Installed: the catalogue under PREFIX/share/locale.
if cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null 2>&1 &&
   [ -x "$T/prefix/bin/wings" ]; then
    check "an installed wings finds its catalogue" \
        bash -c "LANG=zh_CN.UTF-8 '$T/prefix/bin/wings' help | grep -q '^用法：'"
else
    bad "cmake --install into a prefix" "no $T/prefix/bin/wings"
fi

lib_finish
