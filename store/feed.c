/*
 * feed.c - changes from elsewhere: verify, apply, read, recheck, dump
 *
 * wg_store_apply() is the one door through which a peer's changes enter.
 * Per change, in order:
 *
 *   decode --> frozen? --> seq <= head: same hash? skip : signed by its
 *                          origin (proof)? equivocation : refused
 *                          (this node's own: signed by it? its tail from
 *                          seq held, the feed cut to seq - 1 (life.c),
 *                          then on as seq == head+1 : refused)
 *                     \--> seq == head+1: prev == head hash --> clock within
 *                          WG_HLC_MAX_DRIFT_MS of our wall clock --> store -->
 *                          merge
 *                     \--> otherwise: gap, refuse
 *   after the batch: every new change covered by a verified signature at
 *   or after it in its feed, or the whole batch is refused.
 *
 * Signatures are checked as they come (a signed change's signature covers
 * its hash, which chains to everything before it).
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg_cert.h"
#include "wg_validate.h"

static void short_key(char out[9], const uint8_t *key)
{
    wg_hex_encode(out, key, 4);
}

/* Mark (OID, PART) frozen and keep the proof, in one transaction of its
 * own, outside any batch. */
static void freeze(wg_store *st, uint32_t oid, const char *part, uint64_t seq,
                   const uint8_t held[WG_HASH_BYTES],
                   const wg_signed_change *chain, size_t n)
{
    sqlite3_stmt *s;
    if (wg_store__begin(st, NULL))
        return;
    if (wg_store__proof_put(st, oid, part, seq, held, chain, n) ||
        wg_store__prepare(st, "UPDATE feed SET frozen = 1 WHERE oid = ? AND "
                              "part = ?", &s, NULL)) {
        wg_store__rollback(st);
        return;
    }
    sqlite3_bind_int64(s, 1, oid);
    sqlite3_bind_text(s, 2, part, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_DONE || wg_store__commit(st, NULL))
        wg_store__rollback(st);
}

/* The conflicting change CS[I] (hash HASH) is proof only if its origin
 * signed it: its own valid signature, or a valid signature on a later
 * change of the same batch and feed that chains back to it. *END is then
 * the index of that signed change. An unsigned change, or one whose chain
 * breaks or whose signature fails, is no proof of anything. */
static int signed_by_origin(const wg_signed_change *cs, size_t n, size_t i,
                            const wg_change *c, const uint8_t hash[WG_HASH_BYTES],
                            size_t *end)
{
    uint8_t h[WG_HASH_BYTES];
    memcpy(h, hash, WG_HASH_BYTES);
    uint64_t seq = c->seq;
    for (size_t j = i; j < n && j - i < WG_PROOF_MAX_CHAIN; j++) {
        if (j > i) {
            wg_change d;
            if (wg_change_decode(cs[j].body, cs[j].len, &d, NULL) != WG_OK ||
                memcmp(d.origin, c->origin, WG_SIGN_PK_BYTES) ||
                strcmp(d.partition, c->partition) || d.seq != seq + 1 ||
                memcmp(d.prev, h, WG_HASH_BYTES))
                return 0;
            seq = d.seq;
            wg_hash(h, cs[j].body, cs[j].len);
        }
        if (cs[j].has_sig) {
            if (wg_verify(cs[j].sig, h, WG_HASH_BYTES, c->origin) != WG_OK)
                return 0;
            *end = j;
            return 1;
        }
    }
    return 0;
}

/* Values from peers pass the same field checks as local writes (types,
 * enums, dates, valid UTF-8, no control characters, canonical form); only
 * references need not resolve (a training may arrive before its person).
 * Tables this build does not know, and fields of a newer schema, are kept
 * unchecked until an upgrade knows them. */
static wg_rc peer_values_ok(const wg_change *c, const char *who, wg_err *err)
{
    const wg_table *t = wg_schema_by_wire(c->table);
    if (!t || !t->user)
        return WG_OK;
    char val[WG_FIELD_MAX_BYTES + 1], canon[WG_FIELD_MAX_BYTES + 1];
    for (int i = 0; i < c->nfields; i++) {
        const wg_change_field *f = &c->fields[i];
        if (f->index == WG_FIELD_DELETED || f->index >= t->nfields ||
            f->type == WG_VAL_NULL)
            continue;
        const wg_field *fd = &t->fields[f->index];
        int is_int = fd->type == WG_FT_INT || fd->type == WG_FT_BOOL;
        wg_err verr = { 0 };
        if (is_int != (f->type == WG_VAL_INT)) {
            snprintf(verr.msg, sizeof verr.msg, "%s: wrong value type",
                     fd->name);
        } else {
            if (is_int)
                snprintf(val, sizeof val, "%lld", (long long)f->i);
            else {
                memcpy(val, f->text, f->len);
                val[f->len] = 0;
            }
            if (wg_validate_value(fd, val, canon, sizeof canon, &verr) ==
                    WG_OK && strcmp(val, canon))
                snprintf(verr.msg, sizeof verr.msg, "%s: not in canonical "
                         "form", fd->name);
        }
        if (verr.msg[0]) {
            char id[WG_ID_HEX_CHARS + 1];
            wg_hex_encode(id, c->rowid, WG_ROWID_BYTES);
            return wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu to %s %s "
                              "fails the field checks: %.120s", who,
                              c->partition, (unsigned long long)c->seq,
                              t->name, id, verr.msg);
        }
    }
    return WG_OK;
}

