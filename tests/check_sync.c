/*
 * check_sync.c - unit suite for sync/ (engine, session) over real sockets
 *
 * Every test runs its nodes in one process and one thread: a server engine
 * listening on tcp://127.0.0.1 at a port the OS picked, and a client engine
 * (or a raw ZeroMQ DEALER) driven by alternating calls, so no test needs a
 * second process or a fixed sleep: each waits for a condition with a
 * deadline. The raw DEALER holds a key the server trusts and sends what an
 * honest node never would; after each such message the server must answer
 * ERROR, audit the session as failed, and still serve an honest node (a
 * message past ZMQ_MAXMSGSIZE never reaches the engine: libzmq drops the
 * connection, and the node must still serve).
 *
 * Checks of behaviour found broken while this suite was written go through
 * KNOWN_BUG(): they fail like any assertion unless WG_CHECK_KNOWN_BUGS=warn,
 * which prints them instead (so the rest of the suite can gate a build).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "sync_int.h"
#include "testutil.h"
#include "wg_change.h"
#include "wg_life.h"

#define COUNTY "450224"
#define STEP_MS 5                 /* each engine's share of a turn */
#define SESSION_DEADLINE_MS 20000 /* longest any session here may take */
#define REPLY_DEADLINE_MS 5000    /* longest the server may take to answer */
#define NU_STEP_MS STEP_MS
#define NU_SESSION_DEADLINE_MS SESSION_DEADLINE_MS
#include "nodeutil.h"

/* ---- fixture ------------------------------------------------------------- */

NU_DIR_FIXTURE(dir)

static int known_bugs_warn(void)
{
    const char *v = getenv("WG_CHECK_KNOWN_BUGS");
    return v && !strcmp(v, "warn");
}

#define KNOWN_BUG(cond, ...)                                                 \
    do {                                                                     \
        if (!(cond)) {                                                       \
            if (known_bugs_warn()) {                                         \
                fprintf(stderr, "%s:%d: known bug: ", __FILE__, __LINE__);   \
                fprintf(stderr, __VA_ARGS__);                                \
                fputc('\n', stderr);                                         \
            } else {                                                         \
                ck_abort_msg(__VA_ARGS__);                                   \
            }                                                                \
        }                                                                    \
    } while (0)

/* ---- nodes ------------------------------------------------------------------ */

static wg_store *node(const char *name, const char *county, wg_role role)
{
    return nu_node(dir, name, county, role, WG_KDF_INTERACTIVE);
}

/* ---- tests: sessions between engines ------------------------------------------------ */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_sessions = {"sessions", setup, teardown, 120};
static const tu_case case_hostile = {"hostile", setup, teardown, 120};

START_TEST(test_sync_two_stores_converge_both_ways)
{
    wg_store *a = node("a", COUNTY, WG_ROLE_OFFICE);
    wg_store *b = node("b", COUNTY, WG_ROLE_OFFICE);
    nu_add_persons(a, NULL, 0, 30);
    nu_add_persons(a, NULL, 30, 20);  /* two commits: two signed heads */
    nu_add_persons(b, NULL, 100, 25);
    char ep[64];
    wg_engine *srv = nu_serve(b, ep, 0);
    nu_trust(b, "a", a, "tcp://127.0.0.1:1");  /* b never dials a */
    nu_trust(a, "b", b, ep);
    wg_engine *cli = NULL;
    ck_assert_int_eq(wg_engine_new(a, &cli, NULL), WG_OK);

    wg_sync_result r = nu_session(srv, cli, "b", 10000);
    ck_assert_msg(r.ok, "first session failed: %s", r.error);
    ck_assert_str_eq(r.peer, "b");
    ck_assert_int_eq(r.sent, 50);
    ck_assert_int_eq(r.received, 25);
    ck_assert_int_eq(nu_persons(a), 75);
    ck_assert_int_eq(nu_persons(b), 75);
    char *da = nu_dump(a), *db = nu_dump(b);
    ck_assert_str_eq(da, db);
    free(da);
    free(db);

    /* Each side audited the session in its own feed, with the same counts
     * seen from either end. */
    nu_audit_q out = { .event = "session", .peer = "b", .direction = "out",
                    .result = "ok" };
    ck_assert_int_eq(nu_audit_count(a, &out), 1);
    ck_assert_int_eq(out.sent, 50);
    ck_assert_int_eq(out.received, 25);
    nu_audit_q in = { .event = "session", .peer = "a", .direction = "in",
                   .result = "ok" };
    ck_assert_msg(nu_wait_audit(srv, b, &in, 1, REPLY_DEADLINE_MS) == 1,
                  "the server did not audit the session as ok");
    ck_assert_int_eq(in.sent, 25);
    ck_assert_int_eq(in.received, 50);
    nu_audit_q failed = { .result = "failed" };
    ck_assert_int_eq(nu_audit_count(b, &failed), 0);

    /* Already in sync: only the two audit entries of the first session
     * travel (each side's own, in the shared county). */
    r = nu_session(srv, cli, "b", 10000);
    ck_assert_msg(r.ok, "second session failed: %s", r.error);
    ck_assert_int_eq(r.sent, 1);
    ck_assert_int_eq(r.received, 1);
    ck_assert_msg(nu_wait_audit(srv, b, &in, 2, REPLY_DEADLINE_MS) == 2,
                  "the server did not audit the second session as ok");
    ck_assert_int_eq(nu_persons(a), 75);
    ck_assert_int_eq(nu_persons(b), 75);
    da = nu_dump(a);
    db = nu_dump(b);
    ck_assert_str_eq(da, db);
    free(da);
    free(db);
    /* The entry that travelled is b's, signed by b, now held by a. */
    nu_audit_q from_b = { .event = "session", .direction = "in" };
    ck_assert_int_eq(nu_audit_count(a, &from_b), 1);
    ck_assert_str_eq(from_b.node, "b");

    wg_engine_destroy(&cli);
    wg_engine_destroy(&srv);
    wg_store_close(&a);
    wg_store_close(&b);
}
END_TEST

