/*
 * records.c - the record tables: schema, local writes, merge, and reads
 *
 * Each record table is a rowid table: `n` (the row number, node-local, in
 * order of arrival, so rows pack densely and indexes carry a small integer),
 * `id` (the record id, 16 bytes, UNIQUE), the fields, `deleted`, and
 * `clocks`: for every field (and `deleted`, last) the (hlc, origin) of the
 * change that wrote it, u64 hlc and u32 local origin number, stored grouped
 * by distinct clock (see wg_clock in store_int.h: a freshly added record has
 * one). Merge keeps a field's value when the incoming (hlc, origin key) is
 * not greater, so applying a change twice, or changes in any order, ends in
 * the same values. Ties on the clock are broken by the origin's key bytes,
 * never by values. A change row keeps the row number of its record (`rn`),
 * which is how history finds a record's changes.
 *
 * Local write cycle (one per add/update/delete, inside wg_store_begin..commit):
 *
 *   validate --> build change --> merge (tables) --> put_change (feed row)
 *                  (hlc_tick)                          (sign every 256)
 *   commit: sign each touched feed's head, flush heads and clock, COMMIT
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg_validate.h"

static uint8_t table_no(const wg_table *t)
{
    for (uint8_t i = 1; i <= WG_NTABLES; i++)
        if (wg_change_table(i) == t)
            return i;
    return 0;
}

/* ---- schema ------------------------------------------------------------- */

/* A record table: `n` numbers rows in order of arrival (node-local; rows
 * pack densely and indexes carry a small integer), `id` is the record id (32
 * hex digits), `chg` the key of the latest change merged into the row. */
static wg_rc create_record_table(wg_store *st, const wg_table *t, wg_err *err)
{
    wg_buf b;
    wg_buf_init(&b, 8192);
    wg_rc rc = wg_buf_printf(&b, err, "CREATE TABLE %s(n INTEGER PRIMARY KEY, "
                             "id TEXT NOT NULL UNIQUE", t->name);
    for (int i = 0; rc == WG_OK && i < t->nfields; i++)
        rc = wg_buf_printf(&b, err, ", %s %s", t->fields[i].name,
                           t->fields[i].type == WG_FT_INT ||
                                   t->fields[i].type == WG_FT_BOOL
                               ? "INTEGER" : "TEXT");
    if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, ", deleted INTEGER NOT NULL DEFAULT 0, "
                                    "clocks BLOB NOT NULL, "
                                    "chg INTEGER NOT NULL)");
    if (rc == WG_OK)
        rc = wg_buf_cstr(&b, err);
    if (rc == WG_OK)
        rc = wg_store__exec(st, (const char *)b.data, err);
    wg_buf_release(&b);
    return rc;
}

/* Every table but meta (store.c). A feed is numbered by `fid`; its changes
 * are the rows of `change` keyed WG_CHANGE_KEY(fid, seq), appended in order
 * (`seq` is computed from the key, never stored). `body` holds a change's
 * bytes from hlc on, `hash` the hash of all of them (WG_STORE_LAYOUT).
 * `prev` chains the changes of one record, newest first, from the record's
 * `chg`. */
wg_rc wg_store__create_schema(wg_store *st, wg_err *err)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
        "CREATE TABLE origin(oid INTEGER PRIMARY KEY, key BLOB NOT NULL "
        "UNIQUE);"
        "CREATE TABLE feed(fid INTEGER PRIMARY KEY, oid INTEGER NOT NULL, "
        "part TEXT NOT NULL, head INTEGER NOT NULL, head_hash BLOB NOT NULL, "
        "frozen INTEGER NOT NULL DEFAULT 0, UNIQUE(oid, part));"
        "CREATE TABLE change(k INTEGER PRIMARY KEY, "
        "seq INTEGER GENERATED ALWAYS AS (k & %lld) VIRTUAL, "
        "hash BLOB NOT NULL, sig BLOB, body BLOB NOT NULL, prev INTEGER);"
        "CREATE TABLE peer(name TEXT PRIMARY KEY, key BLOB NOT NULL UNIQUE, "
        "endpoint TEXT NOT NULL, last_time INTEGER NOT NULL DEFAULT 0, "
        "last_result TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL "
        "DEFAULT '', last_sent INTEGER NOT NULL DEFAULT 0, "
        "last_received INTEGER NOT NULL DEFAULT 0);",
        (long long)WG_SEQ_MAX);
    wg_rc rc = wg_store__exec(st, sql, err);
    for (uint8_t i = 1; rc == WG_OK && i <= WG_NTABLES; i++)
        rc = create_record_table(st, wg_change_table(i), err);
    if (rc == WG_OK)
        rc = wg_store__exec(
            st,
            "CREATE INDEX person_county ON person(county, deleted);"
            "CREATE INDEX person_id_number ON person(id_number);"
            /* Covering for the report: which persons have a completed
             * training, an active placement and its income. */
            "CREATE INDEX training_person ON training(person_id, outcome, "
            "deleted);"
            "CREATE INDEX training_county ON training(county);"
            "CREATE INDEX placement_person ON placement(person_id, status, "
            "deleted, monthly_income);"
            "CREATE INDEX placement_county ON placement(county);"
            "CREATE INDEX audit_time ON audit(time);",
            err);
    return rc;
}

/* ---- statements ------------------------------------------------------------ */

static wg_rc stmt(wg_store *st, sqlite3_stmt **slot, const char *sql,
                  wg_err *err)
{
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return WG_OK;
    }
    return wg_store__prepare(st, sql, slot, err);
}

