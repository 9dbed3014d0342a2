/*
 * check_netfault.c - network faults on loopback, each asserted exactly
 *
 * Like check_sync.c, every test runs its nodes in one process and one
 * thread: a server engine ("srv") on a free 127.0.0.1 port, stepped by the
 * test, an honest client engine, and a hostile peer: a raw ZeroMQ DEALER
 * (CURVE client holding mallory's keys, which srv trusts) that speaks the
 * wire codec of sync/wire.c and sends batches cut from mallory's real store
 * (or changes crafted and signed with mallory's key). The faults:
 *
 *   vanish     mallory streams 2 of 4 batches of a catch-up, then closes
 *              its socket: srv ends the session from the disconnect event
 *              (not its idle timeout),
 *              audited as failed with what it had stored; the 2 batches
 *              stored stay, nothing else; the next honest session completes
 *   stall      mallory asks for a large catch-up and never acknowledges:
 *              srv sends exactly WG_SYNC_CREDIT batches, no more, times the
 *              session out (audited, sent=0), serves an honest node
 *              meanwhile, and its memory stays flat
 *   replay     a completed session's batches sent again in a new session:
 *              applied 0, audited ok with received=0
 *   duplicate  a batch sent twice in one session: refused before the store
 *   reorder    batch 1 before batch 0 (numbering), and batch 0 carrying the
 *              second commit (content): both refused, nothing applied
 *   clock      changes whose clock is a year ahead: refused (held at the
 *              sender), srv's own clock unmoved, a clock_skew audit entry
 *   forge      one unsigned (or mis-signed) change relayed with honest's
 *              origin at an old seq: refused naming mallory, nothing frozen
 *   equivocate mallory signs a second chain: her feed frozen, the proof
 *              kept and audited; unfreeze resolves it
 *   flood      200 raw TCP clients (garbage, silence, a CURVE handshake cut
 *              off after the greeting) while an honest node syncs 1,000
 *              records: it finishes within its timeout, RSS grows < 64 MiB
 *
 * After each fault the feeds recheck clean (wg_store_verify_feeds) and the
 * record counts are exact. The suite prints, once at the end:
 *   figure sessions_interrupted=N   sessions these tests cut or broke
 *   figure net_faults=N             fault cases injected (each flood client
 *                                   counts as one)
 *   figure lost=N / figure doubled=N  records missing / held twice (0)
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "sync_int.h"
#include "testutil.h"
#include "wg_change.h"

#define COUNTY "450224"
#define STEP_MS 5
#define IDLE_MS 1500               /* srv's idle timeout in this suite */
#define SESSION_DEADLINE_MS 30000
#define REPLY_DEADLINE_MS 5000
#define YEAR_MS (365LL * 24 * 3600 * 1000)
#define NU_STEP_MS STEP_MS
#define NU_SESSION_DEADLINE_MS SESSION_DEADLINE_MS
#include "nodeutil.h"

/* Figures, shared across Check's forked tests. */
typedef struct figures {
    long interrupted, faults, lost, doubled;
} figures;
static figures *fig;

/* ---- fixture ------------------------------------------------------------- */

NU_DIR_FIXTURE(dir)

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* VmRSS of this process, in KiB. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    ck_assert_int_gt(kib, 0);
    return kib;
}

/* ---- nodes ---------------------------------------------------------------- */

static wg_store *node(const char *name, const char *county, wg_role role)
{
    return nu_node(dir, name, county, role, WG_KDF_TEST);
}

/* Persons named "person-K" for K in [FIRST, FIRST+N): how many of them ST
 * misses and how many it holds more than once (by name). */
typedef struct tally {
    int first, n;
    int *seen;
} tally;

static int on_person(void *ctx, const wg_record *r)
{
    tally *t = ctx;
    int k;
    if (r->values[0] && sscanf(r->values[0], "person-%d", &k) == 1 &&
        k >= t->first && k < t->first + t->n)
        t->seen[k - t->first]++;
    return 0;
}

/* Adds to the figures what ST lost or doubled of persons FIRST.. */
static void account(wg_store *st, int first, int n)
{
    tally t = { first, n, calloc((size_t)n, sizeof(int)) };
    ck_assert_int_eq(wg_store_list(st, wg_schema_table("person"), NULL, NULL,
                                   0, on_person, &t, NULL), WG_OK);
    long lost = 0, doubled = 0;
    for (int i = 0; i < n; i++) {
        if (t.seen[i] == 0)
            lost++;
        if (t.seen[i] > 1)
            doubled += t.seen[i] - 1;
    }
    free(t.seen);
    __atomic_add_fetch(&fig->lost, lost, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&fig->doubled, doubled, __ATOMIC_SEQ_CST);
    ck_assert_int_eq(lost, 0);
    ck_assert_int_eq(doubled, 0);
}

static void figure(long *counter, long n)
{
    __atomic_add_fetch(counter, n, __ATOMIC_SEQ_CST);
}

static void no_problem(void *ctx, const char *what)
{
    ck_abort_msg("%s: %s", (const char *)ctx, what);
}