START_TEST(test_sync_untrusted_client_is_refused_and_audited)
{
    wg_store *srvst = node("srv", COUNTY, WG_ROLE_OFFICE);
    wg_store *stranger = node("stranger", COUNTY, WG_ROLE_OFFICE);
    char ep[64];
    wg_engine *srv = nu_serve(srvst, ep, 0);
    nu_trust(stranger, "srv", srvst, ep);  /* it knows the server ... */
    wg_engine *cli = NULL;             /* ... the server does not know it */
    ck_assert_int_eq(wg_engine_new(stranger, &cli, NULL), WG_OK);

    int timeout_ms = 10000;
    int64_t t0 = nu_now_ms();
    wg_sync_result r = nu_session(srv, cli, "srv", timeout_ms);
    int64_t took = nu_now_ms() - t0;
    ck_assert(!r.ok);
    ck_assert_msg(strstr(r.error, "refused") != NULL, "error: %s", r.error);
    ck_assert_str_eq(r.error,
                     "refused by srv: this node's key is not in its peer list");
    ck_assert_msg(took < timeout_ms, "refusal took %lld ms", (long long)took);
    ck_assert_int_eq(r.sent, 0);
    ck_assert_int_eq(r.received, 0);

    nu_audit_q q = { .event = "refused" };
    ck_assert_msg(nu_wait_audit(srv, srvst, &q, 1, REPLY_DEADLINE_MS) == 1,
                  "the server did not audit the refusal");
    ck_assert_str_eq(q.node, "srv");
    ck_assert_msg(!strncmp(q.reason, "key not in the peer list (from 127.0.0.1",
                           40), "reason: %s", q.reason);
    uint8_t curve[32];
    char hex[65];
    ck_assert_int_eq(wg_sign_pk_to_curve(curve, wg_store_info(stranger)->pk,
                                         NULL), WG_OK);
    wg_hex_encode(hex, curve, 32);
    ck_assert_str_eq(q.peer_key, hex);
    nu_audit_q all = { .event = "refused", .peer = "unknown", .direction = "in",
                    .result = "failed" };
    ck_assert_int_eq(nu_audit_count(srvst, &all), 1);
    /* The client audited its failed attempt too. */
    nu_audit_q out = { .event = "session", .peer = "srv", .direction = "out",
                    .result = "failed" };
    ck_assert_int_eq(nu_audit_count(stranger, &out), 1);
    ck_assert_str_eq(out.reason, r.error);
    /* Nothing crossed. */
    nu_audit_q in = { .event = "session" };
    ck_assert_int_eq(nu_audit_count(srvst, &in), 0);

    wg_engine_destroy(&cli);
    wg_engine_destroy(&srv);
    wg_store_close(&stranger);
    wg_store_close(&srvst);
}
END_TEST

/* The client's last message (its DONE, or a BYE) is sent just before the
 * engine closes the socket with ZMQ_LINGER 0; the server must still see
 * it and end the session as ok, every time. Office to hq: the hq has
 * nothing the office wants, so the office always speaks last. */
START_TEST(test_sync_server_sees_the_end_of_every_session)
{
    enum { ROUNDS = 25 };
    wg_store *o = node("office", COUNTY, WG_ROLE_OFFICE);
    wg_store *hq = node("hq", "450000", WG_ROLE_HQ);
    wg_store *far = node("far", "450225", WG_ROLE_OFFICE);
    char ep[64];
    wg_engine *srv = nu_serve(hq, ep, 0);
    nu_trust(hq, "office", o, "tcp://127.0.0.1:1");
    nu_trust(o, "hq", hq, ep);
    wg_engine *cli = NULL;
    ck_assert_int_eq(wg_engine_new(o, &cli, NULL), WG_OK);
    nu_audit_q in = { .event = "session", .peer = "office", .direction = "in",
                   .result = "ok" };
    for (int i = 1; i <= ROUNDS; i++) {
        nu_add_persons(o, NULL, i, 1);
        wg_sync_result r = nu_session(srv, cli, "hq", 10000);
        ck_assert_msg(r.ok, "session %d failed: %s", i, r.error);
        ck_assert_int_eq(r.received, 0);
        ck_assert_int_eq(r.sent, i == 1 ? 1 : 2); /* + last session's audit */
        ck_assert_msg(nu_wait_audit(srv, hq, &in, i, REPLY_DEADLINE_MS) == i,
                      "session %d: the hq audited %d ok sessions", i,
                      in.count);
    }
    ck_assert_int_eq(nu_persons(hq), ROUNDS);
    wg_engine_destroy(&cli);

    /* Two offices of different counties share nothing: equal digests, the
     * client says BYE and closes at once. */
    wg_store_close(&o);
    wg_engine *fcli = NULL;
    nu_trust(hq, "far", far, "tcp://127.0.0.1:1");
    ck_assert_int_eq(wg_engine_new(far, &fcli, NULL), WG_OK);
    wg_engine_destroy(&srv);
    wg_store_close(&hq);
    wg_store *o2 = node("office2", COUNTY, WG_ROLE_OFFICE);
    srv = nu_serve(o2, ep, 0);
    nu_trust(o2, "far", far, "tcp://127.0.0.1:1");
    nu_trust(far, "office2", o2, ep);
    nu_add_persons(o2, NULL, 100, 2);
    nu_audit_q bye = { .event = "session", .peer = "far", .direction = "in",
                    .result = "ok" };
    for (int i = 1; i <= ROUNDS; i++) {
        wg_sync_result r = nu_session(srv, fcli, "office2", 10000);
        ck_assert_msg(r.ok, "session %d failed: %s", i, r.error);
        ck_assert_int_eq(r.sent, 0);
        ck_assert_int_eq(r.received, 0);
        ck_assert_msg(nu_wait_audit(srv, o2, &bye, i, REPLY_DEADLINE_MS) == i,
                      "bye session %d: the server audited %d ok sessions", i,
                      bye.count);
    }
    wg_engine_destroy(&fcli);
    wg_engine_destroy(&srv);
    wg_store_close(&far);
    wg_store_close(&o2);
}
END_TEST

