/*
 * wg_store.h - the node's encrypted record store
 *
 * One SQLite database, every page encrypted by the wings VFS, holding the
 * node's identity and secret keys, the records, the feeds they were built
 * from, and the audit trail. No sqlite3 type appears here. A handle is used
 * by one thread at a time; one process at a time holds a store open.
 *
 * A node folder holds:
 *   wings.key      the data key, wrapped under the passphrase (Argon2id)
 *   wings.db       the database, every page sealed
 *   wings.db-wal   its write-ahead log, every frame sealed (while open)
 */
#ifndef WG_STORE_H
#define WG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "wg_buf.h"
#include "wg_crypto.h"
#include "wg_err.h"
#include "wg_schema.h"

#define WG_STORE_KEYFILE "wings.key"
#define WG_STORE_DBFILE "wings.db"
#define WG_NAME_MAX 64
#define WG_ENDPOINT_MAX 256
#define WG_COUNTY_CHARS 6

typedef struct wg_store wg_store;

typedef enum wg_role { WG_ROLE_OFFICE = 0, WG_ROLE_HQ = 1 } wg_role;

/* Who this node is. Everything here is public. */
typedef struct wg_node_info {
    char name[WG_NAME_MAX + 1];
    char county[WG_COUNTY_CHARS + 1];
    wg_role role;
    char endpoint[WG_ENDPOINT_MAX + 1];
    uint8_t pk[WG_SIGN_PK_BYTES];          /* Ed25519 identity */
    char key_hex[WG_KEY_HEX_CHARS + 1];    /* pk as the KEY token */
} wg_node_info;

/* Log sink: store/ stays silent when none is given. */
typedef void (*wg_log_fn)(void *ctx, int level, const char *module,
                          const char *msg);
enum { WG_LOG_ERROR = 0, WG_LOG_WARN, WG_LOG_INFO, WG_LOG_DEBUG };

/* Create a node in DIR (made if absent, mode 0700): a fresh data key wrapped
 * under PASS with KDF, a fresh identity, and an empty database holding INFO
 * (name, county, role, endpoint; pk and key_hex are filled in on return).
 * WG_ERR_EXISTS when DIR already holds a node; WG_ERR_INVALID for a bad
 * name, county or endpoint; WG_ERR_IO. Nothing is left behind on failure. */
wg_rc wg_store_create(const char *dir, const char *pass, size_t passlen,
                      wg_kdf kdf, wg_node_info *info, wg_err *err);

/* Open the store in DIR with PASS. On success *OUT is a new handle: caller
 * owns; release with wg_store_close(). Fails with WG_ERR_NOTFOUND (no node
 * in DIR, or the key file missing), WG_ERR_AUTH (wrong passphrase, or a page
 * that fails authentication: ERR names the page), WG_ERR_CORRUPT (key file
 * or database malformed), WG_ERR_IO (including "in use by another
 * process"). */
wg_rc wg_store_open(const char *dir, const char *pass, size_t passlen,
                    wg_store **out, wg_err *err);

/* Close and NULL *ST; accepts NULL. Checkpoints the WAL into the database. */
void wg_store_close(wg_store **st);

/* Route store/ diagnostics to FN (NULL: silent). */
void wg_store_set_log(wg_store *st, wg_log_fn fn, void *ctx);

/* Bound SQLite's page cache for this handle to KIB KiB (the default is
 * WG_STORE_CACHE_KIB, which keeps a county's tables in memory for reads). */
#define WG_STORE_CACHE_KIB 65536
wg_rc wg_store_set_cache(wg_store *st, int kib, wg_err *err);

/* The node's identity. Borrowed: valid until wg_store_close(). */
const wg_node_info *wg_store_info(const wg_store *st);

/* The node's Ed25519 secret key. Borrowed secret memory: valid until
 * wg_store_close(); never copy it out of guarded memory. */
const uint8_t *wg_store_secret_key(const wg_store *st);

