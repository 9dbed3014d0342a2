/*
 * bench_sync.c - sync through the real engine against plain SQLite, one run
 *
 * A program, not a test. It builds an office node holding N persons (one
 * change each, committed 1,000 per transaction through wg_store_add, in a
 * child process, untimed) and a fresh hq node, then measures:
 *
 *   (a) catch-up: the office (this process, client) sends all N changes to
 *       the hq (a forked child, server) over loopback CurveZMQ; changes/s
 *       from wg_engine_connect() to the client's session end (which comes
 *       only after the hq acknowledged, so applied, the last batch).
 *       Yardstick, same run: plain SQLite (default VFS, the store's pragmas:
 *       WAL, synchronous=FULL, exclusive locking, the 24 MiB cache the
 *       engine sets) inserting N rows into a table with the columns and
 *       indexes of the store's person table, 1,000 rows per transaction,
 *       in a child process.
 *   (b) two sessions between the nodes now in sync: bytes on the wire and
 *       time from wg_engine_new() to the session's end (store already open:
 *       process start-up and key derivation excluded). Every session appends
 *       an audit entry to each side's own feed and the office's goes to the
 *       hq, so each of these sessions carries one change: the entry of the
 *       session before it.
 *   (d) the catch-up of (a) again in a network: the hq is the network's root
 *       (`init --root`), the office holds a certificate it issued (`enrol`,
 *       `join`), so every change the hq receives is judged by its origin's
 *       certificate (chain to the root, revocation cut-off, scope). Fresh
 *       nodes, the same N persons, the same yardstick; printed with the
 *       closed-group figure of (a) beside it: what the checks cost.
 *   (c) peak RSS (VmHWM) of both processes during (a). Opening a store runs
 *       Argon2id (64 MiB here), so each process resets its high-water mark
 *       (/proc/self/clear_refs) after opening its store and before the
 *       session; the figure still includes what was resident then.
 *
 * Bytes on the wire are the TCP payload both ways of the session's one
 * connection (ZMTP greeting, CURVE handshake, every message with its CURVE
 * box), read with TCP_INFO (tcpi_bytes_acked, tcpi_bytes_received) from a
 * dup of the client's socket taken in the on_done callback, once nothing is
 * left unacknowledged. TCP/IP headers are not counted.
 *
 *   bench_sync [--changes N] [--keep] [--no-network]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wg_schema.h"
#include "wg_store.h"
#include "wg_sync.h"
#include "../nodeutil.h"

#define BENCH_PASS "bench passphrase"
#define BENCH_CHANGES 200000
#define BENCH_TXN 1000            /* persons per transaction, both sides */
#define OFFICE_COUNTY "450224"
#define HQ_COUNTY "450000"
#define CLOCK_BYTES 12            /* per field, as records.c keeps them */
#define SESSION_TIMEOUT_MS 120000 /* silence that fails a session */

#define TARGET_RATIO 0.5
#define TARGET_BYTES 4096
#define TARGET_MS 50.0
#define TARGET_RSS_MIB 64.0

/* ---- dying tidily ------------------------------------------------------- */

static char root[PATH_MAX];
static pid_t parent_pid, server_pid;
static int keep;

