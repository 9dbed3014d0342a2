/*
 * store_int.h - what the files of store/ share and nobody else sees
 */
#ifndef WG_STORE_INT_H
#define WG_STORE_INT_H

#include <sqlite3.h>

#include "wg_buf.h"
#include "wg_crypto.h"
#include "wg_schema.h"
#include "wg_store.h"

#include "wg_change.h"
#include "wg_life.h"

#define WG_VFS_NAME "wings"
/* A commit signs each touched feed's head; a long commit also signs every
 * WG_SIGN_EVERY changes, so a sync batch can always end on a signature. */
#define WG_SIGN_EVERY 256
#define WG_PAGE_BYTES 4096
#define WG_RESERVE_BYTES (WG_AEAD_NONCE_BYTES + WG_AEAD_TAG_BYTES)

/* A change's row in `change`: its feed's number in the high bits, its seq
 * in the low WG_SEQ_BITS, so a feed's changes are one run of keys. */
#define WG_SEQ_BITS 40
#define WG_SEQ_MAX ((INT64_C(1) << WG_SEQ_BITS) - 1)
#define WG_CHANGE_KEY(fid, seq) (((int64_t)(fid) << WG_SEQ_BITS) | (int64_t)(seq))

/* How `change` rows hold a change (meta 'layout'). 2: a row keeps only the
 * bytes from hlc on. The prefix before them (version, origin, partition,
 * seq, prev) is what the row's key and feed already say: origin and
 * partition from the feed, seq from the key, prev the `hash` of the row
 * before it in the feed (zeros at seq 1). Every reader puts it back, so
 * whatever hashes, verifies, decodes or sends a change sees its canonical
 * bytes. */
#define WG_STORE_LAYOUT 2

/* A feed touched by the transaction in hand. */
typedef struct wg_feed_state {
    int64_t fid;           /* its row in `feed` */
    uint32_t oid;
    char part[WG_PARTITION_MAX + 1];
    uint64_t head;
    uint8_t head_hash[WG_HASH_BYTES];
    int frozen;
    int is_new;            /* its row in `feed` made by this transaction */
    uint32_t unsigned_n;   /* changes since the last signature */
    uint64_t head0;        /* head when the transaction first touched it */
} wg_feed_state;

/* Changes a proof of equivocation may chain through to reach a signature. */
#define WG_PROOF_MAX_CHAIN 64

/* proof.c: keep a proof (CHAIN: the conflicting change first, the signed
 * one last); is the conflict at (OID, PART, SEQ) already resolved? */
wg_rc wg_store__proof_put(wg_store *st, uint32_t oid, const char *part,
                          uint64_t seq, const uint8_t held[WG_HASH_BYTES],
                          const wg_signed_change *chain, size_t n);
int wg_store__proof_resolved(wg_store *st, uint32_t oid, const char *part,
                             uint64_t seq);

