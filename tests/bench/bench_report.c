/*
 * bench_report.c - `wings report` against the sqlite3 shell, at national
 * scale
 *
 * A program, not a test. It builds, untimed, one encrypted wings node (role
 * hq, county 000000) holding P persons over C counties (default 2,900, the
 * country's count; synthetic codes), 0.3 P trainings and 0.6 P placements
 * (60 % active, incomes 1500-8000), every training and placement naming an
 * existing person of the same county; births 1940-2015, so persons under 16
 * and over 59 are among them. Rows go in by direct SQL (no change feed: a
 * benchmark of reading), the record tables' indexes are dropped during the
 * load and created again with their own CREATE text, and the report's
 * aggregates are built by wg_store_report_rebuild(). The same generator
 * writes the same rows, row for row, into a plain SQLite database (default
 * VFS) whose tables and indexes are created from the very SQL text the
 * store holds, aggregates included (filled by the same recount SQL).
 * Record ids are drawn in insertion order (see record_id()): building ten
 * million rows on a shared two-core machine must take minutes, not hours.
 *
 * Then, for each report below and for R rounds (who goes first alternates):
 *
 *   wings report   wg_store_report() on the open store (the open, with its
 *                  key derivation, is not timed);
 *   sqlite3 shell  `sqlite3 plain.db` given the very statements the wings
 *                  report ran (captured with sqlite3_trace_v2, bound values
 *                  expanded, its cache pragmas included), after the store's
 *                  temp_store pragma, output to /dev/null, timed as a whole
 *                  process.
 *
 * Reports: default (by county, now: the kept aggregates), the same
 * recounted from the records (--recount), --as-of with --from/--to,
 * --by gender, --by county,gender, --by employment_type. Checks: the
 * default equals its recount row for row; with --verify, the aggregates
 * equal a full recount (wg_store_report_verify).
 *
 *   bench_report [--persons N] [--counties C] [--rounds R] [--sqlite PATH]
 *                [--only default] [--verify] [--direct] [--keep]
 *
 * --direct, for the national scale on a shared machine: the generator
 * counts the aggregates itself and writes them as rows (instead of the
 * store's recount), the record tables keep only their id index, and the
 * plain database holds the aggregate tables alone; only the default report
 * is timed. check_report and a run without --direct prove the aggregates
 * equal a recount.
 *
 * Exit 0 on success (whether or not a target is met), 1 when a run fails or
 * a check does not hold, 2 on bad usage or a missing sqlite3 shell.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../nodeutil.h"

#define BU_NAME "bench_report"
#include "benchutil.h"

extern char **environ;

#define BENCH_PASS "bench passphrase"
#define BENCH_SEED 0x7265706f7274ULL      /* "report" */
#define BENCH_PERSONS 1000000L
#define BENCH_MAX_PERSONS 20000000L
#define BENCH_COUNTIES 2900
#define BENCH_ROUNDS 3
#define BENCH_BATCH 200000                /* rows per transaction */
#define BENCH_TARGET_S 5.0                /* default report at 10 M */
#define BENCH_TARGET_RATIO 1.5            /* every report vs the shell */
#define BENCH_TODAY "2026-06-30"

/* ---- dying tidily ------------------------------------------------------- */

static char root_dir[PATH_MAX];
static int keep_dir;

static void cleanup(void)
{
    if (root_dir[0] && !keep_dir) {
        nu_rmtree(root_dir);
        root_dir[0] = '\0';
    }
}

static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static double now(void)
{
    return nu_seconds();
}

static void exec2(sqlite3 *db, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        bu_die(1, "%s: %s", what, msg ? msg : "?");
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        bu_die(1, "preparing %.60s: %s", sql, sqlite3_errmsg(db));
    return s;
}

/* ---- the generator ------------------------------------------------------ */

static uint64_t rng = BENCH_SEED;

static uint64_t next64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
    return (unsigned)(next64() % n);
}

/* Record I of TABLE's id: 32 hex digits in insertion order (table, then
 * I, then a mix of both), so the UNIQUE index on id fills by appends, as
 * a load does; references between records stay random. */
