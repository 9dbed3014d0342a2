/*
 * vfs.c - the encrypting VFS shim beneath SQLite
 *
 * Registered over the default VFS as "wings". Every page of the database
 * file and every frame of its WAL is sealed with XChaCha20-Poly1305 under the
 * node's data key; nothing else is ever opened (rollback journals, temp files
 * and statement journals are refused: the store runs in WAL mode with
 * temp_store=MEMORY, so SQLite never needs them).
 *
 * Database file, page N (1-based), WG_PAGE_BYTES each:
 *
 *   [ ciphertext of plaintext[0 .. 4056) ][ nonce 24 ][ tag 16 ]
 *   AD = "wgdb" || dbid || N (u32 BE)
 *
 * SQLite keeps WG_RESERVE_BYTES (40) reserved at the end of every page, so
 * the plaintext's last 40 bytes are never used; we require them to be zero on
 * write and return zeros on read, which keeps SQLite's WAL checksums (taken
 * over the plaintext) valid.
 *
 * WAL file: SQLite's logical layout is a 32-byte header, then frames of a
 * 24-byte frame header and a page. Physically each is sealed whole, so frame
 * headers (page numbers, commit sizes, salts) are secret and authenticated
 * too:
 *
 *   physical 0      [ ct(32) ][ nonce 24 ][ tag 16 ]      the WAL header
 *   physical 72+i*F [ ct(24 + 4056) ][ nonce 24 ][ tag 16 ] frame i, F=4120
 *   AD = "wgwh" || dbid            for the header
 *   AD = "wgwf" || dbid || i       for frame i
 *
 * A logical offset L >= 32 lives at physical L + 40. SQLite writes a frame as
 * two calls (header, then page); the header is held back and written with
 * its page in one pwrite.
 *
 *   page cycle:  xWrite(plain) --seal--> pwrite      (vfs_write_db/_wal)
 *                pread --open/fail--> xRead(plain)    (vfs_read_db/_wal)
 *
 * An authentication failure returns SQLITE_IOERR_DATA and leaves a
 * thread-local description ("page 7 of the database failed authentication")
 * that store.c turns into the error message.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAIN_BYTES (WG_PAGE_BYTES - WG_RESERVE_BYTES)      /* 4056 */
#define WAL_HDR 32
#define WAL_FHDR 24
#define WAL_FRAME (WAL_FHDR + WG_PAGE_BYTES)                /* 4120 */
#define SEAL (WG_AEAD_NONCE_BYTES + WG_AEAD_TAG_BYTES)      /* 40 */
#define WAL_PHDR (WAL_HDR + SEAL)                           /* 72 */

enum { KIND_DB = 1, KIND_WAL = 2 };

/* ---- key registry: which database path is sealed under which key ------ */

typedef struct keyent {
    struct keyent *next;
    char *path;
    uint8_t *key;              /* WG_KEY_BYTES, secret memory */
    uint8_t dbid[WG_DBID_BYTES];
    int refs;
} keyent;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static keyent *registry;

wg_rc wg_vfs_attach(const char *dbpath, const uint8_t key[WG_KEY_BYTES],
                    const uint8_t dbid[WG_DBID_BYTES], wg_err *err)
{
    pthread_mutex_lock(&reg_lock);
    for (keyent *e = registry; e; e = e->next)
        if (!strcmp(e->path, dbpath)) {
            pthread_mutex_unlock(&reg_lock);
            return wg_err_set(err, WG_ERR_INTERNAL,
                              "store '%s' is already open in this process",
                              dbpath);
        }
    keyent *e = wg_xcalloc(1, sizeof *e);
    e->path = wg_xstrdup(dbpath);
    e->key = wg_secret_alloc(WG_KEY_BYTES);
    memcpy(e->key, key, WG_KEY_BYTES);
    memcpy(e->dbid, dbid, WG_DBID_BYTES);
    e->next = registry;
    registry = e;
    pthread_mutex_unlock(&reg_lock);
    return WG_OK;
}

