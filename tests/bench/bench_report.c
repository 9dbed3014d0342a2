/*
 * bench_report.c - `wings report` by county against plain SQLite
 *
 * A program, not a test. It builds, untimed, one encrypted wings node (role
 * hq, county 450000, Argon2id interactive) holding P persons spread over 20
 * counties (450221, 450223, 450321 ... 451123), 0.6 P placements (60%
 * active, incomes 1500-8000, the 7 employment types) and 0.3 P trainings
 * (enrolled / completed / certified / dropped), written through
 * wg_store_begin / wg_store_add / wg_store_commit in transactions of 10,000
 * records, every training and placement naming an existing person. Then it
 * builds, also untimed, a plain SQLite database (default VFS) whose three
 * tables are created from the very CREATE TABLE text the store holds (so it
 * follows the store's layout as it changes), holding the store's rows copied
 * over verbatim (same ids, same row numbers, same columns), with the three
 * indexes the report's joins use: person(county, deleted),
 * training(person_id, outcome, deleted) and placement(person_id, status,
 * deleted, monthly_income).
 *
 * Then, for R rounds, the contenders take turns (who goes first rotates
 * every round):
 *
 *   wings report   wg_store_report(WG_REPORT_COUNTY) on the open store (the
 *                  open, with its key derivation, is not timed);
 *   sqlite3 shell  `sqlite3 plain.db`, the report's by-county count query and
 *                  its income query on stdin, output to /dev/null, timed as
 *                  a whole process (exec, open, both queries, printing,
 *                  exit);
 *   sqlite3 C API  the same two statements on the plain database, in this
 *                  process, through the same connection every round, with
 *                  the store's page cache and temp_store, and the same C
 *                  work afterwards (counters per county, medians): the
 *                  fairer yardstick, as it measures what the encryption and
 *                  the store cost and nothing else.
 *
 * Both in-process sides keep their connections (and so their page caches)
 * open across rounds; the OS file cache is warm for everyone. The wings
 * report's rows are checked against the C API's (every count, every median)
 * and its total persons against P.
 *
 *   bench_report [--persons N] [--rounds R] [--sqlite PATH] [--verbose]
 *                [--keep]
 *
 * --keep leaves the temp folder (the node, whose passphrase is BENCH_PASS,
 * plain.db and report.sql) behind for profiling; otherwise it is removed
 * on every exit, interrupts included.
 *
 * The two SQL statements below are copies of report.c's by-county
 * count_sql[0] and income_sql[0]: keep them in step.
 *
 * Exit 0 on success (whether or not the target is met), 1 when a run fails
 * or a check does not hold, 2 on bad usage or a missing sqlite3 shell.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "store_int.h"
#include "../nodeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
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

extern char **environ;

#define BENCH_PASS "bench passphrase"
#define BENCH_SEED 0x7265706f7274ULL      /* "report" */
#define BENCH_PERSONS 1000000L
#define BENCH_MAX_PERSONS 20000000L
#define BENCH_ROUNDS 3
#define BENCH_BATCH 10000                 /* records per store transaction */
#define BENCH_NCOUNTIES 20
#define BENCH_TARGET_S 3.0                /* at 1,000,000 persons */
#define BENCH_TARGET_PERSONS 1000000.0
#define PROGRESS_EVERY 100000
#define DATE_BUF 32   /* "YYYY-MM-DD", with room for any int */

/* ---- report.c's by-county SQL, verbatim -------------------------------- */

static const char county_count_sql[] =
    "WITH pc AS (SELECT county, count(*) AS n FROM person "
    "  WHERE deleted = 0 GROUP BY county), "
    "emp AS (SELECT p.county, count(*) AS n FROM "
    "  (SELECT DISTINCT person_id FROM placement "
    "   WHERE deleted = 0 AND status = 'active') e "
    "  JOIN person p ON p.id = e.person_id WHERE p.deleted = 0 "
    "  GROUP BY p.county), "
    "tr AS (SELECT p.county, count(*) AS n, sum(t.cert) AS c FROM "
    "  (SELECT person_id, max(outcome = 'certified') AS cert FROM training "
    "   WHERE deleted = 0 AND outcome IN ('completed', 'certified') "
    "   GROUP BY person_id) t "
    "  JOIN person p ON p.id = t.person_id WHERE p.deleted = 0 "
    "  GROUP BY p.county) "
    "SELECT pc.county, pc.n, coalesce(emp.n, 0), coalesce(tr.n, 0), "
    "  coalesce(tr.c, 0) "
    "FROM pc LEFT JOIN emp ON emp.county = pc.county "
    "LEFT JOIN tr ON tr.county = pc.county ORDER BY pc.county";

static const char county_income_sql[] =
    "SELECT p.county, pl.monthly_income FROM placement pl "
    "JOIN person p ON p.id = pl.person_id WHERE pl.deleted = 0 "
    "AND p.deleted = 0 AND pl.status = 'active' "
    "AND pl.monthly_income IS NOT NULL ORDER BY p.county, pl.monthly_income";

