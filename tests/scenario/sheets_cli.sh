#!/usr/bin/env bash
# sheets_cli.sh - spreadsheets as offices keep them, safe cells, the checks
# a clerk expects, through the `wings` binary
#
#   bash tests/scenario/sheets_cli.sh build/wings
#
#   1. the fixtures of tests/data/ (made by tests/data/make_fixtures.py as
#      Chinese Excel and WPS save files): each imported, or refused with
#      its exact message and nothing written
#   2. importing the same file twice writes nothing the second time
#   3. export -> edit -> import --update, for export, export --excel and
#      .xlsx
#   4. formula cells and terminal escapes neutralised in export, export
#      --excel, .xlsx, list --csv, the terminal table, and --json
#   5. each weak check refused with its message; birth_date from the id
#   6. help add TABLE, sync with no peers, a Chinese node name
#
# Uses the shared harness (lib.sh): one line per check, then "N passed, N
# failed"; exit 1 on a failure. Needs jq and unzip.
set -euo pipefail
DATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/../data" && pwd)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need jq
lib_need unzip

COUNTY=450226
fresh() { # NODE: a new office node in $COUNTY (made again if it exists)
    rm -rf "${T:?}/$1"
    on "$1" init --name "$1" --county $COUNTY --kdf test
    [[ $RC == 0 ]] || die "cannot init $1: $(show_last)"
}
snapshot() { on "$1" --json list person; cp "$T/out" "$T/$2"; }

# The three persons every fixture holds, as they must come out.
ID1=450226198503071236
ID2=450226198003131247
ID3=450226198503071359
persons_ok() { # FILE: the list --json of a node that imported a fixture
    jqt "$1" "length == 3" &&
        jqt "$1" "map(select(.id_number == \"$ID1\"))[0] | .name == \"韦小宝\" and .gender == \"male\" and .birth_date == \"1985-03-07\" and .disability_category == \"physical\" and .disability_grade == 2" &&
        jqt "$1" "map(select(.id_number == \"$ID2\"))[0] | .name == \"覃美玲\" and .gender == \"female\" and .birth_date == \"1980-03-13\" and .disability_category == \"visual\" and .registered_on == \"2024-05-02\"" &&
        jqt "$1" "map(select(.id_number == \"$ID3\"))[0] | .name == \"莫 志 强\" and .birth_date == \"1985-03-07\" and .disability_category == \"hearing\""
}

echo "-- 1. fixtures as Excel and WPS save them"

fresh a
on a import person "$DATA/excel_utf8_bom.csv"
expect "UTF-8 BOM, CRLF, a remark column: refused naming it and the valid columns" \
    rc=3 out-empty \
    "err=wings: line 1: column '备注' is not a field of person; the columns are id, name, gender, birth_date, id_number, disability_category, disability_grade, certificate_no, county, township, phone, rural, registered_on, certificate_valid_until (or their titles: 记录编号, 姓名, 性别, 出生日期, 身份证号, 残疾类别, 残疾等级, 残疾证号, 县区代码, 乡镇, 联系电话, 农村户籍, 登记日期, 残疾证有效期至); remove it or add --ignore-column '备注'"
on a --json list person
expect "... and nothing was written" rc=0 "out=[]"
on a import person "$DATA/excel_utf8_bom.csv" --ignore-column 备注
expect "--ignore-column 备注: the three rows (one with a two-line cell) imported" \
    rc=0 "out=imported 3 person rows"
snapshot a a.json
check "Chinese titles, enum labels and Excel's dates 1985/3/7, 1980-3-13, 1985年3月7日 read" \
    persons_ok "$T/a.json"
check "... registration dates 2024/5/1 made 2024-05-01, landlines kept" \
    jqt "$T/a.json" "map(select(.id_number == \"$ID1\"))[0] | .registered_on == \"2024-05-01\" and .phone == \"0772-8610000\""

fresh b
on b --json import person "$DATA/excel_gb18030.csv"
expect "GB18030 CSV (Excel's ANSI save on Chinese Windows): detected and imported" \
    rc=0 'out={"written":3,"skipped":0,"added":3,"updated":0,"unchanged":0,"encoding":"gb18030"}'
snapshot b b.json
check "... the same persons as from the UTF-8 file" persons_ok "$T/b.json"
fresh b2
on b2 import person "$DATA/excel_gb18030.csv" --encoding utf-8
expect "GB18030 read as --encoding utf-8: its titles are no columns, shown escaped" \
    rc=3 out-empty "err:wings: line 1: columns '\xd0\xd5\xc3\xfb', " "err: are not fields of person; "
