/*
 * check_powercut.c - simulated power loss beneath the encryption shim
 *
 * Each scenario runs a few transactions on a copy of a prepared node while
 * faultvfs (tests/faultvfs.h) logs every write since each file's last sync.
 * A dry run counts the I/O points (writes, truncations, syncs, deletes) of
 * the transactions; then for every point K and several random draws the
 * power goes off at K, the store is closed, the files are rebuilt as the
 * disk might have held them (unsynced writes kept, dropped, torn at a
 * sector, reordered), and the node is opened again through the real shim:
 * it must open, every transaction whose commit returned must be there,
 * none may be there in part, every feed must verify, and after a clean
 * close every page must authenticate. Scenarios: add, update, delete, a
 * sync batch applied (wg_store_apply), a checkpoint (explicit, and the one
 * of close), an audit append, and a commit after one whose fsync failed.
 *
 * The key file is not SQLite's: `passwd` writes wings.key.new, fsyncs it,
 * renames it over wings.key and fsyncs the folder. Its system calls are
 * recorded (the store library's calls to open/write/fsync/rename are
 * wrapped at link time, see tests/CMakeLists.txt) and replayed into a model
 * of a file system that loses what was not synced; at every step either the
 * old or the new passphrase must open the node.
 *
 * POWERCUT_ITERATIONS sets the random draws per point (default 120; the
 * sanitizer build may use fewer).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>

#include "faultutil.h"

static char *dir;
static long n_cuts, n_lost, n_partial;

static void setup(void)
{
    ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);
    fv_reset_totals();
    n_cuts = n_lost = n_partial = 0;
    tu_dir_open(&dir);
}

static void teardown(void)
{
    tu_rmtree(&dir);
}

static int draws_per_point(void)
{
    const char *v = getenv("POWERCUT_ITERATIONS");
    int n = v && *v ? atoi(v) : 120;
    return n > 0 ? n : 1;
}

/* ---- scenarios -------------------------------------------------------------- */

#define MAXSTEPS 4
#define NO_DATA 2     /* present(): the step leaves nothing to look for */

typedef struct batch {
    wg_signed_change *c;
    size_t n;
} batch;

typedef struct pc_ctx {
    fu_snap base;
    batch b[2];       /* apply: two batches of another node's feed */
} pc_ctx;

typedef struct scen {
    const char *name;
    int nsteps;
    void (*prepare)(pc_ctx *c);
    wg_rc (*step)(pc_ctx *c, wg_store **st, int i, wg_err *err);
    /* 1: the step's effect is all there, 0: none of it, -1: part of it */
    int (*present)(pc_ctx *c, wg_store *st, int i);
    unsigned may_fail;  /* steps that fail by design (bit i: step i) */
} scen;

/* The base node: persons 0 .. 5, closed cleanly. */
static void prepare_base(pc_ctx *c)
{
    char *prep = tu_path(dir, "prep");
    mkdir(prep, 0700);
    char *d = fu_node(prep, "n");
    wg_store *st = nu_open(d);
    wg_err err = { 0 };
    ck_assert_msg(fu_add_persons(st, 0, 6, &err) == WG_OK, "%s", err.msg);
    wg_store_close(&st);
    fu_snap_take(&c->base, d);
    free(d);
    free(prep);
}

/* add */
static wg_rc add_step(pc_ctx *c, wg_store **st, int i, wg_err *err)
{
    (void)c;
    return i == 0 ? fu_add_persons(*st, 100, 2, err)
                  : fu_add_persons(*st, 200, 400, err);
}

static int add_present(pc_ctx *c, wg_store *st, int i)
{
    (void)c;
    return i == 0 ? fu_all_or_none(st, 100, 2, NULL, 0)
                  : fu_all_or_none(st, 200, 400, NULL, 0);
}

/* update */
static wg_rc update_some(wg_store *st, int first, int n, const char *name,
                         wg_err *err)
{
    wg_rc rc = wg_store_begin(st, err);
    for (int k = first; rc == WG_OK && k < first + n; k++) {
        char id[WG_ID_HEX_CHARS + 1];
        fu_pid(id, k);
        const char *f[] = { "name" }, *v[] = { name };
        rc = wg_store_update(st, wg_schema_table("person"), id, f, v, 1, err);
    }
    if (rc) {
        wg_store_rollback(st);
        return rc;
    }
    return wg_store_commit(st, err);
}

