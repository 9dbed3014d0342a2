/*
 * faultutil.h - helpers shared by check_faults.c and check_powercut.c:
 * throw-away nodes at the cheapest KDF, folder snapshots, record checks and
 * the figure lines both suites print. Nodes and person rows are
 * nodeutil.h's; this header fixes their county, KDF and record ids.
 */
#ifndef WG_FAULTUTIL_H
#define WG_FAULTUTIL_H

#include <dirent.h>
#include <time.h>

#include "faultvfs.h"
#include "store_int.h"
#include "testutil.h"
#include "nodeutil.h"

#define FU_PASS NU_PASS
#define FU_COUNTY NU_COUNTY

/* A node NAME in DIR/NAME, KDF at libsodium's minimum cost. Caller frees
 * the path. */
static inline char *fu_node(const char *dir, const char *name)
{
    return nu_create(dir, name, FU_COUNTY, WG_ROLE_OFFICE, WG_KDF_TEST);
}

/* The record id used for person number N (32 hex digits). */
static inline void fu_pid(char out[WG_ID_HEX_CHARS + 1], int n)
{
    snprintf(out, WG_ID_HEX_CHARS + 1, "%032x", 0xa11ce000u + (unsigned)n);
}

/* Add person N (id fu_pid(N)) inside the caller's transaction. */
static inline wg_rc fu_add_person(wg_store *st, int n, wg_err *err)
{
    char id[WG_ID_HEX_CHARS + 1];
    fu_pid(id, n);
    return nu_add_person(st, n, id, NULL, NULL, err);
}

/* Persons FIRST .. FIRST+N-1 in one transaction. */
static inline wg_rc fu_add_persons(wg_store *st, int first, int n,
                                   wg_err *err)
{
    wg_rc rc = wg_store_begin(st, err);
    for (int i = first; rc == WG_OK && i < first + n; i++)
        rc = fu_add_person(st, i, err);
    if (rc) {
        if (rc != WG_OK)
            wg_store_rollback(st);
        return rc;
    }
    return wg_store_commit(st, err);
}

/* 1 when person N is live with NAME (NULL: "person-N"), 0 when absent or
 * otherwise, -1 on a read error (ERR says). */
static inline int fu_person_is(wg_store *st, int n, const char *name,
                               int want_deleted, wg_err *err)
{
    char id[WG_ID_HEX_CHARS + 1], def[32];
    fu_pid(id, n);
    snprintf(def, sizeof def, "person-%d", n);
    wg_record r;
    memset(&r, 0, sizeof r);
    wg_rc rc = wg_store_get(st, wg_schema_table("person"), id, &r, err);
    if (rc == WG_ERR_NOTFOUND)
        return 0;
    if (rc)
        return -1;
    int ok = r.deleted == want_deleted && r.values[0] &&
             !strcmp(r.values[0], name ? name : def);
    wg_record_release(&r);
    return ok;
}

/* Whether persons FIRST .. FIRST+N-1 are all live under NAME (NULL: their
 * own names; DELETED: all deleted): 1 all, 0 none, -1 some. */
static inline int fu_all_or_none(wg_store *st, int first, int n,
                                 const char *name, int deleted)
{
    int have = 0;
    for (int k = first; k < first + n; k++) {
        wg_err err = { 0 };
        int r = fu_person_is(st, k, name, deleted, &err);
        ck_assert_msg(r >= 0, "reading person %d: %s", k, err.msg);
        have += r;
    }
    return have == n ? 1 : have == 0 ? 0 : -1;
}

/* ---- verification ----------------------------------------------------- */

typedef struct fu_problems {
    int n;
    char first[200];
} fu_problems;

static inline void fu_problem(void *ctx, const char *what)
{
    fu_problems *p = ctx;
    if (p->n++ == 0)
        snprintf(p->first, sizeof p->first, "%s", what);
}

/* Every feed's chain and signatures; fails the test with the first
 * problem. */