/* Every feed ST holds rechecks clean: chains, seqs, signatures. */
static void chain_intact(wg_store *st, const char *who)
{
    long checked = 0, bad = 0;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_verify_feeds(st, no_problem, (void *)who, &checked,
                                        &bad, &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_gt(checked, 0);
}

/* ---- the cast --------------------------------------------------------------------- */

typedef struct net {
    wg_store *srvst, *mallory, *honest;
    wg_engine *srv, *hon, *mcli;   /* mcli: mallory's own honest engine */
    char ep[64];
} net;

static void net_setup(net *a)
{
    memset(a, 0, sizeof *a);
    a->srvst = node("srv", COUNTY, WG_ROLE_OFFICE);
    a->mallory = node("mallory", COUNTY, WG_ROLE_OFFICE);
    a->honest = node("honest", COUNTY, WG_ROLE_OFFICE);
    nu_add_persons(a->srvst, NULL, 0, 3);
    a->srv = nu_serve(a->srvst, a->ep, IDLE_MS);
    nu_trust(a->srvst, "mallory", a->mallory, "tcp://127.0.0.1:1");
    nu_trust(a->srvst, "honest", a->honest, "tcp://127.0.0.1:1");
    nu_trust(a->honest, "srv", a->srvst, a->ep);
    nu_trust(a->mallory, "srv", a->srvst, a->ep);
    ck_assert_int_eq(wg_engine_new(a->honest, &a->hon, NULL), WG_OK);
    ck_assert_int_eq(wg_engine_new(a->mallory, &a->mcli, NULL), WG_OK);
}

static void net_teardown(net *a)
{
    wg_engine_destroy(&a->mcli);
    wg_engine_destroy(&a->hon);
    wg_engine_destroy(&a->srv);
    wg_store_close(&a->honest);
    wg_store_close(&a->mallory);
    wg_store_close(&a->srvst);
}

/* ---- mallory's raw DEALER ---------------------------------------------------------- */

typedef struct raw {
    void *ctx, *sock;
    net *a;
    wg_buf frame, out;
    int auto_ack;             /* acknowledge srv's batches */
    uint32_t batches_in;      /* srv's batches seen */
    long changes_in;
    int got_done;
} raw;

static void raw_open(raw *r, net *a, int auto_ack)
{
    memset(r, 0, sizeof *r);
    r->a = a;
    r->auto_ack = auto_ack;
    r->sock = nu_curve_dealer(&r->ctx, a->mallory, a->srvst);
    ck_assert_int_eq(zmq_connect(r->sock, a->ep), 0);
    wg_buf_init(&r->frame, WG_WIRE_MAX_MSG);
    wg_buf_init(&r->out, WG_WIRE_MAX_MSG);
}

/* The vanishing act: the socket closes with nothing left to flush. */
static void raw_close(raw *r)
{
    zmq_close(r->sock);
    zmq_ctx_term(r->ctx);
    wg_buf_release(&r->frame);
    wg_buf_release(&r->out);
    r->sock = r->ctx = NULL;
}

static void raw_send(raw *r)
{
    ck_assert_int_eq(zmq_send(r->sock, r->out.data, r->out.len, 0),
                     (int)r->out.len);
}

/* Wait (stepping srv) for srv's next message of type WANT into *M; srv's
 * batches on the way are counted (and acknowledged when auto_ack), its DONE
 * noted. 0 when none came within MS. */
static int raw_expect(raw *r, uint8_t want, wg_msg *m, int ms)
{
    int64_t end = nu_now_ms() + ms;
    do {
        nu_step(r->a->srv);
        zmq_msg_t z;
        zmq_msg_init(&z);
        while (zmq_msg_recv(&z, r->sock, ZMQ_DONTWAIT) >= 0) {
            wg_buf_reset(&r->frame);
            ck_assert_int_eq(wg_buf_append(&r->frame, zmq_msg_data(&z),
                                           zmq_msg_size(&z), NULL), WG_OK);
            wg_err err = { 0 };
            ck_assert_msg(wg_wire_decode(r->frame.data, r->frame.len, m,
                                         &err) == WG_OK,
                          "srv sent a bad message: %s", err.msg);
            if (m->type == WG_MSG_BATCH) {
                r->batches_in++;
                r->changes_in += m->u.batch.n;
                if (r->auto_ack) {
                    wg_buf ack;
                    wg_buf_init(&ack, 64);
                    ck_assert_int_eq(wg_wire_ack(&ack, m->u.batch.no, 0,
                                                 NULL), WG_OK);
                    ck_assert_int_eq(zmq_send(r->sock, ack.data, ack.len, 0),
                                     (int)ack.len);
                    wg_buf_release(&ack);
                }
            } else if (m->type == WG_MSG_DONE) {
                r->got_done = 1;
            }
            if (m->type == want) {
                zmq_msg_close(&z);
                return 1;
            }
            ck_assert_msg(m->type != WG_MSG_ERROR, "srv: ERROR %u '%s' "
                          "(waiting for %s)", m->u.error.code, m->u.error.text,
                          wg_wire_type_name(want));
            wg_msg_release(m);
        }
        zmq_msg_close(&z);
    } while (nu_now_ms() < end);
    return 0;
}

/* Until ERROR: its code and text. */
static void raw_error(raw *r, wg_rc code, const char *text)
{
    wg_msg m;
    int64_t end = nu_now_ms() + REPLY_DEADLINE_MS;
    for (;;) {
        int left = (int)(end - nu_now_ms());
        ck_assert_msg(left > 0, "no ERROR from srv (expected '%s')", text);
        zmq_msg_t z;
        zmq_msg_init(&z);
        nu_step(r->a->srv);
        if (zmq_msg_recv(&z, r->sock, ZMQ_DONTWAIT) >= 0) {
            wg_buf_reset(&r->frame);
            ck_assert_int_eq(wg_buf_append(&r->frame, zmq_msg_data(&z),
                                           zmq_msg_size(&z), NULL), WG_OK);
            zmq_msg_close(&z);
            ck_assert_int_eq(wg_wire_decode(r->frame.data, r->frame.len, &m,
                                            NULL), WG_OK);
            if (m.type == WG_MSG_ERROR)
                break;
            wg_msg_release(&m);
            continue;
        }
        zmq_msg_close(&z);
    }
    ck_assert_str_eq(m.u.error.text, text);
    ck_assert_int_eq(m.u.error.code, code);
    wg_msg_release(&m);
}

static int on_vec_feed(void *ctx, const wg_feed_head *h)
{
    wg_buf *b = ctx;
    wg_vec_entry e;
    memset(&e, 0, sizeof e);
    memcpy(e.origin, h->origin, WG_SIGN_PK_BYTES);
    snprintf(e.partition, sizeof e.partition, "%s", h->partition);
    e.head = h->head;
    return wg_buf_append(b, &e, sizeof e, NULL) != WG_OK;
}

/* HELLO, srv's HELLO, then our VECTOR: when CLAIM_ALL, every feed srv holds
 * at srv's head (so srv has nothing to send), else an empty one (so srv
 * streams everything). Returns once srv's VECTOR arrived. */
static void raw_open_session(raw *r, int claim_all)
{
    net *a = r->a;
    nu_hello(&r->out, a->mallory);
    raw_send(r);
    wg_msg m;
    ck_assert_msg(raw_expect(r, WG_MSG_HELLO, &m, REPLY_DEADLINE_MS),
                  "no HELLO from srv");
    wg_msg_release(&m);
    wg_buf v;
    wg_buf_init(&v, 1 << 20);
    if (claim_all)
        ck_assert_int_eq(wg_store_feeds(a->srvst, on_vec_feed, &v, NULL),
                         WG_OK);
    wg_buf_reset(&r->out);
    ck_assert_int_eq(wg_wire_vector(&r->out, (const wg_vec_entry *)v.data,
                                    (uint32_t)(v.len / sizeof(wg_vec_entry)),
                                    NULL), WG_OK);
    wg_buf_release(&v);
    raw_send(r);
    ck_assert_msg(raw_expect(r, WG_MSG_VECTOR, &m, REPLY_DEADLINE_MS),
                  "no VECTOR from srv");
    wg_msg_release(&m);
}

/* A batch numbered NO of mallory's feed (her county), seqs AFTER+1 ..
 * AFTER+N, read from her store: the wire bytes an honest mallory sends. */
typedef struct feed_ctx {
    wg_buf *out;
    uint32_t n;
    int last_signed;
} feed_ctx;

static int on_feed_change(void *ctx, const wg_signed_change *c, uint64_t seq)
{
    (void)seq;
    feed_ctx *f = ctx;
    ck_assert_int_eq(wg_wire_batch_add(f->out, c, NULL), WG_OK);
    f->n++;
    f->last_signed = c->has_sig;
    return 0;
}

static void mallory_batch(raw *r, uint32_t no, uint64_t after, uint32_t n)
{
    wg_buf_reset(&r->out);
    ck_assert_int_eq(wg_wire_batch_begin(&r->out, no, NULL), WG_OK);
    feed_ctx f = { &r->out, 0, 0 };
    ck_assert_int_eq(wg_store_feed_read(r->a->mallory,
                                        wg_store_info(r->a->mallory)->pk,
                                        COUNTY, after, n, on_feed_change, &f,
                                        NULL), WG_OK);
    ck_assert_int_eq(f.n, n);
    ck_assert_msg(f.last_signed, "batch %u would end unsigned", no);
    ck_assert_int_eq(wg_wire_batch_finish(&r->out, n, NULL), WG_OK);
}

/* Send the batch in r->out and wait for srv's ACK of it. */
static void send_acked(raw *r, uint32_t no, uint32_t applied)
{
    raw_send(r);
    wg_msg m;
    ck_assert_msg(raw_expect(r, WG_MSG_ACK, &m, REPLY_DEADLINE_MS),
                  "no ACK of batch %u", no);
    ck_assert_uint_eq(m.u.ack.no, no);
    ck_assert_uint_eq(m.u.ack.applied, applied);
    wg_msg_release(&m);
}

static void raw_done(raw *r, uint64_t sent)
{
    wg_buf_reset(&r->out);
    ck_assert_int_eq(wg_wire_done(&r->out, sent, NULL), WG_OK);
    raw_send(r);
}

/* srv holds N audit entries of sessions with mallory that ended as RESULT,
 * and exactly one of them has REASON (unless NULL) and these counts
 * (entries of one second have no order, so none is "the last"). */
static void audited(net *a, const char *result, int n, const char *reason,
                    long sent, long received, long refused)
{
    nu_audit_q q = { .event = "session", .peer = "mallory", .direction = "in",
                  .result = result, .want = 1, .w_reason = reason,
                  .w_sent = sent, .w_received = received,
                  .w_refused = refused };
    ck_assert_msg(nu_wait_audit(a->srv, a->srvst, &q, n, IDLE_MS + 5000) == n,
                  "srv audited %d %s sessions with mallory, not %d", q.count,
                  result, n);
    ck_assert_msg(q.matched == 1, "%d of srv's %d %s sessions with mallory "
                  "have reason '%s', sent %ld, received %ld, refused %ld "
                  "(the last listed: '%s', %lld, %lld, %lld)", q.matched,
                  q.count, result, reason ? reason : "(any)", sent, received,
                  refused, q.reason, (long long)q.sent, (long long)q.received,
                  (long long)q.refused);
}

/* ---- tests ---------------------------------------------------------------------------- */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_faults = {"faults", setup, teardown, 60};

/* Mallory's catch-up: 4 commits of 100 (heads signed at 100, 200, 300,
 * 400). She sends two batches, both stored and acknowledged, then her
 * socket closes. */
START_TEST(test_netfault_peer_vanishes_mid_catch_up)
{
    net a;
    net_setup(&a);
    for (int i = 0; i < 4; i++)
        nu_add_persons(a.mallory, NULL, 1000 + 100 * i, 100);
    long base = nu_persons(a.srvst);
    raw r;
    raw_open(&r, &a, 1);
    raw_open_session(&r, 1);
    mallory_batch(&r, 0, 0, 100);
    send_acked(&r, 0, 100);
    mallory_batch(&r, 1, 100, 100);
    send_acked(&r, 1, 100);
    int64_t t0 = nu_now_ms();
    raw_close(&r);
    figure(&fig->faults, 1);
    figure(&fig->interrupted, 1);

    /* srv notices from the disconnect, well before its idle timeout. */
    audited(&a, "failed", 1, "the peer closed the connection", 0, 200, 0);
    int64_t took = nu_now_ms() - t0;
    ck_assert_msg(took < IDLE_MS - 250,
                  "the session ended %lld ms after the peer vanished "
                  "(idle timeout %d ms)", (long long)took, IDLE_MS);
    /* What was acknowledged is stored, and nothing else. */
    ck_assert_int_eq(nu_persons(a.srvst), base + 200);
    chain_intact(a.srvst, "srv");

    /* Mallory comes back as an honest node: the session resumes after
     * what srv holds and completes. */
    wg_sync_result res = nu_session(a.srv, a.mcli, "srv", 10000);
    ck_assert_msg(res.ok, "resumed session failed: %s", res.error);
    ck_assert_int_eq(res.sent, 200);
    ck_assert_int_eq(nu_persons(a.srvst), base + 400);
    ck_assert_int_eq(nu_persons(a.mallory), base + 400);
    /* srv also sends back the 200 changes of mallory's it holds: she
     * never finished a session with srv, so she does not know it holds
     * them (own_seen) and her vector says none of her own feed; she finds
     * them the same and skips them. */
    audited(&a, "ok", 1, NULL, res.received + 200, 200, 0);
    char *ds = nu_dump(a.srvst), *dm = nu_dump(a.mallory);
    ck_assert_str_eq(ds, dm);
    free(ds);
    free(dm);
    account(a.srvst, 1000, 400);
    chain_intact(a.srvst, "srv");
    chain_intact(a.mallory, "mallory");
    net_teardown(&a);
}
END_TEST

/* Mallory asks for everything (an empty vector) and never acknowledges:
 * srv may have WG_SYNC_CREDIT batches in flight, never more. */
START_TEST(test_netfault_stalled_peer_times_out_and_node_keeps_serving)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.srvst, NULL, 100, 2600); /* > WG_SYNC_CREDIT batches */
    raw r;
    raw_open(&r, &a, 0);
    long rss0 = rss_kib();
    raw_open_session(&r, 0);
    figure(&fig->faults, 1);
    figure(&fig->interrupted, 1);
    wg_msg m;
    /* Wait for srv to exhaust its credit, then make sure nothing more
     * comes while the peer stays silent. */
    int64_t end = nu_now_ms() + REPLY_DEADLINE_MS;
    while (r.batches_in < WG_SYNC_CREDIT && nu_now_ms() < end)
        if (raw_expect(&r, WG_MSG_DONE, &m, 50))
            ck_abort_msg("srv said DONE without acknowledgements");
    ck_assert_uint_eq(r.batches_in, WG_SYNC_CREDIT);
    /* srv's feed is signed at 3 (its first commit) and then every 256
     * changes of the 2,600-person commit (259, 515, 771, ...); a batch
     * holds at most WG_BATCH_CHANGES and ends on a signature: 259, then
     * 512 three times. */
    ck_assert_int_eq(WG_BATCH_CHANGES, 512);
    ck_assert_int_eq(r.changes_in, 259 + 3 * 512);
    int64_t t0 = nu_now_ms();
    ck_assert(!raw_expect(&r, WG_MSG_DONE, &m, 500));
    ck_assert_uint_eq(r.batches_in, WG_SYNC_CREDIT);

    /* Meanwhile an honest node syncs the whole backlog. */
    wg_sync_result res = nu_session(a.srv, a.hon, "srv", 10000);
    ck_assert_msg(res.ok, "honest session during the stall failed: %s",
                  res.error);
    ck_assert_int_eq(nu_persons(a.honest), 2603);
    account(a.honest, 100, 2600);

    /* The stalled session times out: nothing was acknowledged, so nothing
     * counts as sent. */
    audited(&a, "failed", 1, "timed out: the peer went silent", 0, 0, 0);
    int64_t took = nu_now_ms() - t0;
    ck_assert_msg(took < IDLE_MS + 15000, "stall ended after %lld ms",
                  (long long)took);
    /* And it sent nothing more, ever. */
    ck_assert(!raw_expect(&r, WG_MSG_DONE, &m, 300));
    ck_assert_uint_eq(r.batches_in, WG_SYNC_CREDIT);
    long rss1 = rss_kib();
    ck_assert_msg(rss1 - rss0 < 64 * 1024, "RSS grew by %ld KiB", rss1 - rss0);
    raw_close(&r);
    res = nu_session(a.srv, a.hon, "srv", 10000);
    ck_assert_msg(res.ok, "honest session after the stall: %s", res.error);
    chain_intact(a.srvst, "srv");
    chain_intact(a.honest, "honest");
    net_teardown(&a);
}
END_TEST