static wg_rc update_step(pc_ctx *c, wg_store **st, int i, wg_err *err)
{
    (void)c;
    return i == 0 ? update_some(*st, 0, 1, "renamed-0", err)
                  : update_some(*st, 1, 3, "renamed-1", err);
}

static int update_present(pc_ctx *c, wg_store *st, int i)
{
    (void)c;
    int first = i == 0 ? 0 : 1, n = i == 0 ? 1 : 3;
    int now = fu_all_or_none(st, first, n, i == 0 ? "renamed-0" : "renamed-1", 0);
    if (now == 1)
        return 1;
    return fu_all_or_none(st, first, n, NULL, 0) == 1 ? 0 : -1;
}

/* delete */
static wg_rc delete_some(wg_store *st, int first, int n, wg_err *err)
{
    wg_rc rc = wg_store_begin(st, err);
    for (int k = first; rc == WG_OK && k < first + n; k++) {
        char id[WG_ID_HEX_CHARS + 1];
        fu_pid(id, k);
        rc = wg_store_delete(st, wg_schema_table("person"), id, err);
    }
    if (rc) {
        wg_store_rollback(st);
        return rc;
    }
    return wg_store_commit(st, err);
}

static wg_rc delete_step(pc_ctx *c, wg_store **st, int i, wg_err *err)
{
    (void)c;
    return i == 0 ? delete_some(*st, 0, 1, err) : delete_some(*st, 1, 2, err);
}

static int delete_present(pc_ctx *c, wg_store *st, int i)
{
    (void)c;
    int first = i == 0 ? 0 : 1, n = i == 0 ? 1 : 2;
    int gone = fu_all_or_none(st, first, n, NULL, 1);
    if (gone == 1)
        return 1;
    return fu_all_or_none(st, first, n, NULL, 0) == 1 ? 0 : -1;
}

/* audit */
typedef struct reason_q {
    const char *reason;
    int n;
} reason_q;

static int on_audit(void *ctx, const wg_audit_entry *e)
{
    reason_q *q = ctx;
    if (e->reason && !strcmp(e->reason, q->reason))
        q->n++;
    return 0;
}

static wg_rc audit_step(pc_ctx *c, wg_store **st, int i, wg_err *err)
{
    (void)c;
    char reason[32];
    snprintf(reason, sizeof reason, "power-cut-%d", i);
    wg_audit_entry e = { 0 };
    e.event = "session";
    e.peer = "hq";
    e.direction = "out";
    e.sent = i;
    e.result = "ok";
    e.reason = reason;
    return wg_store_audit(*st, &e, err);
}

static int audit_present(pc_ctx *c, wg_store *st, int i)
{
    (void)c;
    char reason[32];
    snprintf(reason, sizeof reason, "power-cut-%d", i);
    reason_q q = { reason, 0 };
    wg_err err = { 0 };
    ck_assert_msg(wg_store_audit_list(st, on_audit, &q, &err) == WG_OK, "%s",
                  err.msg);
    return q.n == 1 ? 1 : q.n == 0 ? 0 : -1;
}

/* apply: two batches of node "src"'s feed (persons 300..302, 400..403) */
typedef struct collect_ctx {
    batch *all;
} collect_ctx;

static int on_change(void *ctx, const wg_signed_change *c, uint64_t seq)
{
    batch *b = ctx;
    ck_assert_uint_eq(seq, b->n + 1);
    b->c = realloc(b->c, (b->n + 1) * sizeof *b->c);
    wg_signed_change *d = &b->c[b->n++];
    *d = *c;
    uint8_t *body = malloc(c->len);
    memcpy(body, c->body, c->len);
    d->body = body;
    return 0;
}

