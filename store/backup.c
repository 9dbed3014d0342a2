/*
 * backup.c - a node in one file and back, and re-encryption under a new key
 *
 * A backup file (integers big-endian):
 *
 *   0     "WINGSBAK"          8   magic
 *   8     version             1   = 1
 *   9     reserved            3   = 0
 *   12    manifest length     4   M, MANIFEST_MIN..MANIFEST_MAX
 *   16    key file          128   the node's wings.key as it was on disk
 *   144   manifest            M   nonce 24 || sealed manifest || tag 16
 *   144+M database            D   wings.db as a closed node leaves it
 *
 * The database copy is made by SQLite (its online backup, one read
 * transaction, so consistent) through the encrypting VFS under the node's own data key
 * and database id: every page is sealed exactly as in wings.db, and no
 * plaintext byte ever reaches a disk. The manifest (what the copy holds,
 * its length and BLAKE2b hash) is sealed with XChaCha20-Poly1305 under
 * BLAKE2b("wings-backup-v1" NUL || data key), the 144 bytes before it as
 * associated data: without the passphrase the file is useless, and no byte
 * of it can be changed, dropped or swapped (pages of two backups of one
 * node included) without restore refusing it.
 *
 * Rekey: the same copy, into DIR/wings.db.rekey under a fresh key and id; a new key
 * file wrapping them is written and renamed over wings.key (the commit
 * point); then wings.db.rekey is renamed over wings.db. A crash between the
 * two renames is finished by wg_store_rekey_recover() at the next open.
 */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wg_life.h"

#define MAGIC "WINGSBAK"
#define VERSION 1
#define HDR_BYTES (16 + WG_KEYFILE_BYTES)           /* 144 */
#define SEAL_BYTES (WG_AEAD_NONCE_BYTES + WG_AEAD_TAG_BYTES)
#define MANIFEST_MIN (SEAL_BYTES + 1)
#define MANIFEST_MAX 4096
#define LABEL "wings-backup-v1"
#define COPY_CHUNK (64 * 1024)
#define REKEY_FILE "wings.db.rekey"
#define KEYFILE_NEW "wings.key.new"
#define BACKUP_COPY "wings.db.backup-"

int wg_store_layout_version(void)
{
    return WG_STORE_LAYOUT;
}

/* ---- small file helpers ---------------------------------------------------- */

static char *real_join(const char *dir, const char *name, wg_err *err)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        wg_err_set(err, errno == ENOENT ? WG_ERR_NOTFOUND : WG_ERR_IO,
                   "cannot open folder '%s': %s", dir, strerror(errno));
        return NULL;
    }
    return wg_store__join(real, name);
}

static wg_rc write_all(int fd, const void *p, size_t n, const char *what,
                       wg_err *err)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return wg_err_set(err, errno == ENOSPC ? WG_ERR_NOSPACE : WG_ERR_IO,
                              "cannot write '%s': %s", what,
                              errno == ENOSPC ? "storage full"
                                              : strerror(errno));
        b += w;
        n -= (size_t)w;
    }
    return WG_OK;
}

/* Read exactly N bytes; 0 on success, -1 on a short read or error. */
static int read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Create DIR/NAME afresh (a stale one is removed first: unlink never
 * follows a link) with O_EXCL|O_NOFOLLOW, write N bytes and sync. */
