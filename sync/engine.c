/*
 * engine.c - sockets, authentication and the poll loop for sync sessions
 *
 * Server side: one ROUTER (CURVE server, ZMQ_ROUTER_MANDATORY, capped
 * message size, heartbeats) and the ZAP handler, a REP socket on
 * inproc://zeromq.zap.01 bound BEFORE the ROUTER: libzmq's CURVE server
 * admits any key when no handler is bound, so the engine also proves, with a
 * probe using a random key, that the handler is consulted and refuses it.
 * A peer's identity is the key the handler authenticated (the User-Id
 * property of each message), never a name in a payload.
 *
 * Client side: a DEALER per session (CURVE client pinned to the peer's key)
 * and a monitor socket that reports a refused handshake at once.
 *
 * Everything runs on the caller's thread in wg_engine_step(). Sessions end
 * in an audit entry in this node's own signed feed.
 *
 * Hostile load (see guard.c for the connection budget): refusals of unknown
 * keys are audited at most REFUSAL_AUDITS times a minute, whatever the
 * number of keys, and the rest summed in one entry when the minute ends, so
 * the audit grows by at most REFUSAL_AUDITS + 1 entries a minute; a
 * handshake has WG_GUARD_HANDSHAKE_MS; queues are bounded (RCVHWM, SNDHWM)
 * so a peer that ignores its credit is held back by TCP, not by our memory;
 * a peer that vanishes is noticed from the disconnect event.
 */
#include "wg_i18n.h"
#include "sync_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "guard_int.h"
#include "wg_cert.h"
#include "wg_crypto.h"
#include "wg_life.h"

#define MAX_CLIENTS 64
#define MAX_WATCH 8
#define REFUSAL_AUDIT_MS 60000
#define REFUSAL_AUDITS 4         /* entries a minute, then one summary */
/* Messages queued per connection: a session's credit, its acks and the
 * control messages around them. */
#define RCV_HWM (2 * WG_SYNC_CREDIT + 4)
#define SND_HWM (2 * WG_SYNC_CREDIT + 8)
/* zmq sockets: a client session holds three (its DEALER, its monitor and
 * the monitor's own end), plus the ROUTER, ZAP, monitors and control. */
#define MAX_ZMQ_SOCKETS (3 * MAX_CLIENTS + MAX_WATCH + 16)
/* A session whose connection dropped ends this long after the event, so
 * the messages it sent before closing are read first. */
#define GONE_GRACE_MS 500

typedef struct client_conn {
    void *sock, *mon;
    wg_session *s;
    char name[WG_NAME_MAX + 1];
    char endpoint[WG_ENDPOINT_MAX + 1];
    int timeout_ms;
    int64_t last_ms;
    int connected;
    int finished;
    char error[256];
} client_conn;

typedef struct server_conn {
    struct server_conn *next;
    struct wg_engine *e;
    uint8_t rid[256];
    size_t rid_len;
    wg_session *s;
    int64_t last_ms;
    int64_t gone_ms;           /* its connection dropped at (0: not) */
    int fd;                    /* of its connection, -1 unknown */
    int dead;
} server_conn;

typedef struct watch {
    void *sock;
    int fd;
    wg_engine_watch_fn fn;
    void *ctx;
} watch;

struct wg_engine {
    wg_store *st;
    void *zmq;
    void *router, *zap;
    uint8_t curve_pk[WG_CURVE_KEY_BYTES];
    client_conn *clients[MAX_CLIENTS];
    int nclients;
    server_conn *servers;
    server_conn *sending;      /* whose session is sending right now */
    watch watches[MAX_WATCH];
    int nwatches;
    int depth;                 /* nested wg_engine_step() calls */
    uint64_t member_gen;       /* the store's, when peers were last judged */
    wg_engine_done_fn done_fn;
    void *done_ctx;
    struct {
        int64_t window;        /* start of the current minute */
        int audited;           /* entries written in it */
        long more;             /* refusals not written one by one */
        long shed_seen;        /* guard.shed already summed */
    } refusals;
    void *router_mon;          /* the ROUTER's monitor (guard.c) */
    wg_guard guard;
    int guarded;
    uint8_t probe_key[32];
    int probing;        /* the self-check's probe key is set */
    int probe_seen;
    int idle_ms;               /* server sessions: silence that ends them */
    int ctl_on;                /* a control socket admits ctl_uid */
    unsigned long ctl_uid;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *wg_sync_zmq_version(void)
{
    static char v[32];
    int a, b, c;
    zmq_version(&a, &b, &c);
    snprintf(v, sizeof v, "%d.%d.%d", a, b, c);
    return v;
}

static void set_common(void *sock)
{
    int linger = 0, hb = 5000, hbt = 20000;
    /* The transport cap is twice the protocol's: a message between the two
     * reaches the decoder, which refuses it and the session is audited;
     * beyond that libzmq drops the connection before we hold the bytes. */
    int64_t max = 2 * (int64_t)WG_WIRE_MAX_MSG;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
    zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt);
}

/* Our Curve25519 key pair, from the node's Ed25519 identity. On success the
 * caller wipes CSK; on failure it is wiped here. */