/* Change the passphrase: rewrap the data key under NEWPASS (same KDF cost)
 * and replace the key file atomically. The database is not touched.
 * WG_ERR_AUTH when OLDPASS is wrong. */
wg_rc wg_store_passwd(const char *dir, const char *oldpass, size_t oldlen,
                      const char *newpass, size_t newlen, wg_err *err);

/* One problem found by a verification pass, as a line of text. */
typedef void (*wg_problem_fn)(void *ctx, const char *what);

/* Read and authenticate every page of the database and every frame of its
 * WAL in DIR, without SQLite, calling FN for each that fails. *CHECKED and
 * *BAD count units read and failed. WG_OK means the pass ran (look at *BAD);
 * other codes as for wg_store_open(). Works on a store whose page 1 is
 * damaged, and beside a process holding it open. */
wg_rc wg_store_verify_pages(const char *dir, const char *pass, size_t passlen,
                            wg_problem_fn fn, void *ctx, long *checked,
                            long *bad, wg_err *err);

/* ---- records ----------------------------------------------------------- */

/* Is COUNTY inside the scope of node INFO? An office: its own county. An
 * hq: every county whose code starts with the hq code's non-zero prefix
 * (450000 -> 45xxxx; 000000 -> all). */
int wg_scope_contains(const wg_node_info *info, const char *county);

/* A record as read: values as text (integers in decimal), NULL when unset.
 * Embed and release with wg_record_release(). */
typedef struct wg_record {
    const wg_table *table;
    char id[WG_ID_HEX_CHARS + 1];
    char *values[WG_MAX_FIELDS];
    int deleted;
} wg_record;

void wg_record_release(wg_record *r);

/* Writes happen inside one transaction: wg_store_begin(), any number of
 * add / update / delete, then wg_store_commit() (or wg_store_rollback()).
 * Each write is validated before anything changes; a failed write leaves
 * the transaction as it was, so the caller may still commit the others
 * (import --skip-invalid) or roll back (all or nothing). The commit appends
 * the changes to this node's signed feeds and returns only once durable. */
wg_rc wg_store_begin(wg_store *st, wg_err *err);
wg_rc wg_store_commit(wg_store *st, wg_err *err);
void wg_store_rollback(wg_store *st);

/* Add a record to table T from N (name, value) pairs as a person typed them.
 * A pair named "id" keeps that id (import across nodes); otherwise a random
 * one is drawn. county defaults to the node's own. ID_OUT (33 bytes) gets
 * the new id. WG_ERR_INVALID naming the field (bad value, unknown field,
 * out of scope, reference to no person, id taken). */
wg_rc wg_store_add(wg_store *st, const wg_table *t, const char *const *names,
                   const char *const *values, int n, char *id_out,
                   wg_err *err);

/* Change the named fields of record ID; an empty value clears a field.
 * WG_ERR_NOTFOUND when there is no such live record. */
wg_rc wg_store_update(wg_store *st, const wg_table *t, const char *id,
                      const char *const *names, const char *const *values,
                      int n, wg_err *err);

/* Delete record ID (it stays in the feeds and in history). */
wg_rc wg_store_delete(wg_store *st, const wg_table *t, const char *id,
                      wg_err *err);

/* The id of a live record of T other than EXCEPT (NULL: none) whose field F
 * holds VALUE, into ID_OUT; WG_ERR_NOTFOUND when there is none. */
wg_rc wg_store_find_unique(wg_store *st, const wg_table *t, int f,
                           const char *value, const char *except,
                           char id_out[WG_ID_HEX_CHARS + 1], wg_err *err);

/* ---- review (review.c) ---- */

/* One value of a unique field that N live records hold (IDS, sorted; at
 * most 64 listed). Borrowed for the call; non-zero stops the walk. */
typedef int (*wg_dup_fn)(void *ctx, const wg_table *t, const char *field,
                         const char *value, const char *const *ids, int n);
/* Call FN for every value of a unique field of T held by two or more live
 * records (persons registered at two offices before they synced), in
 * order of value. */
