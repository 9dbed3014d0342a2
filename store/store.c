/*
 * store.c - creating, opening and closing the encrypted store
 *
 * Open sequence: read the key file, unwrap the data key with the
 * passphrase, attach the key to the VFS under the database's real path, open
 * SQLite through the "wings" VFS, set the pragmas that keep every byte on
 * disk sealed (EXCLUSIVE locking before the first read, so no -shm file; WAL;
 * temp_store=MEMORY), then read the identity: the first read authenticates
 * page 1, so a wrong key or an altered page surfaces here with its number.
 */
#include "store_int.h"
#include "wg_validate.h"
#include "wg_users.h"
#include "wg_life.h"

#include <assert.h>

_Static_assert(WG_STORE_CACHE_KIB == 65536, "the pragma below says 65536");

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYFILE_TMP "wings.key.new"

static const char schema_sql[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;";

/* ---- helpers shared by store/ ----------------------------------------- */

void wg_store__logf(wg_store *st, int level, const char *fmt, ...)
{
    if (!st || !st->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st->log(st->log_ctx, level, "store", msg);
}

void wg_store_logf(wg_store *st, int level, const char *module,
                   const char *fmt, ...)
{
    if (!st || !st->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st->log(st->log_ctx, level, module, msg);
}

wg_rc wg_store__sqlerr(wg_store *st, int rc, const char *what, wg_err *err)
{
    const char *vfs = wg_vfs_failure();
    const char *msg = st && st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    if (rc == SQLITE_IOERR_DATA || (vfs && (rc & 0xff) == SQLITE_IOERR)) {
        wg_rc r = wg_err_set(err, WG_ERR_AUTH, "store altered or corrupt: %s",
                             vfs ? vfs : "a page failed authentication");
        wg_vfs_clear_failure();
        return r;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return wg_err_set(err, WG_ERR_IO,
                          "store is in use by another process (is 'wings "
                          "serve' running for it?)");
    case SQLITE_FULL:
        return wg_err_set(err, WG_ERR_NOSPACE, "storage full while %s: "
                          "nothing of it was written; free disk space and "
                          "try again", what);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return wg_err_set(err, WG_ERR_CORRUPT, "store corrupt while %s: %s",
                          what, msg);
    case SQLITE_CANTOPEN:
        return wg_err_set(err, WG_ERR_IO, "cannot open store while %s: %s",
                          what, vfs ? vfs : msg);
    default:
        return wg_err_set(err, WG_ERR_IO, "store error while %s: %s", what,
                          msg);
    }
}

wg_rc wg_store__exec(wg_store *st, const char *sql, wg_err *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return wg_store__sqlerr(st, rc, "running a statement", err);
    return WG_OK;
}

wg_rc wg_store__prepare(wg_store *st, const char *sql, sqlite3_stmt **out,
                        wg_err *err)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
    if (rc != SQLITE_OK)
        return wg_store__sqlerr(st, rc, "preparing a statement", err);
    return WG_OK;
}

/* Bind the arguments in AP to S by SPEC (see wg_store__run in
 * store_int.h). COPY: SQLite keeps its own copy of text and blobs (for a
 * statement stepped after the caller's buffers are gone); otherwise they are
 * used in place, so a secret bound this way is never copied. */
static void bind_spec(sqlite3_stmt *s, int copy, const char *spec,
                      va_list ap)
{
    sqlite3_destructor_type how = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
    for (int i = 1; *spec; spec++, i++) {
        switch (*spec) {
        case 'i':
            sqlite3_bind_int64(s, i, (sqlite3_int64)va_arg(ap, int64_t));
            break;
        case 't': {
            const char *t = va_arg(ap, const char *);
            if (t)
                sqlite3_bind_text(s, i, t, -1, how);
            else
                sqlite3_bind_null(s, i);
            break;
        }
        case 'b': {
            const void *b = va_arg(ap, const void *);
            int n = va_arg(ap, int);
            if (b)
                sqlite3_bind_blob(s, i, b, n, how);
            else
                sqlite3_bind_null(s, i);
            break;
        }
        default:
            assert(!"unknown bind letter");
        }
    }
}

wg_rc wg_store__query(wg_store *st, sqlite3_stmt **out, wg_err *err,
                      const char *sql, const char *spec, ...)
{
    wg_rc rc = wg_store__prepare(st, sql, out, err);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, spec);
    bind_spec(*out, 1, spec, ap);
    va_end(ap);
    return WG_OK;
}

wg_rc wg_store__run(wg_store *st, const char *what, wg_err *err,
                    const char *sql, const char *spec, ...)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, spec);
    bind_spec(s, 0, spec, ap);
    va_end(ap);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    return r == SQLITE_DONE || r == SQLITE_ROW
               ? WG_OK : wg_store__sqlerr(st, r, what, err);
}

