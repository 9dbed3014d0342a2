/*
 * check_ident.c - unit suite for store/ident.c, the identity rules
 *
 * The rules one by one (names, codes, scopes, partitions, endpoints, times,
 * and an HQ's area by the level of its code), the store refusing writes
 * outside that area, and a province of Guangxi syncing for real: fourteen
 * prefecture HQs and their counties, every engine in this process over
 * tcp://127.0.0.1, each prefecture left holding exactly its own counties.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "nodeutil.h"
#include "wg_ident.h"
#include "wg_sync.h"
#include "wg_validate.h"

NU_DIR_FIXTURE(dir)

static int name_ok(const char *s)
{
    return wg_ident_name_ok(s, strlen(s));
}

static int county_ok(const char *s)
{
    return wg_ident_county_ok(s, strlen(s));
}

static int scope_ok(const char *s)
{
    return wg_ident_scope_ok(s, strlen(s));
}

static int partition_ok(const char *s)
{
    return wg_ident_partition_ok(s, strlen(s));
}

/* ---- the area of a node --------------------------------------------------- */

static void check_prefix(const char *county, wg_role role, int want_n,
                         const char *want)
{
    char out[WG_SCOPE_MAX + 1];
    memset(out, 'x', sizeof out);
    int n = wg_ident_area_prefix(county, role, out);
    ck_assert_msg(n == want_n, "%s (%s): prefix length %d, want %d", county,
                  role == WG_ROLE_HQ ? "hq" : "office", n, want_n);
    ck_assert_str_eq(out, want);
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_rules = {"rules", NULL, NULL, 0};
static const tu_case case_store = {"store", setup, teardown, 60};
static const tu_case case_province = {"province", setup, teardown, 240};

START_TEST(test_ident_area_prefix_follows_the_level_of_the_code)
{
    check_prefix("450000", WG_ROLE_HQ, 2, "45");      /* province */
    check_prefix("500000", WG_ROLE_HQ, 2, "50");      /* Chongqing, not 5 */
    check_prefix("110000", WG_ROLE_HQ, 2, "11");
    check_prefix("450200", WG_ROLE_HQ, 4, "4502");    /* prefecture */
    check_prefix("451000", WG_ROLE_HQ, 4, "4510");    /* Baise, not 451 */
    check_prefix("451100", WG_ROLE_HQ, 4, "4511");    /* Hezhou */
    check_prefix("451400", WG_ROLE_HQ, 4, "4514");
    check_prefix("000000", WG_ROLE_HQ, 0, "");        /* the country */
    check_prefix("450224", WG_ROLE_HQ, 6, "450224");  /* county HQ */
    check_prefix("451020", WG_ROLE_HQ, 6, "451020");
    check_prefix("450224", WG_ROLE_OFFICE, 6, "450224");
    check_prefix("450000", WG_ROLE_OFFICE, 6, "450000");
    check_prefix("451000", WG_ROLE_OFFICE, 6, "451000");
    /* Not a division code, or no known role: no area at all. */
    check_prefix("45000", WG_ROLE_HQ, -1, "");
    check_prefix("4500000", WG_ROLE_HQ, -1, "");
    check_prefix("45a000", WG_ROLE_HQ, -1, "");
    check_prefix("", WG_ROLE_HQ, -1, "");
    check_prefix("450000", (wg_role)2, -1, "");
}
END_TEST

typedef struct area_case {
    const char *county;
    wg_role role;
    const char *code;
    int in;
} area_case;

static const area_case area_cases[] = {
    /* Guangxi (450000): every 45xxxx and nothing else. */
    { "450000", WG_ROLE_HQ, "450224", 1 },
    { "450000", WG_ROLE_HQ, "451102", 1 },
    { "450000", WG_ROLE_HQ, "450000", 1 },
    { "450000", WG_ROLE_HQ, "451400", 1 },
    { "450000", WG_ROLE_HQ, "460100", 0 },
    { "450000", WG_ROLE_HQ, "540102", 0 },
    /* Liuzhou (450200): every 4502xx. */
    { "450200", WG_ROLE_HQ, "450224", 1 },
    { "450200", WG_ROLE_HQ, "450200", 1 },
    { "450200", WG_ROLE_HQ, "450302", 0 },
    { "450200", WG_ROLE_HQ, "450000", 0 },
    /* Baise (451000): 4510xx only, never Hezhou 4511xx, Hechi 4512xx,
     * Laibin 4513xx or Chongzuo 4514xx. */
    { "451000", WG_ROLE_HQ, "451002", 1 },
    { "451000", WG_ROLE_HQ, "451021", 1 },
    { "451000", WG_ROLE_HQ, "451082", 1 },
    { "451000", WG_ROLE_HQ, "451000", 1 },
    { "451000", WG_ROLE_HQ, "451102", 0 },
    { "451000", WG_ROLE_HQ, "451100", 0 },
    { "451000", WG_ROLE_HQ, "451221", 0 },
    { "451000", WG_ROLE_HQ, "451302", 0 },
    { "451000", WG_ROLE_HQ, "451481", 0 },
    { "451000", WG_ROLE_HQ, "450000", 0 },
    /* Hezhou (451100): its own, not Baise's. */
    { "451100", WG_ROLE_HQ, "451102", 1 },
    { "451100", WG_ROLE_HQ, "451021", 0 },
    /* Chongqing (500000): 50xxxx only, never Sichuan, Guizhou, Yunnan or
     * Tibet. */
    { "500000", WG_ROLE_HQ, "500101", 1 },
    { "500000", WG_ROLE_HQ, "500230", 1 },
    { "500000", WG_ROLE_HQ, "510104", 0 },
    { "500000", WG_ROLE_HQ, "520102", 0 },
    { "500000", WG_ROLE_HQ, "530102", 0 },
    { "500000", WG_ROLE_HQ, "540102", 0 },
    /* Beijing (110000) and the national HQ (000000). */
    { "110000", WG_ROLE_HQ, "110101", 1 },
    { "110000", WG_ROLE_HQ, "120101", 0 },
    { "000000", WG_ROLE_HQ, "110101", 1 },
    { "000000", WG_ROLE_HQ, "540102", 1 },
    { "000000", WG_ROLE_HQ, "451102", 1 },
    { "000000", WG_ROLE_HQ, "000000", 1 },
    /* A county-level code, hq or office: itself only. */
    { "450224", WG_ROLE_HQ, "450224", 1 },
    { "450224", WG_ROLE_HQ, "450225", 0 },
    { "451020", WG_ROLE_HQ, "451021", 0 },
    { "450224", WG_ROLE_OFFICE, "450224", 1 },
    { "450224", WG_ROLE_OFFICE, "450225", 0 },
    { "450224", WG_ROLE_OFFICE, "450200", 0 },
    { "450000", WG_ROLE_OFFICE, "450224", 0 },
    { "451000", WG_ROLE_OFFICE, "451021", 0 },
    /* What is not a division code is in no one's area. */
    { "450224", WG_ROLE_OFFICE, "4502241", 0 },
    { "450224", WG_ROLE_OFFICE, "45022", 0 },
    { "450000", WG_ROLE_HQ, "45abcd", 0 },
    { "450000", WG_ROLE_HQ, "45", 0 },
    { "000000", WG_ROLE_HQ, "", 0 },
    { "000000", WG_ROLE_HQ, "x", 0 },
    { "4500", WG_ROLE_HQ, "450224", 0 },
};

START_TEST(test_ident_area_holds_exactly_the_codes_under_it)
{
    const area_case *c = &area_cases[_i];
    ck_assert_msg(wg_ident_area_contains(c->county, c->role, c->code) == c->in,
                  "%s %s %s %s", c->county,
                  c->role == WG_ROLE_HQ ? "hq" : "office",
                  c->in ? "must hold" : "must not hold", c->code);
}
END_TEST

/* The store's scope is the same rule: what an HQ may write and receive. */
START_TEST(test_ident_store_scope_is_the_area_rule)
{
    const area_case *c = &area_cases[_i];
    wg_node_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.county, sizeof info.county, "%s", c->county);
    info.role = c->role;
    ck_assert_msg(wg_scope_contains(&info, c->code) == c->in,
                  "wg_scope_contains: %s %s %s %s", c->county,
                  c->role == WG_ROLE_HQ ? "hq" : "office",
                  c->in ? "must hold" : "must not hold", c->code);
}
END_TEST