static inline void fu_verify_feeds(wg_store *st, const char *where)
{
    fu_problems p = { 0 };
    long checked = 0, bad = 0;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_verify_feeds(st, fu_problem, &p, &checked, &bad,
                                        &err) == WG_OK, "%s: %s", where,
                  err.msg);
    ck_assert_msg(bad == 0, "%s: %ld feed problems, first: %s", where, bad,
                  p.first);
}

/* Every page and WAL frame of the closed store in D authenticates. */
static inline void fu_verify_pages(const char *d, const char *where)
{
    fu_problems p = { 0 };
    long checked = 0, bad = 0;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_verify_pages(d, FU_PASS, strlen(FU_PASS),
                                        fu_problem, &p, &checked, &bad,
                                        &err) == WG_OK, "%s: %s", where,
                  err.msg);
    ck_assert_msg(bad == 0, "%s: %ld of %ld pages fail, first: %s", where,
                  bad, checked, p.first);
}

/* ---- folder snapshots ------------------------------------------------- */

#define FU_MAXFILES 8

typedef struct fu_snap {
    int n;
    char *name[FU_MAXFILES];
    unsigned char *data[FU_MAXFILES];
    size_t len[FU_MAXFILES];
} fu_snap;

/* Every regular file of D into memory. */
static inline void fu_snap_take(fu_snap *s, const char *d)
{
    memset(s, 0, sizeof *s);
    DIR *dp = opendir(d);
    ck_assert_ptr_nonnull(dp);
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.')
            continue;
        ck_assert_int_lt(s->n, FU_MAXFILES);
        char *p = tu_path(d, de->d_name);
        s->name[s->n] = strdup(de->d_name);
        s->data[s->n] = tu_read(p, &s->len[s->n]);
        s->n++;
        free(p);
    }
    closedir(dp);
}

/* Make D hold exactly the snapshot (D is emptied first). */
static inline void fu_snap_put(const fu_snap *s, const char *d)
{
    DIR *dp = opendir(d);
    if (dp) {
        struct dirent *de;
        while ((de = readdir(dp))) {
            if (de->d_name[0] == '.')
                continue;
            char *p = tu_path(d, de->d_name);
            unlink(p);
            free(p);
        }
        closedir(dp);
    } else {
        ck_assert_int_eq(mkdir(d, 0700), 0);
    }
    for (int i = 0; i < s->n; i++) {
        char *p = tu_path(d, s->name[i]);
        tu_write(p, s->data[i], s->len[i]);
        free(p);
    }
}

static inline void fu_snap_release(fu_snap *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->name[i]);
        free(s->data[i]);
    }
    memset(s, 0, sizeof *s);
}

/* ---- figures ---------------------------------------------------------- */

/* The figure lines a later script sums across suites and tests (each test
 * runs in its own child, so each prints its own). */
static inline void fu_figures(long cuts, long lost, long partial)
{
    printf("figure power_cuts=%ld\n", cuts);
    printf("figure lost=%ld\n", lost);
    printf("figure partial=%ld\n", partial);
    printf("figure faults_short_write=%ld\n", fv_total(FV_SHORT_WRITE));
    printf("figure faults_eio_read=%ld\n", fv_total(FV_EIO_READ));
    printf("figure faults_eio_write=%ld\n", fv_total(FV_EIO_WRITE));
    printf("figure faults_enospc=%ld\n", fv_total(FV_ENOSPC));
    printf("figure faults_fsync=%ld\n", fv_total(FV_FSYNC));
    fflush(stdout);
}

/* ---- main ------------------------------------------------------------- */

/* A fault suite's main(): faultvfs registered beneath the wings shim before
 * any store is opened, suite S run, its time printed as "NAME: N s". */
static inline int fu_main(Suite *s, const char *name)
{
    if (fv_register() != 0) {
        fprintf(stderr, "cannot register faultvfs\n");
        return 1;
    }
    double t0 = nu_seconds();
    int rc = tu_run(s);
    fprintf(stderr, "%s: %.1f s\n", name, nu_seconds() - t0);
    return rc;
}

#endif