/* A session completed, then its batches replayed in a fresh session. */
START_TEST(test_netfault_replayed_batches_apply_nothing)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.mallory, NULL, 1000, 50);
    nu_add_persons(a.mallory, NULL, 1050, 50);
    long base = nu_persons(a.srvst);
    for (int round = 0; round < 2; round++) {
        raw r;
        raw_open(&r, &a, 1);
        raw_open_session(&r, 1);
        uint32_t fresh = round == 0 ? 50 : 0;
        mallory_batch(&r, 0, 0, 50);
        send_acked(&r, 0, fresh);
        mallory_batch(&r, 1, 50, 50);
        send_acked(&r, 1, fresh);
        raw_done(&r, 100);
        wg_msg m;
        if (!r.got_done) {
            ck_assert(raw_expect(&r, WG_MSG_DONE, &m, REPLY_DEADLINE_MS));
            wg_msg_release(&m);
        }
        /* srv holds what mallory sent once, however often it came. */
        audited(&a, "ok", round + 1, NULL, 0, 2 * fresh, 0);
        ck_assert_int_eq(nu_persons(a.srvst), base + 100);
        raw_close(&r);
    }
    figure(&fig->faults, 1);
    account(a.srvst, 1000, 100);
    chain_intact(a.srvst, "srv");
    net_teardown(&a);
}
END_TEST

