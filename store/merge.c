/*
 * merge.c - per-field last-writer-wins, and the record rows it writes
 *
 * Each record table is a rowid table: `n` (the row number, node-local, in
 * order of arrival, so rows pack densely and indexes carry a small integer),
 * `id` (the record id, UNIQUE), the fields, `deleted`, `clocks` and `chg`.
 * `clocks` holds, for every field (and `deleted`, last), the (hlc, origin)
 * of the change that wrote it, u64 hlc and u32 local origin number, stored
 * grouped by distinct clock (see wg_clock in store_int.h: a freshly added
 * record has one). Merge keeps a field's value when the incoming (hlc,
 * origin key) is not greater, so applying a change twice, or changes in any
 * order, ends in the same values. Ties on the clock are broken by the
 * origin's key bytes, never by values. `chg` is the key of the latest change
 * merged into the row; each change row keeps the key of the one before
 * (`prev`), which is how history finds a record's changes.
 *
 * A field this build does not know (a newer schema's) is left out of the
 * merge; the change is kept whole in its feed (feed.c lists it in
 * `unmerged`) and merged by the upgrade that teaches the build the field.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- row statements ------------------------------------------------------- */

/* The cached statement of kind K for table TNO:
 *   ROW_GET   SELECT id, fields..., deleted, clocks, n, chg FROM t
 *             WHERE id = ?1
 *   ROW_PUT   INSERT INTO t(id, fields..., deleted, clocks, chg)
 *             VALUES(?1, ...)
 *   ROW_UPD   UPDATE t SET fields... = ?2.., deleted, clocks, chg WHERE n = ?1
 *   ROW_LINK  UPDATE t SET chg = ?2 WHERE n = ?1 */
wg_rc wg_store__row_stmt(wg_store *st, uint8_t tno, int k,
                        sqlite3_stmt **out, wg_err *err)
{
    sqlite3_stmt **slot = &st->s_row[k][tno];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        *out = *slot;
        return WG_OK;
    }
    const wg_table *t = wg_schema_by_wire(tno);
    int nf = t->nfields;
    wg_buf b;
    wg_buf_init(&b, 8192);
    wg_rc rc;
    if (k == ROW_PUT) {
        rc = wg_buf_printf(&b, err, "INSERT INTO %s(id", t->name);
        for (int i = 0; rc == WG_OK && i < nf; i++)
            rc = wg_buf_printf(&b, err, ", %s", t->fields[i].name);
        if (rc == WG_OK)
            rc = wg_buf_printf(&b, err, ", deleted, clocks, chg) VALUES(?");
        for (int i = 0; rc == WG_OK && i < nf + 3; i++)
            rc = wg_buf_printf(&b, err, ", ?");
        if (rc == WG_OK)
            rc = wg_buf_printf(&b, err, ")");
    } else if (k == ROW_UPD) {
        rc = wg_buf_printf(&b, err, "UPDATE %s SET", t->name);
        for (int i = 0; rc == WG_OK && i < nf; i++)
            rc = wg_buf_printf(&b, err, " %s = ?%d,", t->fields[i].name, i + 2);
        if (rc == WG_OK)
            rc = wg_buf_printf(&b, err, " deleted = ?%d, clocks = ?%d, "
                               "chg = ?%d WHERE n = ?1", nf + 2, nf + 3,
                               nf + 4);
    } else if (k == ROW_LINK) {
        rc = wg_buf_printf(&b, err, "UPDATE %s SET chg = ?2 WHERE n = ?1",
                           t->name);
    } else {
        rc = wg_buf_printf(&b, err, "SELECT id");
        for (int i = 0; rc == WG_OK && i < nf; i++)
            rc = wg_buf_printf(&b, err, ", %s", t->fields[i].name);
        if (rc == WG_OK)
            rc = wg_buf_printf(&b, err, ", deleted, clocks, n, chg FROM %s "
                               "WHERE id = ?", t->name);
    }
    if (rc == WG_OK)
        rc = wg_buf_cstr(&b, err);
    if (rc == WG_OK)
        rc = wg_store__prepare(st, (const char *)b.data, slot, err);
    wg_buf_release(&b);
    *out = *slot;
    return rc;
}

/* ---- merge ------------------------------------------------------------------ */

