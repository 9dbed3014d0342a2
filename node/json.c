/*
 * json.c - writing JSON strings
 *
 * Output is always valid UTF-8 JSON, whatever the bytes: records from
 * peers are not checked on arrival, so a byte that does not begin a
 * well-formed UTF-8 character is written as U+FFFD.
 */
#include <stdio.h>

#include "wg_node.h"
#include "wg_validate.h"

void wg_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(f, "\\u%04x", *p);
            } else if (*p >= 0x80) {
                size_t k = wg_validate_utf8_char((const char *)p);
                unsigned cp = k == 2 ? (unsigned)(p[0] & 0x1f) << 6 |
                                           (p[1] & 0x3f)
                            : k == 3 ? (unsigned)(p[0] & 0x0f) << 12 |
                                           (unsigned)(p[1] & 0x3f) << 6 |
                                           (p[2] & 0x3f)
                                     : 0;
                if (k == 0) {
                    fputs("\\ufffd", f);
                } else if ((cp >= 0x80 && cp <= 0x9f) ||
                           (cp >= 0x202a && cp <= 0x202e) ||
                           (cp >= 0x2066 && cp <= 0x2069)) {
                    /* C1 controls and bidi overrides: escaped, so JSON
                     * shown on a terminal cannot steer it either */
                    fprintf(f, "\\u%04x", cp);
                    p += k - 1;
                } else {
                    fwrite(p, 1, k, f);
                    p += k - 1;
                }
            } else {
                fputc(*p, f);
            }
        }
    }
    fputc('"', f);
}