wg_rc wg_store_duplicates(wg_store *st, const wg_table *t, wg_dup_fn fn,
                          void *ctx, wg_err *err);
/* Merge record DUP of T into KEEP, in one transaction of its own: every
 * live record of any table referencing DUP is updated to reference KEEP
 * (*MOVED counts them), then DUP is deleted; history keeps both.
 * WG_ERR_NOTFOUND when either is missing or deleted, WG_ERR_INVALID when
 * they are the same or a write is outside this node's scope. */
wg_rc wg_store_merge_records(wg_store *st, const wg_table *t,
                             const char *keep, const char *dup, int *moved,
                             wg_err *err);

/* Read record ID, deleted or not, into *R (release with
 * wg_record_release()). WG_ERR_NOTFOUND when never seen. */
wg_rc wg_store_get(wg_store *st, const wg_table *t, const char *id,
                   wg_record *r, wg_err *err);

/* Call FN for every live record of T, sorted by id, that matches every
 * (name = value) pair of WHERE (N pairs; values canonicalised first). A
 * non-zero return from FN stops the walk. R is borrowed for the call. */
typedef int (*wg_record_fn)(void *ctx, const wg_record *r);
wg_rc wg_store_list(wg_store *st, const wg_table *t,
                    const char *const *names, const char *const *values,
                    int n, wg_record_fn fn, void *ctx, wg_err *err);

/* How wg_store_list_opts() selects and orders. */
typedef struct wg_list_opts {
    const char *const *names, *const *values;  /* N (field = value) pairs */
    int n;
    const char *search;  /* text any text field holds (NULL: any record) */
    const char *sort;    /* a field to sort by, then id (NULL: id) */
    int desc;            /* sort descending */
    long limit, offset;  /* at most LIMIT records after OFFSET (0: all) */
} wg_list_opts;

/* wg_store_list() with a search, an order and a page. A record whose
 * referenced record (a training's person) is deleted is left out with it.
 * WG_ERR_INVALID for an unknown sort field or a negative limit. */
wg_rc wg_store_list_opts(wg_store *st, const wg_table *t,
                         const wg_list_opts *o, wg_record_fn fn, void *ctx,
                         wg_err *err);

/* Bring deleted record ID back (a later change with deleted = 0). Its
 * trainings and placements, hidden with a deleted person, show again.
 * WG_ERR_INVALID when it is not deleted, outside this node's scope, or its
 * unique value has been registered again since. */
wg_rc wg_store_undelete(wg_store *st, const wg_table *t, const char *id,
                        wg_err *err);

/* The shortest id prefix a command takes for a record id. */
#define WG_ID_PREFIX_MIN 8
/* The whole id of the record of T whose id starts with PREFIX (8 to 31
 * lower-case hex digits), into ID_OUT; anything else is copied as given.
 * WG_ERR_NOTFOUND when none matches, WG_ERR_AMBIGUOUS when more than one
 * does (the first two into MATCHES). Deleted records count. */
wg_rc wg_store_resolve_id(wg_store *st, const wg_table *t, const char *prefix,
                          char id_out[WG_ID_HEX_CHARS + 1],
                          char matches[2][WG_ID_HEX_CHARS + 1], wg_err *err);

/* One change to a record, as history shows it. */
typedef struct wg_history_entry {
    uint64_t hlc;
    char when[32];                        /* UTC, from the clock */
    char origin_hex[WG_KEY_HEX_CHARS + 1];
    int deleted;                          /* -1 untouched, 0 restore, 1 delete */
    int nfields;
    const char *names[WG_MAX_FIELDS];
    char *values[WG_MAX_FIELDS];          /* NULL when cleared */
} wg_history_entry;

/* Every change to record ID, oldest first (by clock, then origin).
 * WG_ERR_NOTFOUND when there is none. */
typedef int (*wg_history_fn)(void *ctx, const wg_history_entry *e);
wg_rc wg_store_history(wg_store *st, const wg_table *t, const char *id,
                       wg_history_fn fn, void *ctx, wg_err *err);

