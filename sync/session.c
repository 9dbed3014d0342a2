/*
 * session.c - the sync session state machine
 *
 * Transport-agnostic: messages in through wg_session_receive(), out through
 * the send callback. Both sides run the same machine; only the opening
 * differs.
 *
 *   client                               server
 *   START --HELLO(digest 0)------------>  WAIT_HELLO
 *   WAIT_HELLO <--HELLO(digest S)------   WAIT_VECTOR
 *     digest(C) == S: --BYE-->  DONE      (BYE: DONE)
 *     else --VECTOR(C)----------------->
 *   WAIT_VECTOR <--VECTOR(S)-----------   STREAM
 *   STREAM                                STREAM
 *     <--BATCH n / ACK n-->   (each side: at most WG_SYNC_CREDIT batches
 *                              unacknowledged; each received batch verified
 *                              and applied in one transaction, then acked)
 *     --DONE--> when everything is sent and acknowledged
 *   DONE when DONE was both sent and received
 *
 * A node's own feeds go into its VECTOR no further than the peer is known
 * to hold them (wg_store_own_seen: verified the same), so the peer sends
 * back whatever it holds beyond, and an old copy of this node's folder put
 * back and written in is repaired by the store (life.c). An own feed the
 * peer says it holds more of than that waits in the plan, and what follows
 * it too, until the peer has sent that much of it in this session (or is
 * done without: then nothing of it goes). The HELLO digest covers the real
 * heads and head hashes: BYE only when both hold exactly the same. At a
 * good end own_seen becomes the peer's head of each own feed, or what was
 * sent of it.
 *
 * Transitions: start(), on_hello(), on_vector(), pump() (sends batches and
 * DONE), on_batch(), on_ack(), on_done(). Any malformed or unexpected
 * message, or a batch that fails verification, sends ERROR and fails.
 *
 * Batches are numbered 0, 1, ... per direction and session: a batch must
 * carry the next number (a duplicate or a reordered batch is refused before
 * the store sees it) and an ACK must name the oldest unacknowledged batch.
 * `sent` counts changes of acknowledged batches only, so a failed session
 * never reports as sent what the peer did not store. A batch holding a
 * change whose clock is more than WG_HLC_MAX_DRIFT_MS ahead of our wall
 * clock is refused (it would win every later edit for ever), audited once
 * per session as a clock_skew entry besides the failed session; a batch
 * that proves an equivocation is audited as an equivocation entry.
 */
#include "sync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg_cert.h"
#include "wg_change.h"
#include "wg_life.h"
#include "wg_schema.h"

enum state { S_START, S_WAIT_HELLO, S_WAIT_VECTOR, S_STREAM, S_DONE,
             S_FAILED };

/* One of this node's own feeds in the shared vector: what the peer is
 * known to hold of it (own_seen), what it says it holds, what we send. */
typedef struct own_item {
    char partition[WG_PARTITION_MAX + 1];
    uint64_t head;     /* ours */
    uint64_t seen;     /* wg_store_own_seen() at the vector */
    uint64_t theirs;   /* the peer's head in its VECTOR */
    uint64_t to;       /* what we sent up to (0: nothing) */
    uint64_t got;      /* the highest seq of it the peer sent us, applied */
} own_item;

typedef struct plan_item {
    uint8_t origin[WG_SIGN_PK_BYTES];
    char partition[WG_PARTITION_MAX + 1];
    uint64_t cursor;   /* last seq sent */
    uint64_t to;       /* our head */
    int rank;          /* order_plan() */
    own_item *own;     /* one of our own feeds the peer may hold another
                          tail of: sent once it has sent us what it holds
                          (own->got >= own->theirs), NULL otherwise */
} plan_item;


struct wg_session {
    wg_store *st;
    int is_client;
    enum state state;
    char name[WG_NAME_MAX + 1];
    uint8_t peer_key[WG_SIGN_PK_BYTES];
    wg_session_send_fn send;
    void *send_ctx;
    wg_msg_hello peer_hello;
    int in_network;                      /* this node joined a network */
    int peer_certified;                  /* peer_cert holds its certificate */
    wg_cert peer_cert;
    plan_item *plan;
    size_t nplan, plan_at;
    uint32_t next_batch, inflight;
    uint32_t inflight_n[WG_SYNC_CREDIT]; /* changes per unacked batch, by
                                            batch number mod credit */
    uint32_t next_in;                    /* the batch number we expect */
    int sent_done, got_done;
    int skew_audited;                    /* one clock_skew entry a session */
    long sent, received, refused;
    own_item *own;                       /* our own feeds, of the vector */
    size_t nown;
    wg_buf out;
};