on b2 import person "$DATA/excel_gb18030.csv" --encoding gb18030
expect "--encoding gb18030 reads it" rc=0 "out=imported 3 person rows"
on b2 import person "$DATA/excel_utf8_bom.csv" --encoding latin1
expect "--encoding with an unknown name: usage error" rc=2

fresh c
on c import person "$DATA/excel_mangled_id.csv"
expect "an id number Excel made 4.50226E+17: refused saying how to keep it as text" \
    rc=3 out-empty \
    "err=wings: line 2: id_number: '4.50226E+17' is a number the spreadsheet made of the id number, its last digits lost: format the column as Text (设置单元格格式 > 文本) and enter the numbers again
wings: 1 of 3 rows of '$DATA/excel_mangled_id.csv' failed validation; nothing was written (fix them, or use --skip-invalid)"
on c --json list person
expect "... nothing written" rc=0 "out=[]"
on c import person "$DATA/wps_trailing_space.csv"
expect "id numbers with a trailing space and a full-width space: trimmed, imported" \
    rc=0 "out=imported 3 person rows"
snapshot c c.json
check "... stored without the spaces" persons_ok "$T/c.json"

fresh d
on d import person "$DATA/openpyxl_persons.xlsx"
expect ".xlsx from a Debian-packaged writer (openpyxl): imported" \
    rc=0 "out=imported 3 person rows"
snapshot d d.json
check "... date cells in yyyy/m/d and yyyy年m月d日 formats read as dates" \
    jqt "$T/d.json" "map(select(.id_number == \"$ID2\"))[0] | .birth_date == \"1980-03-13\" and .registered_on == \"2024-05-02\" and .phone == \"13812345671\" and .disability_grade == 1"
check "... titles and labels read" persons_ok "$T/d.json"
fresh d2
on d2 import person "$DATA/openpyxl_number_id.xlsx"
expect ".xlsx holding an id number as a number: refused with the fix" \
    rc=3 out-empty "err:wings: line 2: id_number: '4.502261985030712e+17' is a number the spreadsheet made of the id number" \
    "err:format the column as Text"
printf 'PK\003\004 not really a zip' >"$T/fake.xlsx"
on d2 import person "$T/fake.xlsx"
expect "a broken .xlsx: one line, exit 3" rc=3 out-empty "err:wings: '$T/fake.xlsx' is not an .xlsx workbook"

on d2 import person "$DATA/zip_bomb.xlsx"
expect "a zip bomb (80 MiB from 80 KiB): stopped at the 64 MiB bound, one line" \
    rc=3 out-empty "err=wings: part xl/worksheets/sheet1.xml inflates to more than 64 MiB"

echo "-- 2. the same file twice writes nothing"
for n in a b d; do
    f=$([[ $n == a ]] && echo excel_utf8_bom.csv || { [[ $n == b ]] && echo excel_gb18030.csv || echo openpyxl_persons.xlsx; })
    on $n --json status
    before=$(jq -c '.changes' "$T/out")
    on $n export person --out "$T/$n-export.csv"
    on $n import person "$T/$n-export.csv"
    expect "$n: its own export imported again: every row unchanged" \
        rc=0 "out=imported 0 person rows; 3 unchanged (already held)"
    on $n --json status
    check "$n: ... and no change was written (changes still $before)" \
        jqt "$T/out" ".changes == $before"
done
on b --json status
before=$(jq -c '.changes' "$T/out")
on b import person "$DATA/excel_gb18030.csv"
expect "a file without ids imported twice: rows found by id number, unchanged" \
    rc=0 "out=imported 0 person rows; 3 unchanged (already held)"
on a import person "$DATA/openpyxl_persons.xlsx"
expect "the same persons from another file (.xlsx, other phones): refused naming them" \
    rc=3 "err:wings: line 2: id: this node holds person " "err:with other values; use --update to apply the file's"
on b --json status
check "... and nothing was written (changes still $before)" jqt "$T/out" ".changes == $before"
P1=$(jq -r ".[] | select(.id_number == \"$ID1\") | .id" "$T/b.json")
on b add person name=别人 id_number=$ID1 disability_category=physical
expect "add of an id number this node holds: refused naming the record" \
    rc=3 "err=wings: id_number: $ID1 is already registered here as person $P1"
P2=$(jq -r ".[] | select(.id_number == \"$ID2\") | .id" "$T/b.json")
on b update person "$P2" id_number=$ID1 gender=male birth_date=1985-03-07
expect "update to an id number another person has: refused naming it" \
    rc=3 "err=wings: id_number: $ID1 is already registered here as person $P1"

