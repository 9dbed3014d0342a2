/*
 * web_html.c - writing HTML: every value escaped, never markup
 *
 * h_text() escapes the five characters that matter in text and in quoted
 * attributes (& < > " '), so one function serves both. Control characters
 * other than tab and newline become U+FFFD: a record cannot smuggle a
 * terminal escape or a NUL into a page either.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "web_int.h"

void h_raw(wg_buf *b, const char *s)
{
    wg_buf_append(b, s, strlen(s), NULL);
}

void h_text(wg_buf *b, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        const char *rep = NULL;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case 0: break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                rep = "\xef\xbf\xbd";
        }
        if (!rep && c)
            continue;
        wg_buf_append(b, run, (size_t)(p - run), NULL);
        if (!c)
            return;
        h_raw(b, rep);
        run = p + 1;
    }
}

void h_printf(wg_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        wg_buf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n
                                                    : sizeof tmp - 1, NULL);
}

void h_url(wg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
            wg_buf_append(b, p, 1, NULL);
        } else {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            wg_buf_append(b, e, 3, NULL);
        }
    }
}
