/*
 * faultvfs.c - the test VFS of faultvfs.h: faults and power cuts beneath
 * the wings shim
 *
 * A file object is ours followed by the real (unix) file's. Matching files
 * (path under the filter) see injected faults while one is armed, and are
 * logged while a crash run is on: per path, the image last made durable by
 * an xSync and the operations since (writes with their bytes, truncations,
 * deletes). The log outlives the file objects, so a store can be closed
 * after the cut and its files rebuilt from the log.
 */
#include "faultvfs.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512

static sqlite3_vfs *real_vfs;
static char filter[PATH_MAX + 2];
static size_t filter_len;
static int real_sync;

/* faults */
static fv_kind armed;
static long armed_nth, calls, hits;
static int armed_sticky;
static long totals[FV_NKINDS];

/* power cuts */
enum { OP_WRITE = 1, OP_TRUNC, OP_DELETE, OP_CREATE };

typedef struct fop {
    int type;
    sqlite3_int64 off;    /* write offset, or truncation size */
    size_t len;
    uint8_t *data;
} fop;

typedef struct fent {
    char *path;
    uint8_t *img;         /* content as of the last xSync */
    size_t size, cap;
    int exists;
    fop *ops;
    int nops, capops;
} fent;

static int recording, cut;
static long points, cut_at;
static fent *ents;
static int nents, capents;

typedef struct ffile {
    sqlite3_file base;
    sqlite3_file *real;
    int match;
    char *path;
} ffile;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

static int matches(const char *path)
{
    return path && filter_len && !strncmp(path, filter, filter_len);
}

/* ---- images ----------------------------------------------------------------- */

static void img_reserve(uint8_t **img, size_t *cap, size_t n)
{
    if (n <= *cap)
        return;
    size_t c = *cap ? *cap : 65536;
    while (c < n)
        c *= 2;
    *img = xrealloc(*img, c);
    *cap = c;
}

static void img_write(uint8_t **img, size_t *size, size_t *cap,
                      sqlite3_int64 off, const uint8_t *p, size_t n)
{
    size_t end = (size_t)off + n;
    img_reserve(img, cap, end);
    if ((size_t)off > *size)
        memset(*img + *size, 0, (size_t)off - *size);
    memcpy(*img + off, p, n);
    if (end > *size)
        *size = end;
}

static void img_trunc(uint8_t **img, size_t *size, size_t *cap,
                      sqlite3_int64 n)
{
    img_reserve(img, cap, (size_t)n);
    if ((size_t)n > *size)
        memset(*img + *size, 0, (size_t)n - *size);
    *size = (size_t)n;
}

static fent *ent_find(const char *path)
{
    for (int i = 0; i < nents; i++)
        if (!strcmp(ents[i].path, path))
            return &ents[i];
    return NULL;
}

/* The log of PATH, made on first sight from what the disk holds now. */
static fent *ent_get(const char *path)
{
    fent *e = ent_find(path);
    if (e)
        return e;
    if (nents == capents) {
        capents = capents ? capents * 2 : 8;
        ents = xrealloc(ents, (size_t)capents * sizeof *ents);
    }
    e = &ents[nents++];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    FILE *f = fopen(path, "rb");
    if (f) {
        e->exists = 1;
        uint8_t buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            img_write(&e->img, &e->size, &e->cap, (sqlite3_int64)e->size, buf,
                      n);
        fclose(f);
    }
    return e;
}

static void ent_push(fent *e, int type, sqlite3_int64 off, const void *p,
                     size_t n)
{
    if (e->nops == e->capops) {
        e->capops = e->capops ? e->capops * 2 : 16;
        e->ops = xrealloc(e->ops, (size_t)e->capops * sizeof *e->ops);
    }
    fop *o = &e->ops[e->nops++];
    o->type = type;
    o->off = off;
    o->len = n;
    o->data = NULL;
    if (n) {
        o->data = xrealloc(NULL, n);
        memcpy(o->data, p, n);
    }
}

static void ent_clear_ops(fent *e)
{
    for (int i = 0; i < e->nops; i++)
        free(e->ops[i].data);
    e->nops = 0;
}

/* Apply O (LEN bytes of it for a write) to an image. */
static void apply_op(uint8_t **img, size_t *size, size_t *cap, int *exists,
                     const fop *o, size_t len)
{
    switch (o->type) {
    case OP_WRITE:
        *exists = 1;
        img_write(img, size, cap, o->off, o->data, len);
        break;
    case OP_TRUNC:
        img_trunc(img, size, cap, o->off);
        break;
    case OP_DELETE:
        *exists = 0;
        *size = 0;
        break;
    case OP_CREATE:
        *exists = 1;
        *size = 0;
        break;
    }
}

