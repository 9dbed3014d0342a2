/*
 * check_report.c - the report's figures and the aggregates merge keeps
 *
 * The property that lets the default report skip scanning persons: after
 * any sequence of local writes, and after changes merged in any order
 * (placements before their persons, duplicates, concurrent edits of one
 * record on several nodes), the kept aggregates equal a full recount, and
 * the default report equals the same report recounted from the records.
 * Then: every table's total equals the county table's, and a two-way table
 * adds up both ways.
 */
#include <check.h>

#include "store_int.h"
#include "testutil.h"
#include "nodeutil.h"

#define ORIGINS 3
#define PERSONS 14
#define OPS 160
#define ORDERS 3

NU_DIR_FIXTURE(dir)

static wg_store *node(const char *name)
{
    return nu_node(dir, name, "450200", WG_ROLE_HQ, WG_KDF_INTERACTIVE);
}

static uint64_t rnd_state = 0x6167677265676174ULL;
static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void idnum(char out[19], const char *county, const char *ymd,
                  int serial)
{
    static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8,
                               4, 2 };
    snprintf(out, 19, "%s%s%03d", county, ymd, serial % 1000);
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (out[i] - '0') * w[i];
    out[17] = "10X98765432"[sum % 11];
    out[18] = 0;
}

/* One write in its own transaction; a write the store refuses (a person
 * deleted meanwhile, say) is rolled back and reported as 0. */
static int write1(wg_store *st, int kind, const wg_table *t, const char *id,
                  const char *const *n, const char *const *v, int nv)
{
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_begin(st, NULL), WG_OK);
    wg_rc rc = kind == 0 ? wg_store_add(st, t, n, v, nv, NULL, &err)
               : kind == 1 ? wg_store_update(st, t, id, n, v, nv, &err)
                           : wg_store_delete(st, t, id, &err);
    if (rc) {
        wg_store_rollback(st);
        return 0;
    }
    ck_assert_int_eq(wg_store_commit(st, NULL), WG_OK);
    return 1;
}

static int show_row(void *ctx, int n, char **v, char **names)
{
    fprintf(stderr, "  %s:", (const char *)ctx);
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %s=%s", names[i], v[i] ? v[i] : "NULL");
    fputc('\n', stderr);
    return 0;
}

static void verify(wg_store *st, const char *when)
{
    long bad = -1;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_report_verify(st, &bad, &err) == WG_OK, "%s",
                  err.msg);
    if (bad) {   /* show the kept rows next to a recount's */
        char *sql = wg_store__report_recount_sql("temp.w_");
        sqlite3_exec(st->db, "CREATE TEMP TABLE w_year AS SELECT * FROM "
                     "rpt_year WHERE 0; CREATE TEMP TABLE w_month AS SELECT "
                     "* FROM rpt_month WHERE 0; CREATE TEMP TABLE w_day AS "
                     "SELECT * FROM rpt_day WHERE 0; CREATE TEMP TABLE "
                     "w_income AS SELECT * FROM rpt_income WHERE 0; CREATE "
                     "TEMP TABLE w_income100 AS SELECT * FROM rpt_income100 "
                     "WHERE 0;", NULL, NULL, NULL);
        sqlite3_exec(st->db, sql, NULL, NULL, NULL);
        free(sql);
        sqlite3_exec(st->db, "SELECT * FROM rpt_year EXCEPT SELECT * FROM "
                     "temp.w_year", show_row, "kept", NULL);
        sqlite3_exec(st->db, "SELECT * FROM temp.w_year EXCEPT SELECT * "
                     "FROM rpt_year", show_row, "recount", NULL);
    }
    ck_assert_msg(bad == 0, "%s: %ld aggregate rows differ from a recount",
                  when, bad);
}

static void same_report(const wg_report *a, const wg_report *b)
{
    ck_assert_uint_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const wg_report_row *x = &a->rows[i], *y = &b->rows[i];
        ck_assert_str_eq(x->key[0], y->key[0]);
        ck_assert_int_eq(x->persons, y->persons);
        ck_assert_int_eq(x->working_age, y->working_age);
        ck_assert_int_eq(x->working_age_employed, y->working_age_employed);
        ck_assert_int_eq(x->employed, y->employed);
        ck_assert_int_eq(x->trained, y->trained);
        ck_assert_int_eq(x->certified, y->certified);
        ck_assert_int_eq(x->placements, y->placements);
        ck_assert_int_eq(x->has_median, y->has_median);
        ck_assert(x->median == y->median);
        ck_assert(x->rate == y->rate);
    }
}