static wg_rc write_new(const char *dir, const char *name, const void *p,
                       size_t n, wg_err *err)
{
    char *path = wg_store__join(dir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    wg_rc rc;
    if (fd < 0) {
        rc = wg_err_set(err, WG_ERR_IO, "cannot create '%s': %s", path,
                        strerror(errno));
    } else {
        rc = write_all(fd, p, n, path, err);
        if (rc == WG_OK && fsync(fd) != 0)
            rc = wg_err_set(err, WG_ERR_IO, "cannot sync '%s': %s", path,
                            strerror(errno));
        close(fd);
        if (rc)
            unlink(path);
    }
    free(path);
    return rc;
}

static wg_rc read_keyfile(const char *dir, uint8_t kf[WG_KEYFILE_BYTES],
                          wg_err *err)
{
    char *path = wg_store__join(dir, WG_STORE_KEYFILE);
    uint8_t extra;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    wg_rc rc = WG_OK;
    if (fd < 0)
        rc = wg_err_set(err, WG_ERR_IO, "cannot read '%s': %s", path,
                        strerror(errno));
    else if (read_all(fd, kf, WG_KEYFILE_BYTES) != 0 ||
             read(fd, &extra, 1) != 0)
        rc = wg_err_set(err, WG_ERR_CORRUPT, "key file '%s' is damaged",
                        path);
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

static void derive(uint8_t out[WG_KEY_BYTES], const uint8_t *key)
{
    wg_hash_state h;
    wg_hash_init(&h);
    wg_hash_update(&h, LABEL, sizeof LABEL); /* with its NUL */
    wg_hash_update(&h, key, WG_KEY_BYTES);
    wg_hash_final(&h, out);
    wg_wipe(&h, sizeof h);
}

/* ---- the sealed copy --------------------------------------------------------- */

/* Copy the open store ST into the new file TMP (absolute, already created
 * empty by us) through the VFS, sealed under KEY/DBID (NULL: the store's
 * own), and leave it as a closed node's wings.db: WAL mode, no WAL. The
 * copy is SQLite's online backup of every page in one read transaction;
 * the destination is prepared as wg_store_create() prepares a store (the
 * same reserved bytes; its journal in memory, so no plaintext journal file
 * is ever written), and takes the source's WAL-mode header with page 1. */
static wg_rc sealed_copy(wg_store *st, const char *tmp, const uint8_t *key,
                         const uint8_t *dbid, wg_err *err)
{
    wg_rc rc = key ? wg_vfs_attach(tmp, key, dbid, err)
                   : wg_vfs_attach_like(st->dbpath, tmp, err);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    int reserve = WG_RESERVE_BYTES;
    int r = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE |
                            SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            WG_VFS_NAME);
    if (r == SQLITE_OK)
        r = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES,
                                 &reserve);
    if (r == SQLITE_OK)
        r = sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE;"
                             "PRAGMA temp_store=MEMORY;"
                             "PRAGMA page_size=4096;"
                             "PRAGMA journal_mode=MEMORY;", NULL, NULL, NULL);
    if (r == SQLITE_OK) {
        sqlite3_backup *b = sqlite3_backup_init(db, "main", st->db, "main");
        if (!b) {
            r = sqlite3_errcode(db);
        } else {
            r = sqlite3_backup_step(b, -1);
            int f = sqlite3_backup_finish(b);
            r = r == SQLITE_DONE ? f : r;
        }
    }
    if (r != SQLITE_OK) {
        const char *vfs = wg_vfs_failure();
        rc = wg_err_set(err, (r & 0xff) == SQLITE_FULL ? WG_ERR_NOSPACE
                             : vfs ? WG_ERR_AUTH : WG_ERR_IO,
                        "cannot copy the store: %s",
                        vfs ? vfs : db ? sqlite3_errmsg(db) : sqlite3_errstr(r));
        wg_vfs_clear_failure();
    }
    if (db && sqlite3_close(db) != SQLITE_OK && rc == WG_OK)
        rc = wg_err_set(err, WG_ERR_IO, "cannot close the copy of the store");
    wg_vfs_detach(tmp);
    return rc;
}

/* A fresh empty file DIR/NAME-RANDOM for a copy; *PATH gets its absolute
 * name (caller owns; free()). */
