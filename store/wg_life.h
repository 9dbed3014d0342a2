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

#endif
