/*
 * benchutil.h - what the benchmark programs share beyond nodeutil.h: a
 * one-line message on the way out, and formatting into fresh memory.
 *
 * Define BU_NAME (the program's name, which begins each message) before
 * including this header.
 */
#ifndef WG_BENCHUTIL_H
#define WG_BENCHUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef BU_NAME
#error "define BU_NAME, the program's name, before including benchutil.h"
#endif

/* "BU_NAME: message" on stderr, then exit(CODE): the program's atexit
 * handlers remove what it made. */
static void bu_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void bu_die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(BU_NAME ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

/* FMT formatted into memory the caller frees; out of memory: bu_die(1). */
static char *bu_asprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *bu_asprintf(const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    if (!s)
        bu_die(1, "out of memory");
    return s;
}

#endif