void wg_vfs_detach(const char *dbpath)
{
    pthread_mutex_lock(&reg_lock);
    for (keyent **pp = &registry; *pp; pp = &(*pp)->next) {
        keyent *e = *pp;
        if (!strcmp(e->path, dbpath)) {
            *pp = e->next;
            wg_secret_free(e->key);
            free(e->path);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
}

static keyent *lookup(const char *dbpath)
{
    keyent *found = NULL;
    pthread_mutex_lock(&reg_lock);
    for (keyent *e = registry; e; e = e->next)
        if (!strcmp(e->path, dbpath)) {
            found = e;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    return found;
}

/* ---- failure reporting --------------------------------------------------- */

static _Thread_local char failure[160];

const char *wg_vfs_failure(void)
{
    return failure[0] ? failure : NULL;
}

void wg_vfs_clear_failure(void)
{
    failure[0] = 0;
}

#define FAIL(...) (snprintf(failure, sizeof failure, __VA_ARGS__), \
                   SQLITE_IOERR_DATA)

/* ---- sealing ------------------------------------------------------------- */

static void ad_db(uint8_t ad[24], const keyent *k, uint32_t pgno)
{
    memcpy(ad, "wgdb", 4);
    memcpy(ad + 4, k->dbid, WG_DBID_BYTES);
    wg_put_u32be(ad + 20, pgno);
}

static void ad_wal(uint8_t ad[24], const keyent *k, const char *tag, uint32_t i)
{
    memcpy(ad, tag, 4);
    memcpy(ad + 4, k->dbid, WG_DBID_BYTES);
    wg_put_u32be(ad + 20, i);
}

/* Seal N plaintext bytes of IN into OUT (N + SEAL bytes). */
static void seal(uint8_t *out, const uint8_t *in, size_t n, const uint8_t *ad,
                 const keyent *k)
{
    uint8_t *nonce = out + n;
    wg_nonce_next(nonce);
    wg_aead_seal(out, out + n + WG_AEAD_NONCE_BYTES, in, n, ad, 24, nonce,
                 k->key);
}

static wg_rc unseal(uint8_t *out, const uint8_t *in, size_t n,
                    const uint8_t *ad, const keyent *k)
{
    return wg_aead_open(out, in, n, in + n + WG_AEAD_NONCE_BYTES, ad, 24,
                        in + n, k->key);
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* ---- the file object --------------------------------------------------- */

typedef struct vfile {
    sqlite3_file base;
    sqlite3_file *real;      /* the default VFS's file, allocated after us */
    int kind;
    keyent *k;
    uint8_t buf[WAL_FRAME];  /* one sealed unit */
    uint8_t plain[WAL_FRAME];
    int held;                /* a WAL frame header waits for its page */
    sqlite3_int64 held_off;  /* logical offset of that header */
    uint8_t held_hdr[WAL_FHDR];
} vfile;

static sqlite3_vfs *base_vfs;

static int real_read_full(vfile *f, void *p, int n, sqlite3_int64 off,
                          int *got)
{
    int rc = f->real->pMethods->xRead(f->real, p, n, off);
    if (rc == SQLITE_OK) {
        *got = n;
    } else if (rc == SQLITE_IOERR_SHORT_READ) {
        /* The default VFS zero-fills the tail; find how much was real. */
        sqlite3_int64 size = 0;
        if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
            return SQLITE_IOERR_READ;
        *got = size <= off ? 0 : (int)(size - off < n ? size - off : n);
        rc = SQLITE_OK;
    }
    return rc;
}

/* Read and open database page PGNO into f->plain (WG_PAGE_BYTES).
 * Returns SQLITE_OK, SQLITE_IOERR_SHORT_READ (page beyond the end: zeros),
 * or an error. */
static int load_db_page(vfile *f, uint32_t pgno)
{
    int got = 0;
    sqlite3_int64 off = (sqlite3_int64)(pgno - 1) * WG_PAGE_BYTES;
    int rc = real_read_full(f, f->buf, WG_PAGE_BYTES, off, &got);
    if (rc != SQLITE_OK)
        return rc;
    if (got == 0) {
        memset(f->plain, 0, WG_PAGE_BYTES);
        return SQLITE_IOERR_SHORT_READ;
    }
    if (got < WG_PAGE_BYTES)
        return FAIL("page %u of the database is truncated", (unsigned)pgno);
    uint8_t ad[24];
    ad_db(ad, f->k, pgno);
    if (unseal(f->plain, f->buf, PLAIN_BYTES, ad, f->k) != WG_OK)
        return FAIL("page %u of the database failed authentication",
                    (unsigned)pgno);
    memset(f->plain + PLAIN_BYTES, 0, WG_RESERVE_BYTES);
    return SQLITE_OK;
}

static int vfs_read_db(vfile *f, uint8_t *out, int amt, sqlite3_int64 off)
{
    int short_read = 0;
    while (amt > 0) {
        uint32_t pgno = (uint32_t)(off / WG_PAGE_BYTES) + 1;
        int in = (int)(off % WG_PAGE_BYTES);
        int n = WG_PAGE_BYTES - in < amt ? WG_PAGE_BYTES - in : amt;
        int rc = load_db_page(f, pgno);
        if (rc == SQLITE_IOERR_SHORT_READ)
            short_read = 1;
        else if (rc != SQLITE_OK)
            return rc;
        memcpy(out, f->plain + in, (size_t)n);
        out += n;
        off += n;
        amt -= n;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int vfs_write_db(vfile *f, const uint8_t *in, int amt,
                        sqlite3_int64 off)
{
    if (amt != WG_PAGE_BYTES || off % WG_PAGE_BYTES != 0)
        return SQLITE_IOERR_WRITE; /* the page size is fixed at 4096 */
    if (!all_zero(in + PLAIN_BYTES, WG_RESERVE_BYTES))
        return SQLITE_IOERR_WRITE; /* reserved bytes must stay unused */
    uint32_t pgno = (uint32_t)(off / WG_PAGE_BYTES) + 1;
    uint8_t ad[24];
    ad_db(ad, f->k, pgno);
    seal(f->buf, in, PLAIN_BYTES, ad, f->k);
    return f->real->pMethods->xWrite(f->real, f->buf, WG_PAGE_BYTES, off);
}

/* WAL frame I (0-based) into f->plain (WAL_FRAME logical bytes). */
static int load_wal_frame(vfile *f, uint32_t i)
{
    int got = 0;
    sqlite3_int64 phys = WAL_PHDR + (sqlite3_int64)i * WAL_FRAME;
    int rc = real_read_full(f, f->buf, WAL_FRAME, phys, &got);
    if (rc != SQLITE_OK)
        return rc;
    if (got < WAL_FRAME) {
        /* SQLite only reads whole frames below the file size it was told;
         * a partial frame is an append that never finished. */
        memset(f->plain, 0, WAL_FRAME);
        return SQLITE_IOERR_SHORT_READ;
    }
    uint8_t ad[24];
    ad_wal(ad, f->k, "wgwf", i);
    if (unseal(f->plain, f->buf, WAL_FHDR + PLAIN_BYTES, ad, f->k) != WG_OK)
        return FAIL("frame %lu of the WAL failed authentication",
                    (unsigned long)i + 1);
    memset(f->plain + WAL_FHDR + PLAIN_BYTES, 0, WG_RESERVE_BYTES);
    return SQLITE_OK;
}

static int load_wal_header(vfile *f, uint8_t out[WAL_HDR])
{
    int got = 0;
    int rc = real_read_full(f, f->buf, WAL_PHDR, 0, &got);
    if (rc != SQLITE_OK)
        return rc;
    if (got < WAL_PHDR) {
        memset(out, 0, WAL_HDR);
        return SQLITE_IOERR_SHORT_READ;
    }
    uint8_t ad[24];
    ad_wal(ad, f->k, "wgwh", 0);
    if (unseal(out, f->buf, WAL_HDR, ad, f->k) != WG_OK)
        return FAIL("the WAL header failed authentication");
    return SQLITE_OK;
}

static int vfs_read_wal(vfile *f, uint8_t *out, int amt, sqlite3_int64 off)
{
    int short_read = 0;
    while (amt > 0) {
        int rc, in, n;
        const uint8_t *src;
        uint8_t hdr[WAL_HDR];
        if (off < WAL_HDR) {
            rc = load_wal_header(f, hdr);
            in = (int)off;
            n = WAL_HDR - in;
            src = hdr;
        } else {
            uint32_t i = (uint32_t)((off - WAL_HDR) / WAL_FRAME);
            rc = load_wal_frame(f, i);
            in = (int)((off - WAL_HDR) % WAL_FRAME);
            n = WAL_FRAME - in;
            src = f->plain;
        }
        if (rc == SQLITE_IOERR_SHORT_READ)
            short_read = 1;
        else if (rc != SQLITE_OK)
            return rc;
        if (n > amt)
            n = amt;
        memcpy(out, src + in, (size_t)n);
        out += n;
        off += n;
        amt -= n;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int write_wal_frame(vfile *f, const uint8_t hdr[WAL_FHDR],
                           const uint8_t *page, sqlite3_int64 off)
{
    if (!all_zero(page + PLAIN_BYTES, WG_RESERVE_BYTES))
        return SQLITE_IOERR_WRITE;
    uint32_t i = (uint32_t)((off - WAL_HDR) / WAL_FRAME);
    memcpy(f->plain, hdr, WAL_FHDR);
    memcpy(f->plain + WAL_FHDR, page, PLAIN_BYTES);
    uint8_t ad[24];
    ad_wal(ad, f->k, "wgwf", i);
    seal(f->buf, f->plain, WAL_FHDR + PLAIN_BYTES, ad, f->k);
    wg_wipe(f->plain, sizeof f->plain);
    return f->real->pMethods->xWrite(f->real, f->buf, WAL_FRAME,
                                     WAL_PHDR + (sqlite3_int64)i * WAL_FRAME);
}

/* A header waiting for its page is written only with it; if anything else
 * happens to the file first, fetch the page already on disk (SQLite never
 * does this, but correctness must not rest on call order). */
static int flush_held(vfile *f)
{
    if (!f->held)
        return SQLITE_OK;
    f->held = 0;
    uint8_t page[WG_PAGE_BYTES];
    memset(page, 0, sizeof page);
    uint32_t i = (uint32_t)((f->held_off - WAL_HDR) / WAL_FRAME);
    int rc = load_wal_frame(f, i);
    if (rc == SQLITE_OK)
        memcpy(page, f->plain + WAL_FHDR, WG_PAGE_BYTES);
    else if (rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    rc = write_wal_frame(f, f->held_hdr, page, f->held_off);
    wg_wipe(page, sizeof page);
    return rc;
}

static int vfs_write_wal(vfile *f, const uint8_t *in, int amt,
                         sqlite3_int64 off)
{
    if (off == 0 && amt == WAL_HDR) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
        uint8_t ad[24];
        ad_wal(ad, f->k, "wgwh", 0);
        seal(f->buf, in, WAL_HDR, ad, f->k);
        return f->real->pMethods->xWrite(f->real, f->buf, WAL_PHDR, 0);
    }
    if (off < WAL_HDR)
        return SQLITE_IOERR_WRITE;
    sqlite3_int64 in_frame = (off - WAL_HDR) % WAL_FRAME;
    if (in_frame == 0 && amt == WAL_FHDR) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
        memcpy(f->held_hdr, in, WAL_FHDR);
        f->held_off = off;
        f->held = 1;
        return SQLITE_OK;
    }
    if (in_frame == WAL_FHDR && amt == WG_PAGE_BYTES) {
        sqlite3_int64 hoff = off - WAL_FHDR;
        if (f->held && f->held_off == hoff) {
            f->held = 0;
            return write_wal_frame(f, f->held_hdr, in, hoff);
        }
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
        uint8_t hdr[WAL_FHDR];
        rc = load_wal_frame(f, (uint32_t)((hoff - WAL_HDR) / WAL_FRAME));
        if (rc != SQLITE_OK)
            return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_WRITE : rc;
        memcpy(hdr, f->plain, WAL_FHDR);
        return write_wal_frame(f, hdr, in, hoff);
    }
    if (in_frame == 0 && amt == WAL_FRAME) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
        return write_wal_frame(f, in, in + WAL_FHDR, off);
    }
    return SQLITE_IOERR_WRITE;
}

/* ---- io methods --------------------------------------------------------- */

static int x_close(sqlite3_file *pf)
{
    vfile *f = (vfile *)pf;
    int rc = f->kind == KIND_WAL ? flush_held(f) : SQLITE_OK;
    int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real)
                                : SQLITE_OK;
    wg_wipe(f->plain, sizeof f->plain);
    return rc != SQLITE_OK ? rc : rc2;
}

static int x_read(sqlite3_file *pf, void *p, int amt, sqlite3_int64 off)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_DB)
        return vfs_read_db(f, p, amt, off);
    int rc = flush_held(f);
    if (rc != SQLITE_OK)
        return rc;
    return vfs_read_wal(f, p, amt, off);
}

static int x_write(sqlite3_file *pf, const void *p, int amt,
                   sqlite3_int64 off)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_DB)
        return vfs_write_db(f, p, amt, off);
    return vfs_write_wal(f, p, amt, off);
}