wg_rc wg_store__step(wg_store *st, sqlite3_stmt *s, const char *what,
                     wg_err *err, const char *spec, ...)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    va_list ap;
    va_start(ap, spec);
    bind_spec(s, 0, spec, ap);
    va_end(ap);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    return r == SQLITE_DONE || r == SQLITE_ROW
               ? WG_OK : wg_store__sqlerr(st, r, what, err);
}

wg_rc wg_store__begin(wg_store *st, wg_err *err)
{
    wg_rc rc = wg_store__exec(st, "BEGIN IMMEDIATE", err);
    /* A transaction begins: deltas and bulk-load state still held were
     * left by one SQLite rolled back on its own (never by one still open:
     * BEGIN fails, and that transaction keeps both). */
    if (rc == WG_OK) {
        wg_store__report_discard(st);
        wg_store__bulk_end(st);
    }
    return rc;
}

wg_rc wg_store__commit(wg_store *st, wg_err *err)
{
    wg_rc fr = wg_store__list_indexes_restore(st, err);
    if (fr == WG_OK)
        fr = wg_store__report_flush(st, err);
    if (fr) {
        wg_store__rollback(st);
        return fr;
    }
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        wg_rc r = wg_store__sqlerr(st, rc, "committing", err);
        wg_store__rollback(st);
        return r;
    }
    wg_store__bulk_end(st);
    wg_store__life_committed(st);
    return WG_OK;
}

void wg_store__rollback(wg_store *st)
{
    st->pend_total = st->pend_own = 0;
    wg_store__bulk_end(st);   /* a drop is rolled back with the rest */
    wg_store__report_discard(st);
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- files --------------------------------------------------------------- */

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Write N bytes to DIR/NAME with mode 0600, fsync'd. */
static wg_rc write_file(const char *dir, const char *name, const void *p,
                        size_t n, wg_err *err)
{
    char *path = wg_store__join(dir, name);
    wg_rc rc = WG_OK;
    /* Never adopt a file or link already there (a stale one from a crash,
     * or one planted): remove the name, then create it afresh. */
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    if (fd < 0) {
        rc = wg_err_set(err, WG_ERR_IO, "cannot write '%s': %s", path,
                        strerror(errno));
        goto out;
    }
    const uint8_t *b = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, b + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = wg_err_set(err, errno == ENOSPC ? WG_ERR_NOSPACE : WG_ERR_IO,
                            "cannot write '%s': %s", path,
                            errno == ENOSPC ? "storage full" : strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (rc == WG_OK && fsync(fd) != 0)
        rc = wg_err_set(err, WG_ERR_IO, "cannot sync '%s': %s", path,
                        strerror(errno));
    close(fd);
out:
    free(path);
    return rc;
}

static wg_rc read_keyfile(const char *dir, uint8_t *buf, size_t cap,
                          size_t *n, wg_err *err)
{
    char *path = wg_store__join(dir, WG_STORE_KEYFILE);
    wg_rc rc = WG_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            char *db = wg_store__join(dir, WG_STORE_DBFILE);
            rc = exists(db)
                     ? wg_err_set(err, WG_ERR_NOTFOUND,
                                  "key file '%s' is missing: restore it from "
                                  "a backup", path)
                     : wg_err_set(err, WG_ERR_NOTFOUND,
                                  "no node in '%s' (create one with 'wings "
                                  "init')", dir);
            free(db);
        } else {
            rc = wg_err_set(err, WG_ERR_IO, "cannot read '%s': %s", path,
                            strerror(errno));
        }
        free(path);
        return rc;
    }
    size_t done = 0;
    for (;;) {
        ssize_t r = read(fd, buf + done, cap - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = wg_err_set(err, WG_ERR_IO, "cannot read '%s': %s", path,
                            strerror(errno));
            break;
        }
        if (r == 0)
            break;
        done += (size_t)r;
        if (done == cap)
            break; /* too long: the codec says so */
    }
    close(fd);
    free(path);
    *n = done;
    return rc;
}

