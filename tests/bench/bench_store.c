/*
 * bench_store.c - the encrypted store against plain SQLite, same workload
 *
 * A program, not a test. Each round builds a fresh plain SQLite database
 * (default VFS) and a fresh wings node (the "wings" VFS, Argon2id
 * interactive), both under the store's pragmas, and runs four phases on
 * each, the two sides taking turns within a phase (and swapping who goes
 * first every round): insert, point reads by primary key, one GROUP BY over
 * the whole table, single commits, and a cold open. Both sides get identical rows from one
 * deterministic generator. The best round of each side is reported.
 *
 *   bench_store [--rounds N] [--rows N] [--reads N] [--commits N]
 *               [--only SIDE] [--reopen] [-v]
 *
 * Single commits: N transactions of one write each, as a clerk saves a
 * record: on the plain side an INSERT of one ~200-byte row, on the wings
 * side one audit entry through the store (a change encoded, signed,
 * merged, the feed head and clock written, COMMIT, and the rollback mark's
 * slot rewritten in place). Both sides sync each commit (WAL,
 * synchronous=FULL).
 *
 * With the store's 64 MiB page cache the default table stays cached after
 * the insert, so the read phases never reach the VFS; --reopen closes and
 * reopens both sides (untimed) before each read phase, so every page they
 * touch is read through the VFS (and, for wings, decrypted) once.
 * --only plain|wings runs one side alone, for perf or callgrind.
 */
#include "store_int.h"
#include "../nodeutil.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PASS "bench passphrase"
#define BENCH_SEED 0x77696e67735eedULL
#define BENCH_BATCH 1000          /* rows per insert transaction */
#define BENCH_ROWS 200000
#define BENCH_ROUNDS 3
#define BENCH_COLS 10
#define BENCH_COMMITS 1000

enum { SIDE_PLAIN = 0, SIDE_WINGS = 1, SIDES };
enum { PH_INSERT = 0, PH_POINT, PH_GROUP, PH_COMMIT, PH_OPEN, PHASES };

/* Same statements on both sides; sqlite3_exec runs the whole string. */
static const char pragma_sql[] =
    "PRAGMA locking_mode=EXCLUSIVE;"
    "PRAGMA temp_store=MEMORY;"
    "PRAGMA mmap_size=0;"
    "PRAGMA cache_size=-65536;"
    "PRAGMA trusted_schema=OFF;";

/* The store makes its own record tables (placement among them, WITHOUT
 * ROWID, with clocks), so the benchmark's table has a name of its own and
 * one schema on both sides. */
static const char schema_sql[] =
    "CREATE TABLE bench_placement("
    "id TEXT PRIMARY KEY, person_id TEXT NOT NULL, employer TEXT NOT NULL,"
    "employment_type TEXT NOT NULL, position TEXT, start_date TEXT NOT NULL,"
    "end_date TEXT, monthly_income INTEGER, status TEXT NOT NULL,"
    "county TEXT NOT NULL);"
    "CREATE INDEX bench_placement_county ON bench_placement(county);"
    "CREATE INDEX bench_placement_person ON bench_placement(person_id);";

static const char insert_sql[] =
    "INSERT INTO bench_placement(id, person_id, employer, employment_type, "
    "position, start_date, end_date, monthly_income, status, county) "
    "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char point_sql[] = "SELECT * FROM bench_placement WHERE id = ?";
static const char group_sql[] =
    "SELECT county, employment_type, count(*), avg(monthly_income) "
    "FROM bench_placement GROUP BY county, employment_type";
static const char count_sql[] = "SELECT count(*) FROM bench_placement";

/* ---- dying tidily ------------------------------------------------------- */

/* The folders of the round in progress, removed on every exit path. */
static char *live_dirs[SIDES];

static void rmtree(char **dir)
{
    if (*dir) {
        nu_rmtree(*dir);
        free(*dir);
        *dir = NULL;
    }
}