struct wg_store {
    sqlite3 *db;
    uint32_t self_oid;
    uint64_t hlc;
    uint32_t skew_n;       /* wg_store_apply_skew() */
    uint64_t skew_ahead_ms;
    int froze;             /* wg_store_apply_froze() */
    wg_proof frozen_proof;
    uint8_t (*okeys)[WG_SIGN_PK_BYTES];  /* oid -> origin key; [0] unused */
    uint32_t nokeys, capokeys;
    int in_txn;
    int list_dropped;   /* wg_store_bulk() dropped list and live-value
                         * indexes: made again before COMMIT */
    /* wg_store_bulk(): record ids drawn ahead, in ascending order */
    uint8_t (*idpool)[WG_ROWID_BYTES];
    size_t idpool_n, idpool_next, idpool_batch;
    struct wg_bulk_live *bulk_live;   /* bulk.c: live unique values */
    wg_feed_state *tf;
    int ntf, captf;
    sqlite3_stmt *s_row[4][WG_TABLE_WIRE_MAX + 1];  /* wg_store__row_stmt() */
    /* wg_store_find_unique(): one cached lookup per table, for the unique
     * field it was prepared for (s_uniq_f; another field prepares anew). */
    sqlite3_stmt *s_uniq[WG_TABLE_WIRE_MAX + 1];
    int s_uniq_f[WG_TABLE_WIRE_MAX + 1];
    /* The last value wg_store_find_unique() found no holder of (import
     * asks again for the same row at once); every row write through
     * wg_store__merge() forgets it. */
    int miss_ok, miss_tno, miss_f;
    char miss_val[WG_FIELD_MAX_BYTES + 1];
    sqlite3_stmt *s_change_put, *s_change_at, *s_feed_get, *s_feed_put,
        *s_sig_put, *s_origin_put, *s_ow_listed;
    wg_buf enc;
    char *dir;       /* as given */
    char *dbpath;    /* absolute, symlinks resolved: the VFS registry key */
    uint8_t *sk;     /* Ed25519 secret key, guarded memory */
    wg_node_info info;
    wg_log_fn log;
    void *log_ctx;
    struct wg_rpt *rpt;   /* report_agg.c's statements */
    char actor[WG_ACTOR_MAX + 1];  /* the clerk writing now, or "" */
    /* life.c: changes held (feed heads summed), own among them, what the
     * open transaction adds; the rollback mark, open; writes held. */
    uint64_t total, own, pend_total, pend_own;
    wg_mark mark;
    int mark_fd;          /* -1: none */
    uint8_t *mark_key;
    int held;
    int notice;           /* WG_LIFE_* */
    uint64_t missing, missing_own;
    /* wg_store__own_scope_ok(): this node's own certificate, loaded once
     * per transaction and again after any certificate is written. */
    int own_known, own_net, own_has;
    uint64_t member_gen;  /* wg_store_members_generation() */
    /* wg_store_apply()'s certificates, kept from batch to batch while
     * member_gen stays mem_cache_gen, and the origin whose chain last
     * verified (when, in ms): one load and one chain check per origin for
     * a whole catch-up, not per batch. */
    struct wg_members *mem_cache;
    uint64_t mem_cache_gen;
    uint8_t rights_origin[WG_SIGN_PK_BYTES];
    int rights_valid;
    uint64_t rights_at_ms;
    char own_scope[WG_COUNTY_CHARS + 1];
    int own_role;
    /* wg_store_apply_peer(): whose batch wg_store_apply() reads; a fork of
     * this node's own feed repaired by the batch in hand (life.c). */
    char apply_peer[WG_NAME_MAX + 1];
    int forked;
    char fork_part[WG_PARTITION_MAX + 1];
    uint64_t fork_seq, fork_moved;
    uint64_t forks;       /* repairs since open: wg_store_forks() */
};

/* vfs.c */
wg_rc wg_vfs_register(wg_err *err);
/* Before the first wg_vfs_register() of the process: SQLite's page cache
 * may take about BYTES from a pool of its own (see vfs.c). */
void wg_vfs_reserve_pages(size_t bytes);

/* ddl.c: the node-local indexes (list orders, live unique values), one at
 * a time: 1 with NAME and SQL filled while there is one at position I. */
int wg_store__local_index(int i, char *name, size_t ncap, char *sql,
                          size_t cap);
wg_rc wg_store__create_list_indexes(wg_store *st, wg_err *err);

/* bulk.c: wg_store_bulk()'s transaction. The indexes it dropped, made again
 * (inside the open transaction, before it commits). */
wg_rc wg_store__list_indexes_restore(wg_store *st, wg_err *err);
/* A new record id, drawn at random (wg_store_bulk(): from a sorted pool). */
void wg_store__new_rowid(wg_store *st, uint8_t rowid[WG_ROWID_BYTES]);
/* A transaction ended, however: what wg_store_bulk() set up is forgotten. */
void wg_store__bulk_end(wg_store *st);
/* While wg_store_bulk() has T's live index of unique field F dropped: 1 and
 * the answer of wg_store_find_unique() from memory (WG_OK with ID_OUT, or
 * WG_ERR_NOTFOUND in *RC); else 0. */
int wg_store__bulk_find(wg_store *st, const wg_table *t, int f,
                        const char *value, const char *except,
                        char id_out[WG_ID_HEX_CHARS + 1], wg_rc *rc);
/* Record ID of T was written: its live value of unique field F was OLD and
 * is NOW (NULL: none, or the record is deleted). Keeps
 * wg_store__bulk_find() true; only called while st->bulk_live is set. */
void wg_store__bulk_moved(wg_store *st, const wg_table *t, int f,
                          const char *id, const char *old, const char *now);
