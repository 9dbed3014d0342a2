/*
 * check_store.c - the encrypted store: open, refuse, detect, survive
 */
#include <check.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "store_int.h"
#include "testutil.h"
#include "nodeutil.h"

#define PASS "test passphrase"
#define MARKER "PLAINTEXT-MARKER-ZHANG-WEI"

NU_DIR_FIXTURE(dir)

static char *make_node(const char *name)
{
    return nu_create_pass(dir, name, "450224", WG_ROLE_OFFICE,
                          WG_KDF_INTERACTIVE, PASS);
}

static wg_store *open_ok(const char *d)
{
    return nu_open_pass(d, PASS);
}

/* Fill the store with ROWS rows in transactions of 100, each row a
 * recognisable plaintext. */
static void fill(wg_store *st, int rows)
{
    ck_assert_int_eq(wg_store__exec(st, "CREATE TABLE IF NOT EXISTS t(id "
                                        "INTEGER PRIMARY KEY, v TEXT)", NULL),
                     WG_OK);
    for (int i = 0; i < rows; i += 100) {
        ck_assert_int_eq(wg_store__begin(st, NULL), WG_OK);
        char sql[256];
        for (int j = i; j < i + 100 && j < rows; j++) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO t(v) VALUES('" MARKER " %06d')", j);
            ck_assert_int_eq(wg_store__exec(st, sql, NULL), WG_OK);
        }
        ck_assert_int_eq(wg_store__commit(st, NULL), WG_OK);
    }
}

static long count_rows(wg_store *st, wg_err *err)
{
    sqlite3_stmt *s;
    if (wg_store__prepare(st, "SELECT count(*) FROM t", &s, err))
        return -1;
    int rc = sqlite3_step(s);
    long n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    if (rc != SQLITE_ROW)
        wg_store__sqlerr(st, rc, "counting", err);
    sqlite3_finalize(s);
    return n;
}

static long verify(const char *d, nu_problems *p)
{
    long checked = 0, bad = 0;
    memset(p, 0, sizeof *p);
    ck_assert_int_eq(wg_store_verify_pages(d, PASS, strlen(PASS),
                                           nu_on_problem, p, &checked, &bad,
                                           NULL),
                     WG_OK);
    ck_assert_int_eq(bad, p->n);
    return bad;
}

/* Copy a node's files while ST holds it open: what a crash would leave. */
static char *snapshot(const char *from, const char *name)
{
    char *to = tu_path(dir, name);
    ck_assert_int_eq(mkdir(to, 0700), 0);
    const char *files[] = { "wings.key", "wings.db", "wings.db-wal" };
    for (int i = 0; i < 3; i++) {
        char *a = tu_path(from, files[i]), *b = tu_path(to, files[i]);
        if (access(a, F_OK) == 0)
            tu_copy(a, b);
        free(a);
        free(b);
    }
    return to;
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_open = {"open", setup, teardown, 60};
static const tu_case case_at_rest = {"at_rest", setup, teardown, 60};
static const tu_case case_frame_cache = {"frame_cache", setup, teardown, 120};

START_TEST(test_store_create_then_open_gives_identity)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    const wg_node_info *info = wg_store_info(st);
    ck_assert_str_eq(info->name, "ronan");
    ck_assert_str_eq(info->county, "450224");
    ck_assert_int_eq(info->role, WG_ROLE_OFFICE);
    ck_assert_uint_eq(strlen(info->key_hex), 64);
    /* The secret key signs for the public key. */
    uint8_t sig[WG_SIG_BYTES];
    wg_sign(sig, "x", 1, wg_store_secret_key(st));
    ck_assert_int_eq(wg_verify(sig, "x", 1, info->pk), WG_OK);
    wg_store_close(&st);
    ck_assert_ptr_null(st);
    free(d);
}
END_TEST

START_TEST(test_store_create_refuses_existing_node)
{
    char *d = make_node("ronan");
    wg_node_info info;
    nu_node_info(&info, "other", "450224", WG_ROLE_OFFICE);
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_create(d, PASS, strlen(PASS), WG_KDF_INTERACTIVE,
                                     &info, &err),
                     WG_ERR_EXISTS);
    wg_store_close(&(wg_store *){ open_ok(d) }); /* still the old node */
    free(d);
}
END_TEST