/* In a network, a change is judged by its origin's rights: a certificate
 * chaining to the root, unrevoked (or revoked with this change at or
 * before the revocation's cut-off for its partition), whose scope holds the
 * change's partition. *M is (re)loaded when *STALE (certificates merged by
 * this batch count for the changes after them). */
typedef struct rights_cache {
    uint8_t origin[WG_SIGN_PK_BYTES];   /* whose chain last verified */
    int valid;
    uint64_t at_ms;                     /* when */
} rights_cache;

static wg_rc rights_ok(wg_store *st, wg_members **m, int *stale,
                       rights_cache *rc_cache,
                       const uint8_t root[WG_SIGN_PK_BYTES], const wg_change *c,
                       const char *who, wg_err *err)
{
    if (*stale) {
        wg_members_destroy(m);
        wg_rc rc = wg_members_load(st, m, err);
        if (rc)
            return rc;
        *stale = 0;
        rc_cache->valid = 0;
    }
    uint64_t now = wg_hlc_now_ms() / 1000;
    const wg_cert *cert = wg_members_lookup(*m, c->origin);
    if (!cert)
        return wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu: its origin "
                          "holds no certificate of this network", who,
                          c->partition, (unsigned long long)c->seq);
    const wg_revoke *rev = wg_members_revoked(*m, c->origin, cert->serial);
    wg_err why = { 0 };
    if (rev) {
        uint64_t cut = 0;
        for (int i = 0; i < rev->ncut; i++)
            if (!strcmp(rev->cut[i].partition, c->partition))
                cut = rev->cut[i].head;
        if (c->seq > cut)
            return wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu comes after "
                              "its origin's revocation (cut-off %llu)", who,
                              c->partition, (unsigned long long)c->seq,
                              (unsigned long long)cut);
        /* Before the cut-off: judged by the chain above it. */
        if (memcmp(cert->issuer, cert->subject, WG_SIGN_PK_BYTES) &&
            wg_members_check(*m, root, cert->issuer, now, NULL, &why))
            return wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu: %.160s",
                              who, c->partition, (unsigned long long)c->seq,
                              why.msg);
    } else if (!(rc_cache->valid && !memcmp(rc_cache->origin, c->origin,
                                             WG_SIGN_PK_BYTES))) {
        /* A batch streams feed by feed: one chain check per origin run. */
        if (wg_members_check(*m, root, c->origin, now, NULL, &why))
            return wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu: %.160s",
                              who, c->partition, (unsigned long long)c->seq,
                              why.msg);
        memcpy(rc_cache->origin, c->origin, WG_SIGN_PK_BYTES);
        rc_cache->valid = 1;
        rc_cache->at_ms = now * 1000;
    }
    if (!wg_cert_covers(cert, c->partition))
        return wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu lies outside "
                          "its origin's certified scope (%s %s)", who,
                          c->partition, (unsigned long long)c->seq,
                          cert->role ? "hq" : "office", cert->scope);
    return WG_OK;
}

static wg_rc held_hash(wg_store *st, int64_t k, uint8_t out[WG_HASH_BYTES],
                       wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT hash FROM change WHERE k = ?", &s,
                                 err);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, k);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW && sqlite3_column_bytes(s, 0) == WG_HASH_BYTES)
        memcpy(out, sqlite3_column_blob(s, 0), WG_HASH_BYTES);
    else if (r == SQLITE_ROW || r == SQLITE_DONE)
        rc = wg_err_set(err, WG_ERR_CORRUPT, "change %llu of a held feed is "
                        "missing",
                        (unsigned long long)(k & WG_SEQ_MAX));
    else
        rc = wg_store__sqlerr(st, r, "reading a change", err);
    sqlite3_finalize(s);
    return rc;
}

