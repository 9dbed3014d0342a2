/*
 * testutil.h - small helpers shared by the Check suites: the temporary
 * folder of a test, files read, written and altered, and the runner every
 * suite's main() calls. Nodes, engines and person rows: nodeutil.h.
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

/* Runs suite S; main()'s exit status (EXIT_FAILURE if a test failed). */
static inline int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
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