static void record_id(char out[WG_ID_HEX_CHARS + 1], unsigned table, long i)
{
    uint64_t z = ((uint64_t)table << 40 | (uint64_t)i) + BENCH_SEED;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    char buf[64];
    snprintf(buf, sizeof buf, "%02x%014llx%016llx", table & 0xffu,
             (unsigned long long)i & 0xffffffffffffffULL,
             (unsigned long long)z);
    memcpy(out, buf, WG_ID_HEX_CHARS);
    out[WG_ID_HEX_CHARS] = '\0';
}

#define COUNT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))
#define PICK(a) ((a)[pick(COUNT(a))])

static const char *const surnames[] = { "王", "李", "张", "刘", "陈", "杨",
                                        "黄", "韦", "覃", "蒙", "莫", "潘" };
static const char *const given[] = { "伟", "芳", "娜", "秀", "英", "敏",
                                     "静", "丽", "强", "磊", "军", "洋" };
static const char *const categories[] = { "physical", "visual", "hearing",
    "speech", "intellectual", "mental", "multiple" };
static const char *const townships[] = { "长安镇", "浮石镇", "泗顶镇",
    "板榄镇", "大将镇", "大良镇", "雅瑶乡", "大坡乡" };
static const char *const tcats[] = { "ecommerce_live", "customer_service",
    "handicraft", "food_processing", "agriculture", "it", "other" };
static const char *const etypes[] = { "enterprise", "assisted",
    "self_employed", "online", "public_welfare", "agricultural", "flexible" };

static int ncounties = BENCH_COUNTIES;
/* --direct: the aggregates are counted by the generator and written as
 * rows (no recount, no record-table indexes, the plain side holds only the
 * aggregate tables): the national-scale timing of the default report in
 * minutes on a shared machine. */
static int direct;
static int nsinks = 2;

/* County K: synthetic six-digit codes, distinct, grouped 100 a prefix. */
static void county_code(unsigned k, char out[8])
{
    snprintf(out, 8, "%06u", 110000 + (k / 100) * 100 + k % 100 + 1);
}

static void make_date(char out[16], int year)
{
    int month = 1 + (int)pick(12);
    int day = 1 + (int)pick(28);
    snprintf(out, 16, "%04d-%02d-%02d", year, month, day);
}

/* ---- loading ------------------------------------------------------------- */

typedef struct sink {
    sqlite3 *db;
    sqlite3_stmt *ins[3];
} sink;

static const char *const tables[3] = { "person", "training", "placement" };
static const char *const cols[3] = {
    "id, name, gender, birth_date, id_number, disability_category, "
    "disability_grade, certificate_no, county, township, phone, rural, "
    "registered_on, deleted, clocks, chg",
    "id, person_id, course, category, provider, start_date, end_date, hours, "
    "outcome, county, deleted, clocks, chg",
    "id, person_id, employer, employment_type, position, start_date, "
    "end_date, monthly_income, status, county, deleted, clocks, chg" };
static const int ncols[3] = { 16, 13, 13 };

static void sink_open(sink *k, sqlite3 *db)
{
    k->db = db;
    for (int t = 0; t < 3; t++) {
        char *q = bu_asprintf("INSERT INTO %s(%s) VALUES(?", tables[t], cols[t]);
        for (int i = 1; i < ncols[t]; i++) {
            char *m = bu_asprintf("%s, ?", q);
            free(q);
            q = m;
        }
        char *f = bu_asprintf("%s)", q);
        k->ins[t] = prep(db, f);
        free(q);
        free(f);
    }
}

static void sink_close(sink *k)
{
    for (int t = 0; t < 3; t++)
        sqlite3_finalize(k->ins[t]);
}

static uint8_t clocks_blob[WG_CLOCKS_MAX];
static size_t clocks_len[3];

/* Bind V (N values; NULL for none) as row of table T into both sinks. */
static void put(sink *two, int t, const char *const *v, int n)
{
    for (int s = 0; s < nsinks; s++) {
        sqlite3_stmt *st = two[s].ins[t];
        for (int i = 0; i < n; i++) {
            if (v[i])
                sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, i + 1);
        }
        sqlite3_bind_int(st, n + 1, 0);
        sqlite3_bind_blob(st, n + 2, clocks_blob, (int)clocks_len[t],
                          SQLITE_STATIC);
        sqlite3_bind_int(st, n + 3, 0);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            bu_die(1, "inserting into %s: %s", tables[t],
                sqlite3_errmsg(two[s].db));
        sqlite3_reset(st);
    }
}