/* ---- scopes -------------------------------------------------------------- */

/* A peer receives a partition only inside the area its own county and
 * role imply (wg_ident_area_contains: by the level of the code), whatever
 * wider prefixes its HELLO asks for. */
static int peer_wants(const wg_session *s, const char *partition)
{
    /* In a network, the peer's certificate decides, never its HELLO. */
    if (s->in_network &&
        (!s->peer_certified || !wg_cert_covers(&s->peer_cert, partition)))
        return 0;
    if (!wg_ident_area_contains(s->peer_hello.county,
                                (wg_role)s->peer_hello.role, partition))
        return 0;
    for (int i = 0; i < s->peer_hello.nscopes; i++) {
        const char *p = s->peer_hello.scopes[i];
        if (!strncmp(partition, p, strlen(p)))
            return 1;
    }
    return 0;
}

/* Shared: ours to hold and theirs to receive. */
static int shared(const wg_session *s, const char *partition)
{
    return wg_scope_contains(wg_store_info(s->st), partition) &&
           peer_wants(s, partition);
}

/* ---- vectors ------------------------------------------------------------- */

typedef struct vec_ctx {
    wg_session *s;
    wg_vec_entry *e;
    uint64_t *head;    /* our real head of each entry */
    size_t n, cap;
    wg_hash_state h;
} vec_ctx;

/* For each of this node's own feeds the vector says the lower of its head
 * and what the peer is known to hold of it (own_seen), so the peer sends
 * back whatever it holds beyond: equal there, skipped; different (an old
 * copy of this folder put back and written in), the store repairs its
 * feed (wg_store_apply). The digest is over the real heads and head
 * hashes on both sides, so the HELLO shortcut still ends a session only
 * when both hold exactly the same. */
static int on_feed(void *p, const wg_feed_head *f)
{
    vec_ctx *v = p;
    wg_session *s = v->s;
    if (!shared(s, f->partition) || f->frozen)
        return 0;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->e = wg_xrealloc(v->e, v->cap * sizeof *v->e);
        v->head = wg_xrealloc(v->head, v->cap * sizeof *v->head);
    }
    wg_vec_entry *e = &v->e[v->n];
    v->head[v->n++] = f->head;
    memcpy(e->origin, f->origin, WG_SIGN_PK_BYTES);
    snprintf(e->partition, sizeof e->partition, "%s", f->partition);
    e->head = f->head;
    if (!memcmp(f->origin, wg_store_info(s->st)->pk, WG_SIGN_PK_BYTES)) {
        s->own = wg_xrealloc(s->own, (s->nown + 1) * sizeof *s->own);
        own_item *o = &s->own[s->nown++];
        memset(o, 0, sizeof *o);
        snprintf(o->partition, sizeof o->partition, "%s", f->partition);
        o->head = f->head;
        o->seen = wg_store_own_seen(s->st, s->name, f->partition);
        if (o->seen < e->head)
            e->head = o->seen;
        o->got = o->seen < f->head ? o->seen : f->head;
    }
    uint8_t len = (uint8_t)strlen(f->partition), head[8];
    wg_put_u64be(head, f->head);
    wg_hash_update(&v->h, f->origin, WG_SIGN_PK_BYTES);
    wg_hash_update(&v->h, &len, 1);
    wg_hash_update(&v->h, f->partition, len);
    wg_hash_update(&v->h, head, 8);
    wg_hash_update(&v->h, f->head_hash, WG_HASH_BYTES);
    return 0;
}

/* Our feeds in the shared partitions, and their digest. Caller frees
 * v->e. */
static wg_rc our_vector(wg_session *s, vec_ctx *v, uint8_t digest[32],
                        wg_err *err)
{
    memset(v, 0, sizeof *v);
    v->s = s;
    s->nown = 0;
    wg_hash_init(&v->h);
    wg_rc rc = wg_store_feeds(s->st, on_feed, v, err);
    wg_hash_final(&v->h, digest);
    if (rc) {
        free(v->e);
        free(v->head);
        v->e = NULL;
        v->head = NULL;
    }
    return rc;
}