START_TEST(test_store_wrong_passphrase_is_auth_error)
{
    char *d = make_node("ronan");
    wg_store *st = NULL;
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_open(d, "nope", 4, &st, &err), WG_ERR_AUTH);
    ck_assert_str_eq(err.msg, "wrong passphrase");
    ck_assert_ptr_null(st);
    free(d);
}
END_TEST

START_TEST(test_store_missing_key_file_is_named)
{
    char *d = make_node("ronan");
    char *k = tu_path(d, "wings.key");
    unlink(k);
    wg_store *st = NULL;
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_open(d, PASS, strlen(PASS), &st, &err),
                     WG_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "key file"));
    ck_assert_ptr_nonnull(strstr(err.msg, "missing"));
    char *none = tu_path(dir, "nothing-here");
    ck_assert_int_eq(wg_store_open(none, PASS, strlen(PASS), &st, &err),
                     WG_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "no node"));
    free(none);
    free(k);
    free(d);
}
END_TEST

START_TEST(test_store_no_plaintext_on_disk)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 3000);
    /* While open: the database and the WAL. */
    char *db = tu_path(d, "wings.db"), *wal = tu_path(d, "wings.db-wal"),
         *shm = tu_path(d, "wings.db-shm");
    ck_assert_int_eq(access(wal, F_OK), 0);
    ck_assert_int_ne(access(shm, F_OK), 0); /* exclusive mode: no -shm */
    ck_assert(!tu_contains(db, MARKER));
    ck_assert(!tu_contains(wal, MARKER));
    ck_assert(!tu_contains(db, "SQLite format 3"));
    ck_assert(!tu_contains(wal, "ronan"));
    wg_store_close(&st);
    ck_assert(!tu_contains(db, MARKER));
    ck_assert(!tu_contains(db, "SQLite format 3"));
    ck_assert(!tu_contains(db, "ronan"));
    /* Plain SQLite cannot read it. */
    sqlite3 *plain = NULL;
    sqlite3_open_v2(db, &plain, SQLITE_OPEN_READONLY, NULL);
    ck_assert_int_ne(sqlite3_exec(plain, "SELECT * FROM sqlite_master", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(plain);
    st = open_ok(d);
    ck_assert_int_eq(count_rows(st, NULL), 3000);
    wg_store_close(&st);
    free(db);
    free(wal);
    free(shm);
    free(d);
}
END_TEST

START_TEST(test_store_flipped_byte_in_database_names_the_page)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 2000);
    wg_store_close(&st);
    char *db = tu_path(d, "wings.db");
    struct stat sb;
    ck_assert_int_eq(stat(db, &sb), 0);
    /* The last page holds rows of t, written after the schema. */
    long last = (long)(sb.st_size / WG_PAGE_BYTES);
    tu_flip(db, (last - 1) * WG_PAGE_BYTES + 1234, 0x04);
    char want[96];
    snprintf(want, sizeof want,
             "page %ld of the database failed authentication", last);
    nu_problems p;
    ck_assert_int_eq(verify(d, &p), 1);
    ck_assert_str_eq(p.text[0], want);
    wg_err err = { 0 };
    st = open_ok(d); /* page 1 is intact */
    ck_assert_int_eq(count_rows(st, &err), -1);
    ck_assert_int_eq(err.code, WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, want));
    wg_store_close(&st);
    free(db);
    free(d);
}
END_TEST

START_TEST(test_store_flipped_byte_in_page_one_fails_open)
{
    char *d = make_node("ronan");
    char *db = tu_path(d, "wings.db");
    tu_flip(db, 50, 0x80);
    wg_store *st = NULL;
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_open(d, PASS, strlen(PASS), &st, &err),
                     WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "page 1 of the database failed "
                                          "authentication"));
    free(db);
    free(d);
}
END_TEST

START_TEST(test_store_swapped_pages_are_both_named)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 2000);
    wg_store_close(&st);
    char *db = tu_path(d, "wings.db");
    size_t n;
    unsigned char *b = tu_read(db, &n);
    unsigned char tmp[WG_PAGE_BYTES];
    memcpy(tmp, b + 2 * WG_PAGE_BYTES, WG_PAGE_BYTES);
    memcpy(b + 2 * WG_PAGE_BYTES, b + 6 * WG_PAGE_BYTES, WG_PAGE_BYTES);
    memcpy(b + 6 * WG_PAGE_BYTES, tmp, WG_PAGE_BYTES);
    tu_write(db, b, n);
    free(b);
    nu_problems p;
    ck_assert_int_eq(verify(d, &p), 2);
    ck_assert_str_eq(p.text[0], "page 3 of the database failed authentication");
    ck_assert_str_eq(p.text[1], "page 7 of the database failed authentication");
    free(db);
    free(d);
}
END_TEST

