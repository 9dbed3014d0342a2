/*
 * buf.c - bounded growing buffers and bounds-checked readers
 */
#include "wg_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wg_buf_init(wg_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void wg_buf_release(wg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void wg_buf_reset(wg_buf *b)
{
    b->len = 0;
}

static wg_rc reserve(wg_buf *b, size_t extra, wg_err *err)
{
    if (extra > b->max || b->len > b->max - extra)
        return wg_err_set(err, WG_ERR_INVALID,
                          "data too large (limit %zu bytes)", b->max);
    size_t need = b->len + extra + 1; /* room for a NUL */
    if (need <= b->cap)
        return WG_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = wg_xrealloc(b->data, cap);
    b->cap = cap;
    return WG_OK;
}

wg_rc wg_buf_append(wg_buf *b, const void *p, size_t n, wg_err *err)
{
    wg_rc rc = reserve(b, n, err);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return WG_OK;
}

wg_rc wg_buf_append_u8(wg_buf *b, uint8_t v, wg_err *err)
{
    return wg_buf_append(b, &v, 1, err);
}

wg_rc wg_buf_append_u16(wg_buf *b, uint16_t v, wg_err *err)
{
    uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return wg_buf_append(b, t, 2, err);
}

wg_rc wg_buf_append_u32(wg_buf *b, uint32_t v, wg_err *err)
{
    uint8_t t[4];
    wg_put_u32be(t, v);
    return wg_buf_append(b, t, 4, err);
}

wg_rc wg_buf_append_u64(wg_buf *b, uint64_t v, wg_err *err)
{
    uint8_t t[8];
    wg_put_u64be(t, v);
    return wg_buf_append(b, t, 8, err);
}

wg_rc wg_buf_printf(wg_buf *b, wg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return wg_err_set(err, WG_ERR_INTERNAL, "bad format");
    wg_rc rc = reserve(b, (size_t)n, err);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return WG_OK;
}

wg_rc wg_buf_cstr(wg_buf *b, wg_err *err)
{
    wg_rc rc = reserve(b, 0, err);
    if (rc)
        return rc;
    b->data[b->len] = 0;
    return WG_OK;
}

void wg_reader_init(wg_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->bad = 0;
}

size_t wg_reader_left(const wg_reader *r)
{
    return r->len - r->pos;
}

int wg_reader_bytes(wg_reader *r, size_t n, const uint8_t **out)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return 0;
    }
    *out = r->p + r->pos;
    r->pos += n;
    return 1;
}

int wg_reader_u8(wg_reader *r, uint8_t *v)
{
    const uint8_t *p;
    if (!wg_reader_bytes(r, 1, &p))
        return 0;
    *v = p[0];
    return 1;
}

int wg_reader_u16(wg_reader *r, uint16_t *v)
{
    const uint8_t *p;
    if (!wg_reader_bytes(r, 2, &p))
        return 0;
    *v = (uint16_t)((p[0] << 8) | p[1]);
    return 1;
}

int wg_reader_u32(wg_reader *r, uint32_t *v)
{
    const uint8_t *p;
    if (!wg_reader_bytes(r, 4, &p))
        return 0;
    *v = wg_get_u32be(p);
    return 1;
}

int wg_reader_u64(wg_reader *r, uint64_t *v)
{
    const uint8_t *p;
    if (!wg_reader_bytes(r, 8, &p))
        return 0;
    *v = wg_get_u64be(p);
    return 1;
}
