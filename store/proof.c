/*
 * proof.c - equivocation proofs: kept, listed, resolved
 *
 * A feed is frozen only on proof: the change this store holds at (origin,
 * partition, seq), and a different change at that seq that its origin
 * signed (its own signature, or a signed change later in the same batch
 * that chains to it). The proof is the conflicting chain's bytes and the
 * signature, kept in table `equivocation` (made on first use):
 *
 *   oid, part, seq      the feed and the seq held twice
 *   held                hash of the change this store holds there
 *   proof               for each change from the conflicting one to the
 *                       signed one: u32 length, bytes; then the signature
 *   at                  unix seconds when it was found
 *   resolved            set by wg_store_unfreeze(): the same conflict
 *                       offered again is refused without freezing
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int have_table(wg_store *st);

static wg_rc ensure_table(wg_store *st, wg_err *err)
{
    return wg_store__exec(st, "CREATE TABLE IF NOT EXISTS equivocation("
                              "oid INTEGER NOT NULL, part TEXT NOT NULL, "
                              "seq INTEGER NOT NULL, held BLOB NOT NULL, "
                              "proof BLOB NOT NULL, at INTEGER NOT NULL, "
                              "resolved INTEGER NOT NULL DEFAULT 0, "
                              "PRIMARY KEY(oid, part, seq)) WITHOUT ROWID",
                          err);
}

wg_rc wg_store__proof_put(wg_store *st, uint32_t oid, const char *part,
                          uint64_t seq, const uint8_t held[WG_HASH_BYTES],
                          const wg_signed_change *chain, size_t n)
{
    wg_buf b;
    wg_rc rc = ensure_table(st, NULL);
    if (rc)
        return rc;
    wg_buf_init(&b, (WG_CHANGE_MAX_BYTES + 4) * (size_t)WG_PROOF_MAX_CHAIN +
                        WG_SIG_BYTES);
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        rc = wg_buf_append_u32(&b, (uint32_t)chain[i].len, NULL);
        if (rc == WG_OK)
            rc = wg_buf_append(&b, chain[i].body, chain[i].len, NULL);
    }
    if (rc == WG_OK)
        rc = wg_buf_append(&b, chain[n - 1].sig, WG_SIG_BYTES, NULL);
    sqlite3_stmt *s = NULL;
    if (rc == WG_OK)
        rc = wg_store__prepare(st, "INSERT OR IGNORE INTO equivocation(oid, "
                                   "part, seq, held, proof, at) VALUES "
                                   "(?, ?, ?, ?, ?, ?)", &s, NULL);
    if (rc == WG_OK) {
        sqlite3_bind_int64(s, 1, oid);
        sqlite3_bind_text(s, 2, part, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)seq);
        sqlite3_bind_blob(s, 4, held, WG_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(s, 5, b.data, (int)b.len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)time(NULL));
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = WG_ERR_IO;
    }
    sqlite3_finalize(s);
    wg_buf_release(&b);
    return rc;
}

int wg_store__proof_resolved(wg_store *st, uint32_t oid, const char *part,
                             uint64_t seq)
{
    sqlite3_stmt *s;
    if (!have_table(st) || wg_store__prepare(st, "SELECT resolved FROM equivocation WHERE "
                              "oid = ? AND part = ? AND seq = ?", &s, NULL))
        return 0; /* no table: no proof, resolved or not */
    sqlite3_bind_int64(s, 1, oid);
    sqlite3_bind_text(s, 2, part, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)seq);
    int r = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return r;
}

static int have_table(wg_store *st)
{
    sqlite3_stmt *s;
    if (wg_store__prepare(st, "SELECT 1 FROM sqlite_master WHERE type = "
                              "'table' AND name = 'equivocation'", &s, NULL))
        return 0;
    int r = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return r;
}