static void cleanup(void)
{
    if (getpid() != parent_pid)
        return;
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    if (root[0] && !keep)
        nu_rmtree(root);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                      noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bench_sync%s: ", getpid() == parent_pid ? "" : " (child)");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (getpid() != parent_pid)
        _exit(1);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- memory ------------------------------------------------------------- */

/* A "Vm...:" line of /proc/self/status, in KiB; -1 when absent. */
static long vm_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Reset VmHWM to the current RSS; 0 when the kernel refused. */
static int reset_hwm(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return 0;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

static double mib(long kib)
{
    return (double)kib / 1024.0;
}

/* ---- the persons, the same on both sides -------------------------------- */

#define NFIELDS 10

typedef struct person {
    char name[32], gender[8], birth_date[11], id_number[19], category[16];
    char grade[2], township[32], phone[12], rural[2], registered_on[11];
} person;

static const char *const field_names[NFIELDS] = {
    "name", "gender", "birth_date", "id_number", "disability_category",
    "disability_grade", "township", "phone", "rural", "registered_on" };

static uint64_t mix(uint64_t z)
{
    return nu_splitmix64(&z);
}

/* Person I: a pure function of I. Birth dates walk 1960-2005 (28 days a
 * month) and sequence codes 0-999, so id numbers are distinct for up to
 * 15.4 million persons. */
static void make_person(long i, person *p)
{
    uint64_t r = mix((uint64_t)i);
    int y = 1960 + (int)(i % 46), m = 1 + (int)(i / 46 % 12);
    int d = 1 + (int)(i / 552 % 28), seq = (int)(i / 15456 % 1000);
    char id[32];
    snprintf(id, sizeof id, "%s%04d%02d%02d%03d", OFFICE_COUNTY, y, m, d, seq);
    nu_idnum_check(id);
    memcpy(p->id_number, id, 19);
    snprintf(p->birth_date, sizeof p->birth_date, "%04u-%02u-%02u",
             (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
    snprintf(p->gender, sizeof p->gender, "%s", seq % 2 ? "male" : "female");
    snprintf(p->name, sizeof p->name, "%s%s%s", nu_surname(r),
             nu_given(r >> 8),
             (r >> 16) % 3 ? nu_given(r >> 24) : "");
    snprintf(p->category, sizeof p->category, "%s",
             nu_category(r >> 32));
    snprintf(p->grade, sizeof p->grade, "%d", 1 + (int)((r >> 36) % 4));
    snprintf(p->township, sizeof p->township, "%s",
             nu_township(r >> 40));
    snprintf(p->phone, sizeof p->phone, "13%09llu",
             (unsigned long long)(mix(r) % 1000000000ULL));
    snprintf(p->rural, sizeof p->rural, "%d", (int)((r >> 48) & 1));
    snprintf(p->registered_on, sizeof p->registered_on, "20%02d-%02d-%02d",
             10 + (int)((r >> 50) % 15), 1 + (int)((r >> 54) % 12),
             1 + (int)((r >> 58) % 28));
}

static void person_values(const person *p, const char *v[NFIELDS])
{
    v[0] = p->name;
    v[1] = p->gender;
    v[2] = p->birth_date;
    v[3] = p->id_number;
    v[4] = p->category;
    v[5] = p->grade;
    v[6] = p->township;
    v[7] = p->phone;
    v[8] = p->rural;
    v[9] = p->registered_on;
}

/* ---- nodes -------------------------------------------------------------- */

static char office_dir[PATH_MAX + 16], hq_dir[PATH_MAX + 16];
static int network;  /* build_nodes(): the hq is root, the office certified */
static char endpoint[64];
static int port;

static wg_store *open_store(const char *dir)
{
    wg_store *st = NULL;
    wg_err err = { 0 };
    if (wg_store_open(dir, BENCH_PASS, strlen(BENCH_PASS), &st, &err) != WG_OK)
        die("cannot open store '%s': %s", dir, err.msg);
    return st;
}

static void create_node(const char *dir, const char *name, const char *county,
                        wg_role role)
{
    wg_node_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "%s", name);
    snprintf(info.county, sizeof info.county, "%s", county);
    info.role = role;
    snprintf(info.endpoint, sizeof info.endpoint, "%s", endpoint);
    wg_err err = { 0 };
    if (wg_store_create(dir, BENCH_PASS, strlen(BENCH_PASS),
                        WG_KDF_INTERACTIVE, &info, &err) != WG_OK)
        die("cannot create store '%s': %s", dir, err.msg);
}

static void add_peer(wg_store *st, const char *name, const char *key_hex,
                     const char *ep)
{
    wg_err err = { 0 };
    if (wg_store_peer_add(st, name, key_hex, ep, &err) != WG_OK)
        die("cannot add peer %s: %s", name, err.msg);
}

/* Both nodes, each trusting the other, and N persons at the office. Runs
 * in a child so the parent's heap and page cache stay as a fresh process
 * would have them. */
static void build_nodes(long n)
{
    create_node(office_dir, "office", OFFICE_COUNTY, WG_ROLE_OFFICE);
    create_node(hq_dir, "hq", HQ_COUNTY, WG_ROLE_HQ);
    wg_store *hq = open_store(hq_dir);
    wg_store *office = open_store(office_dir);
    add_peer(hq, "office", wg_store_info(office)->key_hex, "tcp://127.0.0.1:1");
    add_peer(office, "hq", wg_store_info(hq)->key_hex, endpoint);
    if (network) {
        /* `init --root` at the hq, `enrol` there, `join` at the office. */
        uint64_t base = (uint64_t)time(NULL);
        wg_cert rc = nu_root(hq, HQ_COUNTY, base);
        wg_cert oc = nu_certify(hq, office, OFFICE_COUNTY, 0, base);
        nu_join(office, hq, &rc, &oc);
    }
    wg_store_close(&hq);

    const wg_table *t = wg_schema_table("person");
    wg_err err = { 0 };
    double t0 = now_s();
    for (long i = 0; i < n; i += BENCH_TXN) {
        if (wg_store_begin(office, &err) != WG_OK)
            die("begin: %s", err.msg);
        for (long j = i; j < n && j < i + BENCH_TXN; j++) {
            person p;
            const char *v[NFIELDS];
            make_person(j, &p);
            person_values(&p, v);
            if (wg_store_add(office, t, field_names, v, NFIELDS, NULL, &err) !=
                WG_OK)
                die("adding person %ld: %s", j, err.msg);
        }
        if (wg_store_commit(office, &err) != WG_OK)
            die("commit: %s", err.msg);
    }
    double secs = now_s() - t0;
    long count = 0;
    if (wg_store_count(office, t, &count, &err) != WG_OK || count != n)
        die("the office holds %ld persons, not %ld", count, n);
    wg_store_close(&office);
    printf("setup%s: office holds %ld persons (wg_store_add, %d per "
           "transaction: %.2f s, %.0f/s; untimed)\n",
           network ? " (network: hq is root, office certified)" : "", n,
           BENCH_TXN, secs, (double)n / secs);
    fflush(stdout);
}

/* ---- the yardstick: plain SQLite ---------------------------------------- */

/* store.c's open_db() pragmas, in its order. */
static const char plain_pragmas[] =
    "PRAGMA locking_mode=EXCLUSIVE;"
    "PRAGMA temp_store=MEMORY;"
    "PRAGMA mmap_size=0;"
    "PRAGMA cache_size=-24576;"
    "PRAGMA trusted_schema=OFF;"
    "PRAGMA page_size=4096;";

/* records.c's person table and its two indexes. */
static const char plain_schema[] =
    "CREATE TABLE person(id TEXT PRIMARY KEY, name TEXT, gender TEXT, "
    "birth_date TEXT, id_number TEXT, disability_category TEXT, "
    "disability_grade INTEGER, certificate_no TEXT, county TEXT, "
    "township TEXT, phone TEXT, rural INTEGER, registered_on TEXT, "
    "deleted INTEGER NOT NULL DEFAULT 0, clocks BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX person_county ON person(county);"
    "CREATE INDEX person_id_number ON person(id_number);";

static const char plain_insert[] =
    "INSERT INTO person(id, name, gender, birth_date, id_number, "
    "disability_category, disability_grade, certificate_no, county, "
    "township, phone, rural, registered_on, deleted, clocks) "
    "VALUES(?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 0, ?)";

static void plain_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("plain SQLite: %s: %s", sql, msg ? msg : "?");
}

/* Seconds to insert N persons; in a child process. */
static double plain_insert_rows(long n)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/plain.db", root);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        die("cannot open %s", path);
    plain_exec(db, plain_pragmas);
    plain_exec(db, "PRAGMA journal_mode=WAL;");
    plain_exec(db, "PRAGMA synchronous=FULL;");
    plain_exec(db, plain_schema);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, plain_insert, -1, &s, NULL) != SQLITE_OK)
        die("prepare: %s", sqlite3_errmsg(db));
    /* 12 fields and deleted, each with an (hlc, origin) clock. */
    uint8_t clocks[13 * CLOCK_BYTES];
    double t0 = now_s();
    for (long i = 0; i < n; i += BENCH_TXN) {
        plain_exec(db, "BEGIN IMMEDIATE");
        for (long j = i; j < n && j < i + BENCH_TXN; j++) {
            person p;
            make_person(j, &p);
            char id[33];
            uint64_t a = mix((uint64_t)j ^ 0xabcdefULL), b = mix(a);
            snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)a,
                     (unsigned long long)b);
            for (size_t k = 0; k < sizeof clocks; k += 8) {
                uint64_t c = mix(b + k);
                memcpy(clocks + k, &c, sizeof clocks - k < 8 ? sizeof clocks - k
                                                             : 8);
            }
            sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 2, p.name, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, p.gender, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 4, p.birth_date, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 5, p.id_number, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 6, p.category, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 7, atoi(p.grade));
            sqlite3_bind_text(s, 8, OFFICE_COUNTY, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 9, p.township, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 10, p.phone, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 11, atoi(p.rural));
            sqlite3_bind_text(s, 12, p.registered_on, -1, SQLITE_STATIC);
            sqlite3_bind_blob(s, 13, clocks, sizeof clocks, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE)
                die("insert: %s", sqlite3_errmsg(db));
            sqlite3_reset(s);
        }
        plain_exec(db, "COMMIT");
    }
    double secs = now_s() - t0;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return secs;
}

