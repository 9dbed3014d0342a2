#!/usr/bin/env python3
"""table_strings.py - the command table's texts as a .pot

node/cli.c prints each command's summary and help through _() at run time,
but the table itself holds plain literals (no N_() markers, so the table
stays readable): this reads them out of the source for xgettext's company.

    po/table_strings.py node/cli.c > po/cli_table.pot
"""
import re
import sys

src = open(sys.argv[1], encoding="utf-8").read()
table = src[src.index("static const wg_cmd commands[]"):]
table = table[:table.index("\n};")]
out = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
seen = set()
for row in re.finditer(r'\{ "(\w+)", cmd_\w+,(.*?)(?:,\s*(?:0|1|WG_FORWARD_SELF) \},)',
                       table, re.S):
    # the row's string expressions: runs of adjacent literals, comma separated
    parts, cur = [], []
    for tok in re.finditer(r'"((?:[^"\\]|\\.)*)"|(,)', row.group(2)):
        if tok.group(2):
            if cur:
                parts.append("".join(cur))
                cur = []
        else:
            cur.append(tok.group(1))
    if cur:
        parts.append("".join(cur))
    summary, _usage, helptext = parts[0], parts[1], parts[2]
    for s in (summary, helptext):
        if s in seen:
            continue
        seen.add(s)
        out.append("#: node/cli.c (command %s)" % row.group(1))
        out.append('msgid "%s"' % s)
        out.append('msgstr ""')
        out.append("")
print("\n".join(out))