static void cleanup(void)
{
    for (int i = 0; i < SIDES; i++)
        rmtree(&live_dirs[i]);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                      noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("bench_store: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cleanup();
    exit(1);
}

static void die_sql(sqlite3 *db, int rc, const char *what)
{
    const char *vfs = wg_vfs_failure();
    die("%s: %s (%s)%s%s", what, db ? sqlite3_errmsg(db) : "",
        sqlite3_errstr(rc), vfs ? ": " : "", vfs ? vfs : "");
}

/* ---- the generator: splitmix64, one stream for everything --------------- */

static uint64_t rng_state = BENCH_SEED;

static uint64_t rng_next(void)
{
    return nu_splitmix64(&rng_state);
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

/* ---- the rows ----------------------------------------------------------- */

typedef struct row {
    char id[33];
    char person_id[33];
    char employer[32];
    char start_date[11];
    char end_date[11];          /* "" is NULL */
    char county[7];
    const char *employment_type;
    const char *position;
    const char *status;
    int64_t monthly_income;
} row;

static const char *const side_names[SIDES] = { "plain", "wings" };

static void rand_hex32(char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int half = 0; half < 2; half++) {
        uint64_t v = rng_next();
        for (int i = 0; i < 16; i++, v >>= 4)
            out[half * 16 + i] = digits[v & 15];
    }
    out[32] = 0;
}

/* Each draw is its own statement: argument evaluation order is unspecified,
 * and the data must not depend on the compiler. */
static void make_date(char out[11], int year)
{
    int month = 1 + (int)rng_below(12);
    int day = 1 + (int)rng_below(28);
    snprintf(out, 11, "%04d-%02d-%02d", year, month, day);
}

static void make_rows(row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        rand_hex32(r->id);
        rand_hex32(r->person_id);
        const char *head = nu_employer_head(rng_next());
        const char *trade = nu_employer_trade(rng_next());
        snprintf(r->employer, sizeof r->employer, "%s %s Co.", head, trade);
        r->employment_type = nu_employment_type(rng_next());
        r->position = nu_position(rng_next());
        int year = 2015 + (int)rng_below(10);
        make_date(r->start_date, year);
        if (rng_below(10) < 3) {
            make_date(r->end_date, year + 1 + (int)rng_below(2));
            r->status = "ended";
        } else {
            r->end_date[0] = 0;
            r->status = "active";
        }
        r->monthly_income = 1500 + (int64_t)rng_below(10500);
        /* Guangxi-like codes: 14 prefectures of 12 counties. */
        unsigned pref = 1 + rng_below(14);
        unsigned cnty = 21 + rng_below(12);
        snprintf(r->county, sizeof r->county, "45%02u%02u", pref, cnty);
    }
}

/* ---- small SQL helpers, the same for both sides ------------------------ */

static void exec_sql(sqlite3 *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        die_sql(db, rc, what);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        die_sql(db, rc, "preparing a statement");
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

static int close_enough(double a, double b)
{
    double d = a > b ? a - b : b - a, m = a > 0 ? a : -a;
    return d <= 1e-9 * m;
}

static double now_s(void)
{
    return nu_seconds();
}

/* Pages SQLite fetched from the file (each one decrypted, for wings) and
 * pages it wrote to the WAL (each one sealed) since the last call. */
typedef struct page_counts {
    int misses;
    int writes;
} page_counts;

static page_counts take_page_counts(sqlite3 *db)
{
    page_counts pc = { 0, 0 };
    int hi = 0;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &pc.misses, &hi, 1);
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &pc.writes, &hi, 1);
    return pc;
}

/* ---- the two sides ------------------------------------------------------ */

typedef struct side {
    char *dir;           /* mkdtemp folder: live_dirs[] owns it */
    char *path;          /* the database file */
    sqlite3 *db;         /* plain: ours; wings: st->db, borrowed */
    wg_store *st;        /* wings only */
} side;

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = wg_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *make_tmpdir(const char *what)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/wings-bench-%s-XXXXXX",
             base && *base ? base : "/tmp", what);
    if (!mkdtemp(tmpl))
        die("cannot make a folder from '%s': %s", tmpl, strerror(errno));
    return wg_xstrdup(tmpl);
}

/* Open PATH on the default VFS exactly as store.c's open_db() opens the
 * store: same flags, same pragmas in the same order. */
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
    exec_sql(db, pragma_sql, "setting pragmas");
    if (create)
        exec_sql(db, "PRAGMA page_size=4096;", "setting the page size");
    sqlite3_stmt *s = prepare(db, "PRAGMA journal_mode=WAL");
    rc = sqlite3_step(s);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(s, 0)
                                                 : NULL;
    int wal = mode && !strcmp((const char *)mode, "wal");
    sqlite3_finalize(s);
    if (!wal)
        die("plain database would not switch to WAL mode");
    exec_sql(db, "PRAGMA synchronous=FULL;", "setting synchronous");
    return db;
}