/* Unwrap the data key of the node in DIR. KEY is guarded memory. */
static wg_rc unlock(const char *dir, const char *pass, size_t passlen,
                    uint8_t *key, uint8_t dbid[WG_DBID_BYTES], wg_kdf *kdf,
                    wg_err *err)
{
    uint8_t kf[WG_KEYFILE_BYTES + 1];
    size_t n = 0;
    wg_rc rc = read_keyfile(dir, kf, sizeof kf, &n, err);
    if (rc)
        return rc;
    rc = wg_keyfile_open(kf, n, pass, passlen, key, dbid, kdf, err);
    if (rc == WG_ERR_CORRUPT) {
        char msg[WG_ERR_MSG_BYTES];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        wg_err_set(err, WG_ERR_CORRUPT, "key file '%s/%s' is damaged: %s",
                   dir, WG_STORE_KEYFILE, msg);
    }
    return rc;
}

static char *db_realpath(const char *dir, wg_err *err)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        wg_err_set(err, errno == ENOENT ? WG_ERR_NOTFOUND : WG_ERR_IO,
                   "cannot open node folder '%s': %s", dir, strerror(errno));
        return NULL;
    }
    return wg_store__join(real, WG_STORE_DBFILE);
}

/* ---- meta ------------------------------------------------------------------ */

static wg_rc meta_put(wg_store *st, const char *k, const void *v, size_t n,
                      wg_err *err)
{
    return wg_store__run(st, "writing node settings", err,
                         "INSERT OR REPLACE INTO meta(k, v) VALUES(?, ?)", "tb",
                         k, v, (int)n);
}

/* Copy meta K into OUT (CAP bytes, NUL-terminated when text). */
static wg_rc meta_get(wg_store *st, const char *k, void *out, size_t cap,
                      size_t *n, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT v FROM meta WHERE k = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(s, 0);
        const void *v = sqlite3_column_blob(s, 0);
        if (len >= cap) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "node setting '%s' too long",
                            k);
        } else {
            if (len)
                memcpy(out, v, len);
            ((uint8_t *)out)[len] = 0;
            if (n)
                *n = len;
        }
    } else if (r == SQLITE_DONE) {
        rc = wg_err_set(err, WG_ERR_CORRUPT, "node setting '%s' missing", k);
    } else {
        rc = wg_store__sqlerr(st, r, "reading node settings", err);
    }
    sqlite3_finalize(s);
    return rc;
}

/* ---- open / close ---------------------------------------------------------- */

/* Checkpoints run as SQLite's own autocheckpoint runs them (passive, after a
 * commit that leaves WG_CHECKPOINT_PAGES frames or more in the WAL), with
 * one log line when one cannot finish: a WAL that keeps growing, or a disk
 * that refuses the copy, is trouble the operator should see. */
#define WG_CHECKPOINT_PAGES 1000
static int on_wal_commit(void *p, sqlite3 *db, const char *name, int pages)
{
    wg_store *st = p;
    if (pages < WG_CHECKPOINT_PAGES)
        return SQLITE_OK;
    int frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
                                       &frames, &copied);
    if (rc != SQLITE_OK || copied < frames)
        wg_store_logf(st, WG_LOG_WARN, "store", "checkpoint incomplete: %d "
                      "of %d WAL frames copied into the database (%s)",
                      copied, frames, sqlite3_errstr(rc));
    wg_vfs_clear_failure();
    return SQLITE_OK;
}

static void watch_checkpoints(wg_store *st)
{
    sqlite3_wal_hook(st->db, on_wal_commit, st);
}

/* The node folder is its operator's alone (folder.c); an absent one is
 * reported by whoever looks for the node in it. */
