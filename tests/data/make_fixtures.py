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