enum { ROW_GET, ROW_PUT, ROW_UPD, ROW_LINK };

/* The cached statement of kind K for table TNO:
 *   ROW_GET   SELECT id, fields..., deleted, clocks, n, chg FROM t
 *             WHERE id = ?1
 *   ROW_PUT   INSERT INTO t(id, fields..., deleted, clocks, chg)
 *             VALUES(?1, ...)
 *   ROW_UPD   UPDATE t SET fields... = ?2.., deleted, clocks, chg WHERE n = ?1
 *   ROW_LINK  UPDATE t SET chg = ?2 WHERE n = ?1 */
static wg_rc row_stmt(wg_store *st, uint8_t tno, int k, sqlite3_stmt **out,
                      wg_err *err)
{
    sqlite3_stmt **slot = &st->s_row[k][tno];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        *out = *slot;
        return WG_OK;
    }
    const wg_table *t = wg_change_table(tno);
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

void wg_store__finalize(wg_store *st)
{
    for (int k = 0; k < 4; k++)
        for (int i = 0; i <= WG_NTABLES; i++) {
            sqlite3_finalize(st->s_row[k][i]);
            st->s_row[k][i] = NULL;
        }
    sqlite3_stmt **all[] = { &st->s_change_put, &st->s_change_at,
                             &st->s_feed_get, &st->s_feed_put, &st->s_sig_put,
                             &st->s_origin_put };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    free(st->okeys);
    free(st->tf);
    st->okeys = NULL;
    st->tf = NULL;
    wg_buf_release(&st->enc);
}

/* ---- origins, feeds, clock --------------------------------------------- */

static void cache_origin(wg_store *st, uint32_t oid, const uint8_t *key)
{
    if (oid >= st->capokeys) {
        uint32_t cap = st->capokeys ? st->capokeys : 16;
        while (cap <= oid)
            cap *= 2;
        st->okeys = wg_xrealloc(st->okeys, (size_t)cap * WG_SIGN_PK_BYTES);
        memset(st->okeys + st->capokeys, 0,
               (size_t)(cap - st->capokeys) * WG_SIGN_PK_BYTES);
        st->capokeys = cap;
    }
    memcpy(st->okeys[oid], key, WG_SIGN_PK_BYTES);
    if (oid >= st->nokeys)
        st->nokeys = oid + 1;
}

wg_rc wg_store__oid(wg_store *st, const uint8_t key[WG_SIGN_PK_BYTES],
                    uint32_t *oid, wg_err *err)
{
    for (uint32_t i = 1; i < st->nokeys; i++)
        if (!memcmp(st->okeys[i], key, WG_SIGN_PK_BYTES)) {
            *oid = i;
            return WG_OK;
        }
    wg_rc rc = stmt(st, &st->s_origin_put,
                    "INSERT INTO origin(key) VALUES(?)", err);
    if (rc)
        return rc;
    sqlite3_bind_blob(st->s_origin_put, 1, key, WG_SIGN_PK_BYTES,
                      SQLITE_STATIC);
    int r = sqlite3_step(st->s_origin_put);
    sqlite3_reset(st->s_origin_put);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "recording an origin", err);
    *oid = (uint32_t)sqlite3_last_insert_rowid(st->db);
    cache_origin(st, *oid, key);
    return WG_OK;
}

wg_rc wg_store__load_state(wg_store *st, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT oid, key FROM origin", &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(s, 1) != WG_SIGN_PK_BYTES)
            continue;
        cache_origin(st, (uint32_t)sqlite3_column_int64(s, 0),
                     sqlite3_column_blob(s, 1));
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "reading origins", err);
    if ((rc = wg_store__prepare(st, "SELECT v FROM meta WHERE k = 'hlc'", &s,
                                err)))
        return rc;
    if (sqlite3_step(s) == SQLITE_ROW)
        st->hlc = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return wg_store__oid(st, st->info.pk, &st->self_oid, err);
}

void wg_store__forget_feeds(wg_store *st)
{
    st->ntf = 0;
}