START_TEST(test_store_page_from_another_database_is_named)
{
    char *a = make_node("alpha"), *b = make_node("beta");
    wg_store *st = open_ok(a);
    fill(st, 500);
    wg_store_close(&st);
    st = open_ok(b);
    fill(st, 500);
    wg_store_close(&st);
    char *da = tu_path(a, "wings.db"), *dbb = tu_path(b, "wings.db");
    size_t na, nb;
    unsigned char *pa = tu_read(da, &na), *pb = tu_read(dbb, &nb);
    memcpy(pa + 3 * WG_PAGE_BYTES, pb + 3 * WG_PAGE_BYTES, WG_PAGE_BYTES);
    tu_write(da, pa, na);
    nu_problems p;
    ck_assert_int_eq(verify(a, &p), 1);
    ck_assert_str_eq(p.text[0], "page 4 of the database failed authentication");
    free(pa);
    free(pb);
    free(da);
    free(dbb);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_store_wal_is_recovered_after_a_crash)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 1500);
    char *snap = snapshot(d, "crashed");
    wg_store_close(&st);
    char *wal = tu_path(snap, "wings.db-wal");
    ck_assert_int_eq(access(wal, F_OK), 0);
    nu_problems p;
    ck_assert_int_eq(verify(snap, &p), 0);
    st = open_ok(snap);
    ck_assert_int_eq(count_rows(st, NULL), 1500);
    wg_store_close(&st);
    free(wal);
    free(snap);
    free(d);
}
END_TEST

START_TEST(test_store_flipped_byte_in_wal_names_the_frame)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 1500);
    char *snap = snapshot(d, "crashed");
    wg_store_close(&st);
    char *wal = tu_path(snap, "wings.db-wal");
    /* Frame 3: physical header 72 bytes, frames of 4120. */
    tu_flip(wal, 72 + 2 * 4120 + 777, 0x01);
    nu_problems p;
    ck_assert_int_eq(verify(snap, &p), 1);
    ck_assert_str_eq(p.text[0], "frame 3 of the WAL failed authentication");
    wg_err err = { 0 };
    st = NULL;
    wg_rc rc = wg_store_open(snap, PASS, strlen(PASS), &st, &err);
    ck_assert_int_eq(rc, WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "frame 3 of the WAL"));
    /* And the WAL header. */
    tu_flip(wal, 72 + 2 * 4120 + 777, 0x01);
    tu_flip(wal, 10, 0x01);
    ck_assert_int_eq(verify(snap, &p), 1);
    ck_assert_str_eq(p.text[0], "the WAL header failed authentication");
    ck_assert_int_eq(wg_store_open(snap, PASS, strlen(PASS), &st, &err),
                     WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "WAL header"));
    free(wal);
    free(snap);
    free(d);
}
END_TEST

START_TEST(test_store_passwd_rewraps_without_touching_the_database)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 300);
    wg_store_close(&st);
    char *db = tu_path(d, "wings.db");
    size_t n1, n2;
    unsigned char *before = tu_read(db, &n1);
    struct stat s1, s2;
    ck_assert_int_eq(stat(db, &s1), 0);
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_passwd(d, "wrong", 5, "new pass", 8, &err),
                     WG_ERR_AUTH);
    ck_assert_int_eq(wg_store_passwd(d, PASS, strlen(PASS), "new pass", 8,
                                     &err),
                     WG_OK);
    unsigned char *after = tu_read(db, &n2);
    ck_assert_int_eq(stat(db, &s2), 0);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(before, after, n1);
    ck_assert_int_eq(s1.st_mtim.tv_sec, s2.st_mtim.tv_sec);
    ck_assert_int_eq(s1.st_mtim.tv_nsec, s2.st_mtim.tv_nsec);
    ck_assert_int_eq(wg_store_open(d, PASS, strlen(PASS), &st, &err),
                     WG_ERR_AUTH);
    ck_assert_int_eq(wg_store_open(d, "new pass", 8, &st, &err), WG_OK);
    ck_assert_int_eq(count_rows(st, NULL), 300);
    wg_store_close(&st);
    free(before);
    free(after);
    free(db);
    free(d);
}
END_TEST

