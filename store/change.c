/*
 * change.c - the change codec, and the row form a store keeps it in
 *
 * Every byte of a change may come from a peer: the decoder checks each
 * length against what is left and against its bound before use. A change
 * of a table or field this build does not know (a newer node wrote it) is
 * decoded too, within the same bounds: the store keeps and relays it
 * unchanged and merges it once it is upgraded.
 */
#include "wg_change.h"

#include <string.h>

int wg_change_known(const wg_change *c)
{
    const wg_table *t = wg_schema_by_wire(c->table);
    if (!t)
        return 0;
    for (int i = 0; i < c->nfields; i++)
        if (c->fields[i].index != WG_FIELD_DELETED &&
            c->fields[i].index >= t->nfields)
            return 0;
    return 1;
}

wg_rc wg_change_encode(const wg_change *c, wg_buf *out, wg_err *err)
{
    size_t plen = strlen(c->partition);
    const wg_table *t = wg_schema_by_wire(c->table);
    int nf = t ? t->nfields : -1;
    if (!wg_ident_partition_ok(c->partition, plen) || nf < 0 ||
        c->nfields == 0 ||
        c->nfields > WG_MAX_FIELDS + 1 || c->seq == 0)
        return wg_err_set(err, WG_ERR_INVALID, "change out of bounds");
    wg_rc rc;
    if ((rc = wg_buf_append_u8(out, WG_CHANGE_VERSION, err)) ||
        (rc = wg_buf_append(out, c->origin, WG_SIGN_PK_BYTES, err)) ||
        (rc = wg_buf_append_u8(out, (uint8_t)plen, err)) ||
        (rc = wg_buf_append(out, c->partition, plen, err)) ||
        (rc = wg_buf_append_u64(out, c->seq, err)) ||
        (rc = wg_buf_append(out, c->prev, WG_HASH_BYTES, err)) ||
        (rc = wg_buf_append_u64(out, c->hlc, err)) ||
        (rc = wg_buf_append_u8(out, c->table, err)) ||
        (rc = wg_buf_append(out, c->rowid, WG_ROWID_BYTES, err)) ||
        (rc = wg_buf_append_u8(out, c->nfields, err)))
        return rc;
    for (int i = 0; i < c->nfields; i++) {
        const wg_change_field *f = &c->fields[i];
        if ((f->index >= nf && f->index != WG_FIELD_DELETED) ||
            f->type > WG_VAL_INT ||
            (f->type == WG_VAL_TEXT && f->len > WG_FIELD_MAX_BYTES))
            return wg_err_set(err, WG_ERR_INVALID, "change field out of bounds");
        if ((rc = wg_buf_append_u8(out, f->index, err)) ||
            (rc = wg_buf_append_u8(out, f->type, err)))
            return rc;
        if (f->type == WG_VAL_TEXT &&
            ((rc = wg_buf_append_u16(out, f->len, err)) ||
             (rc = wg_buf_append(out, f->text, f->len, err))))
            return rc;
        if (f->type == WG_VAL_INT &&
            (rc = wg_buf_append_u64(out, (uint64_t)f->i, err)))
            return rc;
    }
    return WG_OK;
}

#define BAD(why) wg_err_set(err, WG_ERR_CORRUPT, "malformed change: %s", why)