wg_rc wg_store__feed(wg_store *st, uint32_t oid, const char *part,
                     wg_feed_state **out, wg_err *err)
{
    for (int i = 0; i < st->ntf; i++)
        if (st->tf[i].oid == oid && !strcmp(st->tf[i].part, part)) {
            *out = &st->tf[i];
            return WG_OK;
        }
    if (st->ntf == st->captf) {
        st->captf = st->captf ? st->captf * 2 : 8;
        st->tf = wg_xrealloc(st->tf, (size_t)st->captf * sizeof *st->tf);
    }
    wg_feed_state *fs = &st->tf[st->ntf];
    memset(fs, 0, sizeof *fs);
    fs->oid = oid;
    snprintf(fs->part, sizeof fs->part, "%s", part);
    wg_rc rc = stmt(st, &st->s_feed_get,
                    "SELECT fid, head, head_hash, frozen FROM feed WHERE "
                    "oid = ? AND part = ?", err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st->s_feed_get, 1, oid);
    sqlite3_bind_text(st->s_feed_get, 2, part, -1, SQLITE_STATIC);
    int r = sqlite3_step(st->s_feed_get);
    if (r == SQLITE_ROW) {
        fs->fid = sqlite3_column_int64(st->s_feed_get, 0);
        fs->head = (uint64_t)sqlite3_column_int64(st->s_feed_get, 1);
        if (sqlite3_column_bytes(st->s_feed_get, 2) == WG_HASH_BYTES)
            memcpy(fs->head_hash, sqlite3_column_blob(st->s_feed_get, 2),
                   WG_HASH_BYTES);
        fs->frozen = sqlite3_column_int(st->s_feed_get, 3);
    } else if (r != SQLITE_DONE) {
        sqlite3_reset(st->s_feed_get);
        return wg_store__sqlerr(st, r, "reading a feed", err);
    }
    sqlite3_reset(st->s_feed_get);
    if (r == SQLITE_DONE) {
        /* A new feed: number it now, its changes' keys need the number. A
         * feed left empty is removed again by wg_store__flush_feeds(). */
        sqlite3_stmt *s;
        if ((rc = wg_store__prepare(st, "INSERT INTO feed(oid, part, head, "
                                        "head_hash) VALUES(?, ?, 0, ?)", &s,
                                    err)))
            return rc;
        sqlite3_bind_int64(s, 1, oid);
        sqlite3_bind_text(s, 2, part, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 3, fs->head_hash, WG_HASH_BYTES, SQLITE_STATIC);
        r = sqlite3_step(s);
        sqlite3_finalize(s);
        if (r != SQLITE_DONE)
            return wg_store__sqlerr(st, r, "recording a feed", err);
        fs->fid = sqlite3_last_insert_rowid(st->db);
        fs->is_new = 1;
    }
    st->ntf++;
    *out = fs;
    return WG_OK;
}

wg_rc wg_store__put_change(wg_store *st, int64_t k, const uint8_t *body,
                           size_t len, const uint8_t hash[WG_HASH_BYTES],
                           const uint8_t *sig, int64_t prev, wg_err *err)
{
    size_t pl = wg_store__change_prefix_len(body, len);
    if (pl == 0)
        return wg_err_set(err, WG_ERR_INVALID, "change too short to store");
    wg_rc rc = stmt(st, &st->s_change_put,
                    "INSERT INTO change(k, hash, sig, body, prev) "
                    "VALUES(?, ?, ?, ?, ?)", err);
    if (rc)
        return rc;
    sqlite3_stmt *s = st->s_change_put;
    sqlite3_bind_int64(s, 1, k);
    sqlite3_bind_blob(s, 2, hash, WG_HASH_BYTES, SQLITE_STATIC);
    if (sig)
        sqlite3_bind_blob(s, 3, sig, WG_SIG_BYTES, SQLITE_STATIC);
    /* Only the bytes from hlc on: the key and feed give the rest. */
    sqlite3_bind_blob(s, 4, body + pl, (int)(len - pl), SQLITE_STATIC);
    if (prev)
        sqlite3_bind_int64(s, 5, prev);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "storing a change", err);
    return WG_OK;
}

wg_rc wg_store__sign_head(wg_store *st, wg_feed_state *fs, wg_err *err)
{
    uint8_t sig[WG_SIG_BYTES];
    wg_sign(sig, fs->head_hash, WG_HASH_BYTES, st->sk);
    wg_rc rc = stmt(st, &st->s_sig_put,
                    "UPDATE change SET sig = ? WHERE k = ?", err);
    if (rc)
        return rc;
    sqlite3_bind_blob(st->s_sig_put, 1, sig, WG_SIG_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st->s_sig_put, 2, WG_CHANGE_KEY(fs->fid, fs->head));
    int r = sqlite3_step(st->s_sig_put);
    sqlite3_reset(st->s_sig_put);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "signing a feed", err);
    fs->unsigned_n = 0;
    return WG_OK;
}

wg_rc wg_store__flush_feeds(wg_store *st, wg_err *err)
{
    wg_rc rc;
    for (int i = 0; i < st->ntf; i++) {
        wg_feed_state *fs = &st->tf[i];
        sqlite3_stmt *s;
        if (fs->head == 0 && !fs->is_new)
            continue;
        if (fs->head == 0) {
            if ((rc = wg_store__prepare(st, "DELETE FROM feed WHERE fid = ?",
                                        &s, err)))
                return rc;
            sqlite3_bind_int64(s, 1, fs->fid);
            int r = sqlite3_step(s);
            sqlite3_finalize(s);
            if (r != SQLITE_DONE)
                return wg_store__sqlerr(st, r, "dropping an empty feed", err);
            continue;
        }
        if ((rc = stmt(st, &st->s_feed_put,
                       "UPDATE feed SET head = ?, head_hash = ?, frozen = ? "
                       "WHERE fid = ?", err)))
            return rc;
        s = st->s_feed_put;
        sqlite3_bind_int64(s, 1, (sqlite3_int64)fs->head);
        sqlite3_bind_blob(s, 2, fs->head_hash, WG_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, fs->frozen);
        sqlite3_bind_int64(s, 4, fs->fid);
        int r = sqlite3_step(s);
        sqlite3_reset(s);
        if (r != SQLITE_DONE)
            return wg_store__sqlerr(st, r, "writing a feed head", err);
    }
    sqlite3_stmt *s;
    if ((rc = wg_store__prepare(st, "INSERT OR REPLACE INTO meta(k, v) "
                                    "VALUES('hlc', ?)", &s, err)))
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)st->hlc);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "saving the clock", err);
    return WG_OK;
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

