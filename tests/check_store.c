/*
 * check_store.c - the encrypted store: open, refuse, detect, survive
 */
#include <check.h>
#include <signal.h>
#include <sys/wait.h>

#include "store_int.h"
#include "testutil.h"

#define PASS "test passphrase"
#define MARKER "PLAINTEXT-MARKER-ZHANG-WEI"

static char *dir;

static void setup(void)
{
    ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);
    dir = tu_tmpdir();
}

static void teardown(void)
{
    tu_rmtree(&dir);
}

static char *make_node(const char *name)
{
    char *d = tu_path(dir, name);
    wg_node_info info;
    memset(&info, 0, sizeof info);
    strcpy(info.name, name);
    strcpy(info.county, "450224");
    strcpy(info.endpoint, "tcp://127.0.0.1:7400");
    wg_err err = { 0 };
    ck_assert_msg(wg_store_create(d, PASS, strlen(PASS), WG_KDF_INTERACTIVE,
                                  &info, &err) == WG_OK, "%s", err.msg);
    return d;
}

static wg_store *open_ok(const char *d)
{
    wg_store *st = NULL;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_open(d, PASS, strlen(PASS), &st, &err) == WG_OK,
                  "%s", err.msg);
    return st;
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

typedef struct problems {
    int n;
    char text[8][160];
} problems;

static void collect(void *ctx, const char *what)
{
    problems *p = ctx;
    if (p->n < 8)
        snprintf(p->text[p->n], sizeof p->text[0], "%s", what);
    p->n++;
}

static long verify(const char *d, problems *p)
{
    long checked = 0, bad = 0;
    memset(p, 0, sizeof *p);
    ck_assert_int_eq(wg_store_verify_pages(d, PASS, strlen(PASS), collect, p,
                                           &checked, &bad, NULL),
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
    memset(&info, 0, sizeof info);
    strcpy(info.name, "other");
    strcpy(info.county, "450224");
    strcpy(info.endpoint, "tcp://127.0.0.1:7400");
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
    problems p;
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
    problems p;
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
    problems p;
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
    problems p;
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
    problems p;
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
        problems p;
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

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *t = tcase_create("open");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_store_create_then_open_gives_identity);
    tcase_add_test(t, test_store_create_refuses_existing_node);
    tcase_add_test(t, test_store_wrong_passphrase_is_auth_error);
    tcase_add_test(t, test_store_missing_key_file_is_named);
    tcase_add_test(t, test_store_second_opener_is_refused_while_open);
    suite_add_tcase(s, t);
    t = tcase_create("at_rest");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_store_no_plaintext_on_disk);
    tcase_add_test(t, test_store_flipped_byte_in_database_names_the_page);
    tcase_add_test(t, test_store_flipped_byte_in_page_one_fails_open);
    tcase_add_test(t, test_store_swapped_pages_are_both_named);
    tcase_add_test(t, test_store_page_from_another_database_is_named);
    tcase_add_test(t, test_store_wal_is_recovered_after_a_crash);
    tcase_add_test(t, test_store_flipped_byte_in_wal_names_the_frame);
    tcase_add_test(t, test_store_passwd_rewraps_without_touching_the_database);
    tcase_add_test(t, test_store_sigkill_mid_write_keeps_every_commit);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