static wg_rc guard_folder(const char *dir, wg_err *err)
{
    wg_rc rc = wg_store_check_folder(dir, err);
    return rc == WG_ERR_NOTFOUND ? WG_OK : rc;
}

static wg_rc open_db(wg_store *st, int create, wg_err *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                (create ? SQLITE_OPEN_CREATE : 0);
    wg_vfs_clear_failure();
    int rc = sqlite3_open_v2(st->dbpath, &st->db, flags, WG_VFS_NAME);
    if (rc != SQLITE_OK)
        return wg_store__sqlerr(st, rc, "opening", err);
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, 5000);
    if (create) {
        int reserve = WG_RESERVE_BYTES;
        rc = sqlite3_file_control(st->db, "main", SQLITE_FCNTL_RESERVE_BYTES,
                                  &reserve);
        if (rc != SQLITE_OK)
            return wg_store__sqlerr(st, rc, "reserving page bytes", err);
    }
    /* Order matters: EXCLUSIVE before the first read keeps the WAL index in
     * heap memory (no -shm file); the journal never leaves memory until the
     * switch to WAL, so no plaintext journal is written. */
    const char *pragmas =
        "PRAGMA locking_mode=EXCLUSIVE;"
        "PRAGMA temp_store=MEMORY;"
        "PRAGMA mmap_size=0;"
        "PRAGMA cache_size=-65536;" /* WG_STORE_CACHE_KIB */
        "PRAGMA trusted_schema=OFF;";
    wg_rc r = wg_store__exec(st, pragmas, err);
    if (r)
        return r;
    if (create) {
        r = wg_store__exec(st, "PRAGMA page_size=4096;"
                               "PRAGMA journal_mode=MEMORY;", err);
        if (r)
            return r;
    }
    sqlite3_stmt *s;
    r = wg_store__prepare(st, "PRAGMA journal_mode=WAL", &s, err);
    if (r)
        return r;
    rc = sqlite3_step(s);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(s, 0)
                                                 : NULL;
    int wal = mode && !strcmp((const char *)mode, "wal");
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return wg_store__sqlerr(st, rc, "opening", err);
    if (!wal)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "store cannot be switched to WAL mode");
    return wg_store__exec(st, "PRAGMA synchronous=FULL;", err);
}

/* *VERSION: the schema the store was written with; wg_store__upgrade()
 * brings it up to date once the identity and origins are loaded. */
static wg_rc load_identity(wg_store *st, int *version, wg_err *err)
{
    char buf[WG_ENDPOINT_MAX + 1];
    size_t n;
    wg_rc rc;
    if ((rc = meta_get(st, "schema_version", buf, sizeof buf, NULL, err)))
        return rc;
    long long v = strtoll(buf, NULL, 10);
    if (v > WG_SCHEMA_VERSION)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "store has schema version %lld, this wings reads up "
                          "to %d: install a newer wings", v,
                          WG_SCHEMA_VERSION);
    *version = v < 1 ? 0 : (int)v;
    /* A store from before layouts were recorded holds whole changes in
     * `change`: refuse it rather than misread it. */
    if ((rc = meta_get(st, "layout", buf, sizeof buf, NULL, err)) &&
        rc != WG_ERR_CORRUPT)
        return rc;
    if (rc)
        snprintf(buf, sizeof buf, "1");
    if (strtoll(buf, NULL, 10) != WG_STORE_LAYOUT)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "store keeps its changes in layout %s, this wings "
                          "reads layout %d: create a new store and sync it "
                          "from a peer", buf, WG_STORE_LAYOUT);
    if ((rc = meta_get(st, "name", st->info.name, sizeof st->info.name, NULL,
                       err)) ||
        (rc = meta_get(st, "county", st->info.county, sizeof st->info.county,
                       NULL, err)) ||
        (rc = meta_get(st, "endpoint", st->info.endpoint,
                       sizeof st->info.endpoint, NULL, err)) ||
        (rc = meta_get(st, "role", buf, sizeof buf, NULL, err)))
        return rc;
    st->info.role = !strcmp(buf, "hq") ? WG_ROLE_HQ : WG_ROLE_OFFICE;
    uint8_t pk[WG_SIGN_PK_BYTES + 1];
    if ((rc = meta_get(st, "sign_pk", pk, sizeof pk, &n, err)))
        return rc;
    if (n != WG_SIGN_PK_BYTES)
        return wg_err_set(err, WG_ERR_CORRUPT, "node public key malformed");
    memcpy(st->info.pk, pk, WG_SIGN_PK_BYTES);
    wg_hex_encode(st->info.key_hex, pk, WG_SIGN_PK_BYTES);
    uint8_t *sk = wg_secret_alloc(WG_SIGN_SK_BYTES + 1);
    rc = meta_get(st, "sign_sk", sk, WG_SIGN_SK_BYTES + 1, &n, err);
    if (rc == WG_OK && n != WG_SIGN_SK_BYTES)
        rc = wg_err_set(err, WG_ERR_CORRUPT, "node secret key malformed");
    if (rc == WG_OK) {
        st->sk = wg_secret_alloc(WG_SIGN_SK_BYTES);
        memcpy(st->sk, sk, WG_SIGN_SK_BYTES);
    }
    wg_secret_free(sk);
    return rc;
}