START_TEST(test_ident_area_of_nothing_holds_nothing)
{
    ck_assert_int_eq(wg_ident_area_contains("450000", WG_ROLE_HQ, NULL), 0);
    ck_assert_int_eq(wg_ident_area_contains(NULL, WG_ROLE_HQ, "450224"), 0);
}
END_TEST

/* ---- names, codes, partitions, endpoints, times -------------------------- */

START_TEST(test_ident_name_rule)
{
    char longest[WG_NAME_MAX + 2];
    memset(longest, 'n', sizeof longest);
    longest[WG_NAME_MAX] = 0;
    ck_assert(name_ok(longest));
    longest[WG_NAME_MAX] = 'n';
    longest[WG_NAME_MAX + 1] = 0;
    ck_assert(!name_ok(longest));
    ck_assert(name_ok("ronan"));
    ck_assert(name_ok("a"));
    ck_assert(name_ok("Baise-HQ_2.1"));
    ck_assert(!name_ok(""));
    ck_assert(!name_ok("a b"));
    ck_assert(!name_ok("a/b"));
    ck_assert(!name_ok("a\nb"));
    ck_assert(name_ok("\xe7\x99\xbe\xe8\x89\xb2"));  /* 百色: Chinese names */
    ck_assert(!name_ok("\xe7\x99"));                  /* a cut character */
    ck_assert(!name_ok("\xc0\xaf"));                  /* an overlong '/' */
    /* A character cut by the length given is refused, not read past. */
    ck_assert(!wg_ident_name_ok("\xe7\x99\xbe", 2));
    ck_assert(!name_ok("a\x1b[31m"));
    /* N bytes are checked, whatever follows. */
    ck_assert(wg_ident_name_ok("ab cd", 2));
    ck_assert(!wg_ident_name_ok("ab cd", 3));
}
END_TEST