static long in_txn;

static void tick(sink *two)
{
    if (++in_txn < BENCH_BATCH)
        return;
    for (int s = 0; s < 2; s++)
        exec2(two[s].db, "COMMIT; BEGIN", "committing");
    (void)nsinks;
    in_txn = 0;
}

/* The record tables' index SQL from DB, to drop and recreate. */
static char **index_sql(sqlite3 *db, int *n)
{
    sqlite3_stmt *s = prep(db, "SELECT name, sql FROM sqlite_master WHERE "
                               "type = 'index' AND sql IS NOT NULL AND "
                               "tbl_name IN ('person', 'training', "
                               "'placement')");
    char **v = NULL;
    *n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        v = wg_xrealloc(v, (size_t)(*n + 2) * sizeof *v);
        v[(*n)++] = bu_asprintf("%s", (const char *)sqlite3_column_text(s, 0));
        v[(*n)++] = bu_asprintf("%s", (const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    return v;
}

/* Insert one aggregate row (N integers after the text keys) into both. */
static void agg_row(sink *two, sqlite3_stmt **ins, const char *k1,
                    const char *k2, int nk, const int64_t *v, int n)
{
    for (int s = 0; s < 2; s++) {
        sqlite3_stmt *st = ins[s];
        sqlite3_bind_text(st, 1, k1, -1, SQLITE_TRANSIENT);
        if (nk > 1)
            sqlite3_bind_text(st, 2, k2, -1, SQLITE_TRANSIENT);
        for (int i = 0; i < n; i++)
            sqlite3_bind_int64(st, nk + 1 + i, v[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            bu_die(1, "writing an aggregate: %s", sqlite3_errmsg(two[s].db));
        sqlite3_reset(st);
    }
    tick(two);
}

/* --direct: the aggregates as the recount would make them, from the
 * generator's own counts, written in key order into both databases. */
static void write_aggregates(sink *two, long persons, const uint16_t *cty,
                             const uint16_t *bday, const uint8_t *np,
                             const uint8_t *trce, const uint32_t *inc)
{
    enum { DAYS = 76 * 12 * 28 };
    size_t nc = (size_t)ncounties;
    uint32_t *dp = wg_xcalloc(DAYS * nc, 4), *de = wg_xcalloc(DAYS * nc, 4);
    int64_t *yr = wg_xcalloc(nc * 76 * 5, 8);
    for (long i = 0; i < persons; i++) {
        size_t c = cty[i], d = bday[i];
        dp[d * nc + c]++;
        de[d * nc + c] += np[i] > 0;
        int64_t *y = &yr[(c * 76 + d / (12 * 28)) * 5];
        y[0]++;
        y[1] += np[i] > 0;
        y[2] += trce[i] & 1;
        y[3] += (trce[i] >> 1) & 1;
        y[4] += np[i];
    }
    static const char *const ins_sql[5] = {
        "INSERT INTO rpt_year VALUES(?, ?, ?, ?, ?, ?, ?)",
        "INSERT INTO rpt_month VALUES(?, ?, ?, ?)",
        "INSERT INTO rpt_day VALUES(?, ?, ?, ?)",
        "INSERT INTO rpt_income VALUES(?, ?, ?)",
        "INSERT INTO rpt_income100 VALUES(?, ?, ?)" };
    sqlite3_stmt *ins[5][2];
    for (int t = 0; t < 5; t++)
        for (int s = 0; s < 2; s++)
            ins[t][s] = prep(two[s].db, ins_sql[t]);
    for (int s = 0; s < 2; s++)
        exec2(two[s].db, "BEGIN", "begin");
    in_txn = 0;
    char k1[16], k2[16];
    for (size_t c = 0; c < nc; c++) {   /* rpt_year (county, y) */
        county_code((unsigned)c, k1);
        for (int y = 0; y < 76; y++) {
            int64_t *v = &yr[(c * 76 + (size_t)y) * 5];
            if (!v[0])
                continue;
            snprintf(k2, sizeof k2, "%04d", 1940 + y);
            agg_row(two, ins[0], k1, k2, 2, v, 5);
        }
    }
    for (int m = 0; m < 76 * 12; m++) {   /* rpt_month (ym, county) */
        snprintf(k1, sizeof k1, "%04d-%02d", 1940 + m / 12, m % 12 + 1);
        for (size_t c = 0; c < nc; c++) {
            int64_t v[2] = { 0, 0 };
            for (int d = 0; d < 28; d++) {
                v[0] += dp[((size_t)m * 28 + (size_t)d) * nc + c];
                v[1] += de[((size_t)m * 28 + (size_t)d) * nc + c];
            }
            if (!v[0])
                continue;
            county_code((unsigned)c, k2);
            agg_row(two, ins[1], k1, k2, 2, v, 2);
        }
    }
    for (int d = 0; d < DAYS; d++) {   /* rpt_day (bdate, county) */
        snprintf(k1, sizeof k1, "%04d-%02d-%02d", 1940 + d / (12 * 28),
                 d / 28 % 12 + 1, d % 28 + 1);
        for (size_t c = 0; c < nc; c++) {
            int64_t v[2] = { dp[(size_t)d * nc + c], de[(size_t)d * nc + c] };
            if (!v[0])
                continue;
            county_code((unsigned)c, k2);
            agg_row(two, ins[2], k1, k2, 2, v, 2);
        }
    }
    for (size_t c = 0; c < nc; c++) {   /* rpt_income, rpt_income100 */
        county_code((unsigned)c, k1);
        for (int i = 0; i < 6501; i++) {
            int64_t v[2] = { 1500 + i, inc[c * 6501 + (size_t)i] };
            if (v[1])
                agg_row(two, ins[3], k1, NULL, 1, v, 2);
        }
        for (int b = 15; b <= 80; b++) {
            int64_t v[2] = { b, 0 };
            for (int i = b * 100; i < b * 100 + 100; i++)
                if (i >= 1500 && i <= 8000)
                    v[1] += inc[c * 6501 + (size_t)(i - 1500)];
            if (v[1])
                agg_row(two, ins[4], k1, NULL, 1, v, 2);
        }
    }
    for (int s = 0; s < 2; s++)
        exec2(two[s].db, "COMMIT", "commit");
    for (int t = 0; t < 5; t++)
        for (int s = 0; s < 2; s++)
            sqlite3_finalize(ins[t][s]);
    free(dp);
    free(de);
    free(yr);
}

static void build(wg_store *st, sqlite3 *pdb, long persons)
{
    sqlite3 *wdb = st->db;
    /* The plain tables: the store's own CREATE text, aggregates included. */
    sqlite3_stmt *s = prep(wdb, direct
        ? "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN "
          "('person', 'training', 'placement', 'rpt_year', 'rpt_month', "
          "'rpt_day', 'rpt_income', 'rpt_income100')"
        : "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN "
          "('person', 'training', 'placement', 'rpt_year', 'rpt_month', "
          "'rpt_day', 'rpt_income', 'rpt_income100')");
    while (sqlite3_step(s) == SQLITE_ROW)
        exec2(pdb, (const char *)sqlite3_column_text(s, 0), "plain table");
    sqlite3_finalize(s);
    int nidx;
    char **idx = index_sql(wdb, &nidx);
    for (int i = 0; i < nidx; i += 2) {
        char *d = bu_asprintf("DROP INDEX %s", idx[i]);
        exec2(wdb, d, "dropping an index for the load");
        free(d);
    }
    /* A large cache for the load: the random ids' unique index stays in
     * memory instead of being re-read and re-sealed page by page. */
    exec2(wdb, "PRAGMA synchronous=OFF; PRAGMA cache_size=-2097152",
          "pragma");
    exec2(pdb, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
               "PRAGMA cache_size=-2097152", "pragma");

    wg_clock ck[WG_MAX_FIELDS + 1];
    for (int i = 0; i <= WG_MAX_FIELDS; i++) {
        ck[i].hlc = (uint64_t)1 << 16;
        ck[i].oid = st->self_oid;
    }
    for (int t = 0; t < 3; t++)
        clocks_len[t] = wg_store__clocks_encode(
            ck, wg_schema_table(tables[t])->nfields + 1, clocks_blob);

    sink two[2];
    sink_open(&two[0], wdb);
    sink_open(&two[1], pdb);
    for (int k = 0; k < 2; k++)
        exec2(two[k].db, "BEGIN", "begin");
    uint16_t *county_of = wg_xmalloc((size_t)persons * sizeof *county_of);
    /* --direct: each person's birth day (index from 1940-01-01, 28-day
     * months as make_date() draws them), active placements, trained and
     * certified, and the active incomes per county. */
    uint16_t *bday = direct ? wg_xmalloc((size_t)persons * 2) : NULL;
    uint8_t *np = direct ? wg_xcalloc((size_t)persons, 1) : NULL;
    uint8_t *trce = direct ? wg_xcalloc((size_t)persons, 1) : NULL;
    uint32_t *inc = direct ? wg_xcalloc((size_t)ncounties * 6501, 4) : NULL;
    double t0 = now();
    rng = BENCH_SEED;
    for (long i = 0; i < persons; i++) {
        char id[33], name[32], birth[16], idnum[24], county[8], cert[32];
        char phone[16], reg[16], grade[4];
        unsigned ck_ = pick((unsigned)ncounties);
        county_of[i] = (uint16_t)ck_;
        county_code(ck_, county);
        record_id(id, 0, i);
        snprintf(name, sizeof name, "%s%s%s", PICK(surnames), PICK(given),
                 PICK(given));
        int y = 1940 + (int)pick(76);
        make_date(birth, y);
        snprintf(idnum, sizeof idnum, "%s%.4s%.2s%.2s%04ld", county, birth,
                 birth + 5, birth + 8, i % 10000);
        snprintf(grade, sizeof grade, "%u", 1 + pick(4));
        snprintf(cert, sizeof cert, "%s%s", idnum, grade);
        snprintf(phone, sizeof phone, "1%010u", pick(2000000000u));
        make_date(reg, 2000 + (int)pick(26));
        const char *v[] = { id, name, pick(2) ? "male" : "female", birth,
                            idnum, PICK(categories), grade, cert, county,
                            PICK(townships), phone, pick(4) ? "1" : "0",
                            reg };
        if (direct)
            bday[i] = (uint16_t)(((y - 1940) * 12 + atoi(birth + 5) - 1) * 28 +
                                 atoi(birth + 8) - 1);
        put(two, 0, v, 13);
        tick(two);
    }
    long ntr = persons * 3 / 10, npl = persons * 6 / 10;
    for (long i = 0; i < ntr; i++) {
        char id[33], pid[33], start[16], end[16], county[8], hours[8];
        long p = (long)(next64() % (uint64_t)persons);
        record_id(id, 1, i);
        record_id(pid, 0, p);
        county_code(county_of[p], county);
        int y = 2015 + (int)pick(11);
        make_date(start, y);
        unsigned r = pick(100);
        const char *out = r < 20 ? "enrolled" : r < 55 ? "completed"
                          : r < 85 ? "certified" : "dropped";
        make_date(end, y + 1);
        snprintf(hours, sizeof hours, "%u", 20 + pick(181));
        const char *v[] = { id, pid, "Course", PICK(tcats), "Provider", start,
                            r < 20 ? NULL : end, hours, out, county };
        if (direct)
            trce[p] |= (uint8_t)((r >= 20 && r < 85 ? 1 : 0) |
                                 (r >= 55 && r < 85 ? 2 : 0));
        put(two, 1, v, 10);
        tick(two);
    }
    for (long i = 0; i < npl; i++) {
        char id[33], pid[33], start[16], end[16], county[8], income[8];
        long p = (long)(next64() % (uint64_t)persons);
        record_id(id, 2, i);
        record_id(pid, 0, p);
        county_code(county_of[p], county);
        int y = 2012 + (int)pick(14);
        make_date(start, y);
        int active = pick(100) < 60;
        make_date(end, y + 1);
        snprintf(income, sizeof income, "%u", 1500 + pick(6501));
        const char *v[] = { id, pid, "Employer Co.", PICK(etypes), "Worker",
                            start, active ? NULL : end, income,
                            active ? "active" : "ended", county };
        if (direct && active) {
            if (np[p] < 255)
                np[p]++;
            inc[(size_t)county_of[p] * 6501 + (size_t)atoi(income) - 1500]++;
        }
        put(two, 2, v, 10);
        tick(two);
    }
    for (int k = 0; k < 2; k++)
        exec2(two[k].db, "COMMIT", "commit");
    sink_close(&two[0]);
    sink_close(&two[1]);
    fprintf(stderr, "  rows written in %.1f s\n", now() - t0);
    if (direct) {
        write_aggregates(two, persons, county_of, bday, np, trce, inc);
        free(bday);
        free(np);
        free(trce);
        free(inc);
        free(county_of);
        for (int i = 0; i < nidx; i++)
            free(idx[i]);
        free(idx);
        exec2(pdb, "ANALYZE", "analyze");
        exec2(wdb, "PRAGMA synchronous=FULL; ANALYZE", "analyze");
        fprintf(stderr, "  built in %.1f s\n", now() - t0);
        return;
    }
    free(county_of);
    for (int i = 0; i < nidx; i += 2) {
        exec2(wdb, idx[i + 1], "recreating an index");
        exec2(pdb, idx[i + 1], "creating a plain index");
        free(idx[i]);
        free(idx[i + 1]);
    }
    free(idx);
    fprintf(stderr, "  indexes in %.1f s; aggregates...\n", now() - t0);
    wg_err err = { 0 };
    if (wg_store_report_rebuild(st, &err) != WG_OK)
        bu_die(1, "rebuilding the aggregates: %s", err.msg);
    char *rc = wg_store__report_recount_sql("rpt_");
    exec2(pdb, rc, "the plain recount");
    free(rc);
    exec2(pdb, "ANALYZE", "analyze");
    exec2(wdb, "PRAGMA synchronous=FULL; ANALYZE", "analyze");
    fprintf(stderr, "  built in %.1f s\n", now() - t0);
}

/* ---- the contenders ------------------------------------------------------ */

static char *sqlite_path, *plain_path, *err_path;

static double time_shell(const char *sql_file)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, sql_file, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = { sqlite_path, plain_path, NULL };
    fflush(NULL);
    pid_t pid;
    double t0 = now();
    int e = posix_spawn(&pid, sqlite_path, &fa, NULL, argv, environ);
    if (e)
        bu_die(1, "cannot run %s: %s", sqlite_path, strerror(e));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            bu_die(1, "waitpid: %s", strerror(errno));
    double t = now() - t0;
    posix_spawn_file_actions_destroy(&fa);
    struct stat sb;
    if (!WIFEXITED(status) || WEXITSTATUS(status) ||
        (stat(err_path, &sb) == 0 && sb.st_size))
        bu_die(1, "the sqlite3 shell failed; see %s", err_path);
    return t;
}

/* Statements the store runs, while capturing. */
static FILE *trace_to;

static int on_trace(unsigned type, void *ctx, void *p, void *x)
{
    (void)ctx;
    (void)x;
    if (type != SQLITE_TRACE_STMT || !trace_to)
        return 0;
    char *sql = sqlite3_expanded_sql((sqlite3_stmt *)p);
    if (sql)
        fprintf(trace_to, "%s;\n", sql);
    sqlite3_free(sql);
    return 0;
}

static double time_wings(wg_store *st, const wg_report_query *q,
                         wg_report *out)
{
    wg_err err = { 0 };
    double t0 = now();
    if (wg_store_report(st, q, out, &err) != WG_OK)
        bu_die(1, "wg_store_report: %s", err.msg);
    return now() - t0;
}

static int same_rows(const wg_report *a, const wg_report *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const wg_report_row *x = &a->rows[i], *y = &b->rows[i];
        if (strcmp(x->key[0], y->key[0]) || x->persons != y->persons ||
            x->working_age != y->working_age ||
            x->working_age_employed != y->working_age_employed ||
            x->employed != y->employed || x->trained != y->trained ||
            x->certified != y->certified || x->placements != y->placements ||
            x->has_median != y->has_median || x->median != y->median)
            return 0;
    }
    return 1;
}

static char *find_on_path(const char *name)
{
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin";;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *c = bu_asprintf("%.*s/%s", (int)n, p, name);
        if (access(c, X_OK) == 0)
            return c;
        free(c);
        if (!end)
            return NULL;
        p = end + 1;
    }
}

static long parse_count(const char *s, const char *what, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "bench_report: %s must be %ld-%ld\n", what, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "persons", required_argument, NULL, 'n' },
        { "counties", required_argument, NULL, 'c' },
        { "rounds", required_argument, NULL, 'r' },
        { "sqlite", required_argument, NULL, 's' },
        { "only", required_argument, NULL, 'o' },
        { "verify", no_argument, NULL, 'v' },
        { "direct", no_argument, NULL, 'd' },
        { "keep", no_argument, NULL, 'k' },
        { 0, 0, 0, 0 } };
    long persons = BENCH_PERSONS;
    int rounds = BENCH_ROUNDS, verify = 0, only_default = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': persons = parse_count(optarg, "--persons", 100,
                                        BENCH_MAX_PERSONS); break;
        case 'c': ncounties = (int)parse_count(optarg, "--counties", 1,
                                               60000); break;
        case 'r': rounds = (int)parse_count(optarg, "--rounds", 1, 100); break;
        case 's': sqlite_path = bu_asprintf("%s", optarg); break;
        case 'o': only_default = !strcmp(optarg, "default"); break;
        case 'v': verify = 1; break;
        case 'd': direct = 1; nsinks = 1; only_default = 1; break;
        case 'k': keep_dir = 1; break;
        default:
            fprintf(stderr, "usage: bench_report [--persons N] [--counties C] "
                            "[--rounds R] [--sqlite PATH] [--only default] "
                            "[--verify] [--keep]\n");
            return 2;
        }
    }
    if (!sqlite_path && !(sqlite_path = find_on_path("sqlite3"))) {
        fprintf(stderr, "bench_report: no sqlite3 shell on PATH\n");
        return 2;
    }
    wg_err err = { 0 };
    if (wg_crypto_init(&err) != WG_OK)
        bu_die(1, "crypto: %s", err.msg);
    const char *tmp = getenv("TMPDIR");
    snprintf(root_dir, sizeof root_dir, "%s/bench_report.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root_dir))
        bu_die(1, "mkdtemp: %s", strerror(errno));
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char *node_dir = bu_asprintf("%s/node", root_dir);
    plain_path = bu_asprintf("%s/plain.db", root_dir);
    err_path = bu_asprintf("%s/shell.err", root_dir);

    printf("bench_report: %ld persons, %ld trainings, %ld placements over %d "
           "counties; %d round%s; SQLite %s, shell %s\n", persons,
           persons * 3 / 10, persons * 6 / 10, ncounties, rounds,
           rounds == 1 ? "" : "s", sqlite3_libversion(), sqlite_path);
    fflush(stdout);
    wg_node_info info;
    nu_node_info(&info, "bench-hq", "000000", WG_ROLE_HQ);
    if (wg_store_create(node_dir, BENCH_PASS, strlen(BENCH_PASS),
                        WG_KDF_INTERACTIVE, &info, &err) != WG_OK)
        bu_die(1, "create: %s", err.msg);
    wg_store *st = NULL;
    if (wg_store_open(node_dir, BENCH_PASS, strlen(BENCH_PASS), &st, &err))
        bu_die(1, "open: %s", err.msg);
    sqlite3 *pdb = NULL;
    if (sqlite3_open(plain_path, &pdb) != SQLITE_OK)
        bu_die(1, "plain: %s", sqlite3_errmsg(pdb));
    double t0 = now();
    build(st, pdb, persons);
    sqlite3_close(pdb);
    double t_build = now() - t0;
    /* Fresh connection: empty caches, as a report command starts. */
    wg_store_close(&st);
    if (wg_store_open(node_dir, BENCH_PASS, strlen(BENCH_PASS), &st, &err))
        bu_die(1, "reopen: %s", err.msg);
    struct stat sb;
    char *wdb = bu_asprintf("%s/%s", node_dir, WG_STORE_DBFILE);
    double mw = stat(wdb, &sb) ? 0 : (double)sb.st_size / 1048576.0;
    double mp = stat(plain_path, &sb) ? 0 : (double)sb.st_size / 1048576.0;
    printf("build (untimed) %.1f s; db size wings %.0f MiB, plain %.0f MiB\n",
           t_build, mw, mp);

    if (verify) {
        long bad = -1;
        double tv = now();
        if (wg_store_report_verify(st, &bad, &err) != WG_OK)
            bu_die(1, "verify: %s", err.msg);
        printf("check: kept aggregates equal a full recount: %s (%ld rows "
               "differ; %.1f s)\n", bad ? "NO" : "yes", bad, now() - tv);
        if (bad)
            return 1;
    }

    struct { const char *label; wg_report_query q; } reps[6];
    int nreps = 0;
    wg_report_query base;
    wg_report_query_init(&base);
    snprintf(base.today, sizeof base.today, "%s", BENCH_TODAY);
    reps[nreps].label = "default (by county, aggregates)";
    reps[nreps++].q = base;
    if (!direct) {   /* --direct builds no record-table index to scan by */
        reps[nreps].label = "default --recount (scan)";
        reps[nreps].q = base;
        reps[nreps++].q.recount = 1;
    }
    if (!only_default) {
        reps[nreps].label = "--as-of 2025-06-30 --from 2025-01-01 --to "
                            "2025-06-30";
        reps[nreps].q = base;
        strcpy(reps[nreps].q.as_of, "2025-06-30");
        strcpy(reps[nreps].q.from, "2025-01-01");
        strcpy(reps[nreps++].q.to, "2025-06-30");
        reps[nreps].label = "--by gender";
        reps[nreps].q = base;
        reps[nreps++].q.dims[0] = WG_DIM_GENDER;
        reps[nreps].label = "--by county,gender";
        reps[nreps].q = base;
        reps[nreps].q.ndims = 2;
        reps[nreps++].q.dims[1] = WG_DIM_GENDER;
        reps[nreps].label = "--by employment_type";
        reps[nreps].q = base;
        reps[nreps++].q.dims[0] = WG_DIM_EMPLOYMENT_TYPE;
    }
    int all_ok = 1;
    wg_report first = { 0 };
    for (int i = 0; i < nreps; i++) {
        char *file = bu_asprintf("%s/q%d.sql", root_dir, i);
        FILE *f = fopen(file, "w");
        if (!f)
            bu_die(1, "cannot write %s", file);
        fprintf(f, "PRAGMA temp_store=MEMORY;\n");
        /* One untimed run to capture what the report runs. */
        wg_report cap = { 0 };
        trace_to = f;
        sqlite3_trace_v2(st->db, SQLITE_TRACE_STMT, on_trace, NULL);
        time_wings(st, &reps[i].q, &cap);
        sqlite3_trace_v2(st->db, 0, NULL, NULL);
        trace_to = NULL;
        wg_report_release(&cap);
        if (fclose(f))
            bu_die(1, "cannot write %s", file);
        double bw = 1e9, bs = 1e9;
        wg_report rep = { 0 };
        for (int r = 0; r < rounds; r++) {
            double tw, ts;
            if (r % 2 == 0) {
                wg_report_release(&rep);
                tw = time_wings(st, &reps[i].q, &rep);
                ts = time_shell(file);
            } else {
                ts = time_shell(file);
                wg_report_release(&rep);
                tw = time_wings(st, &reps[i].q, &rep);
            }
            bw = tw < bw ? tw : bw;
            bs = ts < bs ? ts : bs;
        }
        double ratio = bw / bs;
        all_ok &= ratio <= BENCH_TARGET_RATIO;
        printf("%-48s wings %7.3f s  shell %7.3f s  ratio %.2f %s  "
               "(%zu rows, total persons %ld, rate %.2f)\n", reps[i].label,
               bw, bs, ratio, ratio <= BENCH_TARGET_RATIO ? "ok" : "OVER",
               rep.n, rep.grand.persons, rep.grand.rate);
        fflush(stdout);
        if (rep.grand.persons != persons && !reps[i].q.as_of[0])
            bu_die(1, "the report counts %ld persons, expected %ld",
                rep.grand.persons, persons);
        if (i == 0) {
            first = rep;
            if (persons >= 10000000L)
                printf("target: default report over %ld persons <= %.0f s: "
                       "%s (%.3f s)\n", persons, BENCH_TARGET_S,
                       bw <= BENCH_TARGET_S ? "yes" : "NO", bw);
        } else {
            if (i == 1) {
                if (!same_rows(&first, &rep))
                    bu_die(1, "the default report differs from its recount");
                printf("check: default report (aggregates) equals its "
                       "recount, row for row: ok\n");
            }
            wg_report_release(&rep);
        }
        free(file);
    }
    wg_report_release(&first);
    printf("every report <= %.1fx the shell: %s\n", BENCH_TARGET_RATIO,
           all_ok ? "yes" : "NO");
    wg_store_close(&st);
    free(node_dir);
    free(wdb);
    return 0;
}
