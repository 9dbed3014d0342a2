/*
 * err.c - error records and never-failing allocation
 */
#include "wg_err.h"
#include "wg_i18n.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wg_rc wg_err_set(wg_err *err, wg_rc code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        /* In the language of the process (or of the web request in hand):
         * English until node/ binds the catalogue. */
        vsnprintf(err->msg, sizeof err->msg, _(fmt), ap);
        va_end(ap);
    }
    return code;
}

const char *wg_rc_name(wg_rc code)
{
    switch (code) {
    case WG_OK: return "ok";
    case WG_ERR_INVALID: return "invalid input";
    case WG_ERR_NOTFOUND: return "not found";
    case WG_ERR_AUTH: return "authentication failed";
    case WG_ERR_CORRUPT: return "corrupt data";
    case WG_ERR_IO: return "i/o error";
    case WG_ERR_PROTO: return "protocol error";
    case WG_ERR_PEER: return "peer failure";
    case WG_ERR_INTERNAL: return "internal error";
    case WG_ERR_EXISTS: return "already exists";
    case WG_ERR_NOSPACE: return "storage full";
    case WG_ERR_AMBIGUOUS: return "ambiguous";
    }
    return "unknown error";
}

static void oom(size_t n)
{
    fprintf(stderr, "wings: out of memory allocating %zu bytes\n", n);
    abort();
}

void *wg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *wg_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *wg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *wg_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = wg_xmalloc(n);
    memcpy(p, s, n);
    return p;
}