START_TEST(test_ident_county_and_scope_rules)
{
    ck_assert(county_ok("450224"));
    ck_assert(county_ok("000000"));
    ck_assert(!county_ok("45022"));
    ck_assert(!county_ok("4502241"));
    ck_assert(!county_ok("45022a"));
    ck_assert(!county_ok(" 45022"));
    ck_assert(!county_ok(""));
    ck_assert(!county_ok("\xef\xbc\x94\xef\xbc\x95")); /* full-width 45 */
    ck_assert(scope_ok(""));
    ck_assert(scope_ok("45"));
    ck_assert(scope_ok("4510"));
    ck_assert(scope_ok("450224"));
    ck_assert(!scope_ok("4502241"));
    ck_assert(!scope_ok("4a"));
    ck_assert(!scope_ok("-1"));
}
END_TEST

START_TEST(test_ident_partition_rule)
{
    ck_assert(partition_ok("450224"));
    ck_assert(partition_ok("x"));
    ck_assert(partition_ok("!~abcdefghijklmn"));      /* 16, both ends */
    ck_assert(!partition_ok("!~abcdefghijklmno"));    /* 17 */
    ck_assert(!partition_ok(""));
    ck_assert(!partition_ok("45 0224"));
    ck_assert(!partition_ok("45\x7f"));
    ck_assert(!partition_ok("45\x80"));
    ck_assert(!partition_ok("45\t"));
}
END_TEST