/* The indexes wings keeps for the report's joins (records.c), by name. */
static const char plain_index_sql[] =
    "CREATE INDEX person_county ON person(county, deleted);"
    "CREATE INDEX training_person ON training(person_id, outcome, deleted);"
    "CREATE INDEX placement_person ON placement(person_id, status, deleted, "
    "monthly_income);";

static const char *const table_names[] = { "person", "training",
                                           "placement" };
#define NTABLES 3

/* ---- dying tidily ------------------------------------------------------- */

static char root_dir[PATH_MAX];   /* the temp folder; removed on every exit */
static int keep_dir;              /* --keep: leave it */

static void cleanup(void)
{
    if (root_dir[0] && !keep_dir) {
        nu_rmtree(root_dir);
        root_dir[0] = '\0';
    }
}

/* The store at 1,000,000 persons is about a gigabyte on disk: an
 * interrupted run must not leave it behind. */
static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_report: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);   /* atexit removes the temp folder */
}

static void die_sql(sqlite3 *db, int rc, const char *what)
{
    const char *vfs = wg_vfs_failure();
    die(1, "%s: %s (%s)%s%s", what, db ? sqlite3_errmsg(db) : "",
        sqlite3_errstr(rc), vfs ? ": " : "", vfs ? vfs : "");
}

static char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        die(1, "out of memory");
    return s;
}

static double now(void)
{
    return nu_seconds();
}

/* CPU seconds (user + system) this process has used: beside the wall
 * clock, as the machine may be shared. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct timing {
    double wall, cpu;
} timing;

/* ---- the generator: splitmix64 ------------------------------------------ */

static uint64_t rng_state = BENCH_SEED;

static uint64_t splitmix64(void)
{
    return nu_splitmix64(&rng_state);
}

static unsigned pick(unsigned n)
{
    return (unsigned)(splitmix64() % n);
}

/* A stateless mix of K: record ids are a function of (table, index), so a
 * training can name person j without keeping a million ids in memory. */