/* Batch 0 twice in one session: refused before the store sees it. */
START_TEST(test_netfault_duplicated_batch_is_refused)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.mallory, NULL, 1000, 50);
    nu_add_persons(a.mallory, NULL, 1050, 50);
    long base = nu_persons(a.srvst);
    raw r;
    raw_open(&r, &a, 1);
    raw_open_session(&r, 1);
    mallory_batch(&r, 0, 0, 50);
    send_acked(&r, 0, 50);
    raw_send(&r); /* the same bytes again */
    figure(&fig->faults, 1);
    figure(&fig->interrupted, 1);
    const char *why = "batch 0 received twice (expected batch 1)";
    raw_error(&r, WG_ERR_PROTO, why);
    audited(&a, "failed", 1, why, 0, 50, 50);
    ck_assert_int_eq(nu_persons(a.srvst), base + 50);
    raw_close(&r);
    chain_intact(a.srvst, "srv");
    /* The honest mallory completes the rest, once. */
    wg_sync_result res = nu_session(a.srv, a.mcli, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    ck_assert_int_eq(res.sent, 50);
    ck_assert_int_eq(nu_persons(a.srvst), base + 100);
    account(a.srvst, 1000, 100);
    chain_intact(a.srvst, "srv");
    net_teardown(&a);
}
END_TEST