/* ---- child processes ---------------------------------------------------- */

static pid_t fork_or_die(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    return pid;
}

static void reap(pid_t pid, const char *what)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the %s process failed (%s %d)", what,
            WIFEXITED(status) ? "exit" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void write_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write to a pipe: %s", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
}

/* One line from FD (blocking). */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("a child closed its pipe early");
        if (c == '\n')
            break;
        buf[n++] = c;
    }
    buf[n] = 0;
}

/* ---- the hq: server in a child ------------------------------------------ */

typedef struct server {
    wg_store *st;
    int cmd, reply;
    int quit;
} server;

typedef struct audit_counts {
    long ok, failed;
} audit_counts;

static int count_in(void *ctx, const wg_audit_entry *e)
{
    audit_counts *c = ctx;
    if (e->event && !strcmp(e->event, "session") && e->direction &&
        !strcmp(e->direction, "in")) {
        if (e->result && !strcmp(e->result, "ok"))
            c->ok++;
        else
            c->failed++;
    }
    return 0;
}

/* Commands from the parent, one byte each: r (report), q (quit). */
static void on_command(void *ctx)
{
    server *s = ctx;
    char c;
    ssize_t r = read(s->cmd, &c, 1);
    if (r <= 0 || c == 'q') {
        s->quit = 1;
        return;
    }
    if (c == 'r') {
        long persons = -1;
        audit_counts ac = { 0, 0 };
        wg_store_count(s->st, wg_schema_table("person"), &persons, NULL);
        wg_store_audit_list(s->st, count_in, &ac, NULL);
        char line[160];
        snprintf(line, sizeof line, "%ld %ld %ld %ld %ld %lld\n",
                 vm_kib("VmHWM"), vm_kib("VmRSS"), persons, ac.ok, ac.failed,
                 (long long)sqlite3_memory_highwater(0) / 1024);
        write_all(s->reply, line);
    }
}