/* Seal DBPATH (and its WAL) under KEY/DBID from now on; the key is copied
 * into guarded memory. */
wg_rc wg_vfs_attach(const char *dbpath, const uint8_t key[WG_KEY_BYTES],
                    const uint8_t dbid[WG_DBID_BYTES], wg_err *err);
void wg_vfs_detach(const char *dbpath);
/* Seal NEWPATH under the key and database id attached to DBPATH. */
wg_rc wg_vfs_attach_like(const char *dbpath, const char *newpath,
                         wg_err *err);
/* Copy the data key (into KEY, secret memory) and database id attached to
 * DBPATH. */
wg_rc wg_vfs_key_copy(const char *dbpath, uint8_t key[WG_KEY_BYTES],
                      uint8_t dbid[WG_DBID_BYTES], wg_err *err);
/* The last authentication failure seen by this thread, or NULL. */
const char *wg_vfs_failure(void);
void wg_vfs_clear_failure(void);
/* wg_vfs_verify() with the key attached to DBPATH in this process. */
wg_rc wg_vfs_verify_attached(const char *dbpath, wg_problem_fn fn, void *ctx,
                             long *checked, long *bad, wg_err *err);
wg_rc wg_vfs_verify(const char *dbpath, const uint8_t key[WG_KEY_BYTES],
                    const uint8_t dbid[WG_DBID_BYTES], wg_problem_fn fn,
                    void *ctx, long *checked, long *bad, wg_err *err);

/* member.c */
/* In a network, is COUNTY inside the scope of this node's own certificate
 * (the newest it holds)? Always 1 in a closed group. On 0, WHY says why. */
int wg_store__own_scope_ok(wg_store *st, const char *county, wg_err *why);
/* Certificates were written or rolled back: judge again. */
void wg_store__own_forget(wg_store *st);

/* folder.c: files in a node folder */
/* DIR/NAME, which the caller frees. */
char *wg_store__join(const char *dir, const char *name);
/* fsync the folder DIR, so a rename or a new name in it is durable. */
wg_rc wg_store__sync_dir(const char *dir, wg_err *err);
/* Rename DIR/FROM over DIR/TO, then sync DIR. */
wg_rc wg_store__replace_in(const char *dir, const char *from, const char *to,
                           wg_err *err);

/* store.c */
/* Turn an SQLite result into a wg_rc with a message naming WHAT. */
wg_rc wg_store__sqlerr(wg_store *st, int rc, const char *what, wg_err *err);
wg_rc wg_store__exec(wg_store *st, const char *sql, wg_err *err);
wg_rc wg_store__prepare(wg_store *st, const char *sql, sqlite3_stmt **out,
                        wg_err *err);
/* The one way to run a statement with parameters. SPEC has one letter per
 * parameter, each taking arguments in order:
 *   'i'  int64_t
 *   't'  const char * (NUL-terminated; NULL binds NULL)
 *   'b'  const void *, int length (NULL binds NULL)
 * wg_store__run() prepares SQL, binds, steps once (a row or done is
 * success) and finalizes; WHAT names the work in an error. Text and blobs
 * are used in place, never copied (so a secret bound is not copied).
 * wg_store__query() prepares and binds (copies) for the caller to step;
 * caller owns *OUT: release with sqlite3_finalize(). wg_store__step()
 * resets the cached statement S, binds in place, steps once and resets. */
wg_rc wg_store__run(wg_store *st, const char *what, wg_err *err,
                    const char *sql, const char *spec, ...);
wg_rc wg_store__query(wg_store *st, sqlite3_stmt **out, wg_err *err,
                      const char *sql, const char *spec, ...);
wg_rc wg_store__step(wg_store *st, sqlite3_stmt *s, const char *what,
                     wg_err *err, const char *spec, ...);
