/*
 * bench_import.c - `wings import person` against the sqlite3 shell's .import
 *
 * A program, not a test. It writes one deterministic CSV of N persons
 * (valid GB 11643 id numbers consistent with birth_date, county 450224) into
 * a temp folder, then, R times: makes a fresh wings node (`wings init`,
 * Argon2id interactive, untimed), times `wings import person FILE`, and
 * times the sqlite3 shell importing the same file into a fresh plain
 * database whose person table has the CSV's columns and wings' two indexes
 * (created untimed first), under WAL and synchronous=FULL like the store.
 * The two sides swap who goes first every round. Each side's wall clock
 * covers the whole process: exec, open (for wings: key derivation and
 * unlocking), import, commit, exit.
 *
 *   bench_import [--rows N] [--rounds R] [--wings PATH]
 *
 * The wings binary defaults to build/wings (relative to the current
 * directory); sqlite3 is looked up on PATH. The passphrase reaches wings
 * through WINGS_PASSPHRASE in its environment, never on its command line.
 * Exit 0 on success, 1 when a run fails, 2 on bad usage or a missing tool.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../nodeutil.h"

#define BU_NAME "bench_import"
#include "benchutil.h"

extern char **environ;

#define BENCH_PASS "bench passphrase"
#define BENCH_SEED 0x696d706f7274ULL
#define BENCH_ROWS 100000L
#define BENCH_ROUNDS 3
#define BENCH_MAX_ROWS 10000000L
#define BENCH_COUNTY "450224"
#define TARGET_RATIO 3.0

static const char csv_header[] =
    "name,gender,birth_date,id_number,disability_category,disability_grade,"
    "county,township,phone,rural,registered_on\n";

/* The plain side: the CSV's columns, typed as wings types them, and an
 * index on county and one on id_number, as wings keeps (besides its own:
 * record ids, the list order, and live id numbers in place of all). */
static const char plain_schema[] =
    "CREATE TABLE person(name TEXT, gender TEXT, birth_date TEXT, "
    "id_number TEXT, disability_category TEXT, disability_grade INTEGER, "
    "county TEXT, township TEXT, phone TEXT, rural INTEGER, "
    "registered_on TEXT);"
    "CREATE INDEX person_county ON person(county);"
    "CREATE INDEX person_id_number ON person(id_number);";

/* ---- dying tidily ------------------------------------------------------- */

static char root_dir[PATH_MAX];   /* the temp folder; removed on every exit */

static void cleanup(void)
{
    if (root_dir[0]) {
        nu_rmtree(root_dir);
        root_dir[0] = '\0';
    }
}

/* ---- data --------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t splitmix64(void)
{
    return nu_splitmix64(&rng_state);
}

static unsigned pick(unsigned n)
{
    return (unsigned)(splitmix64() % n);
}

/* Id numbers already handed out, as YYYYMMDD * 1000 + sequence code: an
 * open-addressing set, so every row's id number is distinct. */
static uint64_t *used;
static size_t used_cap;

static int claim(uint64_t key)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (used_cap - 1);
    while (used[i]) {
        if (used[i] == key)
            return 0;
        i = (i + 1) & (used_cap - 1);
    }
    used[i] = key;
    return 1;
}

static void write_csv(const char *path, long rows)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        bu_die(1, "cannot write %s: %s", path, strerror(errno));
    used_cap = 1;
    while (used_cap < (size_t)rows * 2)
        used_cap <<= 1;
    used = calloc(used_cap, sizeof *used);
    if (!used)
        bu_die(1, "out of memory");
    rng_state = BENCH_SEED;
    fputs(csv_header, fp);
    for (long r = 0; r < rows; r++) {
        int y, m, d, female;
        unsigned seq;
        do {
            y = 1960 + (int)pick(46);   /* 1960-2005 */
            m = 1 + (int)pick(12);
            d = 1 + (int)pick((unsigned)nu_days_in_month(y, m));
            seq = pick(1000);           /* its last digit gives the gender */
        } while (!claim((uint64_t)(y * 10000 + m * 100 + d) * 1000 + seq));
        female = seq % 2 == 0;
        char id[32];   /* room for any int, to please -Wformat-truncation */
        snprintf(id, sizeof id, "%s%04d%02d%02d%03u", BENCH_COUNTY, y, m, d,
                 seq);
        nu_idnum_check(id);

        char name[32];
        int n = snprintf(name, sizeof name, "%s%s",
                         nu_surname(splitmix64()),
                         nu_given(splitmix64()));
        if (pick(3))   /* two thirds have a two-character given name */
            snprintf(name + n, sizeof name - (size_t)n, "%s",
                     nu_given(splitmix64()));

        int ry = (y + 16 > 2000 ? y + 16 : 2000) + (int)pick(5);
        if (ry > 2024)
            ry = 2024;
        int rm = 1 + (int)pick(12);
        int rd = 1 + (int)pick((unsigned)nu_days_in_month(ry, rm));

        fprintf(fp,
                "%s,%s,%04d-%02d-%02d,%s,%s,%u,%s,%s,%s%08u,%u,"
                "%04d-%02d-%02d\n",
                name, female ? "female" : "male", y, m, d, id,
                nu_category(splitmix64()), 1 + pick(4),
                BENCH_COUNTY, nu_township(splitmix64()),
                nu_phone_prefix(splitmix64()),
                pick(100000000), (unsigned)(pick(4) != 0), ry, rm, rd);
    }
    free(used);
    used = NULL;
    if (ferror(fp) | fclose(fp))
        bu_die(1, "cannot write %s: %s", path, strerror(errno));
}