wg_rc wg_store_apply(wg_store *st, const wg_signed_change *cs, size_t n,
                     size_t *applied, wg_err *err)
{
    *applied = 0;
    st->skew_n = 0;
    st->skew_ahead_ms = 0;
    if (n == 0)
        return WG_OK;
    wg_rc rc = wg_store_begin(st, err);
    if (rc)
        return rc;
    uint32_t frozen_oid = 0;
    char frozen_part[WG_PARTITION_MAX + 1] = "";
    uint64_t frozen_seq = 0;
    uint8_t frozen_held[WG_HASH_BYTES];
    size_t proof_at = 0, proof_end = 0;
    st->froze = 0;
    uint8_t root[WG_SIGN_PK_BYTES];
    int net = wg_store_root(st, root), mem_stale = 1, saw_member = 0;
    wg_members *mem = NULL;
    rights_cache cache = { .valid = 0 };
    uint64_t t_now = wg_hlc_now_ms();
    if (net && st->mem_cache && st->mem_cache_gen == st->member_gen) {
        /* Nothing membership-related moved since the last batch. */
        mem = st->mem_cache;
        st->mem_cache = NULL;
        mem_stale = 0;
        /* A chain verified within the minute stands (a certificate
         * expiring meanwhile is refused from the next minute on). */
        if (st->rights_valid && t_now >= st->rights_at_ms &&
            t_now - st->rights_at_ms < 60000) {
            memcpy(cache.origin, st->rights_origin, WG_SIGN_PK_BYTES);
            cache.valid = 1;
            cache.at_ms = st->rights_at_ms;
        }
    }
    wg_members_destroy(&st->mem_cache);
    st->rights_valid = 0;
    size_t fresh = 0;
    int relearn = 0;
    char relearn_part[WG_PARTITION_MAX + 1] = "";
    st->forked = 0;
    uint32_t skewed = 0;
    uint64_t ahead = 0, now = wg_hlc_now_ms();
    for (size_t i = 0; i < n && rc == WG_OK; i++) {
        wg_change c;
        uint8_t hash[WG_HASH_BYTES];
        char who[9];
        if ((rc = wg_change_decode(cs[i].body, cs[i].len, &c, err)))
            break;
        short_key(who, c.origin);
        uint32_t oid;
        wg_feed_state *fs;
        if ((rc = wg_store__oid(st, c.origin, &oid, err)) ||
            (rc = wg_store__feed(st, oid, c.partition, &fs, err)))
            break;
        if (!wg_scope_contains(&st->info, c.partition)) {
            rc = wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu is outside "
                            "this node's scope", who, c.partition,
                            (unsigned long long)c.seq);
            break;
        }
        if (fs->frozen) {
            rc = wg_err_set(err, WG_ERR_AUTH, "feed %s/%s is frozen after an "
                            "equivocation", who, c.partition);
            break;
        }
        wg_hash(hash, cs[i].body, cs[i].len);
        if (c.seq <= fs->head) {
            uint8_t have[WG_HASH_BYTES];
            if ((rc = held_hash(st, WG_CHANGE_KEY(fs->fid, c.seq), have,
                                err)))
                break;
            if (memcmp(have, hash, WG_HASH_BYTES) == 0)
                continue; /* already held: applying twice changes nothing */
            size_t end;
            if (oid == st->self_oid) {
                /* Never freeze this node's own feed here: it is this
                 * store that went back in time (an old copy of its folder
                 * put back, then written in), not the peer that lies. On
                 * proof (signed by this node), its tail from here is held
                 * to be signed again after what the peer holds (life.c);
                 * the second time a seq is disputed, this node really
                 * signed two changes there: refused. */
                if (!signed_by_origin(cs, n, i, &c, hash, &end)) {
                    rc = wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu, "
                                    "this node's own, differs from the one "
                                    "it holds and is not signed by this "
                                    "node: refused, nothing frozen", who,
                                    c.partition, (unsigned long long)c.seq);
                    break;
                }
                if (wg_store__fork_seen(st, c.partition, c.seq)) {
                    rc = wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu, "
                                    "this node's own, differs from the one "
                                    "another peer gave back: this node "
                                    "signed two changes there (its folder "
                                    "copied back and written in before it "
                                    "synced with both); refused, nothing "
                                    "frozen", who, c.partition,
                                    (unsigned long long)c.seq);
                    break;
                }
                if ((rc = wg_store__fork_repair(st, fs, c.seq, err)))
                    break;
                /* The feed now ends at seq - 1: C continues it below. */
            } else if (!signed_by_origin(cs, n, i, &c, hash, &end)) {
                rc = wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu differs "
                                "from the one held and is not signed by its "
                                "origin: refused, nothing frozen", who,
                                c.partition, (unsigned long long)c.seq);
                break;
            } else if (wg_store__proof_resolved(st, oid, c.partition,
                                                c.seq)) {
                rc = wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu is the "
                                "side of a resolved equivocation this node "
                                "does not hold: refused", who, c.partition,
                                (unsigned long long)c.seq);
                break;
            } else {
                frozen_oid = oid;
                snprintf(frozen_part, sizeof frozen_part, "%s", c.partition);
                frozen_seq = c.seq;
                memcpy(frozen_held, have, WG_HASH_BYTES);
                proof_at = i;
                proof_end = end;
                rc = wg_err_set(err, WG_ERR_AUTH,
                                "equivocation: origin %s signed two different "
                                "changes at %s#%llu; its feed is frozen and "
                                "the proof kept", who, c.partition,
                                (unsigned long long)c.seq);
                break;
            }
        }
        if (c.seq != fs->head + 1) {
            rc = wg_err_set(err, WG_ERR_PROTO, "gap in feed %s/%s: have %llu, "
                            "got %llu", who, c.partition,
                            (unsigned long long)fs->head,
                            (unsigned long long)c.seq);
            break;
        }
        if (memcmp(c.prev, fs->head_hash, WG_HASH_BYTES) != 0) {
            if (oid == st->self_oid) {
                relearn = 1;
                snprintf(relearn_part, sizeof relearn_part, "%s", c.partition);
            }
            rc = oid == st->self_oid
                     ? wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu, this "
                                  "node's own, does not chain to the one it "
                                  "holds: this store went back in time "
                                  "unnoticed (a whole folder copied back?); "
                                  "its feed is learnt again from this peer "
                                  "at the next sync",
                                  who, c.partition, (unsigned long long)c.seq)
                     : wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu does "
                                  "not chain to the previous one", who,
                                  c.partition, (unsigned long long)c.seq);
            break;
        }
        if (cs[i].has_sig) {
            if (wg_verify(cs[i].sig, hash, WG_HASH_BYTES, c.origin) != WG_OK) {
                rc = wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu has a bad "
                                "signature", who, c.partition,
                                (unsigned long long)c.seq);
                break;
            }
            fs->unsigned_n = 0;
        } else {
            fs->unsigned_n++;
        }
        if (c.seq > (uint64_t)WG_SEQ_MAX) {
            rc = wg_err_set(err, WG_ERR_PROTO, "feed %s/%s is too long", who,
                            c.partition);
            break;
        }
        /* A clock beyond the drift limit would win every later edit of
         * what it touches, everywhere, for ever: the change is refused
         * (and with it the batch), so it is held at its sender until our
         * wall clock comes within the limit of it. */
        if ((c.hlc >> 16) > now + WG_HLC_MAX_DRIFT_MS) {
            skewed++;
            ahead = (c.hlc >> 16) - now;
            rc = wg_err_set(err, WG_ERR_AUTH, "change %s/%s#%llu has a clock "
                            "%llu s ahead of this node's (over the %d s "
                            "allowed): refused until the clocks agree", who,
                            c.partition, (unsigned long long)c.seq,
                            (unsigned long long)(ahead / 1000),
                            WG_HLC_MAX_DRIFT_MS / 1000);
            break;
        }
        if (net && (rc = rights_ok(st, &mem, &mem_stale, &cache, root, &c,
                                   who, err)))
            break;
        if ((rc = peer_values_ok(&c, who, err)))
            break;
        wg_store__hlc_observe(st, c.hlc);
        int64_t k = WG_CHANGE_KEY(fs->fid, c.seq), prev;
        if ((rc = wg_store__merge(st, &c, oid, 0, k, &prev, err)) ||
            (rc = wg_store__put_change(st, k, cs[i].body, cs[i].len, hash,
                                       cs[i].has_sig ? cs[i].sig : NULL, prev,
                                       err)))
            break;
        /* Written by a newer schema: kept and relayed as it is, merged as
         * far as this build knows it, the rest when it is upgraded. */
        if (!wg_change_known(&c) &&
            (rc = wg_store__run(st, "keeping a change for later", err,
                                "INSERT OR IGNORE INTO unmerged(k) VALUES(?)",
                                "i", k)))
            break;
        fs->head = c.seq;
        memcpy(fs->head_hash, hash, WG_HASH_BYTES);
        fresh++;
        if (c.table == WG_TABLE_MEMBER) {
            mem_stale = 1;
            saw_member = 1;
            wg_store__own_forget(st);
            st->member_gen++;
        }
    }
    if (rc == WG_OK && !saw_member && mem) {
        /* Kept for the next batch: loaded before anything of this one,
         * which wrote no certificate (one that did, or a refused one,
         * loads again). */
        st->mem_cache = mem;
        st->mem_cache_gen = st->member_gen;
        mem = NULL;
        if (cache.valid) {
            memcpy(st->rights_origin, cache.origin, WG_SIGN_PK_BYTES);
            st->rights_valid = 1;
            st->rights_at_ms = cache.at_ms;
        }
    }
    wg_members_destroy(&mem);
    for (int i = 0; rc == WG_OK && i < st->ntf; i++)
        if (st->tf[i].unsigned_n)
            rc = wg_err_set(err, WG_ERR_AUTH, "batch ends with %u unsigned "
                            "changes in feed %s", st->tf[i].unsigned_n,
                            st->tf[i].part);
    if (rc == WG_OK)
        rc = wg_store__fork_audit(st, err);
    if (rc == WG_OK)
        rc = wg_store__flush_feeds(st, err);
    if (rc == WG_OK) {
        rc = wg_store__commit(st, err);
        st->in_txn = 0;
        wg_store__forget_feeds(st);
    } else {
        wg_store_rollback(st);
    }
    wg_store__fork_done(st, rc == WG_OK);
    if (relearn)
        wg_store__own_seen_forget(st, relearn_part);
    if (frozen_oid) {
        freeze(st, frozen_oid, frozen_part, frozen_seq, frozen_held,
               cs + proof_at, proof_end - proof_at + 1);
        wg_proof *p = &st->frozen_proof;
        memset(p, 0, sizeof *p);
        wg_change c0;
        if (wg_change_decode(cs[proof_at].body, cs[proof_at].len, &c0,
                             NULL) == WG_OK)
            memcpy(p->origin, c0.origin, WG_SIGN_PK_BYTES);
        snprintf(p->partition, sizeof p->partition, "%s", frozen_part);
        p->seq = frozen_seq;
        memcpy(p->held, frozen_held, WG_HASH_BYTES);
        wg_hash(p->other, cs[proof_at].body, cs[proof_at].len);
        p->chain_len = (int)(proof_end - proof_at + 1);
        p->frozen = 1;
        st->froze = 1;
    }
    if (skewed)
        wg_store__logf(st, WG_LOG_WARN, "a change's clock is more than %d s "
                       "ahead of ours; refused", WG_HLC_MAX_DRIFT_MS / 1000);
    st->skew_n = skewed;
    st->skew_ahead_ms = ahead;
    if (rc == WG_OK)
        *applied = fresh;
    return rc;
}