static void plain_create(side *sd)
{
    sd->dir = live_dirs[SIDE_PLAIN] = make_tmpdir("plain");
    sd->path = path_join(sd->dir, "plain.db");
    sd->db = plain_open(sd->path, 1);
    exec_sql(sd->db, schema_sql, "creating the plain schema");
    exec_sql(sd->db, "CREATE TABLE bench_commit(n INTEGER PRIMARY KEY, "
                     "v TEXT NOT NULL)", "creating the commit table");
}

static void wings_open(side *sd)
{
    wg_err err = { 0 };
    if (wg_store_open(sd->dir, BENCH_PASS, strlen(BENCH_PASS), &sd->st,
                      &err) != WG_OK)
        die("cannot open store '%s': %s", sd->dir, err.msg);
    sd->db = sd->st->db;
}

static void wings_create(side *sd)
{
    sd->dir = live_dirs[SIDE_WINGS] = make_tmpdir("wings");
    sd->path = path_join(sd->dir, WG_STORE_DBFILE);
    wg_node_info info;
    nu_node_info(&info, "bench", "450224", WG_ROLE_OFFICE);
    wg_err err = { 0 };
    if (wg_store_create(sd->dir, BENCH_PASS, strlen(BENCH_PASS),
                        WG_KDF_INTERACTIVE, &info, &err) != WG_OK)
        die("cannot create store '%s': %s", sd->dir, err.msg);
    wings_open(sd);
    exec_sql(sd->db, schema_sql, "creating the wings schema");
}

static void side_close(side *sd)
{
    if (sd->st) {
        wg_store_close(&sd->st);
    } else if (sd->db) {
        int rc = sqlite3_close(sd->db);
        if (rc != SQLITE_OK)
            die_sql(sd->db, rc, "closing the plain database");
    }
    sd->db = NULL;
}

static void side_destroy(side *sd, int which)
{
    side_close(sd);
    free(sd->path);
    sd->path = NULL;
    rmtree(&live_dirs[which]);
    sd->dir = NULL;
}

static double file_mib(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (double)sb.st_size / (1024.0 * 1024.0) : 0;
}

/* ---- the phases: each returns seconds ----------------------------------- */

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static double phase_insert(sqlite3 *db, const row *rows, int n)
{
    sqlite3_stmt *s = prepare(db, insert_sql);
    double t0 = now_s();
    for (int i = 0; i < n; i += BENCH_BATCH) {
        int end = n - i < BENCH_BATCH ? n : i + BENCH_BATCH;
        exec_sql(db, "BEGIN IMMEDIATE", "beginning");
        for (int j = i; j < end; j++) {
            const row *r = &rows[j];
            bind_text(s, 1, r->id);
            bind_text(s, 2, r->person_id);
            bind_text(s, 3, r->employer);
            bind_text(s, 4, r->employment_type);
            bind_text(s, 5, r->position);
            bind_text(s, 6, r->start_date);
            if (r->end_date[0])
                bind_text(s, 7, r->end_date);
            else
                sqlite3_bind_null(s, 7);
            sqlite3_bind_int64(s, 8, r->monthly_income);
            bind_text(s, 9, r->status);
            bind_text(s, 10, r->county);
            int rc = sqlite3_step(s);
            if (rc != SQLITE_DONE)
                die_sql(db, rc, "inserting");
            sqlite3_reset(s);
        }
        exec_sql(db, "COMMIT", "committing");
    }
    double t = now_s() - t0;
    sqlite3_finalize(s);
    return t;
}

/* Every column of every row is decoded; *SUM folds their sizes and the
 * incomes so the two sides can be checked against each other. */
static double phase_point(sqlite3 *db, const row *rows, const int *picks,
                          int n, uint64_t *sum)
{
    sqlite3_stmt *s = prepare(db, point_sql);
    uint64_t acc = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        bind_text(s, 1, rows[picks[i]].id);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
            die_sql(db, rc, "reading a row by id");
        for (int c = 0; c < BENCH_COLS; c++)
            acc += sqlite3_column_type(s, c) == SQLITE_INTEGER
                       ? (uint64_t)sqlite3_column_int64(s, c)
                       : (uint64_t)sqlite3_column_bytes(s, c);
        sqlite3_reset(s);
    }
    double t = now_s() - t0;
    sqlite3_finalize(s);
    *sum = acc;
    return t;
}