wg_rc wg_store__clocks_decode(const uint8_t *p, size_t n, int nslots,
                              wg_clock *out, wg_err *err)
{
    size_t mb = WG_CLOCK_MASK(nslots), esz = 12 + mb;
    memset(out, 0, (size_t)nslots * sizeof *out);
    if (n % esz || n / esz > (size_t)nslots)
        return wg_err_set(err, WG_ERR_CORRUPT, "malformed clocks");
    uint32_t seen = 0;
    for (; n; n -= esz, p += esz) {
        uint64_t hlc = wg_get_u64be(p);
        uint32_t oid = wg_get_u32be(p + 8), mask = 0;
        for (size_t i = 0; i < mb; i++)
            mask |= (uint32_t)p[12 + i] << (8 * i);
        if (!mask || (mask & seen) || (mask >> nslots) ||
            (hlc == 0 && oid == 0))
            return wg_err_set(err, WG_ERR_CORRUPT, "malformed clocks");
        seen |= mask;
        for (int i = 0; i < nslots; i++)
            if (mask & (1u << i)) {
                out[i].hlc = hlc;
                out[i].oid = oid;
            }
    }
    return WG_OK;
}

size_t wg_store__clocks_encode(const wg_clock *v, int nslots, uint8_t *out)
{
    size_t mb = WG_CLOCK_MASK(nslots), len = 0;
    uint32_t done = 0;
    for (int i = 0; i < nslots; i++) {
        if ((done & (1u << i)) || (v[i].hlc == 0 && v[i].oid == 0))
            continue;
        uint32_t mask = 0;
        for (int j = i; j < nslots; j++)
            if (v[j].hlc == v[i].hlc && v[j].oid == v[i].oid)
                mask |= 1u << j;
        done |= mask;
        wg_put_u64be(out + len, v[i].hlc);
        wg_put_u32be(out + len + 8, v[i].oid);
        for (size_t k = 0; k < mb; k++)
            out[len + 12 + k] = (uint8_t)(mask >> (8 * k));
        len += 12 + mb;
    }
    return len;
}

static int wins(wg_store *st, uint64_t hlc, uint32_t oid, uint64_t cur_hlc,
                uint32_t cur_oid)
{
    if (cur_hlc == 0 && cur_oid == 0)
        return 1;
    if (hlc != cur_hlc)
        return hlc > cur_hlc;
    if (oid == cur_oid)
        return 0;
    if (cur_oid >= st->nokeys || oid >= st->nokeys)
        return oid > cur_oid; /* unreachable: every oid is cached */
    return memcmp(st->okeys[oid], st->okeys[cur_oid], WG_SIGN_PK_BYTES) > 0;
}

static void bind_field(sqlite3_stmt *s, int col, const wg_change_field *f)
{
    if (f->type == WG_VAL_TEXT)
        sqlite3_bind_text(s, col, f->text, f->len, SQLITE_STATIC);
    else if (f->type == WG_VAL_INT)
        sqlite3_bind_int64(s, col, f->i);
    else
        sqlite3_bind_null(s, col);
}

/* A bulk load holds T's live unique values in memory (bulk.c): tell it
 * what the row written now holds, against what it held (VALS, if FOUND). */
static void bulk_note(wg_store *st, const wg_table *t, const char *id,
                      const wg_change *c, const int *won,
                      sqlite3_value *const *vals, int found)
{
    int nf = t->nfields;
    int old_del = !found || (vals[nf] && sqlite3_value_int64(vals[nf]) != 0);
    int new_del = old_del && found;
    if (won[nf]) {
        const wg_change_field *d = &c->fields[won[nf] - 1];
        new_del = d->type == WG_VAL_INT && d->i != 0;
    }
    for (int f = 0; f < nf; f++) {
        if (!t->fields[f].unique)
            continue;
        char buf[WG_FIELD_MAX_BYTES + 1];
        const char *old = NULL, *now = NULL;
        if (found && vals[f] && sqlite3_value_type(vals[f]) == SQLITE_TEXT)
            old = (const char *)sqlite3_value_text(vals[f]);
        now = old;
        if (won[f]) {
            const wg_change_field *v = &c->fields[won[f] - 1];
            now = NULL;
            if (v->type == WG_VAL_TEXT && v->len < sizeof buf) {
                memcpy(buf, v->text, v->len);
                buf[v->len] = '\0';
                now = buf;
            }
        }
        wg_store__bulk_moved(st, t, f, id, old_del ? NULL : old,
                             new_del ? NULL : now);
    }
}

