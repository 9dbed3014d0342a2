/*
 * table_out.c - aligned text tables for people
 *
 * Rows are collected, then printed with each column as wide as its widest
 * cell, counting East Asian wide characters as two columns. Cells are made
 * terminal-safe as they are copied in (wg_term_safe).
 */
#include <stdlib.h>
#include <string.h>

#include "wg_node.h"

struct wg_tabout {
    int ncols;
    char **cells;      /* row-major */
    size_t nrows, cap;
    int *width;
};

/* Display width of UTF-8 text: CJK and full-width forms take two columns. */
static int text_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int len;
        if (*p < 0x80) { cp = *p; len = 1; }
        else if ((*p & 0xe0) == 0xc0) { cp = *p & 0x1f; len = 2; }
        else if ((*p & 0xf0) == 0xe0) { cp = *p & 0x0f; len = 3; }
        else { cp = *p & 0x07; len = 4; }
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) { len = i; break; }
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        p += len;
        w += (cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                               (cp >= 0xac00 && cp <= 0xd7a3) ||
                               (cp >= 0xf900 && cp <= 0xfaff) ||
                               (cp >= 0xfe30 && cp <= 0xfe4f) ||
                               (cp >= 0xff00 && cp <= 0xff60) ||
                               (cp >= 0xffe0 && cp <= 0xffe6) ||
                               (cp >= 0x20000 && cp <= 0x3fffd)))
                 ? 2 : 1;
    }
    return w;
}

wg_tabout *wg_tabout_new(int ncols)
{
    wg_tabout *t = wg_xcalloc(1, sizeof *t);
    t->ncols = ncols;
    t->width = wg_xcalloc((size_t)ncols, sizeof *t->width);
    return t;
}

void wg_tabout_row(wg_tabout *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = wg_xrealloc(t->cells, t->cap * (size_t)t->ncols *
                                             sizeof *t->cells);
    }
    for (int i = 0; i < t->ncols; i++) {
        /* Cells may come from peers: never let one steer the terminal. */
        char *c = wg_term_safe(cells[i]);
        t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = c;
        int w = text_width(c);
        if (w > t->width[i])
            t->width[i] = w;
    }
    t->nrows++;
}

void wg_tabout_print(wg_tabout *t, FILE *out)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (int i = 0; i < t->ncols; i++) {
            const char *c = t->cells[r * (size_t)t->ncols + (size_t)i];
            fputs(c, out);
            if (i + 1 < t->ncols)
                fprintf(out, "%*s", t->width[i] - text_width(c) + 2, "");
        }
        fputc('\n', out);
    }
}

void wg_tabout_destroy(wg_tabout **tp)
{
    if (!tp || !*tp)
        return;
    wg_tabout *t = *tp;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->width);
    free(t);
    *tp = NULL;
}