static double phase_group(sqlite3 *db, int64_t *groups, int64_t *total,
                          double *income)
{
    sqlite3_stmt *s = prepare(db, group_sql);
    int64_t g = 0, n = 0;
    double inc = 0;
    double t0 = now_s();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t c = sqlite3_column_int64(s, 2);
        (void)sqlite3_column_text(s, 0);
        (void)sqlite3_column_text(s, 1);
        inc += sqlite3_column_double(s, 3) * (double)c;
        n += c;
        g++;
    }
    double t = now_s() - t0;
    if (rc != SQLITE_DONE)
        die_sql(db, rc, "grouping");
    sqlite3_finalize(s);
    *groups = g;
    *total = n;
    *income = inc;
    return t;
}

/* N transactions of one write each (see the banner). */
static double phase_commit(side *sd, int which, int n)
{
    static const char text[] =
        "session out ok peer=hq key=0123456789abcdef sent=12 received=3 "
        "refused=0; a single write of about the size of a person's record, "
        "committed alone as a clerk saves one record at a time.........";
    sqlite3_stmt *s = which == SIDE_PLAIN
        ? prepare(sd->db, "INSERT INTO bench_commit(v) VALUES(?)") : NULL;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (which == SIDE_WINGS) {
            wg_audit_entry a = { 0 };
            wg_err err = { 0 };
            a.event = "bench";
            a.peer = "hq";
            a.reason = text;
            if (wg_store_audit(sd->st, &a, &err) != WG_OK)
                die("writing an audit entry: %s", err.msg);
            continue;
        }
        exec_sql(sd->db, "BEGIN IMMEDIATE", "beginning");
        bind_text(s, 1, text);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
            die_sql(sd->db, rc, "inserting");
        sqlite3_reset(s);
        exec_sql(sd->db, "COMMIT", "committing");
    }
    double t = now_s() - t0;
    sqlite3_finalize(s);
    return t;
}

/* Open a side's existing database again, after side_close(). */
static void side_open(side *sd, int which)
{
    if (which == SIDE_WINGS)
        wings_open(sd);
    else
        sd->db = plain_open(sd->path, 0);
}

/* Close (untimed: it checkpoints the WAL away), then open and count. */
static double phase_open(side *sd, int which, int64_t *count)
{
    side_close(sd);
    double t0 = now_s();
    side_open(sd, which);
    *count = query_int(sd->db, count_sql);
    return now_s() - t0;
}

/* Argon2id alone: unwrap the data key from the node's key file. */
static double time_kdf(const char *dir)
{
    char *path = path_join(dir, WG_STORE_KEYFILE);
    uint8_t kf[WG_KEYFILE_BYTES + 1];
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot read '%s': %s", path, strerror(errno));
    size_t n = fread(kf, 1, sizeof kf, f);
    fclose(f);
    free(path);
    uint8_t *key = wg_secret_alloc(WG_KEY_BYTES);
    uint8_t dbid[WG_DBID_BYTES];
    wg_err err = { 0 };
    double t0 = now_s();
    wg_rc rc = wg_keyfile_open(kf, n, BENCH_PASS, strlen(BENCH_PASS), key,
                               dbid, NULL, &err);
    double t = now_s() - t0;
    wg_secret_free(key);
    if (rc != WG_OK)
        die("cannot unwrap the key of '%s': %s", dir, err.msg);
    return t;
}

/* ---- reporting ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double best_of(const double *t, int n)
{
    double b = t[0];
    for (int i = 1; i < n; i++)
        if (t[i] < b)
            b = t[i];
    return b;
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

/* One throughput line: best round of each side, their ratio, and the median
 * of the per-round ratios (plain and wings of a round ran back to back). */
static void report_rate(const char *label, const char *unit, double items,
                        double *const t[SIDES], int rounds, double target,
                        const int run[SIDES])
{
    for (int s = 0; s < SIDES; s++)
        if (!run[1 - s]) {
            printf("%-11s %s %8.0f %s\n", label, side_names[s],
                   items / best_of(t[s], rounds), unit);
            return;
        }
    double p = items / best_of(t[SIDE_PLAIN], rounds);
    double w = items / best_of(t[SIDE_WINGS], rounds);
    double *r = wg_xmalloc((size_t)rounds * sizeof *r);
    for (int i = 0; i < rounds; i++)
        r[i] = t[SIDE_PLAIN][i] / t[SIDE_WINGS][i];
    double ratio = w / p;
    printf("%-11s plain %8.0f %-7s  wings %8.0f %-7s  ratio %.2f "
           "(target >= %.2f) %s  [median ratio %.2f]\n",
           label, p, unit, w, unit, ratio, target,
           ratio >= target ? "ok  " : "MISS", median_of(r, rounds));
    free(r);
}