/* Count live records of T. */
wg_rc wg_store_count(wg_store *st, const wg_table *t, long *n, wg_err *err);

/* ---- feeds --------------------------------------------------------------- */

/* One stored change: its bytes, its hash, and its signature when it is the
 * head of a commit. */
typedef struct wg_signed_change {
    const uint8_t *body;
    size_t len;
    int has_sig;
    uint8_t sig[WG_SIG_BYTES];
} wg_signed_change;

/* How far a peer's clock may drag ours beyond our wall clock (ms). */
#define WG_HLC_MAX_DRIFT_MS (5 * 60 * 1000)

/* Verify and apply changes that arrived from elsewhere, in one transaction:
 * each must continue its feed (seq = head + 1, prev = head hash); every
 * signature present must verify under the change's origin, and the last
 * change of each feed in the batch must be signed. A change already held
 * (same hash) is skipped; a different change at a held seq is refused
 * (WG_ERR_AUTH), and is equivocation only on proof: when its origin signed
 * it (its own signature, or a signed change later in the batch chaining to
 * it) the feed is frozen and the proof kept (wg_store_proofs()); an
 * unsigned or unverifiable conflict freezes nothing. On any failure nothing of
 * the batch is applied. *APPLIED counts changes new to this store. */
wg_rc wg_store_apply(wg_store *st, const wg_signed_change *c, size_t n,
                     size_t *applied, wg_err *err);

/* ---- membership (member.c) ------------------------------------------- */

/* The network's root key pinned here: 1 and ROOT (may be NULL) if this node
 * joined a network (or is its root), else 0: a closed group. */
int wg_store_root(wg_store *st, uint8_t root[WG_SIGN_PK_BYTES]);
wg_rc wg_store_set_root(wg_store *st, const uint8_t root[WG_SIGN_PK_BYTES],
                        wg_err *err);
/* Keep BLOB (u16 length + certificate, repeated: the chain above this node
 * from its join token) locally, never replicated. */
wg_rc wg_store_set_chain(wg_store *st, const uint8_t *blob, size_t n,
                         wg_err *err);
/* Write a certificate or revocation (its encoded BODY) as a change of this
 * node's own feed in PARTITION (the subject's code), in its own
 * transaction. WG_ERR_CORRUPT if BODY does not decode. */
wg_rc wg_store_member_put(wg_store *st, const uint8_t *body, size_t len,
                          const char *partition, wg_err *err);

/* Every certificate and revocation held whose signature verifies, loaded at
 * once. Caller owns; release with wg_members_destroy(). */
typedef struct wg_members wg_members;
struct wg_cert;
struct wg_revoke;
wg_rc wg_members_load(wg_store *st, wg_members **out, wg_err *err);
void wg_members_destroy(wg_members **m);
int wg_members_count(const wg_members *m);
const struct wg_cert *wg_members_at(const wg_members *m, int i);
/* The newest (highest serial) certificate of SUBJECT, or NULL. Borrowed. */
const struct wg_cert *wg_members_lookup(const wg_members *m,
                                        const uint8_t subject[WG_SIGN_PK_BYTES]);
/* The revocation of SUBJECT's certificate SERIAL by its issuer or an HQ
 * above it, or NULL. Borrowed. */
const struct wg_revoke *wg_members_revoked(const wg_members *m,
                                           const uint8_t subject[WG_SIGN_PK_BYTES],
                                           uint64_t serial);
/* KEY's newest certificate chains to ROOT, valid at NOW (unix seconds) and
 * unrevoked: WG_OK (and *OUT, borrowed), else WG_ERR_AUTH saying why. */
wg_rc wg_members_check(const wg_members *m,
                       const uint8_t root[WG_SIGN_PK_BYTES],
                       const uint8_t key[WG_SIGN_PK_BYTES], uint64_t now,
                       const struct wg_cert **out, wg_err *err);

/* ---- equivocation proofs (proof.c) ------------------------------------ */