START_TEST(test_store_second_opener_is_refused_while_open)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 10);
    pid_t pid = fork();
    if (pid == 0) {
        /* A forked child inherits the parent's key registry; forget it, as
         * a separate process would never have had it. */
        wg_vfs_detach(st->dbpath);
        wg_store *other = NULL;
        wg_err err = { 0 };
        wg_rc rc = wg_store_open(d, PASS, strlen(PASS), &other, &err);
        _exit(rc == WG_ERR_IO && strstr(err.msg, "in use") ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    wg_store_close(&st);
    free(d);
}
END_TEST

START_TEST(test_store_sigkill_mid_write_keeps_every_commit)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    fill(st, 1);
    wg_store_close(&st);
    for (int round = 0; round < 5; round++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            wg_store *w = open_ok(d);
            for (long i = 0;; i++) {
                wg_store__begin(w, NULL);
                for (int j = 0; j < 50; j++)
                    wg_store__exec(w, "INSERT INTO t(v) VALUES(hex("
                                      "randomblob(300)))", NULL);
                if (wg_store__commit(w, NULL) != WG_OK)
                    _exit(2);
                long done = 1;
                if (write(fds[1], &done, sizeof done) != sizeof done)
                    _exit(3);
            }
        }
        close(fds[1]);
        long commits = 0, one;
        /* Let it commit a while, then kill it mid-stream. */
        while (commits < 20 + round * 7 &&
               read(fds[0], &one, sizeof one) == sizeof one)
            commits++;
        kill(pid, SIGKILL);
        while (read(fds[0], &one, sizeof one) == sizeof one)
            commits++;
        close(fds[0]);
        waitpid(pid, NULL, 0);
        nu_problems p;
        ck_assert_int_eq(verify(d, &p), 0);
        st = open_ok(d);
        wg_err err = { 0 };
        long rows = count_rows(st, &err);
        ck_assert_msg(rows >= 0, "%s", err.msg);
        /* Every acknowledged commit is there, and whole: 50 rows each. */
        ck_assert_int_eq((rows - 1) % 50, 0);
        static long total;
        total += commits;
        ck_assert_int_ge(rows - 1, total * 50);
        total = (rows - 1) / 50;
        wg_store_close(&st);
    }
    free(d);
}
END_TEST

/* ---- the WAL frame cache (store/vfs.c) ----------------------------------- */

/* Everything a reopened store must reproduce exactly. */
static void digest(wg_store *st, char out[256])
{
    sqlite3_stmt *s;
    ck_assert_int_eq(wg_store__prepare(st,
                                       "SELECT count(*), sum(length(v)), "
                                       "sum(unicode(substr(v, -1)) * id), "
                                       "max(v), min(v) FROM t",
                                       &s, NULL),
                     WG_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    snprintf(out, 256, "%lld|%lld|%lld|%.60s|%.60s",
             (long long)sqlite3_column_int64(s, 0),
             (long long)sqlite3_column_int64(s, 1),
             (long long)sqlite3_column_int64(s, 2),
             (const char *)sqlite3_column_text(s, 3),
             (const char *)sqlite3_column_text(s, 4));
    sqlite3_finalize(s);
}

/* Transactions of ROWS rows under a random-key index (so each commit
 * rewrites pages scattered over the file), each also updating earlier rows:
 * pages go through many frames, checkpoints and WAL restarts. */
static void churn(wg_store *st, int txns, int rows, int pad)
{
    ck_assert_int_eq(wg_store__exec(st,
                                    "CREATE TABLE IF NOT EXISTS t(id INTEGER "
                                    "PRIMARY KEY, v TEXT);"
                                    "CREATE INDEX IF NOT EXISTS t_v ON t(v)",
                                    NULL),
                     WG_OK);
    char sql[512];
    for (int k = 0; k < txns; k++) {
        ck_assert_int_eq(wg_store__begin(st, NULL), WG_OK);
        snprintf(sql, sizeof sql,
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                 "FROM n WHERE i < %d) INSERT INTO t(v) SELECT hex(randomblob("
                 "8)) || ' " MARKER " ' || printf('%%.%dc', 'x') FROM n",
                 rows, pad);
        ck_assert_int_eq(wg_store__exec(st, sql, NULL), WG_OK);
        snprintf(sql, sizeof sql,
                 "UPDATE t SET v = hex(randomblob(8)) || substr(v, 17) || "
                 "'%c' WHERE id %% 37 = %d", 'a' + k % 26, k % 37);
        ck_assert_int_eq(wg_store__exec(st, sql, NULL), WG_OK);
        wg_err err = { 0 };
        ck_assert_msg(wg_store__commit(st, &err) == WG_OK, "%s", err.msg);
    }
}

START_TEST(test_store_many_checkpoints_keep_every_row)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    churn(st, 30, 400, 300);
    /* A crash here: the copy recovers from its WAL alone. */
    char before_crash[256];
    digest(st, before_crash);
    char *snap = snapshot(d, "crashed");
    churn(st, 30, 400, 300);
    char want[256], got[256];
    digest(st, want);
    wg_store_close(&st);
    nu_problems p;
    ck_assert_int_eq(verify(d, &p), 0);
    st = open_ok(d);
    digest(st, got);
    ck_assert_str_eq(got, want);
    nu_integrity_ok(st, "the store");
    wg_store_close(&st);
    ck_assert_int_eq(verify(snap, &p), 0);
    st = open_ok(snap);
    digest(st, got);
    ck_assert_str_eq(got, before_crash);
    nu_integrity_ok(st, "the store");
    /* The recovered store writes on, checkpointing frames it read at
     * recovery. */
    churn(st, 5, 400, 300);
    digest(st, want);
    wg_store_close(&st);
    st = open_ok(snap);
    digest(st, got);
    ck_assert_str_eq(got, want);
    wg_store_close(&st);
    free(snap);
    free(d);
}
END_TEST

