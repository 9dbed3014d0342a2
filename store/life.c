/*
 * life.c - a node that went back in time: the rollback mark, held writes
 *
 * The rollback mark, DIR/wings.mark, lives beside the database and outside
 * it, so an older wings.db, a cut or older WAL put back under a newer mark
 * shows. It counts changes, which only ever grow: `total`, every feed's
 * head summed (what the store holds), and `own`, the same over this node's
 * own feeds (what it signed). Two 64-byte slots, each
 *
 *   0   "WGMK"  4     version 1    flags 1 (0)    reserved 2
 *   8   gen     8     slot written last has the highest gen
 *   16  total   8
 *   24  own     8
 *   32  mac    32     BLAKE2b("wings-mark-v1" NUL || node secret key ||
 *                     bytes 0..32), so no one without the node's key
 *                     writes one (the key never changes, rekey included)
 *
 * integers big-endian; slot gen & 1 is written next. At open the mark is
 * made afresh (O_EXCL|O_NOFOLLOW beside it, fsync, rename, fsync of the
 * folder) and kept open; after each commit that grew the counts the next
 * slot is overwritten in place WITHOUT fsync: a process that dies keeps
 * its page-cache write, and a power cut can only leave the mark behind the
 * database (the database's commit was synced first), never ahead of it, so
 * a mark never accuses a healthy store. A torn slot fails its MAC and the
 * other slot speaks. Close syncs the last slot.
 *
 * At open (wg_store__life_open):
 *
 *   mark missing (a node from before marks)    made now, nothing held
 *   no slot authentic                          warning; made afresh
 *   DIR/wings.restored (left by restore)       HOLD "restore"
 *   db total < mark total or own < own         HOLD "rollback", hw = own
 *   otherwise                                  healthy
 *
 * HOLD (meta life_hold, life_since, life_hw): this node may be behind
 * what its peers hold of its own feeds, and signing the next seq could
 * sign a second change where it signed one before. So a local write is
 * merged into the tables at once (the clerk sees it) but not appended to
 * a feed: its change waits in `held`, unnumbered and unsigned
 * (wg_store__hold_change). Sessions meanwhile bring back whatever peers
 * hold of this node's feeds (they are ordinary signed changes). The hold
 * lists every peer (`held_wait`); a session that ends well strikes its
 * peer off (a peer removed counts as struck). When none is left, no one
 * can hold more of its feeds than it does, and wg_store_life_check()
 * releases: each held
 * change, in order, gets the next seq after what came back, is chained,
 * merged again under its key (same clock, so no value moves) and signed.
 * What no peer gave back by then (own < hw) was lost with the rollback:
 * said in the audit entry that closes the hold, never silently.
 *
 * A whole folder copied back (wings.mark with it) looks healthy at open:
 * its peers tell. Table own_seen (peer, part, seq) keeps how far each peer
 * was verified to hold each own feed exactly as this store does (set when
 * a session ends well; at open, a store without the table gets one row
 * per peer and own feed at its head). Sessions advertise an own feed only
 * that far, so the peer sends back what it holds beyond. A change of the
 * own feed that differs from the one held at its seq and is signed by
 * this node is proof (wg_store_apply, feed.c); in the batch's transaction
 * wg_store__fork_repair():
 *
 *   own changes seq..head   --> `held`, in order, before any held already
 *   records (chg) and later changes (prev) naming one --> its prev
 *   the feed                --> cut to seq - 1 (head, head hash)
 *   own_seen of every peer  --> at most seq - 1
 *   the mark                --> lowered by what was cut, synced before the
 *                               commit (never ahead of the store)
 *   HOLD "fork", every peer waited for; meta fork:PART = seq
 *
 * and the peer's changes continue the feed as ordinary ones. After the
 * commit an audit entry `fork` names the peer and the seq. The release
 * above signs the moved changes after what came back. A different change
 * at or below a seq repaired from before (a second peer with the other
 * version) is this node's real equivocation: refused, never frozen.
 */
#include "store_int.h"
#include "wg_life.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MARK_LABEL "wings-mark-v1"
#define MARK_VERSION 1
#define MARK_BODY 32
#define HELD_SQL "CREATE TABLE IF NOT EXISTS held(n INTEGER PRIMARY KEY, " \
                 "body BLOB NOT NULL);"                                        \
                 "CREATE TABLE IF NOT EXISTS held_wait(name TEXT PRIMARY KEY);"\
                 "INSERT OR IGNORE INTO held_wait SELECT name FROM peer"