echo "-- 3. export -> edit -> import --update"
fresh e
on e import person "$DATA/excel_utf8_bom.csv" --ignore-column 备注
on e export person --excel --out "$T/e.csv"
expect "export --excel" rc=0 "out=exported 3 person rows to $T/e.csv"
check "--excel: UTF-8 BOM" bash -c "head -c 3 '$T/e.csv' | od -An -tx1 | grep -q 'ef bb bf'"
check "--excel: CRLF line ends" bash -c "[[ \$(grep -c \$'\\r\$' '$T/e.csv') == 4 ]]"
check "--excel: Chinese column titles" grep -q "^.*记录编号,姓名,性别,出生日期,身份证号" "$T/e.csv"
check "--excel: id numbers kept as text (a tab before them)" grep -qF $'\t'"$ID1" "$T/e.csv"
check "--excel: enum labels in Chinese" grep -qF ",男,1985-03-07," "$T/e.csv"
sed -i "s/0772-8610001/0772-8619999/; s/,视力,1,/,视力,2,/" "$T/e.csv"
on e import person "$T/e.csv"
expect "an edited export without --update: refused, nothing written" \
    rc=3 "err:id: this node holds person " "err:with other values; use --update to apply the file's"
on e import person "$T/e.csv" --update
expect "--update: the edited row applied, the others unchanged" \
    rc=0 "out=imported 1 person rows; 1 of them updates; 2 unchanged (already held)"
on e --json list person
check "... the new phone and grade are stored" \
    jqt "$T/out" "map(select(.id_number == \"$ID2\"))[0] | .phone == \"0772-8619999\" and .disability_grade == 2"
on e import person "$T/e.csv" --update
expect "--update again: nothing to do" rc=0 "out=imported 0 person rows; 3 unchanged (already held)"
on e export person --out "$T/e.xlsx"
expect "export to .xlsx" rc=0 "out=exported 3 person rows to $T/e.xlsx"
fresh e2
on e2 import person "$T/e.xlsx"
expect "the .xlsx export imported on another node" rc=0 "out=imported 3 person rows"
on e --json list person
cp "$T/out" "$T/e.json"
on e2 --json list person
check "... list --json byte-identical to the exporting node's" cmp -s "$T/out" "$T/e.json"

echo "-- 4. cells that cannot run or steer"
fresh f
FORMULA='=HYPERLINK("http://evil.example","点击")'
ESC=$'韦\xc2\x9b31m红\xe2\x80\xae字'
on f add person "name=$FORMULA" id_number=11010519491231002X disability_category=physical \
    'township=@SUM(A1)' certificate_no=-2+3 county=$COUNTY
expect "a person whose cells look like formulas is a valid record" rc=0
on f add person "name=$ESC" id_number=$ID1 disability_category=visual "township=+1" county=$COUNTY
expect "a name with an 8-bit CSI and a right-to-left override is a valid record" rc=0
on f export person --out "$T/f.csv"
check "export: =, @, - and + cells start with an apostrophe" bash -c \
    "grep -qF \"'=HYPERLINK\" '$T/f.csv' && grep -qF \",'@SUM(A1),\" '$T/f.csv' && grep -qF \",'-2+3,\" '$T/f.csv' && grep -qF \",'+1,\" '$T/f.csv'"
check "export: no cell starts with a bare =, +, - or @" bash -c \
    "! grep -qE '(^|,)\"?[=+@-]' '$T/f.csv'"
on f export person --excel --out "$T/fx.csv"
check "export --excel: the same" bash -c \
    "grep -qF \"'=HYPERLINK\" '$T/fx.csv' && ! grep -qE '(^|,)\"?[=+@-]' '$T/fx.csv'"
on f list person --csv
check "list --csv: the same" bash -c \
    "grep -qF \"'=HYPERLINK\" '$T/out' && ! grep -qE '(^|,)\"?[=+@-]' '$T/out'"
on f export person --out "$T/f.xlsx"
unzip -p "$T/f.xlsx" xl/worksheets/sheet1.xml >"$T/sheet.xml"
unzip -p "$T/f.xlsx" xl/sharedStrings.xml >"$T/strings.xml"
check ".xlsx: no formula anywhere, every text a shared string" bash -c \
    "! grep -q '<f>' '$T/sheet.xml' && ! grep -q '<f ' '$T/sheet.xml' && grep -qF '<t>=HYPERLINK(' '$T/strings.xml'"
check ".xlsx: cells in the Text format (numFmtId 49)" bash -c \
    "unzip -p '$T/f.xlsx' xl/styles.xml | grep -q 'numFmtId=\"49\"'"