START_TEST(test_store_wal_longer_than_the_cache_checkpoints_whole)
{
    char *d = make_node("ronan");
    wg_store *st = open_ok(d);
    /* No automatic checkpoint: one WAL of well over 4096 frames, so the
     * checkpoint finds the oldest frames evicted and reads them from disk. */
    ck_assert_int_eq(wg_store__exec(st, "PRAGMA wal_autocheckpoint=0", NULL),
                     WG_OK);
    churn(st, 12, 1500, 900);
    char *wal = tu_path(d, "wings.db-wal");
    struct stat sb;
    ck_assert_int_eq(stat(wal, &sb), 0);
    ck_assert_int_gt((sb.st_size - 72) / 4120, 5000);
    char want[256], got[256];
    digest(st, want);
    ck_assert_int_eq(wg_store__exec(st, "PRAGMA wal_checkpoint(TRUNCATE)",
                                    NULL),
                     WG_OK);
    ck_assert_int_eq(stat(wal, &sb), 0);
    ck_assert_int_eq(sb.st_size, 0);
    churn(st, 2, 100, 100);
    digest(st, want);
    wg_store_close(&st);
    nu_problems p;
    ck_assert_int_eq(verify(d, &p), 0);
    st = open_ok(d);
    digest(st, got);
    ck_assert_str_eq(got, want);
    nu_integrity_ok(st, "the store");
    wg_store_close(&st);
    ck_assert(access(wal, F_OK) != 0 || !tu_contains(wal, MARKER));
    char *db = tu_path(d, "wings.db");
    ck_assert(!tu_contains(db, MARKER));
    free(db);
    free(wal);
    free(d);
}
END_TEST

/* Direct access to the VFS: the WAL of a database whose key we attach. */
typedef struct rawwal {
    sqlite3_vfs *vfs;
    sqlite3_file *f;
    sqlite3_filename name;
    char *db, *wal;
    uint8_t key[WG_KEY_BYTES], dbid[WG_DBID_BYTES];
} rawwal;

/* Attach the key and open the WAL (again). */
static void raw_reopen(rawwal *w)
{
    ck_assert_int_eq(wg_vfs_attach(w->db, w->key, w->dbid, NULL), WG_OK);
    int out = 0;
    ck_assert_int_eq(w->vfs->xOpen(w->vfs, sqlite3_filename_wal(w->name),
                                   w->f,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_WAL,
                                   &out),
                     SQLITE_OK);
}