int wg_store_apply_froze(const wg_store *st, wg_proof *out)
{
    if (st->froze && out)
        *out = st->frozen_proof;
    return st->froze;
}

uint32_t wg_store_apply_skew(const wg_store *st, uint64_t *ahead_ms)
{
    *ahead_ms = st->skew_ahead_ms;
    return st->skew_n;
}

wg_rc wg_store_feed_read(wg_store *st, const uint8_t origin[WG_SIGN_PK_BYTES],
                         const char *partition, uint64_t after, size_t max,
                         wg_change_fn fn, void *ctx, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(
        st, "SELECT f.fid FROM feed f JOIN origin o ON o.oid = f.oid "
            "WHERE o.key = ? AND f.part = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_blob(s, 1, origin, WG_SIGN_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, partition, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    int64_t fid = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "reading a feed", err);
    if (r == SQLITE_DONE || after >= (uint64_t)WG_SEQ_MAX || max == 0)
        return WG_OK;
    /* From the change at AFTER itself (when there is one): its hash is the
     * prev of the first change sent. */
    if ((rc = wg_store__prepare(st, "SELECT k, body, sig, hash FROM change "
                                    "WHERE k >= ? AND k <= ? ORDER BY k "
                                    "LIMIT ?", &s, err)))
        return rc;
    sqlite3_bind_int64(s, 1, WG_CHANGE_KEY(fid, after));
    sqlite3_bind_int64(s, 2, WG_CHANGE_KEY(fid, WG_SEQ_MAX));
    sqlite3_bind_int64(s, 3, max >= INT64_MAX ? INT64_MAX
                                              : (sqlite3_int64)max + 1);
    uint8_t prev[WG_HASH_BYTES], *buf = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    uint64_t have = 0; /* the seq whose hash PREV holds */
    size_t sent = 0;
    char who[9];
    short_key(who, origin);
    memset(prev, 0, sizeof prev);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)(sqlite3_column_int64(s, 0) & WG_SEQ_MAX);
        if (sqlite3_column_bytes(s, 3) != WG_HASH_BYTES) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "change %s/%s#%llu has a "
                            "malformed hash", who, partition,
                            (unsigned long long)seq);
            break;
        }
        if (seq > after) {
            wg_signed_change c;
            if (seq != have + 1) {
                rc = wg_err_set(err, WG_ERR_CORRUPT, "feed %s/%s lacks change "
                                "%llu", who, partition,
                                (unsigned long long)(seq - 1));
                break;
            }
            c.body = buf;
            c.len = wg_change_rebuild(
                origin, partition, seq, prev, sqlite3_column_blob(s, 1),
                (size_t)sqlite3_column_bytes(s, 1), buf);
            if (c.len == 0) {
                rc = wg_err_set(err, WG_ERR_CORRUPT, "change %s/%s#%llu is "
                                "malformed", who, partition,
                                (unsigned long long)seq);
                break;
            }
            c.has_sig = sqlite3_column_bytes(s, 2) == WG_SIG_BYTES;
            if (c.has_sig)
                memcpy(c.sig, sqlite3_column_blob(s, 2), WG_SIG_BYTES);
            if (fn(ctx, &c, seq) || ++sent == max)
                break;
        }
        memcpy(prev, sqlite3_column_blob(s, 3), WG_HASH_BYTES);
        have = seq;
    }
    if (rc == WG_OK && r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading a feed", err);
    sqlite3_finalize(s);
    free(buf);
    return rc;
}