static wg_rc copy_file_new(const char *dir, const char *name, char **path,
                           wg_err *err)
{
    char *p = real_join(dir, name, err);
    if (!p)
        return err ? err->code : WG_ERR_IO;
    unlink(p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    if (fd < 0) {
        wg_rc rc = wg_err_set(err, WG_ERR_IO, "cannot create '%s': %s", p,
                              strerror(errno));
        free(p);
        return rc;
    }
    close(fd);
    *path = p;
    return WG_OK;
}

static void remove_copy(const char *path)
{
    if (!path)
        return;
    size_t n = strlen(path) + 8;
    char *wal = wg_xmalloc(n);
    snprintf(wal, n, "%s-wal", path);
    unlink(wal);
    unlink(path);
    free(wal);
}

/* Copies a backup left behind when its process died: sealed, useless, but
 * the size of the database. The folder is this user's alone and one
 * process at a time holds the store, so every such file is a leftover. */
static void remove_stale_copies(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, BACKUP_COPY, strlen(BACKUP_COPY)) &&
            strlen(e->d_name) < 64) {
            char *p = wg_store__join(dir, e->d_name);
            unlink(p);
            free(p);
        }
    closedir(d);
}

/* ---- the manifest -------------------------------------------------------------- */

typedef struct feed_count {
    uint64_t feeds, changes;
} feed_count;

static int on_feed(void *p, const wg_feed_head *h)
{
    feed_count *f = p;
    f->feeds++;
    f->changes += h->head;
    return 0;
}

static wg_rc gather(wg_store *st, wg_backup_info *bi, wg_err *err)
{
    memset(bi, 0, sizeof *bi);
    bi->node = st->info;
    bi->taken = (int64_t)time(NULL);
    for (int i = 0; i < WG_BACKUP_MAX_TABLES; i++) {
        const wg_table *t = wg_schema_table_at(i);
        if (!t)
            break;
        long n = 0;
        wg_rc rc = wg_store_count(st, t, &n, err);
        if (rc)
            return rc;
        snprintf(bi->table[i], sizeof bi->table[i], "%s", t->name);
        bi->records[i] = (uint64_t)n;
        bi->ntables = i + 1;
    }
    feed_count f = { 0, 0 };
    wg_rc rc = wg_store_feeds(st, on_feed, &f, err);
    bi->feeds = f.feeds;
    bi->changes = f.changes;
    return rc;
}

static wg_rc put_str8(wg_buf *b, const char *s, wg_err *err)
{
    size_t n = strlen(s);
    wg_rc rc = wg_buf_append_u8(b, (uint8_t)n, err);
    return rc ? rc : wg_buf_append(b, s, n, err);
}

static wg_rc manifest_encode(wg_buf *b, const wg_backup_info *bi,
                             const uint8_t hash[WG_HASH_BYTES], wg_err *err)
{
    wg_rc rc = WG_OK;
    const wg_node_info *n = &bi->node;
    if ((rc = wg_buf_append_u8(b, VERSION, err)) ||
        (rc = wg_buf_append_u64(b, (uint64_t)bi->taken, err)) ||
        (rc = wg_buf_append_u64(b, bi->db_bytes, err)) ||
        (rc = wg_buf_append(b, hash, WG_HASH_BYTES, err)) ||
        (rc = wg_buf_append_u32(b, WG_SCHEMA_VERSION, err)) ||
        (rc = wg_buf_append_u32(b, WG_STORE_LAYOUT, err)) ||
        (rc = wg_buf_append_u8(b, (uint8_t)n->role, err)) ||
        (rc = put_str8(b, n->name, err)) ||
        (rc = put_str8(b, n->county, err)) ||
        (rc = put_str8(b, n->endpoint, err)) ||
        (rc = wg_buf_append(b, n->pk, WG_SIGN_PK_BYTES, err)) ||
        (rc = wg_buf_append_u64(b, bi->feeds, err)) ||
        (rc = wg_buf_append_u64(b, bi->changes, err)) ||
        (rc = wg_buf_append_u8(b, (uint8_t)bi->ntables, err)))
        return rc;
    for (int i = 0; i < bi->ntables; i++)
        if ((rc = put_str8(b, bi->table[i], err)) ||
            (rc = wg_buf_append_u64(b, bi->records[i], err)))
            return rc;
    return WG_OK;
}

static int get_str8(wg_reader *r, char *out, size_t cap)
{
    uint8_t n;
    const uint8_t *p;
    if (!wg_reader_u8(r, &n) || n >= cap || !wg_reader_bytes(r, n, &p))
        return 0;
    memcpy(out, p, n);
    out[n] = 0;
    return strlen(out) == n; /* no NUL inside */
}