static int parse_count(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 100000000)
        die("%s: '%s' is not a positive count", opt, s);
    return (int)v;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_store [--rounds N] [--rows N] [--reads N] "
            "[--commits N]\n"
            "                   [--only plain|wings] [--reopen] [--verbose]\n"
            "  --rounds N  rounds to run, best reported (default %d)\n"
            "  --rows N    rows to insert (default %d)\n"
            "  --reads N   point reads (default rows / 2)\n"
            "  --commits N single-write transactions (default %d)\n"
            "  --only SIDE run one side alone (for profiling)\n"
            "  --reopen    read phases start with a cold page cache\n"
            "  --verbose   per-round figures on stderr\n",
            BENCH_ROUNDS, BENCH_ROWS, BENCH_COMMITS);
}

int main(int argc, char **argv)
{
    int rounds = BENCH_ROUNDS, nrows = BENCH_ROWS, nreads = 0, verbose = 0;
    int ncommits = BENCH_COMMITS;
    int run[SIDES] = { 1, 1 }, reopen = 0;
    static const struct option opts[] = {
        { "rounds", required_argument, NULL, 'r' },
        { "rows", required_argument, NULL, 'n' },
        { "reads", required_argument, NULL, 'q' },
        { "commits", required_argument, NULL, 'm' },
        { "only", required_argument, NULL, 'o' },
        { "reopen", no_argument, NULL, 'c' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rounds = parse_count(optarg, "--rounds"); break;
        case 'n': nrows = parse_count(optarg, "--rows"); break;
        case 'q': nreads = parse_count(optarg, "--reads"); break;
        case 'm': ncommits = parse_count(optarg, "--commits"); break;
        case 'o':
            if (strcmp(optarg, "plain") && strcmp(optarg, "wings"))
                die("--only: '%s' is neither plain nor wings", optarg);
            run[SIDE_PLAIN] = !strcmp(optarg, "plain");
            run[SIDE_WINGS] = !run[SIDE_PLAIN];
            break;
        case 'c': reopen = 1; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (!nreads)
        nreads = nrows / 2 ? nrows / 2 : 1;

    wg_err err = { 0 };
    if (wg_crypto_init(&err) != WG_OK)
        die("cannot initialise crypto: %s", err.msg);

    row *rows = wg_xmalloc((size_t)nrows * sizeof *rows);
    int *picks = wg_xmalloc((size_t)nreads * sizeof *picks);
    make_rows(rows, nrows);
    for (int i = 0; i < nreads; i++)
        picks[i] = (int)rng_below((uint32_t)nrows);

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_store: %d rows (%d per transaction), %d point reads, "
           "%d round%s (best reported), SQLite %s, %ld CPU%s%s\n",
           nrows, BENCH_BATCH, nreads, rounds, rounds == 1 ? "" : "s",
           sqlite3_libversion(), cpus, cpus == 1 ? "" : "s",
           reopen ? ", read phases from a cold page cache" : "");
    fflush(stdout);

    /* t[phase][side][round], seconds */
    double *t[PHASES][SIDES];
    for (int p = 0; p < PHASES; p++)
        for (int s = 0; s < SIDES; s++)
            t[p][s] = wg_xcalloc((size_t)rounds, sizeof(double));
    double *kdf = wg_xcalloc((size_t)rounds, sizeof(double));
    double mib[SIDES] = { 0, 0 };
    page_counts pages[PHASES][SIDES];
    memset(pages, 0, sizeof pages);
    int both = run[SIDE_PLAIN] && run[SIDE_WINGS];

    for (int round = 0; round < rounds; round++) {
        side sd[SIDES];
        memset(sd, 0, sizeof sd);
        if (run[SIDE_PLAIN])
            plain_create(&sd[SIDE_PLAIN]);
        if (run[SIDE_WINGS])
            wings_create(&sd[SIDE_WINGS]);
        uint64_t psum[SIDES] = { 0, 0 };
        int64_t groups[SIDES] = { 0, 0 }, total[SIDES] = { 0, 0 };
        int64_t count[SIDES] = { 0, 0 };
        double income[SIDES] = { 0, 0 };

        /* Who goes first alternates by round, so neither side always runs
         * on a disk the other has just stirred. */
        for (int p = 0; p < PHASES; p++) {
            for (int k = 0; k < SIDES; k++) {
                int s = (k + round) % SIDES;
                if (!run[s])
                    continue;
                if (reopen && (p == PH_POINT || p == PH_GROUP)) {
                    side_close(&sd[s]);
                    side_open(&sd[s], s);
                }
                sqlite3 *db = sd[s].db;
                if (p != PH_OPEN)
                    take_page_counts(db);
                switch (p) {
                case PH_INSERT:
                    t[p][s][round] = phase_insert(db, rows, nrows);
                    break;
                case PH_POINT:
                    t[p][s][round] = phase_point(db, rows, picks, nreads,
                                                 &psum[s]);
                    break;
                case PH_GROUP:
                    t[p][s][round] = phase_group(db, &groups[s], &total[s],
                                                 &income[s]);
                    break;
                case PH_COMMIT:
                    t[p][s][round] = phase_commit(&sd[s], s, ncommits);
                    break;
                case PH_OPEN:
                    t[p][s][round] = phase_open(&sd[s], s, &count[s]);
                    mib[s] = file_mib(sd[s].path);
                    break;
                }
                pages[p][s] = take_page_counts(sd[s].db);
            }
        }
        if (run[SIDE_WINGS])
            kdf[round] = time_kdf(sd[SIDE_WINGS].dir);

        for (int s = 0; s < SIDES; s++)
            if (run[s] && (total[s] != nrows || count[s] != nrows))
                die("%s: group by saw %lld rows, count after reopening "
                    "%lld, want %d", side_names[s], (long long)total[s],
                    (long long)count[s], nrows);
        if (both && psum[SIDE_PLAIN] != psum[SIDE_WINGS])
            die("point reads differ between plain and wings");
        if (both && (groups[SIDE_PLAIN] != groups[SIDE_WINGS] ||
                     !close_enough(income[SIDE_PLAIN], income[SIDE_WINGS])))
            die("group by differs: plain %lld groups, wings %lld groups",
                (long long)groups[SIDE_PLAIN], (long long)groups[SIDE_WINGS]);

        if (verbose) {
            static const char *const names[PHASES] = {
                "insert", "point_read", "group_by", "commit", "cold_open" };
            for (int p = 0; p < PHASES; p++)
                fprintf(stderr,
                        "round %d %-10s plain %8.1f ms  wings %8.1f ms  "
                        "pages read %d/%d, written %d/%d\n",
                        round + 1, names[p], t[p][SIDE_PLAIN][round] * 1e3,
                        t[p][SIDE_WINGS][round] * 1e3,
                        pages[p][SIDE_PLAIN].misses,
                        pages[p][SIDE_WINGS].misses,
                        pages[p][SIDE_PLAIN].writes,
                        pages[p][SIDE_WINGS].writes);
            int g = run[SIDE_PLAIN] ? SIDE_PLAIN : SIDE_WINGS;
            fprintf(stderr, "round %d argon2id   %.1f ms; %lld groups\n",
                    round + 1, kdf[round] * 1e3, (long long)groups[g]);
        }
        for (int s = 0; s < SIDES; s++)
            side_destroy(&sd[s], s);
    }

    report_rate("insert", "rows/s", nrows, t[PH_INSERT], rounds, 0.85, run);
    report_rate("point_read", "reads/s", nreads, t[PH_POINT], rounds, 0.90,
                run);
    report_rate("group_by", "rows/s", nrows, t[PH_GROUP], rounds, 0.85, run);
    report_rate("commit", "txn/s", ncommits, t[PH_COMMIT], rounds, 0.50, run);
    double op = best_of(t[PH_OPEN][SIDE_PLAIN], rounds) * 1e3;
    double ow = best_of(t[PH_OPEN][SIDE_WINGS], rounds) * 1e3;
    double ok = best_of(kdf, rounds) * 1e3;
    printf("%-11s", "cold_open");
    if (run[SIDE_PLAIN])
        printf(" plain %.1f ms  ", op);
    if (run[SIDE_WINGS])
        printf(" wings %.1f ms (incl. Argon2id interactive; Argon2id alone "
               "%.1f ms, so ~%.1f ms without it)", ow, ok,
               ow > ok ? ow - ok : 0.0);
    printf("\n%-11s", "db_size");
    for (int s = 0; s < SIDES; s++)
        if (run[s])
            printf(" %s %.1f MiB  ", side_names[s], mib[s]);
    printf(" (page cache 64 MiB; cold_open = open + pragmas + "
           "SELECT count(*), OS cache warm)\n");

    for (int p = 0; p < PHASES; p++)
        for (int s = 0; s < SIDES; s++)
            free(t[p][s]);
    free(kdf);
    free(picks);
    free(rows);
    return 0;
}