wg_rc wg_store_feeds(wg_store *st, wg_feed_fn fn, void *ctx, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(
        st, "SELECT o.key, f.part, f.head, f.head_hash, f.frozen FROM feed f "
            "JOIN origin o ON o.oid = f.oid ORDER BY o.key, f.part", &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_feed_head h;
        memset(&h, 0, sizeof h);
        if (sqlite3_column_bytes(s, 0) != WG_SIGN_PK_BYTES ||
            sqlite3_column_bytes(s, 3) != WG_HASH_BYTES)
            continue;
        memcpy(h.origin, sqlite3_column_blob(s, 0), WG_SIGN_PK_BYTES);
        snprintf(h.partition, sizeof h.partition, "%s",
                 (const char *)sqlite3_column_text(s, 1));
        h.head = (uint64_t)sqlite3_column_int64(s, 2);
        memcpy(h.head_hash, sqlite3_column_blob(s, 3), WG_HASH_BYTES);
        h.frozen = sqlite3_column_int(s, 4);
        if (fn(ctx, &h))
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "listing feeds", err);
    sqlite3_finalize(s);
    return rc;
}

/* ---- recheck -------------------------------------------------------------- */

#define PROBLEM(...)                                                          \
    do {                                                                      \
        char what_[200];                                                      \
        snprintf(what_, sizeof what_, __VA_ARGS__);                           \
        fn(ctx, what_);                                                       \
        (*bad)++;                                                             \
    } while (0)