/* ---- the mark's bytes ------------------------------------------------------ */

void wg_mark_key(uint8_t key[WG_HASH_BYTES],
                 const uint8_t sk[WG_SIGN_SK_BYTES])
{
    wg_hash_state h;
    wg_hash_init(&h);
    wg_hash_update(&h, MARK_LABEL, sizeof MARK_LABEL); /* with its NUL */
    wg_hash_update(&h, sk, WG_SIGN_SK_BYTES);
    wg_hash_final(&h, key);
    wg_wipe(&h, sizeof h);
}

static void mac(uint8_t out[WG_HASH_BYTES], const uint8_t *body,
                const uint8_t key[WG_HASH_BYTES])
{
    wg_hash_state h;
    wg_hash_init(&h);
    wg_hash_update(&h, key, WG_HASH_BYTES);
    wg_hash_update(&h, body, MARK_BODY);
    wg_hash_final(&h, out);
    wg_wipe(&h, sizeof h);
}

void wg_mark_seal(uint8_t slot[WG_MARK_SLOT], const wg_mark *m,
                  const uint8_t key[WG_HASH_BYTES])
{
    memset(slot, 0, WG_MARK_SLOT);
    memcpy(slot, "WGMK", 4);
    slot[4] = MARK_VERSION;
    wg_put_u64be(slot + 8, m->gen);
    wg_put_u64be(slot + 16, m->total);
    wg_put_u64be(slot + 24, m->own);
    mac(slot + MARK_BODY, slot, key);
}

int wg_mark_open(const uint8_t slot[WG_MARK_SLOT],
                 const uint8_t key[WG_HASH_BYTES], wg_mark *m)
{
    uint8_t want[WG_HASH_BYTES];
    mac(want, slot, key);
    if (!wg_equal(want, slot + MARK_BODY, WG_HASH_BYTES) ||
        memcmp(slot, "WGMK", 4) != 0 || slot[4] != MARK_VERSION)
        return -1;
    m->gen = wg_get_u64be(slot + 8);
    m->total = wg_get_u64be(slot + 16);
    m->own = wg_get_u64be(slot + 24);
    return 0;
}

int wg_mark_pick(const uint8_t *file, size_t n,
                 const uint8_t key[WG_HASH_BYTES], wg_mark *m)
{
    int found = 0;
    for (size_t at = 0; at + WG_MARK_SLOT <= n && at < 2 * WG_MARK_SLOT;
         at += WG_MARK_SLOT) {
        wg_mark s;
        if (wg_mark_open(file + at, key, &s) == 0 &&
            (!found || s.gen > m->gen)) {
            *m = s;
            found = 1;
        }
    }
    return found;
}

int wg_mark_behind(const wg_mark *m, uint64_t total, uint64_t own)
{
    return total < m->total || own < m->own;
}

/* ---- the mark's file ------------------------------------------------------- */

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = wg_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void write_slot(wg_store *st, int sync)
{
    if (st->mark_fd < 0)
        return;
    uint8_t slot[WG_MARK_SLOT];
    wg_mark m = { ++st->mark.gen, st->mark.total, st->mark.own };
    wg_mark_seal(slot, &m, st->mark_key);
    off_t at = (off_t)(m.gen & 1) * WG_MARK_SLOT;
    if (pwrite(st->mark_fd, slot, sizeof slot, at) != (ssize_t)sizeof slot ||
        (sync && fdatasync(st->mark_fd) != 0))
        wg_store__logf(st, WG_LOG_WARN, "cannot update the rollback mark: %s",
                       strerror(errno));
}

/* Make DIR/wings.mark afresh holding ST->mark in both slots and keep it
 * open for the updates after each commit. */