wg_rc wg_store_proofs(wg_store *st, wg_proof_fn fn, void *ctx, wg_err *err)
{
    wg_rc rc = WG_OK;
    sqlite3_stmt *s;
    if (!have_table(st))
        return WG_OK; /* nothing ever frozen here */
    if ((rc = wg_store__prepare(
                   st, "SELECT o.key, e.part, e.seq, e.held, e.proof, e.at, "
                       "e.resolved, f.frozen FROM equivocation e "
                       "JOIN origin o ON o.oid = e.oid LEFT JOIN feed f ON "
                       "f.oid = e.oid AND f.part = e.part ORDER BY e.at",
                   &s, err)))
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_proof p;
        memset(&p, 0, sizeof p);
        if (sqlite3_column_bytes(s, 0) != WG_SIGN_PK_BYTES ||
            sqlite3_column_bytes(s, 3) != WG_HASH_BYTES)
            continue;
        memcpy(p.origin, sqlite3_column_blob(s, 0), WG_SIGN_PK_BYTES);
        snprintf(p.partition, sizeof p.partition, "%s",
                 (const char *)sqlite3_column_text(s, 1));
        p.seq = (uint64_t)sqlite3_column_int64(s, 2);
        memcpy(p.held, sqlite3_column_blob(s, 3), WG_HASH_BYTES);
        /* The conflicting change: the first of the proof's chain. */
        const uint8_t *b = sqlite3_column_blob(s, 4);
        size_t n = (size_t)sqlite3_column_bytes(s, 4);
        wg_reader rd;
        uint32_t len;
        const uint8_t *body;
        wg_reader_init(&rd, b, n);
        if (wg_reader_u32(&rd, &len) && wg_reader_bytes(&rd, len, &body))
            wg_hash(p.other, body, len);
        p.chain_len = 0;
        wg_reader_init(&rd, b, n);
        while (wg_reader_left(&rd) > WG_SIG_BYTES &&
               wg_reader_u32(&rd, &len) && wg_reader_bytes(&rd, len, &body))
            p.chain_len++;
        p.at = sqlite3_column_int64(s, 5);
        p.resolved = sqlite3_column_int(s, 6);
        p.frozen = sqlite3_column_int(s, 7);
        if (fn(ctx, &p))
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "listing equivocation proofs", err);
    sqlite3_finalize(s);
    return rc;
}

wg_rc wg_store_unfreeze(wg_store *st, const uint8_t origin[WG_SIGN_PK_BYTES],
                        const char *partition, int *count, wg_err *err)
{
    *count = 0;
    wg_rc rc = ensure_table(st, err);
    if (rc || (rc = wg_store__begin(st, err)))
        return rc;
    sqlite3_stmt *s = NULL;
    rc = wg_store__prepare(st, "UPDATE feed SET frozen = 0 WHERE frozen = 1 "
                               "AND oid = (SELECT oid FROM origin WHERE key = "
                               "?) AND (?2 IS NULL OR part = ?2)", &s, err);
    if (rc == WG_OK) {
        sqlite3_bind_blob(s, 1, origin, WG_SIGN_PK_BYTES, SQLITE_STATIC);
        if (partition)
            sqlite3_bind_text(s, 2, partition, -1, SQLITE_STATIC);
        int r = sqlite3_step(s);
        if (r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "unfreezing a feed", err);
        else
            *count = sqlite3_changes(st->db);
        sqlite3_finalize(s);
    }
    if (rc == WG_OK &&
        (rc = wg_store__prepare(st, "UPDATE equivocation SET resolved = 1 "
                                    "WHERE oid = (SELECT oid FROM origin "
                                    "WHERE key = ?) AND (?2 IS NULL OR "
                                    "part = ?2)", &s, err)) == WG_OK) {
        sqlite3_bind_blob(s, 1, origin, WG_SIGN_PK_BYTES, SQLITE_STATIC);
        if (partition)
            sqlite3_bind_text(s, 2, partition, -1, SQLITE_STATIC);
        int r = sqlite3_step(s);
        if (r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "resolving a proof", err);
        sqlite3_finalize(s);
    }
    if (rc == WG_OK && *count == 0)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "no frozen feed of that origin%s"
                        "%s", partition ? " in " : "",
                        partition ? partition : "");
    if (rc == WG_OK)
        return wg_store__commit(st, err);
    wg_store__rollback(st);
    return rc;
}
