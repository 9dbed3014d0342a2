/*
 * nodeutil.h - throw-away nodes for the Check suites and the benches
 *
 * What the suites and benches used to write again each: a node's store
 * created and opened, trust between two nodes, a free loopback port, an
 * engine serving on it and a client session stepped to its end in one
 * thread (the two-engine fixture), the audit-trail query the sync suites
 * assert on, and person rows whose resident id numbers carry the GB 11643
 * check character from wg_validate_idnum_check (the store's own rule, so no
 * copy of the weights can drift from it; check_validate.c keeps the one
 * independent formula that tests the rule itself).
 *
 * The engine part is there when the sync headers are on the include path
 * (a target linking wg_sync). A failed step fails the Check test when
 * check.h was included before this header; elsewhere (the benches) it prints
 * one line and exits 1.
 *
 * Roles beside it: testutil.h holds the Check suites' file and folder
 * helpers (temporary folders, reading, writing, flipping bytes);
 * faultutil.h builds the fault suites' nodes, persons, snapshots and figure
 * lines on this header.
 */
#ifndef WG_NODEUTIL_H
#define WG_NODEUTIL_H

#include <ftw.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wg_change.h"
#include "wg_schema.h"
#include "wg_store.h"
#include "wg_validate.h"

#ifdef ck_assert_msg
#define NU_ASSERT(cond, ...) ck_assert_msg(cond, __VA_ARGS__)
#else
#define NU_ASSERT(cond, ...)                                                 \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            exit(1);                                                         \
        }                                                                    \
    } while (0)
#endif

#define NU_PASS "pw"         /* every throw-away node's passphrase */
#define NU_COUNTY "450224"   /* Rong'an: the county of the person rows */
#ifndef NU_STEP_MS
#define NU_STEP_MS 5 /* each engine's share of a turn */
#endif
#ifndef NU_SESSION_DEADLINE_MS
#define NU_SESSION_DEADLINE_MS 30000 /* longest any session may take */
#endif

static inline int64_t nu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic seconds. */
static inline double nu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- resident id numbers and person rows ------------------------------- */

/* Completes ID: its first 17 characters (digits) get their GB 11643 check
 * character, and the terminator. */
static inline void nu_idnum_check(char id[19])
{
    int c = wg_validate_idnum_check(id);
    NU_ASSERT(c != 0, "'%.17s' is not 17 digits", id);
    id[17] = (char)c;
    id[18] = 0;
}

/* The id number of a person of NU_COUNTY born on YMD (YYYYMMDD) with
 * sequence SERIAL mod 1000. */
static inline void nu_idnum(char out[19], const char *ymd, int serial)
{
    char first[32];
    snprintf(first, sizeof first, NU_COUNTY "%.8s%03d", ymd, serial % 1000);
    memcpy(out, first, 17);
    nu_idnum_check(out);
}

/* The id number of person SERIAL: sequence SERIAL mod 1000, born on day
 * SERIAL / 1000 of a calendar of 28-day months from 1980-01-01 (so 0-999
 * are born 1980-01-01); distinct for SERIAL below 20,160,000, as a node
 * holds an id number once. */
static inline void nu_person_idnum(char out[19], int serial)
{
    int k = serial / 1000;
    char ymd[32];
    snprintf(ymd, sizeof ymd, "%04d%02d%02d", 1980 + k / 336, k / 28 % 12 + 1,
             k % 28 + 1);
    nu_idnum(out, ymd, serial);
}

/* Person SERIAL as fields for wg_store_add: [id ID], name NAME (NULL:
 * "person-SERIAL"), id_number (nu_person_idnum), disability_category
 * physical, [county COUNTY]. F and V point into P. */
typedef struct nu_person {
    char name[32], id_number[19];
    const char *f[5], *v[5];
    size_t n;
} nu_person;