static void prepare_apply(pc_ctx *c)
{
    prepare_base(c);
    char *prep = tu_path(dir, "prep");
    char *d = fu_node(prep, "src");
    wg_store *src = nu_open(d);
    wg_err err = { 0 };
    ck_assert_msg(fu_add_persons(src, 300, 3, &err) == WG_OK, "%s", err.msg);
    ck_assert_msg(fu_add_persons(src, 400, 4, &err) == WG_OK, "%s", err.msg);
    batch all = { 0 };
    ck_assert_msg(wg_store_feed_read(src, wg_store_info(src)->pk, FU_COUNTY,
                                     0, 100, on_change, &all, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(all.n, 7);
    ck_assert(all.c[2].has_sig && all.c[6].has_sig);
    c->b[0].c = all.c;
    c->b[0].n = 3;
    c->b[1].c = all.c + 3;
    c->b[1].n = 4;
    wg_store_close(&src);
    free(d);
    free(prep);
}

static wg_rc apply_step(pc_ctx *c, wg_store **st, int i, wg_err *err)
{
    size_t applied = 0;
    return wg_store_apply(*st, c->b[i].c, c->b[i].n, &applied, err);
}

static int apply_present(pc_ctx *c, wg_store *st, int i)
{
    (void)c;
    return i == 0 ? fu_all_or_none(st, 300, 3, NULL, 0)
                  : fu_all_or_none(st, 400, 4, NULL, 0);
}

/* checkpoint: a commit, an explicit checkpoint, a commit, and the
 * checkpoint of close */
static wg_rc checkpoint_step(pc_ctx *c, wg_store **st, int i, wg_err *err)
{
    (void)c;
    switch (i) {
    case 0: return fu_add_persons(*st, 100, 2, err);
    case 1: return wg_store__exec(*st, "PRAGMA wal_checkpoint(PASSIVE)", err);
    case 2: return fu_add_persons(*st, 200, 3, err);
    default: wg_store_close(st); return WG_OK;
    }
}

static int checkpoint_present(pc_ctx *c, wg_store *st, int i)
{
    (void)c;
    switch (i) {
    case 0: return fu_all_or_none(st, 100, 2, NULL, 0);
    case 2: return fu_all_or_none(st, 200, 3, NULL, 0);
    default: return NO_DATA;
    }
}

/* a commit; then one whose fsync fails (its frames stay in the WAL past
 * the end of the log); then a smaller commit over them: the WAL then holds
 * a valid commit frame followed by stale frames of the same generation,
 * and a cut in that last commit must still open */
static wg_rc fsync_step(pc_ctx *c, wg_store **st, int i, wg_err *err)
{
    (void)c;
    if (i == 0)
        return fu_add_persons(*st, 100, 10, err);
    if (i == 2)
        return fu_add_persons(*st, 2000, 250, err);
    fv_arm_fault(FV_FSYNC, 1, 0);
    wg_rc rc = fu_add_persons(*st, 1000, 500, err);
    long hits = fv_hits();
    fv_disarm();
    ck_assert_msg(hits == 1 || fv_crash_is_cut(), "the fsync fault was not "
                  "met");
    return rc;
}

static int fsync_present(pc_ctx *c, wg_store *st, int i)
{
    (void)c;
    return i == 0   ? fu_all_or_none(st, 100, 10, NULL, 0)
           : i == 1 ? fu_all_or_none(st, 1000, 500, NULL, 0)
                    : fu_all_or_none(st, 2000, 250, NULL, 0);
}

static const scen scenarios[] = {
    { "add", 2, prepare_base, add_step, add_present, 0 },
    { "update", 2, prepare_base, update_step, update_present, 0 },
    { "delete", 2, prepare_base, delete_step, delete_present, 0 },
    { "apply", 2, prepare_apply, apply_step, apply_present, 0 },
    { "checkpoint", 4, prepare_base, checkpoint_step, checkpoint_present, 0 },
    { "audit", 2, prepare_base, audit_step, audit_present, 0 },
    { "fsync-failed", 3, prepare_base, fsync_step, fsync_present, 2 },
};

/* ---- the runner ------------------------------------------------------------- */

typedef struct run_out {
    long points;
    int cut;
} run_out;

/* One run on a fresh copy of the base: power off at point K (0: never),
 * SEED draws the disk's fate; then reopen and check. */
static run_out run_once(const scen *s, pc_ctx *c, const char *wd, long k,
                        uint64_t seed, fv_crash_stats *stats)
{
    run_out out = { 0, 0 };
    fu_snap_put(&c->base, wd);
    fv_set_filter(wd);
    fv_crash_begin();
    wg_store *st = nu_open(wd);
    fv_crash_cut_at(k);
    int ok[MAXSTEPS] = { 0 };
    for (int i = 0; i < s->nsteps; i++) {
        int cut_before = fv_crash_is_cut();
        wg_err err = { 0 };
        wg_rc rc = st ? s->step(c, &st, i, &err) : WG_ERR_IO;
        ok[i] = rc == WG_OK;
        ck_assert_msg(!(k == 0 && rc && !(s->may_fail >> i & 1)),
                      "%s: step %d failed without a cut: %s", s->name, i,
                      err.msg);
        /* A write with the power off must fail (a checkpoint or close may
         * find nothing to do). */
        ck_assert_msg(!(cut_before && rc == WG_OK && st &&
                        s->step != checkpoint_step),
                      "%s: step %d succeeded with the power off", s->name, i);
        if (rc && st)
            ck_assert_msg(rc == WG_ERR_IO || rc == WG_ERR_NOSPACE,
                          "%s: K=%ld step %d: unexpected error %d: %s",
                          s->name, k, i, rc, err.msg);
    }
    out.points = fv_crash_points();
    out.cut = fv_crash_is_cut();
    wg_store_close(&st);
    if (k == 0)
        fv_crash_end();
    else
        fv_crash_apply(seed, stats);
    /* The filter stays: nothing is armed or logged now, but the real fsync
     * of the node's files is still skipped (the simulation owns
     * durability), which keeps thousands of runs fast. */

    wg_err err = { 0 };
    st = NULL;
    wg_rc rc = wg_store_open(wd, FU_PASS, strlen(FU_PASS), &st, &err);
    ck_assert_msg(rc == WG_OK,
                  "%s: power cut at point %ld (seed %llu): the node does not "
                  "open again: %s", s->name, k, (unsigned long long)seed,
                  err.msg);
    for (int i = 0; i < s->nsteps; i++) {
        int p = s->present(c, st, i);
        if (p == NO_DATA)
            continue;
        if (p < 0)
            n_partial++;
        if (ok[i] && p == 0)
            n_lost++;
        ck_assert_msg(p >= 0, "%s: cut at %ld (seed %llu): step %d is there "
                      "in part", s->name, k, (unsigned long long)seed, i);
        ck_assert_msg(!(ok[i] && p == 0), "%s: cut at %ld (seed %llu): step "
                      "%d committed but is gone", s->name, k,
                      (unsigned long long)seed, i);
    }
    char where[96];
    snprintf(where, sizeof where, "%s: cut at %ld (seed %llu)", s->name, k,
             (unsigned long long)seed);
    fu_verify_feeds(st, where);
    wg_store_close(&st);
    fu_verify_pages(wd, where);
    return out;
}

static void run_scenario(const scen *s)
{
    double t0 = nu_seconds();
    pc_ctx c;
    memset(&c, 0, sizeof c);
    s->prepare(&c);
    char *wd = tu_path(dir, "work");
    fu_snap_put(&c.base, wd);
    run_out dry = run_once(s, &c, wd, 0, 0, NULL);
    ck_assert_msg(dry.points > 0, "%s: no I/O points", s->name);
    int draws = draws_per_point();
    fv_crash_stats stats = { 0 };
    for (long k = 1; k <= dry.points; k++)
        for (int r = 0; r < draws; r++) {
            uint64_t seed = ((uint64_t)k << 20) ^ (uint64_t)r * 7919 ^
                            (uint64_t)(s - scenarios) << 40;
            run_out o = run_once(s, &c, wd, k, seed, &stats);
            if (o.cut)
                n_cuts++;
        }
    fprintf(stderr, "powercut %s: %ld points x %d draws: %ld cuts in %.1f s "
            "(writes kept %ld, dropped %ld, torn %ld; reordered %ld)\n",
            s->name, dry.points, draws, n_cuts, nu_seconds() - t0, stats.kept,
            stats.dropped, stats.torn, stats.reordered);
    fv_set_filter(NULL);
    free(wd);
    fu_snap_release(&c.base);
    if (c.b[0].c) {
        for (size_t i = 0; i < 7; i++)
            free((void *)c.b[0].c[i].body);
        free(c.b[0].c);
    }
    fu_figures(n_cuts, n_lost, n_partial);
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_store = {"store", setup, teardown, 600};
static const tu_case case_keyfile = {"keyfile", setup, teardown, 600};

START_TEST(test_powercut_add_is_all_or_nothing)
{
    run_scenario(&scenarios[0]);
}
END_TEST

START_TEST(test_powercut_update_is_all_or_nothing)
{
    run_scenario(&scenarios[1]);
}
END_TEST

START_TEST(test_powercut_delete_is_all_or_nothing)
{
    run_scenario(&scenarios[2]);
}
END_TEST

START_TEST(test_powercut_sync_batch_apply_is_all_or_nothing)
{
    run_scenario(&scenarios[3]);
}
END_TEST

START_TEST(test_powercut_checkpoint_loses_nothing)
{
    run_scenario(&scenarios[4]);
}
END_TEST

START_TEST(test_powercut_audit_append_is_all_or_nothing)
{
    run_scenario(&scenarios[5]);
}
END_TEST

START_TEST(test_powercut_after_a_failed_fsync_loses_nothing)
{
    run_scenario(&scenarios[6]);
}
END_TEST

/* ---- passwd: the key file, outside SQLite --------------------------------- */

/* The store library's open/write/fsync/rename reach these (the executable
 * is linked with --wrap for them); while `rec` is on, calls on files of the
 * node folder are recorded. */
int __real_open(const char *path, int flags, ...);
ssize_t __real_write(int fd, const void *p, size_t n);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);

enum { K_OPEN = 1, K_WRITE, K_FSYNC, K_RENAME };

typedef struct kop {
    int type;
    char a[64], b[64];     /* names inside the folder ("" = the folder) */
    int trunc;
    unsigned char data[256];
    size_t len;
} kop;

static struct {
    int on;
    char folder[PATH_MAX];
    char fdname[64][64];   /* fd -> name while recording */
    int tracked[64];       /* fd is a file of the folder, or the folder */
    kop ops[32];
    int n;
} rec;

/* NAME inside the recorded folder, or NULL. */
static const char *in_folder(const char *path)
{
    size_t n = strlen(rec.folder);
    if (!strncmp(path, rec.folder, n) && (path[n] == '/' || !path[n]))
        return path[n] ? path + n + 1 : "";
    return NULL;
}

static kop *rec_push(int type)
{
    ck_assert_int_lt(rec.n, 32);
    kop *o = &rec.ops[rec.n++];
    memset(o, 0, sizeof *o);
    o->type = type;
    return o;
}

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    int fd = __real_open(path, flags, mode);
    const char *name;
    if (rec.on && fd >= 0 && fd < 64 && (name = in_folder(path))) {
        snprintf(rec.fdname[fd], sizeof rec.fdname[fd], "%s", name);
        rec.tracked[fd] = 1;
        if (flags & (O_CREAT | O_TRUNC)) {
            kop *o = rec_push(K_OPEN);
            snprintf(o->a, sizeof o->a, "%s", name);
            o->trunc = !!(flags & O_TRUNC);
        }
    } else if (fd >= 0 && fd < 64) {
        rec.fdname[fd][0] = 0;
        rec.tracked[fd] = 0;
    }
    return fd;
}

ssize_t __wrap_write(int fd, const void *p, size_t n)
{
    ssize_t w = __real_write(fd, p, n);
    if (rec.on && w > 0 && fd >= 0 && fd < 64 && rec.tracked[fd] &&
        rec.fdname[fd][0]) {
        kop *o = rec_push(K_WRITE);
        snprintf(o->a, sizeof o->a, "%s", rec.fdname[fd]);
        ck_assert_uint_le((size_t)w, sizeof o->data);
        memcpy(o->data, p, (size_t)w);
        o->len = (size_t)w;
    }
    return w;
}

int __wrap_fsync(int fd)
{
    int r = __real_fsync(fd);
    if (rec.on && r == 0 && fd >= 0 && fd < 64 && rec.tracked[fd]) {
        /* the folder itself has the name "" */
        kop *o = rec_push(K_FSYNC);
        snprintf(o->a, sizeof o->a, "%s", rec.fdname[fd]);
    }
    return r;
}

int __wrap_rename(const char *from, const char *to)
{
    int r = __real_rename(from, to);
    const char *a, *b;
    if (rec.on && r == 0 && (a = in_folder(from)) && (b = in_folder(to))) {
        kop *o = rec_push(K_RENAME);
        snprintf(o->a, sizeof o->a, "%s", a);
        snprintf(o->b, sizeof o->b, "%s", b);
    }
    return r;
}

/* A file system that forgets what was not synced: inodes with their
 * current and durable bytes, names in the folder current and durable. */
#define MI 8
typedef struct mfs {
    struct { unsigned char cur[256]; size_t curlen; unsigned char dur[256];
             size_t durlen; int pending[32]; int npending; } ino[MI];
    int nino;
    char name[MI][64];
    int name_ino[MI];   /* current: name -> inode, -1 none */
    int nnames;
    kop dirops[32];      /* unsynced renames and creations, in order */
    int ndirops;
    char dname[MI][64];  /* durable names */
    int dname_ino[MI];
    int ndnames;
} mfs;

static int mfs_lookup(char names[][64], int *inos, int n, const char *nm)
{
    for (int i = 0; i < n; i++)
        if (inos[i] >= 0 && !strcmp(names[i], nm))
            return inos[i];
    return -1;
}

static void mfs_link(char names[][64], int *inos, int *n, const char *nm,
                     int ino)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(names[i], nm)) {
            inos[i] = ino;
            return;
        }
    snprintf(names[*n], 64, "%s", nm);
    inos[(*n)++] = ino;
}

