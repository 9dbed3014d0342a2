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
#include "wg_ident.h"
#include "wg_schema.h"

#define WG_STORE_KEYFILE "wings.key"
#define WG_STORE_DBFILE "wings.db"

typedef struct wg_store wg_store;

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
/* One line to ST's log sink as MODULE (sync/ logs its events here, so one
 * process has one sink). Silent without a sink. Never pass secrets or
 * record contents. */
void wg_store_logf(wg_store *st, int level, const char *module,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Bound SQLite's page cache for this handle to KIB KiB (the default is
 * WG_STORE_CACHE_KIB, which keeps a county's tables in memory for reads). */
#define WG_STORE_CACHE_KIB 65536
wg_rc wg_store_set_cache(wg_store *st, int kib, wg_err *err);

/* Before this process opens its first store: about BYTES of page cache will
 * be filled (an import's estimate), so SQLite takes its cache lines from one
 * mapping in huge pages, out of core dumps (store/vfs.c). No effect once a
 * store was opened (a daemon keeps its arrangement), nor for small BYTES. */
void wg_store_reserve_cache(size_t bytes);

/* Inside a transaction, before about ROWS records of T are written in it (an
 * import): new record ids come from a pool drawn ahead, in ascending order;
 * and when the rows outnumber what T holds, T's list and live-value indexes
 * are dropped and made again, in one pass each, just before the transaction
 * commits (a rollback keeps the old ones), uniqueness being answered from
 * memory meanwhile. Nothing a caller sees changes. See store/bulk.c. */
wg_rc wg_store_bulk(wg_store *st, const wg_table *t, long rows, wg_err *err);

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

/* Is COUNTY (a partition) inside the scope of node INFO? Its area by the
 * level of its code, as wg_ident_area_contains() says: an office, its own
 * county; an hq of 450000, every 45xxxx; of 451000, every 4510xx (never
 * 4511xx); of 000000, all. */
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

/* ---- clerks and overwritten edits (overwritten.c) ---- */

#define WG_ACTOR_MAX 64
/* Name the clerk (an account name) whose writes follow, recorded in each
 * change as changed_by until set again; NULL or "" for none (the node's
 * operator at the CLI). */
void wg_store_set_actor(wg_store *st, const char *name);

/* Two concurrent writes of one field whose values differ, as merge found
 * them: [0] the value that won by the last-writer rule, [1] the value it
 * overwrote. Borrowed for the call; values and clerks may be NULL. */
typedef struct wg_overwrite {
    const wg_table *table;
    const char *id, *field;
    uint64_t hlc[2];
    uint8_t origin[2][WG_SIGN_PK_BYTES];
    const char *value[2], *clerk[2];
} wg_overwrite;
typedef int (*wg_overwrite_fn)(void *ctx, const wg_overwrite *o);
/* Every overwritten edit this node holds, by table, record and field. */
wg_rc wg_store_overwritten(wg_store *st, wg_overwrite_fn fn, void *ctx,
                           wg_err *err);
/* The name this node knows the node of KEY by (itself, a peer, a
 * membership certificate), into OUT; 0 and "" when it knows none. Names
 * from certificates come from peers: show them as untrusted text. */
int wg_store_node_name(wg_store *st, const uint8_t key[WG_SIGN_PK_BYTES],
                       char *out, size_t cap);

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
    uint8_t origin[WG_SIGN_PK_BYTES];
    char clerk[WG_ACTOR_MAX + 1];         /* changed_by, "" when none */
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

/* A counter that grows whenever this handle writes or receives a
 * certificate or revocation (or pins the root): whoever judges peers by
 * their certificates (the engine's live sessions) judges them again when
 * it moves. */
uint64_t wg_store_members_generation(const wg_store *st);

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
    char partition[WG_PARTITION_MAX + 1];
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
/* Reach peer NAME at ENDPOINT from now on; its key, history and
 * everything else stay. WG_ERR_INVALID, WG_ERR_NOTFOUND. */
wg_rc wg_store_peer_set_endpoint(wg_store *st, const char *name,
                                 const char *endpoint, wg_err *err);
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

/* The federation's definitions, in one place (README "Reports" and `help
 * report` say the same in words):
 *
 *   report date   --as-of DATE, else today (local time).
 *   persons       live person records (registered on or before the report
 *                 date when --as-of is given).
 *   working_age   persons whose age in full years on the report date lies in
 *                 [age_min, age_max] (16-59 unless asked otherwise); a person
 *                 without a birth date is not of known working age.
 *   employed      persons holding an active placement: now, status active;
 *                 --as-of D, started on or before D and not ended by the end
 *                 of D (end_date after D, or no end_date and status active).
 *   working_age_employed  working-age persons who are employed.
 *   employment_rate       working_age_employed / working_age, in percent,
 *                 rounded half up to two decimals (0 when working_age is 0).
 *   trained       persons with a training completed or certified (--as-of D:
 *                 with an end_date on or before D); certified likewise.
 *   placements    active placements of the row's persons; the median
 *                 monthly income is taken over them (incomes given).
 *   flows         --from F --to T: newly_trained, persons with a training
 *                 completed or certified with end_date in [F, T];
 *                 newly_placed, persons with a placement started in [F, T];
 *                 placements_ended, placements with end_date in [F, T].
 *
 * Every table groups persons: each live person is counted once, in one row,
 * so every table's total is the sum of its rows and equals every other
 * table's total. A person with several active placements counts under the
 * employment type of the one started last (then the higher income, then the
 * record id); under training category, the category of the course started
 * last (then the record id). "" is the row of persons without the value (no
 * active placement, no course, field unset). Records are grouped by
 * record id; persons registered twice are counted twice until merged. */

typedef enum wg_report_dim {
    WG_DIM_COUNTY = 0,
    WG_DIM_TOWNSHIP,
    WG_DIM_GENDER,
    WG_DIM_DISABILITY_CATEGORY,
    WG_DIM_DISABILITY_GRADE,
    WG_DIM_RURAL,
    WG_DIM_EMPLOYMENT_TYPE,
    WG_DIM_CATEGORY,
    WG_DIM_COUNT
} wg_report_dim;

/* The dimension's name as --by spells it, and back (-1 if unknown). */
const char *wg_report_dim_name(wg_report_dim d);
int wg_report_dim_parse(const char *name);

#define WG_REPORT_MAX_DIMS 2
#define WG_REPORT_DATE_CHARS 10   /* YYYY-MM-DD */
#define WG_REPORT_KEY_MAX 256     /* a township name is at most 200 bytes */
#define WG_REPORT_AGE_MIN 16
#define WG_REPORT_AGE_MAX 59

typedef struct wg_report_query {
    int ndims;                           /* 1 or 2 */
    wg_report_dim dims[WG_REPORT_MAX_DIMS];
    char as_of[WG_REPORT_DATE_CHARS + 1];  /* "" : the records as they are */
    char today[WG_REPORT_DATE_CHARS + 1];  /* report date without as_of */
    char from[WG_REPORT_DATE_CHARS + 1];   /* "" : no flows */
    char to[WG_REPORT_DATE_CHARS + 1];
    int age_min, age_max;
    int recount;    /* never answer from the kept aggregates */
} wg_report_query;

/* Fill Q with the defaults: by county, now, today's date, ages 16-59. */
void wg_report_query_init(wg_report_query *q);

/* One row. TOTAL has bit d set where dimension d is summed over ("total"). */
typedef struct wg_report_row {
    char key[WG_REPORT_MAX_DIMS][WG_REPORT_KEY_MAX];
    unsigned total;
    long persons, working_age, working_age_employed, employed, trained,
        certified, placements;
    long newly_trained, newly_placed, placements_ended;
    double rate;           /* percent, two decimals */
    int has_median;
    double median;         /* yuan; .5 when the middle falls between two */
} wg_report_row;

typedef struct wg_report {
    wg_report_query q;
    char date[WG_REPORT_DATE_CHARS + 1];   /* the report date */
    int from_aggregates;   /* answered from the kept aggregates */
    /* Cells sorted by key; for two dimensions then the subtotals of each
     * value of the first (total = 2), of the second (total = 1), and last
     * the grand total (total = all bits), which is also in TOTAL. */
    wg_report_row *rows;
    size_t n;
    wg_report_row grand;
} wg_report;

/* Aggregate the records this node holds as Q asks. *OUT: release with
 * wg_report_release(). WG_ERR_INVALID for a malformed query. */
wg_rc wg_store_report(wg_store *st, const wg_report_query *q, wg_report *out,
                      wg_err *err);
void wg_report_release(wg_report *r);

/* Recount the kept aggregates from the records and compare: *BAD gets the
 * number of aggregate rows that differ (0: they hold). */
wg_rc wg_store_report_verify(wg_store *st, long *bad, wg_err *err);
/* Rebuild the kept aggregates from the records (after rows were written
 * other than through merge, e.g. by a benchmark). */
wg_rc wg_store_report_rebuild(wg_store *st, wg_err *err);

/* ---- area names (the replicated table "area") ----------------------------- */

#define WG_AREA_NAME_MAX 100

/* Name area CODE (6 digits) NAME (1..WG_AREA_NAME_MAX bytes of UTF-8, no
 * control characters): a local write, inside wg_store_begin..commit, that
 * sync carries to every node whose scope holds CODE. Only an HQ names
 * areas, and only inside its scope. WG_ERR_INVALID. */
wg_rc wg_store_area_set(wg_store *st, const char *code, const char *name,
                        wg_err *err);
/* The name of CODE into OUT (WG_AREA_NAME_MAX + 1 bytes); WG_ERR_NOTFOUND. */
wg_rc wg_store_area_get(wg_store *st, const char *code, char *out,
                        wg_err *err);
typedef int (*wg_area_fn)(void *ctx, const char *code, const char *name);
wg_rc wg_store_areas(wg_store *st, wg_area_fn fn, void *ctx, wg_err *err);

/* A canonical text dump of every record table with its per-field clocks
 * (origins as keys): two stores holding the same changes give the same
 * bytes. Caller owns *OUT; release with wg_buf_release(). */
wg_rc wg_store_dump(wg_store *st, wg_buf *out, wg_err *err);

#endif