static wg_store *store_new(const char *dir)
{
    wg_store *st = wg_xcalloc(1, sizeof *st);
    st->dir = wg_xstrdup(dir);
    st->mark_fd = -1;
    wg_buf_init(&st->enc, WG_CHANGE_MAX_BYTES);
    return st;
}

void wg_store_close(wg_store **stp)
{
    if (!stp || !*stp)
        return;
    wg_store *st = *stp;
    if (st->db)
        wg_store__rollback(st);
    wg_store__life_close(st);
    wg_store__report_release(st);
    wg_members_destroy(&st->mem_cache);
    wg_store__finalize(st);
    if (st->db)
        sqlite3_close_v2(st->db);
    if (st->dbpath)
        wg_vfs_detach(st->dbpath);
    wg_secret_free(st->sk);
    free(st->dir);
    free(st->dbpath);
    wg_wipe(st, sizeof *st);
    free(st);
    *stp = NULL;
}

wg_rc wg_store_open(const char *dir, const char *pass, size_t passlen,
                    wg_store **out, wg_err *err)
{
    *out = NULL;
    int version = 0;
    wg_rc rc = wg_vfs_register(err);
    if (rc)
        return rc;
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t dbid[WG_DBID_BYTES];
    wg_store *st = store_new(dir);
    if ((rc = guard_folder(dir, err)))
        goto out;
    rc = unlock(dir, pass, passlen, key, dbid, NULL, err);
    if (rc || (rc = wg_store_rekey_recover(dir, key, dbid, err)))
        goto out;
    if (!(st->dbpath = db_realpath(dir, err))) {
        rc = err ? err->code : WG_ERR_IO;
        goto out;
    }
    struct stat sb;
    if (stat(st->dbpath, &sb) != 0) {
        rc = wg_err_set(err, WG_ERR_NOTFOUND,
                        "database '%s' is missing: restore it from a backup",
                        st->dbpath);
        goto out;
    }
    if (sb.st_size < WG_PAGE_BYTES) {
        rc = wg_err_set(err, WG_ERR_CORRUPT,
                        "store altered or corrupt: the database file is "
                        "%s", sb.st_size ? "truncated inside page 1" : "empty");
        goto out;
    }
    if ((rc = wg_vfs_attach(st->dbpath, key, dbid, err)))
        goto out;
    if ((rc = open_db(st, 0, err)))
        goto out;
    watch_checkpoints(st);
    if ((rc = load_identity(st, &version, err)) ||
        (rc = wg_store__load_state(st, err)))
        goto out;
    /* The report's aggregates first, so an upgrade's merges keep them. */
    if ((rc = wg_store__report_open(st, err)) ||
        (rc = wg_store__upgrade(st, version, err)))
        goto out;
    if ((rc = wg_store__users_init(st, err)) == WG_OK)
        rc = wg_store__list_indexes(st, err);
    if (rc == WG_OK)
        rc = wg_store__life_open(st, err);
out:
    wg_secret_free(key);
    if (rc)
        wg_store_close(&st);
    *out = st;
    return rc;
}

void wg_store_reserve_cache(size_t bytes)
{
    wg_vfs_reserve_pages(bytes);
}

