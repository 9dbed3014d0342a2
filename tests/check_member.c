/*
 * check_member.c - Check suite for membership as the store enforces it:
 * every change received in a network is judged by its origin's certificate
 * (scope, chain to the root, revocation cut-off), certificates travel as
 * changes and count for the changes after them, and a node that joined no
 * network keeps its closed-group behaviour.
 *
 * Real stores in a temporary folder; changes move between them as a peer
 * would send them (wg_store_feed_read, then wg_store_apply).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "nodeutil.h"
#include "wg_cert.h"
#include "wg_change.h"
#include "wg_store.h"

#define DAY 86400ULL

static char *dir;
static uint64_t base;   /* one clock for every certificate of a test */

static void setup(void)
{
    ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);
    dir = tu_tmpdir();
    base = (uint64_t)time(NULL);
}

static void teardown(void)
{
    tu_rmtree(&dir);
}

static wg_store *node(const char *name, const char *county, wg_role role)
{
    return nu_node(dir, name, county, role, WG_KDF_TEST);
}

/* ISSUER certifies SUBJECT for CODE (written in the issuer's feed). */
static wg_cert certify(wg_store *issuer, wg_store *subject, const char *code,
                       int hq)
{
    wg_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, wg_store_info(subject)->pk, WG_SIGN_PK_BYTES);
    snprintf(c.name, sizeof c.name, "%s", wg_store_info(subject)->name);
    snprintf(c.scope, sizeof c.scope, "%s", code);
    c.role = (uint8_t)hq;
    c.may_enrol = (uint8_t)hq;
    c.not_before = base - DAY;
    /* The root's own certificate outlives those it issues. */
    c.not_after = base + (issuer == subject ? 3650 : 365) * DAY;
    c.serial = (uint64_t)rand();
    ck_assert_int_eq(wg_cert_sign(&c, wg_store_secret_key(issuer), NULL),
                     WG_OK);
    wg_buf b;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    ck_assert_int_eq(wg_cert_encode(&c, &b, NULL), WG_OK);
    wg_err err = { 0 };
    ck_assert_msg(wg_store_member_put(issuer, b.data, b.len, code, &err) ==
                      WG_OK, "%s", err.msg);
    wg_buf_release(&b);
    return c;
}

/* ST joins the network of ROOT (whose self-signed certificate is RC) with
 * its certificate MINE, as `wings join` does. */
static void joined(wg_store *st, wg_store *root, const wg_cert *rc,
                   const wg_cert *mine)
{
    wg_buf m;
    wg_buf_init(&m, WG_CERT_MAX_BYTES);
    ck_assert_int_eq(wg_cert_encode(mine, &m, NULL), WG_OK);
    ck_assert_int_eq(wg_store_member_put(st, m.data, m.len, mine->scope, NULL),
                     WG_OK);
    wg_buf_release(&m);
    wg_buf b, chain;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    wg_buf_init(&chain, 1024);
    ck_assert_int_eq(wg_cert_encode(rc, &b, NULL), WG_OK);
    ck_assert_int_eq(wg_buf_append_u16(&chain, (uint16_t)b.len, NULL), WG_OK);
    ck_assert_int_eq(wg_buf_append(&chain, b.data, b.len, NULL), WG_OK);
    ck_assert_int_eq(wg_store_set_chain(st, chain.data, chain.len, NULL),
                     WG_OK);
    ck_assert_int_eq(wg_store_set_root(st, wg_store_info(root)->pk, NULL),
                     WG_OK);
    wg_buf_release(&b);
    wg_buf_release(&chain);
}

/* ---- moving changes ---------------------------------------------------------- */

/* Send FROM's copy of feed (ORIGIN, PART) after seq AFTER to TO. */
static wg_rc relay(wg_store *from, wg_store *to, wg_store *origin,
                   const char *part, uint64_t after, wg_err *err)
{
    nu_feedcopy f = { 0 };
    ck_assert_int_eq(wg_store_feed_read(from, wg_store_info(origin)->pk, part,
                                        after, 500, nu_copy_change, &f, NULL),
                     WG_OK);
    size_t applied;
    wg_rc rc = wg_store_apply(to, f.c, f.n, &applied, err);
    nu_feedcopy_free(&f);
    return rc;
}