/* How far from its row explain() looks for where a change belongs. */
#define EXPLAIN_WINDOW 8
/* How many mismatched changes one recheck tries to explain. */
#define EXPLAIN_BUDGET 1000

/* A stored change whose bytes, rebuilt for its row, do not hash to its
 * `hash`: find the seq (near SEQ) and prev (the hash of a change near it, or
 * zeros) it does hash under. 1 and *FOUND if there is one: the change was
 * moved (FOUND != SEQ) or the change before it replaced. */
static int explain(wg_store *st, sqlite3_stmt **near, int64_t fid,
                   const uint8_t *key, const char *part, uint64_t seq,
                   const uint8_t *tail, size_t tlen, const uint8_t *want,
                   uint8_t *buf, uint64_t *found)
{
    uint8_t prevs[2 * EXPLAIN_WINDOW + 3][WG_HASH_BYTES], hash[WG_HASH_BYTES];
    int np = 1, r;
    uint64_t lo = seq > EXPLAIN_WINDOW ? seq - EXPLAIN_WINDOW : 1;
    uint64_t hi = seq + EXPLAIN_WINDOW;
    if (hi > (uint64_t)WG_SEQ_MAX)
        hi = (uint64_t)WG_SEQ_MAX;
    if (!*near && wg_store__prepare(st, "SELECT hash FROM change WHERE k >= ? "
                                        "AND k <= ? ORDER BY k", near, NULL))
        return 0;
    sqlite3_reset(*near);
    sqlite3_bind_int64(*near, 1, WG_CHANGE_KEY(fid, lo - 1));
    sqlite3_bind_int64(*near, 2, WG_CHANGE_KEY(fid, hi));
    memset(prevs[0], 0, WG_HASH_BYTES);
    while (np < 2 * EXPLAIN_WINDOW + 3 &&
           (r = sqlite3_step(*near)) == SQLITE_ROW)
        if (sqlite3_column_bytes(*near, 0) == WG_HASH_BYTES)
            memcpy(prevs[np++], sqlite3_column_blob(*near, 0), WG_HASH_BYTES);
    sqlite3_reset(*near);
    for (uint64_t s = lo; s <= hi; s++)
        for (int i = s == 1 ? 0 : 1; i < (s == 1 ? 1 : np); i++) {
            size_t n = wg_change_rebuild(key, part, s, prevs[i], tail,
                                              tlen, buf);
            if (n == 0)
                return 0;
            wg_hash(hash, buf, n);
            if (memcmp(hash, want, WG_HASH_BYTES) == 0) {
                *found = s;
                return 1;
            }
        }
    return 0;
}