static wg_rc mark_create(wg_store *st, wg_err *err)
{
    char *path = join(st->dir, WG_STORE_MARKFILE), *tmp = NULL;
    int fd = wg_store_file_create(path, &tmp, err);
    wg_rc rc = fd < 0 ? (err ? err->code : WG_ERR_IO) : WG_OK;
    if (rc == WG_OK) {
        uint8_t both[2 * WG_MARK_SLOT];
        wg_mark m = st->mark;
        wg_mark_seal(both, &m, st->mark_key);
        m.gen++;
        wg_mark_seal(both + WG_MARK_SLOT, &m, st->mark_key);
        st->mark.gen = m.gen;
        int keep = dup(fd);
        if (keep < 0 || pwrite(fd, both, sizeof both, 0) != (ssize_t)sizeof both)
            rc = wg_err_set(err, WG_ERR_IO, "cannot write '%s': %s", tmp,
                            strerror(errno));
        if (rc == WG_OK) {
            rc = wg_store_file_commit(fd, &tmp, path, err); /* closes FD */
            fd = -1;
        }
        if (rc == WG_OK)
            st->mark_fd = keep;
        else if (keep >= 0)
            close(keep);
    }
    wg_store_file_abandon(fd, &tmp);
    free(path);
    return rc;
}

/* ---- counting ---------------------------------------------------------------- */

static wg_rc count_heads(wg_store *st, uint64_t *total, uint64_t *own,
                         wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, "SELECT coalesce(sum(head), 0), "
                               "coalesce(sum(CASE WHEN oid = ? THEN head END), "
                               "0) FROM feed", "i", (int64_t)st->self_oid);
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *total = (uint64_t)sqlite3_column_int64(s, 0);
        *own = (uint64_t)sqlite3_column_int64(s, 1);
    } else {
        rc = wg_store__sqlerr(st, r, "counting changes", err);
    }
    sqlite3_finalize(s);
    return rc;
}

void wg_store__life_committed(wg_store *st)
{
    st->total += st->pend_total;
    st->own += st->pend_own;
    st->pend_total = st->pend_own = 0;
    if (st->total > st->mark.total || st->own > st->mark.own) {
        if (st->total > st->mark.total)
            st->mark.total = st->total;
        if (st->own > st->mark.own)
            st->mark.own = st->own;
        write_slot(st, 0);
    }
}

/* ---- meta ----------------------------------------------------------------------- */

static wg_rc meta_int(wg_store *st, const char *k, int64_t *v, int *found,
                      wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, "SELECT CAST(v AS INTEGER) FROM "
                               "meta WHERE k = ?", "t", k);
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    *found = r == SQLITE_ROW;
    *v = *found ? sqlite3_column_int64(s, 0) : 0;
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading node settings", err);
    sqlite3_finalize(s);
    return rc;
}

static wg_rc meta_set(wg_store *st, const char *k, const char *v, wg_err *err)
{
    return wg_store__run(st, "writing node settings", err,
                         "INSERT OR REPLACE INTO meta(k, v) VALUES(?, ?)",
                         "tb", k, v, (int)strlen(v));
}

/* Begin holding (or keep holding) with REASON; HW: own changes signed
 * before the rollback (0: unknown). */
static wg_rc hold(wg_store *st, const char *reason, uint64_t hw, wg_err *err)
{
    int64_t since, old_hw;
    int held, has_hw;
    char buf[32];
    wg_rc rc = wg_store__begin(st, err);
    if (rc == WG_OK)
        rc = wg_store__exec(st, HELD_SQL, err);
    if (rc == WG_OK)
        rc = meta_int(st, "life_since", &since, &held, err);
    if (rc == WG_OK)
        rc = meta_int(st, "life_hw", &old_hw, &has_hw, err);
    if (rc == WG_OK && !held) {
        snprintf(buf, sizeof buf, "%lld", (long long)time(NULL));
        rc = meta_set(st, "life_since", buf, err);
    }
    if (rc == WG_OK && (uint64_t)old_hw < hw) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)hw);
        rc = meta_set(st, "life_hw", buf, err);
    }
    if (rc == WG_OK)
        rc = meta_set(st, "life_hold", reason, err);
    if (rc == WG_OK)
        rc = wg_store__commit(st, err);
    else
        wg_store__rollback(st);
    if (rc == WG_OK)
        st->held = 1;
    return rc;
}

static wg_rc own_seen_open(wg_store *st, wg_err *err);

/* ---- open and close --------------------------------------------------------- */