wg_rc wg_store__merge(wg_store *st, const wg_change *c, uint32_t oid,
                      int fresh, int64_t k, int64_t *prev, wg_err *err)
{
    const wg_table *t = wg_change_table(c->table);
    int nf = t->nfields;
    sqlite3_stmt *get, *put;
    wg_rc rc;
    int r, found = 0;
    int64_t n = 0;
    sqlite3_value *vals[WG_MAX_FIELDS + 1] = { 0 };
    wg_clock clocks[WG_MAX_FIELDS + 1];
    uint8_t enc[WG_CLOCKS_MAX];
    char id[WG_ID_HEX_CHARS + 1];
    wg_hex_encode(id, c->rowid, WG_ROWID_BYTES);
    memset(clocks, 0, sizeof clocks);
    *prev = 0;

again:
    if (!fresh) {
        if ((rc = row_stmt(st, c->table, ROW_GET, &get, err)))
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

    /* Decide per field; remember which of the change's fields won. */
    int won[WG_MAX_FIELDS + 1] = { 0 }, any = 0;
    for (int i = 0; i < c->nfields; i++) {
        const wg_change_field *f = &c->fields[i];
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
    if (any && (rc = wg_store__report_before(st, t, id, &note, err))) {
        for (int i = 0; i <= nf; i++)
            sqlite3_value_free(vals[i]);
        return rc;
    }
    if (!found) {
        /* A new row: every field of the change won against nothing. */
        if ((rc = row_stmt(st, c->table, ROW_PUT, &put, err)))
            return rc;
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
            return wg_store__sqlerr(st, r, "writing a record", err);
        return any ? wg_store__report_after(st, &note, err) : WG_OK;
    }
    /* The row remembers this change as its latest even when no field won,
     * so history finds it. */
    rc = row_stmt(st, c->table, any ? ROW_UPD : ROW_LINK, &put, err);
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
            sqlite3_bind_int64(put, nf + 4, k);
        } else {
            sqlite3_bind_int64(put, 2, k);
        }
        r = sqlite3_step(put);
        sqlite3_reset(put);
        if (r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "writing a record", err);
        else if (any)
            rc = wg_store__report_after(st, &note, err);
    }
    for (int i = 0; i <= nf; i++)
        sqlite3_value_free(vals[i]);
    return rc;
}

/* ---- transactions -------------------------------------------------------- */

wg_rc wg_store_begin(wg_store *st, wg_err *err)
{
    wg_rc rc = wg_store__begin(st, err);
    if (rc == WG_OK) {
        st->in_txn = 1;
        wg_store__forget_feeds(st);
    }
    return rc;
}

/* An I/O error, a full disk or running out of memory inside a statement
 * makes SQLite roll the whole transaction back on its own. Whatever the
 * caller does next must not run outside any transaction (each statement
 * committing alone, the feed half written): inside wg_store_begin() and
 * with no transaction open any more, refuse. */
static wg_rc txn_alive(wg_store *st, wg_err *err)
{
    if (st->in_txn && sqlite3_get_autocommit(st->db))
        return wg_err_set(err, WG_ERR_IO,
                          "store error: the transaction was rolled back "
                          "after an earlier error; nothing of it was "
                          "written");
    return WG_OK;
}

wg_rc wg_store_commit(wg_store *st, wg_err *err)
{
    wg_rc rc = txn_alive(st, err);
    for (int i = 0; rc == WG_OK && i < st->ntf; i++)
        if (st->tf[i].oid == st->self_oid && st->tf[i].unsigned_n)
            rc = wg_store__sign_head(st, &st->tf[i], err);
    if (rc == WG_OK)
        rc = wg_store__flush_feeds(st, err);
    if (rc == WG_OK)
        rc = wg_store__commit(st, err);
    else
        wg_store__rollback(st);
    st->in_txn = 0;
    wg_store__forget_feeds(st);
    return rc;
}

void wg_store_rollback(wg_store *st)
{
    wg_store__rollback(st);
    st->in_txn = 0;
    wg_store__forget_feeds(st);
}

/* Append a local change to the node's own feed for its partition and merge
 * it. C has everything but origin, seq, prev and hlc. */
wg_rc wg_store__local_change(wg_store *st, wg_change *c, int fresh,
                             wg_err *err)
{
    wg_feed_state *fs;
    wg_rc rc = wg_store__feed(st, st->self_oid, c->partition, &fs, err);
    if (rc)
        return rc;
    if (fs->frozen)
        return wg_err_set(err, WG_ERR_AUTH,
                          "this node's feed for %s is frozen after an "
                          "equivocation: see 'wings audit'", c->partition);
    memcpy(c->origin, st->info.pk, WG_SIGN_PK_BYTES);
    c->seq = fs->head + 1;
    memcpy(c->prev, fs->head_hash, WG_HASH_BYTES);
    c->hlc = wg_store__hlc_tick(st);
    wg_buf_reset(&st->enc);
    if ((rc = wg_change_encode(c, &st->enc, err)))
        return rc;
    uint8_t hash[WG_HASH_BYTES];
    wg_hash(hash, st->enc.data, st->enc.len);
    if (c->seq > (uint64_t)WG_SEQ_MAX)
        return wg_err_set(err, WG_ERR_INVALID, "feed %s is full",
                          c->partition);
    int64_t k = WG_CHANGE_KEY(fs->fid, c->seq), prev;
    if ((rc = wg_store__merge(st, c, st->self_oid, fresh, k, &prev, err)) ||
        (rc = wg_store__put_change(st, k, st->enc.data, st->enc.len, hash,
                                   NULL, prev, err)))
        return rc;
    fs->head = c->seq;
    memcpy(fs->head_hash, hash, WG_HASH_BYTES);
    if (++fs->unsigned_n >= WG_SIGN_EVERY)
        return wg_store__sign_head(st, fs, err);
    return WG_OK;
}