static uint64_t mix64(uint64_t k)
{
    uint64_t z = k + BENCH_SEED * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void record_id(char out[WG_ID_HEX_CHARS + 1], unsigned table, long i)
{
    static const char digits[] = "0123456789abcdef";
    uint64_t k = ((uint64_t)table << 40 | (uint64_t)i) * 2;
    for (int half = 0; half < 2; half++) {
        uint64_t v = mix64(k + (uint64_t)half);
        for (int j = 0; j < 16; j++, v >>= 4)
            out[half * 16 + j] = digits[v & 15];
    }
    out[WG_ID_HEX_CHARS] = '\0';
}

#define COUNT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))
#define PICK(a) ((a)[pick(COUNT(a))])

static const char *const training_categories[] = {
    "ecommerce_live", "customer_service", "handicraft", "food_processing",
    "agriculture", "it", "other" };
static const char *const courses[] = {
    "Live-stream selling basics", "Customer hotline service",
    "Bamboo weaving", "Rice noodle making", "Sugarcane farming",
    "Office software", "Massage therapy", "Embroidery", "Tea processing",
    "Mobile phone repair" };
static const char *const providers[] = {
    "County Disabled Persons' Federation", "Vocational School No. 2",
    "Guiyuan Training Centre", "Online Skills Academy",
    "Township Employment Station" };

/* County K of 20: two counties in each of the prefectures 4502..4511. */
static void county_code(unsigned k, char out[16])
{
    snprintf(out, 16, "45%02u%02u", 2 + k / 2, 21 + (k % 2) * 2);
}

/* Each draw is its own statement: argument evaluation order is unspecified,
 * and the data must not depend on the compiler. */
static void make_date(char out[DATE_BUF], int year)
{
    int month = 1 + (int)pick(12);
    int day = 1 + (int)pick((unsigned)nu_days_in_month(year, month));
    snprintf(out, DATE_BUF, "%04d-%02d-%02d", year, month, day);
}

/* ---- building the wings node -------------------------------------------- */

typedef struct builder {
    wg_store *st;
    long in_txn;        /* records added since wg_store_begin */
    long done, total;   /* records written so far, and in all */
    double t0;
} builder;

static void add(builder *b, const char *table, const char *const *names,
                const char *const *values, int n)
{
    wg_err err = { 0 };
    if (!b->in_txn && wg_store_begin(b->st, &err) != WG_OK)
        die(1, "wg_store_begin: %s", err.msg);
    if (wg_store_add(b->st, wg_schema_table(table), names, values, n, NULL,
                     &err) != WG_OK)
        die(1, "adding %s %s: %s", table, values[0], err.msg);
    if (++b->in_txn == BENCH_BATCH) {
        if (wg_store_commit(b->st, &err) != WG_OK)
            die(1, "wg_store_commit: %s", err.msg);
        b->in_txn = 0;
    }
    if (++b->done % PROGRESS_EVERY == 0 || b->done == b->total) {
        double t = now() - b->t0;
        fprintf(stderr, "  built %ld/%ld records (%s), %.1f s, %.0f records/s\n",
                b->done, b->total, table, t, (double)b->done / t);
    }
}

static void flush(builder *b)
{
    wg_err err = { 0 };
    if (b->in_txn && wg_store_commit(b->st, &err) != WG_OK)
        die(1, "wg_store_commit: %s", err.msg);
    b->in_txn = 0;
}

static void add_person(builder *b, long i, unsigned county_k)
{
    char id[WG_ID_HEX_CHARS + 1], county[16], birth[DATE_BUF], idnum[64];
    char name[48], cert[96], phone[32], registered[DATE_BUF], grade[16];
    record_id(id, 0, i);
    county_code(county_k, county);
    int y = 1960 + (int)pick(46);   /* 1960-2005 */
    make_date(birth, y);
    unsigned seq = pick(1000);
    snprintf(idnum, sizeof idnum, "%s%.4s%.2s%.2s%03u", county, birth,
             birth + 5, birth + 8, seq);
    nu_idnum_check(idnum);
    int n = snprintf(name, sizeof name, "%s", nu_surname(splitmix64()));
    n += snprintf(name + n, sizeof name - (size_t)n, "%s",
                  nu_given(splitmix64()));
    if (pick(3))   /* two thirds have a two-character given name */
        snprintf(name + n, sizeof name - (size_t)n, "%s",
                 nu_given(splitmix64()));
    unsigned cat = pick(NU_N_CATEGORIES);
    unsigned g = 1 + pick(4);
    snprintf(grade, sizeof grade, "%u", g);
    /* A disability certificate number: id number, category, grade. */
    snprintf(cert, sizeof cert, "%s%u%u", idnum, cat + 1, g);
    const char *township = nu_township(splitmix64());
    const char *pp = nu_phone_prefix(splitmix64());
    snprintf(phone, sizeof phone, "%s%08u", pp, pick(100000000));
    const char *rural = pick(4) ? "1" : "0";
    int ry = y + 16 > 2000 ? y + 16 : 2000;
    ry += (int)pick(5);
    make_date(registered, ry > 2024 ? 2024 : ry);
    const char *gender = seq % 2 ? "male" : "female";

    const char *names[] = { "id", "name", "gender", "birth_date", "id_number",
                            "disability_category", "disability_grade",
                            "certificate_no", "county", "township", "phone",
                            "rural", "registered_on" };
    const char *values[] = { id, name, gender, birth, idnum,
                             nu_category(cat), grade, cert, county,
                             township, phone, rural, registered };
    add(b, "person", names, values, (int)COUNT(names));
}

/* Outcomes: enrolled 20%, completed 35%, certified 30%, dropped 15%. */
static const char *training_outcome(void)
{
    unsigned r = pick(100);
    return r < 20 ? "enrolled" : r < 55 ? "completed" : r < 85 ? "certified"
                                                                : "dropped";
}

static void add_training(builder *b, long i, long persons,
                         const uint8_t *county_of)
{
    char id[WG_ID_HEX_CHARS + 1], pid[WG_ID_HEX_CHARS + 1], county[16];
    char start[DATE_BUF], end[DATE_BUF], hours[16];
    record_id(id, 1, i);
    long p = (long)(splitmix64() % (uint64_t)persons);
    record_id(pid, 0, p);
    county_code(county_of[p], county);
    const char *course = PICK(courses);
    const char *category = PICK(training_categories);
    const char *provider = PICK(providers);
    int y = 2018 + (int)pick(7);
    make_date(start, y);
    const char *outcome = training_outcome();
    int ended = strcmp(outcome, "enrolled") != 0;
    if (ended)
        make_date(end, y + 1);
    snprintf(hours, sizeof hours, "%u", 20 + pick(181));
    const char *names[] = { "id", "person_id", "course", "category",
                            "provider", "start_date", "end_date", "hours",
                            "outcome", "county" };
    const char *values[] = { id, pid, course, category, provider, start,
                             ended ? end : "", hours, outcome, county };
    add(b, "training", names, values, (int)COUNT(names));
}

static void add_placement(builder *b, long i, long persons,
                          const uint8_t *county_of)
{
    char id[WG_ID_HEX_CHARS + 1], pid[WG_ID_HEX_CHARS + 1], county[16];
    char start[DATE_BUF], end[DATE_BUF], income[16], employer[64];
    record_id(id, 2, i);
    long p = (long)(splitmix64() % (uint64_t)persons);
    record_id(pid, 0, p);
    county_code(county_of[p], county);
    const char *head = nu_employer_head(splitmix64());
    const char *trade = nu_employer_trade(splitmix64());
    snprintf(employer, sizeof employer, "%s %s Co.", head, trade);
    const char *type = nu_employment_type(splitmix64());
    const char *position = nu_position(splitmix64());
    int y = 2016 + (int)pick(9);
    make_date(start, y);
    int active = pick(100) < 60;
    if (!active)
        make_date(end, y + 1 + (int)pick(2));
    snprintf(income, sizeof income, "%u", 1500 + pick(6501));  /* 1500-8000 */
    const char *names[] = { "id", "person_id", "employer", "employment_type",
                            "position", "start_date", "end_date",
                            "monthly_income", "status", "county" };
    const char *values[] = { id, pid, employer, type, position, start,
                             active ? "" : end, income,
                             active ? "active" : "ended", county };
    add(b, "placement", names, values, (int)COUNT(names));
}

static void build_wings(const char *dir, long persons)
{
    wg_node_info info;
    memset(&info, 0, sizeof info);
    strcpy(info.name, "bench-hq");
    strcpy(info.county, "450000");
    info.role = WG_ROLE_HQ;
    strcpy(info.endpoint, "tcp://127.0.0.1:7400");
    wg_err err = { 0 };
    if (wg_store_create(dir, BENCH_PASS, strlen(BENCH_PASS),
                        WG_KDF_INTERACTIVE, &info, &err) != WG_OK)
        die(1, "cannot create a node in '%s': %s", dir, err.msg);
    builder b = { 0 };
    if (wg_store_open(dir, BENCH_PASS, strlen(BENCH_PASS), &b.st, &err) !=
        WG_OK)
        die(1, "cannot open '%s': %s", dir, err.msg);

    long ntrain = persons * 3 / 10, nplace = persons * 6 / 10;
    b.total = persons + ntrain + nplace;
    b.t0 = now();
    uint8_t *county_of = wg_xmalloc((size_t)persons);
    rng_state = BENCH_SEED;
    for (long i = 0; i < persons; i++) {
        county_of[i] = (uint8_t)pick(BENCH_NCOUNTIES);
        add_person(&b, i, county_of[i]);
    }
    flush(&b);
    for (long i = 0; i < ntrain; i++)
        add_training(&b, i, persons, county_of);
    flush(&b);
    for (long i = 0; i < nplace; i++)
        add_placement(&b, i, persons, county_of);
    flush(&b);
    free(county_of);
    wg_store_close(&b.st);   /* checkpoints the WAL into the database */
}

/* ---- the plain copy ------------------------------------------------------ */

static void exec_sql(sqlite3 *db, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        die(1, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        die_sql(db, rc, sql);
    return s;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = prepare(db, sql);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW)
        die_sql(db, rc, sql);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static sqlite3 *plain_open(const char *path, int create)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK)
        die_sql(db, rc, "opening the plain database");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Copy the store's three record tables into a fresh plain database at
 * PATH: each created from the store's own CREATE TABLE text, the report's
 * join indexes created before the rows go in (as the store has them while
 * it is written), then every row, in row-number order, column for column. */
static void build_plain(sqlite3 *wdb, const char *path)
{
    sqlite3 *db = plain_open(path, 1);
    exec_sql(db, "PRAGMA page_size=4096; PRAGMA journal_mode=MEMORY;"
                 "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;",
             "setting build pragmas");
    sqlite3_stmt *s = prepare(wdb, "SELECT sql FROM sqlite_master "
                                   "WHERE type = 'table' AND name = ?");
    for (int t = 0; t < NTABLES; t++) {
        sqlite3_bind_text(s, 1, table_names[t], -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW)
            die(1, "the store has no table %s", table_names[t]);
        exec_sql(db, (const char *)sqlite3_column_text(s, 0),
                 "creating a plain table");
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    exec_sql(db, plain_index_sql, "creating the plain indexes");

    double t0 = now();
    for (int t = 0; t < NTABLES; t++) {
        char *sel = xasprintf("SELECT * FROM %s", table_names[t]);
        sqlite3_stmt *r = prepare(wdb, sel);
        int ncol = sqlite3_column_count(r);
        char *ins = xasprintf("INSERT INTO %s VALUES(?", table_names[t]);
        for (int c = 1; c < ncol; c++) {
            char *more = xasprintf("%s, ?", ins);
            free(ins);
            ins = more;
        }
        char *fin = xasprintf("%s)", ins);
        sqlite3_stmt *w = prepare(db, fin);
        exec_sql(db, "BEGIN", "beginning");
        long n = 0;
        int rc;
        while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
            for (int c = 0; c < ncol; c++)
                sqlite3_bind_value(w, c + 1, sqlite3_column_value(r, c));
            if ((rc = sqlite3_step(w)) != SQLITE_DONE)
                die_sql(db, rc, "copying a row");
            sqlite3_reset(w);
            if (++n % 100000 == 0) {
                exec_sql(db, "COMMIT; BEGIN", "committing");
                fprintf(stderr, "  copied %ld %s rows, %.1f s\n", n,
                        table_names[t], now() - t0);
            }
        }
        if (rc != SQLITE_DONE)
            die_sql(wdb, rc, "reading the store's rows");
        exec_sql(db, "COMMIT", "committing");
        fprintf(stderr, "  copied %ld %s rows, %.1f s\n", n, table_names[t],
                now() - t0);
        sqlite3_finalize(w);
        sqlite3_finalize(r);
        free(fin);
        free(ins);
        free(sel);
    }
    if (sqlite3_close(db) != SQLITE_OK)
        die(1, "closing the plain database: %s", sqlite3_errmsg(db));
}

/* ---- the report, as report.c computes it, on a plain connection ---------- */

typedef struct incomes {
    int64_t *v;
    size_t n, cap;
} incomes;

static void push(incomes *in, int64_t v)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 1024;
        in->v = wg_xrealloc(in->v, in->cap * sizeof *in->v);
    }
    in->v[in->n++] = v;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void set_median(wg_report_row *r, const int64_t *v, size_t n)
{
    if (!n)
        return;
    r->has_median = 1;
    r->median = n % 2 ? (double)v[n / 2]
                      : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

static double round1(double v)
{
    return floor(v * 10.0 + 0.5) / 10.0;
}

static wg_report_row *find_row(wg_report_row *rows, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].key, key))
            return &rows[i];
    return NULL;
}

