/*
 * wg_life.h - a node's life on disk: its folder, backups, restores, rekeys
 *
 * The node folder's safety rules, files written whole beside their target,
 * `wings backup` / `wings restore` (one file holding the key file and a
 * sealed copy of the database, useless without the passphrase), and
 * `passwd --rekey` (the database re-encrypted under a fresh data key).
 */
#ifndef WG_LIFE_H
#define WG_LIFE_H

#include <stdint.h>

#include "wg_store.h"

/* The layout this build keeps its changes in (`wings --version`). */
int wg_store_layout_version(void);

/* ---- the folder and its files ------------------------------------------- */

/* WG_OK when DIR is a folder owned by this user and closed to group and
 * other; WG_ERR_INVALID with a message saying how to fix it otherwise;
 * WG_ERR_NOTFOUND when DIR does not exist. */
wg_rc wg_store_check_folder(const char *dir, wg_err *err);

/* Create a new file beside PATH (PATH.RANDOM.partial, mode 0600) with
 * O_EXCL|O_NOFOLLOW: never an existing file or link. Returns its descriptor
 * and sets *TMP to its name (caller owns; pass both to
 * wg_store_file_commit() or wg_store_file_abandon()), or -1 with ERR set. */
int wg_store_file_create(const char *path, char **tmp, wg_err *err);
/* Sync and close FD, rename *TMP over PATH and sync the folder. Takes *TMP
 * and sets it to NULL, even on failure (the partial file is removed then). */
wg_rc wg_store_file_commit(int fd, char **tmp, const char *path,
                            wg_err *err);
/* Close FD and remove *TMP; accepts -1 and NULL. */
void wg_store_file_abandon(int fd, char **tmp);

/* ---- backup and restore ------------------------------------------------- */

#define WG_BACKUP_MAX_TABLES 8

/* What a backup holds: all public, printed by backup and restore. */
typedef struct wg_backup_info {
    wg_node_info node;           /* name, county, role, endpoint, key */
    int64_t taken;               /* unix seconds */
    uint64_t db_bytes;           /* the sealed database copy */
    uint64_t file_bytes;         /* the whole backup file */
    int ntables;
    char table[WG_BACKUP_MAX_TABLES][32];
    uint64_t records[WG_BACKUP_MAX_TABLES];  /* live records per table */
    uint64_t feeds, changes;
} wg_backup_info;

/* Write a consistent copy of the open store ST to PATH (created beside it,
 * then renamed: an existing PATH is replaced whole or not at all): the key
 * file as on disk, a manifest sealed under a key derived from the data
 * key, and a copy of the database made through the encrypting VFS, every
 * page sealed. INFO (may be NULL) gets what it holds. */
wg_rc wg_store_backup(wg_store *st, const char *path, wg_backup_info *info,
                      wg_err *err);

/* Restore the backup in FILE into DIR, which must be absent or an empty
 * folder of this user's (WG_ERR_EXISTS otherwise). PASS must unwrap the
 * backup's key file (WG_ERR_AUTH). The manifest and the database copy are
 * authenticated before anything is kept: WG_ERR_AUTH when altered,
 * WG_ERR_CORRUPT when truncated, WG_ERR_INVALID when FILE is not a wings
 * backup. Nothing is left in DIR on failure. */
wg_rc wg_store_restore(const char *file, const char *dir, const char *pass,
                       size_t passlen, wg_backup_info *info, wg_err *err);

/* Decode the plaintext of a backup's manifest (LEN bytes at P, after its
 * authentication) into BI and the database copy's HASH. WG_ERR_CORRUPT when
 * malformed, WG_ERR_INVALID for another schema or layout. */
wg_rc wg_store_manifest_decode(const uint8_t *p, size_t len,
                                wg_backup_info *bi,
                                uint8_t hash[WG_HASH_BYTES], wg_err *err);

/* ---- rekey --------------------------------------------------------------- */

/* Re-encrypt the store in DIR under a fresh data key and database id, and
 * wrap the new key under NEWPASS: an old copy of the key file opens
 * nothing written since. WG_ERR_AUTH when OLDPASS is wrong. Safe against a
 * crash at any point: the next open finishes or forgets it. */
wg_rc wg_store_rekey(const char *dir, const char *oldpass, size_t oldlen,
                     const char *newpass, size_t newlen, wg_err *err);

/* Called by wg_store_open() before the database is opened: finish a rekey
 * that a crash interrupted (a complete DIR/wings.db.rekey sealed under KEY
 * and DBID, the key file's, replaces wings.db) or forget one that never
 * reached its key file (removed). */