static void mfs_unlink(char names[][64], int *inos, int n, const char *nm)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], nm))
            inos[i] = -1;
}

/* Apply a directory operation to a name table. */
static void dirop(char names[][64], int *inos, int *n, const kop *o)
{
    if (o->type == K_OPEN) {
        mfs_link(names, inos, n, o->a, o->len ? (int)o->len - 1 : 0);
    } else if (o->type == K_RENAME) {
        int ino = mfs_lookup(names, inos, *n, o->a);
        mfs_unlink(names, inos, *n, o->a);
        if (ino >= 0)
            mfs_link(names, inos, n, o->b, ino);
    }
}

/* Replay the first K recorded operations onto a folder holding the old key
 * file; then lose what was not synced as SEED decides, and write the key
 * files that survive into D. */
static void mfs_crash(const unsigned char *oldkey, size_t oldlen, int k,
                      uint64_t seed, const char *d)
{
    mfs m;
    memset(&m, 0, sizeof m);
    m.nino = 1;
    memcpy(m.ino[0].cur, oldkey, oldlen);
    memcpy(m.ino[0].dur, oldkey, oldlen);
    m.ino[0].curlen = m.ino[0].durlen = oldlen;
    mfs_link(m.name, m.name_ino, &m.nnames, WG_STORE_KEYFILE, 0);
    mfs_link(m.dname, m.dname_ino, &m.ndnames, WG_STORE_KEYFILE, 0);
    for (int i = 0; i < k; i++) {
        kop *o = &rec.ops[i];
        int ino;
        switch (o->type) {
        case K_OPEN:
            ino = mfs_lookup(m.name, m.name_ino, m.nnames, o->a);
            if (ino < 0) {
                ck_assert_int_lt(m.nino, MI);
                ino = m.nino++;
                kop made = *o;
                made.len = (size_t)ino + 1; /* the inode, for dirop() */
                m.dirops[m.ndirops++] = made;
                mfs_link(m.name, m.name_ino, &m.nnames, o->a, ino);
            }
            if (o->trunc) {
                m.ino[ino].curlen = 0;
                m.ino[ino].pending[m.ino[ino].npending++] = -(i + 1);
            }
            break;
        case K_WRITE:
            ino = mfs_lookup(m.name, m.name_ino, m.nnames, o->a);
            ck_assert_int_ge(ino, 0);
            memcpy(m.ino[ino].cur + m.ino[ino].curlen, o->data, o->len);
            m.ino[ino].curlen += o->len;
            m.ino[ino].pending[m.ino[ino].npending++] = i + 1;
            break;
        case K_FSYNC:
            if (!o->a[0]) { /* the folder: names are durable */
                memcpy(m.dname, m.name, sizeof m.name);
                memcpy(m.dname_ino, m.name_ino, sizeof m.name_ino);
                m.ndnames = m.nnames;
                m.ndirops = 0;
            } else {
                ino = mfs_lookup(m.name, m.name_ino, m.nnames, o->a);
                ck_assert_int_ge(ino, 0);
                memcpy(m.ino[ino].dur, m.ino[ino].cur, m.ino[ino].curlen);
                m.ino[ino].durlen = m.ino[ino].curlen;
                m.ino[ino].npending = 0;
            }
            break;
        case K_RENAME:
            m.dirops[m.ndirops++] = *o;
            dirop(m.name, m.name_ino, &m.nnames, o);
            break;
        }
    }
    uint64_t rng = seed * 0x9e3779b97f4a7c15ULL + 7;
#define DRAW(n) ((int)(((rng = rng * 6364136223846793005ULL + 1442695040888963407ULL) >> 33) % (uint64_t)(n)))
    /* Names: what the folder's last fsync made durable, then a prefix of
     * the later operations (a journaling file system keeps their order). */
    int keep_dirops = DRAW(m.ndirops + 1);
    for (int i = 0; i < keep_dirops; i++)
        dirop(m.dname, m.dname_ino, &m.ndnames, &m.dirops[i]);
    /* Data: durable bytes, then each unsynced truncation or write kept,
     * dropped (and the later ones with it) or torn. */
    for (int n = 0; n < m.nino; n++) {
        unsigned char *img = m.ino[n].dur;
        size_t len = m.ino[n].durlen;
        int mode = DRAW(3);   /* 0 none, 1 all, 2 a prefix, torn */
        int upto = mode == 0 ? 0 : mode == 1 ? m.ino[n].npending
                                            : DRAW(m.ino[n].npending + 1);
        for (int j = 0; j < upto; j++) {
            int p = m.ino[n].pending[j];
            if (p < 0) {
                len = 0;
                continue;
            }
            kop *o = &rec.ops[p - 1];
            size_t take = o->len;
            if (mode == 2 && j == upto - 1)
                take = (size_t)DRAW((int)o->len + 1); /* any prefix */
            memcpy(img + len, o->data, take);
            len += take;
        }
        m.ino[n].durlen = len;
    }
#undef DRAW
    for (int i = 0; i < m.ndnames; i++) {
        if (m.dname_ino[i] < 0)
            continue;
        char *p = tu_path(d, m.dname[i]);
        tu_write(p, m.ino[m.dname_ino[i]].dur, m.ino[m.dname_ino[i]].durlen);
        free(p);
    }
}

