/*
 * txn.c - transactions, origins, feed heads and the local write cycle
 *
 * Local write cycle (one per add/update/delete, inside wg_store_begin..commit):
 *
 *   validate --> build change --> merge (tables) --> put_change (feed row)
 *   (records.c)   (hlc_tick)      (merge.c)          (sign every 256)
 *   commit: sign each touched feed's head, flush heads and clock, COMMIT
 *
 * Changes from peers take the same path from merge on (feed.c). The feed
 * state of every feed a transaction touches is kept in st->tf until commit
 * or rollback.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- statements ------------------------------------------------------------ */

wg_rc wg_store__stmt(wg_store *st, sqlite3_stmt **slot, const char *sql,
                     wg_err *err)
{
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return WG_OK;
    }
    return wg_store__prepare(st, sql, slot, err);
}

void wg_store__finalize(wg_store *st)
{
    for (int k = 0; k < 4; k++)
        for (int i = 0; i <= WG_TABLE_WIRE_MAX; i++) {
            sqlite3_finalize(st->s_row[k][i]);
            st->s_row[k][i] = NULL;
        }
    for (int i = 0; i <= WG_TABLE_WIRE_MAX; i++) {
        sqlite3_finalize(st->s_uniq[i]);
        st->s_uniq[i] = NULL;
    }
    sqlite3_stmt **all[] = { &st->s_change_put, &st->s_change_at,
                             &st->s_feed_get, &st->s_feed_put, &st->s_sig_put,
                             &st->s_origin_put, &st->s_ow_listed };
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
    wg_rc rc = wg_store__stmt(st, &st->s_origin_put,
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
    wg_rc rc = wg_store__stmt(st, &st->s_feed_get,
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
    fs->head0 = fs->head;
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
    size_t pl = wg_change_prefix_len(body, len);
    if (pl == 0)
        return wg_err_set(err, WG_ERR_INVALID, "change too short to store");
    wg_rc rc = wg_store__stmt(st, &st->s_change_put,
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
    wg_rc rc = wg_store__stmt(st, &st->s_sig_put,
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
        /* Counted for the rollback mark once the transaction commits. */
        st->pend_total += fs->head - fs->head0;
        if (fs->oid == st->self_oid)
            st->pend_own += fs->head - fs->head0;
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
        if ((rc = wg_store__stmt(st, &st->s_feed_put,
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

/* ---- transactions -------------------------------------------------------- */

wg_rc wg_store_begin(wg_store *st, wg_err *err)
{
    wg_rc rc = wg_store__begin(st, err);
    if (rc == WG_OK) {
        st->in_txn = 1;
        wg_store__forget_feeds(st);
        wg_store__own_forget(st);
    }
    return rc;
}

/* An I/O error, a full disk or running out of memory inside a statement
 * makes SQLite roll the whole transaction back on its own. Whatever the
 * caller does next must not run outside any transaction (each statement
 * committing alone, the feed half written): inside wg_store_begin() and
 * with no transaction open any more, refuse. */
wg_rc wg_store__txn_alive(wg_store *st, wg_err *err)
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
    wg_rc rc = wg_store__txn_alive(st, err);
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

/* A local write: appended to the node's own feed, or held while this
 * node may be behind its peers on its own feeds (life.c). C has
 * everything but origin, seq, prev and hlc. */
wg_rc wg_store__local_change(wg_store *st, wg_change *c, int fresh,
                             wg_err *err)
{
    return st->held ? wg_store__hold_change(st, c, fresh, err)
                    : wg_store__append_own(st, c, fresh, 1, err);
}

wg_rc wg_store__append_own(wg_store *st, wg_change *c, int fresh, int tick,
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
    if (tick)
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