wg_rc wg_store_set_cache(wg_store *st, int kib, wg_err *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d;", kib > 0 ? kib : 1);
    return wg_store__exec(st, sql, err);
}

void wg_store_set_log(wg_store *st, wg_log_fn fn, void *ctx)
{
    st->log = fn;
    st->log_ctx = ctx;
}

const wg_node_info *wg_store_info(const wg_store *st)
{
    return &st->info;
}

const uint8_t *wg_store_secret_key(const wg_store *st)
{
    return st->sk;
}

/* ---- create ---------------------------------------------------------------- */

static wg_rc check_info(const wg_node_info *info, wg_err *err)
{
    size_t n = strnlen(info->name, sizeof info->name);
    if (n == 0 || n > WG_NAME_MAX)
        return wg_err_set(err, WG_ERR_INVALID,
                          "name: must be 1 to %d characters", WG_NAME_MAX);
    if (!wg_ident_name_ok(info->name, n))
        return wg_err_set(err, WG_ERR_INVALID,
                          "name: '%s' may hold only letters, digits, "
                          "'-', '_' and '.'", info->name);
    if (!wg_ident_county_ok(info->county,
                            strnlen(info->county, sizeof info->county)))
        return wg_err_set(err, WG_ERR_INVALID,
                          "county: '%s' is not a 6-digit division code",
                          info->county);
    if (info->role == WG_ROLE_OFFICE && !strcmp(info->county, "000000"))
        return wg_err_set(err, WG_ERR_INVALID,
                          "county: an office needs its own county code, not "
                          "000000");
    if (!wg_ident_endpoint_ok(info->endpoint))
        return wg_err_set(err, WG_ERR_INVALID,
                          "endpoint: '%.80s' is not of the form tcp://HOST:PORT",
                          info->endpoint);
    return WG_OK;
}

wg_rc wg_store_create(const char *dir, const char *pass, size_t passlen,
                      wg_kdf kdf, wg_node_info *info, wg_err *err)
{
    wg_rc rc = wg_vfs_register(err);
    if (rc || (rc = check_info(info, err)))
        return rc;
    char *kpath = wg_store__join(dir, WG_STORE_KEYFILE);
    char *dpath = wg_store__join(dir, WG_STORE_DBFILE);
    int taken = exists(kpath) || exists(dpath);
    free(kpath);
    free(dpath);
    if (taken)
        return wg_err_set(err, WG_ERR_EXISTS,
                          "'%s' already holds a node; choose another --dir",
                          dir);
    if (mkdir(dir, 0700) != 0) {
        if (errno != EEXIST)
            return wg_err_set(err, WG_ERR_IO, "cannot create folder '%s': %s",
                              dir, strerror(errno));
        if ((rc = guard_folder(dir, err)))
            return rc;
    }

    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t *sk = wg_secret_alloc(WG_SIGN_SK_BYTES);
    uint8_t dbid[WG_DBID_BYTES], kf[WG_KEYFILE_BYTES];
    wg_store *st = store_new(dir);
    int wrote_tmp = 0;
    wg_random(key, WG_KEY_BYTES);
    wg_random(dbid, sizeof dbid);
    wg_sign_keypair(info->pk, sk);
    wg_hex_encode(info->key_hex, info->pk, WG_SIGN_PK_BYTES);

    if ((rc = wg_keyfile_seal(kf, key, dbid, pass, passlen, kdf, err)))
        goto out;
    if ((rc = write_file(dir, KEYFILE_TMP, kf, sizeof kf, err)))
        goto out;
    wrote_tmp = 1;
    if (!(st->dbpath = db_realpath(dir, err))) {
        rc = err ? err->code : WG_ERR_IO;
        goto out;
    }
    if ((rc = wg_vfs_attach(st->dbpath, key, dbid, err)) ||
        (rc = open_db(st, 1, err)) ||
        (rc = wg_store__begin(st, err)) ||
        (rc = wg_store__exec(st, schema_sql, err)) ||
        (rc = wg_store__create_schema(st, err)) ||
        (rc = wg_store__report_schema(st, err)))
        goto out;
    char ver[16];
    snprintf(ver, sizeof ver, "%d", WG_SCHEMA_VERSION);
    const char *role = info->role == WG_ROLE_HQ ? "hq" : "office";
    char layout[16];
    snprintf(layout, sizeof layout, "%d", WG_STORE_LAYOUT);
    if ((rc = meta_put(st, "schema_version", ver, strlen(ver), err)) ||
        (rc = meta_put(st, "layout", layout, strlen(layout), err)) ||
        (rc = meta_put(st, "name", info->name, strlen(info->name), err)) ||
        (rc = meta_put(st, "county", info->county, strlen(info->county),
                       err)) ||
        (rc = meta_put(st, "role", role, strlen(role), err)) ||
        (rc = meta_put(st, "endpoint", info->endpoint,
                       strlen(info->endpoint), err)) ||
        (rc = meta_put(st, "sign_pk", info->pk, WG_SIGN_PK_BYTES, err)) ||
        (rc = meta_put(st, "sign_sk", sk, WG_SIGN_SK_BYTES, err)) ||
        (rc = wg_store__oid(st, info->pk, &st->self_oid, err)) ||
        (rc = wg_store__commit(st, err)))
        goto out;
    wg_store_close(&st);
    rc = wg_store__replace_in(dir, KEYFILE_TMP, WG_STORE_KEYFILE, err);
out:
    if (rc) {
        if (st)
            wg_store_close(&st);
        char *p;
        if (wrote_tmp) {
            unlink(p = wg_store__join(dir, KEYFILE_TMP));
            free(p);
        }
        unlink(p = wg_store__join(dir, WG_STORE_DBFILE));
        free(p);
        unlink(p = wg_store__join(dir, WG_STORE_DBFILE "-wal"));
        free(p);
        rmdir(dir); /* only if we left it empty */
    }
    wg_store_close(&st);
    wg_secret_free(key);
    wg_secret_free(sk);
    return rc;
}

