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
#define NU_SESSION_DEADLINE_MS 20000
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
    return nu_certify(issuer, subject, code, hq, base);
}

/* ST joins the network of ROOT (whose self-signed certificate is RC) with
 * its certificate MINE, as `wings join` does. */
static void joined(wg_store *st, wg_store *root, const wg_cert *rc,
                   const wg_cert *mine)
{
    nu_join(st, root, rc, mine);
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
static const tu_case case_hostile = {"hostile", setup, teardown, 60};

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


/* ---- a hostile peer over the wire ---------------------------------------------------- *
 *
 * A node of the network speaking to the province's engine through a raw
 * DEALER with its own certified key, sending what an honest node never
 * would. What it is sent is decided by its certificate alone; what it
 * writes outside its certificate is refused, audited naming it, and
 * neither stored nor relayed; no other node's feed is frozen by it. */

#define REPLY_MS 5000

typedef struct wire_net {
    wg_store *gx, *mallory, *rongshui;
    wg_engine *srv, *rs;
    wg_cert gxc, mc, rc;
    char ep[64];
} wire_net;

static void wire_setup(wire_net *w)
{
    memset(w, 0, sizeof *w);
    w->gx = node("gx", "450000", WG_ROLE_HQ);
    w->mallory = node("mallory", "450224", WG_ROLE_OFFICE);
    w->rongshui = node("rongshui", "450225", WG_ROLE_OFFICE);
    w->gxc = nu_root(w->gx, "450000", base);
    w->mc = certify(w->gx, w->mallory, "450224", 0);
    joined(w->mallory, w->gx, &w->gxc, &w->mc);
    w->rc = certify(w->gx, w->rongshui, "450225", 0);
    joined(w->rongshui, w->gx, &w->gxc, &w->rc);
    /* The province holds records of three counties, one of them the
     * hostile office's own. */
    nu_add_persons(w->gx, "450224", 0, 4);
    nu_add_persons(w->gx, "450225", 10, 3);
    nu_add_persons(w->gx, "451021", 20, 2);
    nu_add_persons(w->rongshui, NULL, 30, 2);
    w->srv = nu_serve(w->gx, w->ep, 0);
    nu_trust(w->gx, "mallory", w->mallory, "tcp://127.0.0.1:1");
    nu_trust(w->gx, "rongshui", w->rongshui, "tcp://127.0.0.1:1");
    nu_trust(w->rongshui, "gx", w->gx, w->ep);
    ck_assert_int_eq(wg_engine_new(w->rongshui, &w->rs, NULL), WG_OK);
    /* Rongshui's honest session: its records reach the province. */
    wg_sync_result r = nu_session(w->srv, w->rs, "gx", 10000);
    ck_assert_msg(r.ok, "rongshui's session failed: %s", r.error);
    ck_assert_int_eq(nu_persons(w->gx), 4 + 3 + 2 + 2);
    ck_assert_int_eq(nu_persons(w->rongshui), 3 + 2);
}

static void wire_teardown(wire_net *w)
{
    wg_engine_destroy(&w->rs);
    wg_engine_destroy(&w->srv);
    wg_store_close(&w->rongshui);
    wg_store_close(&w->mallory);
    wg_store_close(&w->gx);
}

typedef struct raw {
    void *ctx, *sock;
} raw;

static void raw_open(raw *r, wire_net *w)
{
    r->sock = nu_curve_dealer(&r->ctx, w->mallory, w->gx);
    ck_assert_int_eq(zmq_connect(r->sock, w->ep), 0);
}

static void raw_close(raw *r)
{
    zmq_close(r->sock);
    zmq_ctx_term(r->ctx);
}

static void raw_send(raw *r, const wg_buf *b)
{
    ck_assert_int_eq(zmq_send(r->sock, b->data, b->len, 0), (int)b->len);
}

/* The province's next message into *M (its bytes kept in FRAME), stepping
 * its engine meanwhile; 0 when none came within MS. */
static int raw_recv(raw *r, wire_net *w, wg_buf *frame, wg_msg *m, int ms)
{
    int64_t end = nu_now_ms() + ms;
    do {
        nu_step(w->srv);
        zmq_msg_t z;
        zmq_msg_init(&z);
        if (zmq_msg_recv(&z, r->sock, ZMQ_DONTWAIT) >= 0) {
            wg_buf_reset(frame);
            ck_assert_int_eq(wg_buf_append(frame, zmq_msg_data(&z),
                                           zmq_msg_size(&z), NULL), WG_OK);
            zmq_msg_close(&z);
            wg_err err = { 0 };
            ck_assert_msg(wg_wire_decode(frame->data, frame->len, m, &err) ==
                              WG_OK, "the province sent a bad message: %s",
                          err.msg);
            return 1;
        }
        zmq_msg_close(&z);
    } while (nu_now_ms() < end);
    return 0;
}

/* HELLO claiming ROLE and COUNTY with scope SCOPE, from W's mallory. */
static void hello_as(wg_buf *b, wire_net *w, wg_role role, const char *county,
                     const char *scope)
{
    const wg_node_info *me = wg_store_info(w->mallory);
    wg_msg_hello h;
    memset(&h, 0, sizeof h);
    h.proto_min = WG_WIRE_VERSION_MIN;
    h.proto_max = WG_WIRE_VERSION;
    h.schema_min = WG_SCHEMA_MIN;
    h.schema_max = WG_SCHEMA_VERSION;
    memcpy(h.node, me->pk, WG_SIGN_PK_BYTES);
    snprintf(h.name, sizeof h.name, "%s", me->name);
    snprintf(h.county, sizeof h.county, "%s", county);
    h.role = role;
    h.nscopes = 1;
    snprintf(h.scopes[0], sizeof h.scopes[0], "%s", scope);
    wg_buf_reset(b);
    ck_assert_int_eq(wg_wire_hello(b, &h, NULL), WG_OK);
}

/* HELLO (B, as built), the province's HELLO, an empty VECTOR. */
static void open_session(raw *r, wire_net *w, wg_buf *b, wg_buf *frame)
{
    wg_msg m;
    raw_send(r, b);
    ck_assert_msg(raw_recv(r, w, frame, &m, REPLY_MS), "no HELLO back");
    ck_assert_int_eq(m.type, WG_MSG_HELLO);
    wg_msg_release(&m);
    wg_buf_reset(b);
    ck_assert_int_eq(wg_wire_vector(b, NULL, 0, NULL), WG_OK);
    raw_send(r, b);
}

typedef struct part_count {
    const char *part;
    long changes;
} part_count;

static int count_part(void *ctx, const wg_feed_head *h)
{
    part_count *p = ctx;
    if (!strcmp(h->partition, p->part))
        p->changes += (long)h->head;
    return 0;
}

static long held_in(wg_store *st, const char *part)
{
    part_count p = { part, 0 };
    ck_assert_int_eq(wg_store_feeds(st, count_part, &p, NULL), WG_OK);
    return p.changes;
}

static int count_frozen(void *ctx, const wg_feed_head *h)
{
    *(int *)ctx += h->frozen != 0;
    return 0;
}

static int frozen_feeds(wg_store *st)
{
    int n = 0;
    ck_assert_int_eq(wg_store_feeds(st, count_frozen, &n, NULL), WG_OK);
    return n;
}

/* An office of 450224 says in its HELLO that it is the national HQ
 * (role hq, county 000000) and asks for everything (scope ""): the province
 * sends it exactly what it holds of 450224, its certified county, and not
 * one change of any other. */
START_TEST(test_member_hello_claiming_national_hq_gets_its_certified_county)
{
    wire_net w;
    wire_setup(&w);
    long want = held_in(w.gx, "450224");
    ck_assert_int_ge(want, 4 + 1); /* four persons and its certificate */
    wg_buf b, frame;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    raw r;
    raw_open(&r, &w);
    hello_as(&b, &w, WG_ROLE_HQ, "000000", "");
    open_session(&r, &w, &b, &frame);
    long own = 0, other = 0;
    char seen[WG_PARTITION_MAX + 1] = "";
    int done = 0;
    while (!done) {
        wg_msg m;
        ck_assert_msg(raw_recv(&r, &w, &frame, &m, REPLY_MS),
                      "the province stopped before DONE");
        ck_assert_msg(m.type != WG_MSG_ERROR, "error: %s", m.u.error.text);
        if (m.type == WG_MSG_BATCH) {
            for (uint32_t i = 0; i < m.u.batch.n; i++) {
                wg_change c;
                ck_assert_int_eq(wg_change_decode(m.u.batch.c[i].body,
                                                  m.u.batch.c[i].len, &c,
                                                  NULL), WG_OK);
                if (!strcmp(c.partition, "450224"))
                    own++;
                else {
                    other++;
                    snprintf(seen, sizeof seen, "%s", c.partition);
                }
            }
            wg_buf_reset(&b);
            ck_assert_int_eq(wg_wire_ack(&b, m.u.batch.no, 0, NULL), WG_OK);
            raw_send(&r, &b);
        }
        done = m.type == WG_MSG_DONE;
        wg_msg_release(&m);
    }
    wg_buf_reset(&b);
    ck_assert_int_eq(wg_wire_done(&b, 0, NULL), WG_OK);
    raw_send(&r, &b);
    ck_assert_msg(other == 0, "sent %ld changes outside 450224 (e.g. of %s)",
                  other, seen);
    ck_assert_int_eq(own, want);
    nu_audit_q q = { .event = "session", .peer = "mallory", .result = "ok" };
    ck_assert_int_eq(nu_wait_audit(w.srv, w.gx, &q, 1, REPLY_MS), 1);
    raw_close(&r);
    wg_buf_release(&b);
    wg_buf_release(&frame);
    wire_teardown(&w);
}
END_TEST

/* Failed sessions with mallory audited with a reason holding WHY. */
typedef struct why_count {
    const char *why;
    int n;
    char key[WG_KEY_HEX_CHARS + 1];
} why_count;

static int count_why(void *ctx, const wg_audit_entry *e)
{
    why_count *w = ctx;
    if (e->event && !strcmp(e->event, "session") && e->peer &&
        !strcmp(e->peer, "mallory") && e->result &&
        !strcmp(e->result, "failed") && e->reason && strstr(e->reason, w->why)) {
        w->n++;
        snprintf(w->key, sizeof w->key, "%s", e->peer_key ? e->peer_key : "");
    }
    return 0;
}

/* Send one batch of CHANGES after an honest HELLO; the province must
 * answer ERROR with a text holding WHY and audit the failed session naming
 * mallory with it. */
static void batch_refused(wire_net *w, const wg_signed_change *c, size_t n,
                          const char *why)
{
    wg_buf b, frame;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    raw r;
    raw_open(&r, w);
    hello_as(&b, w, WG_ROLE_OFFICE, "450224", "450224");
    open_session(&r, w, &b, &frame);
    wg_buf_reset(&b);
    ck_assert_int_eq(wg_wire_batch_begin(&b, 0, NULL), WG_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(wg_wire_batch_add(&b, &c[i], NULL), WG_OK);
    ck_assert_int_eq(wg_wire_batch_finish(&b, (uint32_t)n, NULL), WG_OK);
    raw_send(&r, &b);
    wg_msg m;
    for (;;) {
        ck_assert_msg(raw_recv(&r, w, &frame, &m, REPLY_MS),
                      "no ERROR from the province (expected '%s')", why);
        if (m.type == WG_MSG_ERROR)
            break;
        wg_msg_release(&m);
    }
    ck_assert_msg(strstr(m.u.error.text, why), "error: %s", m.u.error.text);
    wg_msg_release(&m);
    /* (The audit lists entries of one second in no set order: counted by
     * reason, not taken as the last.) */
    why_count wc = { why, 0, "" };
    int64_t end = nu_now_ms() + REPLY_MS;
    do {
        nu_step(w->srv);
        wc.n = 0;
        ck_assert_int_eq(wg_store_audit_list(w->gx, count_why, &wc, NULL),
                         WG_OK);
    } while (wc.n < 1 && nu_now_ms() < end);
    ck_assert_msg(wc.n == 1, "the province audited %d failed sessions with "
                  "mallory for '%s'", wc.n, why);
    ck_assert_str_eq(wc.key, wg_store_info(w->mallory)->key_hex);
    raw_close(&r);
    wg_buf_release(&b);
    wg_buf_release(&frame);
}

/* The office writes a record in Rongshui's county, signed with its own
 * key, and sends it to the province; then a change under Rongshui's own
 * origin at a seq the province holds, unsigned. Both refused, audited
 * naming the office; nothing stored or relayed; Rongshui's records and
 * figures unchanged and its feed not frozen; its next session completes. */
START_TEST(test_member_records_in_another_county_are_refused_over_the_wire)
{
    wire_net w;
    wire_setup(&w);
    char *before = nu_dump(w.gx);
    long rs_before = nu_persons(w.rongshui);
    uint8_t zero[WG_HASH_BYTES] = { 0 };
    wg_buf body;
    wg_signed_change sc;
    forge(w.mallory, "450225", 1, zero, &body, &sc);
    batch_refused(&w, &sc, 1, "lies outside its origin's certified scope "
                  "(office 450224)");
    wg_buf_release(&body);
    /* In Rongshui's name: its first change again, other bytes, no
     * signature (mallory cannot sign as rongshui). */
    forge(w.rongshui, "450225", 1, zero, &body, &sc);
    sc.has_sig = 0;
    batch_refused(&w, &sc, 1, "not signed by its origin: refused, nothing "
                  "frozen");
    wg_buf_release(&body);

    char *after = nu_dump(w.gx);
    ck_assert_msg(!strcmp(before, after), "the province's records changed");
    free(before);
    free(after);
    /* Nothing of mallory's is held in 450225, no feed frozen. */
    nu_feedcopy f = { 0 };
    ck_assert_int_eq(wg_store_feed_read(w.gx, wg_store_info(w.mallory)->pk,
                                        "450225", 0, 100, nu_copy_change, &f,
                                        NULL), WG_OK);
    ck_assert_uint_eq(f.n, 0);
    nu_feedcopy_free(&f);
    ck_assert_int_eq(frozen_feeds(w.gx), 0);
    /* Rongshui's next session completes and brings it nothing forged. */
    wg_sync_result r = nu_session(w.srv, w.rs, "gx", 10000);
    ck_assert_msg(r.ok, "rongshui's session failed: %s", r.error);
    ck_assert_int_eq(nu_persons(w.rongshui), rs_before);
    ck_assert_int_eq(frozen_feeds(w.rongshui), 0);
    wire_teardown(&w);
}
END_TEST

/* Revoked while its session is open: the province closes it (ERROR, the
 * session audited as failed with the reason), and its next connection is
 * refused at the door. BY_SYNC: the revocation, signed by the province,
 * reaches it in another office's feed through an honest session (as one
 * made at a prefecture reaches the province), instead of being written
 * there; either way the engine judges its live sessions again. */
static void revoked_mid_session(int by_sync)
{
    wire_net w;
    wire_setup(&w);
    wg_buf b, frame;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    raw r;
    raw_open(&r, &w);
    hello_as(&b, &w, WG_ROLE_OFFICE, "450224", "450224");
    raw_send(&r, &b);
    wg_msg m;
    ck_assert(raw_recv(&r, &w, &frame, &m, REPLY_MS));
    ck_assert_int_eq(m.type, WG_MSG_HELLO);
    wg_msg_release(&m);
    wg_revoke v;
    memset(&v, 0, sizeof v);
    memcpy(v.subject, w.mc.subject, WG_SIGN_PK_BYTES);
    v.serial = w.mc.serial;
    v.time = (uint64_t)time(NULL);
    ck_assert_int_eq(wg_revoke_sign(&v, wg_store_secret_key(w.gx), NULL),
                     WG_OK);
    wg_buf rb;
    wg_buf_init(&rb, WG_REVOKE_MAX_BYTES);
    ck_assert_int_eq(wg_revoke_encode(&v, &rb, NULL), WG_OK);
    if (by_sync) {
        ck_assert_int_eq(wg_store_member_put(w.rongshui, rb.data, rb.len,
                                             "450225", NULL), WG_OK);
        wg_sync_result sr = nu_session(w.srv, w.rs, "gx", 10000);
        ck_assert_msg(sr.ok, "rongshui's session failed: %s", sr.error);
    } else {
        ck_assert_int_eq(wg_store_member_put(w.gx, rb.data, rb.len, "450224",
                                             NULL), WG_OK);
    }
    wg_buf_release(&rb);
    int got = 0;
    while (raw_recv(&r, &w, &frame, &m, REPLY_MS)) {
        int err = m.type == WG_MSG_ERROR;
        if (err)
            ck_assert_str_eq(m.u.error.text, "this node no longer trusts you");
        wg_msg_release(&m);
        if (err) {
            got = 1;
            break;
        }
    }
    ck_assert_msg(got, "the live session was not closed");
    nu_audit_q q = { .event = "session", .peer = "mallory", .direction = "in",
                     .result = "failed" };
    ck_assert_int_eq(nu_wait_audit(w.srv, w.gx, &q, 1, REPLY_MS), 1);
    ck_assert_msg(strstr(q.reason, "revoked"), "reason: %s", q.reason);
    raw_close(&r);
    /* At the door now. */
    raw_open(&r, &w);
    hello_as(&b, &w, WG_ROLE_OFFICE, "450224", "450224");
    raw_send(&r, &b);
    int answered = raw_recv(&r, &w, &frame, &m, 1000);
    ck_assert_msg(!answered, "a revoked key was answered (%s)",
                  answered ? wg_wire_type_name(m.type) : "");
    nu_audit_q door = { .event = "refused", .peer = "mallory" };
    ck_assert_int_ge(nu_wait_audit(w.srv, w.gx, &door, 1, REPLY_MS), 1);
    ck_assert_msg(strstr(door.reason, "revoked"), "reason: %s", door.reason);
    raw_close(&r);
    wg_buf_release(&b);
    wg_buf_release(&frame);
    wire_teardown(&w);
}

START_TEST(test_member_revocation_closes_the_live_session)
{
    revoked_mid_session(0);
}
END_TEST

START_TEST(test_member_revocation_received_closes_the_live_session)
{
    revoked_mid_session(1);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_rights, test_member_office_changes_flow_up_through_the_prefecture),
    TU_TEST(case_rights, test_member_change_outside_the_certified_scope_is_refused),
    TU_TEST(case_rights, test_member_revocation_keeps_changes_before_its_cut_off),
    TU_TEST(case_rights, test_member_closed_group_keeps_todays_behaviour),
    TU_TEST(case_hostile, test_member_hello_claiming_national_hq_gets_its_certified_county),
    TU_TEST(case_hostile, test_member_records_in_another_county_are_refused_over_the_wire),
    TU_TEST(case_hostile, test_member_revocation_closes_the_live_session),
    TU_TEST(case_hostile, test_member_revocation_received_closes_the_live_session),
};

int main(void)
{
    return tu_run(TU_SUITE("member", tests));
}