static void raw_open(rawwal *w, const char *name)
{
    memset(w, 0, sizeof *w);
    wg_random(w->key, sizeof w->key);
    wg_random(w->dbid, sizeof w->dbid);
    w->db = tu_path(dir, name);
    size_t n = strlen(w->db) + 16;
    char *journal = malloc(n);
    w->wal = malloc(n);
    snprintf(journal, n, "%s-journal", w->db);
    snprintf(w->wal, n, "%s-wal", w->db);
    ck_assert_int_eq(wg_vfs_register(NULL), WG_OK);
    w->vfs = sqlite3_vfs_find(WG_VFS_NAME);
    ck_assert_ptr_nonnull(w->vfs);
    tu_write(w->db, "", 0); /* the WAL takes its mode from the database */
    w->name = sqlite3_create_filename(w->db, journal, w->wal, 0, NULL);
    free(journal);
    w->f = calloc(1, (size_t)w->vfs->szOsFile);
    raw_reopen(w);
}

/* Close the WAL and detach the key. */
static int raw_shut(rawwal *w)
{
    int rc = w->f->pMethods->xClose(w->f);
    memset(w->f, 0, (size_t)w->vfs->szOsFile);
    wg_vfs_detach(w->db);
    return rc;
}

static void raw_close(rawwal *w)
{
    raw_shut(w);
    free(w->f);
    sqlite3_free_filename(w->name);
    free(w->db);
    free(w->wal);
}

static int raw_header(rawwal *w, uint8_t salt)
{
    uint8_t hdr[32];
    memset(hdr, salt, sizeof hdr);
    return w->f->pMethods->xWrite(w->f, hdr, 32, 0);
}

/* Frame I as SQLite writes it: the 24-byte header, then the page. A commit
 * frame (COMMIT) ends a transaction: by the time its xWrite returns, the
 * VFS has written every frame before it. */
static int raw_frame(rawwal *w, int i, uint32_t pgno, uint8_t fill,
                     int commit)
{
    uint8_t hdr[24] = { 0 }, page[WG_PAGE_BYTES];
    wg_put_u32be(hdr, pgno);
    wg_put_u32be(hdr + 4, commit ? 100 : 0);
    memset(page, fill, sizeof page);
    memset(page + WG_PAGE_BYTES - WG_RESERVE_BYTES, 0, WG_RESERVE_BYTES);
    sqlite3_int64 off = 32 + (sqlite3_int64)i * (24 + WG_PAGE_BYTES);
    int rc = w->f->pMethods->xWrite(w->f, hdr, 24, off);
    if (rc == SQLITE_OK)
        rc = w->f->pMethods->xWrite(w->f, page, WG_PAGE_BYTES, off + 24);
    return rc;
}

/* Read frame I's page; *FILL is its first byte. */
static int raw_read(rawwal *w, int i, uint8_t *fill)
{
    uint8_t page[WG_PAGE_BYTES];
    sqlite3_int64 off = 32 + (sqlite3_int64)i * (24 + WG_PAGE_BYTES) + 24;
    wg_vfs_clear_failure();
    int rc = w->f->pMethods->xRead(w->f, page, WG_PAGE_BYTES, off);
    *fill = page[0];
    if (rc == SQLITE_OK) {
        for (int j = 1; j < WG_PAGE_BYTES - WG_RESERVE_BYTES; j++)
            ck_assert_uint_eq(page[j], page[0]);
    }
    return rc;
}

static sqlite3_int64 raw_phys_size(rawwal *w)
{
    struct stat sb;
    ck_assert_int_eq(stat(w->wal, &sb), 0);
    return sb.st_size;
}