wg_rc wg_store__life_open(wg_store *st, wg_err *err)
{
    st->mark_key = wg_secret_alloc(WG_HASH_BYTES);
    wg_mark_key(st->mark_key, st->sk);
    wg_rc rc = count_heads(st, &st->total, &st->own, err);
    if (rc == WG_OK)
        rc = own_seen_open(st, err);
    if (rc)
        return rc;
    char *path = join(st->dir, WG_STORE_MARKFILE);
    char *restored = join(st->dir, WG_STORE_RESTOREDFILE);
    uint8_t file[2 * WG_MARK_SLOT];
    ssize_t n = -1;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, file, sizeof file);
        close(fd);
    }
    wg_mark m = { 0, 0, 0 };
    int have = n > 0 && wg_mark_pick(file, (size_t)n, st->mark_key, &m);
    struct stat sb;
    int was_restored = lstat(restored, &sb) == 0;
    if (fd >= 0 && !have && !was_restored)
        st->notice = WG_LIFE_MARK_DAMAGED;
    if (was_restored) {
        rc = hold(st, "restore", 0, err);
    } else if (have && wg_mark_behind(&m, st->total, st->own)) {
        st->notice = WG_LIFE_ROLLED_BACK;
        st->missing = m.total > st->total ? m.total - st->total : 0;
        st->missing_own = m.own > st->own ? m.own - st->own : 0;
        rc = hold(st, "rollback", m.own, err);
    }
    if (rc == WG_OK && !st->held) {
        int64_t since;
        int held;
        rc = meta_int(st, "life_since", &since, &held, err);
        st->held = held;
    }
    /* Never lower the mark: a rollback stays visible until it is made good. */
    st->mark.gen = m.gen;
    st->mark.total = m.total > st->total ? m.total : st->total;
    st->mark.own = m.own > st->own ? m.own : st->own;
    if (rc == WG_OK) {
        wg_err merr = { 0 };
        if (mark_create(st, &merr) != WG_OK) {
            /* A full disk must not keep a node from opening (to read, or
             * to sync the space free): the mark stays where it is and is
             * updated in place, which needs no new block; without a valid
             * one, the next open makes it. Behind is safe: never ahead. */
            st->mark_fd = have ? open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
                               : -1;
            wg_store__logf(st, WG_LOG_WARN, "cannot make the rollback mark "
                           "afresh (%s): %s", merr.msg, st->mark_fd >= 0
                           ? "it is updated in place"
                           : "it is made at the next open");
        }
    }
    if (rc == WG_OK && was_restored) {
        unlink(restored);
        int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(path);
    free(restored);
    if (rc == WG_OK && st->held)
        rc = wg_store_life_check(st, NULL, err);
    return rc;
}

void wg_store__life_close(wg_store *st)
{
    if (st->mark_fd >= 0) {
        write_slot(st, 1);
        close(st->mark_fd);
        st->mark_fd = -1;
    }
    wg_secret_free(st->mark_key);
    st->mark_key = NULL;
}

int wg_store_life_notice(const wg_store *st, uint64_t *missing,
                         uint64_t *missing_own)
{
    *missing = st->missing;
    *missing_own = st->missing_own;
    return st->notice;
}

/* ---- held writes --------------------------------------------------------------- */

wg_rc wg_store__hold_change(wg_store *st, wg_change *c, int fresh,
                            wg_err *err)
{
    /* Unnumbered: seq 1 and no prev stand in until the release. */
    memcpy(c->origin, st->info.pk, WG_SIGN_PK_BYTES);
    c->seq = 1;
    memset(c->prev, 0, WG_HASH_BYTES);
    c->hlc = wg_store__hlc_tick(st);
    wg_buf_reset(&st->enc);
    wg_rc rc = wg_change_encode(c, &st->enc, err);
    int64_t prev = 0;
    if (rc == WG_OK)
        rc = wg_store__merge(st, c, st->self_oid, fresh, 0, &prev, err);
    if (rc == WG_OK)
        rc = wg_store__run(st, "holding a write", err,
                           "INSERT INTO held(body) VALUES(?)", "b",
                           st->enc.data, (int)st->enc.len);
    return rc;
}