static wg_rc our_curve(wg_engine *e, uint8_t csk[WG_CURVE_KEY_BYTES],
                       wg_err *err)
{
    wg_rc rc = wg_sign_sk_to_curve(csk, wg_store_secret_key(e->st), err);
    if (rc == WG_OK)
        rc = wg_sign_pk_to_curve(e->curve_pk, wg_store_info(e->st)->pk, err);
    if (rc)
        wg_wipe(csk, WG_CURVE_KEY_BYTES);
    return rc;
}

/* ---- peers ---------------------------------------------------------------- */

typedef struct find_ctx {
    const uint8_t *curve;      /* find by Curve25519 key ... */
    const uint8_t *ed;         /* ... or by Ed25519 key */
    wg_peer found;
    int ok;
} find_ctx;

static int on_peer(void *p, const wg_peer *peer)
{
    find_ctx *f = p;
    uint8_t c[32];
    if (f->ed && !memcmp(f->ed, peer->key, 32)) {
        f->found = *peer;
        f->ok = 1;
        return 1;
    }
    if (f->curve && wg_sign_pk_to_curve(c, peer->key, NULL) == WG_OK &&
        !memcmp(c, f->curve, 32)) {
        f->found = *peer;
        f->ok = 1;
        return 1;
    }
    return 0;
}

static int find_peer(wg_engine *e, const uint8_t *curve, const uint8_t *ed,
                     wg_peer *out)
{
    find_ctx f;
    memset(&f, 0, sizeof f);
    f.curve = curve;
    f.ed = ed;
    if (wg_store_peers(e->st, on_peer, &f, NULL) != WG_OK || !f.ok)
        return 0;
    *out = f.found;
    return 1;
}

/* In a network, a peer must also hold a valid, unrevoked certificate: 1 if
 * KEY may connect (or this node is a closed group), else 0 and WHY. */
static int member_ok(wg_engine *e, const uint8_t key[32], char *why,
                     size_t n)
{
    uint8_t root[WG_SIGN_PK_BYTES];
    if (!wg_store_root(e->st, root))
        return 1;
    wg_members *m = NULL;
    wg_err err = { 0 };
    wg_rc rc = wg_members_load(e->st, &m, &err);
    if (rc == WG_OK)
        rc = wg_members_check(m, root, key, (uint64_t)time(NULL), NULL, &err);
    wg_members_destroy(&m);
    if (rc && why)
        snprintf(why, n, "%.180s", err.msg);
    return rc == WG_OK;
}

/* ---- audit ----------------------------------------------------------------- */

static void audit_session(wg_engine *e, const char *name, const uint8_t *key,
                          const char *dir, wg_session *s, int ok,
                          const char *reason)
{
    char hex[WG_KEY_HEX_CHARS + 1];
    wg_hex_encode(hex, key, 32);
    wg_audit_entry a = { 0 };
    a.event = "session";
    a.peer = name;
    a.peer_key = hex;
    a.direction = dir;
    a.sent = s ? wg_session_sent(s) : 0;
    a.received = s ? wg_session_received(s) : 0;
    a.refused = s ? wg_session_refused(s) : 0;
    a.result = ok ? "ok" : "failed";
    a.reason = ok ? NULL : reason;
    wg_store_peer_result(e->st, name, ok, ok ? NULL : reason, a.sent,
                         a.received, NULL);
    /* After a restore or a rollback, the last peer to sync releases the
     * held writes, before this session's own entry is written. */
    wg_store_life_check(e->st, ok ? name : NULL, NULL);
    wg_store_audit(e->st, &a, NULL);
}

/* The minute's refusals not written one by one, and connections the guard
 * shut, in one entry. */
static void audit_refusal_summary(wg_engine *e)
{
    long shed = e->guard.shed - e->refusals.shed_seen;
    if (e->refusals.more == 0 && shed <= 0)
        return;
    char reason[200];
    snprintf(reason, sizeof reason, "in the last minute: %ld more connections "
             "refused (keys not trusted), %ld shut unauthenticated (over the "
             "connection or handshake caps)", e->refusals.more,
             shed > 0 ? shed : 0);
    wg_audit_entry a = { 0 };
    a.event = "refused";
    a.peer = "unknown";
    a.direction = "in";
    a.result = "failed";
    a.reason = reason;
    a.refused = e->refusals.more + (shed > 0 ? shed : 0);
    wg_store_audit(e->st, &a, NULL);
    e->refusals.more = 0;
    e->refusals.shed_seen = e->guard.shed;
}

static void refusal_window(wg_engine *e, int64_t t)
{
    if (t - e->refusals.window < REFUSAL_AUDIT_MS)
        return;
    audit_refusal_summary(e);
    e->refusals.window = t;
    e->refusals.audited = 0;
}

/* A key refused at the door that is no peer may still be a member of the
 * network (a replaced PC, a revoked office): its name and why its
 * certificate does not admit it, for the audit. 0 when no certificate of
 * this network holds CURVE. */