/* One change of ORIGIN's feed in PART at SEQ after PREV, signed. */
static void forge(wg_store *origin, const char *part, uint64_t seq,
                  const uint8_t prev[WG_HASH_BYTES], wg_buf *body,
                  wg_signed_change *sc)
{
    char num[19];
    nu_person_idnum(num, 777);
    wg_change c;
    nu_person_change(&c, wg_store_info(origin)->pk, part, seq, prev,
                     (uint64_t)time(NULL) * 1000 << 16, "forged", num);
    wg_random(c.rowid, sizeof c.rowid);
    wg_buf_init(body, WG_CHANGE_MAX_BYTES);
    ck_assert_int_eq(wg_change_encode(&c, body, NULL), WG_OK);
    uint8_t h[WG_HASH_BYTES];
    wg_hash(h, body->data, body->len);
    memset(sc, 0, sizeof *sc);
    sc->body = body->data;
    sc->len = body->len;
    sc->has_sig = 1;
    wg_sign(sc->sig, h, WG_HASH_BYTES, wg_store_secret_key(origin));
}

/* ---- the network ---------------------------------------------------------------- */

typedef struct net {
    wg_store *root, *pref, *office, *hq2;
    wg_cert rootc, prefc, officec;
} net;

static void net_setup(net *a)
{
    a->root = node("gx", "450000", WG_ROLE_HQ);
    a->pref = node("liuzhou", "450200", WG_ROLE_HQ);
    a->office = node("rongan", "450224", WG_ROLE_OFFICE);
    a->rootc = certify(a->root, a->root, "450000", 1);
    ck_assert_int_eq(wg_store_set_root(a->root, wg_store_info(a->root)->pk,
                                       NULL), WG_OK);
    a->prefc = certify(a->root, a->pref, "450200", 1);
    joined(a->pref, a->root, &a->rootc, &a->prefc);
    a->officec = certify(a->pref, a->office, "450224", 0);
    joined(a->office, a->root, &a->rootc, &a->officec);
}

static void net_teardown(net *a)
{
    wg_store_close(&a->office);
    wg_store_close(&a->pref);
    wg_store_close(&a->root);
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_rights = {"rights", setup, teardown, 60};

START_TEST(test_member_office_changes_flow_up_through_the_prefecture)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.office, NULL, 1, 5);
    wg_err err = { 0 };
    /* The prefecture enrolled the office: it judges it directly. */
    ck_assert_msg(relay(a.office, a.pref, a.office, "450224", 0, &err) ==
                      WG_OK, "%s", err.msg);
    ck_assert_int_eq(nu_persons(a.pref), 5);
    /* The province never met the office: the office's changes are refused
     * until the certificate that vouches for it arrives ... */
    ck_assert_int_eq(relay(a.pref, a.root, a.office, "450224", 0, &err),
                     WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "holds no certificate"), "%s", err.msg);
    ck_assert_int_eq(nu_persons(a.root), 0);
    /* ... in the prefecture's feed, relayed first. */
    ck_assert_msg(relay(a.pref, a.root, a.pref, "450224", 0, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_msg(relay(a.pref, a.root, a.office, "450224", 0, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_int_eq(nu_persons(a.root), 5);
    net_teardown(&a);
}
END_TEST

START_TEST(test_member_change_outside_the_certified_scope_is_refused)
{
    net a;
    net_setup(&a);
    wg_err err = { 0 };
    uint8_t zero[WG_HASH_BYTES] = { 0 };
    wg_buf body;
    wg_signed_change sc;
    /* The office signs a record of the next county. */
    forge(a.office, "450225", 1, zero, &body, &sc);
    size_t applied;
    ck_assert_int_eq(wg_store_apply(a.pref, &sc, 1, &applied, &err),
                     WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "lies outside its origin's certified "
                         "scope (office 450224)"), "%s", err.msg);
    wg_buf_release(&body);
    /* A key nobody certified, writing in a county the prefecture holds. */
    wg_store *x = node("stranger", "450224", WG_ROLE_OFFICE);
    forge(x, "450224", 1, zero, &body, &sc);
    ck_assert_int_eq(wg_store_apply(a.pref, &sc, 1, &applied, &err),
                     WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "holds no certificate"), "%s", err.msg);
    wg_buf_release(&body);
    ck_assert_int_eq(nu_persons(a.pref), 0);
    /* A prefecture (450200 -> 4502xx) writing in Baise's 451021. */
    forge(a.pref, "451021", 1, zero, &body, &sc);
    ck_assert_int_eq(wg_store_apply(a.root, &sc, 1, &applied, &err),
                     WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "certified scope (hq 450200)"), "%s",
                  err.msg);
    wg_buf_release(&body);
    wg_store_close(&x);
    net_teardown(&a);
}
END_TEST