/* ---- local writes ------------------------------------------------------------ */

int wg_scope_contains(const wg_node_info *info, const char *county)
{
    if (info->role == WG_ROLE_OFFICE)
        return !strcmp(info->county, county);
    size_t n = strlen(info->county);
    while (n > 0 && info->county[n - 1] == '0')
        n--;
    return strncmp(info->county, county, n) == 0;
}

void wg_record_release(wg_record *r)
{
    for (int i = 0; i < WG_MAX_FIELDS; i++) {
        free(r->values[i]);
        r->values[i] = NULL;
    }
}

static void fill_record(sqlite3_stmt *s, const wg_table *t, wg_record *r)
{
    memset(r, 0, sizeof *r);
    r->table = t;
    snprintf(r->id, sizeof r->id, "%s", (const char *)sqlite3_column_text(s, 0));
    for (int i = 0; i < t->nfields; i++)
        if (sqlite3_column_type(s, i + 1) != SQLITE_NULL)
            r->values[i] = wg_xstrdup((const char *)sqlite3_column_text(s, i + 1));
    r->deleted = sqlite3_column_int(s, t->nfields + 1);
}

wg_rc wg_store_get(wg_store *st, const wg_table *t, const char *id,
                   wg_record *r, wg_err *err)
{
    sqlite3_stmt *s;
    uint8_t tno = table_no(t);
    if (!wg_validate_record_id(id))
        return wg_err_set(err, WG_ERR_NOTFOUND,
                          "no %s with id '%.40s' (an id is 32 hex digits)",
                          t->name, id);
    wg_rc rc = row_stmt(st, tno, ROW_GET, &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    int res = sqlite3_step(s);
    if (res == SQLITE_ROW)
        fill_record(s, t, r);
    else if (res == SQLITE_DONE)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "no %s with id %s", t->name, id);
    else
        rc = wg_store__sqlerr(st, res, "reading a record", err);
    sqlite3_reset(s);
    return rc;
}

/* Canonicalise a (name, value) list into VALS (indexed by field), checking
 * names. Returns the index of "id" in NAMES or -1 through *ID_AT. */
static wg_rc gather(const wg_table *t, const char *const *names,
                    const char *const *values, int n, char **vals,
                    int *given, int *id_at, wg_err *err)
{
    if (id_at)
        *id_at = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], "id")) {
            if (!id_at)
                return wg_err_set(err, WG_ERR_INVALID, "id: cannot be changed");
            if (*id_at >= 0)
                return wg_err_set(err, WG_ERR_INVALID, "id: given twice");
            *id_at = i;
            continue;
        }
        int f = wg_schema_field_index(t, names[i]);
        if (f < 0)
            return wg_err_set(err, WG_ERR_INVALID,
                              "%.64s: no such field in %s", names[i], t->name);
        if (given[f])
            return wg_err_set(err, WG_ERR_INVALID, "%s: given twice",
                              names[i]);
        given[f] = 1;
        if (!values[i][0]) {
            vals[f] = NULL; /* empty: absent / cleared */
            continue;
        }
        char buf[WG_FIELD_MAX_BYTES + 1];
        if (strlen(values[i]) > WG_FIELD_MAX_BYTES)
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: longer than %d bytes", names[i],
                              WG_FIELD_MAX_BYTES);
        wg_rc rc = wg_validate_value(&t->fields[f], values[i], buf, sizeof buf,
                                     err);
        if (rc)
            return rc;
        vals[f] = wg_xstrdup(buf);
    }
    return WG_OK;
}

static void free_vals(char **vals)
{
    for (int i = 0; i < WG_MAX_FIELDS; i++) {
        free(vals[i]);
        vals[i] = NULL;
    }
}

static wg_rc check_person(wg_store *st, const char *person_id, wg_err *err)
{
    wg_record p;
    wg_rc rc = wg_store_get(st, wg_schema_table("person"), person_id, &p,
                            NULL);
    if (rc == WG_ERR_NOTFOUND || (rc == WG_OK && p.deleted)) {
        if (rc == WG_OK)
            wg_record_release(&p);
        return wg_err_set(err, WG_ERR_INVALID,
                          "person_id: no person with id %s", person_id);
    }
    if (rc)
        return wg_err_set(err, rc, "person_id: cannot look up %s", person_id);
    wg_record_release(&p);
    return WG_OK;
}

/* Everything a full record must satisfy before it is written locally. */
/* What a record must satisfy beyond its own values before it is written
 * locally: its county in scope, the person it names present. */
static wg_rc check_place(wg_store *st, const wg_table *t,
                         const char *const *vals, wg_err *err)
{
    int c = wg_schema_field_index(t, "county");
    if (!wg_scope_contains(&st->info, vals[c]))
        return wg_err_set(err, WG_ERR_INVALID,
                          "county: %s is outside this node's scope (%s %s)",
                          vals[c], st->info.role == WG_ROLE_HQ ? "hq" : "office",
                          st->info.county);
    int p = wg_schema_field_index(t, "person_id");
    if (p >= 0 && vals[p])
        return check_person(st, vals[p], err);
    return WG_OK;
}

/* Everything a full record must satisfy before it is written locally. */
static wg_rc check_record(wg_store *st, const wg_table *t, char **vals,
                          wg_err *err)
{
    wg_rc rc = wg_validate_record(t, (const char *const *)vals, err);
    if (rc)
        return rc;
    return check_place(st, t, (const char *const *)vals, err);
}