/* Both statements prepared, stepped and decoded, counters and medians
 * computed: the work wg_store_report() does, minus the store. Rows sorted
 * by county; at most BENCH_NCOUNTIES + 1 of them. *INCOME_ROWS counts the
 * rows of the income query. */
static void plain_report(sqlite3 *db, wg_report_row *rows, size_t *n,
                         wg_report_row *total, long *income_rows)
{
    enum { MAXROWS = BENCH_NCOUNTIES * 4 };
    *n = 0;
    memset(total, 0, sizeof *total);
    snprintf(total->key, sizeof total->key, "total");
    sqlite3_stmt *s = prepare(db, county_count_sql);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == MAXROWS)
            die(1, "the count query returned more than %d rows", MAXROWS);
        wg_report_row *r = &rows[(*n)++];
        memset(r, 0, sizeof *r);
        const char *k = (const char *)sqlite3_column_text(s, 0);
        snprintf(r->key, sizeof r->key, "%s", k ? k : "(none)");
        r->persons = (long)sqlite3_column_int64(s, 1);
        r->employed = (long)sqlite3_column_int64(s, 2);
        r->trained = (long)sqlite3_column_int64(s, 3);
        r->certified = (long)sqlite3_column_int64(s, 4);
        total->persons += r->persons;
        total->employed += r->employed;
        total->trained += r->trained;
        total->certified += r->certified;
    }
    if (rc != SQLITE_DONE)
        die_sql(db, rc, "the count query");
    sqlite3_finalize(s);

    incomes all = { 0 }, one = { 0 };
    char key[32] = "";
    long nin = 0;
    s = prepare(db, county_income_sql);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        k = k ? k : "(none)";
        if (strcmp(k, key)) {
            wg_report_row *r = one.n ? find_row(rows, *n, key) : NULL;
            if (r)
                set_median(r, one.v, one.n);
            one.n = 0;
            snprintf(key, sizeof key, "%s", k);
        }
        int64_t v = sqlite3_column_int64(s, 1);
        push(&one, v);
        push(&all, v);
        nin++;
    }
    if (rc != SQLITE_DONE)
        die_sql(db, rc, "the income query");
    sqlite3_finalize(s);
    wg_report_row *r = one.n ? find_row(rows, *n, key) : NULL;
    if (r)
        set_median(r, one.v, one.n);
    qsort(all.v, all.n, sizeof *all.v, cmp64);
    set_median(total, all.v, all.n);
    free(all.v);
    free(one.v);
    for (size_t i = 0; i < *n; i++)
        rows[i].rate = rows[i].persons
                           ? round1(100.0 * (double)rows[i].employed /
                                    (double)rows[i].persons)
                           : 0.0;
    *income_rows = nin;
}