/* ---- running programs --------------------------------------------------- */

static double now(void)
{
    return nu_seconds();
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return bu_asprintf("%s", "");
    char *s = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = getc(fp)) != EOF) {
        if (len + 2 > cap) {
            cap = cap ? cap * 2 : 4096;
            char *t = realloc(s, cap);
            if (!t)
                bu_die(1, "out of memory");
            s = t;
        }
        s[len++] = (char)c;
    }
    fclose(fp);
    if (!s)
        return bu_asprintf("%s", "");
    s[len] = '\0';
    return s;
}

/* The environment for wings: ours, with WINGS_PASSPHRASE set. */
static char **wings_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env)
        bu_die(1, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "WINGS_PASSPHRASE=", 17) &&
            strncmp(environ[i], "WINGS_NEW_PASSPHRASE=", 21))
            env[k++] = environ[i];
    env[k++] = "WINGS_PASSPHRASE=" BENCH_PASS;
    env[k] = NULL;
    return env;
}

/* Run ARGV[0] (a path) with ENV, stdin from /dev/null, stdout and stderr
 * into files in DIR; wait for it. Returns the wall-clock seconds; stores the
 * output through OUT (caller frees). A failure to start, or any exit other
 * than 0, is fatal and shows the program's output; so is any output on
 * stderr when QUIET (the sqlite3 shell's .import reports bad rows there and
 * still exits 0). */
static double run(char *const argv[], char **env, const char *dir, int quiet,
                  char **out)
{
    char *outp = bu_asprintf("%s/stdout", dir);
    char *errp = bu_asprintf("%s/stderr", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                     0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, outp,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errp,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fflush(NULL);
    pid_t pid;
    double t0 = now();
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
    if (e)
        bu_die(1, "cannot run %s: %s", argv[0], strerror(e));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            bu_die(1, "waitpid: %s", strerror(errno));
    double secs = now() - t0;
    posix_spawn_file_actions_destroy(&fa);
    char *o = slurp(outp), *er = slurp(errp);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_import: command failed (%s %d):",
                WIFEXITED(status) ? "exit" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        for (int i = 0; argv[i]; i++)
            fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, "\n--- stdout:\n%s--- stderr:\n%s", o, er);
        exit(1);
    }
    if (quiet && *er)
        bu_die(1, "%s wrote to stderr:\n%s", argv[0], er);
    free(er);
    free(outp);
    free(errp);
    if (out)
        *out = o;
    else
        free(o);
    return secs;
}

/* ---- the benchmark ------------------------------------------------------ */

static const char *wings_path = "build/wings";
static char *sqlite_path;
static char *csv_path;
static long rows = BENCH_ROWS;

/* A fresh wings node in DIR/node; times the import. */
static double bench_wings(const char *dir, char **env)
{
    char *node = bu_asprintf("%s/node", dir);
    char *wp = (char *)wings_path;
    char *init[] = { wp, "--dir", node, "init", "--name", "bench",
                     "--county", BENCH_COUNTY, "--kdf", "interactive", NULL };
    run(init, env, dir, 0, NULL);

    char *imp[] = { wp, "--dir", node, "import", "person", csv_path, NULL };
    char *out;
    double secs = run(imp, env, dir, 0, &out);
    char *want = bu_asprintf("imported %ld person rows\n", rows);
    if (strcmp(out, want))
        bu_die(1, "wings import printed '%s', expected '%s'", out, want);
    free(want);
    free(out);
    free(node);
    return secs;
}