/* The default report from the aggregates equals its recount, on DATE and
 * with other ages too (the boundary months move). */
static void aggregates_answer_as_a_recount(wg_store *st)
{
    static const char *const dates[] = { "2026-06-30", "2025-01-01",
                                         "2024-02-29", "2031-12-31" };
    for (int d = 0; d < 4; d++) {
        for (int a = 0; a < 2; a++) {
            wg_report_query q;
            wg_report_query_init(&q);
            snprintf(q.today, sizeof q.today, "%s", dates[d]);
            if (a) {
                q.age_min = 18;
                q.age_max = 44;
            }
            wg_report agg, scan;
            ck_assert_int_eq(wg_store_report(st, &q, &agg, NULL), WG_OK);
            ck_assert(agg.from_aggregates);
            q.recount = 1;
            ck_assert_int_eq(wg_store_report(st, &q, &scan, NULL), WG_OK);
            ck_assert(!scan.from_aggregates);
            same_report(&agg, &scan);
            wg_report_release(&agg);
            wg_report_release(&scan);
        }
    }
}

static const char *const counties[2] = { "450224", "450225" };

/* Random writes on ORIGINS nodes, all of which first create the same
 * persons (concurrent creation): births that move across the working-age
 * boundaries, deletions and restores, placements and trainings that change
 * person, status, outcome and income, or are deleted. */