static int same_row(const wg_report_row *a, const wg_report_row *b)
{
    return !strcmp(a->key, b->key) && a->persons == b->persons &&
           a->employed == b->employed && a->trained == b->trained &&
           a->certified == b->certified && a->has_median == b->has_median &&
           (!a->has_median || a->median == b->median);
}

static void show_row(FILE *f, const char *who, const wg_report_row *r)
{
    fprintf(f, "  %-8s %-8s persons %ld employed %ld trained %ld certified "
               "%ld median %s%.1f\n",
            who, r->key, r->persons, r->employed, r->trained, r->certified,
            r->has_median ? "" : "(none) ", r->median);
}

/* ---- the contenders ------------------------------------------------------ */

static timing time_wings(wg_store *st, long persons, int check,
                         const wg_report_row *want, size_t nwant,
                         const wg_report_row *want_total)
{
    wg_report_row *rows = NULL, total;
    size_t n = 0;
    wg_err err = { 0 };
    double c0 = cpu_now(), t0 = now();
    wg_rc rc = wg_store_report(st, WG_REPORT_COUNTY, &rows, &n, &total, &err);
    timing t = { now() - t0, cpu_now() - c0 };
    if (rc != WG_OK)
        die(1, "wg_store_report: %s", err.msg);
    if (total.persons != persons)
        die(1, "the wings report counts %ld persons in all, expected %ld",
            total.persons, persons);
    if (check) {
        int ok = n == nwant && same_row(&total, want_total);
        for (size_t i = 0; ok && i < n; i++)
            ok = same_row(&rows[i], &want[i]);
        if (!ok) {
            fprintf(stderr, "bench_report: the wings report differs from the "
                            "plain one:\n");
            for (size_t i = 0; i < n || i < nwant; i++) {
                if (i < n)
                    show_row(stderr, "wings", &rows[i]);
                if (i < nwant)
                    show_row(stderr, "plain", &want[i]);
            }
            show_row(stderr, "wings", &total);
            show_row(stderr, "plain", want_total);
            exit(1);
        }
    }
    free(rows);
    return t;
}

