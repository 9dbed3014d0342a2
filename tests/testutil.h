/*
 * testutil.h - small helpers shared by the Check suites: the temporary
 * folder of a test, files read, written and altered, the table of tests a
 * suite is built from (TU_SUITE) and the runner every suite's main() calls.
 * Nodes, engines and person rows: nodeutil.h.
 */
#ifndef WG_TESTUTIL_H
#define WG_TESTUTIL_H

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

/* A fresh temporary folder; release with tu_rmtree(). */
static inline char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/wings-test-XXXXXX",
             base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static inline void tu_rmtree(char **dir)
{
    if (*dir) {
        nftw(*dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(*dir);
        *dir = NULL;
    }
}

/* The folder a test's fixture holds in *DIR, for tu_dir_open's exit hook. */
static inline char **tu_dir_slot(char **set)
{
    static char **slot;
    if (set)
        slot = set;
    return slot;
}

static inline void tu_dir_at_exit(void)
{
    char **d = tu_dir_slot(NULL);
    if (d)
        tu_rmtree(d);
}

/* A fixture's setup: a fresh temporary folder into *DIR, removed by the
 * teardown's tu_rmtree(DIR) or, when a failed assertion ends the forked test
 * before its teardown, at the child's exit. */
static inline void tu_dir_open(char **dir)
{
    *dir = tu_tmpdir();
    tu_dir_slot(dir);
    atexit(tu_dir_at_exit);
}

/* One case of a suite: its name, its checked fixture (either function may be
 * NULL) and its time limit in seconds (0: Check's default). */
typedef struct tu_case {
    const char *name;
    SFun setup;
    SFun teardown;
    double timeout;
} tu_case;

/* One row of a suite's table of tests: the case it runs in, the test, and
 * for a loop test the range [loop_start, loop_end) of _i (loop_end 0: a
 * plain test). The rows of one case stand together, in the order they run. */
typedef struct tu_test {
    const tu_case *in;
    const TTest *const *test;
    int loop_start;
    int loop_end;
} tu_test;

/* The suite NAME of the N tests in table T, each case made once, in order. */
static inline Suite *tu_suite(const char *name, const tu_test *t, size_t n)
{
    Suite *s = suite_create(name);
    TCase *tc = NULL;
    for (size_t i = 0; i < n; i++) {
        const tu_case *c = t[i].in;
        if (i == 0 || c != t[i - 1].in) {
            tc = tcase_create(c->name);
            if (c->setup || c->teardown)
                tcase_add_checked_fixture(tc, c->setup, c->teardown);
            if (c->timeout > 0)
                tcase_set_timeout(tc, c->timeout);
            suite_add_tcase(s, tc);
        }
        if (t[i].loop_end)
            tcase_add_loop_test(tc, *t[i].test, t[i].loop_start,
                                t[i].loop_end);
        else
            tcase_add_test(tc, *t[i].test);
    }
    return s;
}

/* A row of the table: test T in case C (a tu_case), or run over _i from
 * START to END - 1. */
#define TU_TEST(c, t) { &(c), &(t), 0, 0 }
#define TU_LOOP(c, t, start, end) { &(c), &(t), (start), (end) }

#define TU_SUITE(name, table) \
    tu_suite((name), (table), sizeof(table) / sizeof((table)[0]))

/* Runs suite S; main()'s exit status (EXIT_FAILURE if a test failed). */
static inline int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* tu_run(S) once a library's set-up has returned INIT_RC: main()'s exit
 * status, 1 (S not run) when the set-up failed (INIT_RC not 0). */
static inline int tu_run_after(int init_rc, Suite *s)
{
    return init_rc != 0 ? 1 : tu_run(s);
}

static inline char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Read a whole file; caller frees. */
static inline unsigned char *tu_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static inline void tu_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static inline void tu_copy(const char *from, const char *to)
{
    size_t n;
    unsigned char *p = tu_read(from, &n);
    tu_write(to, p, n);
    free(p);
}

static inline void tu_flip(const char *path, long off, unsigned char mask)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    unsigned char b;
    ck_assert_int_eq(pread(fd, &b, 1, off), 1);
    b ^= mask;
    ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static inline int tu_contains(const char *path, const char *needle)
{
    size_t n;
    unsigned char *p = tu_read(path, &n);
    int found = memmem(p, n, needle, strlen(needle)) != NULL;
    free(p);
    return found;
}

#endif
