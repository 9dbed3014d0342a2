/*
 * check_faults.c - injected I/O faults beneath the encryption shim
 *
 * faultvfs (tests/faultvfs.h) sits under the wings shim and fails the Nth
 * write, read or sync of one node's files: a short write, EIO on a read or
 * a write, a full disk, a failed fsync. For each kind, N runs from 1 until
 * the operation completes without meeting its fault, during a local
 * transaction (the wg_store API), an import driven through the command line
 * in process (wg_cli_dispatch), and a sync session between two engines in
 * this process (faults on the receiver's files only). Every failure must
 * come back as a clear error (a full disk as WG_ERR_NOSPACE, "storage
 * full"); afterwards the node must open, every page authenticate, every
 * feed verify, everything committed before be there, and nothing be there
 * in part.
 */
#include <check.h>

#include "faultutil.h"
#include "wg_node.h"

static char *dir;
static long n_lost, n_partial;

static const fv_kind kinds[] = { FV_SHORT_WRITE, FV_EIO_READ, FV_EIO_WRITE,
                                 FV_ENOSPC, FV_FSYNC };
#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))
#define MAX_N 400 /* a transaction here has far fewer calls than this */

static void setup(void)
{
    ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);
    fv_reset_totals();
    n_lost = n_partial = 0;
    tu_dir_open(&dir);
}

static void teardown(void)
{
    fv_disarm();
    fv_set_filter(NULL);
    tu_rmtree(&dir);
}

static int is_full(fv_kind k)
{
    return k == FV_SHORT_WRITE || k == FV_ENOSPC;
}

/* The error a fault of KIND must come back as. */
static void check_error(fv_kind kind, wg_rc rc, const char *msg,
                        const char *where, long n)
{
    ck_assert_msg(rc != WG_OK, "%s: %s at call %ld went unreported", where,
                  fv_kind_name(kind), n);
    ck_assert_msg(msg && *msg, "%s: %s at call %ld: no message", where,
                  fv_kind_name(kind), n);
    /* what a statement run outside the transaction would say */
    ck_assert_msg(!strstr(msg, "no transaction is active"),
                  "%s: %s at call %ld: the transaction was lost: %s", where,
                  fv_kind_name(kind), n, msg);
    if (is_full(kind))
        ck_assert_msg(rc == WG_ERR_NOSPACE && strstr(msg, "storage full"),
                      "%s: %s at call %ld: want 'storage full', got %d: %s",
                      where, fv_kind_name(kind), n, rc, msg);
    else
        ck_assert_msg(rc == WG_ERR_IO && !strstr(msg, "altered"),
                      "%s: %s at call %ld: want an I/O error, got %d: %s",
                      where, fv_kind_name(kind), n, rc, msg);
}

/* Count and fail on a step that is there in part (P < 0) or a committed
 * one that is gone. */
static void check_step(int p, int committed, const char *what, long n)
{
    if (p < 0)
        n_partial++;
    if (committed && p == 0)
        n_lost++;
    ck_assert_msg(p >= 0, "%s (fault at call %ld) is there in part", what, n);
    ck_assert_msg(!(committed && p == 0), "%s (fault at call %ld) committed "
                  "but is gone", what, n);
}

/* A node with persons 0 .. N-1, closed, as a snapshot. */
static void base_node(fu_snap *snap, const char *name, int n)
{
    char *prep = tu_path(dir, "prep");
    mkdir(prep, 0700);
    char *d = fu_node(prep, name);
    wg_store *st = nu_open(d);
    wg_err err = { 0 };
    ck_assert_msg(fu_add_persons(st, 0, n, &err) == WG_OK, "%s", err.msg);
    wg_store_close(&st);
    fu_snap_take(snap, d);
    free(d);
    free(prep);
}

/* ---- (a) a local transaction ---------------------------------------------- */