START_TEST(test_ident_endpoint_rule)
{
    ck_assert(wg_ident_endpoint_ok("tcp://127.0.0.1:7400"));
    ck_assert(wg_ident_endpoint_ok("tcp://hq.example.cn:7400"));
    ck_assert(wg_ident_endpoint_ok("tcp://[::1]:7400"));
    ck_assert(!wg_ident_endpoint_ok("tcp://"));
    ck_assert(!wg_ident_endpoint_ok(""));
    ck_assert(!wg_ident_endpoint_ok("udp://127.0.0.1:7400"));
    ck_assert(!wg_ident_endpoint_ok("ipc:///tmp/x"));
    ck_assert(!wg_ident_endpoint_ok("TCP://127.0.0.1:7400"));
    ck_assert(!wg_ident_endpoint_ok("tcp://a b:1"));
    ck_assert(!wg_ident_endpoint_ok("tcp://a:1\n"));
    ck_assert(!wg_ident_endpoint_ok("tcp://a:1\x1b[2J"));
    ck_assert(!wg_ident_endpoint_ok("tcp://\xe7\x99\xbe:1"));
    char ep[WG_ENDPOINT_MAX + 2];
    memset(ep, 'h', sizeof ep);
    memcpy(ep, "tcp://", 6);
    ep[WG_ENDPOINT_MAX] = 0;
    ck_assert(wg_ident_endpoint_ok(ep));
    ep[WG_ENDPOINT_MAX] = 'h';
    ep[WG_ENDPOINT_MAX + 1] = 0;
    ck_assert(!wg_ident_endpoint_ok(ep));
}
END_TEST

START_TEST(test_ident_time_is_utc_iso_8601)
{
    char t[WG_TIME_CHARS + 1];
    wg_ident_time_utc(0, t);
    ck_assert_str_eq(t, "1970-01-01T00:00:00Z");
    wg_ident_time_utc(1772871300, t);
    ck_assert_str_eq(t, "2026-03-07T08:15:00Z");
    wg_ident_time_utc(4102444799LL, t);
    ck_assert_str_eq(t, "2099-12-31T23:59:59Z");
    ck_assert_uint_eq(strlen(t), WG_TIME_CHARS);
}
END_TEST

/* ---- the store keeps to the area -------------------------------------------- */

static wg_store *node(const char *name, const char *county, wg_role role)
{
    return nu_node(dir, name, county, role, WG_KDF_TEST);
}

/* A valid resident id number: region COUNTY, born 1980-01-01, SERIAL. */
static void idnum(char out[19], const char *county, int serial)
{
    snprintf(out, 19, "%s19800101%03d", county, serial % 1000);
    out[17] = (char)wg_validate_idnum_check(out);
    out[18] = 0;
}

static wg_rc add_person(wg_store *st, const char *county, int serial,
                        wg_err *err)
{
    char num[19], name[32];
    idnum(num, county, serial);
    snprintf(name, sizeof name, "person-%s-%d", county, serial);
    const char *f[] = { "name", "id_number", "disability_category", "county" };
    const char *v[] = { name, num, "physical", county };
    wg_rc rc = wg_store_begin(st, err);
    if (!rc)
        rc = wg_store_add(st, wg_schema_table("person"), f, v, 4, NULL, err);
    if (!rc)
        return wg_store_commit(st, err);
    wg_store_rollback(st);
    return rc;
}