/* xSync: everything logged for E is durable now. */
static void ent_sync(fent *e)
{
    for (int i = 0; i < e->nops; i++)
        apply_op(&e->img, &e->size, &e->cap, &e->exists, &e->ops[i],
                 e->ops[i].len);
    ent_clear_ops(e);
}

static void ent_free_all(void)
{
    for (int i = 0; i < nents; i++) {
        ent_clear_ops(&ents[i]);
        free(ents[i].ops);
        free(ents[i].img);
        free(ents[i].path);
    }
    free(ents);
    ents = NULL;
    nents = capents = 0;
}

/* A mutating I/O point of a logged file: 1 if the power is (now) off. */
static int point(void)
{
    if (cut)
        return 1;
    points++;
    if (cut_at && points >= cut_at)
        cut = 1;
    return cut;
}

/* ---- fault decisions -------------------------------------------------------- */

enum { CAT_WRITE, CAT_READ, CAT_SYNC };

static int category(fv_kind k)
{
    return k == FV_EIO_READ ? CAT_READ : k == FV_FSYNC ? CAT_SYNC : CAT_WRITE;
}

/* Count a call of category CAT on a matching file; 1 if it must fail. */
static int fault_due(int cat)
{
    if (armed == FV_NONE || category(armed) != cat)
        return 0;
    calls++;
    if (calls == armed_nth || (armed_sticky && calls > armed_nth)) {
        hits++;
        totals[armed]++;
        return 1;
    }
    return 0;
}

/* ---- io methods ------------------------------------------------------------- */

static int f_close(sqlite3_file *pf)
{
    ffile *f = (ffile *)pf;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real)
                               : SQLITE_OK;
    free(f->path);
    f->path = NULL;
    return rc;
}

static int f_read(sqlite3_file *pf, void *p, int amt, sqlite3_int64 off)
{
    ffile *f = (ffile *)pf;
    if (f->match) {
        if (recording && cut)
            return SQLITE_IOERR_READ;
        if (fault_due(CAT_READ))
            return SQLITE_IOERR_READ;
    }
    return f->real->pMethods->xRead(f->real, p, amt, off);
}

static int tracing(void)
{
    static int t = -1;
    if (t < 0)
        t = getenv("FAULTVFS_TRACE") != NULL;
    return t;
}

static int f_write(sqlite3_file *pf, const void *p, int amt,
                   sqlite3_int64 off)
{
    ffile *f = (ffile *)pf;
    if (f->match && tracing())
        fprintf(stderr, "faultvfs: write %s %d at %lld (call %ld)\n",
                strrchr(f->path, '/'), amt, (long long)off, calls + 1);
    if (f->match) {
        if (recording && point())
            return SQLITE_IOERR_WRITE;
        if (fault_due(CAT_WRITE)) {
            switch (armed) {
            case FV_SHORT_WRITE: {
                /* Part of the bytes land; the unix VFS calls a short
                 * write "disk full". */
                int part = amt > SECTOR ? (amt / 2) / SECTOR * SECTOR
                                        : amt / 2;
                if (part > 0)
                    f->real->pMethods->xWrite(f->real, p, part, off);
                return SQLITE_FULL;
            }
            case FV_ENOSPC:
                return SQLITE_FULL;
            default:
                return SQLITE_IOERR_WRITE;
            }
        }
        if (recording)
            ent_push(ent_get(f->path), OP_WRITE, off, p, (size_t)amt);
    }
    return f->real->pMethods->xWrite(f->real, p, amt, off);
}

static int f_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    ffile *f = (ffile *)pf;
    if (f->match && recording) {
        if (point())
            return SQLITE_IOERR_TRUNCATE;
        ent_push(ent_get(f->path), OP_TRUNC, size, NULL, 0);
    }
    return f->real->pMethods->xTruncate(f->real, size);
}

static int f_sync(sqlite3_file *pf, int flags)
{
    ffile *f = (ffile *)pf;
    if (f->match && tracing())
        fprintf(stderr, "faultvfs: sync %s\n", strrchr(f->path, '/'));
    if (f->match) {
        if (recording && point())
            return SQLITE_IOERR_FSYNC;
        if (fault_due(CAT_SYNC))
            return SQLITE_IOERR_FSYNC;
        if (recording)
            ent_sync(ent_get(f->path));
        if (!real_sync)
            return SQLITE_OK;
    }
    return f->real->pMethods->xSync(f->real, flags);
}

static int f_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int f_lock(sqlite3_file *pf, int l)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xLock(f->real, l);
}