/* ---- a raw DEALER with a trusted key ----------------------------------------------- */

typedef struct attack {
    wg_store *srvst, *mallory, *honest;
    wg_engine *srv, *hon;
    char ep[64];
    int honest_ok;           /* honest sessions that succeeded so far */
} attack;

typedef struct raw {
    void *ctx, *sock, *mon;
} raw;

static void attack_setup(attack *a)
{
    memset(a, 0, sizeof *a);
    a->srvst = node("srv", COUNTY, WG_ROLE_OFFICE);
    a->mallory = node("mallory", COUNTY, WG_ROLE_OFFICE);
    a->honest = node("honest", COUNTY, WG_ROLE_OFFICE);
    nu_add_persons(a->srvst, NULL, 0, 3);
    nu_add_persons(a->honest, NULL, 10, 2);
    a->srv = nu_serve(a->srvst, a->ep, 0);
    nu_trust(a->srvst, "mallory", a->mallory, "tcp://127.0.0.1:1");
    nu_trust(a->srvst, "honest", a->honest, "tcp://127.0.0.1:1");
    nu_trust(a->honest, "srv", a->srvst, a->ep);
    ck_assert_int_eq(wg_engine_new(a->honest, &a->hon, NULL), WG_OK);
}

static void attack_teardown(attack *a)
{
    wg_engine_destroy(&a->hon);
    wg_engine_destroy(&a->srv);
    wg_store_close(&a->honest);
    wg_store_close(&a->mallory);
    wg_store_close(&a->srvst);
}

/* The node keeps serving: an honest node completes a session, and the
 * server audits it as ok. */
static void honest_session_succeeds(attack *a)
{
    wg_sync_result r = nu_session(a->srv, a->hon, "srv", 10000);
    ck_assert_msg(r.ok, "honest session after the attack failed: %s",
                  r.error);
    a->honest_ok++;
    nu_audit_q q = { .event = "session", .peer = "honest", .direction = "in",
                  .result = "ok" };
    ck_assert_msg(nu_wait_audit(a->srv, a->srvst, &q, a->honest_ok,
                             REPLY_DEADLINE_MS) == a->honest_ok,
                  "the server audited %d ok honest sessions, not %d", q.count,
                  a->honest_ok);
}

/* A DEALER on its own context, CURVE client with mallory's key (read from
 * its store), pinned to the server's key; a monitor reports its handshakes
 * and disconnections. */
static void raw_open(raw *r, attack *a)
{
    static int n;
    r->sock = nu_curve_dealer(&r->ctx, a->mallory, a->srvst);
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://raw-monitor-%d", n++);
    ck_assert_int_eq(zmq_socket_monitor(r->sock, mon,
                                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                            ZMQ_EVENT_DISCONNECTED),
                     0);
    r->mon = zmq_socket(r->ctx, ZMQ_PAIR);
    ck_assert_int_eq(zmq_connect(r->mon, mon), 0);
    ck_assert_int_eq(zmq_connect(r->sock, a->ep), 0);
}

static void raw_close(raw *r)
{
    zmq_socket_monitor(r->sock, NULL, 0);
    zmq_close(r->mon);
    zmq_close(r->sock);
    zmq_ctx_term(r->ctx);
    memset(r, 0, sizeof *r);
}

static void raw_send(raw *r, const void *p, size_t n, int more)
{
    ck_assert_int_eq(zmq_send(r->sock, p, n, more ? ZMQ_SNDMORE : 0), (int)n);
}

static void raw_send_buf(raw *r, const wg_buf *b)
{
    raw_send(r, b->data, b->len, 0);
}

/* The next message from the server into *M (decoded; its text kept in
 * FRAME), stepping the server meanwhile. 0 when none came in time. */
static int raw_recv(raw *r, attack *a, wg_buf *frame, wg_msg *m, int ms)
{
    int64_t end = nu_now_ms() + ms;
    do {
        nu_step(a->srv);
        zmq_msg_t z;
        zmq_msg_init(&z);
        if (zmq_msg_recv(&z, r->sock, ZMQ_DONTWAIT) >= 0) {
            wg_buf_reset(frame);
            ck_assert_int_eq(wg_buf_append(frame, zmq_msg_data(&z),
                                           zmq_msg_size(&z), NULL), WG_OK);
            zmq_msg_close(&z);
            wg_err err = { 0 };
            ck_assert_msg(wg_wire_decode(frame->data, frame->len, m, &err) ==
                              WG_OK, "server sent a bad message: %s", err.msg);
            return 1;
        }
        zmq_msg_close(&z);
    } while (nu_now_ms() < end);
    return 0;
}

/* Read the server's messages (skipping all else) until an ERROR; check its
 * code and text. */
static void expect_error(raw *r, attack *a, wg_rc code, const char *text)
{
    wg_buf frame;
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    wg_msg m;
    int64_t end = nu_now_ms() + REPLY_DEADLINE_MS;
    for (;;) {
        int left = (int)(end - nu_now_ms());
        ck_assert_msg(left > 0 && raw_recv(r, a, &frame, &m, left),
                      "no ERROR from the server (expected '%s')", text);
        if (m.type == WG_MSG_ERROR)
            break;
        wg_msg_release(&m);
    }
    ck_assert_str_eq(m.u.error.text, text);
    ck_assert_int_eq(m.u.error.code, code);
    wg_msg_release(&m);
    wg_buf_release(&frame);
}

/* Events seen by raw_event(), for failure messages. */
static char raw_events[256];