wg_rc wg_store_manifest_decode(const uint8_t *p, size_t len,
                                wg_backup_info *bi,
                                uint8_t hash[WG_HASH_BYTES], wg_err *err)
{
    wg_reader r;
    wg_reader_init(&r, p, len);
    memset(bi, 0, sizeof *bi);
    uint8_t ver = 0, role = 0, nt = 0;
    uint32_t schema = 0, layout = 0;
    uint64_t taken = 0;
    const uint8_t *h = NULL, *pk = NULL;
    int ok = wg_reader_u8(&r, &ver) && ver == VERSION &&
             wg_reader_u64(&r, &taken) &&
             wg_reader_u64(&r, &bi->db_bytes) &&
             wg_reader_bytes(&r, WG_HASH_BYTES, &h) &&
             wg_reader_u32(&r, &schema) && wg_reader_u32(&r, &layout) &&
             wg_reader_u8(&r, &role) && role <= WG_ROLE_HQ &&
             get_str8(&r, bi->node.name, sizeof bi->node.name) &&
             get_str8(&r, bi->node.county, sizeof bi->node.county) &&
             get_str8(&r, bi->node.endpoint, sizeof bi->node.endpoint) &&
             wg_reader_bytes(&r, WG_SIGN_PK_BYTES, &pk) &&
             wg_reader_u64(&r, &bi->feeds) &&
             wg_reader_u64(&r, &bi->changes) &&
             wg_reader_u8(&r, &nt) && nt <= WG_BACKUP_MAX_TABLES;
    for (int i = 0; ok && i < nt; i++)
        ok = get_str8(&r, bi->table[i], sizeof bi->table[i]) &&
             wg_reader_u64(&r, &bi->records[i]);
    if (!ok || r.bad || wg_reader_left(&r) != 0 || taken > INT64_MAX)
        return wg_err_set(err, WG_ERR_CORRUPT, "backup manifest malformed");
    /* An older schema is upgraded in place when the restored store is
     * first opened, as any store of the previous release is. */
    if (schema < WG_SCHEMA_MIN || schema > WG_SCHEMA_VERSION ||
        layout != WG_STORE_LAYOUT)
        return wg_err_set(err, WG_ERR_INVALID,
                          "backup holds schema %u layout %u; this wings "
                          "restores schema %d to %d, layout %d", schema,
                          layout, WG_SCHEMA_MIN, WG_SCHEMA_VERSION,
                          WG_STORE_LAYOUT);
    bi->ntables = nt;
    bi->taken = (int64_t)taken;
    bi->node.role = (wg_role)role;
    memcpy(bi->node.pk, pk, WG_SIGN_PK_BYTES);
    wg_hex_encode(bi->node.key_hex, pk, WG_SIGN_PK_BYTES);
    memcpy(hash, h, WG_HASH_BYTES);
    return WG_OK;
}

/* ---- backup ------------------------------------------------------------------------ */

static wg_rc hash_file(const char *path, uint8_t hash[WG_HASH_BYTES],
                       uint64_t *size, wg_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return wg_err_set(err, WG_ERR_IO, "cannot read '%s': %s", path,
                          strerror(errno));
    uint8_t *buf = wg_xmalloc(COPY_CHUNK);
    wg_hash_state h;
    wg_hash_init(&h);
    uint64_t total = 0;
    wg_rc rc = WG_OK;
    for (;;) {
        ssize_t r = read(fd, buf, COPY_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = wg_err_set(err, WG_ERR_IO, "cannot read '%s': %s", path,
                            strerror(errno));
            break;
        }
        if (r == 0)
            break;
        wg_hash_update(&h, buf, (size_t)r);
        total += (uint64_t)r;
    }
    wg_hash_final(&h, hash);
    close(fd);
    free(buf);
    *size = total;
    return rc;
}