START_TEST(test_store_failed_wal_write_is_never_served)
{
    rawwal w;
    raw_open(&w, "raw.db");
    ck_assert_int_eq(raw_header(&w, 1), SQLITE_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(raw_frame(&w, i, (uint32_t)i + 2, 'a' + i, i == 3),
                         SQLITE_OK);
    ck_assert_int_eq(raw_phys_size(&w), 72 + 4 * 4120);
    uint8_t fill;
    ck_assert_int_eq(raw_read(&w, 3, &fill), SQLITE_OK);
    ck_assert_uint_eq(fill, 'd');

    /* Writes may now reach only 100 bytes into frame 4 (index 3)... */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 72 + 3 * 4120 + 100;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    /* ...so rewriting frame 4 tears it, and the transaction of frames 5-7
     * is never written: its commit frame's write fails. */
    ck_assert_int_ne(raw_frame(&w, 3, 9, 'X', 1), SQLITE_OK);
    ck_assert_int_eq(raw_frame(&w, 4, 10, 'Y', 0), SQLITE_OK);
    ck_assert_int_eq(raw_frame(&w, 5, 11, 'Y', 0), SQLITE_OK);
    ck_assert_int_ne(raw_frame(&w, 6, 12, 'Y', 1), SQLITE_OK);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);

    /* Neither the old nor the failed content comes back from memory: the
     * torn frame is read from disk and fails, the missing ones read
     * short. */
    ck_assert_int_eq(raw_read(&w, 3, &fill), SQLITE_IOERR_DATA);
    ck_assert_ptr_nonnull(wg_vfs_failure());
    ck_assert_str_eq(wg_vfs_failure(),
                     "frame 4 of the WAL failed authentication");
    for (int i = 4; i < 7; i++) {
        ck_assert_int_eq(raw_read(&w, i, &fill), SQLITE_IOERR_SHORT_READ);
        ck_assert_uint_eq(fill, 0);
    }
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(raw_read(&w, i, &fill), SQLITE_OK);
        ck_assert_uint_eq(fill, 'a' + i);
    }
    /* Written again, the frames read back, from memory and from disk. */
    for (int i = 3; i < 7; i++)
        ck_assert_int_eq(raw_frame(&w, i, 9, 'P' + i, i == 6), SQLITE_OK);
    ck_assert_int_eq(raw_phys_size(&w), 72 + 7 * 4120);
    for (int i = 3; i < 7; i++) {
        ck_assert_int_eq(raw_read(&w, i, &fill), SQLITE_OK);
        ck_assert_uint_eq(fill, 'P' + i);
    }
    /* And from disk alone. */
    ck_assert_int_eq(raw_shut(&w), SQLITE_OK);
    raw_reopen(&w);
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(raw_read(&w, i, &fill), SQLITE_OK);
        ck_assert_uint_eq(fill, i < 3 ? 'a' + i : 'P' + i);
    }
    raw_close(&w);
}
END_TEST

START_TEST(test_store_wal_frames_reach_disk_by_the_commit_frame)
{
    rawwal w;
    raw_open(&w, "raw.db");
    ck_assert_int_eq(raw_header(&w, 1), SQLITE_OK);
    /* Frames of a transaction may wait in memory; its commit frame writes
     * them all, and so does any other use of the WAL. */
    for (int i = 0; i < 300; i++)
        ck_assert_int_eq(raw_frame(&w, i, (uint32_t)i + 2, 'A' + i % 50,
                                   i == 299),
                         SQLITE_OK);
    ck_assert_int_eq(raw_phys_size(&w), 72 + 300 * 4120);
    ck_assert_int_eq(raw_frame(&w, 300, 7, 'z', 0), SQLITE_OK);
    ck_assert_int_eq(w.f->pMethods->xSync(w.f, SQLITE_SYNC_NORMAL),
                     SQLITE_OK);
    ck_assert_int_eq(raw_phys_size(&w), 72 + 301 * 4120);
    ck_assert_int_eq(raw_frame(&w, 301, 8, 'y', 0), SQLITE_OK);
    sqlite3_int64 size = 0;
    ck_assert_int_eq(w.f->pMethods->xFileSize(w.f, &size), SQLITE_OK);
    ck_assert_int_eq(size, 32 + 302 * 4120);
    ck_assert_int_eq(raw_frame(&w, 302, 9, 'x', 0), SQLITE_OK);
    uint8_t fill;
    ck_assert_int_eq(raw_read(&w, 302, &fill), SQLITE_OK);
    ck_assert_uint_eq(fill, 'x');
    ck_assert_int_eq(raw_phys_size(&w), 72 + 303 * 4120);
    /* Out of sequence: the run so far is written first. */
    ck_assert_int_eq(raw_frame(&w, 303, 9, 'w', 0), SQLITE_OK);
    ck_assert_int_eq(raw_frame(&w, 100, 9, 'v', 0), SQLITE_OK);
    ck_assert_int_eq(raw_phys_size(&w), 72 + 304 * 4120);
    ck_assert_int_eq(raw_frame(&w, 304, 9, 'u', 0), SQLITE_OK);
    ck_assert_int_eq(raw_shut(&w), SQLITE_OK); /* writes the last, too */
    ck_assert_int_eq(raw_phys_size(&w), 72 + 305 * 4120);
    ck_assert(!tu_contains(w.wal, "AAAAAAAAAAAAAAAA"));
    /* On disk, every frame as written, sealed under its own index. */
    raw_reopen(&w);
    for (int i = 0; i < 305; i++) {
        uint8_t want = i == 100 ? 'v' : i < 300 ? 'A' + i % 50
                       : "zyxwu"[i - 300];
        ck_assert_int_eq(raw_read(&w, i, &fill), SQLITE_OK);
        ck_assert_uint_eq(fill, want);
    }
    raw_close(&w);
}
END_TEST