static sqlite3_int64 to_phys(const vfile *f, sqlite3_int64 size)
{
    if (f->kind == KIND_DB || size == 0)
        return size;
    return size + SEAL;
}

static int x_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_WAL) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    return f->real->pMethods->xTruncate(f->real, to_phys(f, size));
}

static int x_sync(sqlite3_file *pf, int flags)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_WAL) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    return f->real->pMethods->xSync(f->real, flags);
}

static int x_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    vfile *f = (vfile *)pf;
    if (f->kind == KIND_WAL) {
        int rc = flush_held(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    sqlite3_int64 phys = 0;
    int rc = f->real->pMethods->xFileSize(f->real, &phys);
    if (rc != SQLITE_OK)
        return rc;
    if (f->kind == KIND_WAL)
        *size = phys < WAL_PHDR ? 0 : phys - SEAL;
    else
        *size = phys;
    return SQLITE_OK;
}

static int x_lock(sqlite3_file *pf, int l)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xLock(f->real, l);
}

static int x_unlock(sqlite3_file *pf, int l)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xUnlock(f->real, l);
}

static int x_check_reserved(sqlite3_file *pf, int *out)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int x_file_control(sqlite3_file *pf, int op, void *arg)
{
    vfile *f = (vfile *)pf;
    if (op == SQLITE_FCNTL_VFSNAME) {
        *(char **)arg = sqlite3_mprintf("wings");
        return SQLITE_OK;
    }
    if (op == SQLITE_FCNTL_SIZE_HINT && f->kind == KIND_WAL) {
        sqlite3_int64 hint = to_phys(f, *(sqlite3_int64 *)arg);
        return f->real->pMethods->xFileControl(f->real, op, &hint);
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int x_sector_size(sqlite3_file *pf)
{
    vfile *f = (vfile *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int x_device_chars(sqlite3_file *pf)
{
    vfile *f = (vfile *)pf;
    /* No memory-mapped I/O: every byte must pass through the cipher. */
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* Shared memory is never used: the store runs in EXCLUSIVE locking mode,
 * so SQLite keeps the WAL index in heap memory and no -shm file exists. */
static int x_shm_map(sqlite3_file *pf, int pg, int sz, int extend,
                     void volatile **pp)
{
    return SQLITE_IOERR_SHMMAP;
}
static int x_shm_lock(sqlite3_file *pf, int o, int n, int flags)
{
    return SQLITE_IOERR_SHMLOCK;
}
static void x_shm_barrier(sqlite3_file *pf) {}
static int x_shm_unmap(sqlite3_file *pf, int del) { return SQLITE_OK; }

static int x_fetch(sqlite3_file *pf, sqlite3_int64 off, int amt, void **pp)
{
    *pp = NULL; /* no mmap: pages must be decrypted */
    return SQLITE_OK;
}
static int x_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
    return SQLITE_OK;
}

static const sqlite3_io_methods io_methods = {
    3, x_close, x_read, x_write, x_truncate, x_sync, x_file_size, x_lock,
    x_unlock, x_check_reserved, x_file_control, x_sector_size, x_device_chars,
    x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap, x_fetch, x_unfetch,
};

/* ---- the vfs ------------------------------------------------------------ */

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf,
                  int flags, int *out_flags)
{
    vfile *f = (vfile *)pf;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((uint8_t *)pf + sizeof(vfile));
    if (flags & SQLITE_OPEN_MAIN_DB) {
        f->kind = KIND_DB;
        f->k = name ? lookup(name) : NULL;
    } else if (flags & SQLITE_OPEN_WAL) {
        f->kind = KIND_WAL;
        f->k = name ? lookup(sqlite3_filename_database(name)) : NULL;
    } else {
        /* A journal or temp file would hold plaintext: never open one. */
        snprintf(failure, sizeof failure,
                 "refusing to open an unencrypted journal or temp file");
        return SQLITE_CANTOPEN;
    }
    if (!f->k) {
        snprintf(failure, sizeof failure, "no key attached for this database");
        return SQLITE_CANTOPEN;
    }
    int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        f->real->pMethods = NULL;
        return rc;
    }
    pf->pMethods = &io_methods;
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *v, const char *n, int sync)
{
    return base_vfs->xDelete(base_vfs, n, sync);
}
static int v_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
    return base_vfs->xAccess(base_vfs, n, flags, out);
}
static int v_full_pathname(sqlite3_vfs *v, const char *n, int size, char *out)
{
    return base_vfs->xFullPathname(base_vfs, n, size, out);
}
static void *v_dl_open(sqlite3_vfs *v, const char *n) { return NULL; }
static void v_dl_error(sqlite3_vfs *v, int n, char *msg)
{
    snprintf(msg, (size_t)n, "extensions are disabled");
}
static void (*v_dl_sym(sqlite3_vfs *v, void *h, const char *s))(void)
{
    return NULL;
}
static void v_dl_close(sqlite3_vfs *v, void *h) {}
static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
    return base_vfs->xRandomness(base_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
    return base_vfs->xSleep(base_vfs, us);
}
static int v_current_time(sqlite3_vfs *v, double *t)
{
    return base_vfs->xCurrentTime(base_vfs, t);
}
static int v_last_error(sqlite3_vfs *v, int n, char *s)
{
    return base_vfs->xGetLastError(base_vfs, n, s);
}
static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    return base_vfs->xCurrentTimeInt64(base_vfs, t);
}