static wg_rc append_file(int out, const char *outname, const char *path,
                         uint64_t expect, wg_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return wg_err_set(err, WG_ERR_IO, "cannot read '%s': %s", path,
                          strerror(errno));
    uint8_t *buf = wg_xmalloc(COPY_CHUNK);
    uint64_t total = 0;
    wg_rc rc = WG_OK;
    for (;;) {
        ssize_t r = read(fd, buf, COPY_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = wg_err_set(err, WG_ERR_IO, "cannot read '%s': %s", path,
                            strerror(errno));
            break;
        }
        if (r == 0)
            break;
        total += (uint64_t)r;
        if ((rc = write_all(out, buf, (size_t)r, outname, err)))
            break;
    }
    close(fd);
    free(buf);
    if (rc == WG_OK && total != expect)
        rc = wg_err_set(err, WG_ERR_INTERNAL, "the copy of the store changed "
                        "while it was written");
    return rc;
}

wg_rc wg_store_backup(wg_store *st, const char *path, wg_backup_info *info,
                      wg_err *err)
{
    wg_backup_info bi;
    uint8_t hdr[HDR_BYTES], hash[WG_HASH_BYTES];
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t *mkey = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t dbid[WG_DBID_BYTES];
    char *copy = NULL, *tmp = NULL, name[64];
    int fd = -1;
    wg_buf man;
    wg_buf_init(&man, MANIFEST_MAX);

    uint8_t r[6];
    char hex[13];
    wg_random(r, sizeof r);
    wg_hex_encode(hex, r, sizeof r);
    snprintf(name, sizeof name, BACKUP_COPY "%s", hex);
    remove_stale_copies(st->dir);

    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, MAGIC, 8);
    hdr[8] = VERSION;
    wg_rc rc = read_keyfile(st->dir, hdr + 16, err);
    if (rc == WG_OK)
        rc = wg_vfs_key_copy(st->dbpath, key, dbid, err);
    /* The key file on disk must wrap this very key (a passwd since the
     * store opened rewraps the same key; the id says it is ours). */
    if (rc == WG_OK && memcmp(hdr + 16 + 40, dbid, WG_DBID_BYTES) != 0)
        rc = wg_err_set(err, WG_ERR_CORRUPT, "the key file of '%s' is not "
                        "the one this store was opened with", st->dir);
    if (rc == WG_OK)
        rc = gather(st, &bi, err);
    if (rc == WG_OK)
        rc = copy_file_new(st->dir, name, &copy, err);
    if (rc == WG_OK)
        rc = sealed_copy(st, copy, NULL, NULL, err);
    if (rc == WG_OK)
        rc = hash_file(copy, hash, &bi.db_bytes, err);
    if (rc == WG_OK &&
        (bi.db_bytes == 0 || bi.db_bytes % WG_PAGE_BYTES != 0))
        rc = wg_err_set(err, WG_ERR_INTERNAL, "the copy of the store is %llu "
                        "bytes, not whole pages",
                        (unsigned long long)bi.db_bytes);
    if (rc == WG_OK)
        rc = manifest_encode(&man, &bi, hash, err);
    if (rc == WG_OK && man.len + SEAL_BYTES > MANIFEST_MAX)
        rc = wg_err_set(err, WG_ERR_INTERNAL, "backup manifest too long");
    uint8_t sealed[MANIFEST_MAX];
    size_t mlen = man.len + SEAL_BYTES;
    if (rc == WG_OK) {
        wg_put_u32be(hdr + 12, (uint32_t)mlen);
        derive(mkey, key);
        wg_random(sealed, WG_AEAD_NONCE_BYTES);
        wg_aead_seal(sealed + WG_AEAD_NONCE_BYTES,
                     sealed + WG_AEAD_NONCE_BYTES + man.len, man.data, man.len,
                     hdr, HDR_BYTES, sealed, mkey);
        fd = wg_store_file_create(path, &tmp, err);
        if (fd < 0)
            rc = err ? err->code : WG_ERR_IO;
    }
    if (rc == WG_OK)
        rc = write_all(fd, hdr, HDR_BYTES, tmp, err);
    if (rc == WG_OK)
        rc = write_all(fd, sealed, mlen, tmp, err);
    if (rc == WG_OK)
        rc = append_file(fd, tmp, copy, bi.db_bytes, err);
    if (rc == WG_OK) {
        rc = wg_store_file_commit(fd, &tmp, path, err);
        fd = -1;
    }
    if (rc == WG_OK) {
        bi.file_bytes = HDR_BYTES + mlen + bi.db_bytes;
        if (info)
            *info = bi;
        wg_store__logf(st, WG_LOG_INFO, "backup written: %llu bytes, %llu "
                       "changes", (unsigned long long)bi.file_bytes,
                       (unsigned long long)bi.changes);
    }
    wg_store_file_abandon(fd, &tmp);
    remove_copy(copy);
    free(copy);
    wg_buf_release(&man);
    wg_secret_free(key);
    wg_secret_free(mkey);
    return rc;
}