/* Wait for monitor EVENT on the raw socket, stepping the server. */
static int raw_event(raw *r, attack *a, uint16_t event, int ms)
{
    int64_t end = nu_now_ms() + ms;
    raw_events[0] = 0;
    do {
        nu_step(a->srv);
        uint8_t ev[6];
        char addr[256];
        while (zmq_recv(r->mon, ev, sizeof ev, ZMQ_DONTWAIT) >= 0) {
            zmq_recv(r->mon, addr, sizeof addr, ZMQ_DONTWAIT);
            uint16_t got;
            uint32_t value;
            memcpy(&got, ev, 2);
            memcpy(&value, ev + 2, 4);
            size_t n = strlen(raw_events);
            snprintf(raw_events + n, sizeof raw_events - n, " 0x%x(%u)@%lld",
                     got, value, (long long)(nu_now_ms() - end + ms));
            if (got == event)
                return 1;
        }
    } while (nu_now_ms() < end);
    return 0;
}

/* The server audited one failed session with mallory, for REASON. */
static void audited_failure(attack *a, const char *reason, long refused)
{
    nu_audit_q q = { .event = "session", .peer = "mallory", .direction = "in",
                  .result = "failed" };
    ck_assert_msg(nu_wait_audit(a->srv, a->srvst, &q, 1, REPLY_DEADLINE_MS) == 1,
                  "the server audited %d failed sessions with mallory "
                  "(expected 1, for '%s')", q.count, reason);
    ck_assert_str_eq(q.reason, reason);
    ck_assert_str_eq(q.node, "srv");
    ck_assert_int_eq(q.refused, refused);
    ck_assert_str_eq(q.peer_key, wg_store_info(a->mallory)->key_hex);
}

/* A well-formed HELLO from mallory. */
static void mallory_hello(attack *a, wg_buf *b)
{
    nu_hello(b, a->mallory);
}

/* A batch of one change of BODY_LEN bytes, none of them a valid change. */
static void junk_batch(wg_buf *b, uint32_t no, size_t body_len)
{
    uint8_t body[64];
    memset(body, 0, sizeof body);
    body[0] = WG_CHANGE_VERSION;
    ck_assert_uint_le(body_len, sizeof body);
    wg_signed_change c = { body, body_len, 1, { 0 } };
    wg_buf_reset(b);
    ck_assert_int_eq(wg_wire_batch_begin(b, no, NULL), WG_OK);
    ck_assert_int_eq(wg_wire_batch_add(b, &c, NULL), WG_OK);
    ck_assert_int_eq(wg_wire_batch_finish(b, 1, NULL), WG_OK);
}

/* Send P (N bytes) as the first message of a fresh connection to A's
 * server; it must answer ERROR (CODE, TEXT), audit the session as failed
 * with TEXT, and go on serving. */
static void first_message_refused(attack *a, const void *p, size_t n,
                                  wg_rc code, const char *text)
{
    honest_session_succeeds(a);
    raw r;
    raw_open(&r, a);
    raw_send(&r, p, n, 0);
    expect_error(&r, a, code, text);
    audited_failure(a, text, 0);
    raw_close(&r);
    honest_session_succeeds(a);
}

START_TEST(test_sync_garbage_bytes_get_an_error_and_are_audited)
{
    static const uint8_t junk[] = "\x00\x01garbage that is no wings message";
    attack a;
    attack_setup(&a);
    first_message_refused(&a, junk, sizeof junk - 1, WG_ERR_PROTO,
                          "not a wings message");
    attack_teardown(&a);
}
END_TEST

START_TEST(test_sync_empty_message_gets_an_error_and_is_audited)
{
    attack a;
    attack_setup(&a);
    first_message_refused(&a, "", 0, WG_ERR_PROTO, "empty message");
    attack_teardown(&a);
}
END_TEST

START_TEST(test_sync_truncated_hello_gets_an_error_and_is_audited)
{
    attack a;
    attack_setup(&a);
    wg_buf b;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    mallory_hello(&a, &b);
    /* Header, schema version, then half of the node key. */
    first_message_refused(&a, b.data, 3 + 2 + WG_SIGN_PK_BYTES / 2,
                          WG_ERR_PROTO, "truncated hello (at node key)");
    wg_buf_release(&b);
    attack_teardown(&a);
}
END_TEST

START_TEST(test_sync_hello_cut_before_its_last_byte_gets_an_error)
{
    attack a;
    attack_setup(&a);
    wg_buf b;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    mallory_hello(&a, &b);
    first_message_refused(&a, b.data, b.len - 1, WG_ERR_PROTO,
                          "truncated hello (at feed count)");
    wg_buf_release(&b);
    attack_teardown(&a);
}
END_TEST

START_TEST(test_sync_wrong_protocol_version_is_refused_naming_both)
{
    attack a;
    attack_setup(&a);
    wg_buf b;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    mallory_hello(&a, &b);
    b.data[1] = WG_WIRE_VERSION + 1;
    char text[128];
    snprintf(text, sizeof text,
             "peer speaks protocol version %d, this node speaks %d..%d",
             WG_WIRE_VERSION + 1, WG_WIRE_VERSION_MIN, WG_WIRE_VERSION);
    first_message_refused(&a, b.data, b.len, WG_ERR_PROTO, text);
    wg_buf_release(&b);
    attack_teardown(&a);
}
END_TEST

START_TEST(test_sync_wrong_schema_version_is_refused_naming_both)
{
    attack a;
    attack_setup(&a);
    wg_buf b;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    mallory_hello(&a, &b);
    /* The u16 schema range follows the 3-byte header and the two protocol
     * version bytes: a peer whose range starts past ours. */
    b.data[5] = (uint8_t)((WG_SCHEMA_VERSION + 1) >> 8);
    b.data[6] = (uint8_t)(WG_SCHEMA_VERSION + 1);
    b.data[7] = (uint8_t)((WG_SCHEMA_VERSION + 3) >> 8);
    b.data[8] = (uint8_t)(WG_SCHEMA_VERSION + 3);
    char text[200];
    snprintf(text, sizeof text, "peer speaks protocol %d..%d and schema "
             "%d..%d, this node protocol %d..%d and schema %d..%d: upgrade "
             "the older node", WG_WIRE_VERSION_MIN, WG_WIRE_VERSION,
             WG_SCHEMA_VERSION + 1, WG_SCHEMA_VERSION + 3,
             WG_WIRE_VERSION_MIN, WG_WIRE_VERSION, WG_SCHEMA_MIN,
             WG_SCHEMA_VERSION);
    first_message_refused(&a, b.data, b.len, WG_ERR_PROTO, text);
    wg_buf_release(&b);
    attack_teardown(&a);
}
END_TEST

