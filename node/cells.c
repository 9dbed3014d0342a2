/*
 * cells.c - making record text safe where it lands: spreadsheet cells,
 * terminals and JSON
 *
 * Records arrive from peers as well as from this node's clerks, so any text
 * may hold what a spreadsheet would run as a formula, what a terminal would
 * obey as an escape sequence, or bytes that are not UTF-8. Every writer of
 * records for people or spreadsheets passes its text through here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg_node.h"
#include "wg_validate.h"

/*
 * Formula cells (OWASP, "CSV Injection"): a cell whose first character is
 * = + - @, a tab or a carriage return may be run by Excel, WPS or
 * LibreOffice as a formula. Such a cell is written with a leading
 * apostrophe, which every spreadsheet shows as text. An apostrophe already
 * leading a value is doubled the same way, so import can take exactly one
 * leading apostrophe off every cell and get each value back as it was.
 */
int wg_cell_needs_quote(const char *v)
{
    return v && v[0] && strchr("=+-@\t\r'", v[0]) != NULL;
}

char *wg_cell_escape(const char *v)
{
    if (!wg_cell_needs_quote(v))
        return NULL;
    size_t n = strlen(v);
    char *s = wg_xmalloc(n + 2);
    s[0] = '\'';
    memcpy(s + 1, v, n + 1);
    return s;
}

const char *wg_cell_unescape(const char *v)
{
    return v[0] == '\'' ? v + 1 : v;
}

/* The code point of the well-formed UTF-8 character of length N at P. */
static unsigned code_point(const unsigned char *p, size_t n)
{
    static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
    unsigned cp = p[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3f);
    return cp;
}

/* A character a terminal obeys or reorders text by, rather than shows:
 * C0 controls, DEL, C1 controls (U+0080-U+009F, 8-bit CSI among them), and
 * the bidirectional overrides and isolates that make text read backwards. */
static int term_control(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *wg_term_safe(const char *s)
{
    if (!s)
        return wg_xstrdup("");
    size_t n = strlen(s), o = 0;
    char *out = wg_xmalloc(n * 6 + 1); /* \uXXXX is the widest: 6 per byte */
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t k = wg_validate_utf8_char((const char *)p);
        if (k == 0) {
            o += (size_t)sprintf(out + o, "\\x%02x", *p);
            p++;
            continue;
        }
        unsigned cp = code_point(p, k);
        if (term_control(cp)) {
            if (cp < 0x100)
                o += (size_t)sprintf(out + o, "\\x%02x", cp);
            else
                o += (size_t)sprintf(out + o, "\\u%04x", cp);
        } else {
            memcpy(out + o, p, k);
            o += k;
        }
        p += k;
    }
    out[o] = '\0';
    return out;
}

void wg_term_put(FILE *out, const char *s)
{
    char *safe = wg_term_safe(s);
    fputs(safe, out);
    free(safe);
}