static int f_unlock(sqlite3_file *pf, int l)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xUnlock(f->real, l);
}

static int f_check_reserved(sqlite3_file *pf, int *out)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int f_file_control(sqlite3_file *pf, int op, void *arg)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int f_sector_size(sqlite3_file *pf)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int f_device_chars(sqlite3_file *pf)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int f_shm_map(sqlite3_file *pf, int pg, int sz, int extend,
                     void volatile **pp)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xShmMap(f->real, pg, sz, extend, pp);
}

static int f_shm_lock(sqlite3_file *pf, int o, int n, int flags)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xShmLock(f->real, o, n, flags);
}

static void f_shm_barrier(sqlite3_file *pf)
{
    ffile *f = (ffile *)pf;
    f->real->pMethods->xShmBarrier(f->real);
}

static int f_shm_unmap(sqlite3_file *pf, int del)
{
    ffile *f = (ffile *)pf;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int f_fetch(sqlite3_file *pf, sqlite3_int64 off, int amt, void **pp)
{
    ffile *f = (ffile *)pf;
    if (f->real->pMethods->iVersion < 3) {
        *pp = NULL;
        return SQLITE_OK;
    }
    return f->real->pMethods->xFetch(f->real, off, amt, pp);
}

static int f_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
    ffile *f = (ffile *)pf;
    if (f->real->pMethods->iVersion < 3)
        return SQLITE_OK;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods f_methods = {
    3, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock,
    f_unlock, f_check_reserved, f_file_control, f_sector_size,
    f_device_chars, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap,
    f_fetch, f_unfetch,
};

/* ---- the vfs ---------------------------------------------------------------- */

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf,
                  int flags, int *out_flags)
{
    (void)vfs;
    ffile *f = (ffile *)pf;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((uint8_t *)pf + sizeof(ffile));
    f->match = matches(name);
    if (f->match && recording && cut)
        return SQLITE_CANTOPEN;
    int existed = 1;
    if (f->match && recording) {
        fent *e = ent_get(name);
        existed = access(name, F_OK) == 0;
        if (!existed)
            ent_push(e, OP_CREATE, 0, NULL, 0);
    }
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        f->real->pMethods = NULL;
        return rc;
    }
    if (name)
        f->path = strdup(name);
    pf->pMethods = &f_methods;
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
    (void)vfs;
    if (matches(name) && tracing())
        fprintf(stderr, "faultvfs: delete %s\n", strrchr(name, '/'));
    if (matches(name) && recording) {
        if (point())
            return SQLITE_IOERR_DELETE;
        fent *e = ent_get(name);
        ent_push(e, OP_DELETE, 0, NULL, 0);
        if (dirsync)
            ent_sync(e);
    }
    return real_vfs->xDelete(real_vfs, name, dirsync);
}

static int v_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, n, flags, out);
}

static int v_full_pathname(sqlite3_vfs *v, const char *n, int size, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, n, size, out);
}

static void *v_dl_open(sqlite3_vfs *v, const char *n)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, n);
}

static void v_dl_error(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*v_dl_sym(sqlite3_vfs *v, void *h, const char *s))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, h, s);
}

static void v_dl_close(sqlite3_vfs *v, void *h)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, h);
}

static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}

static int v_current_time(sqlite3_vfs *v, double *t)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, t);
}

static int v_last_error(sqlite3_vfs *v, int n, char *s)
{
    (void)v;
    return real_vfs->xGetLastError(real_vfs, n, s);
}

static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, t);
}

static sqlite3_vfs fault_vfs = {
    2, 0, 0, NULL, "faultvfs", NULL, v_open, v_delete, v_access,
    v_full_pathname, v_dl_open, v_dl_error, v_dl_sym, v_dl_close,
    v_randomness, v_sleep, v_current_time, v_last_error, v_current_time64,
    NULL, NULL, NULL,
};

int fv_register(void)
{
    if (real_vfs)
        return 0;
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs)
        return -1;
    fault_vfs.szOsFile = (int)sizeof(ffile) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    return sqlite3_vfs_register(&fault_vfs, 1) == SQLITE_OK ? 0 : -1;
}

void fv_set_filter(const char *dir)
{
    filter_len = 0;
    if (!dir)
        return;
    char real[PATH_MAX];
    if (!realpath(dir, real))
        snprintf(real, sizeof real, "%s", dir);
    snprintf(filter, sizeof filter, "%s/", real);
    filter_len = strlen(filter);
}

void fv_set_real_sync(int on)
{
    real_sync = on;
}

void fv_arm_fault(fv_kind kind, long nth, int sticky)
{
    armed = kind;
    armed_nth = nth;
    armed_sticky = sticky;
    calls = hits = 0;
}

