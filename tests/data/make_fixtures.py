#!/usr/bin/python3
# make_fixtures.py - the spreadsheet fixtures of tests/scenario/sheets_cli.sh
#
#   /usr/bin/python3 tests/data/make_fixtures.py   (from anywhere; needs
#                                            python3-openpyxl)
#
# Writes, beside this script, files as Chinese Excel and WPS save them:
# UTF-8 with a BOM and CRLF, GB18030 (Excel's "CSV (逗号分隔)" on a Chinese
# Windows), Excel's date forms, Chinese column titles and enum labels, an id
# number Excel turned into 4.50225E+17, trailing spaces, an extra column
# with a multi-line cell, and .xlsx workbooks written by openpyxl (date
# cells, an id number stored as a number). The outputs are committed; this
# script is how they were made.
import datetime
import os

import openpyxl

HERE = os.path.dirname(os.path.abspath(__file__))
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def idnum(first17):
    s = sum(int(c) * w for c, w in zip(first17, W))
    return first17 + "10X98765432"[s % 11]


# (name, gender label, birth as Excel shows it, id, category label, grade)
# The 17th digit: odd for men, even for women.
ROWS = [
    ("韦小宝", "男", "1985/3/7", idnum("45022619850307123"), "肢体", "2"),
    ("覃美玲", "女", "1980-3-13", idnum("45022619800313124"), "视力", "1"),
    ("莫 志 强", "男", "1985年3月7日", idnum("45022619850307135"), "听力", "3"),
]
TITLES = ["姓名", "性别", "出生日期", "身份证号", "残疾类别", "残疾等级",
          "县区代码", "联系电话", "登记日期"]


def csv_rows(rows, extra=None):
    out = []
    for i, (name, g, birth, idn, cat, grade) in enumerate(rows):
        r = [name, g, birth, idn, cat, grade, "450226",
             "0772-861%04d" % i, "2024/5/%d" % (i + 1)]
        if extra:
            r.append(extra[i])
        out.append(r)
    return out


def quote(cell):
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def write_csv(name, header, rows, encoding, bom=False):
    text = "\r\n".join(",".join(quote(c) for c in r)
                       for r in [header] + rows) + "\r\n"
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# 1. Excel "CSV UTF-8": BOM, CRLF, titles, labels, Excel's dates; a remark
#    column (not a field) whose cell spans two lines.
write_csv("excel_utf8_bom.csv", TITLES + ["备注"],
          csv_rows(ROWS, ["", "住院\r\n复查", "第三行"]), "utf-8", bom=True)

# 2. Excel "CSV (逗号分隔)" on a Chinese Windows: GB18030, no BOM.
write_csv("excel_gb18030.csv", TITLES, csv_rows(ROWS), "gb18030")

# 3. An id number Excel showed as a number and saved so, and one with a
#    trailing space (and a full-width one) that only needs trimming.
mangled = csv_rows(ROWS)
mangled[0][3] = "4.50226E+17"
write_csv("excel_mangled_id.csv", TITLES, mangled, "utf-8", bom=True)
spaced = csv_rows(ROWS)
spaced[0][3] = spaced[0][3] + " "
spaced[1][3] = spaced[1][3] + "\u3000"
write_csv("wps_trailing_space.csv", TITLES, spaced, "utf-8", bom=True)

# 4. A workbook as WPS and Excel hold one: date cells (numbers in a date
#    format), text id numbers, the titles.
def workbook(name, number_id=False):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "残疾人登记"
    ws.append(TITLES)
    for i, (nm, g, birth, idn, cat, grade) in enumerate(ROWS):
        y, m, d = int(idn[6:10]), int(idn[10:12]), int(idn[12:14])
        ws.append([nm, g, datetime.datetime(y, m, d),
                   int(idn) if number_id and i == 0 else idn, cat,
                   int(grade), "450226", "1381234567%d" % i,
                   datetime.date(2024, 5, i + 1)])
        ws.cell(row=i + 2, column=3).number_format = "yyyy/m/d"
        ws.cell(row=i + 2, column=9).number_format = 'yyyy"年"m"月"d"日"'
    wb.save(os.path.join(HERE, name))


workbook("openpyxl_persons.xlsx")
workbook("openpyxl_number_id.xlsx", number_id=True)

# 5. A zip bomb: a worksheet that inflates to 80 MiB (past the reader's
#    64 MiB bound for one part) from about 80 KiB.
import zipfile

with zipfile.ZipFile(os.path.join(HERE, "zip_bomb.xlsx"), "w",
                     zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("xl/workbook.xml",
               '<workbook xmlns:r="r"><sheets><sheet r:id="rId1"/></sheets>'
               '</workbook>')
    z.writestr("xl/_rels/workbook.xml.rels",
               '<Relationships><Relationship Id="rId1" '
               'Target="worksheets/sheet1.xml"/></Relationships>')
    z.writestr("xl/worksheets/sheet1.xml",
               "<worksheet><sheetData>" + " " * (80 << 20) +
               "</sheetData></worksheet>")

# 6. A workbook written part by part, as other writers lay one out: the
#    worksheet at an absolute path, a rich-text shared string with a
#    phonetic guide (left out), an inline string, a gap (C1 after A1, row 3
#    after row 1), dates in a built-in and a 年月日 format, an id number
#    stored as a number, a boolean, a formula's cached string.
HANDMADE = {'xl/workbook.xml': '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="0"/><sheets><sheet name="a" sheetId="1" r:id="rId1"/></sheets></workbook>\n', 'xl/_rels/workbook.xml.rels': '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="x" Target="/xl/worksheets/s.xml"/></Relationships>\n', 'xl/sharedStrings.xml': '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><r><t>韦</t></r>\n<r><rPr/><t xml:space="preserve">小宝 </t></r><rPh><t>wei</t></rPh></si><si><t>name</t></si></sst>\n', 'xl/styles.xml': '<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts><numFmt numFmtId="170" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="170"/></cellXfs></styleSheet>\n', 'xl/worksheets/s.xml': '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>x</t></is></c></row><row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3" s="1"><v>31113</v></c><c r="C3" s="2"><v>45413.5</v></c><c r="D3"><v>4.50225198503071E+17</v></c><c r="E3" t="b"><v>1</v></c><c r="F3" t="str"><f>A1</f><v>name</v></c></row><row r="4"/></sheetData></worksheet>\n'}
with zipfile.ZipFile(os.path.join(HERE, "handmade.xlsx"), "w",
                     zipfile.ZIP_DEFLATED) as z:
    for name, text in HANDMADE.items():
        z.writestr(name, text)