static void set_field(wg_change *c, const wg_table *t, int f, const char *v)
{
    wg_change_field *cf = &c->fields[c->nfields++];
    cf->index = (uint8_t)f;
    if (!v) {
        cf->type = WG_VAL_NULL;
    } else if (t->fields[f].type == WG_FT_INT ||
               t->fields[f].type == WG_FT_BOOL) {
        cf->type = WG_VAL_INT;
        cf->i = strtoll(v, NULL, 10);
    } else {
        cf->type = WG_VAL_TEXT;
        cf->text = v;
        cf->len = (uint16_t)strlen(v);
    }
}

static void change_init(wg_change *c, const wg_table *t,
                        const uint8_t rowid[WG_ROWID_BYTES],
                        const char *county)
{
    memset(c, 0, sizeof *c);
    c->table = table_no(t);
    memcpy(c->rowid, rowid, WG_ROWID_BYTES);
    snprintf(c->partition, sizeof c->partition, "%s", county);
}

/* The common case of wg_store_add(), checked once: names that are fields,
 * each at most once, no id twice, values within bounds, and the whole
 * record valid as given (so every value is already canonical). 0 sends the
 * caller down the general path, which also finds and words any problem. */
static int gather_clean(wg_store *st, const wg_table *t,
                        const char *const *names, const char *const *values,
                        int n, const char **vals, int *id_at)
{
    uint32_t given = 0;
    *id_at = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], "id")) {
            if (*id_at >= 0)
                return 0;
            *id_at = i;
            continue;
        }
        int f = wg_schema_field_index(t, names[i]);
        if (f < 0 || (given & (1u << f)) ||
            strlen(values[i]) > WG_FIELD_MAX_BYTES)
            return 0;
        given |= 1u << f;
        vals[f] = values[i][0] ? values[i] : NULL;
    }
    int c = wg_schema_field_index(t, "county");
    if (!vals[c])
        vals[c] = st->info.county;
    return wg_validate_record(t, vals, NULL) == WG_OK;
}

wg_rc wg_store_add(wg_store *st, const wg_table *t, const char *const *names,
                   const char *const *values, int n, char *id_out,
                   wg_err *err)
{
    char *own[WG_MAX_FIELDS] = { 0 };
    const char *vals[WG_MAX_FIELDS] = { 0 };
    int given[WG_MAX_FIELDS] = { 0 }, id_at = -1;
    char id[WG_ID_HEX_CHARS + 1];
    uint8_t rowid[WG_ROWID_BYTES];
    int c = wg_schema_field_index(t, "county");
    wg_rc rc = txn_alive(st, err);
    if (rc)
        return rc;
    if (!gather_clean(st, t, names, values, n, vals, &id_at)) {
        /* Canonicalise value by value, then check the whole record. */
        if ((rc = gather(t, names, values, n, own, given, &id_at, err)))
            goto out;
        if (!own[c])
            own[c] = wg_xstrdup(st->info.county);
        if ((rc = wg_validate_record(t, (const char *const *)own, err)))
            goto out;
        memcpy(vals, own, sizeof vals);
    }
    if ((rc = check_place(st, t, vals, err)))
        goto out;
    if (id_at >= 0) {
        if (!wg_validate_record_id(values[id_at])) {
            rc = wg_err_set(err, WG_ERR_INVALID,
                            "id: '%.40s' is not 32 lower-case hex digits",
                            values[id_at]);
            goto out;
        }
        snprintf(id, sizeof id, "%s", values[id_at]);
        wg_record old;
        wg_err gerr = { 0 };
        wg_rc got = wg_store_get(st, t, id, &old, &gerr);
        if (got == WG_OK) {
            wg_record_release(&old);
            rc = wg_err_set(err, WG_ERR_INVALID,
                            "id: a %s with id %s already exists", t->name, id);
            goto out;
        }
        /* Only "no such record" means the id is free: a read error is
         * that error (SQLite has rolled the transaction back after it). */
        if (got != WG_ERR_NOTFOUND) {
            rc = got;
            if (err)
                *err = gerr;
            goto out;
        }
        wg_hex_decode(rowid, sizeof rowid, id, NULL);
    } else {
        wg_random(rowid, sizeof rowid);
        wg_hex_encode(id, rowid, sizeof rowid);
    }
    wg_change ch;
    change_init(&ch, t, rowid, vals[c]);
    for (int f = 0; f < t->nfields; f++)
        if (vals[f])
            set_field(&ch, t, f, vals[f]);
    /* The id is new: drawn at random, or looked up just above. */
    if ((rc = wg_store__local_change(st, &ch, 1, err)))
        goto out;
    if (id_out)
        memcpy(id_out, id, sizeof id);
out:
    free_vals(own);
    return rc;
}

/* The live record ID, or WG_ERR_NOTFOUND. */
static wg_rc get_live(wg_store *st, const wg_table *t, const char *id,
                      wg_record *r, wg_err *err)
{
    wg_rc rc = wg_store_get(st, t, id, r, err);
    if (rc == WG_OK && r->deleted) {
        wg_record_release(r);
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "%s %s is deleted", t->name, id);
    }
    return rc;
}