/* A fresh plain database DIR/db.sqlite; times the sqlite3 shell's .import. */
static double bench_plain(const char *dir)
{
    char *db = bu_asprintf("%s/db.sqlite", dir);
    char *create[] = { sqlite_path, db, (char *)plain_schema, NULL };
    run(create, environ, dir, 1, NULL);

    char *dot = bu_asprintf(".import --csv --skip 1 %s person", csv_path);
    char *imp[] = { sqlite_path, db, "-cmd", "PRAGMA journal_mode=WAL",
                    "-cmd", "PRAGMA synchronous=FULL", dot, NULL };
    double secs = run(imp, environ, dir, 1, NULL);

    char *count[] = { sqlite_path, db, "SELECT count(*) FROM person", NULL };
    char *out;
    run(count, environ, dir, 1, &out);
    if (strtol(out, NULL, 10) != rows)
        bu_die(1, "the plain table holds %s rows, expected %ld", out, rows);
    free(out);
    free(dot);
    free(db);
    return secs;
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: bench_import [--rows N] [--rounds R] [--wings PATH]\n"
            "  --rows N     persons in the CSV (default %ld)\n"
            "  --rounds R   rounds, each importing once on each side "
            "(default %d)\n"
            "  --wings PATH the wings binary (default build/wings)\n",
            BENCH_ROWS, BENCH_ROUNDS);
}

static long parse_count(const char *s, const char *what, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max) {
        fprintf(stderr, "bench_import: %s must be 1-%ld, not '%s'\n", what,
                max, s);
        exit(2);
    }
    return v;
}

static void report(const char *label, double w, double p)
{
    printf("%s wings import: %.3f s (%.0f rows/s)\n", label, w,
           (double)rows / w);
    printf("%s sqlite3 .import: %.3f s (%.0f rows/s)\n", label, p,
           (double)rows / p);
    printf("%s ratio wings/plain: %.2f (target <= %.1f)\n", label, w / p,
           TARGET_RATIO);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "rows", required_argument, NULL, 'n' },
        { "rounds", required_argument, NULL, 'r' },
        { "wings", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 } };
    int rounds = BENCH_ROUNDS, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': rows = parse_count(optarg, "--rows", BENCH_MAX_ROWS); break;
        case 'r': rounds = (int)parse_count(optarg, "--rounds", 1000); break;
        case 'w': wings_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    if (access(wings_path, X_OK) != 0) {
        fprintf(stderr,
                "bench_import: no wings binary at '%s' (%s); build it "
                "(cmake --build build --target wings) or pass --wings PATH\n",
                wings_path, strerror(errno));
        return 2;
    }
    sqlite_path = nu_find_on_path("sqlite3");
    if (!sqlite_path) {
        fprintf(stderr, "bench_import: the sqlite3 shell is not on PATH; "
                        "install it (e.g. apt-get install sqlite3)\n");
        return 2;
    }

    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (snprintf(root_dir, sizeof root_dir, "%s/bench_import.XXXXXX", tmp) >=
        (int)sizeof root_dir)
        bu_die(2, "TMPDIR is too long");
    if (!mkdtemp(root_dir)) {
        int e = errno;
        root_dir[0] = '\0';
        bu_die(1, "mkdtemp in %s: %s", tmp, strerror(e));
    }
    atexit(cleanup);

    char *ver;
    {
        char *vargv[] = { sqlite_path, "--version", NULL };
        run(vargv, environ, root_dir, 1, &ver);
        char *sp = strchr(ver, ' ');
        if (sp)
            *sp = '\0';
        ver[strcspn(ver, "\n")] = '\0';
    }

    csv_path = bu_asprintf("%s/person.csv", root_dir);
    double t0 = now();
    write_csv(csv_path, rows);
    struct stat sb;
    if (stat(csv_path, &sb) != 0)
        bu_die(1, "stat %s: %s", csv_path, strerror(errno));
    printf("wings: %s\n", wings_path);
    printf("sqlite3: %s (version %s)\n", sqlite_path, ver);
    printf("rows: %ld (CSV %.1f MiB, generated in %.2f s)\n", rows,
           (double)sb.st_size / (1024.0 * 1024.0), now() - t0);
    printf("rounds: %d\n", rounds);
    fflush(stdout);

    char **env = wings_env();
    double best_w = 0, best_p = 0;
    for (int r = 1; r <= rounds; r++) {
        char *dir = bu_asprintf("%s/round%d", root_dir, r);
        if (mkdir(dir, 0700) != 0)
            bu_die(1, "mkdir %s: %s", dir, strerror(errno));
        double w, p;
        int wings_first = r % 2 == 1;   /* swap who goes first each round */
        if (wings_first) {
            w = bench_wings(dir, env);
            p = bench_plain(dir);
        } else {
            p = bench_plain(dir);
            w = bench_wings(dir, env);
        }
        nu_rmtree(dir);
        free(dir);
        if (r == 1 || w < best_w)
            best_w = w;
        if (r == 1 || p < best_p)
            best_p = p;
        char label[48];
        snprintf(label, sizeof label, "round %d (%s first):", r,
                 wings_first ? "wings" : "sqlite3");
        report(label, w, p);
        fflush(stdout);
    }
    report("best:", best_w, best_p);
    printf("%s\n", best_w / best_p <= TARGET_RATIO ? "target met"
                                                    : "target NOT met");
    free(env);
    free(ver);
    free(csv_path);
    free(sqlite_path);
    return 0;
}