/* Past the protocol's limit but under ZMQ_MAXMSGSIZE (twice that): the
 * decoder refuses it, the peer gets an ERROR and the session is audited. */
START_TEST(test_sync_message_past_the_wire_limit_gets_an_error)
{
    size_t n = (size_t)WG_WIRE_MAX_MSG + 1;
    uint8_t *p = calloc(1, n);
    ck_assert_ptr_nonnull(p);
    p[0] = WG_WIRE_MAGIC;
    p[1] = WG_WIRE_VERSION;
    p[2] = WG_MSG_HELLO;
    char text[96];
    snprintf(text, sizeof text, "message of %zu bytes (limit %u)", n,
             WG_WIRE_MAX_MSG);
    attack a;
    attack_setup(&a);
    first_message_refused(&a, p, n, WG_ERR_PROTO, text);
    attack_teardown(&a);
    free(p);
}
END_TEST

/* Past ZMQ_MAXMSGSIZE (twice the protocol's limit): libzmq drops the
 * connection before the engine holds the bytes, so no ERROR can be sent
 * and the refusal cannot be tied to a key; the node keeps serving. */
START_TEST(test_sync_oversized_message_drops_the_connection)
{
    attack a;
    attack_setup(&a);
    honest_session_succeeds(&a);
    size_t n = 2 * (size_t)WG_WIRE_MAX_MSG + 64 * 1024;
    uint8_t *p = calloc(1, n);
    ck_assert_ptr_nonnull(p);
    p[0] = WG_WIRE_MAGIC;
    p[1] = WG_WIRE_VERSION;
    p[2] = WG_MSG_BATCH;
    raw r;
    raw_open(&r, &a);
    ck_assert_msg(raw_event(&r, &a, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 5000),
                  "the trusted key's handshake did not succeed");
    raw_send(&r, p, n, 0);
    free(p);
    ck_assert_msg(raw_event(&r, &a, ZMQ_EVENT_DISCONNECTED, 10000),
                  "the server did not drop the connection (events:%s)",
                  raw_events);
    wg_buf frame;
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    wg_msg m;
    ck_assert_msg(!raw_recv(&r, &a, &frame, &m, 200),
                  "the server answered a message it should never have read");
    wg_buf_release(&frame);
    raw_close(&r);
    honest_session_succeeds(&a);
    attack_teardown(&a);
}
END_TEST

START_TEST(test_sync_batch_before_hello_is_unexpected)
{
    wg_buf b;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    junk_batch(&b, 0, 40);
    attack a;
    attack_setup(&a);
    first_message_refused(&a, b.data, b.len, WG_ERR_PROTO,
                          "unexpected batch message");
    attack_teardown(&a);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_sync_batch_right_after_hello_is_unexpected)
{
    attack a;
    attack_setup(&a);
    honest_session_succeeds(&a);
    wg_buf b, frame;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    raw r;
    raw_open(&r, &a);
    mallory_hello(&a, &b);
    raw_send_buf(&r, &b);
    wg_msg m;
    ck_assert(raw_recv(&r, &a, &frame, &m, REPLY_DEADLINE_MS));
    ck_assert_int_eq(m.type, WG_MSG_HELLO);
    wg_msg_release(&m);
    junk_batch(&b, 0, 40);
    raw_send_buf(&r, &b);
    expect_error(&r, &a, WG_ERR_PROTO, "unexpected batch message");
    audited_failure(&a, "unexpected batch message", 0);
    raw_close(&r);
    honest_session_succeeds(&a);
    wg_buf_release(&b);
    wg_buf_release(&frame);
    attack_teardown(&a);
}
END_TEST

/* HELLO, VECTOR, then a batch in the streaming state whose change bytes do
 * not decode: refused by the store, nothing applied, audited with the
 * refused count. */
START_TEST(test_sync_batch_of_malformed_changes_is_refused)
{
    attack a;
    attack_setup(&a);
    honest_session_succeeds(&a);
    long before = nu_persons(a.srvst);
    wg_buf b, frame;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    raw r;
    raw_open(&r, &a);
    mallory_hello(&a, &b);
    raw_send_buf(&r, &b);
    wg_msg m;
    ck_assert(raw_recv(&r, &a, &frame, &m, REPLY_DEADLINE_MS));
    ck_assert_int_eq(m.type, WG_MSG_HELLO);
    wg_msg_release(&m);
    wg_buf_reset(&b);
    ck_assert_int_eq(wg_wire_vector(&b, NULL, 0, NULL), WG_OK);
    raw_send_buf(&r, &b);
    ck_assert(raw_recv(&r, &a, &frame, &m, REPLY_DEADLINE_MS));
    ck_assert_int_eq(m.type, WG_MSG_VECTOR);
    wg_msg_release(&m);
    junk_batch(&b, 0, 1);
    raw_send_buf(&r, &b);
    expect_error(&r, &a, WG_ERR_CORRUPT,
                 "batch 0 refused: malformed change: short origin");
    audited_failure(&a, "batch 0 refused: malformed change: short origin", 1);
    ck_assert_int_eq(nu_persons(a.srvst), before);
    raw_close(&r);
    honest_session_succeeds(&a);
    wg_buf_release(&b);
    wg_buf_release(&frame);
    attack_teardown(&a);
}
END_TEST