static sqlite3_vfs wings_vfs = {
    2, 0, 0, NULL, WG_VFS_NAME, NULL, v_open, v_delete, v_access,
    v_full_pathname, v_dl_open, v_dl_error, v_dl_sym, v_dl_close,
    v_randomness, v_sleep, v_current_time, v_last_error, v_current_time64,
    NULL, NULL, NULL,
};

static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static int reg_rc = SQLITE_ERROR;

static void do_register(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    if (!base_vfs)
        return;
    wings_vfs.szOsFile = (int)sizeof(vfile) + base_vfs->szOsFile;
    wings_vfs.mxPathname = base_vfs->mxPathname;
    reg_rc = sqlite3_vfs_register(&wings_vfs, 0);
}

wg_rc wg_vfs_register(wg_err *err)
{
    pthread_once(&reg_once, do_register);
    if (reg_rc != SQLITE_OK)
        return wg_err_set(err, WG_ERR_INTERNAL,
                          "cannot register the encrypting vfs");
    return WG_OK;
}

/* ---- offline verification ---------------------------------------------- */

wg_rc wg_vfs_verify_attached(const char *dbpath, wg_problem_fn fn, void *ctx,
                             long *checked, long *bad, wg_err *err)
{
    keyent *k = lookup(dbpath);
    if (!k)
        return wg_err_set(err, WG_ERR_INTERNAL, "no key attached for '%s'",
                          dbpath);
    return wg_vfs_verify(dbpath, k->key, k->dbid, fn, ctx, checked, bad, err);
}