/* Reordered: by number (batch 1 first), then by content (batch 0 holding
 * the second commit). Both refused, nothing applied. */
START_TEST(test_netfault_reordered_batches_are_refused)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.mallory, NULL, 1000, 50);
    nu_add_persons(a.mallory, NULL, 1050, 50);
    long base = nu_persons(a.srvst);

    raw r;
    raw_open(&r, &a, 1);
    raw_open_session(&r, 1);
    mallory_batch(&r, 1, 0, 50);
    raw_send(&r);
    const char *why = "batch 1 out of order (expected batch 0)";
    raw_error(&r, WG_ERR_PROTO, why);
    audited(&a, "failed", 1, why, 0, 0, 50);
    ck_assert_int_eq(nu_persons(a.srvst), base);
    raw_close(&r);

    raw_open(&r, &a, 1);
    raw_open_session(&r, 1);
    mallory_batch(&r, 0, 50, 50);
    raw_send(&r);
    char who[9], text[200];
    wg_hex_encode(who, wg_store_info(a.mallory)->pk, 4);
    snprintf(text, sizeof text, "batch 0 refused: gap in feed %s/%s: have 0, "
             "got 51", who, COUNTY);
    raw_error(&r, WG_ERR_PROTO, text);
    audited(&a, "failed", 2, text, 0, 0, 50);
    ck_assert_int_eq(nu_persons(a.srvst), base);
    raw_close(&r);
    figure(&fig->faults, 2);
    figure(&fig->interrupted, 2);
    chain_intact(a.srvst, "srv");

    wg_sync_result res = nu_session(a.srv, a.mcli, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    ck_assert_int_eq(res.sent, 100);
    ck_assert_int_eq(nu_persons(a.srvst), base + 100);
    account(a.srvst, 1000, 100);
    chain_intact(a.srvst, "srv");
    net_teardown(&a);
}
END_TEST

static int on_history(void *ctx, const wg_history_entry *e)
{
    *(uint64_t *)ctx = e->hlc;
    return 0;
}

/* A change of ORIGIN's feed in COUNTY at SEQ after PREV, clock HLC, a new
 * person numbered SERIAL, encoded into B (its hash into HASH). */
static void craft(wg_buf *b, const uint8_t *origin, uint64_t seq,
                  const uint8_t prev[WG_HASH_BYTES], uint64_t hlc, int serial,
                  uint8_t hash[WG_HASH_BYTES])
{
    char name[32], num[19];
    snprintf(name, sizeof name, "person-%d", serial);
    nu_idnum(num, "19800101", serial);
    wg_change c;
    nu_person_change(&c, origin, COUNTY, seq, prev, hlc, name, num);
    memset(c.rowid, serial & 0xff, WG_ROWID_BYTES);
    c.rowid[0] = (uint8_t)(serial >> 8);
    wg_buf_init(b, WG_CHANGE_MAX_BYTES);
    ck_assert_int_eq(wg_change_encode(&c, b, NULL), WG_OK);
    wg_hash(hash, b->data, b->len);
}

/* Send N crafted changes as batch 0 and wait for srv's ERROR: its code must
 * be CODE and its text begin with PREFIX and end with SUFFIX. */
static void send_refused(raw *r, const wg_signed_change *sc, int n,
                         wg_rc code, const char *prefix, const char *suffix)
{
    wg_buf_reset(&r->out);
    ck_assert_int_eq(wg_wire_batch_begin(&r->out, 0, NULL), WG_OK);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(wg_wire_batch_add(&r->out, &sc[i], NULL), WG_OK);
    ck_assert_int_eq(wg_wire_batch_finish(&r->out, (uint32_t)n, NULL), WG_OK);
    raw_send(r);
    wg_msg m;
    int64_t end = nu_now_ms() + REPLY_DEADLINE_MS;
    for (;;) {
        ck_assert_msg(nu_now_ms() < end, "no ERROR from srv");
        nu_step(r->a->srv);
        zmq_msg_t z;
        zmq_msg_init(&z);
        if (zmq_msg_recv(&z, r->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&z);
            continue;
        }
        int ok = wg_wire_decode(zmq_msg_data(&z), zmq_msg_size(&z), &m,
                                NULL) == WG_OK;
        zmq_msg_close(&z);
        ck_assert(ok);
        if (m.type == WG_MSG_ERROR)
            break;
        wg_msg_release(&m);
    }
    const char *t = m.u.error.text;
    size_t tl = strlen(t), sl = strlen(suffix);
    ck_assert_msg(!strncmp(t, prefix, strlen(prefix)) && tl >= sl &&
                  !strcmp(t + tl - sl, suffix), "srv said '%s'", t);
    ck_assert_int_eq(m.u.error.code, code);
    wg_msg_release(&m);
}

static int on_frozen(void *ctx, const wg_feed_head *h)
{
    *(int *)ctx += h->frozen != 0;
    return 0;
}

static int frozen_feeds(wg_store *st)
{
    int n = 0;
    ck_assert_int_eq(wg_store_feeds(st, on_frozen, &n, NULL), WG_OK);
    return n;
}

static int on_proof_n(void *ctx, const wg_proof *p)
{
    wg_proof *out = ctx;
    *out = *p;
    out->chain_len += 1000; /* marks "seen" */
    return 0;
}

/* Two changes of mallory's feed, their clock a year ahead, the second
 * signed (covering both): crafted with the change codec and her key. */