/* ---- passphrase and verification ------------------------------------------ */

wg_rc wg_store_passwd(const char *dir, const char *oldpass, size_t oldlen,
                      const char *newpass, size_t newlen, wg_err *err)
{
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t dbid[WG_DBID_BYTES], kf[WG_KEYFILE_BYTES];
    wg_kdf kdf = WG_KDF_MODERATE;
    wg_rc rc = guard_folder(dir, err);
    if (rc == WG_OK)
        rc = unlock(dir, oldpass, oldlen, key, dbid, &kdf, err);
    /* Keep the file's cost (a test node's minimum one included); an unknown
     * level gets the default. */
    if (rc == WG_OK && kdf != WG_KDF_INTERACTIVE && kdf != WG_KDF_MODERATE &&
        kdf != WG_KDF_SENSITIVE && kdf != WG_KDF_TEST)
        kdf = WG_KDF_MODERATE;
    if (rc == WG_OK)
        rc = wg_keyfile_seal(kf, key, dbid, newpass, newlen, kdf, err);
    if (rc == WG_OK)
        rc = write_file(dir, KEYFILE_TMP, kf, sizeof kf, err);
    if (rc == WG_OK)
        rc = wg_store__replace_in(dir, KEYFILE_TMP, WG_STORE_KEYFILE, err);
    wg_secret_free(key);
    return rc;
}

wg_rc wg_store_verify_pages(const char *dir, const char *pass, size_t passlen,
                            wg_problem_fn fn, void *ctx, long *checked,
                            long *bad, wg_err *err)
{
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t dbid[WG_DBID_BYTES];
    char *dbpath = NULL;
    wg_rc rc = unlock(dir, pass, passlen, key, dbid, NULL, err);
    if (rc == WG_OK && !(dbpath = db_realpath(dir, err)))
        rc = err ? err->code : WG_ERR_IO;
    if (rc == WG_OK)
        rc = wg_vfs_verify(dbpath, key, dbid, fn, ctx, checked, bad, err);
    free(dbpath);
    wg_secret_free(key);
    return rc;
}

wg_rc wg_store_verify_open(wg_store *st, wg_problem_fn fn, void *ctx,
                           long *checked, long *bad, wg_err *err)
{
    return wg_vfs_verify_attached(st->dbpath, fn, ctx, checked, bad, err);
}
