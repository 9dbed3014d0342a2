/*
 * change.c - the change codec
 *
 * Every byte of a change may come from a peer: the decoder checks each
 * length against what is left and against its bound before use.
 */
#include "wg_change.h"

#include <string.h>

const wg_table *wg_change_table(uint8_t table)
{
    switch (table) {
    case WG_TABLE_PERSON: return wg_schema_table_at(0);
    case WG_TABLE_TRAINING: return wg_schema_table_at(1);
    case WG_TABLE_PLACEMENT: return wg_schema_table_at(2);
    case WG_TABLE_AUDIT: return wg_schema_audit();
    }
    return NULL;
}

int wg_change_table_nfields(uint8_t table)
{
    const wg_table *t = wg_change_table(table);
    return t ? t->nfields : -1;
}

wg_rc wg_change_encode(const wg_change *c, wg_buf *out, wg_err *err)
{
    size_t plen = strlen(c->partition);
    int nf = wg_change_table_nfields(c->table);
    if (!wg_ident_partition_ok(c->partition, plen) || nf < 0 || c->nfields == 0 ||
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
    int nf = wg_change_table_nfields(c->table);
    if (nf < 0)
        return BAD("unknown table");
    if (!wg_reader_bytes(&r, WG_ROWID_BYTES, &b))
        return BAD("short row id");
    memcpy(c->rowid, b, WG_ROWID_BYTES);
    if (!wg_reader_u8(&r, &c->nfields) || c->nfields == 0 ||
        c->nfields > nf + 1)
        return BAD("bad field count");
    uint8_t seen[32] = { 0 };
    for (int i = 0; i < c->nfields; i++) {
        wg_change_field *f = &c->fields[i];
        if (!wg_reader_u8(&r, &f->index) || !wg_reader_u8(&r, &f->type))
            return BAD("short field");
        if (f->index >= nf && f->index != WG_FIELD_DELETED)
            return BAD("unknown field");
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