static inline void nu_person_row(nu_person *p, int serial, const char *id,
                                 const char *name, const char *county)
{
    if (name)
        snprintf(p->name, sizeof p->name, "%s", name);
    else
        snprintf(p->name, sizeof p->name, "person-%d", serial);
    nu_person_idnum(p->id_number, serial);
    p->n = 0;
    if (id) {
        p->f[p->n] = "id";
        p->v[p->n++] = id;
    }
    p->f[p->n] = "name";
    p->v[p->n++] = p->name;
    p->f[p->n] = "id_number";
    p->v[p->n++] = p->id_number;
    p->f[p->n] = "disability_category";
    p->v[p->n++] = "physical";
    if (county) {
        p->f[p->n] = "county";
        p->v[p->n++] = county;
    }
}

/* Change C, cleared first: a new person of ORIGIN's feed in partition
 * COUNTY at SEQ after PREV, clock HLC, with the fields a person needs: name
 * NAME, id_number NUM, disability_category physical, county COUNTY (the
 * fields point at those strings). Its row id is left to the caller. */
static inline void nu_person_change(wg_change *c, const uint8_t *origin,
                                    const char *county, uint64_t seq,
                                    const uint8_t *prev, uint64_t hlc,
                                    const char *name, const char *num)
{
    const wg_table *person = wg_schema_table("person");
    const char *f[] = { "name", "id_number", "disability_category", "county" };
    const char *v[] = { name, num, "physical", county };
    memset(c, 0, sizeof *c);
    memcpy(c->origin, origin, WG_SIGN_PK_BYTES);
    snprintf(c->partition, sizeof c->partition, "%s", county);
    c->seq = seq;
    memcpy(c->prev, prev, WG_HASH_BYTES);
    c->hlc = hlc;
    c->table = WG_TABLE_PERSON;
    for (int k = 0; k < 4; k++) {
        c->fields[k].index = (uint8_t)wg_schema_field_index(person, f[k]);
        c->fields[k].type = WG_VAL_TEXT;
        c->fields[k].text = v[k];
        c->fields[k].len = (uint16_t)strlen(v[k]);
    }
    c->nfields = 4;
}

/* Adds person SERIAL (see nu_person_row) inside the caller's transaction. */
static inline wg_rc nu_add_person(wg_store *st, int serial, const char *id,
                                  const char *name, const char *county,
                                  wg_err *err)
{
    nu_person p;
    nu_person_row(&p, serial, id, name, county);
    return wg_store_add(st, wg_schema_table("person"), p.f, p.v, p.n, NULL,
                        err);
}

/* Persons FIRST .. FIRST+N-1 of COUNTY (NULL: the node's own) in one
 * transaction (one commit, one signed head); every step must succeed. */
static inline void nu_add_persons(wg_store *st, const char *county, int first,
                                  int n)
{
    wg_err err = { 0 };
    NU_ASSERT(wg_store_begin(st, &err) == WG_OK, "begin: %s", err.msg);
    for (int i = first; i < first + n; i++)
        NU_ASSERT(nu_add_person(st, i, NULL, NULL, county, &err) == WG_OK,
                  "person %d: %s", i, err.msg);
    NU_ASSERT(wg_store_commit(st, &err) == WG_OK, "commit: %s", err.msg);
}

static inline long nu_persons(wg_store *st)
{
    long n = -1;
    wg_err err = { 0 };
    NU_ASSERT(wg_store_count(st, wg_schema_table("person"), &n, &err) ==
                  WG_OK, "count: %s", err.msg);
    return n;
}

/* The canonical dump of ST as a string; caller frees. */
static inline char *nu_dump(wg_store *st)
{
    wg_buf b;
    wg_err err = { 0 };
    wg_buf_init(&b, 1 << 24);
    NU_ASSERT(wg_store_dump(st, &b, &err) == WG_OK, "dump: %s", err.msg);
    NU_ASSERT(wg_buf_cstr(&b, &err) == WG_OK, "dump: %s", err.msg);
    return (char *)b.data;
}