START_TEST(test_member_revocation_keeps_changes_before_its_cut_off)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.office, NULL, 1, 3);
    wg_err err = { 0 };
    ck_assert_int_eq(relay(a.office, a.pref, a.office, "450224", 0, &err),
                     WG_OK);
    /* The prefecture revokes the office at the head it holds (its cut-off),
     * then the office writes on. */
    wg_revoke r;
    memset(&r, 0, sizeof r);
    memcpy(r.subject, a.officec.subject, WG_SIGN_PK_BYTES);
    r.serial = a.officec.serial;
    r.time = (uint64_t)time(NULL);
    r.ncut = 1;
    snprintf(r.cut[0].partition, sizeof r.cut[0].partition, "450224");
    /* the office feed's head as the prefecture holds it: its own
     * certificate (written at join) and the three persons */
    r.cut[0].head = 4;
    wg_buf b;
    wg_buf_init(&b, WG_REVOKE_MAX_BYTES);
    ck_assert_int_eq(wg_revoke_sign(&r, wg_store_secret_key(a.pref), NULL),
                     WG_OK);
    ck_assert_int_eq(wg_revoke_encode(&r, &b, NULL), WG_OK);
    ck_assert_int_eq(wg_store_member_put(a.pref, b.data, b.len, "450224",
                                         NULL), WG_OK);
    wg_buf_release(&b);
    nu_add_persons(a.office, NULL, 10, 2);
    /* At the prefecture: what comes after the cut-off is refused. */
    ck_assert_int_eq(relay(a.office, a.pref, a.office, "450224", 4, &err),
                     WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "after its origin's revocation (cut-off 4)"),
                  "%s", err.msg);
    ck_assert_int_eq(nu_persons(a.pref), 3);
    /* At the province, after the prefecture's feed (the certificate, then
     * the revocation): the changes before the cut-off are accepted, those
     * after refused, whoever relays them. */
    ck_assert_msg(relay(a.pref, a.root, a.pref, "450224", 0, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_msg(relay(a.pref, a.root, a.office, "450224", 0, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_int_eq(nu_persons(a.root), 3);
    ck_assert_int_eq(relay(a.office, a.root, a.office, "450224", 4, &err),
                     WG_ERR_AUTH);
    ck_assert_int_eq(nu_persons(a.root), 3);
    net_teardown(&a);
}
END_TEST

START_TEST(test_member_closed_group_keeps_todays_behaviour)
{
    wg_store *h = node("hq", "450000", WG_ROLE_HQ);
    wg_store *o = node("office", "450224", WG_ROLE_OFFICE);
    ck_assert_int_eq(wg_store_root(h, NULL), 0);
    nu_add_persons(o, NULL, 1, 2);
    wg_err err = { 0 };
    ck_assert_msg(relay(o, h, o, "450224", 0, &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(nu_persons(h), 2);
    wg_store_close(&o);
    wg_store_close(&h);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_rights, test_member_office_changes_flow_up_through_the_prefecture),
    TU_TEST(case_rights, test_member_change_outside_the_certified_scope_is_refused),
    TU_TEST(case_rights, test_member_revocation_keeps_changes_before_its_cut_off),
    TU_TEST(case_rights, test_member_closed_group_keeps_todays_behaviour),
};

int main(void)
{
    return tu_run(TU_SUITE("member", tests));
}