wg_rc wg_store_life_state(wg_store *st, wg_life_state *out, wg_err *err)
{
    memset(out, 0, sizeof *out);
    out->held = st->held;
    out->own = st->own;
    out->missing = st->mark.total > st->total ? st->mark.total - st->total : 0;
    out->missing_own = st->mark.own > st->own ? st->mark.own - st->own : 0;
    if (!st->held)
        return WG_OK;
    int found;
    int64_t v = 0;
    wg_rc rc = meta_int(st, "life_since", &out->since, &found, err);
    if (rc == WG_OK)
        rc = meta_int(st, "life_hw", &v, &found, err);
    out->hw = (uint64_t)v;
    sqlite3_stmt *s;
    if (rc == WG_OK &&
        (rc = wg_store__query(st, &s, err, "SELECT v FROM meta WHERE k = "
                              "'life_hold'", "")) == WG_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            snprintf(out->reason, sizeof out->reason, "%s",
                     (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    if (rc == WG_OK &&
        (rc = wg_store__query(st, &s, err, "SELECT count(*) FROM held",
                              "")) == WG_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            out->writes = (uint64_t)sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    if (rc == WG_OK &&
        (rc = wg_store__query(st, &s, err, "SELECT name FROM held_wait "
                              "WHERE name IN (SELECT name FROM peer) ORDER "
                              "BY name", "")) == WG_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            size_t at = strlen(out->waiting);
            if (at + 2 + (size_t)sqlite3_column_bytes(s, 0) >=
                sizeof out->waiting)
                break;
            snprintf(out->waiting + at, sizeof out->waiting - at, "%s%s",
                     at ? " " : "", (const char *)sqlite3_column_text(s, 0));
            out->npeers_waiting++;
        }
        sqlite3_finalize(s);
    }
    return rc;
}

/* Give each held change, oldest first, its place at the end of its own
 * feed: seq, prev, signature; the same clock it was merged with. */
static wg_rc release(wg_store *st, uint64_t *released, wg_err *err)
{
    sqlite3_stmt *s;
    *released = 0;
    wg_rc rc = wg_store__query(st, &s, err, "SELECT n, body FROM held ORDER "
                               "BY n", "");
    if (rc)
        return rc;
    uint8_t *body = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    int r;
    while (rc == WG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(s, 1);
        wg_change c;
        if (len > WG_CHANGE_MAX_BYTES) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "a held write is too long");
            break;
        }
        memcpy(body, sqlite3_column_blob(s, 1), len);
        if ((rc = wg_change_decode(body, len, &c, err)))
            break;
        rc = wg_store__append_own(st, &c, 0, 0, err);
        (*released)++;
    }
    if (rc == WG_OK && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading held writes", err);
    sqlite3_finalize(s);
    free(body);
    return rc;
}

wg_rc wg_store_life_check(wg_store *st, const char *synced, wg_err *err)
{
    if (!st->held || st->in_txn)
        return WG_OK;
    wg_life_state ls;
    wg_rc rc = synced ? wg_store__run(st, "noting a session", err,
                                      "DELETE FROM held_wait WHERE name = ?",
                                      "t", synced)
                      : WG_OK;
    if (rc == WG_OK)
        rc = wg_store_life_state(st, &ls, err);
    if (rc || ls.npeers_waiting)
        return rc;
    uint64_t released = 0, lost = ls.hw > st->own ? ls.hw - st->own : 0;
    if ((rc = wg_store_begin(st, err)))
        return rc;
    st->held = 0;
    rc = release(st, &released, err);
    if (rc == WG_OK)
        rc = wg_store__exec(st, "DELETE FROM held; DELETE FROM held_wait",
                            err);
    if (rc == WG_OK)
        rc = wg_store__run(st, "releasing held writes", err,
                           "DELETE FROM meta WHERE k IN ('life_hold', "
                           "'life_since', 'life_hw')", "");
    /* The audit entry commits with the release: a kill between two
     * commits would keep the release and lose its entry. */
    char reason[256];
    snprintf(reason, sizeof reason, "%s: every peer has synced since; %llu "
             "held writes signed after the node's own changes they gave "
             "back%s", ls.reason, (unsigned long long)released,
             lost ? "" : "; nothing lost");
    if (lost)
        snprintf(reason + strlen(reason), sizeof reason - strlen(reason),
                 "; %llu changes this node signed before the rollback were "
                 "held by no peer and are lost", (unsigned long long)lost);
    wg_audit_entry a = { 0 };
    a.event = "release";
    a.result = lost ? "failed" : "ok";
    a.reason = reason;
    a.sent = (int64_t)released;
    if (rc == WG_OK)
        rc = wg_store__audit_add(st, &a, err);
    if (rc == WG_OK) {
        rc = wg_store_commit(st, err);
    } else {
        wg_store_rollback(st);
    }
    if (rc) {
        st->held = 1;
        return rc;
    }
    st->notice = 0;
    /* Resolved: what is still missing is said lost below, and the mark
     * starts again from the store as it now is. */
    st->mark.total = st->total;
    st->mark.own = st->own;
    write_slot(st, 1);
    wg_store__logf(st, lost ? WG_LOG_WARN : WG_LOG_INFO, "%s", reason);
    return WG_OK;
}

/* ---- what peers hold of this node's own feeds -------------------------------- */

#define OWN_SEEN_SQL "CREATE TABLE own_seen(peer TEXT NOT NULL, part TEXT " \
                     "NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(peer, part))"

/* At open: a store that lacks the table gets it, each peer known to hold
 * what this store holds now (an upgrade sends nothing more). */
static wg_rc own_seen_open(wg_store *st, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, "SELECT 1 FROM sqlite_master "
                               "WHERE type = 'table' AND name = 'own_seen'",
                               "");
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r == SQLITE_ROW)
        return WG_OK;
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "reading the schema", err);
    if ((rc = wg_store__begin(st, err)))
        return rc;
    rc = wg_store__exec(st, OWN_SEEN_SQL, err);
    if (rc == WG_OK)
        rc = wg_store__run(st, "noting what peers hold", err,
                           "INSERT INTO own_seen(peer, part, seq) SELECT "
                           "p.name, f.part, f.head FROM peer p, feed f WHERE "
                           "f.oid = ?", "i", (int64_t)st->self_oid);
    if (rc == WG_OK)
        rc = wg_store__commit(st, err);
    else
        wg_store__rollback(st);
    return rc;
}