START_TEST(test_sync_multi_frame_message_is_refused_and_audited)
{
    attack a;
    attack_setup(&a);
    honest_session_succeeds(&a);
    wg_buf b, frame;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    mallory_hello(&a, &b);
    raw r;
    raw_open(&r, &a);
    raw_send(&r, b.data, b.len, 1);
    raw_send(&r, "x", 1, 0);
    audited_failure(&a, "message of several frames", 0);
    /* Nothing of it was taken as a HELLO. */
    wg_msg m;
    int got = raw_recv(&r, &a, &frame, &m, 1000);
    ck_assert_msg(!got || m.type == WG_MSG_ERROR,
                  "the server answered a multi-frame message with %s",
                  wg_wire_type_name(m.type));
    KNOWN_BUG(got, "no ERROR reply to a multi-frame message (the session "
              "is audited as failed, but the peer is left to time out)");
    if (got) {
        ck_assert_str_eq(m.u.error.text, "message of several frames");
        wg_msg_release(&m);
    }
    raw_close(&r);
    honest_session_succeeds(&a);
    wg_buf_release(&b);
    wg_buf_release(&frame);
    attack_teardown(&a);
}
END_TEST

/* An office may receive its own county only. Mallory, trusted by an hq as
 * an office of 450224 and saying so in its HELLO, asks for every partition
 * (scope ""): the hq must not stream it 450225. */
START_TEST(test_sync_office_gets_no_county_but_its_own)
{
    attack a;
    memset(&a, 0, sizeof a);
    a.srvst = node("hq", "450000", WG_ROLE_HQ);
    a.mallory = node("mallory", COUNTY, WG_ROLE_OFFICE);
    a.honest = node("honest", COUNTY, WG_ROLE_OFFICE);
    nu_add_persons(a.srvst, COUNTY, 0, 4);
    nu_add_persons(a.srvst, "450225", 10, 3);
    a.srv = nu_serve(a.srvst, a.ep, 0);
    nu_trust(a.srvst, "mallory", a.mallory, "tcp://127.0.0.1:1");
    nu_trust(a.srvst, "honest", a.honest, "tcp://127.0.0.1:1");
    nu_trust(a.honest, "srv", a.srvst, a.ep);
    ck_assert_int_eq(wg_engine_new(a.honest, &a.hon, NULL), WG_OK);

    /* The engine's own client asks for its county and gets just that. */
    honest_session_succeeds(&a);
    ck_assert_int_eq(nu_persons(a.honest), 4);

    wg_buf b, frame;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    wg_buf_init(&frame, WG_WIRE_MAX_MSG);
    mallory_hello(&a, &b);
    ck_assert_int_eq(b.data[b.len - 4 - 32 - 7], 6); /* the scope's length */
    /* Rewrite scope "450224" (u8 6 + digits) as "" (u8 0). */
    size_t at = b.len - 4 - 32 - 7;
    b.data[at] = 0;
    memmove(b.data + at + 1, b.data + at + 7, b.len - at - 7);
    b.len -= 6;
    wg_msg m;
    wg_err err = { 0 };
    ck_assert_msg(wg_wire_decode(b.data, b.len, &m, &err) == WG_OK, "%s",
                  err.msg);
    ck_assert_str_eq(m.u.hello.scopes[0], "");
    ck_assert_str_eq(m.u.hello.county, COUNTY);
    ck_assert_int_eq(m.u.hello.role, WG_ROLE_OFFICE);
    wg_msg_release(&m);

    raw r;
    raw_open(&r, &a);
    raw_send_buf(&r, &b);
    ck_assert(raw_recv(&r, &a, &frame, &m, REPLY_DEADLINE_MS));
    ck_assert_int_eq(m.type, WG_MSG_HELLO);
    wg_msg_release(&m);
    wg_buf_reset(&b);
    ck_assert_int_eq(wg_wire_vector(&b, NULL, 0, NULL), WG_OK);
    raw_send_buf(&r, &b);
    int own = 0, other = 0, done = 0;
    char seen[64] = "";
    while (!done) {
        ck_assert_msg(raw_recv(&r, &a, &frame, &m, REPLY_DEADLINE_MS),
                      "the hq stopped before DONE");
        if (m.type == WG_MSG_BATCH) {
            for (uint32_t i = 0; i < m.u.batch.n; i++) {
                wg_change c;
                ck_assert_int_eq(wg_change_decode(m.u.batch.c[i].body,
                                                  m.u.batch.c[i].len, &c,
                                                  NULL), WG_OK);
                if (!strcmp(c.partition, COUNTY))
                    own++;
                else {
                    other++;
                    snprintf(seen, sizeof seen, "%s", c.partition);
                }
            }
            wg_buf_reset(&b);
            ck_assert_int_eq(wg_wire_ack(&b, m.u.batch.no, 0, NULL), WG_OK);
            raw_send_buf(&r, &b);
        }
        ck_assert_msg(m.type != WG_MSG_ERROR, "error: %s", m.u.error.text);
        done = m.type == WG_MSG_DONE;
        wg_msg_release(&m);
    }
    wg_buf_reset(&b);
    ck_assert_int_eq(wg_wire_done(&b, 0, NULL), WG_OK);
    raw_send_buf(&r, &b);
    ck_assert_int_ge(own, 4);
    nu_audit_q q = { .event = "session", .peer = "mallory", .result = "ok" };
    ck_assert_int_eq(nu_wait_audit(a.srv, a.srvst, &q, 1, REPLY_DEADLINE_MS), 1);
    raw_close(&r);
    KNOWN_BUG(other == 0, "an office of %s asking for scope \"\" was sent %d "
              "changes of other counties (e.g. %s)", COUNTY, other, seen);
    wg_buf_release(&b);
    wg_buf_release(&frame);
    attack_teardown(&a);
}
END_TEST

/* What an older release's prefecture HQ asks for: Baise (451000) took its
 * scope by stripping zeros and says "451" in its HELLO, which would take in
 * Hezhou (4511xx). The serving province clamps to the area Baise's own code
 * gives (4510xx), whatever the HELLO asks; and "" (everything) fares the
 * same. */