fresh f2
for x in f.csv fx.csv f.xlsx; do
    on f2 import person "$T/$x"
    on f2 --json list person
    cp "$T/out" "$T/f2.json"
    on f --json list person
    check "$x imported elsewhere gives back each value exactly" cmp -s "$T/out" "$T/f2.json"
    rm -rf "$T/f2"
    fresh f2
done
on f list person
check "terminal table: the CSI and the override shown as \\x9b and \\u202e" \
    grep -qF '韦\x9b31m红\u202e字' "$T/out"
check "terminal table: no raw C1 control or bidi override byte" bash -c \
    "! grep -qP '\\xc2[\\x80-\\x9f]|\\xe2\\x80[\\xaa-\\xae]' '$T/out'"
on f --json list person
ESC_ID=$(jq -r ".[] | select(.id_number == \"$ID1\") | .id" "$T/out")
on f get person "$ESC_ID"
check "get: the same" grep -qF '韦\x9b31m红\u202e字' "$T/out"
on f --json list person
check "--json: valid UTF-8 JSON, C1 and override escaped" bash -c \
    "jq -e . '$T/out' >/dev/null && grep -qF '\\u009b31m' '$T/out' && grep -qF '\\u202e' '$T/out' && iconv -f utf-8 -t utf-8 '$T/out' >/dev/null"

echo "-- 5. the checks a clerk expects"
fresh g
P=(id_number=$ID1 disability_category=physical)
on g add person "name=   " "${P[@]}"
expect "a name of spaces only" rc=3 "err=wings: name: blank (only spaces): leave it empty or write a value"
on g add person name=韦小宝 "${P[@]}" phone=abc
expect "phone=abc" rc=3 "err=wings: phone: 'abc' is not a phone number: a mobile is 11 digits from 13 to 19 (13812345678), a landline its area code and number (0772-2812345 or 07722812345, an extension after '-')"
on g add person name=韦小宝 "${P[@]}" registered_on=2030-01-01
expect "registered_on in the future" rc=3 "err=wings: registered_on: 2030-01-01 is in the future (today is $(date +%F))"
on g add person name=韦小宝 "${P[@]}" gender=female
expect "a gender the id number's 17th digit contradicts" rc=3 \
    "err=wings: gender: female does not match the id number, whose 17th digit 3 is odd (male)"
on g add person name=韦小宝 "${P[@]}" hukou=农村
expect "an unknown field lists the fields" rc=3 \
    "err=wings: hukou: no such field in person (fields: name, gender, birth_date, id_number, disability_category, disability_grade, certificate_no, county, township, phone, rural, registered_on, certificate_valid_until)"
on g add person name=韦小宝 id_number=$ID1 disability_category=blind
expect "an enum names the allowed values" rc=3 \
    "err=wings: disability_category: 'blind' is not one of physical, visual, hearing, speech, intellectual, mental, multiple"
on g --json list person
expect "... none of them wrote anything" rc=0 "out=[]"
on g --json add person "name=  韦小宝 " "${P[@]}" gender=male phone=0772-2812345
expect "a valid person with spaces around the name" rc=0
check "... name trimmed, birth_date taken from the id number" \
    jqt "$T/out" '.name == "韦小宝" and .birth_date == "1985-03-07" and .phone == "0772-2812345"'

echo "-- 6. help add, sync with no peers, Chinese node names"
run "$W" help add person
check "help add person: every field with type, required or not, allowed values" bash -c \
    "grep -qE '^  name +text, at most 200 bytes, required +\\[姓名\\]' '$T/out' && grep -qF 'one of male (男), female (女)  [性别]' '$T/out' && grep -qE '^  phone +phone  \\[联系电话\\]' '$T/out' && grep -qF 'a mobile (13812345678) or landline (0772-2812345) number' '$T/out' && [[ \$(grep -cE '^  [a-z_]+  ' '$T/out') == 13 ]]"
run "$W" help add nosuch
expect "help add of an unknown table: exit 5" rc=5
on g sync
expect "sync with no peers: says so, exit 6" rc=6 out-empty \
    "err=wings: no peers to sync with: add one with 'wings peer add NAME KEY ENDPOINT'"
rm -rf "$T/sj"
on sj init --name 三江 --county $COUNTY --kdf test
expect "a node may be named 三江" rc=0 "out:三江 "
KEY=$(awk '{print $2}' "$T/out")
on g peer add 融水办 "$KEY" tcp://127.0.0.1:7401
expect "a peer may be named 融水办" rc=0
on g --json peer list
check "... and is listed by that name" jqt "$T/out" '.[0].name == "融水办"'

lib_finish