uint64_t wg_store_own_seen(wg_store *st, const char *peer, const char *part)
{
    sqlite3_stmt *s;
    if (wg_store__query(st, &s, NULL, "SELECT seq FROM own_seen WHERE peer = "
                        "? AND part = ?", "tt", peer, part) != WG_OK)
        return 0;
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return v > 0 ? (uint64_t)v : 0;
}

wg_rc wg_store_own_seen_set(wg_store *st, const char *peer, const char *part,
                            uint64_t seq, wg_err *err)
{
    if (seq > (uint64_t)WG_SEQ_MAX)
        seq = (uint64_t)WG_SEQ_MAX;
    return wg_store__run(st, "noting what a peer holds", err,
                         "INSERT OR REPLACE INTO own_seen(peer, part, seq) "
                         "VALUES(?, ?, min(?, coalesce((SELECT head FROM feed "
                         "WHERE oid = ? AND part = ?), 0)))", "ttiit", peer,
                         part, (int64_t)seq, (int64_t)st->self_oid, part);
}

void wg_store_apply_peer(wg_store *st, const char *peer)
{
    snprintf(st->apply_peer, sizeof st->apply_peer, "%s", peer ? peer : "");
}

void wg_store__own_seen_forget(wg_store *st, const char *part)
{
    if (!st->apply_peer[0] || st->in_txn)
        return;
    wg_store__run(st, "noting what a peer holds", NULL, "UPDATE own_seen SET "
                  "seq = 0 WHERE peer = ? AND part = ?", "tt", st->apply_peer,
                  part);
}

/* ---- a fork of this node's own feed, repaired --------------------------------- */

int wg_store__fork_seen(wg_store *st, const char *part, uint64_t seq)
{
    char k[32 + WG_PARTITION_MAX];
    int64_t v;
    int found;
    snprintf(k, sizeof k, "fork:%s", part);
    return meta_int(st, k, &v, &found, NULL) == WG_OK && found &&
           (uint64_t)v >= seq;
}

/* One change moved out of the feed: its key, the key of its record's change
 * before it, and its record. */
typedef struct moved {
    int64_t k, prev;
    uint8_t table;
    char id[WG_ID_HEX_CHARS + 1];
} moved;

/* Whatever named M as its record's latest change, or as the change before
 * it, names M's own predecessor instead, so history still walks. */