START_TEST(test_sync_prefecture_asking_too_wide_gets_its_area_only)
{
    static const char *const asks[] = { "451", "" };
    for (int k = 0; k < 2; k++) {
        attack a;
        memset(&a, 0, sizeof a);
        a.srvst = node(k ? "gx1" : "gx0", "450000", WG_ROLE_HQ);
        a.mallory = node(k ? "baise1" : "baise0", "451000", WG_ROLE_HQ);
        nu_add_persons(a.srvst, "451021", 0, 2);  /* Baise's */
        nu_add_persons(a.srvst, "451102", 10, 3); /* Hezhou's */
        nu_add_persons(a.srvst, "451221", 20, 1); /* Hechi's */
        a.srv = nu_serve(a.srvst, a.ep, 0);
        nu_trust(a.srvst, "baise", a.mallory, "tcp://127.0.0.1:1");

        wg_msg_hello h;
        nu_hello_as(&h, a.mallory, WG_ROLE_HQ, asks[k]);
        wg_buf b, frame;
        wg_buf_init(&b, WG_WIRE_MAX_MSG);
        wg_buf_init(&frame, WG_WIRE_MAX_MSG);
        ck_assert_int_eq(wg_wire_hello(&b, &h, NULL), WG_OK);

        raw r;
        wg_msg m;
        raw_open(&r, &a);
        raw_send_buf(&r, &b);
        ck_assert(raw_recv(&r, &a, &frame, &m, REPLY_DEADLINE_MS));
        ck_assert_int_eq(m.type, WG_MSG_HELLO);
        /* The province names its own area, 45. */
        ck_assert_str_eq(m.u.hello.scopes[0], "45");
        wg_msg_release(&m);
        wg_buf_reset(&b);
        ck_assert_int_eq(wg_wire_vector(&b, NULL, 0, NULL), WG_OK);
        raw_send_buf(&r, &b);
        int own = 0, other = 0, done = 0;
        char seen[WG_PARTITION_MAX + 1] = "";
        while (!done) {
            ck_assert_msg(raw_recv(&r, &a, &frame, &m, REPLY_DEADLINE_MS),
                          "the province stopped before DONE");
            ck_assert_msg(m.type != WG_MSG_ERROR, "error: %s",
                          m.u.error.text);
            if (m.type == WG_MSG_BATCH) {
                for (uint32_t i = 0; i < m.u.batch.n; i++) {
                    wg_change c;
                    ck_assert_int_eq(wg_change_decode(m.u.batch.c[i].body,
                                                      m.u.batch.c[i].len, &c,
                                                      NULL), WG_OK);
                    if (!strncmp(c.partition, "4510", 4))
                        own++;
                    else {
                        other++;
                        snprintf(seen, sizeof seen, "%s", c.partition);
                    }
                }
                wg_buf_reset(&b);
                ck_assert_int_eq(wg_wire_ack(&b, m.u.batch.no, 0, NULL),
                                 WG_OK);
                raw_send_buf(&r, &b);
            }
            done = m.type == WG_MSG_DONE;
            wg_msg_release(&m);
        }
        wg_buf_reset(&b);
        ck_assert_int_eq(wg_wire_done(&b, 0, NULL), WG_OK);
        raw_send_buf(&r, &b);
        raw_close(&r);
        ck_assert_msg(other == 0, "Baise asking for \"%s\" was sent %d "
                      "changes outside 4510xx (e.g. of %s)", asks[k], other,
                      seen);
        ck_assert_int_eq(own, 2);
        wg_buf_release(&b);
        wg_buf_release(&frame);
        attack_teardown(&a);
    }
}
END_TEST

/* ---- the suite ------------------------------------------------------------------------ */


/* ---- tests: what a node knows its peers hold of its own feeds ---------------- */

/* Two sessions joined in memory: each message is queued for the other. */
typedef struct mem_msg {
    uint8_t *p;
    size_t n;
    int to_server;
} mem_msg;

typedef struct mem_link {
    mem_msg q[256];
    size_t head, tail;
    uint64_t client_vec_head;   /* the client's VECTOR entry for its feed */
    int client_vec_seen;
    int to_client_own;          /* the client's own changes sent back */
    const uint8_t *client_pk;
} mem_link;

typedef struct mem_end {
    mem_link *l;
    int to_server;
} mem_end;

static wg_rc mem_send(void *ctx, const uint8_t *p, size_t n)
{
    mem_end *e = ctx;
    mem_link *l = e->l;
    ck_assert_uint_lt(l->tail, 256);
    l->q[l->tail].p = malloc(n);
    memcpy(l->q[l->tail].p, p, n);
    l->q[l->tail].n = n;
    l->q[l->tail].to_server = e->to_server;
    l->tail++;
    wg_msg m;
    if (!e->to_server && wg_wire_decode(p, n, &m, NULL) == WG_OK) {
        if (m.type == WG_MSG_BATCH)
            for (uint32_t i = 0; i < m.u.batch.n; i++) {
                wg_change d;
                if (wg_change_decode(m.u.batch.c[i].body,
                                     m.u.batch.c[i].len, &d, NULL) == WG_OK &&
                    !memcmp(d.origin, l->client_pk, WG_SIGN_PK_BYTES))
                    l->to_client_own++;
            }
        wg_msg_release(&m);
    }
    if (e->to_server) {
        if (wg_wire_decode(p, n, &m, NULL) == WG_OK) {
            if (m.type == WG_MSG_VECTOR)
                for (uint32_t i = 0; i < m.u.vector.n; i++)
                    if (!memcmp(m.u.vector.e[i].origin, l->client_pk,
                                WG_SIGN_PK_BYTES)) {
                        l->client_vec_head = m.u.vector.e[i].head;
                        l->client_vec_seen = 1;
                    }
            wg_msg_release(&m);
        }
    }
    return WG_OK;
}

/* One session between office A (client, naming its peer "hq") and hq H;
 * *SENT: what A sent. The VECTOR A sent for its own feed goes to L. */