/* ---- the benches' random persons ------------------------------------------ */

/* splitmix64: the next draw of the stream in STATE. */
static inline uint64_t nu_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline int nu_days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* The pools a random person is drawn from: nu_surname(R) is entry R mod
 * NU_N_SURNAMES (so nu_surname(draw) is a uniform pick), and likewise. */
#define NU_POOL(fn, count, ...)                                              \
    static inline const char *fn(uint64_t r)                                 \
    {                                                                        \
        static const char *const v[count] = { __VA_ARGS__ };                 \
        return v[r % (count)];                                               \
    }
#define NU_N_SURNAMES 28
#define NU_N_GIVEN 36
#define NU_N_CATEGORIES 7
#define NU_N_TOWNSHIPS 12
#define NU_N_PHONE_PREFIXES 22
NU_POOL(nu_surname, NU_N_SURNAMES,
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐",
        "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "梁", "韦", "覃",
        "蒙", "莫", "廖", "潘", "蓝", "石")
NU_POOL(nu_given, NU_N_GIVEN,
        "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军",
        "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "兰", "霞", "平",
        "刚", "桂", "华", "红", "玉", "文", "海", "春", "燕", "荣", "宁",
        "福", "金", "小")
NU_POOL(nu_category, NU_N_CATEGORIES,
        "physical", "visual", "hearing", "speech", "intellectual", "mental",
        "multiple")
NU_POOL(nu_township, NU_N_TOWNSHIPS,
        "长安镇", "浮石镇", "泗顶镇", "板榄镇", "大将镇", "大良镇",
        "雅瑶乡", "大坡乡", "东起乡", "沙子乡", "桥板乡", "潭头乡")
NU_POOL(nu_phone_prefix, NU_N_PHONE_PREFIXES,
        "130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
        "152", "157", "158", "159", "177", "180", "181", "186", "187", "188",
        "189", "199")
/* ... and a placement's. */
#define NU_N_EMPLOYMENT_TYPES 7
#define NU_N_EMPLOYER_HEADS 12
#define NU_N_EMPLOYER_TRADES 10
#define NU_N_POSITIONS 12
NU_POOL(nu_employment_type, NU_N_EMPLOYMENT_TYPES,
        "enterprise", "assisted", "self_employed", "online", "public_welfare",
        "agricultural", "flexible")
NU_POOL(nu_employer_head, NU_N_EMPLOYER_HEADS,
        "Hengda", "Longsheng", "Guiyuan", "Xinhe", "Jinlong", "Baise",
        "Lijiang", "Fengyuan", "Huamei", "Tianyi", "Minsheng", "Ruifeng")
NU_POOL(nu_employer_trade, NU_N_EMPLOYER_TRADES,
        "Textile", "Foods", "Logistics", "Electronics", "Crafts", "Tea",
        "Farming", "Retail", "Printing", "Services")
NU_POOL(nu_position, NU_N_POSITIONS,
        "assembler", "cashier", "packer", "customer service", "weaver",
        "driver", "clerk", "cook", "live-stream host", "cleaner",
        "tea picker", "data entry")
#undef NU_POOL

/* ---- what a check reports ------------------------------------------------ */

/* The problems a verification reports through nu_on_problem (a
 * wg_problem_fn): how many, and the text of the first NU_PROBLEMS_KEPT. */
#define NU_PROBLEMS_KEPT 16
typedef struct nu_problems {
    int n;
    char text[NU_PROBLEMS_KEPT][200];
} nu_problems;

static inline void nu_on_problem(void *ctx, const char *what)
{
    nu_problems *p = ctx;
    if (p->n < NU_PROBLEMS_KEPT)
        snprintf(p->text[p->n], sizeof p->text[0], "%s", what);
    p->n++;
}

/* ---- folders and programs (for the benches) ---------------------------------- */