wg_rc wg_store_rekey_recover(const char *dir, const uint8_t *key,
                             const uint8_t dbid[WG_DBID_BYTES], wg_err *err);

/* ---- going back in time: the rollback mark and held writes (life.c) ------ */

#define WG_STORE_MARKFILE "wings.mark"
/* Left by wg_store_restore(): the next open holds local writes. */
#define WG_STORE_RESTOREDFILE "wings.restored"
#define WG_MARK_SLOT 64

/* What the mark counts: changes held (every feed's head, summed) and this
 * node's own among them; GEN orders the two slots. */
typedef struct wg_mark {
    uint64_t gen, total, own;
} wg_mark;

/* The mark's MAC key, from the node's secret key (which a rekey keeps). */
void wg_mark_key(uint8_t key[WG_HASH_BYTES],
                 const uint8_t sk[WG_SIGN_SK_BYTES]);
/* One slot's bytes for M under KEY. */
void wg_mark_seal(uint8_t slot[WG_MARK_SLOT], const wg_mark *m,
                  const uint8_t key[WG_HASH_BYTES]);
/* 0 and *M when SLOT is authentic under KEY, -1 otherwise. */
int wg_mark_open(const uint8_t slot[WG_MARK_SLOT],
                 const uint8_t key[WG_HASH_BYTES], wg_mark *m);
/* The authentic slot with the highest gen among the N bytes of a mark
 * file (at most two slots read): 1 and *M, or 0 when none is. */
int wg_mark_pick(const uint8_t *file, size_t n,
                 const uint8_t key[WG_HASH_BYTES], wg_mark *m);
/* 1 when a store holding TOTAL changes, OWN of them its own, is behind
 * what mark M saw: it went back in time. */
int wg_mark_behind(const wg_mark *m, uint64_t total, uint64_t own);

/* What wg_store_open() noticed (wg_store_life_notice). */
enum { WG_LIFE_FINE = 0, WG_LIFE_MARK_DAMAGED = 1, WG_LIFE_ROLLED_BACK = 2 };
/* The open's finding; for WG_LIFE_ROLLED_BACK, how many changes, and of
 * them the node's own, the store holds fewer than its mark saw. */
int wg_store_life_notice(const wg_store *st, uint64_t *missing,
                         uint64_t *missing_own);

/* Whether local writes are held, and why. */
typedef struct wg_life_state {
    int held;                /* writes are held */
    char reason[16];         /* "restore", "rollback" or "fork" */
    int64_t since;           /* unix seconds: held since (shown only) */
    uint64_t hw;             /* own changes signed before a rollback (0: unknown) */
    uint64_t own;            /* own changes held now */
    uint64_t writes;         /* held writes waiting */
    uint64_t missing;        /* changes the mark saw that are not back yet */
    uint64_t missing_own;    /* of them this node's own */
    int npeers_waiting;      /* peers with no good session since */
    char waiting[256];       /* their names, space-separated (may be cut) */
} wg_life_state;
wg_rc wg_store_life_state(wg_store *st, wg_life_state *out, wg_err *err);

/* Release the held writes when every peer has finished a session with
 * this node since the hold began: SYNCED (may be NULL) names a peer whose
 * session just ended well. Called after each session, after a peer is
 * removed, at open. Does nothing otherwise, or inside a transaction. */
wg_rc wg_store_life_check(wg_store *st, const char *synced, wg_err *err);

/* What this node knows a peer holds of its own feeds (table own_seen,
 * node-local): the highest seq of own feed PART that PEER was verified to
 * hold exactly as this store does. 0 when nothing is known (a new peer, or
 * one whose copy must be learnt again). A session advertises, for each own
 * feed, the lower of its head and this, so the peer sends back whatever it
 * holds beyond: a folder copied back and written in before it synced meets
 * its own earlier changes and repairs its feed (wg_store_apply). */
uint64_t wg_store_own_seen(wg_store *st, const char *peer, const char *part);
/* After a session with PEER that ended well: it holds own feed PART up to
 * SEQ (never more than this store's head is kept). */
wg_rc wg_store_own_seen_set(wg_store *st, const char *peer, const char *part,
                            uint64_t seq, wg_err *err);
/* Name the peer whose batches the next wg_store_apply() calls read (for a
 * repair's audit entry and the refusal of a second one): "" for none. */
void wg_store_apply_peer(wg_store *st, const char *peer);
/* How many times this handle's own feeds were repaired so (since open). */
uint64_t wg_store_forks(const wg_store *st);

#endif