wg_rc wg_store__merge(wg_store *st, const wg_change *c, uint32_t oid,
                      int fresh, int64_t k, int64_t *prev, wg_err *err)
{
    const wg_table *t = wg_schema_by_wire(c->table);
    *prev = 0;
    st->miss_ok = 0;   /* a row may change: see wg_store_find_unique() */
    if (!t)
        return WG_OK; /* a newer schema's table: kept, merged on upgrade */
    int nf = t->nfields;
    sqlite3_stmt *get, *put;
    wg_rc rc = WG_OK;
    int r, found = 0;
    int64_t n = 0;
    sqlite3_value *vals[WG_MAX_FIELDS + 1] = { 0 };
    wg_clock clocks[WG_MAX_FIELDS + 1];
    uint8_t enc[WG_CLOCKS_MAX];
    char id[WG_ID_HEX_CHARS + 1];
    wg_hex_encode(id, c->rowid, WG_ROWID_BYTES);
    memset(clocks, 0, sizeof clocks);

again:
    if (!fresh) {
        if ((rc = wg_store__row_stmt(st, c->table, ROW_GET, &get, err)))
            return rc;
        sqlite3_bind_text(get, 1, id, WG_ID_HEX_CHARS, SQLITE_STATIC);
        r = sqlite3_step(get);
        if (r == SQLITE_ROW) {
            found = 1;
            if (wg_store__clocks_decode(sqlite3_column_blob(get, nf + 2),
                                        (size_t)sqlite3_column_bytes(get,
                                                                     nf + 2),
                                        nf + 1, clocks, NULL)) {
                sqlite3_reset(get);
                return wg_err_set(err, WG_ERR_CORRUPT,
                                  "record %s has malformed clocks", id);
            }
            n = sqlite3_column_int64(get, nf + 3);
            *prev = sqlite3_column_int64(get, nf + 4);
            for (int i = 0; i <= nf; i++)
                vals[i] = sqlite3_value_dup(sqlite3_column_value(get, i + 1));
        } else if (r != SQLITE_DONE) {
            sqlite3_reset(get);
            return wg_store__sqlerr(st, r, "reading a record", err);
        }
        sqlite3_reset(get);
    }

    /* A record belongs to the partition it was created in, for ever: a
     * change under another partition, or one writing another county into
     * the partition field, is refused (typed, imported or received). */
    int pf = wg_schema_partition(t);
    for (int i = 0; pf >= 0 && i < c->nfields; i++) {
        const wg_change_field *f = &c->fields[i];
        if (f->index == pf &&
            (f->type != WG_VAL_TEXT || f->len != strlen(c->partition) ||
             memcmp(f->text, c->partition, f->len))) {
            rc = wg_err_set(err, oid == st->self_oid ? WG_ERR_INVALID
                                                      : WG_ERR_AUTH,
                            "record %s: its %s must stay %s, the partition "
                            "it was written in", id, t->fields[pf].name,
                            c->partition);
            goto out;
        }
    }
    if (found && pf >= 0 && vals[pf] &&
        sqlite3_value_type(vals[pf]) == SQLITE_TEXT &&
        strcmp((const char *)sqlite3_value_text(vals[pf]), c->partition)) {
        rc = wg_err_set(err, oid == st->self_oid ? WG_ERR_INVALID
                                                  : WG_ERR_AUTH,
                        "record %s belongs to partition %s for ever: a change "
                        "to it under %s is refused", id,
                        (const char *)sqlite3_value_text(vals[pf]),
                        c->partition);
        goto out;
    }

    /* A write whose base is not what this node holds for the field may
     * be a concurrent edit: recounted once the row is written. */
    int recount = found && t->user &&
                  wg_store__ow_mismatch(st, t, c, clocks);
    /* Decide per field; remember which of the change's fields won. */
    int won[WG_MAX_FIELDS + 1] = { 0 }, any = 0;
    for (int i = 0; i < c->nfields; i++) {
        const wg_change_field *f = &c->fields[i];
        if (f->index != WG_FIELD_DELETED && f->index >= nf)
            continue; /* a newer schema's field: merged on upgrade */
        int idx = f->index == WG_FIELD_DELETED ? nf : f->index;
        if (wins(st, c->hlc, oid, clocks[idx].hlc, clocks[idx].oid)) {
            clocks[idx].hlc = c->hlc;
            clocks[idx].oid = oid;
            won[idx] = i + 1;
            any = 1;
        }
    }
    size_t clen = wg_store__clocks_encode(clocks, nf + 1, enc);
    wg_rpt_note note;   /* the report's aggregates follow the write */
    if (any && (rc = wg_store__report_before(st, t, id, !found, &note, err)))
        goto out;
    if (!found) {
        /* A new row: every field of the change won against nothing. */
        if ((rc = wg_store__row_stmt(st, c->table, ROW_PUT, &put, err)))
            goto out;
        sqlite3_bind_text(put, 1, id, WG_ID_HEX_CHARS, SQLITE_STATIC);
        for (int idx = 0; idx <= nf; idx++) {
            if (won[idx])
                bind_field(put, idx + 2, &c->fields[won[idx] - 1]);
            else if (idx == nf)
                sqlite3_bind_int(put, idx + 2, 0);
        }
        sqlite3_bind_blob(put, nf + 3, enc, (int)clen, SQLITE_STATIC);
        sqlite3_bind_int64(put, nf + 4, k);
        r = sqlite3_step(put);
        sqlite3_reset(put);
        if (r == SQLITE_CONSTRAINT_UNIQUE && fresh) {
            /* Not new after all: merge into the row that is there. */
            fresh = 0;
            memset(clocks, 0, sizeof clocks);
            goto again;
        }
        if (r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "writing a record", err);
        else if (any)
            rc = wg_store__report_after_new(st, &note, t, c,
                                            fresh == WG_FRESH_NEW_ID, err);
        if (rc == WG_OK && st->bulk_live)
            bulk_note(st, t, id, c, won, vals, 0);
        goto out;
    }
    /* The row remembers this change as its latest even when no field won,
     * so history finds it; a change merged again (K == 0) keeps the chain
     * as it is. */
    int64_t link = k ? k : *prev;
    if (!any && !k)
        goto written;
    rc = wg_store__row_stmt(st, c->table, any ? ROW_UPD : ROW_LINK, &put, err);
    if (rc == WG_OK) {
        sqlite3_bind_int64(put, 1, n);
        if (any) {
            for (int idx = 0; idx <= nf; idx++) {
                int col = idx + 2;
                if (won[idx])
                    bind_field(put, col, &c->fields[won[idx] - 1]);
                else if (vals[idx])
                    sqlite3_bind_value(put, col, vals[idx]);
                else if (idx == nf)
                    sqlite3_bind_int(put, col, 0);
            }
            sqlite3_bind_blob(put, nf + 3, enc, (int)clen, SQLITE_STATIC);
            sqlite3_bind_int64(put, nf + 4, link);
        } else {
            sqlite3_bind_int64(put, 2, k);
        }
        r = sqlite3_step(put);
        sqlite3_reset(put);
        if (r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "writing a record", err);
        else if (any)
            rc = wg_store__report_after(st, &note, err);
        if (rc == WG_OK && any && st->bulk_live)
            bulk_note(st, t, id, c, won, vals, 1);
    }
written:
    /* Concurrent edits: recounted from the record's changes (its chain
     * before this one, and this one) when a base differs from what was
     * held, or when the record has some listed already. */
    if (rc == WG_OK && found && t->user && !recount &&
        wg_schema_meta(t, "base_clocks") >= 0) {
        for (int i = 0; i < c->nfields; i++)
            if (c->fields[i].index == wg_schema_meta(t, "base_clocks")) {
                rc = wg_store__ow_listed(st, t, id, &recount, err);
                break;
            }
    }
    if (rc == WG_OK && recount)
        rc = wg_store__ow_recount(st, t, id, c, *prev, err);
out:
    for (int i = 0; i <= nf; i++)
        sqlite3_value_free(vals[i]);
    return rc;
}
