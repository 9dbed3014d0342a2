/*
 * err.c - error records and never-failing allocation
 */
#include "wg_err.h"
#include "wg_i18n.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
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

#define HUGE_ALIGN ((size_t)2 << 20)

void *wg_huge_alloc(size_t n, int dontdump)
{
    size_t len = (n + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
    size_t span = len + HUGE_ALIGN;
    uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        oom(n);
    uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_ALIGN - 1) &
                             ~(uintptr_t)(HUGE_ALIGN - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (p + span > a + len)
        munmap(a + len, (size_t)(p + span - (a + len)));
#ifdef MADV_HUGEPAGE
    madvise(a, len, MADV_HUGEPAGE);
#endif
#ifdef MADV_DONTDUMP
    if (dontdump)
        madvise(a, len, MADV_DONTDUMP);
#else
    (void)dontdump;
#endif
    return a;
}

void wg_huge_free(void *p, size_t n)
{
    if (p)
        munmap(p, (n + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1));
}

void *wg_table_alloc(size_t count, size_t size)
{
    return count * size >= HUGE_ALIGN ? wg_huge_alloc(count * size, 0)
                                      : wg_xcalloc(count, size);
}

void wg_table_free(void *p, size_t count, size_t size)
{
    if (count * size >= HUGE_ALIGN)
        wg_huge_free(p, count * size);
    else
        free(p);
}

char *wg_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = wg_xmalloc(n);
    memcpy(p, s, n);
    return p;
}