static void run_server(int cmd, int reply)
{
    server s = { NULL, cmd, reply, 0 };
    s.st = open_store(hq_dir);
    wg_engine *e = NULL;
    wg_err err = { 0 };
    if (wg_engine_new(s.st, &e, &err) != WG_OK ||
        wg_engine_listen(e, endpoint, &err) != WG_OK)
        die("hq cannot serve at %s: %s", endpoint, err.msg);
    wg_engine_watch(e, NULL, cmd, on_command, &s);
    int reset = reset_hwm();
    sqlite3_memory_highwater(1);
    char line[96];
    snprintf(line, sizeof line, "ready %d %ld\n", reset, vm_kib("VmRSS"));
    write_all(reply, line);
    while (!s.quit)
        if (wg_engine_step(e, 1000, &err) != WG_OK)
            die("hq: %s", err.msg);
    wg_engine_destroy(&e);
    wg_store_close(&s.st);
}

typedef struct hq_report {
    long hwm_kib, rss_kib, persons, in_ok, in_failed, sqlite_kib;
} hq_report;

static int hq_cmd = -1, hq_reply = -1;

static hq_report ask_hq(void)
{
    write_all(hq_cmd, "r");
    char line[160];
    read_line(hq_reply, line, sizeof line);
    hq_report r;
    if (sscanf(line, "%ld %ld %ld %ld %ld %ld", &r.hwm_kib, &r.rss_kib,
               &r.persons, &r.in_ok, &r.in_failed, &r.sqlite_kib) != 6)
        die("odd report from the hq: '%s'", line);
    return r;
}

/* Wait until the hq has audited WANT sessions as ok (the server's side of
 * a session ends when the client's last message arrives). */
