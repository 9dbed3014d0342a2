/*
 * fuzzutil.h - what the libFuzzer harnesses share: a check that stops the
 * run where it failed, and the round trip of a codec (what decode accepted
 * encodes back to exactly the bytes it came from).
 */
#ifndef WG_FUZZUTIL_H
#define WG_FUZZUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg_buf.h"

/* COND must hold; else a line naming the file, line and condition on
 * stderr, and abort() (libFuzzer keeps the input as a crash). */
#define FZ_CHECK(cond)                                                     \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* An encoder returned RC having written B: it must have succeeded and
 * written exactly DATA[0..SIZE), else abort(). B is released. */
static inline void fz_encodes_back(wg_rc rc, wg_buf *b, const uint8_t *data,
                                   size_t size)
{
    if (rc != WG_OK || b->len != size || memcmp(b->data, data, size) != 0)
        abort();
    wg_buf_release(b);
}

#endif
