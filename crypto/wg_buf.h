/*
 * wg_buf.h - a growing byte buffer with a hard maximum size
 *
 * Every buffer whose size a file or a peer can influence grows through this
 * type, so a hostile length can never make wings allocate without bound.
 */
#ifndef WG_BUF_H
#define WG_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "wg_err.h"

typedef struct wg_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;   /* appends that would pass this fail with WG_ERR_INVALID */
} wg_buf;

/* Embed and init with a maximum size; release with wg_buf_release(). */
void wg_buf_init(wg_buf *b, size_t max);
void wg_buf_release(wg_buf *b);
void wg_buf_reset(wg_buf *b);
wg_rc wg_buf_append(wg_buf *b, const void *p, size_t n, wg_err *err);
wg_rc wg_buf_append_u8(wg_buf *b, uint8_t v, wg_err *err);
wg_rc wg_buf_append_u16(wg_buf *b, uint16_t v, wg_err *err);   /* big-endian */
wg_rc wg_buf_append_u32(wg_buf *b, uint32_t v, wg_err *err);   /* big-endian */
wg_rc wg_buf_append_u64(wg_buf *b, uint64_t v, wg_err *err);   /* big-endian */
wg_rc wg_buf_printf(wg_buf *b, wg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* NUL-terminates without counting the NUL in len. */
wg_rc wg_buf_cstr(wg_buf *b, wg_err *err);

/* A bounds-checked reader over borrowed bytes. Every get fails (and sets the
 * sticky `bad` flag) rather than read past the end. */
typedef struct wg_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int bad;
} wg_reader;

void wg_reader_init(wg_reader *r, const void *p, size_t len);
int wg_reader_u8(wg_reader *r, uint8_t *v);
int wg_reader_u16(wg_reader *r, uint16_t *v);
int wg_reader_u32(wg_reader *r, uint32_t *v);
int wg_reader_u64(wg_reader *r, uint64_t *v);
/* Borrow N bytes: *out points into the reader's input. */
int wg_reader_bytes(wg_reader *r, size_t n, const uint8_t **out);
size_t wg_reader_left(const wg_reader *r);

static inline void wg_put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}
static inline uint32_t wg_get_u32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline void wg_put_u64be(uint8_t *p, uint64_t v)
{
    wg_put_u32be(p, (uint32_t)(v >> 32));
    wg_put_u32be(p + 4, (uint32_t)v);
}
static inline uint64_t wg_get_u64be(const uint8_t *p)
{
    return ((uint64_t)wg_get_u32be(p) << 32) | wg_get_u32be(p + 4);
}

#endif