START_TEST(test_netfault_clock_a_year_ahead_is_refused_and_audited)
{
    net a;
    net_setup(&a);
    const wg_node_info *mi = wg_store_info(a.mallory);
    uint64_t ahead = (uint64_t)(wall_ms() + YEAR_MS);
    uint8_t prev[WG_HASH_BYTES] = { 0 }, hash[WG_HASH_BYTES];
    wg_buf bodies[2];
    wg_signed_change sc[2];
    for (int i = 0; i < 2; i++) {
        craft(&bodies[i], mi->pk, (uint64_t)i + 1, prev,
              (ahead + (uint64_t)i) << 16, 5000 + i, hash);
        memcpy(prev, hash, WG_HASH_BYTES);
        memset(&sc[i], 0, sizeof sc[i]);
        sc[i].body = bodies[i].data;
        sc[i].len = bodies[i].len;
        sc[i].has_sig = i == 1;
        if (sc[i].has_sig)
            wg_sign(sc[i].sig, hash, WG_HASH_BYTES,
                    wg_store_secret_key(a.mallory));
    }
    long base = nu_persons(a.srvst);
    raw r;
    raw_open(&r, &a, 1);
    raw_open_session(&r, 1);
    char who[9], prefix[96];
    wg_hex_encode(who, mi->pk, 4);
    snprintf(prefix, sizeof prefix, "batch 0 refused: change %s/%s#1 has a "
             "clock ", who, COUNTY);
    send_refused(&r, sc, 2, WG_ERR_AUTH, prefix, " s ahead of this node's "
                 "(over the 300 s allowed): refused until the clocks agree");
    figure(&fig->faults, 1);
    nu_audit_q fq = { .event = "session", .peer = "mallory", .direction = "in",
                   .result = "failed" };
    ck_assert_int_eq(nu_wait_audit(a.srv, a.srvst, &fq, 1, 5000), 1);
    raw_close(&r);

    /* Nothing stored; audited as skew, once, naming mallory. */
    ck_assert_int_eq(nu_persons(a.srvst), base);
    chain_intact(a.srvst, "srv");
    nu_audit_q q = { .event = "clock_skew", .peer = "mallory",
                  .direction = "in", .result = "failed" };
    ck_assert_int_eq(nu_audit_count(a.srvst, &q), 1);
    ck_assert_int_eq(q.refused, 1);
    unsigned long long secs = 0;
    char tail[200];
    ck_assert_msg(sscanf(q.reason, "batch 0: a change with a clock %llu s "
                         "ahead of this node's %199[^\n]", &secs, tail) == 2,
                  "reason: %s", q.reason);
    ck_assert_str_eq(tail, "(over the 300 s allowed): refused, held at the "
                     "sender until the clocks agree");
    ck_assert_msg(secs <= YEAR_MS / 1000 && secs >= YEAR_MS / 1000 - 60,
                  "%llu s ahead", secs);
    /* srv's own clock did not move: its next local change is stamped by its
     * wall clock. */
    const wg_table *person = wg_schema_table("person");
    char id[WG_ID_HEX_CHARS + 1], num[19];
    nu_idnum(num, "19800101", 6123);
    const char *f[] = { "name", "id_number", "disability_category" };
    const char *v[] = { "person-6123", num, "physical" };
    int64_t before = wall_ms();
    ck_assert_int_eq(wg_store_begin(a.srvst, NULL), WG_OK);
    ck_assert_int_eq(wg_store_add(a.srvst, person, f, v, 3, id, NULL), WG_OK);
    ck_assert_int_eq(wg_store_commit(a.srvst, NULL), WG_OK);
    int64_t after = wall_ms();
    uint64_t hlc = 0;
    ck_assert_int_eq(wg_store_history(a.srvst, person, id, on_history, &hlc,
                                      NULL), WG_OK);
    int64_t ms = (int64_t)(hlc >> 16);
    ck_assert_msg(ms <= after + 1000, "srv's clock was dragged %lld ms past "
                  "its wall clock", (long long)(ms - after));
    ck_assert_msg(ms >= before - 1000, "srv's clock went backwards");
    /* An honest node's later edit still syncs and wins on its own clock. */
    nu_add_persons(a.honest, NULL, 7456, 2);
    wg_sync_result res = nu_session(a.srv, a.hon, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    ck_assert_int_eq(nu_persons(a.srvst), base + 3);
    for (int i = 0; i < 2; i++)
        wg_buf_release(&bodies[i]);
    net_teardown(&a);
}
END_TEST

/* The attack: mallory (trusted by srv) relays ONE unsigned change with
 * honest's origin and an old seq. srv refuses the batch, names mallory,
 * and freezes nothing: honest's feed keeps syncing. A forged signature
 * (mallory's key, or garbage) proves nothing either. */
START_TEST(test_netfault_unsigned_conflict_freezes_nothing)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.honest, NULL, 8000, 5);
    wg_sync_result res = nu_session(a.srv, a.hon, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    long base = nu_persons(a.srvst);
    const wg_node_info *hi = wg_store_info(a.honest);
    char who[9], prefix[128];
    wg_hex_encode(who, hi->pk, 4);
    snprintf(prefix, sizeof prefix, "batch 0 refused: change %s/%s#1 differs "
             "from the one held and is not signed by its origin: refused, "
             "nothing frozen", who, COUNTY);
    uint8_t zero[WG_HASH_BYTES] = { 0 }, hash[WG_HASH_BYTES];
    for (int variant = 0; variant < 3; variant++) {
        wg_buf b;
        craft(&b, hi->pk, 1, zero, (uint64_t)wall_ms() << 16, 8100, hash);
        wg_signed_change sc;
        memset(&sc, 0, sizeof sc);
        sc.body = b.data;
        sc.len = b.len;
        if (variant == 1) { /* signed, but by mallory */
            sc.has_sig = 1;
            wg_sign(sc.sig, hash, WG_HASH_BYTES,
                    wg_store_secret_key(a.mallory));
        } else if (variant == 2) { /* a garbage signature */
            sc.has_sig = 1;
            memset(sc.sig, 0x5a, WG_SIG_BYTES);
        }
        raw r;
        raw_open(&r, &a, 1);
        raw_open_session(&r, 1);
        send_refused(&r, &sc, 1, WG_ERR_AUTH, prefix, "");
        nu_audit_q fq = { .event = "session", .peer = "mallory",
                       .direction = "in", .result = "failed" };
        ck_assert_int_eq(nu_wait_audit(a.srv, a.srvst, &fq, variant + 1, 5000),
                         variant + 1);
        raw_close(&r);
        wg_buf_release(&b);
        figure(&fig->faults, 1);
    }
    /* The sender is named, the victim's feed not frozen, no proof kept, no
     * equivocation audited, nothing stored. */
    nu_audit_q q = { .event = "session", .peer = "mallory", .result = "failed",
                  .want = 1, .w_reason = NULL };
    ck_assert_int_eq(nu_audit_count(a.srvst, &q), 3);
    ck_assert_msg(strstr(q.reason, who) != NULL, "%s", q.reason);
    ck_assert_int_eq(frozen_feeds(a.srvst), 0);
    wg_proof p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(wg_store_proofs(a.srvst, on_proof_n, &p, NULL), WG_OK);
    ck_assert_int_lt(p.chain_len, 1000);
    nu_audit_q eq = { .event = "equivocation" };
    ck_assert_int_eq(nu_audit_count(a.srvst, &eq), 0);
    ck_assert_int_eq(nu_persons(a.srvst), base);
    account(a.srvst, 8000, 5);
    chain_intact(a.srvst, "srv");
    /* honest keeps writing and syncing. */
    nu_add_persons(a.honest, NULL, 8200, 3);
    res = nu_session(a.srv, a.hon, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    ck_assert_int_eq(nu_persons(a.srvst), base + 3);
    net_teardown(&a);
}
END_TEST

/* A real equivocation: mallory signs a second chain over seqs srv already
 * holds (seq 1 unsigned, seq 2 signed: the signature covers both). srv
 * freezes her feed, keeps the proof, audits it naming her; an unfreeze
 * resolves it, and the same conflict sent again is refused without
 * freezing. */
START_TEST(test_netfault_signed_equivocation_freezes_with_proof)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.mallory, NULL, 9000, 4);
    wg_sync_result res = nu_session(a.srv, a.mcli, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    long base = nu_persons(a.srvst);
    const wg_node_info *mi = wg_store_info(a.mallory);
    uint8_t prev[WG_HASH_BYTES] = { 0 }, hash[WG_HASH_BYTES];
    uint8_t first[WG_HASH_BYTES];
    wg_buf bodies[2];
    wg_signed_change sc[2];
    for (int i = 0; i < 2; i++) {
        craft(&bodies[i], mi->pk, (uint64_t)i + 1, prev,
              ((uint64_t)wall_ms() + (uint64_t)i) << 16, 9100 + i, hash);
        if (i == 0)
            memcpy(first, hash, WG_HASH_BYTES);
        memcpy(prev, hash, WG_HASH_BYTES);
        memset(&sc[i], 0, sizeof sc[i]);
        sc[i].body = bodies[i].data;
        sc[i].len = bodies[i].len;
        sc[i].has_sig = i == 1;
        if (sc[i].has_sig)
            wg_sign(sc[i].sig, hash, WG_HASH_BYTES,
                    wg_store_secret_key(a.mallory));
    }
    char who[9], prefix[160];
    wg_hex_encode(who, mi->pk, 4);
    snprintf(prefix, sizeof prefix, "batch 0 refused: equivocation: origin %s "
             "signed two different changes at %s#1; its feed is frozen and "
             "the proof kept", who, COUNTY);
    raw r;
    raw_open(&r, &a, 1);
    raw_open_session(&r, 1);
    send_refused(&r, sc, 2, WG_ERR_AUTH, prefix, "");
    nu_audit_q eq = { .event = "equivocation", .peer = "mallory",
                   .direction = "in", .result = "failed" };
    ck_assert_int_eq(nu_wait_audit(a.srv, a.srvst, &eq, 1, 5000), 1);
    raw_close(&r);
    figure(&fig->faults, 1);
    char origin[17], other[17];
    wg_hex_encode(origin, mi->pk, 8);
    wg_hex_encode(other, first, 8);
    ck_assert_msg(strstr(eq.reason, origin) && strstr(eq.reason, other) &&
                  strstr(eq.reason, "its feed is frozen"), "%s", eq.reason);
    ck_assert_int_eq(frozen_feeds(a.srvst), 1);
    wg_proof p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(wg_store_proofs(a.srvst, on_proof_n, &p, NULL), WG_OK);
    ck_assert_int_eq(p.chain_len, 1000 + 2);
    ck_assert_uint_eq(p.seq, 1);
    ck_assert_mem_eq(p.origin, mi->pk, WG_SIGN_PK_BYTES);
    ck_assert_mem_eq(p.other, first, WG_HASH_BYTES);
    ck_assert_int_eq(p.frozen, 1);
    ck_assert_int_eq(nu_persons(a.srvst), base);

    /* Resolved by an administrator: unfrozen, and the same conflict no
     * longer freezes anything. */
    int n = 0;
    ck_assert_int_eq(wg_store_unfreeze(a.srvst, mi->pk, NULL, &n, NULL),
                     WG_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(frozen_feeds(a.srvst), 0);
    ck_assert_int_eq(wg_store_unfreeze(a.srvst, mi->pk, NULL, &n, NULL),
                     WG_ERR_NOTFOUND);
    raw_open(&r, &a, 1);
    raw_open_session(&r, 1);
    snprintf(prefix, sizeof prefix, "batch 0 refused: change %s/%s#1 is the "
             "side of a resolved equivocation this node does not hold: "
             "refused", who, COUNTY);
    send_refused(&r, sc, 2, WG_ERR_AUTH, prefix, "");
    raw_close(&r);
    ck_assert_int_eq(frozen_feeds(a.srvst), 0);
    /* Mallory's feed continues from what srv holds. */
    nu_add_persons(a.mallory, NULL, 9500, 2);
    res = nu_session(a.srv, a.mcli, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    ck_assert_int_eq(nu_persons(a.srvst), base + 2);
    chain_intact(a.srvst, "srv");
    for (int i = 0; i < 2; i++)
        wg_buf_release(&bodies[i]);
    net_teardown(&a);
}
END_TEST

/* ---- the flood ---------------------------------------------------------------------- */

#define FLOOD 200

/* ZMTP 3.0 greeting asking for CURVE, as a client. */
static size_t zmtp_curve_greeting(uint8_t g[64])
{
    memset(g, 0, 64);
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 0;
    memcpy(g + 12, "CURVE", 5);
    return 64;
}

START_TEST(test_netfault_raw_tcp_flood_does_not_stop_an_honest_sync)
{
    net a;
    net_setup(&a);
    nu_add_persons(a.honest, NULL, 10000, 1000);
    /* Warm up: one honest session, so the "before" figure holds every
     * buffer an honest session needs. */
    wg_sync_result res = nu_session(a.srv, a.hon, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    nu_add_persons(a.honest, NULL, 20000, 1000);
    long rss0 = rss_kib();

    int port = atoi(strrchr(a.ep, ':') + 1);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    int fd[FLOOD], sent[FLOOD];
    uint8_t garbage[512], greeting[64 + 60];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 131 + 7);
    zmtp_curve_greeting(greeting);
    /* Then the first 60 bytes of a CURVE HELLO command (200 bytes): the
     * handshake stops there. */
    memset(greeting + 64, 0, 60);
    greeting[64] = 0x04;
    greeting[65] = 200;
    memcpy(greeting + 66, "\x05HELLO\x01\x00", 8);
    for (int i = 0; i < FLOOD; i++) {
        fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        ck_assert_int_ge(fd[i], 0);
        int rc = connect(fd[i], (struct sockaddr *)&sa, sizeof sa);
        ck_assert_msg(rc == 0 || errno == EINPROGRESS, "connect: %s",
                      strerror(errno));
        sent[i] = 0;
        nu_step(a.srv);
    }
    figure(&fig->faults, FLOOD);
    /* Each client: 0 garbage, 1 silence, 2 a stalled CURVE handshake. */
    int64_t end = nu_now_ms() + REPLY_DEADLINE_MS;
    int ready = 0;
    while (ready < FLOOD && nu_now_ms() < end) {
        for (int i = 0; i < FLOOD; i++) {
            if (sent[i])
                continue;
            struct pollfd p = { fd[i], POLLOUT, 0 };
            if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
                continue;
            sent[i] = 1;
            ready++;
            if (i % 3 == 0)
                send(fd[i], garbage, sizeof garbage, MSG_NOSIGNAL);
            else if (i % 3 == 2)
                send(fd[i], greeting, sizeof greeting, MSG_NOSIGNAL);
        }
        nu_step(a.srv);
    }
    ck_assert_int_eq(ready, FLOOD);

    /* The honest sync, under the flood. */
    int64_t t0 = nu_now_ms();
    res = nu_session(a.srv, a.hon, "srv", 10000);
    int64_t took = nu_now_ms() - t0;
    ck_assert_msg(res.ok, "honest session under the flood: %s", res.error);
    ck_assert_msg(took < 10000, "took %lld ms", (long long)took);
    ck_assert_int_eq(nu_persons(a.srvst), 2003);
    account(a.srvst, 10000, 1000);
    account(a.srvst, 20000, 1000);

    /* Garbage is dropped by the server; the others are still held open
     * (their handshake has 30 s). */
    int dropped = 0;
    end = nu_now_ms() + REPLY_DEADLINE_MS;
    while (dropped < (FLOOD + 2) / 3 && nu_now_ms() < end) {
        dropped = 0;
        for (int i = 0; i < FLOOD; i += 3) {
            uint8_t buf[256];
            ssize_t n;
            while ((n = recv(fd[i], buf, sizeof buf, MSG_DONTWAIT)) > 0)
                ;
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                dropped++;
        }
        nu_step(a.srv);
    }
    ck_assert_int_eq(dropped, (FLOOD + 2) / 3);
    long rss1 = rss_kib();
    for (int i = 0; i < FLOOD; i++)
        close(fd[i]);
    for (int i = 0; i < 100; i++)
        nu_step(a.srv);
    long rss2 = rss_kib();
    printf("flood: RSS %ld KiB before, %ld under the flood, %ld after; "
           "honest session %lld ms\n", rss0, rss1, rss2, (long long)took);
    fflush(stdout);
    ck_assert_msg(rss1 - rss0 < 64 * 1024, "RSS grew by %ld KiB",
                  rss1 - rss0);
    ck_assert_msg(rss2 - rss0 < 64 * 1024, "RSS grew by %ld KiB",
                  rss2 - rss0);
    /* No refusal was audited: none of them got as far as a key. */
    nu_audit_q q = { .event = "refused" };
    ck_assert_int_eq(nu_audit_count(a.srvst, &q), 0);
    res = nu_session(a.srv, a.hon, "srv", 10000);
    ck_assert_msg(res.ok, "%s", res.error);
    chain_intact(a.srvst, "srv");
    net_teardown(&a);
}
END_TEST

/* ---- the suite ------------------------------------------------------------------------ */

static const tu_test tests[] = {
    TU_TEST(case_faults, test_netfault_peer_vanishes_mid_catch_up),
    TU_TEST(case_faults, test_netfault_stalled_peer_times_out_and_node_keeps_serving),
    TU_TEST(case_faults, test_netfault_replayed_batches_apply_nothing),
    TU_TEST(case_faults, test_netfault_duplicated_batch_is_refused),
    TU_TEST(case_faults, test_netfault_reordered_batches_are_refused),
    TU_TEST(case_faults, test_netfault_clock_a_year_ahead_is_refused_and_audited),
    TU_TEST(case_faults, test_netfault_unsigned_conflict_freezes_nothing),
    TU_TEST(case_faults, test_netfault_signed_equivocation_freezes_with_proof),
    TU_TEST(case_faults, test_netfault_raw_tcp_flood_does_not_stop_an_honest_sync),
};

int main(void)
{
    fig = mmap(NULL, sizeof *fig, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (fig == MAP_FAILED)
        return EXIT_FAILURE;
    memset(fig, 0, sizeof *fig);
    int rc = tu_run(TU_SUITE("netfault", tests));
    printf("figure sessions_interrupted=%ld\n", fig->interrupted);
    printf("figure net_faults=%ld\n", fig->faults);
    printf("figure lost=%ld\n", fig->lost);
    printf("figure doubled=%ld\n", fig->doubled);
    return rc;
}