/* A feed frozen on proof: two different changes at (origin, partition, seq),
 * both signed by the origin. */
typedef struct wg_proof {
    uint8_t origin[WG_SIGN_PK_BYTES];
    char partition[17];
    uint64_t seq;
    uint8_t held[WG_HASH_BYTES];    /* hash of the change this node holds */
    uint8_t other[WG_HASH_BYTES];   /* hash of the conflicting change */
    int chain_len;                  /* changes from it to its signature */
    int64_t at;                     /* unix seconds it was found */
    int resolved;                   /* unfrozen since by an administrator */
    int frozen;                     /* the feed is frozen now */
} wg_proof;

typedef int (*wg_proof_fn)(void *ctx, const wg_proof *p);
/* Every proof held, oldest first. */
wg_rc wg_store_proofs(wg_store *st, wg_proof_fn fn, void *ctx, wg_err *err);
/* Did the last wg_store_apply() freeze a feed? 1 and *OUT if so. */
int wg_store_apply_froze(const wg_store *st, wg_proof *out);
/* Unfreeze ORIGIN's frozen feeds (in PARTITION only, unless NULL), once an
 * administrator knows the cause: the feed continues from the change this
 * node holds, and the same conflict offered again is refused without
 * freezing. *COUNT feeds unfrozen; WG_ERR_NOTFOUND when none was frozen. */
wg_rc wg_store_unfreeze(wg_store *st, const uint8_t origin[WG_SIGN_PK_BYTES],
                        const char *partition, int *count, wg_err *err);

/* Whether the last wg_store_apply() met a change whose clock is more than
 * WG_HLC_MAX_DRIFT_MS ahead of our wall clock (1; the batch was refused
 * with WG_ERR_AUTH: such a change would win every later edit of the fields
 * it writes, so it is held at its sender until the clocks agree), and,
 * through *AHEAD_MS, how far ahead it was. */
uint32_t wg_store_apply_skew(const wg_store *st, uint64_t *ahead_ms);

/* Call FN for each change of feed (ORIGIN, PARTITION) with seq > AFTER, in
 * seq order, at most MAX changes. The change is borrowed for the call. */
typedef int (*wg_change_fn)(void *ctx, const wg_signed_change *c,
                            uint64_t seq);
wg_rc wg_store_feed_read(wg_store *st, const uint8_t origin[WG_SIGN_PK_BYTES],
                         const char *partition, uint64_t after, size_t max,
                         wg_change_fn fn, void *ctx, wg_err *err);

/* One feed this store holds: the version vector is the list of these. */
typedef struct wg_feed_head {
    uint8_t origin[WG_SIGN_PK_BYTES];
    char partition[17];
    uint64_t head;
    uint8_t head_hash[WG_HASH_BYTES];
    int frozen;
} wg_feed_head;

typedef int (*wg_feed_fn)(void *ctx, const wg_feed_head *h);
wg_rc wg_store_feeds(wg_store *st, wg_feed_fn fn, void *ctx, wg_err *err);

/* Recheck every feed: each change's hash, chain link and seq, that it
 * decodes and belongs to its feed, every signature, and that each feed's
 * head is signed. FN is called per problem; *BAD counts them. */
wg_rc wg_store_verify_feeds(wg_store *st, wg_problem_fn fn, void *ctx,
                            long *checked, long *bad, wg_err *err);

/* ---- peers (local settings, never replicated) --------------------------- */

typedef struct wg_peer {
    char name[WG_NAME_MAX + 1];
    uint8_t key[WG_SIGN_PK_BYTES];
    char key_hex[WG_KEY_HEX_CHARS + 1];
    char endpoint[WG_ENDPOINT_MAX + 1];
    int64_t last_time;          /* unix seconds of the last session; 0 never */
    char last_result[16];       /* "ok" or "failed" */
    char last_error[256];
    int64_t last_sent, last_received;
} wg_peer;