/* ---- restore ----------------------------------------------------------------------- */

/* DIR absent (made now: *MADE set) or an empty folder of ours. */
static wg_rc empty_folder(const char *dir, int *made, wg_err *err)
{
    *made = 0;
    if (mkdir(dir, 0700) == 0) {
        *made = 1;
        return WG_OK;
    }
    if (errno != EEXIST)
        return wg_err_set(err, WG_ERR_IO, "cannot create folder '%s': %s",
                          dir, strerror(errno));
    wg_rc rc = wg_store_check_folder(dir, err);
    if (rc)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return wg_err_set(err, WG_ERR_IO, "cannot read folder '%s': %s", dir,
                          strerror(errno));
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    if (n)
        return wg_err_set(err, WG_ERR_EXISTS,
                          "'%s' is not empty: restore needs an empty or new "
                          "--dir (nothing was written)", dir);
    return WG_OK;
}

wg_rc wg_store_restore(const char *file, const char *dir, const char *pass,
                       size_t passlen, wg_backup_info *info, wg_err *err)
{
    uint8_t hdr[HDR_BYTES], want[WG_HASH_BYTES], got[WG_HASH_BYTES];
    uint8_t sealed[MANIFEST_MAX];
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t *mkey = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t *plain = wg_secret_alloc(MANIFEST_MAX);
    uint8_t *buf = NULL;
    uint8_t dbid[WG_DBID_BYTES];
    wg_backup_info bi;
    int made = 0, in = -1, out = -1, wrote_db = 0, wrote_key = 0;
    char *dbpath = NULL;
    struct stat sb;
    uint32_t mlen = 0;

    wg_rc rc = WG_OK;
    in = open(file, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = wg_err_set(err, errno == ENOENT ? WG_ERR_NOTFOUND : WG_ERR_IO,
                        "cannot read backup '%s': %s", file, strerror(errno));
        goto out;
    }
    if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = wg_err_set(err, WG_ERR_INVALID, "'%s' is not a wings backup",
                        file);
        goto out;
    }
    if (read_all(in, hdr, HDR_BYTES) != 0 || memcmp(hdr, MAGIC, 8) != 0) {
        rc = wg_err_set(err, WG_ERR_INVALID, "'%s' is not a wings backup",
                        file);
        goto out;
    }
    mlen = wg_get_u32be(hdr + 12);
    if (hdr[8] != VERSION || hdr[9] || hdr[10] || hdr[11] ||
        mlen < MANIFEST_MIN || mlen > MANIFEST_MAX) {
        rc = wg_err_set(err, WG_ERR_INVALID, "'%s' is a wings backup of an "
                        "unknown version or is damaged in its header", file);
        goto out;
    }
    rc = wg_keyfile_open(hdr + 16, WG_KEYFILE_BYTES, pass, passlen, key, dbid,
                         NULL, err);
    if (rc == WG_ERR_AUTH) {
        rc = wg_err_set(err, WG_ERR_AUTH, "cannot open backup '%s': wrong "
                        "passphrase, or its key file was altered", file);
        goto out;
    }
    if (rc) {
        rc = wg_err_set(err, WG_ERR_CORRUPT, "backup '%s' is altered or "
                        "corrupt: its key file is damaged", file);
        goto out;
    }
    if (read_all(in, sealed, mlen) != 0) {
        rc = wg_err_set(err, WG_ERR_CORRUPT, "backup '%s' is truncated", file);
        goto out;
    }
    derive(mkey, key);
    size_t plen = mlen - SEAL_BYTES;
    if (wg_aead_open(plain, sealed + WG_AEAD_NONCE_BYTES, plen,
                     sealed + WG_AEAD_NONCE_BYTES + plen, hdr, HDR_BYTES,
                     sealed, mkey) != WG_OK) {
        rc = wg_err_set(err, WG_ERR_AUTH, "backup '%s' is altered: its "
                        "manifest fails authentication", file);
        goto out;
    }
    if ((rc = wg_store_manifest_decode(plain, plen, &bi, want, err)))
        goto out;
    if (bi.db_bytes == 0 || bi.db_bytes % WG_PAGE_BYTES != 0 ||
        (uint64_t)sb.st_size != HDR_BYTES + mlen + bi.db_bytes) {
        rc = wg_err_set(err, WG_ERR_CORRUPT, "backup '%s' is altered or "
                        "corrupt: it is %lld bytes, its manifest says %llu",
                        file, (long long)sb.st_size,
                        (unsigned long long)(HDR_BYTES + mlen + bi.db_bytes));
        goto out;
    }
    /* Only now, with a backup that is whole and ours, touch DIR. */
    if ((rc = empty_folder(dir, &made, err)))
        goto out;
    dbpath = wg_store__join(dir, WG_STORE_DBFILE);
    out = open(dbpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0600);
    if (out < 0) {
        rc = wg_err_set(err, WG_ERR_IO, "cannot create '%s': %s", dbpath,
                        strerror(errno));
        goto out;
    }
    wrote_db = 1;
    buf = wg_xmalloc(COPY_CHUNK);
    wg_hash_state h;
    wg_hash_init(&h);
    for (uint64_t left = bi.db_bytes; left;) {
        size_t n = left < COPY_CHUNK ? (size_t)left : COPY_CHUNK;
        if (read_all(in, buf, n) != 0) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "backup '%s' is truncated",
                            file);
            goto out;
        }
        wg_hash_update(&h, buf, n);
        if ((rc = write_all(out, buf, n, dbpath, err)))
            goto out;
        left -= n;
    }
    wg_hash_final(&h, got);
    if (!wg_equal(got, want, WG_HASH_BYTES)) {
        rc = wg_err_set(err, WG_ERR_AUTH, "backup '%s' is altered: its "
                        "database copy does not match its manifest", file);
        goto out;
    }
    if (fsync(out) != 0) {
        rc = wg_err_set(err, WG_ERR_IO, "cannot sync '%s': %s", dbpath,
                        strerror(errno));
        goto out;
    }
    close(out);
    out = -1;
    wrote_key = 1;
    /* The restored node may be behind its peers on its own feeds: its
     * first open holds local writes until they have all synced (life.c). */
    if ((rc = write_new(dir, WG_STORE_RESTOREDFILE, "restored\n", 9, err)) ||
        (rc = write_new(dir, WG_STORE_KEYFILE, hdr + 16, WG_KEYFILE_BYTES,
                        err)) ||
        (rc = wg_store__sync_dir(dir, err)))
        goto out;
    bi.file_bytes = (uint64_t)sb.st_size;
    if (info)
        *info = bi;