wg_rc wg_store_update(wg_store *st, const wg_table *t, const char *id,
                      const char *const *names, const char *const *values,
                      int n, wg_err *err)
{
    char *vals[WG_MAX_FIELDS] = { 0 };
    int given[WG_MAX_FIELDS] = { 0 };
    wg_record cur;
    wg_rc rc = txn_alive(st, err);
    if (rc == WG_OK)
        rc = get_live(st, t, id, &cur, err);
    if (rc)
        return rc;
    if ((rc = gather(t, names, values, n, vals, given, NULL, err)))
        goto out;
    int c = wg_schema_field_index(t, "county");
    if (!wg_scope_contains(&st->info, cur.values[c])) {
        rc = wg_err_set(err, WG_ERR_INVALID,
                        "county: %s is outside this node's scope",
                        cur.values[c]);
        goto out;
    }
    if (given[c] && (!vals[c] || strcmp(vals[c], cur.values[c]))) {
        rc = wg_err_set(err, WG_ERR_INVALID,
                        "county: a record cannot move to another county; "
                        "delete it and add it there");
        goto out;
    }
    /* Validate the record as it would be after the update. */
    char *merged[WG_MAX_FIELDS] = { 0 };
    for (int f = 0; f < t->nfields; f++)
        merged[f] = given[f] ? vals[f] : cur.values[f];
    if ((rc = check_record(st, t, merged, err)))
        goto out;
    wg_change ch;
    uint8_t rowid[WG_ROWID_BYTES];
    wg_hex_decode(rowid, sizeof rowid, id, NULL);
    change_init(&ch, t, rowid, cur.values[c]);
    for (int f = 0; f < t->nfields; f++)
        if (given[f])
            set_field(&ch, t, f, vals[f]);
    if (ch.nfields == 0) {
        rc = wg_err_set(err, WG_ERR_INVALID, "nothing to update");
        goto out;
    }
    rc = wg_store__local_change(st, &ch, 0, err);
out:
    free_vals(vals);
    wg_record_release(&cur);
    return rc;
}

wg_rc wg_store_delete(wg_store *st, const wg_table *t, const char *id,
                      wg_err *err)
{
    wg_record cur;
    wg_rc rc = txn_alive(st, err);
    if (rc == WG_OK)
        rc = get_live(st, t, id, &cur, err);
    if (rc)
        return rc;
    int c = wg_schema_field_index(t, "county");
    if (!wg_scope_contains(&st->info, cur.values[c])) {
        rc = wg_err_set(err, WG_ERR_INVALID,
                        "county: %s is outside this node's scope",
                        cur.values[c]);
    } else {
        wg_change ch;
        uint8_t rowid[WG_ROWID_BYTES];
        wg_hex_decode(rowid, sizeof rowid, id, NULL);
        change_init(&ch, t, rowid, cur.values[c]);
        wg_change_field *f = &ch.fields[ch.nfields++];
        f->index = WG_FIELD_DELETED;
        f->type = WG_VAL_INT;
        f->i = 1;
        rc = wg_store__local_change(st, &ch, 0, err);
    }
    wg_record_release(&cur);
    return rc;
}

/* ---- reads ------------------------------------------------------------------ */

wg_rc wg_store_list(wg_store *st, const wg_table *t,
                    const char *const *names, const char *const *values,
                    int n, wg_record_fn fn, void *ctx, wg_err *err)
{
    char *vals[WG_MAX_FIELDS] = { 0 };
    int given[WG_MAX_FIELDS] = { 0 }, id_at;
    wg_buf b;
    wg_buf_init(&b, 16384);
    sqlite3_stmt *s = NULL;
    wg_rc rc = gather(t, names, values, n, vals, given, &id_at, err);
    if (rc == WG_OK && id_at >= 0)
        rc = wg_err_set(err, WG_ERR_INVALID, "id: use 'wings get' for one id");
    if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, "SELECT id");
    for (int i = 0; rc == WG_OK && i < t->nfields; i++)
        rc = wg_buf_printf(&b, err, ", %s", t->fields[i].name);
    if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, ", deleted FROM %s WHERE deleted = 0",
                           t->name);
    for (int f = 0; rc == WG_OK && f < t->nfields; f++)
        if (given[f])
            rc = wg_buf_printf(&b, err, vals[f] ? " AND %s = ?%d"
                                                : " AND %s IS NULL",
                               t->fields[f].name, f + 1);
    if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, " ORDER BY id");
    if (rc == WG_OK)
        rc = wg_buf_cstr(&b, err);
    if (rc == WG_OK)
        rc = wg_store__prepare(st, (const char *)b.data, &s, err);
    for (int f = 0; rc == WG_OK && f < t->nfields; f++) {
        if (!given[f] || !vals[f])
            continue;
        if (t->fields[f].type == WG_FT_INT || t->fields[f].type == WG_FT_BOOL)
            sqlite3_bind_int64(s, f + 1, strtoll(vals[f], NULL, 10));
        else
            sqlite3_bind_text(s, f + 1, vals[f], -1, SQLITE_STATIC);
    }
    int r = SQLITE_DONE;
    while (rc == WG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_record rec;
        fill_record(s, t, &rec);
        int stop = fn(ctx, &rec);
        wg_record_release(&rec);
        if (stop)
            break;
    }
    if (rc == WG_OK && r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "listing records", err);
    sqlite3_finalize(s);
    wg_buf_release(&b);
    free_vals(vals);
    return rc;
}

wg_rc wg_store_count(wg_store *st, const wg_table *t, long *n, wg_err *err)
{
    char sql[128];
    sqlite3_stmt *s;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE deleted = 0",
             t->name);
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(s, 0);
    else
        rc = wg_store__sqlerr(st, r, "counting records", err);
    sqlite3_finalize(s);
    return rc;
}