/* Trust KEY_HEX (64 hex digits: an Ed25519 key) under NAME at ENDPOINT.
 * WG_ERR_INVALID for a malformed argument, WG_ERR_EXISTS when the name or
 * the key is already a peer. */
wg_rc wg_store_peer_add(wg_store *st, const char *name, const char *key_hex,
                        const char *endpoint, wg_err *err);
/* WG_ERR_NOTFOUND when no such peer. */
wg_rc wg_store_peer_remove(wg_store *st, const char *name, wg_err *err);
/* Every peer, sorted by name. P is borrowed for the call. */
typedef int (*wg_peer_fn)(void *ctx, const wg_peer *p);
wg_rc wg_store_peers(wg_store *st, wg_peer_fn fn, void *ctx, wg_err *err);
/* The peer called NAME into *P; WG_ERR_NOTFOUND. */
wg_rc wg_store_peer_get(wg_store *st, const char *name, wg_peer *p,
                        wg_err *err);
/* Remember how the last session with NAME ended. */
wg_rc wg_store_peer_result(wg_store *st, const char *name, int ok,
                           const char *error, int64_t sent, int64_t received,
                           wg_err *err);

/* ---- audit trail ------------------------------------------------------------ */

/* One audit entry; text fields may be NULL. */
typedef struct wg_audit_entry {
    const char *time;        /* UTC, "2026-11-28T14:00:00Z"; NULL: now */
    const char *event;       /* session, refused, rejected, equivocation,
                                clock_skew, protocol */
    const char *node;        /* the writing node's name (filled on read) */
    const char *peer;
    const char *peer_key;
    const char *direction;   /* "in" (peer connected to us) or "out" */
    int64_t sent, received, refused;
    const char *result;      /* "ok" or "failed" */
    const char *reason;
} wg_audit_entry;

/* Append E to this node's own audit feed in its own transaction (signed,
 * replicated like a record). Must not be called inside wg_store_begin. */
wg_rc wg_store_audit(wg_store *st, const wg_audit_entry *e, wg_err *err);
/* Every audit entry held (this node's and any relayed), oldest first. */
typedef int (*wg_audit_fn)(void *ctx, const wg_audit_entry *e);
wg_rc wg_store_audit_list(wg_store *st, wg_audit_fn fn, void *ctx,
                          wg_err *err);

/* The per-page check of wg_store_verify_pages() for a store this process
 * holds open (the key is already in memory). */
wg_rc wg_store_verify_open(wg_store *st, wg_problem_fn fn, void *ctx,
                           long *checked, long *bad, wg_err *err);

/* ---- reports ------------------------------------------------------------ */

typedef enum wg_report_by {
    WG_REPORT_COUNTY = 0,
    WG_REPORT_EMPLOYMENT_TYPE = 1,
    WG_REPORT_CATEGORY = 2
} wg_report_by;

/* One row of a report. By county: persons registered, persons with an
 * active placement, rate = employed / persons in percent, persons trained
 * (a training completed or certified), persons certified, the median
 * monthly income of active placements. By employment type: active
 * placements, distinct persons placed, median income. By training
 * category: persons enrolled in a course of it, trained, certified. */
typedef struct wg_report_row {
    char key[32];          /* county code, employment type or category */
    long persons, employed, trained, certified, placements;
    double rate;           /* percent, rounded to one decimal */
    int has_median;
    double median;         /* yuan; .5 when the middle falls between two */
} wg_report_row;

/* Aggregate the records this node holds. *ROWS is sorted by key; caller
 * owns, release with free(). TOTAL gets the row over everything. */
wg_rc wg_store_report(wg_store *st, wg_report_by by, wg_report_row **rows,
                      size_t *n, wg_report_row *total, wg_err *err);

/* A canonical text dump of every record table with its per-field clocks
 * (origins as keys): two stores holding the same changes give the same
 * bytes. Caller owns *OUT; release with wg_buf_release(). */
wg_rc wg_store_dump(wg_store *st, wg_buf *out, wg_err *err);

#endif