static inline int nu_rm_one(const char *p, const struct stat *sb, int flag,
                            struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

/* Removes the folder PATH and everything below it (what can be removed). */
static inline void nu_rmtree(const char *path)
{
    nftw(path, nu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The first executable NAME on PATH (malloc'd), or NULL. */
static inline char *nu_find_on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        size_t len = n + strlen(name) + 3;
        char *cand = malloc(len);
        NU_ASSERT(cand != NULL, "out of memory");
        if (n)
            snprintf(cand, len, "%.*s/%s", (int)n, p, name);
        else
            snprintf(cand, len, "./%s", name);
        struct stat sb;
        if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) &&
            access(cand, X_OK) == 0)
            return cand;
        free(cand);
        if (!end)
            return NULL;
        p = end + 1;
    }
}

/* ---- a store's insides (for suites that include store_int.h) ------------ */

#ifdef WG_STORE_INT_H
/* SQLite's PRAGMA integrity_check of ST says "ok": every page, and every
 * index entry against its table (so an index made again holds exactly the
 * rows it should). WHAT names the moment in the failure. */
static inline void nu_integrity_ok(wg_store *st, const char *what)
{
    sqlite3_stmt *s;
    NU_ASSERT(sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s,
                                 NULL) == SQLITE_OK,
              "%s: integrity_check: %s", what, sqlite3_errmsg(st->db));
    int r = sqlite3_step(s);
    const char *got = r == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0)
                                      : NULL;
    char said[256];
    snprintf(said, sizeof said, "%s", got ? got : sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    NU_ASSERT(got && !strcmp(said, "ok"), "%s: integrity_check says %s",
              what, said);
}

/* Does ST's schema hold an index NAME? */
static inline int nu_has_index(wg_store *st, const char *name)
{
    sqlite3_stmt *s;
    NU_ASSERT(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_schema "
                                 "WHERE type = 'index' AND name = ?", -1, &s,
                                 NULL) == SQLITE_OK,
              "reading the schema: %s", sqlite3_errmsg(st->db));
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    NU_ASSERT(n >= 0, "reading the schema for %s", name);
    return n > 0;
}
#endif

/* ---- the Check fixture ------------------------------------------------- */

#ifdef WG_TESTUTIL_H
/* A suite's fixture over one temporary folder: `static char *DIR`, setup()
 * (the crypto library, then a fresh folder by tu_dir_open) and teardown()
 * (tu_rmtree), for tcase_add_checked_fixture(tc, setup, teardown). */
#define NU_DIR_FIXTURE(DIR)                                                  \
    static char *DIR;                                                        \
    static void setup(void)                                                  \
    {                                                                        \
        ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);                       \
        tu_dir_open(&DIR);                                                   \
    }                                                                        \
    static void teardown(void)                                               \
    {                                                                        \
        tu_rmtree(&DIR);                                                     \
    }
#endif

/* ---- nodes --------------------------------------------------------------- */

/* *INFO, cleared first: node NAME of COUNTY and ROLE, its endpoint
 * tcp://127.0.0.1:7400 (what wg_store_create takes). */
static inline void nu_node_info(wg_node_info *info, const char *name,
                                const char *county, wg_role role)
{
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", name);
    snprintf(info->county, sizeof info->county, "%.*s",
             (int)(sizeof info->county - 1), county);
    info->role = role;
    strcpy(info->endpoint, "tcp://127.0.0.1:7400");
}

/* Creates node NAME of COUNTY and ROLE in DIR/NAME with passphrase PASS (its
 * endpoint tcp://127.0.0.1:7400, unlocking at KDF); returns the folder's
 * path, which the caller frees. */