static void random_history(wg_store **o, char pid[PERSONS][33])
{
    static const char *const births[] = {
        "1966-06-30", "1966-07-01", "1966-07-15", "2010-06-30",
        "2010-07-01", "2010-06-15", "1990-02-28", "1950-01-01",
        "2020-12-31", "" };
    const wg_table *tp = wg_schema_table("person");
    const wg_table *tl = wg_schema_table("placement");
    const wg_table *tt = wg_schema_table("training");
    for (int p = 0; p < PERSONS; p++) {
        snprintf(pid[p], 33, "%032x", 0x1000 + p);
        const char *b = births[p % 10];
        char num[19], ymd[9];
        if (b[0])
            snprintf(ymd, sizeof ymd, "%.4s%.2s%.2s", b, b + 5, b + 8);
        else
            snprintf(ymd, sizeof ymd, "19700101");
        idnum(num, counties[p % 2], ymd, p);
        for (int i = 0; i < ORIGINS; i++) {
            const char *n[] = { "id", "name", "id_number",
                                "disability_category", "county", "gender",
                                "birth_date" };
            const char *v[] = { pid[p], "P", num, "physical", counties[p % 2],
                                p % 2 ? "male" : "female", b };
            ck_assert(write1(o[i], 0, tp, NULL, n, v, b[0] ? 7 : 6));
        }
    }
    /* Records each origin made, to update later. */
    char made[ORIGINS][OPS][33];
    int kind_of[ORIGINS][OPS], nmade[ORIGINS] = { 0 };
    for (int w = 0; w < OPS; w++) {
        int i = (int)(rnd() % ORIGINS);
        int p = (int)(rnd() % PERSONS);
        int r = (int)(rnd() % 10);
        char inc[16];
        snprintf(inc, sizeof inc, "%d", 1000 + (int)(rnd() % 8) * 350);
        if (r < 3) {   /* a new placement */
            char id[33];
            snprintf(id, sizeof id, "%032llx",
                     (unsigned long long)(0x200000 + w * 16 + i));
            int active = rnd() % 3 != 0;
            const char *n[] = { "id", "person_id", "employer",
                                "employment_type", "start_date", "status",
                                "county", "monthly_income" };
            const char *v[] = { id, pid[p], "E", rnd() % 2 ? "online"
                                : "enterprise", "2024-01-01",
                                active ? "active" : "ended", counties[p % 2],
                                inc };
            if (write1(o[i], 0, tl, NULL, n, v, rnd() % 4 ? 8 : 7)) {
                snprintf(made[i][nmade[i]], 33, "%s", id);
                kind_of[i][nmade[i]++] = 1;
            }
        } else if (r < 5) {   /* a new training */
            char id[33];
            snprintf(id, sizeof id, "%032llx",
                     (unsigned long long)(0x300000 + w * 16 + i));
            static const char *const outs[] = { "enrolled", "completed",
                                                "certified", "dropped" };
            const char *n[] = { "id", "person_id", "course", "start_date",
                                "outcome", "county" };
            const char *v[] = { id, pid[p], "C", "2024-01-01",
                                outs[rnd() % 4], counties[p % 2] };
            if (write1(o[i], 0, tt, NULL, n, v, 6)) {
                snprintf(made[i][nmade[i]], 33, "%s", id);
                kind_of[i][nmade[i]++] = 2;
            }
        } else if (r < 7 && nmade[i]) {   /* change or delete one made */
            int k = (int)(rnd() % (unsigned)nmade[i]);
            const wg_table *t = kind_of[i][k] == 1 ? tl : tt;
            int q = (int)(rnd() % 5);
            if (q == 0) {
                write1(o[i], 2, t, made[i][k], NULL, NULL, 0);
            } else if (q == 1) {   /* to another person of that county */
                int p2 = (int)(rnd() % PERSONS);
                if (p2 % 2 != p % 2)
                    p2 = (p2 + 1) % PERSONS;
                const char *f = "person_id";
                const char *vv = pid[p2];
                write1(o[i], 1, t, made[i][k], &f, &vv, 1);
            } else if (t == tl) {
                const char *f[] = { "status", "monthly_income" };
                const char *vv[] = { rnd() % 2 ? "active" : "ended",
                                     rnd() % 3 ? inc : "" };
                write1(o[i], 1, t, made[i][k], f, vv, 2);
            } else {
                const char *f = "outcome";
                const char *vv = rnd() % 2 ? "certified" : "dropped";
                write1(o[i], 1, t, made[i][k], &f, &vv, 1);
            }
        } else if (r < 9) {   /* a person's birth date */
            const char *f = "birth_date";
            const char *v = births[rnd() % 9];
            /* the id number must match: clear it first when it would not */
            char num[19], ymd[9];
            snprintf(ymd, sizeof ymd, "%.4s%.2s%.2s", v, v + 5, v + 8);
            idnum(num, counties[p % 2], ymd, p);
            const char *fs[] = { f, "id_number" };
            const char *vs[] = { v, num };
            write1(o[i], 1, tp, pid[p], fs, vs, 2);
        } else {   /* delete a person */
            wg_record cur;
            if (wg_store_get(o[i], tp, pid[p], &cur, NULL) == WG_OK) {
                int dead = cur.deleted;
                wg_record_release(&cur);
                if (!dead)
                    write1(o[i], 2, tp, pid[p], NULL, NULL, 0);
            }
        }
        if (w % 40 == 39)
            verify(o[i], "after local writes");
    }
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_aggregates = {"aggregates", setup, teardown, 600};
static const tu_case case_totals = {"totals", setup, teardown, 600};

START_TEST(test_report_aggregates_equal_a_recount_in_any_merge_order)
{
    wg_store *o[ORIGINS];
    char name[16];
    for (int i = 0; i < ORIGINS; i++) {
        snprintf(name, sizeof name, "o%d", i);
        o[i] = node(name);
    }
    char pid[PERSONS][33];
    random_history(o, pid);
    for (int i = 0; i < ORIGINS; i++) {
        verify(o[i], "an origin's own writes");
        aggregates_answer_as_a_recount(o[i]);
    }
    /* Every origin's feeds, both partitions. */
    nu_feedcopy f[ORIGINS * 2];
    for (int i = 0; i < ORIGINS; i++)
        for (int c = 0; c < 2; c++) {
            memset(&f[i * 2 + c], 0, sizeof f[0]);
            ck_assert_int_eq(wg_store_feed_read(o[i], wg_store_info(o[i])->pk,
                                                counties[c], 0, 1000000,
                                                nu_copy_change, &f[i * 2 + c],
                                                NULL), WG_OK);
        }
    for (int order = 0; order < ORDERS; order++) {
        snprintf(name, sizeof name, "fresh%d", order);
        wg_store *fresh = node(name);
        size_t pos[ORIGINS * 2] = { 0 };
        int left = 0;
        for (int k = 0; k < ORIGINS * 2; k++)
            left += f[k].n > 0;
        int step = 0;
        while (left) {
            int k = (int)(rnd() % (ORIGINS * 2));
            if (pos[k] == f[k].n)
                continue;
            size_t len = 1 + (size_t)(rnd() % 9);
            if (pos[k] + len > f[k].n)
                len = f[k].n - pos[k];
            size_t applied;
            wg_err err = { 0 };
            ck_assert_msg(wg_store_apply(fresh, f[k].c + pos[k], len,
                                         &applied, &err) == WG_OK, "%s",
                          err.msg);
            if (rnd() % 4 == 0)   /* a replay: no effect */
                ck_assert_int_eq(wg_store_apply(fresh, f[k].c, pos[k] + len,
                                                &applied, &err), WG_OK);
            pos[k] += len;
            if (pos[k] == f[k].n)
                left--;
            if (++step % 5 == 0)
                verify(fresh, "part way through a merge");
        }
        verify(fresh, "after every change merged");
        aggregates_answer_as_a_recount(fresh);
        wg_store_close(&fresh);
    }
    for (int k = 0; k < ORIGINS * 2; k++)
        nu_feedcopy_free(&f[k]);
    for (int i = 0; i < ORIGINS; i++)
        wg_store_close(&o[i]);
}
END_TEST

/* The figures of every table of ST add up: each table's total is the
 * county table's, and a two-way table sums both ways. */
static void tables_add_up(wg_store *st, const char *as_of)
{
    wg_report_query q;
    wg_report_query_init(&q);
    snprintf(q.today, sizeof q.today, "2026-06-30");
    snprintf(q.as_of, sizeof q.as_of, "%s", as_of);
    wg_report county;
    ck_assert_int_eq(wg_store_report(st, &q, &county, NULL), WG_OK);
    const wg_report_row *g = &county.grand;
    ck_assert_int_gt(g->persons, 0);
    for (int d = 0; d < WG_DIM_COUNT; d++) {
        for (int e = -1; e < WG_DIM_COUNT; e++) {
            if (e == d)
                continue;
            wg_report_query qi = q;
            qi.dims[0] = (wg_report_dim)d;
            qi.ndims = e < 0 ? 1 : 2;
            if (e >= 0)
                qi.dims[1] = (wg_report_dim)e;
            wg_report r;
            ck_assert_int_eq(wg_store_report(st, &qi, &r, NULL), WG_OK);
            const wg_report_row *t = &r.grand;
            ck_assert_int_eq(t->persons, g->persons);
            ck_assert_int_eq(t->working_age, g->working_age);
            ck_assert_int_eq(t->working_age_employed,
                             g->working_age_employed);
            ck_assert_int_eq(t->employed, g->employed);
            ck_assert_int_eq(t->trained, g->trained);
            ck_assert_int_eq(t->certified, g->certified);
            ck_assert_int_eq(t->placements, g->placements);
            ck_assert(t->rate == g->rate && t->median == g->median);
            /* Sums: over the cells, and within each subtotal's group. */
            for (unsigned mask = 0; mask < 4; mask++) {
                if (qi.ndims == 1 && mask > 1)
                    break;
                for (size_t i = 0; i < r.n; i++) {
                    const wg_report_row *s = &r.rows[i];
                    if (s->total != mask || !mask)
                        continue;
                    long p = 0, w = 0, we = 0, em = 0, tr = 0;
                    for (size_t j = 0; j < r.n; j++) {
                        const wg_report_row *c = &r.rows[j];
                        if (c->total)
                            continue;
                        int in = 1;
                        for (int k = 0; k < qi.ndims; k++)
                            if (!((mask >> k) & 1) &&
                                strcmp(c->key[k], s->key[k]))
                                in = 0;
                        if (!in)
                            continue;
                        p += c->persons;
                        w += c->working_age;
                        we += c->working_age_employed;
                        em += c->employed;
                        tr += c->trained;
                    }
                    ck_assert_int_eq(p, s->persons);
                    ck_assert_int_eq(w, s->working_age);
                    ck_assert_int_eq(we, s->working_age_employed);
                    ck_assert_int_eq(em, s->employed);
                    ck_assert_int_eq(tr, s->trained);
                }
            }
            wg_report_release(&r);
        }
    }
    wg_report_release(&county);
}

START_TEST(test_report_every_table_adds_up_to_the_county_total)
{
    wg_store *o[ORIGINS];
    char name[16], pid[PERSONS][33];
    for (int i = 0; i < ORIGINS; i++) {
        snprintf(name, sizeof name, "t%d", i);
        o[i] = node(name);
    }
    random_history(o, pid);
    /* Some registration and township values to group by. */
    for (int p = 0; p < PERSONS; p++) {
        const char *f[] = { "registered_on", "township", "rural",
                            "disability_grade" };
        char g[4];
        snprintf(g, sizeof g, "%d", 1 + p % 4);
        const char *v[] = { p % 4 ? "2020-01-01" : "2026-01-01",
                            p % 3 ? "长安镇" : "浮石镇", p % 2 ? "1" : "0", g };
        write1(o[0], 1, wg_schema_table("person"), pid[p], f, v, 4);
    }
    tables_add_up(o[0], "");
    tables_add_up(o[0], "2025-06-30");
    for (int i = 0; i < ORIGINS; i++)
        wg_store_close(&o[i]);
}
END_TEST

/* A transaction's moves of the aggregates wait in memory per cell: a
 * rollback leaves the tables as they were, a report inside the
 * transaction sees them, and a transaction moving more cells than the
 * buffer holds (16,384: one a birth date here) writes them out on the way
 * and still equals a recount at the end. */
#define BUFFERED_PERSONS 17000

static void add_born(wg_store *st, int day, int serial)
{
    int y = 1960, m = 1, d = 1 + day;
    while (d > nu_days_in_month(y, m)) {
        d -= nu_days_in_month(y, m);
        if (++m > 12) {
            m = 1;
            y++;
        }
    }
    char ymd[40], birth[40], num[19];   /* room for any ints */
    snprintf(ymd, sizeof ymd, "%04d%02d%02d", y, m, d);
    snprintf(birth, sizeof birth, "%04d-%02d-%02d", y, m, d);
    idnum(num, "450224", ymd, serial);
    const char *n[] = { "name", "id_number", "disability_category",
                        "birth_date" };
    const char *v[] = { "P", num, "physical", birth };
    wg_err err = { 0 };
    ck_assert_msg(wg_store_add(st, wg_schema_table("person"), n, v, 4, NULL,
                               &err) == WG_OK, "%s", err.msg);
}

static long day_cells(wg_store *st)
{
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM "
                                        "rpt_day", -1, &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

START_TEST(test_report_buffered_moves_follow_their_transaction)
{
    wg_store *st = node("buffered");
    ck_assert_int_eq(wg_store_begin(st, NULL), WG_OK);
    for (int i = 0; i < 50; i++)
        add_born(st, i, i);
    wg_report_query q;
    wg_report_query_init(&q);
    wg_report rep;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_report(st, &q, &rep, &err) == WG_OK, "%s",
                  err.msg);
    ck_assert_int_eq(rep.rows[0].persons, 50);   /* seen inside */
    wg_report_release(&rep);
    wg_store_rollback(st);
    ck_assert_int_eq(day_cells(st), 0);
    verify(st, "after a rollback");

    ck_assert_int_eq(wg_store_begin(st, NULL), WG_OK);
    for (int i = 0; i < BUFFERED_PERSONS; i++)
        add_born(st, i, i);
    ck_assert_int_eq(wg_store_commit(st, NULL), WG_OK);
    ck_assert_int_eq(day_cells(st), BUFFERED_PERSONS);
    verify(st, "after a transaction larger than the buffer");
    wg_store_close(&st);
}
END_TEST

static const tu_case case_buffered = {"buffered", setup, teardown, 600};

static const tu_test tests[] = {
    TU_TEST(case_aggregates, test_report_aggregates_equal_a_recount_in_any_merge_order),
    TU_TEST(case_totals, test_report_every_table_adds_up_to_the_county_total),
    TU_TEST(case_buffered, test_report_buffered_moves_follow_their_transaction),
};

int main(void)
{
    return tu_run(TU_SUITE("report", tests));
}