static void mem_session(wg_store *a, wg_store *h, mem_link *l, long *sent)
{
    memset(l, 0, sizeof *l);
    l->client_pk = wg_store_info(a)->pk;
    mem_end ea = { l, 1 }, eh = { l, 0 };
    wg_session *sa = wg_session_new(a, 1, "hq", wg_store_info(h)->pk,
                                    mem_send, &ea);
    wg_session *sh = wg_session_new(h, 0, "office", wg_store_info(a)->pk,
                                    mem_send, &eh);
    wg_err err = { 0 };
    ck_assert_int_eq(wg_session_start(sa, &err), WG_OK);
    while (l->head < l->tail) {
        mem_msg *m = &l->q[l->head++];
        wg_rc rc = wg_session_receive(m->to_server ? sh : sa, m->p, m->n,
                                      &err);
        free(m->p);
        ck_assert_msg(rc == WG_OK, "%s", err.msg);
    }
    ck_assert(wg_session_finished(sa));
    ck_assert(wg_session_finished(sh));
    *sent = wg_session_sent(sa);
    wg_session_destroy(&sa);
    wg_session_destroy(&sh);
}

static uint64_t own_head_of(wg_store *st)
{
    nu_feedcopy f = { 0 };
    ck_assert_int_eq(wg_store_feed_read(st, wg_store_info(st)->pk, NU_COUNTY,
                                        0, 100000, nu_copy_change, &f, NULL),
                     WG_OK);
    uint64_t n = f.n;
    nu_feedcopy_free(&f);
    return n;
}

START_TEST(test_sync_own_feed_advertised_as_far_as_the_peer_is_known_to_hold)
{
    wg_store *a = node("office", NU_COUNTY, WG_ROLE_OFFICE);
    wg_store *h = node("hq", "450200", WG_ROLE_HQ);
    nu_trust(a, "hq", h, "tcp://127.0.0.1:7401");
    nu_trust(h, "office", a, "tcp://127.0.0.1:7402");
    nu_add_persons(a, NU_COUNTY, 1, 3);
    mem_link l;
    long sent;
    /* Nothing known: the vector says 0 for A's own feed, and A sends all. */
    mem_session(a, h, &l, &sent);
    ck_assert(l.client_vec_seen);
    ck_assert_uint_eq(l.client_vec_head, 0);
    ck_assert_int_eq(sent, 3);
    ck_assert_uint_eq(wg_store_own_seen(a, "hq", NU_COUNTY), 3);
    /* One more: the vector says 3 (what hq holds), not the head. */
    nu_add_persons(a, NU_COUNTY, 4, 1);
    mem_session(a, h, &l, &sent);
    ck_assert_uint_eq(l.client_vec_head, 3);
    ck_assert_int_eq(sent, 1);
    ck_assert_uint_eq(wg_store_own_seen(a, "hq", NU_COUNTY), 4);
    /* hq holds more of A's feed than A knows it does (learnt elsewhere):
     * A sends nothing of that feed until hq has sent it what it holds
     * (here the same: skipped), then the rest, in the same session. */
    nu_add_persons(a, NU_COUNTY, 5, 2);
    /* (A's change 5 is signed only with its commit's head, 6.) */
    nu_feedcopy f = { 0 };
    ck_assert_int_eq(wg_store_feed_read(a, wg_store_info(a)->pk, NU_COUNTY, 4,
                                        2, nu_copy_change, &f, NULL), WG_OK);
    size_t applied;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_apply(h, f.c, f.n, &applied, &err) == WG_OK, "%s",
                  err.msg);
    nu_feedcopy_free(&f);
    ck_assert_int_eq(wg_store_own_seen_set(a, "hq", NU_COUNTY, 2, &err),
                     WG_OK);
    nu_add_persons(a, NU_COUNTY, 7, 1);
    mem_session(a, h, &l, &sent);
    ck_assert_uint_eq(l.client_vec_head, 2);
    ck_assert_int_eq(l.to_client_own, 4); /* 3 .. 6 came back */
    ck_assert_int_eq(sent, 1);           /* then 7 went */
    ck_assert_uint_eq(wg_store_own_seen(a, "hq", NU_COUNTY), 7);
    ck_assert_uint_eq(own_head_of(a), 7);
    ck_assert_int_eq(nu_persons(h), 7);
    /* Identical stores: the digests match and the session ends at once. */
    mem_session(a, h, &l, &sent);
    ck_assert(!l.client_vec_seen);
    ck_assert_int_eq(sent, 0);
    ck_assert_uint_eq(wg_store_own_seen(a, "hq", NU_COUNTY), 7);
    wg_store_close(&a);
    wg_store_close(&h);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_sessions, test_sync_own_feed_advertised_as_far_as_the_peer_is_known_to_hold),
    TU_TEST(case_sessions, test_sync_two_stores_converge_both_ways),
    TU_TEST(case_sessions, test_sync_untrusted_client_is_refused_and_audited),
    TU_TEST(case_sessions, test_sync_server_sees_the_end_of_every_session),
    TU_TEST(case_hostile, test_sync_garbage_bytes_get_an_error_and_are_audited),
    TU_TEST(case_hostile, test_sync_empty_message_gets_an_error_and_is_audited),
    TU_TEST(case_hostile, test_sync_truncated_hello_gets_an_error_and_is_audited),
    TU_TEST(case_hostile, test_sync_hello_cut_before_its_last_byte_gets_an_error),
    TU_TEST(case_hostile, test_sync_wrong_protocol_version_is_refused_naming_both),
    TU_TEST(case_hostile, test_sync_wrong_schema_version_is_refused_naming_both),
    TU_TEST(case_hostile, test_sync_message_past_the_wire_limit_gets_an_error),
    TU_TEST(case_hostile, test_sync_oversized_message_drops_the_connection),
    TU_TEST(case_hostile, test_sync_batch_before_hello_is_unexpected),
    TU_TEST(case_hostile, test_sync_batch_right_after_hello_is_unexpected),
    TU_TEST(case_hostile, test_sync_batch_of_malformed_changes_is_refused),
    TU_TEST(case_hostile, test_sync_multi_frame_message_is_refused_and_audited),
    TU_TEST(case_hostile, test_sync_office_gets_no_county_but_its_own),
    TU_TEST(case_hostile, test_sync_prefecture_asking_too_wide_gets_its_area_only),
};

int main(void)
{
    return tu_run(TU_SUITE("sync", tests));
}