START_TEST(test_powercut_passwd_keeps_one_passphrase_working)
{
    double t0 = nu_seconds();
    char *prep = tu_path(dir, "prep");
    mkdir(prep, 0700);
    char *d = fu_node(prep, "n");
    wg_store *st = nu_open(d);
    wg_err err = { 0 };
    ck_assert_msg(fu_add_persons(st, 0, 3, &err) == WG_OK, "%s", err.msg);
    wg_store_close(&st);
    fu_snap snap;
    fu_snap_take(&snap, d);
    char *kp = tu_path(d, WG_STORE_KEYFILE);
    size_t oldlen;
    unsigned char *oldkey = tu_read(kp, &oldlen);

    /* The real passwd, recorded. */
    char real[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(d, real));
    memset(&rec, 0, sizeof rec);
    snprintf(rec.folder, sizeof rec.folder, "%s", real);
    /* store.c opens the folder by the name it was given; record both */
    rec.on = 1;
    const char *newpass = "new passphrase";
    ck_assert_msg(wg_store_passwd(real, FU_PASS, strlen(FU_PASS), newpass,
                                  strlen(newpass), &err) == WG_OK, "%s",
                  err.msg);
    rec.on = 0;
    size_t newlen;
    unsigned char *newkey = tu_read(kp, &newlen);
    ck_assert(newlen != oldlen || memcmp(newkey, oldkey, oldlen) != 0);
    /* open/write/fsync of the new file, rename, fsync of the folder */
    int saw_rename = 0, saw_dirsync = 0;
    for (int i = 0; i < rec.n; i++) {
        saw_rename |= rec.ops[i].type == K_RENAME;
        saw_dirsync |= rec.ops[i].type == K_FSYNC && !rec.ops[i].a[0];
    }
    ck_assert_msg(rec.n >= 4 && saw_rename && saw_dirsync,
                  "passwd's writes were not seen (%d recorded)", rec.n);
    /* The new passphrase opens the new key file (its KDF cost is paid
     * once here; afterwards the bytes are compared). */
    st = NULL;
    ck_assert_msg(wg_store_open(d, newpass, strlen(newpass), &st, &err) ==
                      WG_OK, "%s", err.msg);
    wg_store_close(&st);

    char *wd = tu_path(dir, "work");
    int draws = draws_per_point() * 4;
    long neither = 0, old_ok = 0, new_ok = 0;
    for (int k = 0; k <= rec.n; k++)
        for (int r = 0; r < draws; r++) {
            /* the database files as they were, no key file */
            fu_snap_put(&snap, wd);
            char *wk = tu_path(wd, WG_STORE_KEYFILE);
            unlink(wk);
            mfs_crash(oldkey, oldlen, k, (uint64_t)k * 1000 + (uint64_t)r,
                      wd);
            n_cuts++;
            size_t len = 0;
            unsigned char *have = access(wk, F_OK) == 0 ? tu_read(wk, &len)
                                                        : NULL;
            if (have && len == newlen && !memcmp(have, newkey, len)) {
                new_ok++;
            } else {
                wg_store *s2 = NULL;
                wg_err e2 = { 0 };
                wg_rc rc = wg_store_open(wd, FU_PASS, strlen(FU_PASS), &s2,
                                         &e2);
                if (rc == WG_OK) {
                    ck_assert_int_eq(fu_all_or_none(s2, 0, 3, NULL, 0), 1);
                    wg_store_close(&s2);
                    old_ok++;
                } else {
                    neither++;
                    n_lost++;
                    ck_abort_msg("passwd cut after step %d (draw %d): "
                                 "neither passphrase opens the node: %s", k,
                                 r, e2.msg);
                }
            }
            free(have);
            free(wk);
        }
    fprintf(stderr, "powercut passwd: %d steps x %d draws: old opens %ld, "
            "new opens %ld, neither %ld in %.1f s\n", rec.n, draws, old_ok,
            new_ok, neither, nu_seconds() - t0);
    ck_assert_int_gt(old_ok, 0);
    ck_assert_int_gt(new_ok, 0);
    free(wd);
    free(kp);
    free(oldkey);
    free(newkey);
    fu_snap_release(&snap);
    free(d);
    free(prep);
    fu_figures(n_cuts, n_lost, n_partial);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_store, test_powercut_add_is_all_or_nothing),
    TU_TEST(case_store, test_powercut_update_is_all_or_nothing),
    TU_TEST(case_store, test_powercut_delete_is_all_or_nothing),
    TU_TEST(case_store, test_powercut_sync_batch_apply_is_all_or_nothing),
    TU_TEST(case_store, test_powercut_checkpoint_loses_nothing),
    TU_TEST(case_store, test_powercut_audit_append_is_all_or_nothing),
    TU_TEST(case_store, test_powercut_after_a_failed_fsync_loses_nothing),
    TU_TEST(case_keyfile, test_powercut_passwd_keeps_one_passphrase_working),
};

int main(void)
{
    return fu_main(TU_SUITE("powercut", tests), "check_powercut");
}