wg_rc wg_store_verify_feeds(wg_store *st, wg_problem_fn fn, void *ctx,
                            long *checked, long *bad, wg_err *err)
{
    sqlite3_stmt *feeds, *s, *near = NULL;
    *checked = *bad = 0;
    wg_rc rc = wg_store__prepare(
        st, "SELECT f.oid, o.key, f.part, f.head, f.head_hash, f.frozen, "
            "f.fid FROM feed f JOIN origin o ON o.oid = f.oid "
            "ORDER BY f.oid, f.part",
        &feeds, err);
    if (rc)
        return rc;
    if ((rc = wg_store__prepare(st, "SELECT k, hash, sig, body FROM change "
                                    "WHERE k > ? AND k <= ? ORDER BY k",
                                &s, err))) {
        sqlite3_finalize(feeds);
        return rc;
    }
    uint8_t *buf = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    int budget = EXPLAIN_BUDGET;
    int r;
    while ((r = sqlite3_step(feeds)) == SQLITE_ROW) {
        uint8_t key[WG_SIGN_PK_BYTES], prev[WG_HASH_BYTES];
        char who[9], part[WG_PARTITION_MAX + 1];
        if (sqlite3_column_bytes(feeds, 1) != WG_SIGN_PK_BYTES) {
            PROBLEM("feed of origin #%lld: malformed origin key",
                    (long long)sqlite3_column_int64(feeds, 0));
            continue;
        }
        memcpy(key, sqlite3_column_blob(feeds, 1), WG_SIGN_PK_BYTES);
        short_key(who, key);
        snprintf(part, sizeof part, "%s",
                 (const char *)sqlite3_column_text(feeds, 2));
        uint64_t head = (uint64_t)sqlite3_column_int64(feeds, 3);
        if (sqlite3_column_int(feeds, 5))
            PROBLEM("feed %s/%s: frozen after an equivocation", who, part);
        /* PREV: the stored hash of the change before, as every reader
         * rebuilds a change's bytes with. */
        memset(prev, 0, sizeof prev);
        uint64_t expect = 1;
        int last_signed = 0;
        int64_t fid = sqlite3_column_int64(feeds, 6);
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, WG_CHANGE_KEY(fid, 0));
        sqlite3_bind_int64(s, 2, WG_CHANGE_KEY(fid, WG_SEQ_MAX));
        int r2;
        while ((r2 = sqlite3_step(s)) == SQLITE_ROW) {
            uint64_t seq = (uint64_t)(sqlite3_column_int64(s, 0) & WG_SEQ_MAX);
            const uint8_t *tail = sqlite3_column_blob(s, 3);
            size_t tlen = (size_t)sqlite3_column_bytes(s, 3);
            const uint8_t *have = sqlite3_column_bytes(s, 1) == WG_HASH_BYTES
                                      ? sqlite3_column_blob(s, 1)
                                      : NULL;
            uint8_t hash[WG_HASH_BYTES];
            wg_change c;
            int gap = seq != expect;
            (*checked)++;
            if (gap)
                PROBLEM("feed %s/%s: change %llu is missing", who, part,
                        (unsigned long long)expect);
            size_t len = wg_change_rebuild(key, part, seq, prev, tail,
                                                tlen, buf);
            if (len == 0 || wg_change_decode(buf, len, &c, NULL) != WG_OK)
                PROBLEM("feed %s/%s: change %llu is malformed", who, part,
                        (unsigned long long)seq);
            if (len)
                wg_hash(hash, buf, len);
            else
                memset(hash, 0, sizeof hash);
            if (len && (!have || memcmp(hash, have, WG_HASH_BYTES))) {
                uint64_t at = 0;
                int why = 0;
                if (!gap && have && budget > 0) {
                    budget--;
                    why = explain(st, &near, fid, key, part, seq, tail, tlen,
                                  have, buf, &at);
                }
                if (gap || (why && at == seq))
                    PROBLEM("feed %s/%s: change %llu does not chain to the "
                            "change before it", who, part,
                            (unsigned long long)seq);
                else if (why)
                    PROBLEM("feed %s/%s: change %llu belongs elsewhere "
                            "(%llu in its bytes): reordered or moved", who,
                            part, (unsigned long long)seq,
                            (unsigned long long)at);
                else
                    PROBLEM("feed %s/%s: change %llu was altered (hash "
                            "mismatch)", who, part, (unsigned long long)seq);
            }
            /* A signature signs the stored hash, checked against the bytes
             * just above. */
            last_signed = sqlite3_column_bytes(s, 2) == WG_SIG_BYTES;
            if (last_signed &&
                wg_verify(sqlite3_column_blob(s, 2), have ? have : hash,
                          WG_HASH_BYTES, key) != WG_OK)
                PROBLEM("feed %s/%s: change %llu has a signature that does "
                        "not verify under its origin", who, part,
                        (unsigned long long)seq);
            memcpy(prev, have ? have : hash, WG_HASH_BYTES);
            expect = seq + 1;
        }
        if (r2 != SQLITE_DONE) {
            rc = wg_store__sqlerr(st, r2, "rechecking feeds", err);
            break;
        }
        if (expect - 1 != head)
            PROBLEM("feed %s/%s: holds up to %llu but its head says %llu", who,
                    part, (unsigned long long)(expect - 1),
                    (unsigned long long)head);
        else if (sqlite3_column_bytes(feeds, 4) != WG_HASH_BYTES ||
                 memcmp(prev, sqlite3_column_blob(feeds, 4), WG_HASH_BYTES))
            PROBLEM("feed %s/%s: head hash does not match its last change",
                    who, part);
        if (head && !last_signed)
            PROBLEM("feed %s/%s: last change %llu is not signed", who, part,
                    (unsigned long long)head);
    }
    if (rc == WG_OK && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "rechecking feeds", err);
    free(buf);
    sqlite3_finalize(near);
    sqlite3_finalize(s);
    sqlite3_finalize(feeds);
    return rc;
}