static char *sqlite_path;
static char *sql_path, *plain_path, *shell_err_path;

/* `sqlite3 plain.db < report.sql > OUT`, timed as a whole process (its CPU
 * time from wait4). Any exit other than 0, or anything on stderr, is
 * fatal. */
static timing time_shell(const char *out)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, sql_path, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, shell_err_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = { sqlite_path, plain_path, NULL };
    fflush(NULL);
    pid_t pid;
    double t0 = now();
    int e = posix_spawn(&pid, sqlite_path, &fa, NULL, argv, environ);
    if (e)
        die(1, "cannot run %s: %s", sqlite_path, strerror(e));
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            die(1, "wait4: %s", strerror(errno));
    timing t = { now() - t0,
                 (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec +
                     (double)ru.ru_stime.tv_usec / 1e6 };
    posix_spawn_file_actions_destroy(&fa);
    struct stat sb;
    int quiet = stat(shell_err_path, &sb) == 0 && sb.st_size == 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !quiet)
        die(1, "the sqlite3 shell failed (%s %d); its stderr is in %s",
            WIFEXITED(status) ? "exit" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
            shell_err_path);
    return t;
}

static timing time_capi(sqlite3 *db, long persons, wg_report_row *rows,
                        size_t *n, wg_report_row *total, long *income_rows)
{
    double c0 = cpu_now(), t0 = now();
    plain_report(db, rows, n, total, income_rows);
    timing t = { now() - t0, cpu_now() - c0 };
    if (total->persons != persons)
        die(1, "the plain report counts %ld persons, expected %ld",
            total->persons, persons);
    return t;
}

/* ---- small things -------------------------------------------------------- */