wg_rc wg_change_decode(const uint8_t *p, size_t n, wg_change *c, wg_err *err)
{
    wg_reader r;
    const uint8_t *b;
    uint8_t v, plen;
    if (n > WG_CHANGE_MAX_BYTES)
        return BAD("too long");
    wg_reader_init(&r, p, n);
    memset(c, 0, sizeof *c);
    if (!wg_reader_u8(&r, &v))
        return BAD("empty");
    if (v != WG_CHANGE_VERSION)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "change version %u not supported (this wings reads "
                          "%d)", v, WG_CHANGE_VERSION);
    if (!wg_reader_bytes(&r, WG_SIGN_PK_BYTES, &b))
        return BAD("short origin");
    memcpy(c->origin, b, WG_SIGN_PK_BYTES);
    if (!wg_reader_u8(&r, &plen) || !wg_reader_bytes(&r, plen, &b) ||
        !wg_ident_partition_ok((const char *)b, plen))
        return BAD("bad partition");
    memcpy(c->partition, b, plen);
    c->partition[plen] = 0;
    if (!wg_reader_u64(&r, &c->seq) || c->seq == 0)
        return BAD("bad seq");
    if (!wg_reader_bytes(&r, WG_HASH_BYTES, &b))
        return BAD("short prev");
    memcpy(c->prev, b, WG_HASH_BYTES);
    if (!wg_reader_u64(&r, &c->hlc) || !wg_reader_u8(&r, &c->table))
        return BAD("short header");
    if (c->table == 0 || c->table > WG_TABLE_WIRE_MAX)
        return BAD("bad table number");
    if (!wg_reader_bytes(&r, WG_ROWID_BYTES, &b))
        return BAD("short row id");
    memcpy(c->rowid, b, WG_ROWID_BYTES);
    if (!wg_reader_u8(&r, &c->nfields) || c->nfields == 0 ||
        c->nfields > WG_MAX_FIELDS + 1)
        return BAD("bad field count");
    uint8_t seen[32] = { 0 };
    for (int i = 0; i < c->nfields; i++) {
        wg_change_field *f = &c->fields[i];
        if (!wg_reader_u8(&r, &f->index) || !wg_reader_u8(&r, &f->type))
            return BAD("short field");
        if (f->index >= WG_MAX_FIELDS && f->index != WG_FIELD_DELETED)
            return BAD("bad field number");
        if (seen[f->index >> 3] & (1u << (f->index & 7)))
            return BAD("duplicate field");
        seen[f->index >> 3] |= (uint8_t)(1u << (f->index & 7));
        switch (f->type) {
        case WG_VAL_NULL:
            break;
        case WG_VAL_TEXT:
            if (!wg_reader_u16(&r, &f->len) || f->len > WG_FIELD_MAX_BYTES ||
                !wg_reader_bytes(&r, f->len, &b))
                return BAD("bad text length");
            if (memchr(b, 0, f->len))
                return BAD("NUL in text");
            f->text = (const char *)b;
            break;
        case WG_VAL_INT: {
            uint64_t u;
            if (!wg_reader_u64(&r, &u))
                return BAD("short integer");
            f->i = (int64_t)u;
            break;
        }
        default:
            return BAD("unknown value type");
        }
        if (f->index == WG_FIELD_DELETED &&
            (f->type != WG_VAL_INT || (f->i != 0 && f->i != 1)))
            return BAD("bad deleted flag");
    }
    if (wg_reader_left(&r) != 0)
        return BAD("trailing bytes");
    return WG_OK;
}

/* ---- stored rows and canonical bytes ------------------------------------ */

/* version, origin, partition length, seq, prev: all but the partition. */
#define PREFIX_FIXED (1 + WG_SIGN_PK_BYTES + 1 + 8 + WG_HASH_BYTES)

size_t wg_change_prefix_len(const uint8_t *body, size_t len)
{
    if (len < 1 + WG_SIGN_PK_BYTES + 1)
        return 0;
    size_t pl = PREFIX_FIXED + body[1 + WG_SIGN_PK_BYTES];
    return len > pl ? pl : 0;
}

size_t wg_change_rebuild(const uint8_t origin[WG_SIGN_PK_BYTES],
                              const char *part, uint64_t seq,
                              const uint8_t prev[WG_HASH_BYTES],
                              const uint8_t *tail, size_t tlen, uint8_t *out)
{
    size_t plen = strlen(part);
    if (plen > WG_PARTITION_MAX ||
        tlen > WG_CHANGE_MAX_BYTES - PREFIX_FIXED - plen)
        return 0;
    uint8_t *p = out;
    *p++ = WG_CHANGE_VERSION;
    memcpy(p, origin, WG_SIGN_PK_BYTES);
    p += WG_SIGN_PK_BYTES;
    *p++ = (uint8_t)plen;
    memcpy(p, part, plen);
    p += plen;
    wg_put_u64be(p, seq);
    p += 8;
    memcpy(p, prev, WG_HASH_BYTES);
    p += WG_HASH_BYTES;
    if (tlen)
        memcpy(p, tail, tlen);
    return (size_t)(p - out) + tlen;
}