static wg_rc repoint(wg_store *st, const moved *m, wg_err *err)
{
    const wg_table *t = wg_schema_by_wire(m->table);
    if (!t)
        return WG_OK;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT chg FROM %s WHERE id = ?", t->name);
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, sql, "t", m->id);
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    int64_t cur = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (r != SQLITE_ROW)
        return r == SQLITE_DONE ? WG_OK
                                : wg_store__sqlerr(st, r, "reading a record",
                                                   err);
    if (cur == m->k) {
        snprintf(sql, sizeof sql, "UPDATE %s SET chg = ? WHERE id = ?",
                 t->name);
        return wg_store__run(st, "repairing a record's history", err, sql,
                             "it", m->prev, m->id);
    }
    /* A later change of the record (another origin's) named it. */
    for (int steps = 0; cur && steps < 100000; steps++) {
        if ((rc = wg_store__query(st, &s, err, "SELECT prev FROM change "
                                  "WHERE k = ?", "i", cur)))
            return rc;
        r = sqlite3_step(s);
        int64_t p = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_finalize(s);
        if (p == m->k)
            return m->prev
                       ? wg_store__run(st, "repairing a record's history",
                                       err, "UPDATE change SET prev = ? "
                                       "WHERE k = ?", "ii", m->prev, cur)
                       : wg_store__run(st, "repairing a record's history",
                                       err, "UPDATE change SET prev = NULL "
                                       "WHERE k = ?", "i", cur);
        cur = p;
    }
    return WG_OK;
}

wg_rc wg_store__fork_repair(wg_store *st, wg_feed_state *fs, uint64_t seq,
                            wg_err *err)
{
    uint64_t head = fs->head, count = head - seq + 1;
    if (seq == 0 || seq > head)
        return wg_err_set(err, WG_ERR_INTERNAL, "nothing to repair");
    wg_rc rc = wg_store__exec(st, HELD_SQL, err);
    sqlite3_stmt *s;
    int64_t first = 1;
    if (rc == WG_OK &&
        (rc = wg_store__query(st, &s, err, "SELECT coalesce(min(n), 1) FROM "
                              "held", "")) == WG_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            first = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    if (rc)
        return rc;
    /* Before whatever waits already: these were written first. */
    first -= (int64_t)count;
    if ((rc = wg_store__query(st, &s, err, "SELECT k, body, hash, prev FROM "
                              "change WHERE k >= ? AND k <= ? ORDER BY k",
                              "ii", WG_CHANGE_KEY(fs->fid, seq - 1),
                              WG_CHANGE_KEY(fs->fid, head))))
        return rc;
    uint8_t prev[WG_HASH_BYTES], base[WG_HASH_BYTES];
    uint8_t *buf = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    memset(prev, 0, sizeof prev);
    memset(base, 0, sizeof base);
    moved *mv = wg_xcalloc((size_t)count, sizeof *mv);
    size_t nm = 0;
    int r;
    while (rc == WG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t at = (uint64_t)(sqlite3_column_int64(s, 0) & WG_SEQ_MAX);
        if (sqlite3_column_bytes(s, 2) != WG_HASH_BYTES) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "change %llu of this node's "
                            "feed %s has a malformed hash",
                            (unsigned long long)at, fs->part);
            break;
        }
        if (at + 1 == seq) {
            memcpy(prev, sqlite3_column_blob(s, 2), WG_HASH_BYTES);
            memcpy(base, prev, WG_HASH_BYTES);
            continue;
        }
        wg_change c;
        size_t len = nm < count && at == seq + nm
            ? wg_change_rebuild(st->info.pk, fs->part, at, prev,
                                sqlite3_column_blob(s, 1),
                                (size_t)sqlite3_column_bytes(s, 1), buf)
            : 0;
        if (len == 0 || wg_change_decode(buf, len, &c, NULL) != WG_OK) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "change %llu of this node's "
                            "feed %s is missing or malformed",
                            (unsigned long long)at, fs->part);
            break;
        }
        rc = wg_store__run(st, "holding a write", err, "INSERT INTO held(n, "
                           "body) VALUES(?, ?)", "ib", first + (int64_t)nm,
                           buf, (int)len);
        mv[nm].k = sqlite3_column_int64(s, 0);
        mv[nm].prev = sqlite3_column_int64(s, 3);
        mv[nm].table = c.table;
        wg_hex_encode(mv[nm].id, c.rowid, WG_ROWID_BYTES);
        nm++;
        memcpy(prev, sqlite3_column_blob(s, 2), WG_HASH_BYTES);
    }
    if (rc == WG_OK && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading this node's feed", err);
    sqlite3_finalize(s);
    free(buf);
    if (rc == WG_OK && nm != count)
        rc = wg_err_set(err, WG_ERR_CORRUPT, "this node's feed %s lacks "
                        "changes before its head", fs->part);
    /* Newest first: a change's predecessor may be moved too. */
    for (size_t i = nm; rc == WG_OK && i-- > 0;) {
        rc = repoint(st, &mv[i], err);
        if (rc == WG_OK)
            rc = wg_store__run(st, "holding a write", err, "DELETE FROM "
                               "unmerged WHERE k = ?", "i", mv[i].k);
    }
    free(mv);
    if (rc == WG_OK)
        rc = wg_store__run(st, "holding a write", err, "DELETE FROM change "
                           "WHERE k >= ? AND k <= ?", "ii",
                           WG_CHANGE_KEY(fs->fid, seq),
                           WG_CHANGE_KEY(fs->fid, head));
    /* No peer is known to hold the moved changes any more. */
    if (rc == WG_OK)
        rc = wg_store__run(st, "noting what peers hold", err, "UPDATE "
                           "own_seen SET seq = ? WHERE part = ? AND seq >= ?",
                           "iti", (int64_t)(seq - 1), fs->part, (int64_t)seq);
    char k[32 + WG_PARTITION_MAX], v[32];
    int64_t since;
    int held = 0;
    if (rc == WG_OK) {
        snprintf(k, sizeof k, "fork:%s", fs->part);
        snprintf(v, sizeof v, "%llu", (unsigned long long)seq);
        rc = meta_set(st, k, v, err);
    }
    if (rc == WG_OK)
        rc = meta_int(st, "life_since", &since, &held, err);
    if (rc == WG_OK && !held) {
        snprintf(v, sizeof v, "%lld", (long long)time(NULL));
        rc = meta_set(st, "life_since", v, err);
        if (rc == WG_OK)
            rc = meta_set(st, "life_hold", "fork", err);
    }
    if (rc)
        return rc;
    fs->head = seq - 1;
    memcpy(fs->head_hash, base, WG_HASH_BYTES);
    fs->unsigned_n = 0;
    /* The mark never ahead of the store: lowered (synced) before the commit
     * that cuts the feed; the commit raises it again by what came back. */
    uint64_t total = st->total > count ? st->total - count : 0;
    uint64_t own = st->own > count ? st->own - count : 0;
    if (st->mark.total > total || st->mark.own > own) {
        if (st->mark.total > total)
            st->mark.total = total;
        if (st->mark.own > own)
            st->mark.own = own;
        write_slot(st, 1);
    }
    if (!st->forked) {
        st->forked = 1;
        snprintf(st->fork_part, sizeof st->fork_part, "%s", fs->part);
        st->fork_seq = seq;
        st->fork_moved = 0;
    }
    st->fork_moved += count;
    return WG_OK;
}