static inline char *nu_create_pass(const char *dir, const char *name,
                                   const char *county, wg_role role,
                                   wg_kdf kdf, const char *pass)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *d = malloc(len);
    NU_ASSERT(d != NULL, "out of memory");
    snprintf(d, len, "%s/%s", dir, name);
    wg_node_info info;
    nu_node_info(&info, name, county, role);
    wg_err err = { 0 };
    NU_ASSERT(wg_store_create(d, pass, strlen(pass), kdf, &info, &err) ==
                  WG_OK, "create %s: %s", name, err.msg);
    return d;
}

/* nu_create_pass with passphrase NU_PASS. */
static inline char *nu_create(const char *dir, const char *name,
                              const char *county, wg_role role, wg_kdf kdf)
{
    return nu_create_pass(dir, name, county, role, kdf, NU_PASS);
}

/* Opens the node in folder D with passphrase PASS; every step must
 * succeed. */
static inline wg_store *nu_open_pass(const char *d, const char *pass)
{
    wg_store *st = NULL;
    wg_err err = { 0 };
    NU_ASSERT(wg_store_open(d, pass, strlen(pass), &st, &err) == WG_OK,
              "open '%s': %s", d, err.msg);
    return st;
}

/* Opens the node in folder D (passphrase NU_PASS); every step must succeed. */
static inline wg_store *nu_open(const char *d)
{
    return nu_open_pass(d, NU_PASS);
}

/* nu_create, then nu_open: the node's store, open. */
static inline wg_store *nu_node(const char *dir, const char *name,
                                const char *county, wg_role role, wg_kdf kdf)
{
    char *d = nu_create(dir, name, county, role, kdf);
    wg_store *st = nu_open(d);
    free(d);
    return st;
}

/* ST trusts OTHER under NAME, reachable at ENDPOINT. */
static inline void nu_trust(wg_store *st, const char *name, wg_store *other,
                            const char *endpoint)
{
    wg_err err = { 0 };
    NU_ASSERT(wg_store_peer_add(st, name, wg_store_info(other)->key_hex,
                                endpoint, &err) == WG_OK, "trust %s: %s",
              name, err.msg);
}

/* A loopback port the OS considers free right now: bind port 0, read it,
 * close. */
static inline int nu_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    NU_ASSERT(fd >= 0, "socket failed");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    NU_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind failed");
    socklen_t len = sizeof a;
    NU_ASSERT(getsockname(fd, (struct sockaddr *)&a, &len) == 0,
              "getsockname failed");
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- the audit trail ----------------------------------------------------- */

/* Entries matching every non-NULL filter are counted; the last one is
 * copied out. With WANT set, MATCHED counts those of them that also carry
 * exactly W_SENT, W_RECEIVED, W_REFUSED and (if not NULL) W_REASON. */
typedef struct nu_audit_q {
    const char *event, *peer, *direction, *result;
    int count;
    int want;
    const char *w_reason;
    int64_t w_sent, w_received, w_refused;
    int matched;
    char node[WG_NAME_MAX + 1];
    char peer_key[WG_KEY_HEX_CHARS + 1];
    char reason[300];
    int64_t sent, received, refused;
} nu_audit_q;

static inline int nu_same(const char *want, const char *have)
{
    return !want || (have && !strcmp(want, have));
}

static inline int nu_on_audit(void *ctx, const wg_audit_entry *e)
{
    nu_audit_q *q = ctx;
    if (!nu_same(q->event, e->event) || !nu_same(q->peer, e->peer) ||
        !nu_same(q->direction, e->direction) || !nu_same(q->result, e->result))
        return 0;
    q->count++;
    if (q->want && e->sent == q->w_sent && e->received == q->w_received &&
        e->refused == q->w_refused && nu_same(q->w_reason, e->reason))
        q->matched++;
    snprintf(q->node, sizeof q->node, "%s", e->node ? e->node : "");
    snprintf(q->peer_key, sizeof q->peer_key, "%s",
             e->peer_key ? e->peer_key : "");
    snprintf(q->reason, sizeof q->reason, "%s", e->reason ? e->reason : "");
    q->sent = e->sent;
    q->received = e->received;
    q->refused = e->refused;
    return 0;
}