typedef struct hist_item {
    uint64_t hlc;
    uint8_t origin[WG_SIGN_PK_BYTES];
    uint8_t *body;
    size_t len;
} hist_item;

static int hist_cmp(const void *a, const void *b)
{
    const hist_item *x = a, *y = b;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    return memcmp(x->origin, y->origin, WG_SIGN_PK_BYTES);
}

wg_rc wg_store_history(wg_store *st, const wg_table *t, const char *id,
                       wg_history_fn fn, void *ctx, wg_err *err)
{
    sqlite3_stmt *s, *at = NULL;
    char sql[64];
    int64_t k = 0;
    snprintf(sql, sizeof sql, "SELECT chg FROM %s WHERE id = ?", t->name);
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        k = sqlite3_column_int64(s, 0);
    else if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading history", err);
    sqlite3_finalize(s);
    if (rc == WG_OK)
        rc = wg_store__prepare(st, "SELECT c.prev, c.body, p.hash, o.key, "
                                   "f.part FROM change c JOIN feed f ON "
                                   "f.fid = c.k >> 40 JOIN origin o ON "
                                   "o.oid = f.oid LEFT JOIN change p ON "
                                   "p.k = c.k - 1 WHERE c.k = ?", &at, err);
    _Static_assert(WG_SEQ_BITS == 40, "the query above shifts by 40");
    uint8_t *buf = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    hist_item *items = NULL;
    size_t n = 0, cap = 0, steps = 0, power = 1;
    int64_t mark = 0;
    /* The record's changes, newest merged first, each naming the one merged
     * before it. */
    while (rc == WG_OK && k) {
        sqlite3_reset(at);
        sqlite3_bind_int64(at, 1, k);
        r = sqlite3_step(at);
        if (r == SQLITE_DONE)
            break; /* the chain is cut: wg_store_verify_feeds() says where */
        if (r != SQLITE_ROW) {
            rc = wg_store__sqlerr(st, r, "reading history", err);
            break;
        }
        wg_change c;
        /* The row's bytes after the prefix its key and feed give (the
         * change before it in the feed gives prev; zeros at seq 1, or when
         * it is missing: history does not hash). */
        uint8_t zeros[WG_HASH_BYTES] = { 0 };
        const uint8_t *body = buf;
        size_t len = 0;
        if (sqlite3_column_bytes(at, 3) == WG_SIGN_PK_BYTES)
            len = wg_store__change_bytes(
                sqlite3_column_blob(at, 3),
                (const char *)sqlite3_column_text(at, 4),
                (uint64_t)(k & WG_SEQ_MAX),
                sqlite3_column_bytes(at, 2) == WG_HASH_BYTES
                    ? sqlite3_column_blob(at, 2)
                    : zeros,
                sqlite3_column_blob(at, 1),
                (size_t)sqlite3_column_bytes(at, 1), buf);
        if (len == 0) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "a change of %.40s is "
                            "malformed", id);
            break;
        }
        if (wg_change_decode(body, len, &c, err) != WG_OK) {
            rc = WG_ERR_CORRUPT;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            items = wg_xrealloc(items, cap * sizeof *items);
        }
        items[n].hlc = c.hlc;
        memcpy(items[n].origin, c.origin, WG_SIGN_PK_BYTES);
        items[n].body = wg_xmalloc(len);
        memcpy(items[n].body, body, len);
        items[n].len = len;
        n++;
        k = sqlite3_column_int64(at, 0);
        /* A store altered by hand could hold a loop (Brent's detection). */
        if (++steps == power) {
            mark = k;
            power *= 2;
            steps = 0;
        } else if (k && k == mark) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "history of %.40s loops",
                            id);
            break;
        }
    }
    sqlite3_finalize(at);
    free(buf);
    if (rc == WG_OK && n == 0)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "no %s with id %.40s", t->name,
                        id);
    if (n > 1)
        qsort(items, n, sizeof *items, hist_cmp);
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        wg_change c;
        wg_history_entry e;
        memset(&e, 0, sizeof e);
        wg_change_decode(items[i].body, items[i].len, &c, NULL);
        e.hlc = c.hlc;
        wg_hlc_format(c.hlc, e.when);
        wg_hex_encode(e.origin_hex, c.origin, WG_SIGN_PK_BYTES);
        e.deleted = -1;
        for (int f = 0; f < c.nfields; f++) {
            const wg_change_field *cf = &c.fields[f];
            if (cf->index == WG_FIELD_DELETED) {
                e.deleted = (int)cf->i;
                continue;
            }
            e.names[e.nfields] = t->fields[cf->index].name;
            if (cf->type == WG_VAL_TEXT) {
                char *v = wg_xmalloc((size_t)cf->len + 1);
                memcpy(v, cf->text, cf->len);
                v[cf->len] = 0;
                e.values[e.nfields] = v;
            } else if (cf->type == WG_VAL_INT) {
                char v[24];
                snprintf(v, sizeof v, "%lld", (long long)cf->i);
                e.values[e.nfields] = wg_xstrdup(v);
            }
            e.nfields++;
        }
        int stop = fn(ctx, &e);
        for (int f = 0; f < e.nfields; f++)
            free(e.values[f]);
        if (stop)
            break;
    }
    for (size_t i = 0; i < n; i++)
        free(items[i].body);
    free(items);
    return rc;
}