static void vec_free(vec_ctx *v)
{
    free(v->e);
    free(v->head);
}

/* The session ended well: the peer holds each of our own feeds up to its
 * head then (what it held, and what we sent and it acknowledged); SAME:
 * the digests matched, it holds exactly what we do. */
static void note_own_seen(wg_session *s, int same)
{
    for (size_t i = 0; i < s->nown; i++) {
        own_item *o = &s->own[i];
        uint64_t seq = same ? o->head : o->theirs > o->to ? o->theirs : o->to;
        wg_store_own_seen_set(s->st, s->name, o->partition, seq, NULL);
    }
}

/* ---- sending --------------------------------------------------------------- */

static wg_rc flush(wg_session *s, wg_err *err)
{
    wg_rc rc = s->send(s->send_ctx, s->out.data, s->out.len);
    if (rc)
        return wg_err_set(err, WG_ERR_PEER, "cannot send to %s", s->name);
    return WG_OK;
}

static wg_rc fail(wg_session *s, wg_rc code, const char *text, wg_err *err)
{
    /* The wire carries at most 255 bytes of reason: a translated one (three
     * bytes a Chinese character) is cut at a character boundary, not lost. */
    char cut[256];
    size_t n = strlen(text);
    if (n >= sizeof cut) {
        n = sizeof cut - 1;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(cut, text, n);
    cut[n] = 0;
    wg_buf_reset(&s->out);
    if (wg_wire_error(&s->out, (uint16_t)code, cut, NULL) == WG_OK)
        s->send(s->send_ctx, s->out.data, s->out.len);
    s->state = S_FAILED;
    return wg_err_set(err, code, "%s", text);
}

static wg_rc send_hello(wg_session *s, const uint8_t digest[32],
                        uint32_t nfeeds, wg_err *err)
{
    const wg_node_info *me = wg_store_info(s->st);
    wg_msg_hello h;
    memset(&h, 0, sizeof h);
    h.proto_min = WG_WIRE_VERSION_MIN;
    h.proto_max = WG_WIRE_VERSION;
    h.schema_min = WG_SCHEMA_MIN;
    h.schema_max = WG_SCHEMA_VERSION;
    memcpy(h.node, me->pk, WG_SIGN_PK_BYTES);
    snprintf(h.name, sizeof h.name, "%s", me->name);
    snprintf(h.county, sizeof h.county, "%s", me->county);
    h.role = (uint8_t)me->role;
    h.nscopes = 1;
    if (wg_ident_area_prefix(me->county, me->role, h.scopes[0]) < 0)
        return wg_err_set(err, WG_ERR_INTERNAL, "this node's county '%s' is "
                          "not a division code", me->county);
    if (digest)
        memcpy(h.digest, digest, 32);
    h.nfeeds = nfeeds;
    wg_buf_reset(&s->out);
    wg_rc rc = wg_wire_hello(&s->out, &h, err);
    return rc ? rc : flush(s, err);
}

/* Batch building: append changes of one feed until a limit, remembering the
 * last signed change so the batch can be cut there. */
typedef struct batch_ctx {
    wg_buf *out;
    uint32_t count, limit;
    size_t signed_len;
    uint32_t signed_count;
    uint64_t signed_seq;
    wg_rc rc;
    int bytes_limited;
} batch_ctx;

static int on_change(void *p, const wg_signed_change *c, uint64_t seq)
{
    batch_ctx *b = p;
    if ((b->rc = wg_wire_batch_add(b->out, c, NULL)))
        return 1;
    b->count++;
    if (c->has_sig) {
        b->signed_len = b->out->len;
        b->signed_count = b->count;
        b->signed_seq = seq;
    }
    if (b->out->len >= WG_WIRE_MAX_BATCH_BYTES && b->signed_seq) {
        b->bytes_limited = 1;
        return 1;
    }
    /* The first segment of a batch may run to WG_WIRE_MAX_BATCH_CHANGES
     * only to reach a signature: once it holds one, WG_BATCH_CHANGES is
     * the bound (without this, every batch of a long feed held 2048). */
    if (b->count >= WG_BATCH_CHANGES && b->signed_seq)
        return 1;
    return b->count >= b->limit;
}

typedef struct head_ctx {
    const uint8_t *me;
    const char *partition;
    uint64_t head;
} head_ctx;

static int on_own_head(void *p, const wg_feed_head *f)
{
    head_ctx *h = p;
    if (!memcmp(f->origin, h->me, WG_SIGN_PK_BYTES) &&
        !strcmp(f->partition, h->partition)) {
        h->head = f->head;
        return 1;
    }
    return 0;
}

/* Our own feed PARTITION's head now. */
static uint64_t own_head(wg_session *s, const char *partition)
{
    head_ctx h = { wg_store_info(s->st)->pk, partition, 0 };
    wg_store_feeds(s->st, on_own_head, &h, NULL);
    return h.head;
}

/* A batch of N changes was applied: note how far the peer has sent each of
 * our own feeds that waits to be heard. */
static void heard(wg_session *s, const wg_signed_change *c, uint32_t n)
{
    int waiting = 0;
    for (size_t i = s->plan_at; i < s->nplan; i++)
        waiting |= s->plan[i].own != NULL;
    if (!waiting)
        return;
    const uint8_t *me = wg_store_info(s->st)->pk;
    for (uint32_t i = 0; i < n; i++) {
        wg_change d;
        if (wg_change_decode(c[i].body, c[i].len, &d, NULL) != WG_OK ||
            memcmp(d.origin, me, WG_SIGN_PK_BYTES))
            continue;
        for (size_t j = 0; j < s->nown; j++)
            if (!strcmp(s->own[j].partition, d.partition) &&
                d.seq > s->own[j].got)
                s->own[j].got = d.seq;
    }
}

/* Build and send one batch; *SENT_ANY is 0 when there was nothing left. */
static wg_rc send_batch(wg_session *s, int *sent_any, wg_err *err)
{
    *sent_any = 0;
    wg_buf_reset(&s->out);
    wg_rc rc = wg_wire_batch_begin(&s->out, s->next_batch, err);
    if (rc)
        return rc;
    uint32_t count = 0;
    while (s->plan_at < s->nplan && count < WG_BATCH_CHANGES &&
           s->out.len < WG_WIRE_MAX_BATCH_BYTES) {
        plan_item *p = &s->plan[s->plan_at];
        if (p->own && p->own->got < p->own->theirs && s->got_done) {
            /* The peer is done without sending what it said it holds:
             * nothing of this feed goes this session. */
            p->own->to = 0;
            p->own = NULL;
            p->to = p->cursor;
        }
        if (p->own) {
            if (p->own->got < p->own->theirs)
                break; /* not heard yet: what is left waits */
            /* Heard: the peer holds this feed as we do up to its head;
             * the rest goes. */
            p->to = own_head(s, p->partition);
            p->own->to = p->to > p->cursor ? p->to : 0;
            p->own = NULL;
        }
        if (p->cursor >= p->to) {
            s->plan_at++;
            continue;
        }
        size_t start_len = s->out.len;
        batch_ctx b = { &s->out, count, WG_BATCH_CHANGES, start_len, count, 0,
                        WG_OK, 0 };
        /* A lone feed segment may need more room to reach a signature. */
        if (count == 0)
            b.limit = WG_WIRE_MAX_BATCH_CHANGES;
        uint64_t want = p->to - p->cursor;
        rc = wg_store_feed_read(s->st, p->origin, p->partition, p->cursor,
                                (size_t)(want < b.limit - count ? want
                                                                : b.limit - count),
                                on_change, &b, err);
        if (rc)
            return rc;
        if (b.rc)
            return wg_err_set(err, b.rc, "cannot build a batch");
        if (!b.signed_seq) {
            s->out.len = start_len;
            if (count == 0)
                return wg_err_set(err, WG_ERR_CORRUPT,
                                  "feed %s has no signature within %d changes",
                                  p->partition, WG_WIRE_MAX_BATCH_CHANGES);
            break; /* send what we have; this feed goes next time */
        }
        s->out.len = b.signed_len;
        count = b.signed_count;
        p->cursor = b.signed_seq;
        if (p->cursor < p->to)
            break; /* a limit was reached inside this feed */
    }
    if (count == 0)
        return WG_OK;
    if ((rc = wg_wire_batch_finish(&s->out, count, err)) ||
        (rc = flush(s, err)))
        return rc;
    /* Counted as sent only once acknowledged (on_ack): a batch the peer
     * never stored must not show in our account of what it holds. */
    s->inflight_n[s->next_batch % WG_SYNC_CREDIT] = count;
    s->next_batch++;
    s->inflight++;
    *sent_any = 1;
    return WG_OK;
}

static wg_rc pump(wg_session *s, wg_err *err)
{
    while (s->state == S_STREAM && s->inflight < WG_SYNC_CREDIT) {
        int any = 0;
        wg_err berr = { 0 };
        wg_rc rc = send_batch(s, &any, &berr);
        if (rc)
            return fail(s, rc, berr.msg, err);
        if (!any)
            break;
    }
    if (s->state == S_STREAM && s->plan_at >= s->nplan && s->inflight == 0 &&
        !s->sent_done) {
        wg_buf_reset(&s->out);
        wg_rc rc = wg_wire_done(&s->out, (uint64_t)s->sent, err);
        if (rc || (rc = flush(s, err)))
            return rc;
        s->sent_done = 1;
    }
    if (s->sent_done && s->got_done) {
        s->state = S_DONE;
        note_own_seen(s, 0);
    }
    return WG_OK;
}

/* ---- receiving ------------------------------------------------------------ */

/* In a network, feeds are sent from the root down the tree (by the depth
 * of their origin's certificate), so every certificate reaches the peer
 * before the changes it vouches for. */
static int plan_rank(const wg_members *m, const uint8_t *origin)
{
    const wg_cert *c = wg_members_lookup(m, origin);
    for (int depth = 0; c && depth < WG_CERT_MAX_DEPTH; depth++) {
        if (!memcmp(c->issuer, c->subject, WG_SIGN_PK_BYTES))
            return depth;
        c = wg_members_lookup(m, c->issuer);
    }
    return WG_CERT_MAX_DEPTH + 1;
}

static int by_rank(const void *a, const void *b)
{
    const plan_item *x = a, *y = b;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

static void order_plan(wg_session *s)
{
    wg_members *m = NULL;
    if (!wg_store_root(s->st, NULL) || s->nplan < 2 ||
        wg_members_load(s->st, &m, NULL) != WG_OK) {
        wg_members_destroy(&m);
        return;
    }
    for (size_t i = 0; i < s->nplan; i++)
        s->plan[i].rank = plan_rank(m, s->plan[i].origin) * 1000000 + (int)i;
    qsort(s->plan, s->nplan, sizeof *s->plan, by_rank);
    wg_members_destroy(&m);
}

static wg_rc make_plan(wg_session *s, const wg_vec_entry *theirs, uint32_t n,
                       const vec_ctx *ours)
{
    s->plan = wg_xcalloc(ours->n ? ours->n : 1, sizeof *s->plan);
    s->nplan = 0;
    const uint8_t *me = wg_store_info(s->st)->pk;
    for (size_t i = 0; i < ours->n; i++) {
        const wg_vec_entry *o = &ours->e[i];
        uint64_t have = 0, head = ours->head[i];
        for (uint32_t j = 0; j < n; j++)
            if (!memcmp(theirs[j].origin, o->origin, WG_SIGN_PK_BYTES) &&
                !strcmp(theirs[j].partition, o->partition)) {
                have = theirs[j].head;
                break;
            }
        if (!memcmp(o->origin, me, WG_SIGN_PK_BYTES)) {
            own_item *ow = NULL;
            for (size_t j = 0; j < s->nown && !ow; j++)
                if (!strcmp(s->own[j].partition, o->partition))
                    ow = &s->own[j];
            if (!ow)
                continue;
            ow->theirs = have;
            /* The peer may hold a tail of this feed other than ours (an
             * old copy of this folder put back): nothing of it, nor of the
             * feeds after it in the plan (their certificates may be in
             * it), goes until the peer has sent us what it holds (seen +
             * 1 .. have, each found the same or repaired here). Both sides
             * order their plans alike (by key, and root first in a
             * network), so two such waits never wait for each other. */
            if (have > ow->seen) {
                plan_item *p = &s->plan[s->nplan++];
                memcpy(p->origin, o->origin, WG_SIGN_PK_BYTES);
                snprintf(p->partition, sizeof p->partition, "%s",
                         o->partition);
                p->cursor = have;
                p->to = have;   /* set again once it has been heard */
                p->own = ow;
                continue;
            }
            if (head > have)
                ow->to = head;
        }
        if (head > have) {
            plan_item *p = &s->plan[s->nplan++];
            memcpy(p->origin, o->origin, WG_SIGN_PK_BYTES);
            snprintf(p->partition, sizeof p->partition, "%s", o->partition);
            p->cursor = have;
            p->to = head;
        }
    }
    order_plan(s);
    return WG_OK;
}

static wg_rc on_hello(wg_session *s, const wg_msg_hello *h, wg_err *err)
{
    /* Nodes sync when their ranges overlap: a node keeps and relays
     * what a newer schema wrote (wg_change.h), so a federation upgrades
     * one office at a time. */
    if (h->proto_max < WG_WIRE_VERSION_MIN || h->proto_min > WG_WIRE_VERSION ||
        h->schema_max < WG_SCHEMA_MIN || h->schema_min > WG_SCHEMA_VERSION) {
        char text[200];
        snprintf(text, sizeof text, "peer speaks protocol %u..%u and schema "
                 "%u..%u, this node protocol %d..%d and schema %d..%d: "
                 "upgrade the older node", h->proto_min, h->proto_max,
                 h->schema_min, h->schema_max, WG_WIRE_VERSION_MIN,
                 WG_WIRE_VERSION, WG_SCHEMA_MIN, WG_SCHEMA_VERSION);
        return fail(s, WG_ERR_PROTO, text, err);
    }
    s->peer_hello = *h;
    uint8_t root[WG_SIGN_PK_BYTES];
    s->in_network = wg_store_root(s->st, root);
    if (s->in_network) {
        wg_members *m = NULL;
        const wg_cert *c = NULL;
        if (wg_members_load(s->st, &m, NULL) == WG_OK &&
            wg_members_check(m, root, s->peer_key, (uint64_t)time(NULL), &c,
                             NULL) == WG_OK && c) {
            s->peer_cert = *c;
            s->peer_certified = 1;
        }
        wg_members_destroy(&m);
    }
    vec_ctx v;
    uint8_t digest[32];
    wg_rc rc = our_vector(s, &v, digest, err);
    if (rc)
        return fail(s, rc, "cannot read our feeds", err);
    if (!s->is_client) {
        rc = send_hello(s, digest, (uint32_t)v.n, err);
        s->state = S_WAIT_VECTOR;
    } else if (wg_equal(digest, h->digest, 32)) {
        wg_buf_reset(&s->out);
        rc = wg_wire_bye(&s->out, err);
        if (rc == WG_OK)
            rc = flush(s, err);
        s->state = S_DONE;
        if (rc == WG_OK)
            note_own_seen(s, 1);
    } else {
        wg_buf_reset(&s->out);
        rc = wg_wire_vector(&s->out, v.e, (uint32_t)v.n, err);
        if (rc == WG_OK)
            rc = flush(s, err);
        s->state = S_WAIT_VECTOR;
    }
    vec_free(&v);
    return rc;
}

static wg_rc on_vector(wg_session *s, const wg_msg *m, wg_err *err)
{
    vec_ctx v;
    uint8_t digest[32];
    wg_rc rc = our_vector(s, &v, digest, err);
    if (rc)
        return fail(s, rc, "cannot read our feeds", err);
    if (!s->is_client) {
        wg_buf_reset(&s->out);
        rc = wg_wire_vector(&s->out, v.e, (uint32_t)v.n, err);
        if (rc == WG_OK)
            rc = flush(s, err);
    }
    if (rc == WG_OK)
        rc = make_plan(s, m->u.vector.e, m->u.vector.n, &v);
    vec_free(&v);
    if (rc)
        return rc;
    s->state = S_STREAM;
    return pump(s, err);
}

static void audit_skew(wg_session *s, uint32_t no, uint32_t n,
                       uint64_t ahead_ms)
{
    char hex[WG_KEY_HEX_CHARS + 1], reason[256];
    wg_hex_encode(hex, s->peer_key, WG_SIGN_PK_BYTES);
    snprintf(reason, sizeof reason, "batch %u: a change with a clock %llu s "
             "ahead of this node's (over the %d s allowed): refused, held at "
             "the sender until the clocks agree", no,
             (unsigned long long)(ahead_ms / 1000), WG_HLC_MAX_DRIFT_MS / 1000);
    wg_audit_entry a = { 0 };
    a.event = "clock_skew";
    a.peer = s->name;
    a.peer_key = hex;
    a.direction = s->is_client ? "out" : "in";
    a.refused = n;
    a.result = "failed";
    a.reason = reason;
    wg_store_audit(s->st, &a, NULL);
}

/* A feed frozen on proof: audited with the origin, the seq, both hashes,
 * and the peer that relayed the proof. */
static void audit_equivocation(wg_session *s, const wg_proof *p)
{
    char hex[WG_KEY_HEX_CHARS + 1], origin[17], held[17], other[17];
    char reason[256];
    wg_hex_encode(hex, s->peer_key, WG_SIGN_PK_BYTES);
    wg_hex_encode(origin, p->origin, 8);
    wg_hex_encode(held, p->held, 8);
    wg_hex_encode(other, p->other, 8);
    snprintf(reason, sizeof reason, "origin %s signed two different changes "
             "at %s#%llu (held %s, received %s): its feed is frozen, the "
             "proof kept (wings status)", origin, p->partition,
             (unsigned long long)p->seq, held, other);
    wg_audit_entry a = { 0 };
    a.event = "equivocation";
    a.peer = s->name;
    a.peer_key = hex;
    a.direction = s->is_client ? "out" : "in";
    a.refused = 1;
    a.result = "failed";
    a.reason = reason;
    wg_store_audit(s->st, &a, NULL);
}

static wg_rc on_batch(wg_session *s, const wg_msg *m, wg_err *err)
{
    /* Batches are numbered 0, 1, 2, ... within a session. A batch seen
     * again or one that skips ahead is not from an honest sender: refuse
     * it before the store sees it (a replay across sessions restarts at 0
     * and is harmless: the store skips what it holds). */
    if (m->u.batch.no != s->next_in) {
        char text[128];
        s->refused += m->u.batch.n;
        snprintf(text, sizeof text, "batch %u %s (expected batch %u)",
                 m->u.batch.no, m->u.batch.no < s->next_in
                                    ? "received twice" : "out of order",
                 s->next_in);
        return fail(s, WG_ERR_PROTO, text, err);
    }
    size_t applied = 0;
    wg_err aerr = { 0 };
    wg_store_apply_peer(s->st, s->name);
    wg_rc rc = wg_store_apply(s->st, m->u.batch.c, m->u.batch.n, &applied,
                              &aerr);
    wg_store_apply_peer(s->st, NULL);
    if (rc) {
        s->refused += m->u.batch.n;
        wg_proof proof;
        uint64_t ahead;
        uint32_t nskew = wg_store_apply_skew(s->st, &ahead);
        if (wg_store_apply_froze(s->st, &proof))
            audit_equivocation(s, &proof);
        if (nskew && !s->skew_audited) {
            s->skew_audited = 1;
            audit_skew(s, m->u.batch.no, nskew, ahead);
        }
        char text[256];
        snprintf(text, sizeof text, "batch %u refused: %.200s",
                 m->u.batch.no, aerr.msg);
        /* A store that cannot write is our failure, not the peer's. */
        return fail(s, rc, text, err);
    }
    heard(s, m->u.batch.c, m->u.batch.n);
    s->next_in++;
    s->received += (long)applied;
    wg_buf_reset(&s->out);
    if ((rc = wg_wire_ack(&s->out, m->u.batch.no, (uint32_t)applied, err)) ||
        (rc = flush(s, err)))
        return rc;
    return pump(s, err);
}

static wg_rc on_ack(wg_session *s, const wg_msg *m, wg_err *err)
{
    if (s->inflight == 0)
        return fail(s, WG_ERR_PROTO, "acknowledgement of nothing", err);
    uint32_t oldest = s->next_batch - s->inflight;
    if (m->u.ack.no != oldest) {
        char text[128];
        snprintf(text, sizeof text, "acknowledgement of batch %u (expected "
                 "batch %u)", m->u.ack.no, oldest);
        return fail(s, WG_ERR_PROTO, text, err);
    }
    s->sent += s->inflight_n[oldest % WG_SYNC_CREDIT];
    s->inflight--;
    return pump(s, err);
}

wg_rc wg_session_receive(wg_session *s, const uint8_t *p, size_t n,
                         wg_err *err)
{
    if (s->state == S_DONE || s->state == S_FAILED)
        return wg_err_set(err, WG_ERR_PROTO, "message after the session ended");
    wg_msg m;
    wg_err derr = { 0 };
    wg_rc rc = wg_wire_decode(p, n, &m, &derr);
    if (rc)
        return fail(s, WG_ERR_PROTO, derr.msg, err);
    if (m.type == WG_MSG_ERROR) {
        rc = wg_err_set(err, WG_ERR_PEER, "%s reported: %s", s->name,
                        m.u.error.text);
        s->state = S_FAILED;
        wg_msg_release(&m);
        return rc;
    }
    char unexpected[96];
    snprintf(unexpected, sizeof unexpected, "unexpected %s message",
             wg_wire_type_name(m.type));
    switch (s->state) {
    case S_START:
        if (!s->is_client && m.type == WG_MSG_HELLO)
            rc = on_hello(s, &m.u.hello, err);
        else
            rc = fail(s, WG_ERR_PROTO, unexpected, err);
        break;
    case S_WAIT_HELLO:
        rc = m.type == WG_MSG_HELLO ? on_hello(s, &m.u.hello, err)
                                    : fail(s, WG_ERR_PROTO, unexpected, err);
        break;
    case S_WAIT_VECTOR:
        if (m.type == WG_MSG_VECTOR)
            rc = on_vector(s, &m, err);
        else if (m.type == WG_MSG_BYE && !s->is_client)
            s->state = S_DONE; /* own_seen kept: the peer's word only */
        else
            rc = fail(s, WG_ERR_PROTO, unexpected, err);
        break;
    case S_STREAM:
        if (m.type == WG_MSG_BATCH) {
            rc = on_batch(s, &m, err);
        } else if (m.type == WG_MSG_ACK) {
            rc = on_ack(s, &m, err);
        } else if (m.type == WG_MSG_DONE && !s->got_done) {
            s->got_done = 1;
            rc = pump(s, err);
        } else {
            rc = fail(s, WG_ERR_PROTO, unexpected, err);
        }
        break;
    default:
        rc = fail(s, WG_ERR_PROTO, unexpected, err);
    }
    wg_msg_release(&m);
    return rc;
}

/* ---- life cycle ------------------------------------------------------------- */

wg_session *wg_session_new(wg_store *st, int is_client, const char *name,
                           const uint8_t peer_key[WG_SIGN_PK_BYTES],
                           wg_session_send_fn send, void *ctx)
{
    wg_session *s = wg_xcalloc(1, sizeof *s);
    s->st = st;
    s->is_client = is_client;
    snprintf(s->name, sizeof s->name, "%s", name);
    memcpy(s->peer_key, peer_key, WG_SIGN_PK_BYTES);
    s->send = send;
    s->send_ctx = ctx;
    s->state = S_START;
    wg_buf_init(&s->out, WG_WIRE_MAX_MSG);
    return s;
}

void wg_session_destroy(wg_session **sp)
{
    if (!sp || !*sp)
        return;
    wg_session *s = *sp;
    free(s->plan);
    free(s->own);
    wg_buf_release(&s->out);
    free(s);
    *sp = NULL;
}

wg_rc wg_session_start(wg_session *s, wg_err *err)
{
    wg_rc rc = send_hello(s, NULL, 0, err);
    if (rc == WG_OK)
        s->state = S_WAIT_HELLO;
    return rc;
}

int wg_session_finished(const wg_session *s) { return s->state == S_DONE; }
long wg_session_sent(const wg_session *s) { return s->sent; }
long wg_session_received(const wg_session *s) { return s->received; }
long wg_session_refused(const wg_session *s) { return s->refused; }
const char *wg_session_name(const wg_session *s) { return s->name; }
const uint8_t *wg_session_peer_key(const wg_session *s) { return s->peer_key; }