/* How many of ST's audit entries match Q (and Q's copy of the last). */
static inline int nu_audit_count(wg_store *st, nu_audit_q *q)
{
    wg_err err = { 0 };
    q->count = 0;
    q->matched = 0;
    NU_ASSERT(wg_store_audit_list(st, nu_on_audit, q, &err) == WG_OK,
              "audit list: %s", err.msg);
    return q->count;
}

/* ---- feeds ------------------------------------------------------------- */

/* A copy of the signed changes a feed read hands over, bodies and all, for
 * wg_store_apply later: nu_copy_change is wg_store_feed_read's callback
 * (start from a zeroed nu_feedcopy); nu_feedcopy_free releases it. */
typedef struct nu_feedcopy {
    wg_signed_change *c;
    uint8_t **bodies;
    size_t n, cap;
} nu_feedcopy;

static inline int nu_copy_change(void *ctx, const wg_signed_change *c,
                                 uint64_t seq)
{
    (void)seq;
    nu_feedcopy *f = ctx;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->c = realloc(f->c, f->cap * sizeof *f->c);
        f->bodies = realloc(f->bodies, f->cap * sizeof *f->bodies);
    }
    f->bodies[f->n] = malloc(c->len);
    memcpy(f->bodies[f->n], c->body, c->len);
    f->c[f->n] = *c;
    f->c[f->n].body = f->bodies[f->n];
    f->n++;
    return 0;
}

static inline void nu_feedcopy_free(nu_feedcopy *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->bodies[i]);
    free(f->bodies);
    free(f->c);
}

/* ---- networks: certificates as `wings init --root`, `enrol`, `join` ----- */

#include "wg_cert.h"

/* ISSUER certifies SUBJECT for CODE (HQ: 1, and then it may enrol), valid
 * from a day before BASE for a year (the root's own for ten), written in
 * the issuer's feed as `wings enrol` writes it. Serials grow from call to
 * call, as enrol's grow with the clock. */
static inline wg_cert nu_certify(wg_store *issuer, wg_store *subject,
                                 const char *code, int hq, uint64_t base)
{
    static uint64_t serial;
    wg_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, wg_store_info(subject)->pk, WG_SIGN_PK_BYTES);
    snprintf(c.name, sizeof c.name, "%s", wg_store_info(subject)->name);
    snprintf(c.scope, sizeof c.scope, "%s", code);
    c.role = (uint8_t)hq;
    c.may_enrol = (uint8_t)hq;
    c.not_before = base - 86400;
    c.not_after = base + (issuer == subject ? 3650 : 365) * 86400ULL;
    c.serial = ((uint64_t)time(NULL) << 20) + ++serial;
    NU_ASSERT(wg_cert_sign(&c, wg_store_secret_key(issuer), NULL) == WG_OK,
              "signing a certificate");
    wg_buf b;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    NU_ASSERT(wg_cert_encode(&c, &b, NULL) == WG_OK, "encoding a certificate");
    wg_err err = { 0 };
    NU_ASSERT(wg_store_member_put(issuer, b.data, b.len, code, &err) == WG_OK,
              "writing a certificate: %s", err.msg);
    wg_buf_release(&b);
    return c;
}

/* ROOT becomes its network's root (`init --root`): its own certificate for
 * CODE, returned. */
static inline wg_cert nu_root(wg_store *root, const char *code, uint64_t base)
{
    wg_cert rc = nu_certify(root, root, code, 1, base);
    NU_ASSERT(wg_store_set_root(root, wg_store_info(root)->pk, NULL) == WG_OK,
              "pinning the root");
    return rc;
}

/* ST joins the network of ROOT (whose own certificate is RC) with its
 * certificate MINE, as `wings join` does. */