out:
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    if (rc) {
        if (wrote_key) {
            char *k = wg_store__join(dir, WG_STORE_KEYFILE);
            unlink(k);
            free(k);
            k = wg_store__join(dir, WG_STORE_RESTOREDFILE);
            unlink(k);
            free(k);
        }
        if (wrote_db)
            unlink(dbpath);
        if (made)
            rmdir(dir);
    }
    free(buf);
    free(dbpath);
    wg_secret_free(plain);
    wg_secret_free(key);
    wg_secret_free(mkey);
    return rc;
}

/* ---- rekey -------------------------------------------------------------------------- */

typedef struct count_bad {
    long bad;
} count_bad;

static void on_bad(void *ctx, const char *what)
{
    ((count_bad *)ctx)->bad++;
}

wg_rc wg_store_rekey_recover(const char *dir, const uint8_t *key,
                             const uint8_t dbid[WG_DBID_BYTES], wg_err *err)
{
    char *p = real_join(dir, REKEY_FILE, err);
    if (!p)
        return err ? err->code : WG_ERR_IO;
    struct stat sb;
    wg_rc rc = WG_OK;
    if (lstat(p, &sb) == 0) {
        count_bad c = { 0 };
        long checked = 0, bad = 0;
        wg_err e2 = { 0 };
        int whole = S_ISREG(sb.st_mode) && sb.st_size >= WG_PAGE_BYTES &&
                    wg_vfs_verify(p, key, dbid, on_bad, &c, &checked, &bad,
                                  &e2) == WG_OK &&
                    bad == 0 && checked > 0;
        if (whole) {
            /* The key file already wraps its key: finish the rekey. The
             * old database's WAL (if any) was checkpointed before. */
            char *wal = wg_store__join(dir, WG_STORE_DBFILE "-wal");
            unlink(wal);
            free(wal);
            rc = wg_store__replace_in(dir, REKEY_FILE, WG_STORE_DBFILE, err);
        } else {
            remove_copy(p); /* never reached its key file */
        }
    }
    free(p);
    return rc;
}