static hq_report wait_hq_ok(long want, double within_s)
{
    double end = now_s() + within_s;
    hq_report r;
    for (;;) {
        r = ask_hq();
        if (r.in_ok >= want || r.in_failed > 0 || now_s() > end)
            break;
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (r.in_ok < want)
        die("the hq audited %ld sessions as ok and %ld as failed, expected "
            "%ld ok", r.in_ok, r.in_failed, want);
    return r;
}

/* ---- the office: client sessions in this process ------------------------ */

typedef struct run {
    int done;
    double t_done;
    wg_sync_result r;
    int tcp_fd;               /* a dup of the session's TCP socket */
} run;

/* The session's TCP connection: this process's one socket to the hq port. */
static int find_tcp(void)
{
    int found = -1;
    for (int fd = 0; fd < 4096; fd++) {
        struct stat sb;
        if (fstat(fd, &sb) != 0 || !S_ISSOCK(sb.st_mode))
            continue;
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        if (getpeername(fd, (struct sockaddr *)&a, &len) == 0 &&
            a.sin_family == AF_INET && ntohs(a.sin_port) == port)
            found = fd;
    }
    return found;
}

static void on_done(void *ctx, const wg_sync_result *r)
{
    run *s = ctx;
    s->t_done = now_s();
    s->r = *r;
    s->done = 1;
    /* Called before the engine closes the socket: keep it open to read
     * its counters afterwards. */
    int fd = find_tcp();
    s->tcp_fd = fd >= 0 ? dup(fd) : -1;
}

typedef struct wire {
    unsigned long long out, in;
    int ok;
} wire;

/* Payload bytes of the connection both ways, once all that was sent is
 * acknowledged (the engine has closed its side; the dup keeps it). */
static wire wire_bytes(int fd)
{
    wire w = { 0, 0, 0 };
    if (fd < 0)
        return w;
    struct tcp_info ti;
    double end = now_s() + 1.0;
    do {
        socklen_t len = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
            break;
        w.ok = 1;
        if (ti.tcpi_unacked == 0 && ti.tcpi_notsent_bytes == 0)
            break;
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    } while (now_s() < end);
    w.out = ti.tcpi_bytes_acked;
    w.in = ti.tcpi_bytes_received;
    close(fd);
    return w;
}

/* One session office -> hq on a new engine. T_ENGINE gets the time from
 * wg_engine_new(), T_SESSION from wg_engine_connect(), both to the end. */
static run office_session(wg_store *office, double *t_engine,
                          double *t_session)
{
    run s;
    memset(&s, 0, sizeof s);
    s.tcp_fd = -1;
    wg_err err = { 0 };
    double t0 = now_s();
    wg_engine *e = NULL;
    if (wg_engine_new(office, &e, &err) != WG_OK)
        die("engine: %s", err.msg);
    wg_engine_on_done(e, on_done, &s);
    double t1 = now_s();
    if (wg_engine_connect(e, "hq", SESSION_TIMEOUT_MS, &err) != WG_OK)
        die("connect: %s", err.msg);
    while (!s.done)
        if (wg_engine_step(e, 100, &err) != WG_OK)
            die("step: %s", err.msg);
    wg_engine_destroy(&e);
    if (!s.r.ok)
        die("the session failed: %s", s.r.error);
    *t_engine = s.t_done - t0;
    *t_session = s.t_done - t1;
    return s;
}

/* The hq serves from a child (the nodes in hq_dir). */
static void start_hq(int *reset, long *base)
{
    int to_hq[2], from_hq[2];
    if (pipe(to_hq) != 0 || pipe(from_hq) != 0)
        die("pipe: %s", strerror(errno));
    server_pid = fork_or_die();
    if (server_pid == 0) {
        close(to_hq[1]);
        close(from_hq[0]);
        run_server(to_hq[0], from_hq[1]);
        _exit(0);
    }
    close(to_hq[0]);
    close(from_hq[1]);
    hq_cmd = to_hq[1];
    hq_reply = from_hq[0];
    char line[160];
    read_line(hq_reply, line, sizeof line);
    if (sscanf(line, "ready %d %ld", reset, base) != 2)
        die("the hq did not start: '%s'", line);
}

static void stop_hq(void)
{
    write_all(hq_cmd, "q");
    reap(server_pid, "hq");
    server_pid = 0;
    close(hq_cmd);
    close(hq_reply);
    hq_cmd = hq_reply = -1;
}

/* (d): fresh nodes in a network, the catch-up again; its seconds. */
static double network_catch_up(long n, long *sent)
{
    snprintf(office_dir, sizeof office_dir, "%s/net-office", root);
    snprintf(hq_dir, sizeof hq_dir, "%s/net-hq", root);
    network = 1;
    pid_t pid = fork_or_die();
    if (pid == 0) {
        build_nodes(n);
        fflush(NULL);
        _exit(0);
    }
    reap(pid, "setup (network)");
    int reset;
    long base;
    start_hq(&reset, &base);
    wg_store *office = open_store(office_dir);
    double t_engine, t_session;
    run a = office_session(office, &t_engine, &t_session);
    if (a.tcp_fd >= 0)
        close(a.tcp_fd);
    hq_report hq = wait_hq_ok(1, 10.0);
    if (hq.persons != n)
        die("the network's hq holds %ld persons after the catch-up, not %ld",
            hq.persons, n);
    wg_store_close(&office);
    stop_hq();
    *sent = a.r.sent;
    return t_session;
}

/* ---- main --------------------------------------------------------------- */

/* Seconds for the plain SQLite insert, run in a child on a fresh file. */
static double yardstick(long n)
{
    char path[PATH_MAX + 16];
    int yp[2];
    if (pipe(yp) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork_or_die();
    if (pid == 0) {
        close(yp[0]);
        char line[64];
        snprintf(line, sizeof line, "%.6f\n", plain_insert_rows(n));
        write_all(yp[1], line);
        _exit(0);
    }
    close(yp[1]);
    char line[160];
    read_line(yp[0], line, sizeof line);
    close(yp[0]);
    reap(pid, "plain SQLite");
    snprintf(path, sizeof path, "%s/plain.db", root);
    unlink(path);
    return strtod(line, NULL);
}

static const char *verdict(int ok)
{
    return ok ? "ok" : "MISS";
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_sync [--changes N] [--keep] [--no-network]\n"
            "  --changes N   persons the office holds, one change each "
            "(default %d)\n"
            "  --keep        keep the temporary folder (its path is printed)\n"
            "  --no-network  skip (d), the catch-up with certificate checks\n",
            BENCH_CHANGES);
}

int main(int argc, char **argv)
{
    long n = BENCH_CHANGES;
    int with_network = 1;
    static const struct option opts[] = {
        { "changes", required_argument, NULL, 'n' },
        { "keep", no_argument, NULL, 'k' },
        { "no-network", no_argument, NULL, 'N' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': {
            char *end;
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno || *end || n < 1 || n > 10000000) {
                fprintf(stderr, "bench_sync: --changes must be 1-10000000, "
                                "not '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'k': keep = 1; break;
        case 'N': with_network = 0; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    parent_pid = getpid();
    wg_err err = { 0 };
    if (wg_crypto_init(&err) != WG_OK)
        die("crypto: %s", err.msg);
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/wings-bench-sync-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        root[0] = 0;
        die("mkdtemp: %s", strerror(errno));
    }
    atexit(cleanup);
    snprintf(office_dir, sizeof office_dir, "%s/office", root);
    snprintf(hq_dir, sizeof hq_dir, "%s/hq", root);
    port = nu_free_port();
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_sync: %ld changes, office %s -> hq %s over %s, libzmq %s, "
           "SQLite %s, %ld CPU%s%s%s\n", n, OFFICE_COUNTY, HQ_COUNTY, endpoint,
           wg_sync_zmq_version(), sqlite3_libversion(), cpus,
           cpus == 1 ? "" : "s", keep ? ", kept in " : "", keep ? root : "");
    fflush(stdout);

    pid_t pid = fork_or_die();
    if (pid == 0) {
        build_nodes(n);
        fflush(NULL);
        _exit(0);
    }
    reap(pid, "setup");

    /* The yardstick, in a child of its own, before the sync (and again
     * after it). */
    double t_plain[2];
    t_plain[0] = yardstick(n);

    int hq_reset = 0;
    long hq_base = 0;
    start_hq(&hq_reset, &hq_base);

    /* (a) catch-up. */
    wg_store *office = open_store(office_dir);
    int office_reset = reset_hwm();
    sqlite3_memory_highwater(1);
    long office_base = vm_kib("VmRSS");
    double t_engine, t_session;
    run a = office_session(office, &t_engine, &t_session);
    long office_hwm = vm_kib("VmHWM");
    long office_sqlite = (long)(sqlite3_memory_highwater(0) / 1024);
    wire wa = wire_bytes(a.tcp_fd);
    hq_report hq = wait_hq_ok(1, 10.0);
    if (hq.persons != n)
        die("the hq holds %ld persons after the catch-up, not %ld",
            hq.persons, n);
    double sync_rate = (double)a.r.sent / t_session;

    /* (b) two sessions between nodes in sync. */
    double tb_engine[2], tb_session[2];
    run b[2];
    wire wb[2];
    for (int i = 0; i < 2; i++) {
        b[i] = office_session(office, &tb_engine[i], &tb_session[i]);
        wb[i] = wire_bytes(b[i].tcp_fd);
        wait_hq_ok(2 + i, 10.0);
    }
    wg_store_close(&office);
    stop_hq();
    double t_net = 0;
    long net_sent = 0;
    if (with_network)
        t_net = network_catch_up(n, &net_sent);
    t_plain[1] = yardstick(n);
    double best_plain = t_plain[0] < t_plain[1] ? t_plain[0] : t_plain[1];
    double plain_rate = (double)n / best_plain;
    double ratio = sync_rate / plain_rate;

    printf("(a) catch-up of %ld changes office -> hq: %.3f s, %.0f changes/s "
           "(sent %ld, received %ld, %.1f MiB on the wire, %.0f B/change)\n",
           n, t_session, sync_rate, a.r.sent, a.r.received,
           (double)(wa.out + wa.in) / (1024.0 * 1024.0),
           (double)(wa.out + wa.in) / (double)(a.r.sent ? a.r.sent : 1));
    printf("    yardstick: plain SQLite, %ld rows of person's columns and "
           "indexes, %d per transaction: %.3f s, %.0f rows/s (best of a run "
           "before the sync, %.3f s, and one after, %.3f s)\n", n, BENCH_TXN,
           best_plain, plain_rate, t_plain[0], t_plain[1]);
    printf("    ratio sync/plain: %.2f (target >= %.2f) %s\n", ratio,
           TARGET_RATIO, verdict(ratio >= TARGET_RATIO));
    if (with_network) {
        double net_rate = (double)net_sent / t_net;
        double net_ratio = net_rate / plain_rate;
        printf("(d) catch-up of %ld changes in a network (certificate checks "
               "on): %.3f s, %.0f changes/s; ratio to the yardstick: %.2f "
               "(target >= %.2f) %s; the checks cost %+.1f%% against (a)'s "
               "closed group (%.2f us per change)\n", n, t_net, net_rate,
               net_ratio, TARGET_RATIO, verdict(net_ratio >= TARGET_RATIO),
               100.0 * (t_net - t_session) / t_session,
               1e6 * (t_net - t_session) / (double)n);
    }
    const char *names[2] = { "first", "second" };
    for (int i = 0; i < 2; i++) {
        unsigned long long total = wb[i].out + wb[i].in;
        printf("(b) %s session in sync: sent %ld received %ld changes; "
               "%llu B on the wire (%llu out, %llu in; target <= %d) %s; "
               "%.1f ms from engine start (%.1f ms from connect; target <= "
               "%.0f) %s\n", names[i], b[i].r.sent, b[i].r.received, total,
               wb[i].out, wb[i].in, TARGET_BYTES,
               wb[i].ok ? verdict(total <= TARGET_BYTES) : "UNMEASURED",
               tb_engine[i] * 1000, tb_session[i] * 1000, TARGET_MS,
               verdict(tb_engine[i] * 1000 <= TARGET_MS));
    }
    printf("(c) peak RSS during (a): office (client) %.1f MiB, hq (server) "
           "%.1f MiB (target <= %.0f MiB each) %s; resident before the "
           "session: office %.1f MiB, hq %.1f MiB; SQLite's own heap at its "
           "peak (page cache included): office %.1f MiB, hq %.1f MiB%s\n",
           mib(office_hwm), mib(hq.hwm_kib), TARGET_RSS_MIB,
           verdict(mib(office_hwm) <= TARGET_RSS_MIB &&
                   mib(hq.hwm_kib) <= TARGET_RSS_MIB),
           mib(office_base), mib(hq_base), mib(office_sqlite),
           mib(hq.sqlite_kib),
           office_reset && hq_reset ? ""
                                    : " (high-water mark NOT reset after the "
                                      "store opened: includes Argon2id)");
    return 0;
}