/* ---- canonical dump ----------------------------------------------------- */

wg_rc wg_store_dump(wg_store *st, wg_buf *out, wg_err *err)
{
    wg_rc rc = WG_OK;
    const wg_table *t;
    for (int ti = 0; rc == WG_OK && (t = wg_schema_all(ti)); ti++) {
        if (t == wg_schema_audit())
            continue; /* each node's own sessions: not part of the records */
        int nf = t->nfields;
        wg_buf q;
        sqlite3_stmt *s = NULL;
        wg_buf_init(&q, 1024);
        rc = wg_buf_printf(&q, err, "SELECT id");
        for (int i = 0; rc == WG_OK && i < nf; i++)
            rc = wg_buf_printf(&q, err, ", %s", t->fields[i].name);
        if (rc == WG_OK)
            rc = wg_buf_printf(&q, err, ", deleted, clocks FROM %s ORDER BY id",
                               t->name);
        if (rc == WG_OK)
            rc = wg_buf_cstr(&q, err);
        if (rc == WG_OK)
            rc = wg_store__prepare(st, (const char *)q.data, &s, err);
        wg_buf_release(&q);
        if (rc)
            break;
        rc = wg_buf_printf(out, err, "[%s]\n", t->name);
        int r = SQLITE_DONE;
        while (rc == WG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
            rc = wg_buf_printf(out, err, "t%s",
                               (const char *)sqlite3_column_text(s, 0));
            for (int i = 1; rc == WG_OK && i <= nf + 1; i++) {
                int ty = sqlite3_column_type(s, i);
                if (ty == SQLITE_NULL)
                    rc = wg_buf_printf(out, err, "|~");
                else if (ty == SQLITE_INTEGER)
                    rc = wg_buf_printf(out, err, "|i%lld",
                                       (long long)sqlite3_column_int64(s, i));
                else
                    rc = wg_buf_printf(out, err, "|t%s",
                                       (const char *)sqlite3_column_text(s, i));
            }
            wg_clock cl[WG_MAX_FIELDS + 1];
            if (rc == WG_OK)
                rc = wg_store__clocks_decode(
                    sqlite3_column_blob(s, nf + 2),
                    (size_t)sqlite3_column_bytes(s, nf + 2), nf + 1, cl, err);
            for (int i = 0; rc == WG_OK && i <= nf; i++) {
                char k[WG_KEY_HEX_CHARS + 1] = "-";
                if (cl[i].oid && cl[i].oid < st->nokeys)
                    wg_hex_encode(k, st->okeys[cl[i].oid], WG_SIGN_PK_BYTES);
                rc = wg_buf_printf(out, err, "|%llu@%s",
                                   (unsigned long long)cl[i].hlc, k);
            }
            if (rc == WG_OK)
                rc = wg_buf_printf(out, err, "\n");
        }
        if (rc == WG_OK && r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "dumping records", err);
        sqlite3_finalize(s);
    }
    return rc;
}