static int member_by_curve(wg_engine *e, const uint8_t curve[32], char *name,
                           size_t nn, char *why, size_t wn)
{
    uint8_t root[WG_SIGN_PK_BYTES];
    if (!wg_store_root(e->st, root))
        return 0;
    wg_members *m = NULL;
    int found = 0;
    if (wg_members_load(e->st, &m, NULL) == WG_OK) {
        for (int i = 0; !found && i < wg_members_count(m); i++) {
            const wg_cert *c = wg_members_at(m, i);
            uint8_t k[32];
            if (wg_sign_pk_to_curve(k, c->subject, NULL) != WG_OK ||
                memcmp(k, curve, 32))
                continue;
            found = 1;
            snprintf(name, nn, "%s", c->name);
            wg_err err = { 0 };
            if (wg_members_check(m, root, c->subject, (uint64_t)time(NULL),
                                 NULL, &err) != WG_OK)
                snprintf(why, wn, "%.120s; not in the peer list", err.msg);
            else
                snprintf(why, wn, "key not in the peer list");
        }
    }
    wg_members_destroy(&m);
    return found;
}

/* A refusal at the door, audited while the minute's budget lasts (then
 * counted): naming the peer NAME when the key is a listed peer, or the
 * member of the network that holds it, else "unknown". */
static void audit_refusal(wg_engine *e, const uint8_t curve[32],
                          const char *address, const char *why,
                          const char *name)
{
    refusal_window(e, now_ms());
    if (e->refusals.audited >= REFUSAL_AUDITS) {
        e->refusals.more++; /* fresh keys cost a counter, not an entry */
        return;
    }
    e->refusals.audited++;
    char hex[65], reason[200], who[WG_CERT_NAME_MAX + 1], mwhy[160];
    if (!name && !why &&
        member_by_curve(e, curve, who, sizeof who, mwhy, sizeof mwhy)) {
        name = who;
        why = mwhy;
    }
    wg_hex_encode(hex, curve, 32);
    snprintf(reason, sizeof reason, "%.140s (from %.48s)",
             why ? why : "key not in the peer list", address);
    wg_audit_entry a = { 0 };
    a.event = "refused";
    a.peer = name ? name : "unknown";
    a.peer_key = hex;
    a.direction = "in";
    a.result = "failed";
    a.reason = reason;
    wg_store_audit(e->st, &a, NULL);
}

/* ---- ZAP ------------------------------------------------------------------- */

static int recv_frame(void *sock, uint8_t *buf, size_t cap, size_t *n,
                      int *more)
{
    int r = zmq_recv(sock, buf, cap, ZMQ_DONTWAIT);
    if (r < 0)
        return -1;
    *n = (size_t)r > cap ? cap : (size_t)r;
    int m = 0;
    size_t ml = sizeof m;
    zmq_getsockopt(sock, ZMQ_RCVMORE, &m, &ml);
    *more = m;
    return 0;
}