START_TEST(test_store_wal_restart_reads_frames_from_disk)
{
    rawwal w;
    raw_open(&w, "raw.db");
    ck_assert_int_eq(raw_header(&w, 1), SQLITE_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(raw_frame(&w, i, (uint32_t)i + 2, 'a' + i, i == 3),
                         SQLITE_OK);
    uint8_t fill;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(raw_read(&w, i, &fill), SQLITE_OK);
        ck_assert_uint_eq(fill, 'a' + i);
    }
    /* Once the WAL starts over (a new header), or shrinks, every frame read
     * is authenticated from disk again. */
    tu_flip(w.wal, 72 + 1 * 4120 + 500, 0x10);
    ck_assert_int_eq(raw_header(&w, 2), SQLITE_OK);
    ck_assert_int_eq(raw_read(&w, 1, &fill), SQLITE_IOERR_DATA);
    ck_assert_str_eq(wg_vfs_failure(),
                     "frame 2 of the WAL failed authentication");
    ck_assert_int_eq(raw_read(&w, 2, &fill), SQLITE_OK);
    ck_assert_uint_eq(fill, 'c');
    tu_flip(w.wal, 72 + 2 * 4120 + 500, 0x10);
    ck_assert_int_eq(w.f->pMethods->xTruncate(w.f, 32 + 3 * 4120), SQLITE_OK);
    ck_assert_int_eq(raw_read(&w, 2, &fill), SQLITE_IOERR_DATA);
    ck_assert_str_eq(wg_vfs_failure(),
                     "frame 3 of the WAL failed authentication");
    ck_assert_int_eq(raw_read(&w, 3, &fill), SQLITE_IOERR_SHORT_READ);
    /* A frame written after the restart is served, and is on disk. */
    ck_assert_int_eq(raw_frame(&w, 1, 3, 'q', 1), SQLITE_OK);
    ck_assert_int_eq(raw_read(&w, 1, &fill), SQLITE_OK);
    ck_assert_uint_eq(fill, 'q');
    ck_assert_int_eq(raw_read(&w, 0, &fill), SQLITE_OK);
    ck_assert_uint_eq(fill, 'a');
    raw_close(&w);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_open, test_store_create_then_open_gives_identity),
    TU_TEST(case_open, test_store_create_refuses_existing_node),
    TU_TEST(case_open, test_store_wrong_passphrase_is_auth_error),
    TU_TEST(case_open, test_store_missing_key_file_is_named),
    TU_TEST(case_open, test_store_second_opener_is_refused_while_open),
    TU_TEST(case_at_rest, test_store_no_plaintext_on_disk),
    TU_TEST(case_at_rest, test_store_flipped_byte_in_database_names_the_page),
    TU_TEST(case_at_rest, test_store_flipped_byte_in_page_one_fails_open),
    TU_TEST(case_at_rest, test_store_swapped_pages_are_both_named),
    TU_TEST(case_at_rest, test_store_page_from_another_database_is_named),
    TU_TEST(case_at_rest, test_store_wal_is_recovered_after_a_crash),
    TU_TEST(case_at_rest, test_store_flipped_byte_in_wal_names_the_frame),
    TU_TEST(case_at_rest, test_store_passwd_rewraps_without_touching_the_database),
    TU_TEST(case_at_rest, test_store_sigkill_mid_write_keeps_every_commit),
    TU_TEST(case_frame_cache, test_store_many_checkpoints_keep_every_row),
    TU_TEST(case_frame_cache, test_store_wal_longer_than_the_cache_checkpoints_whole),
    TU_TEST(case_frame_cache, test_store_failed_wal_write_is_never_served),
    TU_TEST(case_frame_cache, test_store_wal_frames_reach_disk_by_the_commit_frame),
    TU_TEST(case_frame_cache, test_store_wal_restart_reads_frames_from_disk),
};

int main(void)
{
    return tu_run(TU_SUITE("store", tests));
}