void fv_disarm(void)
{
    armed = FV_NONE;
}

long fv_hits(void)
{
    return hits;
}

long fv_calls(void)
{
    return calls;
}

long fv_total(fv_kind kind)
{
    return totals[kind];
}

void fv_reset_totals(void)
{
    memset(totals, 0, sizeof totals);
}

const char *fv_kind_name(fv_kind kind)
{
    static const char *names[FV_NKINDS] = { "none", "short_write", "eio_read",
                                            "eio_write", "enospc", "fsync" };
    return kind < FV_NKINDS ? names[kind] : "?";
}

/* ---- power cuts ------------------------------------------------------------- */

void fv_crash_begin(void)
{
    ent_free_all();
    recording = 1;
    cut = 0;
    points = 0;
    cut_at = 0;
}

void fv_crash_cut_at(long k)
{
    points = 0;
    cut_at = k;
}

long fv_crash_points(void)
{
    return points;
}

int fv_crash_is_cut(void)
{
    return cut;
}

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

enum { FATE_KEEP, FATE_DROP, FATE_TEAR };

void fv_crash_apply(uint64_t seed, fv_crash_stats *stats)
{
    uint64_t rng = seed * 0x2545f4914f6cdd1dULL + 1;
    /* 0: every unsynced operation reached the disk; 1: none did;
     * else each one's fate is drawn. */
    int mode = (int)(rng_next(&rng) % 4);
    for (int i = 0; i < nents; i++) {
        fent *e = &ents[i];
        int n = e->nops;
        int *order = xrealloc(NULL, (size_t)(n ? n : 1) * sizeof *order);
        int *fate = xrealloc(NULL, (size_t)(n ? n : 1) * sizeof *fate);
        size_t *keep_len = xrealloc(NULL, (size_t)(n ? n : 1) * sizeof(size_t));
        for (int j = 0; j < n; j++) {
            fop *o = &e->ops[j];
            order[j] = j;
            keep_len[j] = o->len;
            fate[j] = mode == 0 ? FATE_KEEP : mode == 1 ? FATE_DROP
                                : (int)(rng_next(&rng) % 3);
            if (fate[j] == FATE_TEAR) {
                /* a sector-aligned prefix, strictly shorter than the write */
                sqlite3_int64 first = (o->off / SECTOR + 1) * SECTOR;
                sqlite3_int64 end = o->off + (sqlite3_int64)o->len;
                if (o->type != OP_WRITE || first >= end) {
                    fate[j] = FATE_DROP;
                } else {
                    sqlite3_int64 nb = (end - 1 - first) / SECTOR + 1;
                    sqlite3_int64 b =
                        first + (sqlite3_int64)(rng_next(&rng) % (uint64_t)nb) *
                                    SECTOR;
                    keep_len[j] = (size_t)(b - o->off);
                }
            }
            if (o->type == OP_CREATE)
                fate[j] = FATE_KEEP;
            if (stats) {
                if (fate[j] == FATE_KEEP)
                    stats->kept++;
                else if (fate[j] == FATE_DROP)
                    stats->dropped++;
                else
                    stats->torn++;
                if (o->type == OP_DELETE && fate[j] == FATE_DROP)
                    stats->deletes_undone++;
            }
        }
        /* Now and then the disk wrote them in another order. */
        if (mode >= 2 && n > 1 && rng_next(&rng) % 4 == 0) {
            for (int j = n - 1; j > 0; j--) {
                int k = (int)(rng_next(&rng) % (uint64_t)(j + 1));
                int t = order[j];
                order[j] = order[k];
                order[k] = t;
            }
            if (stats)
                stats->reordered++;
        }
        uint8_t *img = NULL;
        size_t size = 0, cap = 0;
        int exists = e->exists;
        img_reserve(&img, &cap, e->size);
        if (e->size)
            memcpy(img, e->img, e->size);
        size = e->size;
        for (int j = 0; j < n; j++) {
            int k = order[j];
            if (fate[k] == FATE_DROP)
                continue;
            apply_op(&img, &size, &cap, &exists, &e->ops[k], keep_len[k]);
        }
        if (exists) {
            FILE *f = fopen(e->path, "wb");
            if (!f)
                abort();
            if (size && fwrite(img, 1, size, f) != size)
                abort();
            fclose(f);
        } else {
            unlink(e->path);
        }
        free(img);
        free(order);
        free(fate);
        free(keep_len);
    }
    fv_crash_end();
}

void fv_crash_end(void)
{
    ent_free_all();
    recording = 0;
    cut = 0;
    points = 0;
    cut_at = 0;
}