static void handle_zap(wg_engine *e)
{
    uint8_t f[8][256];
    size_t len[8];
    int nf = 0, more = 1;
    while (more && nf < 8) {
        if (recv_frame(e->zap, f[nf], sizeof f[nf], &len[nf], &more) != 0)
            return;
        nf++;
    }
    while (more) { /* drain anything beyond what ZAP defines */
        uint8_t junk[64];
        size_t n;
        if (recv_frame(e->zap, junk, sizeof junk, &n, &more) != 0)
            break;
    }
    /* version, request id, domain, address, identity, mechanism, key */
    int ok = 0;
    wg_peer peer;
    char user[WG_KEY_HEX_CHARS + 1] = "";
    char address[65] = "";
    if (nf >= 4)
        snprintf(address, sizeof address, "%.*s", (int)len[3], (char *)f[3]);
    int curve = nf == 7 && len[5] == 5 && !memcmp(f[5], "CURVE", 5) &&
                len[6] == 32;
    /* The control socket (ctl.c): no key, the peer's uid from its Unix
     * credentials, which libzmq appends to the address. */
    int ctl = nf == 6 && len[5] == 4 && !memcmp(f[5], "NULL", 4) &&
              len[2] == strlen(WG_CTL_ZAP_DOMAIN) &&
              !memcmp(f[2], WG_CTL_ZAP_DOMAIN, len[2]);
    unsigned long uid;
    if (ctl && e->ctl_on &&
        wg_ctl__peer_uid((const char *)f[3], len[3], &uid) &&
        uid == e->ctl_uid)
        ok = 1;
    /* (A flag, not the key's first bytes: a random key may begin with
     * zeros, and the probe must still be told from a stranger.) */
    else if (curve && e->probing && !memcmp(f[6], e->probe_key, 32))
        e->probe_seen = 1;
    else if (curve && find_peer(e, f[6], NULL, &peer)) {
        char why[200];
        ok = member_ok(e, peer.key, why, sizeof why);
        if (ok)
            wg_hex_encode(user, peer.key, 32);
        else
            audit_refusal(e, f[6], address, why, peer.name);
    } else if (curve) {
        audit_refusal(e, f[6], address, NULL, NULL);
    }
    const char *code = ok ? "200" : "400";
    const char *text = ok ? "OK" : ctl ? "user not admitted"
                                       : "key not trusted";
    zmq_send(e->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(e->zap, nf >= 2 ? f[1] : (uint8_t *)"", nf >= 2 ? len[1] : 0,
             ZMQ_SNDMORE);
    zmq_send(e->zap, code, 3, ZMQ_SNDMORE);
    zmq_send(e->zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(e->zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(e->zap, "", 0, 0);
}

/* ---- server side ------------------------------------------------------------ */

static wg_rc server_send(void *ctx, const uint8_t *p, size_t n)
{
    server_conn *c = ctx;
    if (zmq_send(c->e->router, c->rid, c->rid_len,
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(c->e->router, p, n, ZMQ_DONTWAIT) < 0)
        return WG_ERR_PEER;
    return WG_OK;
}

static server_conn *server_find(wg_engine *e, const uint8_t *rid, size_t n)
{
    for (server_conn *c = e->servers; c; c = c->next)
        if (!c->dead && c->rid_len == n && !memcmp(c->rid, rid, n))
            return c;
    return NULL;
}

static void server_end(wg_engine *e, server_conn *c, int ok, const char *why)
{
    if (c->dead)
        return;
    c->dead = 1;
    audit_session(e, wg_session_name(c->s), wg_session_peer_key(c->s), "in",
                  c->s, ok, why);
}

static void send_error_to(wg_engine *e, const uint8_t *rid, size_t rid_len,
                          wg_rc code, const char *text)
{
    wg_buf b;
    wg_buf_init(&b, 1024);
    if (wg_wire_error(&b, (uint16_t)code, text, NULL) == WG_OK &&
        zmq_send(e->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(e->router, b.data, b.len, ZMQ_DONTWAIT);
    wg_buf_release(&b);
}

static void handle_router(wg_engine *e)
{
    for (;;) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        if (zmq_msg_recv(&rid, e->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            return;
        }
        zmq_msg_init(&body);
        int more = zmq_msg_more(&rid);
        if (!more || zmq_msg_recv(&body, e->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            zmq_msg_close(&body);
            continue;
        }
        int extra = zmq_msg_more(&body);
        while (extra) { /* one frame per message: drop the rest */
            zmq_msg_t junk;
            zmq_msg_init(&junk);
            if (zmq_msg_recv(&junk, e->router, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&junk);
                break;
            }
            extra = zmq_msg_more(&junk);
            zmq_msg_close(&junk);
            more = -1;
        }
        const uint8_t *r = zmq_msg_data(&rid);
        size_t rl = zmq_msg_size(&rid);
        const char *user = zmq_msg_gets(&body, "User-Id");
        uint8_t key[32];
        wg_peer peer;
        server_conn *c = server_find(e, r, rl);
        if (rl > sizeof c->rid || !user ||
            wg_hex_decode(key, 32, user, NULL) != WG_OK ||
            !find_peer(e, NULL, key, &peer)) {
            /* Authenticated then removed from the peer list, or no ZAP
             * identity at all: refuse and forget. */
            if (c)
                server_end(e, c, 0, "peer removed from the peer list");
            send_error_to(e, r, rl, WG_ERR_PEER, "not a trusted peer");
        } else {
            if (!c) {
                c = wg_xcalloc(1, sizeof *c);
                c->e = e;
                c->fd = zmq_msg_get(&body, ZMQ_SRCFD);
                if (e->guarded)
                    wg_guard_established(&e->guard, c->fd);
                memcpy(c->rid, r, rl);
                c->rid_len = rl;
                c->s = wg_session_new(e->st, 0, peer.name, key, server_send, c);
                wg_store_logf(e->st, WG_LOG_INFO, "sync", "session start in "
                              "peer=%s key=%.16s", peer.name, peer.key_hex);
                c->next = e->servers;
                e->servers = c;
            }
            c->last_ms = now_ms();
            wg_err err = { 0 };
            wg_rc rc = more < 0
                           ? wg_err_set(&err, WG_ERR_PROTO,
                                        "message of several frames")
                           : wg_session_receive(c->s, zmq_msg_data(&body),
                                                zmq_msg_size(&body), &err);
            if (rc && more < 0)
                send_error_to(e, r, rl, WG_ERR_PROTO, err.msg);
            if (rc)
                server_end(e, c, 0, err.msg);
            else if (wg_session_finished(c->s))
                server_end(e, c, 1, NULL);
        }
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
    }
}

static void reap_servers(wg_engine *e, int64_t t)
{
    for (server_conn **pp = &e->servers; *pp;) {
        server_conn *c = *pp;
        if (!c->dead && c->gone_ms && t - c->gone_ms >= GONE_GRACE_MS)
            server_end(e, c, 0, "the peer closed the connection");
        if (!c->dead && t - c->last_ms > e->idle_ms)
            server_end(e, c, 0, "timed out: the peer went silent");
        if (c->dead) {
            *pp = c->next;
            wg_session_destroy(&c->s);
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* The ROUTER's monitor: connections counted by the guard, and a session
 * whose connection dropped marked for ending. */
static void handle_router_monitor(wg_engine *e)
{
    for (;;) {
        uint8_t ev[6];
        char addr[256];
        int n = zmq_recv(e->router_mon, ev, sizeof ev, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        int more = 0;
        size_t ml = sizeof more;
        zmq_getsockopt(e->router_mon, ZMQ_RCVMORE, &more, &ml);
        if (more)
            zmq_recv(e->router_mon, addr, sizeof addr, ZMQ_DONTWAIT);
        if (n != 6)
            continue;
        uint16_t event;
        int32_t value;
        memcpy(&event, ev, 2);
        memcpy(&value, ev + 2, 4);
        int64_t t = now_ms();
        int gone = wg_guard_event(&e->guard, event, value, t);
        if (gone < 0)
            continue;
        for (server_conn *c = e->servers; c; c = c->next)
            if (!c->dead && c->fd == gone && !c->gone_ms)
                c->gone_ms = t;
    }
}

/* ---- listening ----------------------------------------------------------- */

static void close_sock(void **s)
{
    if (*s) {
        zmq_close(*s);
        *s = NULL;
    }
}

/* Prove the ZAP handler runs: a DEALER with a random key must be seen by
 * the handler, which refuses it (handle_zap() denies every key it does not
 * know, the probe's included), within five seconds. The ROUTER is not read
 * meanwhile: a known peer reconnecting at once (a daemon restarted while
 * its peers serve) may already be talking, and its messages are not the
 * probe's; they wait for the loop. */
static wg_rc self_check(wg_engine *e, wg_err *err)
{
    char last[WG_ENDPOINT_MAX + 32];
    size_t ll = sizeof last;
    if (zmq_getsockopt(e->router, ZMQ_LAST_ENDPOINT, last, &ll) != 0)
        return wg_err_set(err, WG_ERR_IO, "cannot read the bound endpoint");
    char target[WG_ENDPOINT_MAX + 32];
    const char *host = strstr(last, "://");
    const char *port = strrchr(last, ':');
    if (!host || !port || port <= host + 2)
        return wg_err_set(err, WG_ERR_INTERNAL, "odd endpoint '%s'", last);
    if (!strncmp(host + 3, "0.0.0.0", 7) || host[3] == '*')
        snprintf(target, sizeof target, "tcp://127.0.0.1%s", port);
    else
        snprintf(target, sizeof target, "%s", last);

    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0)
        return wg_err_set(err, WG_ERR_INTERNAL, "no CURVE support in libzmq");
    zmq_z85_decode(e->probe_key, pub);
    e->probing = 1;
    e->probe_seen = 0;
    void *probe = zmq_socket(e->zmq, ZMQ_DEALER);
    set_common(probe);
    zmq_setsockopt(probe, ZMQ_CURVE_SERVERKEY, e->curve_pk, 32);
    zmq_setsockopt(probe, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(probe, ZMQ_CURVE_SECRETKEY, sec, 40);
    wg_wipe(sec, sizeof sec);
    zmq_connect(probe, target);
    zmq_send(probe, "", 0, ZMQ_DONTWAIT);
    int64_t end = now_ms() + 5000;
    while (!e->probe_seen && now_ms() < end) {
        zmq_pollitem_t it[1] = { { e->zap, 0, ZMQ_POLLIN, 0 } };
        if (zmq_poll(it, 1, 100) < 0 && errno != EINTR)
            break;
        if (it[0].revents & ZMQ_POLLIN)
            handle_zap(e);
    }
    zmq_close(probe);
    memset(e->probe_key, 0, sizeof e->probe_key);
    e->probing = 0;
    if (!e->probe_seen)
        return wg_err_set(err, WG_ERR_INTERNAL,
                          "refusing to serve: a connection with an unknown "
                          "key was not refused by the authentication handler");
    return WG_OK;
}

wg_rc wg_engine__zap_bind(wg_engine *e, wg_err *err)
{
    if (e->zap)
        return WG_OK;
    e->zap = zmq_socket(e->zmq, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(e->zap, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(e->zap, "inproc://zeromq.zap.01") != 0) {
        int er = errno;
        close_sock(&e->zap);
        return wg_err_set(err, WG_ERR_INTERNAL, "cannot bind the ZAP handler: "
                          "%s", zmq_strerror(er));
    }
    return WG_OK;
}

void wg_engine__ctl_admit(wg_engine *e, unsigned long uid)
{
    e->ctl_uid = uid;
    e->ctl_on = 1;
}

wg_rc wg_engine_listen(wg_engine *e, const char *endpoint, wg_err *err)
{
    uint8_t csk[WG_CURVE_KEY_BYTES];
    wg_rc rc = our_curve(e, csk, err); /* wiped on failure */
    if (rc)
        return rc;
    int had_zap = e->zap != NULL;
    if ((rc = wg_engine__zap_bind(e, err))) {
        wg_wipe(csk, sizeof csk);
        return rc;
    }
    if (!e->guarded) {
        if ((rc = wg_guard_init(&e->guard, err))) {
            wg_wipe(csk, sizeof csk);
            close_sock(&e->zap);
            return rc;
        }
        e->guarded = 1;
    }
    e->router = zmq_socket(e->zmq, ZMQ_ROUTER);
    if (!e->router) {
        wg_wipe(csk, sizeof csk);
        close_sock(&e->zap);
        return wg_err_set(err, WG_ERR_IO, "cannot open the server socket: %s",
                          zmq_strerror(errno));
    }
    int one = 1, hs = WG_GUARD_HANDSHAKE_MS, rhwm = RCV_HWM, shwm = SND_HWM;
    set_common(e->router);
    zmq_setsockopt(e->router, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs);
    zmq_setsockopt(e->router, ZMQ_RCVHWM, &rhwm, sizeof rhwm);
    zmq_setsockopt(e->router, ZMQ_SNDHWM, &shwm, sizeof shwm);
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://wings-router-monitor-%p", (void *)e);
    if (zmq_socket_monitor(e->router, mon,
                           ZMQ_EVENT_LISTENING | ZMQ_EVENT_ACCEPTED |
                               ZMQ_EVENT_ACCEPT_FAILED |
                               ZMQ_EVENT_DISCONNECTED) == 0) {
        e->router_mon = zmq_socket(e->zmq, ZMQ_PAIR);
        /* libzmq's io thread blocks when a monitor's queue is full: never
         * let it (an event is ~40 bytes, read at once by every step). */
        int unbounded = 0;
        if (e->router_mon) {
            zmq_setsockopt(e->router_mon, ZMQ_RCVHWM, &unbounded,
                           sizeof unbounded);
            zmq_connect(e->router_mon, mon);
        }
    }
    zmq_setsockopt(e->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(e->router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(e->router, ZMQ_CURVE_SECRETKEY, csk, sizeof csk);
    wg_wipe(csk, sizeof csk);
    zmq_setsockopt(e->router, ZMQ_ZAP_DOMAIN, "wings", 5);
    if (zmq_bind(e->router, endpoint) != 0) {
        int er = errno;
        if (e->router_mon)
            zmq_socket_monitor(e->router, NULL, 0);
        close_sock(&e->router_mon);
        close_sock(&e->router);
        if (!had_zap)
            close_sock(&e->zap);
        return wg_err_set(err, WG_ERR_IO, "cannot listen on %s: %s", endpoint,
                          zmq_strerror(er));
    }
    if (e->router_mon)
        handle_router_monitor(e); /* the listening socket, for the guard */
    if ((rc = self_check(e, err))) {
        if (e->router_mon)
            zmq_socket_monitor(e->router, NULL, 0);
        close_sock(&e->router_mon);
        close_sock(&e->router);
        if (!had_zap)
            close_sock(&e->zap);
    }
    return rc;
}

/* ---- client side -------------------------------------------------------------- */

static wg_rc client_send(void *ctx, const uint8_t *p, size_t n)
{
    client_conn *c = ctx;
    return zmq_send(c->sock, p, n, 0) < 0 ? WG_ERR_PEER : WG_OK;
}

static void client_finish(wg_engine *e, client_conn *c, int ok,
                          const char *why)
{
    if (c->finished)
        return;
    c->finished = 1;
    snprintf(c->error, sizeof c->error, "%s", ok ? "" : why);
    audit_session(e, c->name, wg_session_peer_key(c->s), "out", c->s, ok, why);
    wg_sync_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.peer, sizeof r.peer, "%s", c->name);
    r.ok = ok;
    r.sent = wg_session_sent(c->s);
    r.received = wg_session_received(c->s);
    snprintf(r.error, sizeof r.error, "%s", ok ? "" : why);
    if (e->done_fn)
        e->done_fn(e->done_ctx, &r);
}

wg_rc wg_engine_connect(wg_engine *e, const char *name, int timeout_ms,
                        wg_err *err)
{
    wg_peer peer;
    wg_rc rc = wg_store_peer_get(e->st, name, &peer, err);
    if (rc)
        return rc;
    if (e->nclients == MAX_CLIENTS)
        return wg_err_set(err, WG_ERR_INTERNAL, "too many sessions at once");
    uint8_t csk[WG_CURVE_KEY_BYTES], server[WG_CURVE_KEY_BYTES];
    if ((rc = our_curve(e, csk, err)))
        return rc; /* csk wiped by our_curve */
    if ((rc = wg_sign_pk_to_curve(server, peer.key, err))) {
        wg_wipe(csk, sizeof csk);
        return rc;
    }
    void *sock = zmq_socket(e->zmq, ZMQ_DEALER);
    if (!sock) {
        wg_wipe(csk, sizeof csk);
        return wg_err_set(err, WG_ERR_PEER, "cannot open a socket for %s: %s",
                          peer.name, zmq_strerror(errno));
    }
    client_conn *c = wg_xcalloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", peer.name);
    snprintf(c->endpoint, sizeof c->endpoint, "%s", peer.endpoint);
    c->timeout_ms = timeout_ms;
    c->last_ms = now_ms();
    c->sock = sock;
    set_common(c->sock);
    int rhwm = RCV_HWM;
    zmq_setsockopt(c->sock, ZMQ_RCVHWM, &rhwm, sizeof rhwm);
    zmq_setsockopt(c->sock, ZMQ_HANDSHAKE_IVL, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, server, 32);
    zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, e->curve_pk, 32);
    zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, csk, sizeof csk);
    wg_wipe(csk, sizeof csk);
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://wings-monitor-%p", (void *)c);
    zmq_socket_monitor(c->sock, mon,
                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                           ZMQ_EVENT_DISCONNECTED);
    c->mon = zmq_socket(e->zmq, ZMQ_PAIR);
    if (c->mon)
        zmq_connect(c->mon, mon);
    c->s = wg_session_new(e->st, 1, peer.name, peer.key, client_send, c);
    wg_store_logf(e->st, WG_LOG_INFO, "sync", "session start out peer=%s "
                  "key=%.16s", peer.name, peer.key_hex);
    if (zmq_connect(c->sock, peer.endpoint) != 0) {
        snprintf(c->error, sizeof c->error, "bad endpoint %.128s: %.64s",
                 peer.endpoint, zmq_strerror(errno));
        e->clients[e->nclients++] = c;
        client_finish(e, c, 0, c->error);
        return WG_OK;
    }
    e->clients[e->nclients++] = c;
    if ((rc = wg_session_start(c->s, err)))
        client_finish(e, c, 0, err ? err->msg : "cannot start");
    return WG_OK;
}

static void handle_client(wg_engine *e, client_conn *c);

static void handle_monitor(wg_engine *e, client_conn *c)
{
    for (;;) {
        uint8_t ev[6];
        char addr[256];
        int n = zmq_recv(c->mon, ev, sizeof ev, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        zmq_recv(c->mon, addr, sizeof addr, ZMQ_DONTWAIT);
        uint16_t event;
        memcpy(&event, ev, 2);
        char why[300];
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            c->connected = 1;
        } else if (event == ZMQ_EVENT_DISCONNECTED) {
            if (!c->connected)
                continue; /* not yet through: the DEALER tries again */
            handle_client(e, c); /* what it sent before it went */
            snprintf(why, sizeof why, "%s closed the connection", c->name);
            client_finish(e, c, 0, why);
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            snprintf(why, sizeof why, _("refused by %s: this node's key is "
                     "not in its peer list"), c->name);
            client_finish(e, c, 0, why);
        } else {
            snprintf(why, sizeof why, _("handshake with %s at %.128s failed: "
                     "its key is not the one in our peer list"), c->name,
                     c->endpoint);
            client_finish(e, c, 0, why);
        }
    }
}

static void handle_client(wg_engine *e, client_conn *c)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        c->last_ms = now_ms();
        c->connected = 1;
        if (!c->finished) {
            wg_err err = { 0 };
            wg_rc rc = zmq_msg_more(&m)
                           ? wg_err_set(&err, WG_ERR_PROTO,
                                        "message of several frames")
                           : wg_session_receive(c->s, zmq_msg_data(&m),
                                                zmq_msg_size(&m), &err);
            if (rc)
                client_finish(e, c, 0, err.msg);
            else if (wg_session_finished(c->s))
                client_finish(e, c, 1, NULL);
        }
        zmq_msg_close(&m);
    }
}

static void client_destroy(client_conn **cp)
{
    client_conn *c = *cp;
    zmq_socket_monitor(c->sock, NULL, 0);
    close_sock(&c->mon);
    close_sock(&c->sock);
    wg_session_destroy(&c->s);
    free(c);
    *cp = NULL;
}

int wg_engine_busy(const wg_engine *e)
{
    int n = 0;
    for (int i = 0; i < e->nclients; i++)
        n += !e->clients[i]->finished;
    return n;
}

/* ---- the loop --------------------------------------------------------------- */

wg_rc wg_engine_step(wg_engine *e, int timeout_ms, wg_err *err)
{
    enum { MAXI = 3 + 2 * MAX_CLIENTS + MAX_WATCH };
    zmq_pollitem_t it[MAXI];
    void *owner[MAXI];
    int kind[MAXI], n = 0;
    if (e->router) {
        it[n] = (zmq_pollitem_t){ e->router, 0, ZMQ_POLLIN, 0 };
        kind[n++] = 1;
    }
    if (e->zap) {
        it[n] = (zmq_pollitem_t){ e->zap, 0, ZMQ_POLLIN, 0 };
        kind[n++] = 2;
        if (e->router_mon) {
            it[n] = (zmq_pollitem_t){ e->router_mon, 0, ZMQ_POLLIN, 0 };
            kind[n++] = 6;
        }
    }
    int64_t t = now_ms();
    for (int i = 0; i < e->nclients; i++) {
        client_conn *c = e->clients[i];
        if (c->finished)
            continue;
        int64_t left = c->last_ms + c->timeout_ms - t;
        if (left < timeout_ms)
            timeout_ms = left < 0 ? 0 : (int)left;
        it[n] = (zmq_pollitem_t){ c->sock, 0, ZMQ_POLLIN, 0 };
        owner[n] = c;
        kind[n++] = 3;
        it[n] = (zmq_pollitem_t){ c->mon, 0, ZMQ_POLLIN, 0 };
        owner[n] = c;
        kind[n++] = 4;
    }
    /* Nested steps (a command run from a watch waits for its sessions) do
     * not poll the watches again. */
    for (int i = 0; e->depth == 0 && i < e->nwatches; i++) {
        it[n] = (zmq_pollitem_t){ e->watches[i].sock, e->watches[i].fd,
                                  ZMQ_POLLIN, 0 };
        owner[n] = &e->watches[i];
        kind[n++] = 5;
    }
    if (zmq_poll(it, n, timeout_ms) < 0 && errno != EINTR)
        return wg_err_set(err, WG_ERR_INTERNAL, "poll failed: %s",
                          zmq_strerror(errno));
    e->depth++;
    for (int i = 0; i < n; i++) {
        if (!(it[i].revents & ZMQ_POLLIN))
            continue;
        switch (kind[i]) {
        case 1: handle_router(e); break;
        case 2: handle_zap(e); break;
        case 3: handle_client(e, owner[i]); break;
        case 4: handle_monitor(e, owner[i]); break;
        case 6: handle_router_monitor(e); break;
        case 5: {
            watch *w = owner[i];
            w->fn(w->ctx);
            break;
        }
        }
    }
    e->depth--;
    t = now_ms();
    for (int i = 0; i < e->nclients; i++) {
        client_conn *c = e->clients[i];
        if (!c->finished && t - c->last_ms >= c->timeout_ms) {
            char why[320];
            if (c->connected)
                snprintf(why, sizeof why, _("timed out: %s sent nothing for "
                         "%d s"), c->name, c->timeout_ms / 1000);
            else
                snprintf(why, sizeof why, _("%s unreachable at %.128s (no "
                         "answer within %d s)"), c->name, c->endpoint,
                         c->timeout_ms / 1000);
            client_finish(e, c, 0, why);
        }
    }
    /* Certificates or revocations written or received (a revocation
     * relayed by a prefecture): live sessions are judged again. */
    if (e->depth == 0 &&
        wg_store_members_generation(e->st) != e->member_gen) {
        e->member_gen = wg_store_members_generation(e->st);
        wg_engine_peers_changed(e);
    }
    if (e->depth == 0) {
        int k = 0;
        for (int i = 0; i < e->nclients; i++) {
            if (e->clients[i]->finished)
                client_destroy(&e->clients[i]);
            else
                e->clients[k++] = e->clients[i];
        }
        e->nclients = k;
        reap_servers(e, t);
        if (e->guarded) {
            wg_guard_sweep(&e->guard, t);
            refusal_window(e, t);
        }
    }
    return WG_OK;
}

void wg_engine_peers_changed(wg_engine *e)
{
    for (server_conn *c = e->servers; c; c = c->next) {
        wg_peer p;
        char why[200];
        if (!c->dead && !find_peer(e, NULL, wg_session_peer_key(c->s), &p)) {
            send_error_to(e, c->rid, c->rid_len, WG_ERR_PEER,
                          "this node no longer trusts you");
            server_end(e, c, 0, "peer removed from the peer list");
        } else if (!c->dead &&
                   !member_ok(e, wg_session_peer_key(c->s), why, sizeof why)) {
            send_error_to(e, c->rid, c->rid_len, WG_ERR_PEER,
                          "this node no longer trusts you");
            server_end(e, c, 0, why);
        }
    }
    for (int i = 0; i < e->nclients; i++) {
        client_conn *c = e->clients[i];
        wg_peer p;
        if (!c->finished &&
            !find_peer(e, NULL, wg_session_peer_key(c->s), &p))
            client_finish(e, c, 0, "peer removed from the peer list");
    }
}

/* ---- life cycle --------------------------------------------------------------- */

wg_rc wg_engine_new(wg_store *st, wg_engine **out, wg_err *err)
{
    wg_engine *e = wg_xcalloc(1, sizeof *e);
    e->st = st;
    e->member_gen = wg_store_members_generation(st);
    e->zmq = zmq_ctx_new();
    if (!e->zmq) {
        free(e);
        return wg_err_set(err, WG_ERR_INTERNAL, "cannot start ZeroMQ");
    }
    zmq_ctx_set(e->zmq, ZMQ_BLOCKY, 0);
    zmq_ctx_set(e->zmq, ZMQ_MAX_SOCKETS, MAX_ZMQ_SOCKETS);
    e->idle_ms = WG_SYNC_SERVER_IDLE_MS;
    wg_rc rc = wg_store_set_cache(st, WG_SYNC_CACHE_KIB, err);
    if (rc) {
        zmq_ctx_term(e->zmq);
        free(e);
        return rc;
    }
    *out = e;
    return WG_OK;
}

void wg_engine_destroy(wg_engine **ep)
{
    if (!ep || !*ep)
        return;
    wg_engine *e = *ep;
    for (int i = 0; i < e->nclients; i++) {
        client_finish(e, e->clients[i], 0, "interrupted");
        client_destroy(&e->clients[i]);
    }
    for (server_conn *c = e->servers; c;) {
        server_conn *next = c->next;
        if (!c->dead && !wg_session_finished(c->s))
            server_end(e, c, 0, "interrupted: this node stopped");
        wg_session_destroy(&c->s);
        free(c);
        c = next;
    }
    if (e->router_mon)
        zmq_socket_monitor(e->router, NULL, 0);
    close_sock(&e->router_mon);
    close_sock(&e->router);
    close_sock(&e->zap);
    zmq_ctx_term(e->zmq);
    if (e->guarded) {
        audit_refusal_summary(e);
        wg_guard_release(&e->guard);
    }
    free(e);
    *ep = NULL;
}

void wg_engine_set_idle_timeout(wg_engine *e, int ms)
{
    e->idle_ms = ms > 0 ? ms : WG_SYNC_SERVER_IDLE_MS;
}

void wg_engine_on_done(wg_engine *e, wg_engine_done_fn fn, void *ctx)
{
    e->done_fn = fn;
    e->done_ctx = ctx;
}

wg_engine_done_fn wg_engine_done(const wg_engine *e, void **ctx)
{
    *ctx = e->done_ctx;
    return e->done_fn;
}

void wg_engine_watch(wg_engine *e, void *sock, int fd, wg_engine_watch_fn fn,
                     void *ctx)
{
    if (e->nwatches < MAX_WATCH)
        e->watches[e->nwatches++] = (watch){ sock, fd, fn, ctx };
}

void wg_engine__unwatch(wg_engine *e, void *sock)
{
    int k = 0;
    for (int i = 0; i < e->nwatches; i++)
        if (!sock || e->watches[i].sock != sock)
            e->watches[k++] = e->watches[i];
    e->nwatches = k;
}

void *wg_engine__zmq(wg_engine *e)
{
    return e->zmq;
}