static int read_exact(int fd, uint8_t *p, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

wg_rc wg_vfs_verify(const char *dbpath, const uint8_t key[WG_KEY_BYTES],
                    const uint8_t dbid[WG_DBID_BYTES], wg_problem_fn fn,
                    void *ctx, long *checked, long *bad, wg_err *err)
{
    keyent k = { 0 };
    k.key = (uint8_t *)key;
    memcpy(k.dbid, dbid, WG_DBID_BYTES);
    uint8_t *sealed = wg_xmalloc(WAL_FRAME);
    uint8_t *plain = wg_secret_alloc(WAL_FRAME);
    uint8_t ad[24];
    char what[160];
    *checked = *bad = 0;
    wg_rc rc = WG_OK;

    int fd = open(dbpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = wg_err_set(err, errno == ENOENT ? WG_ERR_NOTFOUND : WG_ERR_IO,
                        "cannot open '%s': %s", dbpath, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        rc = wg_err_set(err, WG_ERR_IO, "cannot stat '%s'", dbpath);
        goto out;
    }
    long pages = (long)(st.st_size / WG_PAGE_BYTES);
    if (pages == 0) {
        (*bad)++;
        fn(ctx, "the database file is empty: it was truncated or replaced");
    }
    for (long p = 0; p < pages; p++) {
        (*checked)++;
        if (read_exact(fd, sealed, WG_PAGE_BYTES, (off_t)p * WG_PAGE_BYTES)) {
            snprintf(what, sizeof what, "page %ld of the database cannot be read",
                     p + 1);
        } else {
            ad_db(ad, &k, (uint32_t)(p + 1));
            if (unseal(plain, sealed, PLAIN_BYTES, ad, &k) == WG_OK)
                continue;
            snprintf(what, sizeof what,
                     "page %ld of the database failed authentication", p + 1);
        }
        (*bad)++;
        fn(ctx, what);
    }
    if (st.st_size % WG_PAGE_BYTES) {
        (*bad)++;
        fn(ctx, "the database file ends in a partial page");
    }
    close(fd);

    char walpath[4096];
    snprintf(walpath, sizeof walpath, "%s-wal", dbpath);
    fd = open(walpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto out; /* no WAL: nothing more to check */
    if (fstat(fd, &st) == 0 && st.st_size >= WAL_PHDR) {
        (*checked)++;
        ad_wal(ad, &k, "wgwh", 0);
        if (read_exact(fd, sealed, WAL_PHDR, 0) ||
            unseal(plain, sealed, WAL_HDR, ad, &k) != WG_OK) {
            (*bad)++;
            fn(ctx, "the WAL header failed authentication");
        }
        long frames = (long)((st.st_size - WAL_PHDR) / WAL_FRAME);
        for (long i = 0; i < frames; i++) {
            (*checked)++;
            ad_wal(ad, &k, "wgwf", (uint32_t)i);
            if (read_exact(fd, sealed, WAL_FRAME,
                           WAL_PHDR + (off_t)i * WAL_FRAME) == 0 &&
                unseal(plain, sealed, WAL_FHDR + PLAIN_BYTES, ad, &k) == WG_OK)
                continue;
            snprintf(what, sizeof what,
                     "frame %ld of the WAL failed authentication", i + 1);
            (*bad)++;
            fn(ctx, what);
        }
    } else if (fstat(fd, &st) == 0 && st.st_size > 0) {
        (*bad)++;
        fn(ctx, "the WAL file is truncated inside its header");
    }
    close(fd);
out:
    free(sealed);
    wg_secret_free(plain);
    return rc;
}