static inline void nu_join(wg_store *st, wg_store *root, const wg_cert *rc,
                           const wg_cert *mine)
{
    wg_buf m;
    wg_buf_init(&m, WG_CERT_MAX_BYTES);
    NU_ASSERT(wg_cert_encode(mine, &m, NULL) == WG_OK, "encoding");
    NU_ASSERT(wg_store_member_put(st, m.data, m.len, mine->scope, NULL) ==
                  WG_OK, "writing its own certificate");
    wg_buf_release(&m);
    wg_buf b, chain;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    wg_buf_init(&chain, 1024);
    NU_ASSERT(wg_cert_encode(rc, &b, NULL) == WG_OK, "encoding");
    NU_ASSERT(wg_buf_append_u16(&chain, (uint16_t)b.len, NULL) == WG_OK &&
                  wg_buf_append(&chain, b.data, b.len, NULL) == WG_OK,
              "the chain");
    NU_ASSERT(wg_store_set_chain(st, chain.data, chain.len, NULL) == WG_OK,
              "keeping the chain");
    NU_ASSERT(wg_store_set_root(st, wg_store_info(root)->pk, NULL) == WG_OK,
              "pinning the root");
    wg_buf_release(&b);
    wg_buf_release(&chain);
}

/* ---- engines: the two-engine fixture --------------------------------------- */

#if __has_include("wg_sync.h")
#include <zmq.h>

#include "wg_sync.h"
#include "wg_wire.h"

/* One turn of E: NU_STEP_MS, which must succeed. */
static inline void nu_step(wg_engine *e)
{
    wg_err err = { 0 };
    NU_ASSERT(wg_engine_step(e, NU_STEP_MS, &err) == WG_OK, "step: %s",
              err.msg);
}

/* An engine over ST listening on a fresh loopback port, written to
 * ENDPOINT; with IDLE_MS > 0, that idle timeout. The engine cannot tell
 * which port "*" bound, so the port is picked first; another process may
 * take it in between, hence the retry. */
static inline wg_engine *nu_serve(wg_store *st, char endpoint[64], int idle_ms)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        snprintf(endpoint, 64, "tcp://127.0.0.1:%d", nu_free_port());
        wg_engine *e = NULL;
        wg_err err = { 0 };
        NU_ASSERT(wg_engine_new(st, &e, &err) == WG_OK, "engine: %s",
                  err.msg);
        wg_rc rc = wg_engine_listen(e, endpoint, &err);
        if (rc == WG_OK) {
            if (idle_ms > 0)
                wg_engine_set_idle_timeout(e, idle_ms);
            return e;
        }
        wg_engine_destroy(&e);
        NU_ASSERT(rc == WG_ERR_IO, "listen: %s", err.msg);
    }
    NU_ASSERT(0, "no free port to listen on");
    return NULL;
}

/* What a client engine's done callback saw: how many sessions ended, and
 * the last one's result. */
typedef struct nu_done {
    int n;
    wg_sync_result r;
} nu_done;

static inline void nu_on_done(void *ctx, const wg_sync_result *r)
{
    nu_done *b = ctx;
    b->r = *r;
    b->n++;
}

/* Runs one session from CLI to its peer PEER (served by SRV), stepping both
 * engines in turn until it ends (within NU_SESSION_DEADLINE_MS, and the
 * client idle after it); returns how it ended. */
static inline wg_sync_result nu_session(wg_engine *srv, wg_engine *cli,
                                        const char *peer, int timeout_ms)
{
    nu_done box;
    memset(&box, 0, sizeof box);
    wg_engine_on_done(cli, nu_on_done, &box);
    wg_err err = { 0 };
    NU_ASSERT(wg_engine_connect(cli, peer, timeout_ms, &err) == WG_OK,
              "connect %s: %s", peer, err.msg);
    int64_t end = nu_now_ms() + NU_SESSION_DEADLINE_MS;
    while (box.n == 0 && nu_now_ms() < end) {
        nu_step(srv);
        nu_step(cli);
    }
    NU_ASSERT(box.n == 1, "session with %s did not end within %d ms", peer,
              NU_SESSION_DEADLINE_MS);
    NU_ASSERT(wg_engine_busy(cli) == 0, "the client is still busy");
    wg_engine_on_done(cli, NULL, NULL);
    return box.r;
}