/* The fork's one-line reason, into BUF. */
static void fork_reason(const wg_store *st, char *buf, size_t size)
{
    const char *peer = st->apply_peer[0] ? st->apply_peer : "unknown";
    snprintf(buf, size, "fork: this node's own feed %s from #%llu "
             "differs from what %s holds (an old copy of its folder put "
             "back?): %llu own changes held, signed again after what the "
             "peer gave back once every peer has synced", st->fork_part,
             (unsigned long long)st->fork_seq, peer,
             (unsigned long long)st->fork_moved);
}

wg_rc wg_store__fork_audit(wg_store *st, wg_err *err)
{
    if (!st->forked)
        return WG_OK;
    /* Inside the batch's transaction, so the entry commits with the cut
     * feed (a kill between two commits kept the repair and lost its
     * entry); held like every write of this node while its feed is cut. */
    char reason[512];
    fork_reason(st, reason, sizeof reason);
    wg_audit_entry a = { 0 };
    a.event = "fork";
    a.peer = st->apply_peer[0] ? st->apply_peer : "unknown";
    a.result = "ok";
    a.reason = reason;
    int was = st->held;
    st->held = 1;
    wg_rc rc = wg_store__audit_add(st, &a, err);
    st->held = was;
    return rc;
}

void wg_store__fork_done(wg_store *st, int committed)
{
    if (!st->forked)
        return;
    st->forked = 0;
    if (!committed)
        return;
    st->held = 1;
    st->forks++;
    char reason[512];
    fork_reason(st, reason, sizeof reason);
    wg_store__logf(st, WG_LOG_INFO, "%s", reason);
}

uint64_t wg_store_forks(const wg_store *st)
{
    return st->forks;
}