/* Add persons 100..102, rename person 1, delete person 2: one
 * transaction; BULK: announced as a bulk load of many rows, so the list and
 * live-value indexes are dropped in it and made again at its commit
 * (store/bulk.c). */
static wg_rc local_txn(wg_store *st, int bulk, wg_err *err)
{
    wg_rc rc = wg_store_begin(st, err);
    if (rc == WG_OK && bulk)
        rc = wg_store_bulk(st, wg_schema_table("person"), 100000, err);
    for (int k = 100; rc == WG_OK && k < 103; k++)
        rc = fu_add_person(st, k, err);
    char id[WG_ID_HEX_CHARS + 1];
    if (rc == WG_OK) {
        fu_pid(id, 1);
        const char *f[] = { "name" }, *v[] = { "renamed" };
        rc = wg_store_update(st, wg_schema_table("person"), id, f, v, 1, err);
    }
    if (rc == WG_OK) {
        fu_pid(id, 2);
        rc = wg_store_delete(st, wg_schema_table("person"), id, err);
    }
    if (rc) {
        wg_store_rollback(st);
        return rc;
    }
    return wg_store_commit(st, err);
}

/* 1 all of local_txn() is there, 0 none, -1 part. */
static int local_present(wg_store *st)
{
    int added = fu_all_or_none(st, 100, 3, NULL, 0);
    int renamed = fu_all_or_none(st, 1, 1, "renamed", 0);
    int deleted = fu_all_or_none(st, 2, 1, NULL, 1);
    if (added == 1 && renamed == 1 && deleted == 1)
        return 1;
    if (added == 0 && renamed == 0 && deleted == 0 &&
        fu_all_or_none(st, 1, 2, NULL, 0) == 1)
        return 0;
    return -1;
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_faults = {"faults", setup, teardown, 600};

/* The store's indexes agree with its tables (every entry, every count),
 * and the list and live-value indexes are there. */
static void indexes_whole(wg_store *st, const char *what, long n)
{
    char at[128];
    snprintf(at, sizeof at, "%s (fault at call %ld)", what, n);
    nu_integrity_ok(st, at);
    ck_assert_msg(nu_has_index(st, "person_list_name") &&
                      nu_has_index(st, "person_live_id_number"),
                  "%s: an index is missing", at);
}

static void local_at_every_call(int bulk)
{
    const char *what = bulk ? "bulk write" : "local write";
    fu_snap base;
    base_node(&base, "n", 40);
    char *wd = tu_path(dir, "work");
    long runs = 0;
    for (int ki = 0; ki < NKINDS; ki++) {
        fv_kind kind = kinds[ki];
        long n;
        for (n = 1; n <= MAX_N; n++) {
            fu_snap_put(&base, wd);
            fv_set_filter(wd);
            wg_store *st = nu_open(wd);
            fv_arm_fault(kind, n, 0);
            wg_err err = { 0 };
            wg_rc rc = local_txn(st, bulk, &err);
            long hits = fv_hits();
            fv_disarm();
            runs++;
            int committed = rc == WG_OK, later_ok = 0;
            if (hits) {
                check_error(kind, rc, err.msg, what, n);
                if (n == 1 || kind == FV_EIO_READ)
                    fprintf(stderr, "faults %s %s at %ld: %s\n", what,
                            fv_kind_name(kind), n, err.msg);
            }
            else
                ck_assert_msg(rc == WG_OK, "%s failed without a fault: %s",
                              what, err.msg);
            if (hits) {
                /* The same handle afterwards: a clear error or a commit. */
                wg_err e2 = { 0 };
                wg_rc r2 = fu_add_persons(st, 500, 1, &e2);
                later_ok = r2 == WG_OK;
                ck_assert_msg(r2 == WG_OK || (r2 == WG_ERR_IO && *e2.msg),
                              "after %s at %ld: %d %s", fv_kind_name(kind), n,
                              r2, e2.msg);
            }
            wg_store_close(&st);
            st = nu_open(wd);
            ck_assert_int_eq(fu_all_or_none(st, 0, 1, NULL, 0), 1);
            ck_assert_int_eq(fu_all_or_none(st, 3, 37, NULL, 0), 1);
            check_step(local_present(st), committed, what, n);
            indexes_whole(st, what, n);
            check_step(fu_all_or_none(st, 500, 1, NULL, 0), later_ok,
                       "the next write", n);
            fu_verify_feeds(st, what);
            wg_store_close(&st);
            fu_verify_pages(wd, what);
            if (!hits)
                break;
        }
        ck_assert_msg(n <= MAX_N, "%s: the write never completed",
                      fv_kind_name(kind));
        fprintf(stderr, "faults %s %s: %ld calls\n", what,
                fv_kind_name(kind), n - 1);
    }
    fv_set_filter(NULL);
    fu_snap_release(&base);
    free(wd);
    fu_figures(0, n_lost, n_partial);
}

START_TEST(test_faults_local_write_fails_cleanly_at_every_call)
{
    local_at_every_call(0);
}
END_TEST

/* The same as a bulk load: indexes dropped and made again at the commit. */
START_TEST(test_faults_bulk_write_fails_cleanly_at_every_call)
{
    local_at_every_call(1);
}
END_TEST

/* ---- (b) an import through the command line ------------------------------- */

#define IMPORT_ROWS 30

static int count_persons(wg_store *st)
{
    long n = -1;
    ck_assert_int_eq(wg_store_count(st, wg_schema_table("person"), &n, NULL),
                     WG_OK);
    return (int)n;
}

START_TEST(test_faults_import_fails_cleanly_at_every_call)
{
    fu_snap base;
    base_node(&base, "n", 10);
    char *wd = tu_path(dir, "work");
    char *csv = tu_path(dir, "persons.csv");
    FILE *f = fopen(csv, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "name,id_number,disability_category\n");
    for (int k = 600; k < 600 + IMPORT_ROWS; k++) {
        char num[19];
        nu_person_idnum(num, k);
        fprintf(f, "imported-%d,%s,visual\n", k, num);
    }
    fclose(f);
    long after_commit = 0;
    for (int ki = 0; ki < NKINDS; ki++) {
        fv_kind kind = kinds[ki];
        long n;
        for (n = 1; n <= MAX_N; n++) {
            fu_snap_put(&base, wd);
            fv_set_filter(wd);
            setenv("WINGS_PASSPHRASE", FU_PASS, 1);
            wg_cli cli = { 0 };
            cli.prog = "wings";
            cli.dir = wd;
            cli.dir_given = 1;
            cli.out = tmpfile();
            cli.errf = tmpfile();
            char *argv[] = { "import", "person", csv, NULL };
            fv_arm_fault(kind, n, 0);
            int code = wg_cli_dispatch(&cli, 3, argv);
            long hits = fv_hits();
            fv_disarm();
            char msg[512] = { 0 };
            rewind(cli.errf);
            size_t got = fread(msg, 1, sizeof msg - 1, cli.errf);
            msg[got] = 0;
            fclose(cli.out);
            fclose(cli.errf);
            if (!hits) {
                ck_assert_msg(code == 0, "import failed without a fault "
                              "(%d): %s", code, msg);
            } else if (code == 0) {
                /* The fault came after the commit (the checkpoint of
                 * close, whose failure leaves the WAL to the next open):
                 * the import must be all there, as checked below. */
                after_commit++;
            } else {
                ck_assert_msg(code != 0 && strstr(msg, "wings: "),
                              "import: %s at call %ld: exit %d, '%s'",
                              fv_kind_name(kind), n, code, msg);
                if (n <= 2)
                    fprintf(stderr, "faults import %s at %ld: exit %d: %s",
                            fv_kind_name(kind), n, code, msg);
                if (is_full(kind))
                    ck_assert_msg(strstr(msg, "storage full") && code == 1,
                                  "import: %s at call %ld: exit %d, '%s'",
                                  fv_kind_name(kind), n, code, msg);
                else
                    ck_assert_msg(!strstr(msg, "altered") &&
                                      !strstr(msg, "wrong passphrase"),
                                  "import: %s at call %ld: misleading '%s'",
                                  fv_kind_name(kind), n, msg);
            }
            wg_store *st = NULL;
            wg_err oerr = { 0 };
            ck_assert_msg(wg_store_open(wd, FU_PASS, strlen(FU_PASS), &st,
                                        &oerr) == WG_OK,
                          "import: %s at call %ld (exit %d, '%s'): the node "
                          "does not open: %s", fv_kind_name(kind), n, code,
                          msg, oerr.msg);
            int have = count_persons(st);
            ck_assert_int_eq(fu_all_or_none(st, 0, 10, NULL, 0), 1);
            int p = have == 10 ? 0 : have == 10 + IMPORT_ROWS ? 1 : -1;
            check_step(p, code == 0, "the import", n);
            fu_verify_feeds(st, "import");
            wg_store_close(&st);
            fu_verify_pages(wd, "import");
            if (!hits)
                break;
        }
        ck_assert_msg(n <= MAX_N, "%s: the import never completed",
                      fv_kind_name(kind));
        fprintf(stderr, "faults import %s: %ld calls\n", fv_kind_name(kind),
                n - 1);
    }
    fprintf(stderr, "faults import: %ld faults met after the commit\n",
            after_commit);
    unsetenv("WINGS_PASSPHRASE");
    fv_set_filter(NULL);
    fu_snap_release(&base);
    free(csv);
    free(wd);
    fu_figures(0, n_lost, n_partial);
}
END_TEST

/* ---- (c) a sync session, faults on the receiver ----------------------------- */

#define SENDER_PERSONS 600 /* two batches: 512 changes, then 88 */

/* Sender A pushes to receiver B (served); returns how the client saw it. */
static wg_sync_result session(wg_store *a, wg_store *b)
{
    char ep[64];
    wg_engine *srv = nu_serve(b, ep, 0);
    wg_err err = { 0 };
    wg_store_peer_remove(a, "b", NULL);
    ck_assert_msg(wg_store_peer_add(a, "b", wg_store_info(b)->key_hex, ep,
                                    &err) == WG_OK, "%s", err.msg);
    wg_engine *cli = NULL;
    ck_assert_int_eq(wg_engine_new(a, &cli, NULL), WG_OK);
    nu_done box = { 0 };
    wg_engine_on_done(cli, nu_on_done, &box);
    ck_assert_msg(wg_engine_connect(cli, "b", 5000, &err) == WG_OK, "%s",
                  err.msg);
    double end = nu_seconds() + 30;
    while (box.n == 0 && nu_seconds() < end) {
        wg_engine_step(srv, 5, NULL);
        wg_engine_step(cli, 5, NULL);
    }
    ck_assert_msg(box.n == 1, "the session did not end");
    /* let the server finish its side (its audit entry) */
    for (int i = 0; i < 10; i++)
        wg_engine_step(srv, 2, NULL);
    wg_engine_destroy(&cli);
    wg_engine_destroy(&srv);
    return box.r;
}

/* Persons of the sender (600 ..) that B holds. */
static int sender_persons(wg_store *b)
{
    return count_persons(b) - 5;
}

START_TEST(test_faults_sync_batch_fails_cleanly_at_every_call)
{
    /* receiver: 5 persons of its own, trusts the sender */
    fu_snap rb, sa;
    char *prep = tu_path(dir, "prep");
    mkdir(prep, 0700);
    char *bd0 = fu_node(prep, "b"), *ad0 = fu_node(prep, "a");
    wg_store *b = nu_open(bd0), *a = nu_open(ad0);
    wg_err err = { 0 };
    ck_assert_msg(fu_add_persons(b, 0, 5, &err) == WG_OK, "%s", err.msg);
    ck_assert_msg(fu_add_persons(a, 1000, SENDER_PERSONS, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_msg(wg_store_peer_add(b, "a", wg_store_info(a)->key_hex,
                                    "tcp://127.0.0.1:1", &err) == WG_OK, "%s",
                  err.msg);
    wg_store_close(&a);
    wg_store_close(&b);
    fu_snap_take(&rb, bd0);
    fu_snap_take(&sa, ad0);
    char *bd = tu_path(dir, "b"), *ad = tu_path(dir, "a");
    for (int ki = 0; ki < NKINDS; ki++) {
        fv_kind kind = kinds[ki];
        long n;
        for (n = 1; n <= MAX_N; n++) {
            fu_snap_put(&rb, bd);
            fu_snap_put(&sa, ad);
            fv_set_filter(bd);
            a = nu_open(ad);
            b = nu_open(bd);
            fv_arm_fault(kind, n, 0);
            wg_sync_result r = session(a, b);
            long hits = fv_hits();
            fv_disarm();
            if (!hits)
                ck_assert_msg(r.ok, "sync failed without a fault: %s",
                              r.error);
            if (hits && strstr(r.error, "peer list"))
                fprintf(stderr, "note: a read error on the receiver's peer "
                        "list is reported to the client as '%s' (sync/ "
                        "treats any store error there as untrusted)\n",
                        r.error);
            wg_store_close(&b);
            b = nu_open(bd);
            int have = sender_persons(b);
            fprintf(stderr, "faults sync %s at %ld: %s, %ld sent and "
                    "acknowledged, %d held%s%s\n", fv_kind_name(kind), n,
                    r.ok ? "ok" : "failed", r.sent, have, r.ok ? "" : ": ",
                    r.ok ? "" : r.error);
            /* every acknowledged batch is there; batches whole */
            ck_assert_msg(have == 0 || have == 512 || have == SENDER_PERSONS,
                          "sync: %s at %ld: %d of the sender's persons",
                          fv_kind_name(kind), n, have);
            if (have < r.sent)
                n_lost++;
            ck_assert_msg(have >= r.sent, "sync: %s at %ld: %ld sent and "
                          "acknowledged, %d held", fv_kind_name(kind), n,
                          r.sent, have);
            ck_assert_int_eq(fu_all_or_none(b, 0, 5, NULL, 0), 1);
            fu_verify_feeds(b, "sync");
            if (hits && ki == 0) {
                /* and the next session, without faults, completes it */
                wg_sync_result r2 = session(a, b);
                ck_assert_msg(r2.ok, "resync: %s", r2.error);
                ck_assert_int_eq(sender_persons(b), SENDER_PERSONS);
            }
            wg_store_close(&b);
            wg_store_close(&a);
            fu_verify_pages(bd, "sync");
            if (!hits)
                break;
        }
        ck_assert_msg(n <= MAX_N, "%s: the sync never completed",
                      fv_kind_name(kind));
        fprintf(stderr, "faults sync %s: %ld calls\n", fv_kind_name(kind),
                n - 1);
    }
    fv_set_filter(NULL);
    fu_snap_release(&rb);
    fu_snap_release(&sa);
    free(bd);
    free(ad);
    free(bd0);
    free(ad0);
    free(prep);
    fu_figures(0, n_lost, n_partial);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_faults, test_faults_local_write_fails_cleanly_at_every_call),
    TU_TEST(case_faults, test_faults_bulk_write_fails_cleanly_at_every_call),
    TU_TEST(case_faults, test_faults_import_fails_cleanly_at_every_call),
    TU_TEST(case_faults, test_faults_sync_batch_fails_cleanly_at_every_call),
};

int main(void)
{
    return fu_main(TU_SUITE("faults", tests), "check_faults");
}