wg_rc wg_store_rekey(const char *dir, const char *oldpass, size_t oldlen,
                     const char *newpass, size_t newlen, wg_err *err)
{
    uint8_t kf[WG_KEYFILE_BYTES], olddbid[WG_DBID_BYTES], dbid[WG_DBID_BYTES];
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t *oldkey = wg_secret_alloc(WG_KEY_BYTES);
    wg_kdf kdf = WG_KDF_MODERATE;
    wg_store *st = NULL;
    char *copy = NULL;
    wg_rc rc = read_keyfile(dir, kf, err);
    if (rc == WG_OK)
        rc = wg_keyfile_open(kf, sizeof kf, oldpass, oldlen, oldkey, olddbid,
                             &kdf, err);
    if (rc == WG_OK && kdf != WG_KDF_INTERACTIVE && kdf != WG_KDF_MODERATE &&
        kdf != WG_KDF_SENSITIVE && kdf != WG_KDF_TEST)
        kdf = WG_KDF_MODERATE;
    if (rc == WG_OK)
        rc = wg_store_open(dir, oldpass, oldlen, &st, err);
    wg_random(key, WG_KEY_BYTES);
    wg_random(dbid, sizeof dbid);
    if (rc == WG_OK)
        rc = copy_file_new(dir, REKEY_FILE, &copy, err);
    if (rc == WG_OK)
        rc = sealed_copy(st, copy, key, dbid, err);
    if (rc == WG_OK) {
        int fd = open(copy, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0)
            rc = wg_err_set(err, WG_ERR_IO, "cannot sync '%s': %s", copy,
                            strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (rc == WG_OK)
        rc = wg_keyfile_seal(kf, key, dbid, newpass, newlen, kdf, err);
    if (rc == WG_OK)
        rc = write_new(dir, KEYFILE_NEW, kf, sizeof kf, err);
    /* Close before the switch: the old WAL is checkpointed and removed, and
     * nothing can be written between the copy and here. */
    wg_store_close(&st);
    if (rc == WG_OK) {
        rc = wg_store__replace_in(dir, KEYFILE_NEW, WG_STORE_KEYFILE, err);
        if (rc == WG_OK) /* committed: a failure now is finished at open */
            rc = wg_store__replace_in(dir, REKEY_FILE, WG_STORE_DBFILE, err);
        else
            remove_copy(copy);
    } else if (copy) {
        remove_copy(copy);
    }
    free(copy);
    wg_secret_free(key);
    wg_secret_free(oldkey);
    return rc;
}