START_TEST(test_ident_hq_writes_only_inside_its_area)
{
    wg_store *baise = node("baise", "451000", WG_ROLE_HQ);
    wg_store *cq = node("chongqing", "500000", WG_ROLE_HQ);
    wg_err err = { 0 };
    ck_assert_msg(add_person(baise, "451021", 1, &err) == WG_OK, "%s",
                  err.msg);
    ck_assert_int_eq(add_person(baise, "451102", 2, &err), WG_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "451102 is outside this node's scope"),
                  "%s", err.msg);
    ck_assert_int_eq(add_person(baise, "451221", 3, &err), WG_ERR_INVALID);
    ck_assert_msg(add_person(cq, "500101", 1, &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(add_person(cq, "510104", 2, &err), WG_ERR_INVALID);
    ck_assert_int_eq(add_person(cq, "540102", 3, &err), WG_ERR_INVALID);
    long n = -1;
    ck_assert_int_eq(wg_store_count(baise, wg_schema_table("person"), &n,
                                    NULL), WG_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(wg_store_count(cq, wg_schema_table("person"), &n, NULL),
                     WG_OK);
    ck_assert_int_eq(n, 1);
    wg_store_close(&baise);
    wg_store_close(&cq);
}
END_TEST

START_TEST(test_ident_store_refuses_bad_identities)
{
    static const struct {
        const char *name, *county, *endpoint;
        wg_role role;
        const char *why;
    } bad[] = {
        { "", "450224", "tcp://127.0.0.1:7400", WG_ROLE_OFFICE, "name" },
        { "a b", "450224", "tcp://127.0.0.1:7400", WG_ROLE_OFFICE, "name" },
        { "a", "45022", "tcp://127.0.0.1:7400", WG_ROLE_OFFICE, "county" },
        { "a", "45022x", "tcp://127.0.0.1:7400", WG_ROLE_OFFICE, "county" },
        { "a", "000000", "tcp://127.0.0.1:7400", WG_ROLE_OFFICE, "county" },
        { "a", "450224", "udp://127.0.0.1:7400", WG_ROLE_OFFICE, "endpoint" },
        { "a", "450224", "tcp://", WG_ROLE_OFFICE, "endpoint" },
        { "a", "450224", "tcp://a\x1b[2J", WG_ROLE_OFFICE, "endpoint" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wg_node_info info;
        memset(&info, 0, sizeof info);
        snprintf(info.name, sizeof info.name, "%s", bad[i].name);
        snprintf(info.county, sizeof info.county, "%s", bad[i].county);
        snprintf(info.endpoint, sizeof info.endpoint, "%s", bad[i].endpoint);
        info.role = bad[i].role;
        char *d = tu_path(dir, "bad");
        wg_err err = { 0 };
        ck_assert_int_eq(wg_store_create(d, NU_PASS, 2, WG_KDF_TEST, &info,
                                         &err), WG_ERR_INVALID);
        ck_assert_msg(!strncmp(err.msg, bad[i].why, strlen(bad[i].why)),
                      "case %zu: %s", i, err.msg);
        ck_assert_int_ne(access(d, F_OK), 0);
        free(d);
    }
    /* The national HQ may hold 000000. */
    wg_store *nat = node("nation", "000000", WG_ROLE_HQ);
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_peer_add(nat, "a b",
                                       wg_store_info(nat)->key_hex,
                                       "tcp://127.0.0.1:1", &err),
                     WG_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "peer name"), "%s", err.msg);
    wg_store_close(&nat);
}
END_TEST

/* ---- a province syncing for real ------------------------------------------------ */

/* One session from ST to the peer NAME served by SRV; it must succeed. */
static void sync_with(wg_engine *srv, wg_store *st, const char *peer)
{
    wg_engine *cli = NULL;
    wg_err err = { 0 };
    ck_assert_int_eq(wg_engine_new(st, &cli, &err), WG_OK);
    wg_sync_result r = nu_session(srv, cli, peer, 10000);
    ck_assert_msg(r.ok, "%s: session with %s failed: %s",
                  wg_store_info(st)->name, peer, r.error);
    wg_engine_destroy(&cli);
}

/* The fourteen prefectures of Guangxi, and three counties under each. */
#define PREFECTURES 14
#define COUNTIES 3
#define PERSONS 2
static const char *const county_tail[COUNTIES] = { "02", "21", "22" };

typedef struct holdings {
    const char *prefix;   /* what every person must start with */
    int persons, outside;
    char outside_code[WG_COUNTY_CHARS + 1];
} holdings;

static int on_person(void *ctx, const wg_record *r)
{
    holdings *h = ctx;
    const wg_table *t = r->table;
    const char *county = NULL;
    for (int i = 0; i < t->nfields; i++)
        if (!strcmp(t->fields[i].name, "county"))
            county = r->values[i];
    ck_assert_ptr_nonnull(county);
    h->persons++;
    if (strncmp(county, h->prefix, strlen(h->prefix)) != 0) {
        h->outside++;
        snprintf(h->outside_code, sizeof h->outside_code, "%s", county);
    }
    return 0;
}

typedef struct feeds_out {
    const wg_node_info *me;
    int n, outside;
    char outside_part[WG_PARTITION_MAX + 1];
} feeds_out;

static int on_feed(void *ctx, const wg_feed_head *f)
{
    feeds_out *o = ctx;
    o->n++;
    if (!wg_scope_contains(o->me, f->partition)) {
        o->outside++;
        snprintf(o->outside_part, sizeof o->outside_part, "%s", f->partition);
    }
    return 0;
}

START_TEST(test_ident_guangxi_prefectures_hold_exactly_their_counties)
{
    int64_t t0 = nu_now_ms();
    wg_store *prov = node("guangxi", "450000", WG_ROLE_HQ);
    char ep[64];
    wg_engine *srv = nu_serve(prov, ep, 0);
    wg_store *pref[PREFECTURES];
    char pcode[PREFECTURES][WG_COUNTY_CHARS + 1];
    wg_err err = { 0 };

    for (int p = 0; p < PREFECTURES; p++) {
        char name[32];
        snprintf(pcode[p], sizeof pcode[p], "45%02d00", p + 1);
        snprintf(name, sizeof name, "pref-%.6s", pcode[p]);
        pref[p] = node(name, pcode[p], WG_ROLE_HQ);
        /* Each prefecture HQ registers one person of its own too. */
        char own[WG_COUNTY_CHARS + 1];
        snprintf(own, sizeof own, "45%02d03", p + 1);
        ck_assert_msg(add_person(pref[p], own, 900, &err) == WG_OK, "%s",
                      err.msg);
        ck_assert_int_eq(wg_store_peer_add(prov, name,
                                           wg_store_info(pref[p])->key_hex,
                                           "tcp://127.0.0.1:1", &err), WG_OK);
        ck_assert_int_eq(wg_store_peer_add(pref[p], "guangxi",
                                           wg_store_info(prov)->key_hex, ep,
                                           &err), WG_OK);
        for (int c = 0; c < COUNTIES; c++) {
            char code[WG_COUNTY_CHARS + 1];
            snprintf(code, sizeof code, "45%02d%s", p + 1, county_tail[c]);
            snprintf(name, sizeof name, "office-%.6s", code);
            wg_store *o = node(name, code, WG_ROLE_OFFICE);
            for (int i = 0; i < PERSONS; i++)
                ck_assert_msg(add_person(o, code, i, &err) == WG_OK, "%s",
                              err.msg);
            ck_assert_int_eq(wg_store_peer_add(prov, name,
                                               wg_store_info(o)->key_hex,
                                               "tcp://127.0.0.1:1", &err),
                             WG_OK);
            ck_assert_int_eq(wg_store_peer_add(o, "guangxi",
                                               wg_store_info(prov)->key_hex,
                                               ep, &err), WG_OK);
            sync_with(srv, o, "guangxi");
            wg_store_close(&o);
        }
    }
    /* Every prefecture syncs through the province twice: the first round
     * brings the others' own persons to the province, the second takes
     * them on to whoever may hold them. */
    for (int round = 0; round < 2; round++)
        for (int p = 0; p < PREFECTURES; p++)
            sync_with(srv, pref[p], "guangxi");

    long n = -1;
    ck_assert_int_eq(wg_store_count(prov, wg_schema_table("person"), &n,
                                    NULL), WG_OK);
    ck_assert_int_eq(n, PREFECTURES * (COUNTIES * PERSONS + 1));
    for (int p = 0; p < PREFECTURES; p++) {
        char prefix[WG_SCOPE_MAX + 1];
        ck_assert_int_eq(wg_ident_area_prefix(pcode[p], WG_ROLE_HQ, prefix),
                         4);
        holdings h = { .prefix = prefix };
        ck_assert_int_eq(wg_store_list(pref[p], wg_schema_table("person"),
                                       NULL, NULL, 0, on_person, &h, &err),
                         WG_OK);
        ck_assert_msg(h.outside == 0, "%s holds %d persons outside its area "
                      "(e.g. of %s)", pcode[p], h.outside, h.outside_code);
        ck_assert_msg(h.persons == COUNTIES * PERSONS + 1,
                      "%s holds %d persons, want %d", pcode[p], h.persons,
                      COUNTIES * PERSONS + 1);
        /* Nor a feed of any kind (audit trails included) from outside. */
        feeds_out f = { .me = wg_store_info(pref[p]) };
        ck_assert_int_eq(wg_store_feeds(pref[p], on_feed, &f, &err), WG_OK);
        ck_assert_msg(f.outside == 0, "%s holds %d feeds outside its area "
                      "(e.g. partition %s)", pcode[p], f.outside,
                      f.outside_part);
        ck_assert_int_ge(f.n, COUNTIES + 1);
    }
    /* Baise, by name: none of Hezhou's records. */
    holdings hz = { .prefix = "4511" };
    ck_assert_int_eq(wg_store_list(pref[9], wg_schema_table("person"), NULL,
                                   NULL, 0, on_person, &hz, &err), WG_OK);
    ck_assert_str_eq(wg_store_info(pref[9])->county, "451000");
    ck_assert_int_eq(hz.persons - hz.outside, 0);

    for (int p = 0; p < PREFECTURES; p++)
        wg_store_close(&pref[p]);
    wg_engine_destroy(&srv);
    wg_store_close(&prov);
    fprintf(stderr, "guangxi: %d nodes synced in %lld ms\n",
            1 + PREFECTURES * (COUNTIES + 1), (long long)(nu_now_ms() - t0));
}
END_TEST

#define N_AREA_CASES ((int)(sizeof area_cases / sizeof area_cases[0]))

/* ---- the suite -------------------------------------------------------------------- */

static const tu_test tests[] = {
    TU_TEST(case_rules, test_ident_area_prefix_follows_the_level_of_the_code),
    TU_LOOP(case_rules, test_ident_area_holds_exactly_the_codes_under_it, 0,
            N_AREA_CASES),
    TU_LOOP(case_rules, test_ident_store_scope_is_the_area_rule, 0,
            N_AREA_CASES),
    TU_TEST(case_rules, test_ident_area_of_nothing_holds_nothing),
    TU_TEST(case_rules, test_ident_name_rule),
    TU_TEST(case_rules, test_ident_county_and_scope_rules),
    TU_TEST(case_rules, test_ident_partition_rule),
    TU_TEST(case_rules, test_ident_endpoint_rule),
    TU_TEST(case_rules, test_ident_time_is_utc_iso_8601),
    TU_TEST(case_store, test_ident_hq_writes_only_inside_its_area),
    TU_TEST(case_store, test_ident_store_refuses_bad_identities),
    TU_TEST(case_province, test_ident_guangxi_prefectures_hold_exactly_their_counties),
};

int main(void)
{
    return tu_run(TU_SUITE("ident", tests));
}