static double file_mib(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (double)sb.st_size / (1024.0 * 1024.0) : 0;
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die(1, "cannot read %s: %s", path, strerror(errno));
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* The query plan of SQL on DB, one line per step, into BUF. */
static void query_plan(sqlite3 *db, const char *sql, char *buf, size_t cap)
{
    char *eqp = xasprintf("EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *s = prepare(db, eqp);
    size_t len = 0;
    buf[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW && len < cap) {
        int w = snprintf(buf + len, cap - len, "    %s\n",
                         (const char *)sqlite3_column_text(s, 3));
        len += w > 0 ? (size_t)w : 0;
    }
    sqlite3_finalize(s);
    free(eqp);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(const double *v, int n)
{
    double *c = wg_xmalloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

static double best_of(const double *v, int n)
{
    double b = v[0];
    for (int i = 1; i < n; i++)
        b = v[i] < b ? v[i] : b;
    return b;
}

static long parse_count(const char *s, const char *what, long lo, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > max) {
        fprintf(stderr, "bench_report: %s must be %ld-%ld, not '%s'\n", what,
                lo, max, s);
        exit(2);
    }
    return v;
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: bench_report [--persons N] [--rounds R] [--sqlite PATH] "
            "[--verbose] [--keep]\n"
            "  --persons N   persons in the store (default %ld); 0.3 N "
            "trainings, 0.6 N placements\n"
            "  --rounds R    rounds, each timing every contender once "
            "(default %d)\n"
            "  --sqlite PATH the sqlite3 shell (default: sqlite3 on PATH)\n"
            "  --verbose     query plans on both sides\n"
            "  --keep        leave the temp folder (node, plain.db, "
            "report.sql) for profiling\n",
            BENCH_PERSONS, BENCH_ROUNDS);
}

enum { C_WINGS = 0, C_SHELL, C_CAPI, NCONT };
static const char *const cont_names[NCONT] = { "wings report", "sqlite3 shell",
                                               "sqlite3 C API" };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "persons", required_argument, NULL, 'n' },
        { "rounds", required_argument, NULL, 'r' },
        { "sqlite", required_argument, NULL, 's' },
        { "verbose", no_argument, NULL, 'v' },
        { "keep", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 } };
    long persons = BENCH_PERSONS;
    int rounds = BENCH_ROUNDS, verbose = 0, c;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            persons = parse_count(optarg, "--persons", 10, BENCH_MAX_PERSONS);
            break;
        case 'r':
            rounds = (int)parse_count(optarg, "--rounds", 1, 1000);
            break;
        case 's': sqlite_path = xasprintf("%s", optarg); break;
        case 'v': verbose = 1; break;
        case 'k': keep_dir = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!sqlite_path && !(sqlite_path = nu_find_on_path("sqlite3"))) {
        fprintf(stderr, "bench_report: the sqlite3 shell is not on PATH; "
                        "install it (e.g. apt-get install sqlite3) or pass "
                        "--sqlite PATH\n");
        return 2;
    }
    if (access(sqlite_path, X_OK) != 0) {
        fprintf(stderr, "bench_report: cannot run '%s': %s\n", sqlite_path,
                strerror(errno));
        return 2;
    }

    wg_err err = { 0 };
    if (wg_crypto_init(&err) != WG_OK)
        die(1, "cannot initialise crypto: %s", err.msg);

    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (snprintf(root_dir, sizeof root_dir, "%s/bench_report.XXXXXX", tmp) >=
        (int)sizeof root_dir)
        die(2, "TMPDIR is too long");
    if (!mkdtemp(root_dir)) {
        int e = errno;
        root_dir[0] = '\0';
        die(1, "mkdtemp in %s: %s", tmp, strerror(e));
    }
    if (keep_dir)
        fprintf(stderr, "keeping %s (node/, plain.db, report.sql)\n",
                root_dir);
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);

    char *node_dir = xasprintf("%s/node", root_dir);
    char *wings_db = xasprintf("%s/%s", node_dir, WG_STORE_DBFILE);
    plain_path = xasprintf("%s/plain.db", root_dir);
    sql_path = xasprintf("%s/report.sql", root_dir);
    shell_err_path = xasprintf("%s/shell.err", root_dir);
    char *shell_out = xasprintf("%s/shell.out", root_dir);

    long ntrain = persons * 3 / 10, nplace = persons * 6 / 10;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_report: %ld persons, %ld trainings, %ld placements over %d "
           "counties; %d round%s\n",
           persons, ntrain, nplace, BENCH_NCOUNTIES, rounds,
           rounds == 1 ? "" : "s");
    printf("SQLite library %s; shell %s; %ld CPU%s\n", sqlite3_libversion(),
           sqlite_path, cpus, cpus == 1 ? "" : "s");
    fflush(stdout);

    /* ---- build, untimed ---- */
    fprintf(stderr, "building the wings node (%ld records, transactions of "
                    "%d)...\n", persons + ntrain + nplace, BENCH_BATCH);
    double t0 = now();
    build_wings(node_dir, persons);
    double t_build = now() - t0;

    wg_store *st = NULL;
    if (wg_store_open(node_dir, BENCH_PASS, strlen(BENCH_PASS), &st, &err) !=
        WG_OK)
        die(1, "cannot open the node: %s", err.msg);
    fprintf(stderr, "copying into the plain database...\n");
    t0 = now();
    build_plain(st->db, plain_path);
    double t_copy = now() - t0;

    FILE *f = fopen(sql_path, "w");
    if (!f || fprintf(f, "%s;\n%s;\n", county_count_sql, county_income_sql) <
                  0 || fclose(f))
        die(1, "cannot write %s", sql_path);

    /* Both in-process sides start from a fresh connection, their caches
     * empty (the plain copy read every store page). */
    wg_store_close(&st);
    if (wg_store_open(node_dir, BENCH_PASS, strlen(BENCH_PASS), &st, &err) !=
        WG_OK)
        die(1, "cannot reopen the node: %s", err.msg);
    sqlite3 *pdb = plain_open(plain_path, 0);
    /* The store's read-side settings (store.c open_db), minus exclusive
     * locking and WAL, which would keep the shell out. */
    exec_sql(pdb, "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0;"
                  "PRAGMA cache_size=-32768; PRAGMA trusted_schema=OFF;",
             "setting pragmas");

    printf("build (untimed): wings node %.1f s (%.0f records/s), plain copy "
           "%.1f s\n", t_build, (double)(persons + ntrain + nplace) / t_build,
           t_copy);
    printf("db size: wings %.1f MiB, plain %.1f MiB\n", file_mib(wings_db),
           file_mib(plain_path));
    printf("rows:          %10s %10s\n", "wings", "plain");
    for (int t = 0; t < NTABLES; t++) {
        char *q = xasprintf("SELECT count(*) FROM %s", table_names[t]);
        int64_t w = query_int(st->db, q), p = query_int(pdb, q);
        printf("  %-11s %10lld %10lld\n", table_names[t], (long long)w,
               (long long)p);
        if (w != p)
            die(1, "%s: %lld rows in wings, %lld in the plain copy",
                table_names[t], (long long)w, (long long)p);
        free(q);
    }
    int64_t active = query_int(pdb, "SELECT count(*) FROM placement WHERE "
                                    "status = 'active'");
    int64_t placed = query_int(pdb, "SELECT count(DISTINCT person_id) FROM "
                                    "placement WHERE status = 'active'");
    printf("  active placements %lld, persons with one %lld\n",
           (long long)active, (long long)placed);

    /* Same plan on both sides? */
    static char plan_w[8192], plan_p[8192];
    const char *const sqls[2] = { county_count_sql, county_income_sql };
    const char *const what[2] = { "count query", "income query" };
    for (int q = 0; q < 2; q++) {
        query_plan(st->db, sqls[q], plan_w, sizeof plan_w);
        query_plan(pdb, sqls[q], plan_p, sizeof plan_p);
        int same = !strcmp(plan_w, plan_p);
        printf("query plan, %s: %s\n", what[q],
               same ? "the same on both sides" : "DIFFERS");
        if (verbose || !same)
            printf("  wings:\n%s  plain:\n%s", plan_w, plan_p);
    }

    /* Untimed: the plain report, to check wings against, and one shell run
     * whose output is kept, to check that it printed what it should. */
    wg_report_row want[BENCH_NCOUNTIES * 4], want_total;
    size_t nwant;
    long income_rows;
    plain_report(pdb, want, &nwant, &want_total, &income_rows);
    time_shell(shell_out);
    long lines = count_lines(shell_out);
    if (lines != (long)nwant + income_rows)
        die(1, "the sqlite3 shell printed %ld lines, expected %ld",
            lines, (long)nwant + income_rows);
    remove(shell_out);
    printf("report: %zu counties, %ld persons, %ld employed, %ld trained, "
           "%ld certified, median income %.1f (%ld active incomes)\n",
           nwant, want_total.persons, want_total.employed, want_total.trained,
           want_total.certified, want_total.median, income_rows);
    fflush(stdout);

    /* ---- timed rounds ---- */
    timing *t[NCONT];
    for (int k = 0; k < NCONT; k++)
        t[k] = wg_xcalloc((size_t)rounds, sizeof(timing));
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < NCONT; k++) {
            int who = (k + r) % NCONT;
            switch (who) {
            case C_WINGS:
                t[who][r] = time_wings(st, persons, 1, want, nwant,
                                       &want_total);
                break;
            case C_SHELL:
                t[who][r] = time_shell("/dev/null");
                break;
            case C_CAPI: {
                wg_report_row rows[BENCH_NCOUNTIES * 4], total;
                size_t n;
                long nin;
                t[who][r] = time_capi(pdb, persons, rows, &n, &total, &nin);
                break;
            }
            }
        }
        printf("round %d (%s first): wings report %.3f s (cpu %.3f), "
               "sqlite3 shell %.3f s (cpu %.3f), sqlite3 C API %.3f s "
               "(cpu %.3f)\n",
               r + 1, cont_names[r % NCONT], t[C_WINGS][r].wall,
               t[C_WINGS][r].cpu, t[C_SHELL][r].wall, t[C_SHELL][r].cpu,
               t[C_CAPI][r].wall, t[C_CAPI][r].cpu);
        fflush(stdout);
    }

    /* Best and median wall clock, best CPU time, per contender. */
    double best[NCONT], med[NCONT], cpu[NCONT];
    for (int k = 0; k < NCONT; k++) {
        double *w = wg_xmalloc((size_t)rounds * sizeof *w);
        double *u = wg_xmalloc((size_t)rounds * sizeof *u);
        for (int r = 0; r < rounds; r++) {
            w[r] = t[k][r].wall;
            u[r] = t[k][r].cpu;
        }
        best[k] = best_of(w, rounds);
        med[k] = median_of(w, rounds);
        cpu[k] = best_of(u, rounds);
        free(w);
        free(u);
    }
    printf("best of %d rounds, wall clock (median wall; best CPU user+sys):\n",
           rounds);
    for (int k = 0; k < NCONT; k++)
        printf("%s: %.3f s  [median %.3f s; cpu %.3f s]\n", cont_names[k],
               best[k], med[k], cpu[k]);
    printf("ratio wings / sqlite3 shell: %.2f (cpu %.2f)\n",
           best[C_WINGS] / best[C_SHELL], cpu[C_WINGS] / cpu[C_SHELL]);
    printf("ratio wings / sqlite3 C API: %.2f (cpu %.2f; the fairer "
           "yardstick)\n",
           best[C_WINGS] / best[C_CAPI], cpu[C_WINGS] / cpu[C_CAPI]);
    printf("check: wings report total persons %ld = %ld, and every county "
           "row (counts, median) equal to the plain one: ok\n",
           want_total.persons, persons);
    if (persons == (long)BENCH_TARGET_PERSONS) {
        printf("target: report over 1,000,000 persons well under a few "
               "seconds (< %.0f s): %s (%.3f s)\n",
               BENCH_TARGET_S, best[C_WINGS] < BENCH_TARGET_S ? "yes" : "NO",
               best[C_WINGS]);
    } else {
        double at = best[C_WINGS] * BENCH_TARGET_PERSONS / (double)persons;
        printf("target: report over 1,000,000 persons < %.0f s: not measured "
               "(%ld persons; linear extrapolation %.3f s, %s; run with the "
               "default --persons)\n",
               BENCH_TARGET_S, persons, at,
               at < BENCH_TARGET_S ? "under" : "OVER");
    }

    for (int k = 0; k < NCONT; k++)
        free(t[k]);
    if (sqlite3_close(pdb) != SQLITE_OK)
        die(1, "closing the plain database");
    wg_store_close(&st);
    free(shell_out);
    free(node_dir);
    free(wings_db);
    return 0;
}