wg_rc wg_store__begin(wg_store *st, wg_err *err);
wg_rc wg_store__commit(wg_store *st, wg_err *err);
void wg_store__rollback(wg_store *st);
void wg_store__logf(wg_store *st, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ddl.c */
/* CREATE statements for every table, run once at creation. */
wg_rc wg_store__create_schema(wg_store *st, wg_err *err);
/* Bring a store of schema VERSION (from meta) up to WG_SCHEMA_VERSION in
 * one transaction (see the banner of ddl.c); WG_ERR_CORRUPT for a store of a
 * newer schema. Does nothing for a current store. */
wg_rc wg_store__upgrade(wg_store *st, int version, wg_err *err);
/* Create the node-local listing indexes a store lacks (ddl.c), in a
 * transaction of its own. */
wg_rc wg_store__list_indexes(wg_store *st, wg_err *err);
/* Merge what this build now knows of the changes listed in `unmerged`
 * (inside a transaction); VERSION is the schema they were kept under. */
wg_rc wg_store__merge_unmerged(wg_store *st, int version, wg_err *err);

/* txn.c */
/* Reset and reuse the statement cached in *SLOT, or prepare SQL into it. */
wg_rc wg_store__stmt(wg_store *st, sqlite3_stmt **slot, const char *sql,
                     wg_err *err);
/* WG_ERR_IO when the transaction the caller opened with wg_store_begin()
 * was already rolled back by SQLite after an error (see txn.c). */
wg_rc wg_store__txn_alive(wg_store *st, wg_err *err);
/* Load the origin cache, own oid and clock after open. */
wg_rc wg_store__load_state(wg_store *st, wg_err *err);
void wg_store__finalize(wg_store *st);

/* merge.c */
enum { ROW_GET, ROW_PUT, ROW_UPD, ROW_LINK };
/* The cached statement of kind K for the table of wire number TNO (see
 * merge.c). Borrowed: valid until wg_store__finalize(). */
wg_rc wg_store__row_stmt(wg_store *st, uint8_t tno, int k,
                         sqlite3_stmt **out, wg_err *err);
/* Merge one decoded change, stored (or about to be) under key K, by
 * per-field last-writer-wins, leaving out fields (and tables) this build
 * does not know. FRESH: the caller knows no row with C's id exists (a local
 * add), so the lookup is skipped (a row found after all is still merged);
 * WG_FRESH_NEW_ID: moreover the id was drawn at random just now, so no
 * other record can name it (the report need not look for any).
 * The record remembers K as its latest change; *PREV gets the key of the
 * change it remembered before (0 for none), which the change's row keeps:
 * history walks that chain. K == 0: merge the fields only and leave the
 * record's chain as it is (a change merged again by an upgrade). */
#define WG_FRESH_NEW_ID 2
wg_rc wg_store__merge(wg_store *st, const wg_change *c, uint32_t oid,
                      int fresh, int64_t k, int64_t *prev, wg_err *err);
/* A record's clocks: one (hlc, oid) per field and `deleted` (last); (0, 0)
 * is "never written". Stored compactly: one entry per distinct clock, u64
 * hlc, u32 oid, then a bit mask of the slots holding it (WG_CLOCK_MASK(n)
 * bytes for n slots, slot 0 in the low bit of the first byte). */
typedef struct wg_clock {
    uint64_t hlc;
    uint32_t oid;
} wg_clock;
#define WG_CLOCK_MASK(nslots) (((nslots) + 7) / 8)
#define WG_CLOCKS_MAX ((WG_MAX_FIELDS + 1) * (12 + WG_CLOCK_MASK(WG_MAX_FIELDS + 1)))
/* Expand the N stored bytes at P into NSLOTS clocks; WG_ERR_CORRUPT. */
wg_rc wg_store__clocks_decode(const uint8_t *p, size_t n, int nslots,
                              wg_clock *out, wg_err *err);
/* Encode NSLOTS clocks into OUT (WG_CLOCKS_MAX bytes); returns the length. */
size_t wg_store__clocks_encode(const wg_clock *v, int nslots, uint8_t *out);
/* txn.c, continued: origins, feeds, the local write */
/* oid of origin KEY, adding it when new. */
wg_rc wg_store__oid(wg_store *st, const uint8_t key[WG_SIGN_PK_BYTES],
                    uint32_t *oid, wg_err *err);
/* The feed state of (OID, PART) in this transaction, loaded on first use. */
wg_rc wg_store__feed(wg_store *st, uint32_t oid, const char *part,
                     wg_feed_state **out, wg_err *err);
/* Sign the head of FS with the node key and store the signature. */
wg_rc wg_store__sign_head(wg_store *st, wg_feed_state *fs, wg_err *err);
/* Write every touched feed's head back and persist the clock. */
wg_rc wg_store__flush_feeds(wg_store *st, wg_err *err);
/* Store a change's BODY (its canonical bytes, of which the row keeps the
 * part after the prefix: see WG_STORE_LAYOUT) and HASH (with SIG if
 * non-NULL) under key K; PREV is the key of its record's change before it
 * (0: none). */
wg_rc wg_store__put_change(wg_store *st, int64_t k, const uint8_t *body,
                           size_t len, const uint8_t hash[WG_HASH_BYTES],
                           const uint8_t *sig, int64_t prev, wg_err *err);
void wg_store__forget_feeds(wg_store *st);
/* Append a local change (origin, seq, prev, hlc filled in) to the node's
 * own feed for C's partition, and merge it. Inside a transaction. FRESH as
 * for wg_store__merge(). */
wg_rc wg_store__local_change(wg_store *st, wg_change *c, int fresh,
                             wg_err *err);
/* audit.c: wg_store_audit() inside the caller's transaction, so that the
 * entry commits (or not) with what it tells of. */
wg_rc wg_store__audit_add(wg_store *st, const wg_audit_entry *e,
                          wg_err *err);

/* records.c: a record's chain of changes, walked newest first by key (the
 * change's key; the prev column names the one merged before it). */
#define WG_CHAIN_SQL "SELECT c.prev, c.body, p.hash, o.key, f.part FROM " \
    "change c JOIN feed f ON f.fid = c.k >> 40 JOIN origin o ON " \
    "o.oid = f.oid LEFT JOIN change p ON p.k = c.k - 1 WHERE c.k = ?"
/* The canonical bytes of the change in row AT of WG_CHAIN_SQL, at key K,
 * into BUF (room for WG_CHANGE_MAX_BYTES); 0 if they cannot be made. */
size_t wg_store__chain_bytes(sqlite3_stmt *at, int64_t k, uint8_t *buf);

/* overwritten.c: the clerk and base clocks of local writes, and the
 * concurrent edits merge finds. */
void wg_store__stamp(wg_store *st, const wg_table *t, wg_change *c);
wg_rc wg_store__base_clocks(wg_store *st, const wg_table *t, const char *id,
                            const int *given, char *out, size_t cap,
                            wg_err *err);
int wg_store__ow_mismatch(wg_store *st, const wg_table *t, const wg_change *c,
                          const wg_clock *held);
wg_rc wg_store__ow_recount(wg_store *st, const wg_table *t, const char *id,
                           const wg_change *c, int64_t chain, wg_err *err);
wg_rc wg_store__ow_listed(wg_store *st, const wg_table *t, const char *id,
                          int *yes, wg_err *err);
#define WG_OVERWRITTEN_SQL "CREATE TABLE IF NOT EXISTS overwritten(" \
    "tbl TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL, " \
    "win_hlc INTEGER NOT NULL, win_origin BLOB NOT NULL, win_value TEXT, " \
    "win_clerk TEXT, lose_hlc INTEGER NOT NULL, lose_origin BLOB NOT NULL, " \
    "lose_value TEXT, lose_clerk TEXT, PRIMARY KEY(tbl, id, field, win_hlc, " \
    "win_origin, lose_hlc, lose_origin))"
/* Append C (origin, seq, prev filled in; hlc too when TICK, else C's own
 * kept) to the node's own feed for its partition and merge it. */
wg_rc wg_store__append_own(wg_store *st, wg_change *c, int fresh, int tick,
                           wg_err *err);

/* life.c */
/* After wg_store_open() has loaded the identity: read the rollback mark,
 * hold writes after a restore or a rollback, make the mark afresh. */
wg_rc wg_store__life_open(wg_store *st, wg_err *err);
/* A transaction committed: count what it added, update the mark. */
void wg_store__life_committed(wg_store *st);
/* Sync the mark and close it. */
void wg_store__life_close(wg_store *st);
/* A local write while writes are held: merged now, its change kept in
 * `held`, unnumbered, for wg_store_life_check() to append and sign. */
wg_rc wg_store__hold_change(wg_store *st, wg_change *c, int fresh,
                            wg_err *err);
/* Inside wg_store_apply()'s transaction: a change of this node's own feed
 * FS, signed by this node, differs at SEQ from the one held. 1 when an
 * earlier repair already took the peers' side at or above SEQ in this
 * partition (this node really signed two changes there): refuse. */
int wg_store__fork_seen(wg_store *st, const char *part, uint64_t seq);
/* Move this node's own changes SEQ..head of FS into `held` (oldest first,
 * before any held already), point records and changes that named them at
 * what they named, cut FS back to SEQ - 1, lower the rollback mark to
 * match, and hold writes ("fork"), every peer waited for. Inside the
 * transaction; wg_store__fork_done() after it commits. */
wg_rc wg_store__fork_repair(wg_store *st, wg_feed_state *fs, uint64_t seq,
                            wg_err *err);
/* Before the commit of a batch that repaired a feed: its `fork` audit
 * entry, held, in the same transaction (nothing to do if none was). */
wg_rc wg_store__fork_audit(wg_store *st, wg_err *err);
/* After the transaction of a repair: writes held from now on, logged. */
void wg_store__fork_done(wg_store *st, int committed);
/* A batch from the peer wg_store_apply_peer() named ends in a change of
 * this node's own feed PART that does not chain: learn that feed from it
 * again from the start at the next session. */
void wg_store__own_seen_forget(wg_store *st, const char *part);

/* report_agg.c: the aggregates the default report reads, kept by merge */
enum { WG_RPT_PERSON = 1, WG_RPT_PLACEMENT, WG_RPT_TRAINING };
/* The fields of one record that count for the report. */
typedef struct wg_rpt_state {
    int present, live;
    char county[WG_COUNTY_CHARS + 1];         /* person */
    char bdate[WG_REPORT_DATE_CHARS + 1];     /* person; "" unknown */
    char pid[WG_ID_HEX_CHARS + 1];            /* placement, training */
    int a, b;            /* placement: active; training: trained, certified */
    int has_income;
    int64_t income;
} wg_rpt_state;
typedef struct wg_rpt_note {
    int kind;            /* WG_RPT_*, 0: a table the report does not read */
    char id[WG_ID_HEX_CHARS + 1];
    wg_rpt_state old;
} wg_rpt_note;
/* Around the write of record ID of table T by merge: before keeps what
 * counted, after moves the aggregates by the difference. ABSENT: the
 * caller has just read that no row ID exists (nothing counted; not read
 * again). */
wg_rc wg_store__report_before(wg_store *st, const wg_table *t, const char *id,
                              int absent, wg_rpt_note *note, wg_err *err);
wg_rc wg_store__report_after(wg_store *st, const wg_rpt_note *note,
                             wg_err *err);
/* The same for a row merge has just made from change C of table T alone
 * (nothing read back). NEW_ID: its id was drawn at random just now, so no
 * placement or training names it yet. */
wg_rc wg_store__report_after_new(wg_store *st, const wg_rpt_note *note,
                                 const wg_table *t, const wg_change *c,
                                 int new_id, wg_err *err);
/* CREATE the aggregate and area tables (IF NOT EXISTS). */
wg_rc wg_store__report_schema(wg_store *st, wg_err *err);
/* At open: build the aggregates of a store made before they were kept. */
wg_rc wg_store__report_open(wg_store *st, wg_err *err);
void wg_store__report_release(wg_store *st);
/* The aggregate deltas a transaction buffered: written (flush, before
 * COMMIT and before anything reads the aggregates) or dropped (discard,
 * on rollback). */
wg_rc wg_store__report_flush(wg_store *st, wg_err *err);
void wg_store__report_discard(wg_store *st);
/* The SQL that recounts the aggregates into the tables PREFIX + year,
 * month, day, income, income100 (PREFIX "rpt_" for the kept ones). Caller
 * frees. */
char *wg_store__report_recount_sql(const char *prefix);
/* The aggregates counted again from the records, inside the caller's
 * transaction (the upgrade to schema 3 changes their income unit). */
wg_rc wg_store__report_recount(wg_store *st, wg_err *err);

/* hlc.c */
uint64_t wg_hlc_now_ms(void);
/* Next clock value for a local change. */
uint64_t wg_store__hlc_tick(wg_store *st);
/* Take in a clock seen on a remote change; returns 1 when it was beyond the
 * allowed drift (and so was not followed). */
int wg_store__hlc_observe(wg_store *st, uint64_t remote);
void wg_hlc_format(uint64_t hlc, char out[32]);

#endif