/* Steps SRV until ST holds at least WANT entries matching Q, or DEADLINE_MS
 * pass; returns the count. */
static inline int nu_wait_audit(wg_engine *srv, wg_store *st, nu_audit_q *q,
                                int want, int deadline_ms)
{
    int64_t end = nu_now_ms() + deadline_ms;
    while (nu_audit_count(st, q) < want && nu_now_ms() < end)
        nu_step(srv);
    return q->count;
}
/* The HELLO node ST sends into *H: this build's protocol and schema ranges,
 * ST's key, name and county, speaking as ROLE for the one scope SCOPE. */
static inline void nu_hello_as(wg_msg_hello *h, wg_store *st, wg_role role,
                               const char *scope)
{
    const wg_node_info *me = wg_store_info(st);
    memset(h, 0, sizeof *h);
    h->proto_min = WG_WIRE_VERSION_MIN;
    h->proto_max = WG_WIRE_VERSION;
    h->schema_min = WG_SCHEMA_MIN;
    h->schema_max = WG_SCHEMA_VERSION;
    memcpy(h->node, me->pk, WG_SIGN_PK_BYTES);
    snprintf(h->name, sizeof h->name, "%s", me->name);
    snprintf(h->county, sizeof h->county, "%s", me->county);
    h->role = (uint8_t)role;
    h->nscopes = 1;
    snprintf(h->scopes[0], sizeof h->scopes[0], "%s", scope);
}

/* A well-formed HELLO from node ST (an office speaking for its county, at
 * this build's protocol and schema ranges) into B, reset first. */
static inline void nu_hello(wg_buf *b, wg_store *st)
{
    wg_msg_hello h;
    nu_hello_as(&h, st, WG_ROLE_OFFICE, wg_store_info(st)->county);
    wg_buf_reset(b);
    wg_err err = { 0 };
    NU_ASSERT(wg_wire_hello(b, &h, &err) == WG_OK, "hello: %s", err.msg);
}

/* A raw peer: a ZeroMQ DEALER on a context of its own (into *CTX), a CURVE
 * client holding CLIENT's keys (read from its store) and pinned to SERVER's
 * key, not yet connected; it speaks to SERVER's engine as CLIENT would, and
 * sends whatever the test crafts. Close the socket, then zmq_ctx_term. */
static inline void *nu_curve_dealer(void **ctx, wg_store *client,
                                    wg_store *server)
{
    uint8_t csk[32], cpk[32], spk[32];
    NU_ASSERT(wg_sign_sk_to_curve(csk, wg_store_secret_key(client), NULL) ==
                  WG_OK, "curve secret key");
    NU_ASSERT(wg_sign_pk_to_curve(cpk, wg_store_info(client)->pk, NULL) ==
                  WG_OK, "curve public key");
    NU_ASSERT(wg_sign_pk_to_curve(spk, wg_store_info(server)->pk, NULL) ==
                  WG_OK, "curve server key");
    *ctx = zmq_ctx_new();
    NU_ASSERT(*ctx != NULL, "zmq_ctx_new failed");
    void *sock = zmq_socket(*ctx, ZMQ_DEALER);
    NU_ASSERT(sock != NULL, "zmq_socket failed");
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    NU_ASSERT(zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, spk, 32) == 0 &&
                  zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cpk, 32) == 0 &&
                  zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, csk, 32) == 0,
              "CURVE options refused");
    wg_wipe(csk, sizeof csk);
    return sock;
}
#endif /* wg_sync.h */

#endif
