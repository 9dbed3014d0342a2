/*
 * check_wire.c - unit suite for sync/wire.c
 *
 * Every message type round-trips with all fields compared; a few messages
 * are checked byte for byte against the layout in wg_wire.h; every malformed
 * frame (each truncation point, each bad field, trailing bytes, hostile
 * counts) is refused with WG_ERR_PROTO and leaves nothing allocated; and the
 * encoders refuse what the decoder would refuse. Malformed frames are built
 * by hand, byte by byte, so they do not depend on the encoders under test.
 * Run it under ASan too (WINGS_SANITIZE): truncated frames are passed in
 * heap blocks of exactly their length so an overread is caught.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wg_change.h"
#include "wg_wire.h"

#define SENTINEL_CODE ((wg_rc)77)

/* ---- helpers ---------------------------------------------------------- */

static void err_reset(wg_err *e)
{
    e->code = SENTINEL_CODE;
    strcpy(e->msg, "untouched");
}

static void buf_new(wg_buf *b)
{
    wg_buf_init(b, WG_WIRE_MAX_MSG);
}

static void ck_ok(wg_rc rc, const wg_err *e)
{
    ck_assert_msg(rc == WG_OK, "failed (%d): %s", rc, e->msg);
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* Decode a heap copy of exactly N bytes of P, so ASan sees any overread. */
static wg_rc decode_exact(const uint8_t *p, size_t n, wg_msg *m, wg_err *e)
{
    uint8_t *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    if (n)
        memcpy(copy, p, n);
    wg_rc rc = wg_wire_decode(copy, n, m, e);
    /* Batch bodies borrow the frame: only failures may free it here. */
    ck_assert_msg(rc != WG_OK || m->type != WG_MSG_BATCH,
                  "decode_exact is for frames that fail or hold no batch");
    free(copy);
    return rc;
}

/* The frame P (N bytes) is refused with WG_ERR_PROTO, a message containing
 * WANT (when not NULL), and M left all zeros. */
static void reject_at(const char *file, int line, const uint8_t *p, size_t n,
                      const char *want)
{
    wg_msg m;
    wg_err e;
    err_reset(&e);
    memset(&m, 0xa5, sizeof m);
    wg_rc rc = decode_exact(p, n, &m, &e);
    ck_assert_msg(rc == WG_ERR_PROTO, "%s:%d: %zu-byte frame gave rc %d (%s)",
                  file, line, n, rc, e.msg);
    ck_assert_msg(e.code == WG_ERR_PROTO, "%s:%d: err.code %d", file, line,
                  e.code);
    ck_assert_msg(e.msg[0] != '\0' && strcmp(e.msg, "untouched") != 0,
                  "%s:%d: no message", file, line);
    if (want)
        ck_assert_msg(strstr(e.msg, want) != NULL,
                      "%s:%d: message '%s' lacks '%s'", file, line, e.msg,
                      want);
    ck_assert_msg(all_zero(&m, sizeof m), "%s:%d: message not zeroed", file,
                  line);
    wg_msg_release(&m);
}
#define reject(b, want) reject_at(__FILE__, __LINE__, (b)->data, (b)->len, want)
#define reject_raw(p, n, want) reject_at(__FILE__, __LINE__, p, n, want)

static void refuse_at(const char *file, int line, wg_rc rc, const wg_err *e,
                      const wg_buf *b, size_t len_before)
{
    ck_assert_msg(rc == WG_ERR_INVALID, "%s:%d: encoder gave rc %d", file,
                  line, rc);
    ck_assert_msg(e->code == WG_ERR_INVALID && e->msg[0] != '\0',
                  "%s:%d: err not filled", file, line);
    ck_assert_msg(b->len == len_before, "%s:%d: buffer changed (%zu -> %zu)",
                  file, line, len_before, b->len);
}
#define refused(rc, e, b, len) refuse_at(__FILE__, __LINE__, rc, e, b, len)

/* Raw pieces for hand-built frames. */
static void put(wg_buf *b, const void *p, size_t n)
{
    ck_assert_int_eq(wg_buf_append(b, p, n, NULL), WG_OK);
}
static void put8(wg_buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(wg_buf *b, uint16_t v)
{
    ck_assert_int_eq(wg_buf_append_u16(b, v, NULL), WG_OK);
}
static void put32(wg_buf *b, uint32_t v)
{
    ck_assert_int_eq(wg_buf_append_u32(b, v, NULL), WG_OK);
}
static void put64(wg_buf *b, uint64_t v)
{
    ck_assert_int_eq(wg_buf_append_u64(b, v, NULL), WG_OK);
}
static void putstr(wg_buf *b, const char *s, size_t n)
{
    put8(b, (uint8_t)n);
    put(b, s, n);
}
static void puthdr(wg_buf *b, uint8_t type)
{
    put8(b, WG_WIRE_MAGIC);
    put8(b, WG_WIRE_VERSION);
    put8(b, type);
}
static void putfill(wg_buf *b, uint8_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(b, v);
}

/* A hand-built hello; the string fields as given (with their lengths), so a
 * test can break any one of them. */
typedef struct raw_hello {
    const char *name; size_t namelen;
    const char *county; size_t countylen;
    uint8_t role;
    unsigned nscopes;
    const char *scope;          /* every scope is this one */
} raw_hello;

static const raw_hello GOOD = { "office-1", 8, "450102", 6, 0, 2, "45" };

static void build_hello(wg_buf *b, const raw_hello *h)
{
    wg_buf_reset(b);
    puthdr(b, WG_MSG_HELLO);
    put8(b, 2);
    put8(b, 3);
    put16(b, 7);
    put16(b, 8);
    putfill(b, 0x11, WG_SIGN_PK_BYTES);
    putstr(b, h->name, h->namelen);
    putstr(b, h->county, h->countylen);
    put8(b, h->role);
    put8(b, (uint8_t)h->nscopes);
    for (unsigned i = 0; i < h->nscopes; i++)
        putstr(b, h->scope, strlen(h->scope));
    putfill(b, 0x22, WG_HASH_BYTES);
    put32(b, 9);
}

static void build_vector_one(wg_buf *b, const char *part, size_t partlen)
{
    wg_buf_reset(b);
    puthdr(b, WG_MSG_VECTOR);
    put32(b, 1);
    putfill(b, 0x33, WG_SIGN_PK_BYTES);
    putstr(b, part, partlen);
    put64(b, 42);
}

/* A batch of one change of LEN bytes (all 0x5a), with flag HAS_SIG and, when
 * it is 1, a signature. */
static void build_batch_one(wg_buf *b, uint32_t len, uint8_t has_sig)
{
    wg_buf_reset(b);
    puthdr(b, WG_MSG_BATCH);
    put32(b, 1);
    put32(b, 1);
    put32(b, len);
    putfill(b, 0x5a, len);
    put8(b, has_sig);
    if (has_sig == 1)
        putfill(b, 0x66, WG_SIG_BYTES);
}

static void build_error(wg_buf *b, const char *text, size_t n)
{
    wg_buf_reset(b);
    puthdr(b, WG_MSG_ERROR);
    put16(b, WG_ERR_PROTO);
    put16(b, (uint16_t)n);
    put(b, text, n);
}

static void sample_hello(wg_msg_hello *h)
{
    memset(h, 0, sizeof *h);
    h->proto_min = 2;
    h->proto_max = 0xfe;
    h->schema_min = 0xbeef;
    h->schema_max = 0xbef0;
    for (int i = 0; i < WG_SIGN_PK_BYTES; i++)
        h->node[i] = (uint8_t)(i * 7 + 1);
    strcpy(h->name, "Office_7.north-B");
    strcpy(h->county, "450102");
    h->role = WG_ROLE_HQ;
    h->nscopes = 4;
    strcpy(h->scopes[0], "45");
    strcpy(h->scopes[1], "");
    strcpy(h->scopes[2], "450102");
    strcpy(h->scopes[3], "4");
    for (int i = 0; i < WG_HASH_BYTES; i++)
        h->digest[i] = (uint8_t)(255 - i);
    h->nfeeds = 0xdeadbeef;
}

static void ck_hello_eq(const wg_msg_hello *a, const wg_msg_hello *b)
{
    ck_assert_uint_eq(a->proto_min, b->proto_min);
    ck_assert_uint_eq(a->proto_max, b->proto_max);
    ck_assert_uint_eq(a->schema_min, b->schema_min);
    ck_assert_uint_eq(a->schema_max, b->schema_max);
    ck_assert_mem_eq(a->node, b->node, WG_SIGN_PK_BYTES);
    ck_assert_str_eq(a->name, b->name);
    ck_assert_str_eq(a->county, b->county);
    ck_assert_uint_eq(a->role, b->role);
    ck_assert_uint_eq(a->nscopes, b->nscopes);
    for (unsigned i = 0; i < a->nscopes; i++)
        ck_assert_str_eq(a->scopes[i], b->scopes[i]);
    ck_assert_mem_eq(a->digest, b->digest, WG_HASH_BYTES);
    ck_assert_uint_eq(a->nfeeds, b->nfeeds);
}

/* Decode B, which must succeed without touching err, into M. */
static void decode_ok(const wg_buf *b, wg_msg *m, uint8_t type)
{
    wg_err e;
    err_reset(&e);
    ck_ok(wg_wire_decode(b->data, b->len, m, &e), &e);
    ck_assert_msg(e.code == SENTINEL_CODE && !strcmp(e.msg, "untouched"),
                  "err written on success");
    ck_assert_uint_eq(m->version, WG_WIRE_VERSION);
    ck_assert_uint_eq(m->type, type);
}

/* ---- round trips ------------------------------------------------------ */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_roundtrip = {"roundtrip", NULL, NULL, 0};
static const tu_case case_layout = {"layout", NULL, NULL, 0};
static const tu_case case_malformed = {"malformed", NULL, NULL, 60};
static const tu_case case_encoders = {"encoders", NULL, NULL, 60};

START_TEST(test_wire_hello_round_trips)
{
    wg_msg_hello h;
    wg_buf b;
    wg_msg m;
    wg_err e;
    sample_hello(&h);
    buf_new(&b);
    err_reset(&e);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    ck_assert_int_eq(e.code, SENTINEL_CODE);
    /* 3 + 1+1+2+2 + 32 + (1+16) + (1+6) + 1 + 1
     *   + (1+2)+(1+0)+(1+6)+(1+1) + 32 + 4 */
    ck_assert_uint_eq(b.len, 3 + 6 + 32 + 17 + 7 + 1 + 1 + 13 + 32 + 4);
    decode_ok(&b, &m, WG_MSG_HELLO);
    ck_hello_eq(&m.u.hello, &h);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_hello_at_every_bound_round_trips)
{
    wg_msg_hello h;
    wg_buf b;
    wg_msg m;
    wg_err e;
    memset(&h, 0, sizeof h);
    memset(h.name, 'z', WG_NAME_MAX);
    h.name[0] = '-';
    h.name[WG_NAME_MAX - 1] = '.';
    strcpy(h.county, "000000");
    h.role = WG_ROLE_OFFICE;
    h.nscopes = WG_WIRE_MAX_SCOPES;
    for (int i = 0; i < WG_WIRE_MAX_SCOPES; i++)
        snprintf(h.scopes[i], sizeof h.scopes[i], "%06d", i * 1111);
    h.proto_min = h.proto_max = 0xff;
    h.schema_min = h.schema_max = 0xffff;
    h.nfeeds = UINT32_MAX;
    buf_new(&b);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    decode_ok(&b, &m, WG_MSG_HELLO);
    ck_hello_eq(&m.u.hello, &h);
    wg_msg_release(&m);

    /* and with no scopes at all */
    h.nscopes = 0;
    wg_buf_reset(&b);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    decode_ok(&b, &m, WG_MSG_HELLO);
    ck_hello_eq(&m.u.hello, &h);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_vector_round_trips)
{
    wg_vec_entry v[3];
    wg_buf b;
    wg_msg m;
    wg_err e;
    memset(v, 0, sizeof v);
    for (int i = 0; i < 3; i++)
        memset(v[i].origin, 0x10 * (i + 1), WG_SIGN_PK_BYTES);
    strcpy(v[0].partition, "450102");
    strcpy(v[1].partition, "x");
    strcpy(v[2].partition, "!~abcdefghijklmn");      /* 16, both ends */
    v[0].head = 1;
    v[1].head = 0;
    v[2].head = UINT64_MAX;
    buf_new(&b);
    ck_ok(wg_wire_vector(&b, v, 3, &e), &e);
    ck_assert_uint_eq(b.len, 3 + 4 + 3 * (32 + 1 + 8) + 6 + 1 + 16);
    decode_ok(&b, &m, WG_MSG_VECTOR);
    ck_assert_uint_eq(m.u.vector.n, 3);
    ck_assert_ptr_nonnull(m.u.vector.e);
    for (int i = 0; i < 3; i++) {
        ck_assert_mem_eq(m.u.vector.e[i].origin, v[i].origin,
                         WG_SIGN_PK_BYTES);
        ck_assert_str_eq(m.u.vector.e[i].partition, v[i].partition);
        ck_assert_uint_eq(m.u.vector.e[i].head, v[i].head);
    }
    wg_msg_release(&m);
    ck_assert_ptr_null(m.u.vector.e);
    wg_msg_release(&m);                 /* releasing twice is harmless */
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_empty_vector_round_trips)
{
    wg_buf b;
    wg_msg m;
    wg_err e;
    buf_new(&b);
    ck_ok(wg_wire_vector(&b, NULL, 0, &e), &e);
    ck_assert_uint_eq(b.len, 7);
    decode_ok(&b, &m, WG_MSG_VECTOR);
    ck_assert_uint_eq(m.u.vector.n, 0);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_batch_of_three_round_trips)
{
    uint8_t body0[] = { 1 };
    uint8_t body1[300];
    uint8_t body2[] = { 9, 8, 7, 6, 5 };
    wg_signed_change c[3];
    wg_buf b;
    wg_msg m;
    wg_err e;
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < sizeof body1; i++)
        body1[i] = (uint8_t)i;
    c[0].body = body0; c[0].len = sizeof body0; c[0].has_sig = 0;
    c[1].body = body1; c[1].len = sizeof body1; c[1].has_sig = 1;
    memset(c[1].sig, 0xc1, WG_SIG_BYTES);
    c[2].body = body2; c[2].len = sizeof body2; c[2].has_sig = 1;
    for (int i = 0; i < WG_SIG_BYTES; i++)
        c[2].sig[i] = (uint8_t)(i ^ 0x5c);

    buf_new(&b);
    ck_ok(wg_wire_batch_begin(&b, 0x01020304, &e), &e);
    for (int i = 0; i < 3; i++)
        ck_ok(wg_wire_batch_add(&b, &c[i], &e), &e);
    ck_ok(wg_wire_batch_finish(&b, 3, &e), &e);
    ck_assert_uint_eq(b.len, 11 + (4 + 1 + 1) + (4 + 300 + 1 + 64) +
                                 (4 + 5 + 1 + 64));

    decode_ok(&b, &m, WG_MSG_BATCH);
    ck_assert_uint_eq(m.u.batch.no, 0x01020304);
    ck_assert_uint_eq(m.u.batch.n, 3);
    for (int i = 0; i < 3; i++) {
        const wg_signed_change *d = &m.u.batch.c[i];
        ck_assert_uint_eq(d->len, c[i].len);
        ck_assert_mem_eq(d->body, c[i].body, c[i].len);
        /* bodies borrow the frame */
        ck_assert_msg(d->body > b.data && d->body + d->len <= b.data + b.len,
                      "change %d body is not inside the frame", i);
        ck_assert_int_eq(d->has_sig, c[i].has_sig);
        if (c[i].has_sig)
            ck_assert_mem_eq(d->sig, c[i].sig, WG_SIG_BYTES);
    }
    wg_msg_release(&m);
    ck_assert_ptr_null(m.u.batch.c);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_batch_of_the_largest_changes_round_trips)
{
    size_t max = WG_CHANGE_MAX_BYTES;
    uint8_t *body = malloc(max);
    wg_signed_change c = { body, max, 1, { 0 } };
    wg_buf b;
    wg_msg m;
    wg_err e;
    ck_assert_ptr_nonnull(body);
    memset(body, 0x77, max);
    buf_new(&b);
    ck_ok(wg_wire_batch_begin(&b, 1, &e), &e);
    ck_ok(wg_wire_batch_add(&b, &c, &e), &e);
    c.has_sig = 0;
    ck_ok(wg_wire_batch_add(&b, &c, &e), &e);
    ck_ok(wg_wire_batch_finish(&b, 2, &e), &e);
    decode_ok(&b, &m, WG_MSG_BATCH);
    ck_assert_uint_eq(m.u.batch.n, 2);
    ck_assert_uint_eq(m.u.batch.c[0].len, max);
    ck_assert_uint_eq(m.u.batch.c[1].len, max);
    ck_assert_int_eq(m.u.batch.c[0].has_sig, 1);
    ck_assert_int_eq(m.u.batch.c[1].has_sig, 0);
    wg_msg_release(&m);
    wg_buf_release(&b);
    free(body);
}
END_TEST

START_TEST(test_wire_small_messages_round_trip)
{
    wg_buf b;
    wg_msg m;
    wg_err e;
    buf_new(&b);

    ck_ok(wg_wire_ack(&b, 0xfffffffe, 17, &e), &e);
    decode_ok(&b, &m, WG_MSG_ACK);
    ck_assert_uint_eq(m.u.ack.no, 0xfffffffe);
    ck_assert_uint_eq(m.u.ack.applied, 17);
    wg_msg_release(&m);

    wg_buf_reset(&b);
    ck_ok(wg_wire_done(&b, UINT64_MAX - 1, &e), &e);
    decode_ok(&b, &m, WG_MSG_DONE);
    ck_assert_uint_eq(m.u.done.sent, UINT64_MAX - 1);
    wg_msg_release(&m);

    wg_buf_reset(&b);
    ck_ok(wg_wire_bye(&b, &e), &e);
    ck_assert_uint_eq(b.len, 3);
    decode_ok(&b, &m, WG_MSG_BYE);
    wg_msg_release(&m);

    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_error_round_trips)
{
    const char *utf8 = "peer 'caf\xc3\xa9' refused: scope \xe6\xb5\x99 ~";
    char longest[256];
    wg_buf b;
    wg_msg m;
    wg_err e;
    buf_new(&b);

    ck_ok(wg_wire_error(&b, WG_ERR_AUTH, utf8, &e), &e);
    decode_ok(&b, &m, WG_MSG_ERROR);
    ck_assert_uint_eq(m.u.error.code, WG_ERR_AUTH);
    ck_assert_str_eq(m.u.error.text, utf8);
    wg_msg_release(&m);

    memset(longest, 'e', 255);
    longest[255] = '\0';
    wg_buf_reset(&b);
    ck_ok(wg_wire_error(&b, 0xffff, longest, &e), &e);
    decode_ok(&b, &m, WG_MSG_ERROR);
    ck_assert_uint_eq(m.u.error.code, 0xffff);
    ck_assert_str_eq(m.u.error.text, longest);
    wg_msg_release(&m);

    wg_buf_reset(&b);
    ck_ok(wg_wire_error(&b, 0, "", &e), &e);
    ck_assert_uint_eq(b.len, 7);
    decode_ok(&b, &m, WG_MSG_ERROR);
    ck_assert_str_eq(m.u.error.text, "");
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_type_names)
{
    ck_assert_str_eq(wg_wire_type_name(WG_MSG_HELLO), "hello");
    ck_assert_str_eq(wg_wire_type_name(WG_MSG_VECTOR), "vector");
    ck_assert_str_eq(wg_wire_type_name(WG_MSG_BATCH), "batch");
    ck_assert_str_eq(wg_wire_type_name(WG_MSG_ACK), "ack");
    ck_assert_str_eq(wg_wire_type_name(WG_MSG_DONE), "done");
    ck_assert_str_eq(wg_wire_type_name(WG_MSG_ERROR), "error");
    ck_assert_str_eq(wg_wire_type_name(WG_MSG_BYE), "bye");
    ck_assert_str_eq(wg_wire_type_name(0), "unknown");
    ck_assert_str_eq(wg_wire_type_name(8), "unknown");
    ck_assert_str_eq(wg_wire_type_name(255), "unknown");
}
END_TEST

/* ---- exact bytes ------------------------------------------------------ */

#define ck_bytes(b, want) do {                                          \
        ck_assert_uint_eq((b)->len, sizeof(want));                      \
        ck_assert_mem_eq((b)->data, want, sizeof(want));                \
    } while (0)

START_TEST(test_wire_ack_layout_is_exact)
{
    static const uint8_t want[] = { 0x57, 0x02, 0x04, 0, 0, 0, 7, 0, 0, 0, 3 };
    wg_buf b;
    wg_err e;
    buf_new(&b);
    ck_ok(wg_wire_ack(&b, 7, 3, &e), &e);
    ck_bytes(&b, want);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_small_layouts_are_exact)
{
    static const uint8_t bye[] = { 0x57, 0x02, 0x07 };
    static const uint8_t done[] = { 0x57, 0x02, 0x05, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t error[] = { 0x57, 0x02, 0x06, 0x00, 0x06,
                                     0x00, 0x02, 'n', 'o' };
    static const uint8_t batch[] = { 0x57, 0x02, 0x03, 0, 0, 0, 9, 0, 0, 0, 1,
                                     0, 0, 0, 1, 0xaa, 0x00 };
    uint8_t body = 0xaa;
    wg_signed_change c = { &body, 1, 0, { 0 } };
    wg_buf b;
    wg_err e;
    buf_new(&b);
    ck_ok(wg_wire_bye(&b, &e), &e);
    ck_bytes(&b, bye);
    wg_buf_reset(&b);
    ck_ok(wg_wire_done(&b, 0x0102030405060708ull, &e), &e);
    ck_bytes(&b, done);
    wg_buf_reset(&b);
    ck_ok(wg_wire_error(&b, 6, "no", &e), &e);
    ck_bytes(&b, error);
    wg_buf_reset(&b);
    ck_ok(wg_wire_batch_begin(&b, 9, &e), &e);
    ck_ok(wg_wire_batch_add(&b, &c, &e), &e);
    ck_ok(wg_wire_batch_finish(&b, 1, &e), &e);
    ck_bytes(&b, batch);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_hello_and_vector_layouts_are_exact)
{
    uint8_t want[200];
    size_t n = 0;
    wg_msg_hello h;
    wg_vec_entry v;
    wg_buf b;
    wg_err e;

    memset(&h, 0, sizeof h);
    h.proto_min = 1;
    h.proto_max = 2;
    h.schema_min = 0x0102;
    h.schema_max = 0x0304;
    memset(h.node, 0x22, sizeof h.node);
    strcpy(h.name, "a");
    strcpy(h.county, "450000");
    h.role = 1;
    h.nscopes = 2;
    strcpy(h.scopes[0], "");
    strcpy(h.scopes[1], "45");
    memset(h.digest, 0x33, sizeof h.digest);
    h.nfeeds = 4;
    want[n++] = 0x57; want[n++] = 0x02; want[n++] = 0x01;
    want[n++] = 0x01; want[n++] = 0x02;
    want[n++] = 0x01; want[n++] = 0x02; want[n++] = 0x03; want[n++] = 0x04;
    memset(want + n, 0x22, 32); n += 32;
    want[n++] = 1; want[n++] = 'a';
    want[n++] = 6; memcpy(want + n, "450000", 6); n += 6;
    want[n++] = 1;
    want[n++] = 2;
    want[n++] = 0;
    want[n++] = 2; want[n++] = '4'; want[n++] = '5';
    memset(want + n, 0x33, 32); n += 32;
    want[n++] = 0; want[n++] = 0; want[n++] = 0; want[n++] = 4;
    buf_new(&b);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    ck_assert_uint_eq(b.len, n);
    ck_assert_mem_eq(b.data, want, n);

    memset(&v, 0, sizeof v);
    memset(v.origin, 0x11, sizeof v.origin);
    strcpy(v.partition, "45");
    v.head = 5;
    n = 0;
    want[n++] = 0x57; want[n++] = 0x02; want[n++] = 0x02;
    want[n++] = 0; want[n++] = 0; want[n++] = 0; want[n++] = 1;
    memset(want + n, 0x11, 32); n += 32;
    want[n++] = 2; want[n++] = '4'; want[n++] = '5';
    memset(want + n, 0, 7); n += 7;
    want[n++] = 5;
    wg_buf_reset(&b);
    ck_ok(wg_wire_vector(&b, &v, 1, &e), &e);
    ck_assert_uint_eq(b.len, n);
    ck_assert_mem_eq(b.data, want, n);
    wg_buf_release(&b);
}
END_TEST

/* ---- malformed frames -------------------------------------------------- */

START_TEST(test_wire_empty_frame_is_rejected)
{
    static const uint8_t one[] = { 0 };
    reject_raw(one, 0, "empty");
    wg_msg m;
    wg_err e;
    ck_assert_int_eq(wg_wire_decode(NULL, 0, &m, &e), WG_ERR_PROTO);
    ck_assert_int_eq(wg_wire_decode(one, 0, &m, NULL), WG_ERR_PROTO);
}
END_TEST

START_TEST(test_wire_wrong_magic_is_rejected)
{
    static const uint8_t ack[] = { 0x58, 0x01, 0x04, 0, 0, 0, 7, 0, 0, 0, 3 };
    static const uint8_t zero[] = { 0x00 };
    reject_raw(ack, sizeof ack, "not a wings message");
    reject_raw(zero, sizeof zero, "not a wings message");
}
END_TEST

START_TEST(test_wire_short_header_is_rejected)
{
    static const uint8_t h[] = { 0x57, 0x01 };
    reject_raw(h, 1, "truncated");
    reject_raw(h, 2, "truncated");
}
END_TEST

START_TEST(test_wire_wrong_version_sets_version_and_type)
{
    static const uint8_t hello2[] = { 0x57, 0x03, 0x01, 0xff };
    static const uint8_t bye0[] = { 0x57, 0x01, 0x07 };
    wg_msg m;
    wg_err e;
    err_reset(&e);
    ck_assert_int_eq(decode_exact(hello2, sizeof hello2, &m, &e),
                     WG_ERR_PROTO);
    ck_assert_int_eq(e.code, WG_ERR_PROTO);
    ck_assert_str_eq(e.msg, "peer speaks protocol version 3, this node "
                            "speaks 2..2");
    ck_assert_uint_eq(m.version, 3);
    ck_assert_uint_eq(m.type, WG_MSG_HELLO);
    wg_msg_release(&m);

    ck_assert_int_eq(decode_exact(bye0, sizeof bye0, &m, &e), WG_ERR_PROTO);
    ck_assert_str_eq(e.msg, "peer speaks protocol version 1, this node "
                            "speaks 2..2");
    ck_assert_uint_eq(m.version, 1);
    ck_assert_uint_eq(m.type, WG_MSG_BYE);
    wg_msg_release(&m);
}
END_TEST

START_TEST(test_wire_unknown_type_is_rejected)
{
    static const uint8_t types[] = { 0, 8, 0x57, 255 };
    for (size_t i = 0; i < sizeof types; i++) {
        uint8_t f[] = { 0x57, WG_WIRE_VERSION, types[i] };
        reject_raw(f, sizeof f, "unknown message type");
    }
}
END_TEST

/* Every proper prefix of B fails cleanly. */
static void every_prefix_fails(const wg_buf *b)
{
    for (size_t k = 0; k < b->len; k++)
        reject_raw(b->data, k, NULL);
}

START_TEST(test_wire_every_truncation_of_hello_fails)
{
    wg_msg_hello h;
    wg_buf b;
    wg_err e;
    sample_hello(&h);
    buf_new(&b);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    every_prefix_fails(&b);
    /* and past the header, each says so */
    for (size_t k = 3; k < b.len; k++)
        reject_raw(b.data, k, "truncated hello");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_every_truncation_of_vector_fails)
{
    wg_vec_entry v[3];
    wg_buf b;
    wg_err e;
    memset(v, 0, sizeof v);
    strcpy(v[0].partition, "450102");
    strcpy(v[1].partition, "1");
    strcpy(v[2].partition, "abcdefghijklmnop");
    v[2].head = 99;
    buf_new(&b);
    ck_ok(wg_wire_vector(&b, v, 3, &e), &e);
    every_prefix_fails(&b);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_every_truncation_of_batch_fails)
{
    uint8_t body[40];
    wg_signed_change c[3];
    wg_buf b;
    wg_err e;
    memset(body, 0x42, sizeof body);
    memset(c, 0, sizeof c);
    c[0] = (wg_signed_change){ body, 1, 1, { 0 } };
    c[1] = (wg_signed_change){ body, 40, 0, { 0 } };
    c[2] = (wg_signed_change){ body, 7, 1, { 0 } };
    buf_new(&b);
    ck_ok(wg_wire_batch_begin(&b, 5, &e), &e);
    for (int i = 0; i < 3; i++)
        ck_ok(wg_wire_batch_add(&b, &c[i], &e), &e);
    ck_ok(wg_wire_batch_finish(&b, 3, &e), &e);
    every_prefix_fails(&b);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_every_truncation_of_small_messages_fails)
{
    wg_buf b;
    wg_err e;
    buf_new(&b);
    ck_ok(wg_wire_ack(&b, 1, 2, &e), &e);
    every_prefix_fails(&b);
    wg_buf_reset(&b);
    ck_ok(wg_wire_done(&b, 3, &e), &e);
    every_prefix_fails(&b);
    wg_buf_reset(&b);
    ck_ok(wg_wire_error(&b, 4, "stop", &e), &e);
    every_prefix_fails(&b);
    wg_buf_reset(&b);
    ck_ok(wg_wire_bye(&b, &e), &e);
    every_prefix_fails(&b);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_trailing_byte_is_rejected)
{
    wg_msg_hello h;
    wg_vec_entry v;
    uint8_t body = 1;
    wg_signed_change c = { &body, 1, 0, { 0 } };
    wg_buf b;
    wg_err e;
    buf_new(&b);

    sample_hello(&h);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    put8(&b, 0);
    reject(&b, "trailing bytes after hello");

    memset(&v, 0, sizeof v);
    strcpy(v.partition, "p");
    wg_buf_reset(&b);
    ck_ok(wg_wire_vector(&b, &v, 1, &e), &e);
    put8(&b, 0);
    reject(&b, "trailing bytes after vector");

    wg_buf_reset(&b);
    ck_ok(wg_wire_batch_begin(&b, 1, &e), &e);
    ck_ok(wg_wire_batch_add(&b, &c, &e), &e);
    ck_ok(wg_wire_batch_finish(&b, 1, &e), &e);
    put8(&b, 0);
    reject(&b, "trailing bytes after batch");

    wg_buf_reset(&b);
    ck_ok(wg_wire_ack(&b, 1, 1, &e), &e);
    put8(&b, 0);
    reject(&b, "trailing bytes after ack");

    wg_buf_reset(&b);
    ck_ok(wg_wire_done(&b, 1, &e), &e);
    put8(&b, 0);
    reject(&b, "trailing bytes after done");

    wg_buf_reset(&b);
    ck_ok(wg_wire_error(&b, 1, "x", &e), &e);
    put8(&b, 'y');
    reject(&b, "trailing bytes after error");

    wg_buf_reset(&b);
    ck_ok(wg_wire_bye(&b, &e), &e);
    put8(&b, 0);
    reject(&b, "trailing bytes after bye");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_oversized_frame_is_rejected)
{
    size_t n = (size_t)WG_WIRE_MAX_MSG + 1;
    uint8_t *p = calloc(1, n);
    wg_msg m;
    wg_err e;
    ck_assert_ptr_nonnull(p);
    p[0] = 0x57; p[1] = 0x01; p[2] = WG_MSG_BYE;
    ck_assert_int_eq(wg_wire_decode(p, n, &m, &e), WG_ERR_PROTO);
    ck_assert_ptr_nonnull(strstr(e.msg, "limit"));
    ck_assert(all_zero(&m, sizeof m));
    free(p);
}
END_TEST

/* A count the frame cannot hold is refused before anything is allocated
 * for it: the message says so (rather than "truncated", which would mean
 * the entries were being read), and with n = 0xffffffff an allocation
 * would be hundreds of gigabytes and abort. */
START_TEST(test_wire_vector_count_beyond_frame_fails_without_allocating)
{
    wg_buf b;
    buf_new(&b);

    puthdr(&b, WG_MSG_VECTOR);
    put32(&b, 0xffffffff);
    putfill(&b, 0, 20);
    reject(&b, "vector of 4294967295 feeds (limit 100000)");

    wg_buf_reset(&b);
    puthdr(&b, WG_MSG_VECTOR);
    put32(&b, WG_WIRE_MAX_FEEDS);
    putfill(&b, 0, 20);
    reject(&b, "does not fit");

    wg_buf_reset(&b);
    puthdr(&b, WG_MSG_VECTOR);
    put32(&b, WG_WIRE_MAX_FEEDS + 1);
    putfill(&b, 0, 42 * (WG_WIRE_MAX_FEEDS + 1));
    reject(&b, "limit");

    /* two entries' worth of bytes, three claimed */
    wg_buf_reset(&b);
    puthdr(&b, WG_MSG_VECTOR);
    put32(&b, 3);
    for (int i = 0; i < 2; i++) {
        putfill(&b, 0x44, WG_SIGN_PK_BYTES);
        putstr(&b, "p", 1);
        put64(&b, 1);
    }
    reject(&b, "does not fit");
    wg_buf_release(&b);
}
END_TEST

/* The fit check does not block a vector whose entries are all minimal. */
START_TEST(test_wire_vector_of_minimal_entries_decodes)
{
    wg_buf b;
    wg_msg m;
    buf_new(&b);
    puthdr(&b, WG_MSG_VECTOR);
    put32(&b, 1000);
    for (int i = 0; i < 1000; i++) {
        putfill(&b, (uint8_t)i, WG_SIGN_PK_BYTES);
        putstr(&b, "q", 1);
        put64(&b, (uint64_t)i);
    }
    decode_ok(&b, &m, WG_MSG_VECTOR);
    ck_assert_uint_eq(m.u.vector.n, 1000);
    ck_assert_uint_eq(m.u.vector.e[999].head, 999);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_batch_count_beyond_frame_fails_without_allocating)
{
    wg_buf b;
    buf_new(&b);

    puthdr(&b, WG_MSG_BATCH);
    put32(&b, 1);
    put32(&b, 0xffffffff);
    putfill(&b, 0, 20);
    reject(&b, "batch of 4294967295 changes");

    wg_buf_reset(&b);
    puthdr(&b, WG_MSG_BATCH);
    put32(&b, 1);
    put32(&b, WG_WIRE_MAX_BATCH_CHANGES);
    putfill(&b, 0, 20);
    reject(&b, "does not fit");

    wg_buf_reset(&b);
    puthdr(&b, WG_MSG_BATCH);
    put32(&b, 1);
    put32(&b, WG_WIRE_MAX_BATCH_CHANGES + 1);
    for (int i = 0; i < WG_WIRE_MAX_BATCH_CHANGES + 1; i++) {
        put32(&b, 1);
        put8(&b, 0);
        put8(&b, 0);
    }
    reject(&b, "must be 1..2048");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_batch_of_zero_changes_is_rejected)
{
    wg_buf b;
    buf_new(&b);
    puthdr(&b, WG_MSG_BATCH);
    put32(&b, 1);
    put32(&b, 0);
    reject(&b, "batch of 0 changes");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_change_length_out_of_bounds_is_rejected)
{
    wg_buf b;
    buf_new(&b);
    build_batch_one(&b, 0, 0);             /* too short to hold one entry */
    reject(&b, NULL);
    build_batch_one(&b, 0, 1);             /* room enough: the length fails */
    reject(&b, "0 bytes");
    build_batch_one(&b, WG_CHANGE_MAX_BYTES + 1, 0);
    reject(&b, "must be 1..");
    build_batch_one(&b, WG_CHANGE_MAX_BYTES, 0);      /* the bound itself */
    wg_msg m;
    decode_ok(&b, &m, WG_MSG_BATCH);
    wg_msg_release(&m);

    /* a length longer than the frame */
    wg_buf_reset(&b);
    puthdr(&b, WG_MSG_BATCH);
    put32(&b, 1);
    put32(&b, 1);
    put32(&b, 100);
    putfill(&b, 0, 50);
    reject(&b, "truncated batch");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_signature_flag_two_is_rejected)
{
    wg_buf b;
    buf_new(&b);
    build_batch_one(&b, 3, 2);
    reject(&b, "bad signature flag in batch");
    build_batch_one(&b, 3, 0xff);
    reject(&b, "signature flag");
    /* a flag of 1 with no signature after it */
    build_batch_one(&b, 3, 0);
    b.data[b.len - 1] = 1;
    reject(&b, "truncated batch");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_bad_name_is_rejected)
{
    /* Beyond ASCII only well-formed UTF-8: a cut sequence, an overlong
     * '/', a character cut by the length. */
    static const char *bad[] = { "a b", "a/b", "caf\xc3\x28", "x\x01",
                                 "a\0b", "a:b", "\x7f", "\xc0\xaf",
                                 "\xe4\xb8\x89" };
    static const size_t badlen[] = { 3, 3, 5, 2, 3, 3, 1, 2, 2 };
    char longest[WG_NAME_MAX + 1];
    raw_hello h = GOOD;
    wg_buf b;
    wg_msg m;
    buf_new(&b);

    build_hello(&b, &h);                    /* the baseline is good */
    decode_ok(&b, &m, WG_MSG_HELLO);
    ck_assert_str_eq(m.u.hello.name, "office-1");
    ck_assert_uint_eq(m.u.hello.nscopes, 2);
    wg_msg_release(&m);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h.name = bad[i];
        h.namelen = badlen[i];
        build_hello(&b, &h);
        reject(&b, "bad name in hello");
    }
    h.name = "";
    h.namelen = 0;
    build_hello(&b, &h);
    reject(&b, "bad name in hello");

    h.name = "三江";                         /* a Chinese node name is good */
    h.namelen = strlen("三江");
    build_hello(&b, &h);
    decode_ok(&b, &m, WG_MSG_HELLO);
    ck_assert_str_eq(m.u.hello.name, "三江");
    wg_msg_release(&m);

    memset(longest, 'n', sizeof longest);
    h.name = longest;
    h.namelen = WG_NAME_MAX + 1;
    build_hello(&b, &h);
    reject(&b, "bad name in hello");
    h.namelen = WG_NAME_MAX;
    build_hello(&b, &h);
    decode_ok(&b, &m, WG_MSG_HELLO);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_bad_county_is_rejected)
{
    static const char *bad[] = { "45010", "4501023", "45010a", "", "45 102",
                                 "-45010" };
    raw_hello h = GOOD;
    wg_buf b;
    buf_new(&b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h.county = bad[i];
        h.countylen = strlen(bad[i]);
        build_hello(&b, &h);
        reject(&b, "bad county in hello");
    }
    wg_buf_release(&b);
}
END_TEST

/* A version range whose low end is above its high end is refused both
 * ways: a sender cannot make one, a receiver does not take one. */
START_TEST(test_wire_upside_down_version_range_is_rejected)
{
    wg_msg_hello h;
    wg_buf b;
    wg_err e;
    sample_hello(&h);
    h.schema_min = 3;
    h.schema_max = 2;
    buf_new(&b);
    ck_assert_int_eq(wg_wire_hello(&b, &h, &e), WG_ERR_INVALID);
    ck_assert_str_eq(e.msg, "hello version range upside down");
    sample_hello(&h);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    b.data[3] = 3; /* proto_min above proto_max (2..0xfe -> 3..2) */
    b.data[4] = 2;
    reject(&b, "bad protocol versions in hello");
    wg_buf_reset(&b);
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    b.data[5] = 0xff; /* schema_min 0xffef above schema_max 0xbef0 */
    reject(&b, "bad schema versions in hello");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_bad_role_is_rejected)
{
    raw_hello h = GOOD;
    wg_buf b;
    buf_new(&b);
    h.role = 2;
    build_hello(&b, &h);
    reject(&b, "bad role in hello");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_bad_scope_is_rejected)
{
    raw_hello h = GOOD;
    wg_buf b;
    buf_new(&b);
    h.scope = "45a";
    build_hello(&b, &h);
    reject(&b, "bad scope in hello");
    h.scope = "4501021";                        /* 7 digits */
    build_hello(&b, &h);
    reject(&b, "bad scope in hello");
    h.scope = " ";
    build_hello(&b, &h);
    reject(&b, "bad scope in hello");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_too_many_scopes_is_rejected)
{
    raw_hello h = GOOD;
    wg_buf b;
    wg_msg m;
    buf_new(&b);
    h.nscopes = WG_WIRE_MAX_SCOPES;
    build_hello(&b, &h);
    decode_ok(&b, &m, WG_MSG_HELLO);
    ck_assert_uint_eq(m.u.hello.nscopes, WG_WIRE_MAX_SCOPES);
    wg_msg_release(&m);
    h.nscopes = WG_WIRE_MAX_SCOPES + 1;
    build_hello(&b, &h);
    reject(&b, "bad scope count in hello");
    h.nscopes = 255;
    build_hello(&b, &h);
    reject(&b, "bad scope count in hello");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_bad_partition_is_rejected)
{
    wg_buf b;
    wg_msg m;
    buf_new(&b);
    build_vector_one(&b, "45 01", 5);
    reject(&b, "bad partition in vector");
    build_vector_one(&b, "", 0);       /* an entry too short to be one */
    reject(&b, "vector");
    put8(&b, 0);                       /* long enough: the partition fails */
    reject(&b, "bad partition in vector");
    build_vector_one(&b, "abcdefghijklmnopq", 17);
    reject(&b, "bad partition in vector");
    build_vector_one(&b, "ab\x7f", 3);
    reject(&b, "bad partition in vector");
    build_vector_one(&b, "ab\0c", 4);
    reject(&b, "bad partition in vector");
    build_vector_one(&b, "\xc3\xa9", 2);
    reject(&b, "bad partition in vector");
    build_vector_one(&b, "abcdefghijklmnop", 16);   /* the bound itself */
    decode_ok(&b, &m, WG_MSG_VECTOR);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

/* A bad entry after good ones: the entries array is freed (ASan's leak
 * check would see it otherwise). */
START_TEST(test_wire_bad_late_entry_frees_everything)
{
    wg_buf b;
    buf_new(&b);
    puthdr(&b, WG_MSG_VECTOR);
    put32(&b, 3);
    for (int i = 0; i < 3; i++) {
        putfill(&b, 0x44, WG_SIGN_PK_BYTES);
        putstr(&b, i == 2 ? "b d" : "ok", i == 2 ? 3 : 2);
        put64(&b, 1);
    }
    reject(&b, "bad partition");

    wg_buf_reset(&b);
    puthdr(&b, WG_MSG_BATCH);
    put32(&b, 1);
    put32(&b, 2);
    put32(&b, 1); put8(&b, 0xee); put8(&b, 0);
    put32(&b, 1); put8(&b, 0xee); put8(&b, 3);
    reject(&b, "signature flag");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_error_text_with_control_char_is_rejected)
{
    static const char *bad[] = { "line\nbreak", "bell\x07", "\x1b[31m",
                                 "del\x7f", "nul\0x" };
    static const size_t badlen[] = { 10, 5, 5, 4, 5 };
    char text[300];
    wg_buf b;
    wg_msg m;
    buf_new(&b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        build_error(&b, bad[i], badlen[i]);
        reject(&b, "bad text in error");
    }
    memset(text, 't', sizeof text);
    build_error(&b, text, 256);
    reject(&b, "error text of 256 bytes");
    build_error(&b, text, 255);
    decode_ok(&b, &m, WG_MSG_ERROR);
    ck_assert_uint_eq(strlen(m.u.error.text), 255);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

/* ---- encoders refuse what the decoder would ---------------------------- */

START_TEST(test_wire_hello_encoder_refuses_out_of_bounds)
{
    wg_msg_hello h;
    wg_buf b;
    wg_err e;
    buf_new(&b);
    put8(&b, 0xab);                  /* a refused encode leaves this alone */

    sample_hello(&h);
    strcpy(h.name, "");
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);
    strcpy(h.name, "has space");
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);
    memset(h.name, 'a', sizeof h.name);  /* 65 bytes, no terminator */
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);

    sample_hello(&h);
    strcpy(h.county, "45010");
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);
    strcpy(h.county, "45010x");
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);
    memset(h.county, '1', sizeof h.county);
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);

    sample_hello(&h);
    h.role = 2;
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);

    sample_hello(&h);
    h.nscopes = WG_WIRE_MAX_SCOPES + 1;
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);

    sample_hello(&h);
    strcpy(h.scopes[2], "4x");
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);
    memset(h.scopes[2], '1', sizeof h.scopes[2]);  /* 7 digits, no NUL */
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 1);

    /* a bad scope beyond nscopes is not looked at */
    sample_hello(&h);
    strcpy(h.scopes[10], "bad");
    ck_ok(wg_wire_hello(&b, &h, &e), &e);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_vector_encoder_refuses_out_of_bounds)
{
    wg_vec_entry v[2];
    wg_buf b;
    wg_err e;
    memset(v, 0, sizeof v);
    strcpy(v[0].partition, "ok");
    buf_new(&b);

    strcpy(v[1].partition, "");
    refused(wg_wire_vector(&b, v, 2, &e), &e, &b, 0);
    strcpy(v[1].partition, "a b");
    refused(wg_wire_vector(&b, v, 2, &e), &e, &b, 0);
    strcpy(v[1].partition, "\x7f");
    refused(wg_wire_vector(&b, v, 2, &e), &e, &b, 0);
    memset(v[1].partition, 'p', sizeof v[1].partition);    /* 17, no NUL */
    refused(wg_wire_vector(&b, v, 2, &e), &e, &b, 0);
    refused(wg_wire_vector(&b, v, WG_WIRE_MAX_FEEDS + 1, &e), &e, &b, 0);
    refused(wg_wire_vector(&b, NULL, 1, &e), &e, &b, 0);
    ck_ok(wg_wire_vector(&b, v, 1, &e), &e);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_batch_encoder_refuses_out_of_bounds)
{
    uint8_t body[8] = { 0 };
    wg_signed_change c = { body, 1, 0, { 0 } };
    wg_buf b;
    wg_err e;
    buf_new(&b);

    /* no batch begun */
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, 0);
    refused(wg_wire_batch_finish(&b, 1, &e), &e, &b, 0);
    ck_ok(wg_wire_ack(&b, 1, 1, &e), &e);
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, 11);
    /* only into an empty buffer, since the count sits at offset 7 */
    refused(wg_wire_batch_begin(&b, 1, &e), &e, &b, 11);

    wg_buf_reset(&b);
    ck_ok(wg_wire_batch_begin(&b, 1, &e), &e);
    refused(wg_wire_batch_finish(&b, 0, &e), &e, &b, 11);   /* n == 0 */
    c.len = 0;
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, 11);
    c.len = WG_CHANGE_MAX_BYTES + 1;
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, 11);
    c.len = 1;
    c.has_sig = 2;
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, 11);
    c.has_sig = -1;
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, 11);
    c.has_sig = 0;
    c.body = NULL;
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, 11);
    c.body = body;
    ck_ok(wg_wire_batch_add(&b, &c, &e), &e);
    size_t len = b.len;
    refused(wg_wire_batch_finish(&b, 0, &e), &e, &b, len);
    refused(wg_wire_batch_finish(&b, 2, &e), &e, &b, len);  /* 1 added */
    refused(wg_wire_batch_finish(&b, WG_WIRE_MAX_BATCH_CHANGES + 1, &e), &e,
            &b, len);
    ck_ok(wg_wire_batch_finish(&b, 1, &e), &e);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_batch_finish_refuses_more_than_the_change_limit)
{
    uint8_t body = 3;
    wg_signed_change c = { &body, 1, 0, { 0 } };
    wg_buf b;
    wg_msg m;
    wg_err e;
    buf_new(&b);
    ck_ok(wg_wire_batch_begin(&b, 2, &e), &e);
    for (int i = 0; i < WG_WIRE_MAX_BATCH_CHANGES + 1; i++)
        ck_ok(wg_wire_batch_add(&b, &c, &e), &e);
    size_t len = b.len;
    refused(wg_wire_batch_finish(&b, WG_WIRE_MAX_BATCH_CHANGES + 1, &e), &e,
            &b, len);
    /* the count is checked against the bytes: 2048 of 2049 is refused */
    refused(wg_wire_batch_finish(&b, WG_WIRE_MAX_BATCH_CHANGES, &e), &e, &b,
            len);
    b.len -= 4 + 1 + 1;                          /* cut the last one off */
    ck_ok(wg_wire_batch_finish(&b, WG_WIRE_MAX_BATCH_CHANGES, &e), &e);
    decode_ok(&b, &m, WG_MSG_BATCH);
    ck_assert_uint_eq(m.u.batch.n, WG_WIRE_MAX_BATCH_CHANGES);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

/* A sender ends a batch on a signed change by cutting the buffer back to
 * just after it: finish counts what is left, and the result decodes. */
START_TEST(test_wire_batch_cut_back_to_a_signed_change_finishes)
{
    uint8_t body[4] = { 1, 2, 3, 4 };
    wg_signed_change c[4] = {
        { body, 4, 0, { 0 } }, { body, 3, 1, { 0 } },
        { body, 2, 0, { 0 } }, { body, 1, 0, { 0 } },
    };
    wg_buf b;
    wg_msg m;
    wg_err e;
    size_t cut = 0;
    buf_new(&b);
    ck_ok(wg_wire_batch_begin(&b, 6, &e), &e);
    for (int i = 0; i < 4; i++) {
        ck_ok(wg_wire_batch_add(&b, &c[i], &e), &e);
        if (c[i].has_sig)
            cut = b.len;
    }
    b.len = cut;
    refused(wg_wire_batch_finish(&b, 4, &e), &e, &b, cut);
    ck_ok(wg_wire_batch_finish(&b, 2, &e), &e);
    decode_ok(&b, &m, WG_MSG_BATCH);
    ck_assert_uint_eq(m.u.batch.n, 2);
    ck_assert_int_eq(m.u.batch.c[1].has_sig, 1);
    wg_msg_release(&m);

    /* a buffer cut inside an entry is refused */
    wg_buf_reset(&b);
    ck_ok(wg_wire_batch_begin(&b, 6, &e), &e);
    ck_ok(wg_wire_batch_add(&b, &c[0], &e), &e);
    ck_ok(wg_wire_batch_add(&b, &c[1], &e), &e);
    b.len -= 1;
    refused(wg_wire_batch_finish(&b, 2, &e), &e, &b, b.len);
    refused(wg_wire_batch_finish(&b, 1, &e), &e, &b, b.len);
    wg_buf_release(&b);
}
END_TEST

/* Changes of the largest size fill a frame before 2048 of them: the add
 * that would pass WG_WIRE_MAX_MSG is refused and leaves a sendable batch. */
START_TEST(test_wire_batch_encoder_stops_at_the_message_limit)
{
    size_t max = WG_CHANGE_MAX_BYTES;
    uint8_t *body = calloc(1, max);
    wg_signed_change c = { body, max, 1, { 0 } };
    wg_buf b;
    wg_msg m;
    wg_err e;
    uint32_t n = 0;
    wg_rc rc;
    ck_assert_ptr_nonnull(body);
    wg_buf_init(&b, 64u << 20);        /* the buffer is not what stops it */
    ck_ok(wg_wire_batch_begin(&b, 3, &e), &e);
    while ((rc = wg_wire_batch_add(&b, &c, &e)) == WG_OK)
        n++;
    ck_assert_int_eq(rc, WG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "message limit"));
    ck_assert_uint_lt(n, WG_WIRE_MAX_BATCH_CHANGES);
    ck_assert_uint_le(b.len, WG_WIRE_MAX_MSG);
    ck_assert_uint_gt(b.len + 4 + max + 1 + 64, WG_WIRE_MAX_MSG);
    ck_ok(wg_wire_batch_finish(&b, n, &e), &e);
    decode_ok(&b, &m, WG_MSG_BATCH);
    ck_assert_uint_eq(m.u.batch.n, n);
    wg_msg_release(&m);
    wg_buf_release(&b);
    free(body);
}
END_TEST

/* A buffer with a small maximum refuses the add whole: the batch so far is
 * still a good message (how a sender caps a batch's size). */
START_TEST(test_wire_batch_add_into_a_full_buffer_leaves_it_whole)
{
    uint8_t body[100] = { 0 };
    wg_signed_change c = { body, sizeof body, 1, { 0 } };
    wg_buf b;
    wg_msg m;
    wg_err e;
    wg_buf_init(&b, 300);
    ck_ok(wg_wire_batch_begin(&b, 4, &e), &e);
    ck_ok(wg_wire_batch_add(&b, &c, &e), &e);
    size_t len = b.len;
    refused(wg_wire_batch_add(&b, &c, &e), &e, &b, len);
    ck_ok(wg_wire_batch_finish(&b, 1, &e), &e);
    decode_ok(&b, &m, WG_MSG_BATCH);
    ck_assert_uint_eq(m.u.batch.n, 1);
    wg_msg_release(&m);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_error_encoder_refuses_out_of_bounds)
{
    char text[300];
    wg_buf b;
    wg_err e;
    buf_new(&b);
    refused(wg_wire_error(&b, 1, "two\nlines", &e), &e, &b, 0);
    refused(wg_wire_error(&b, 1, "tab\there", &e), &e, &b, 0);
    refused(wg_wire_error(&b, 1, "del\x7f", &e), &e, &b, 0);
    memset(text, 'x', 256);
    text[256] = '\0';
    refused(wg_wire_error(&b, 1, text, &e), &e, &b, 0);
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    refused(wg_wire_error(&b, 1, text, &e), &e, &b, 0);
    text[255] = '\0';
    ck_ok(wg_wire_error(&b, 1, text, &e), &e);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_wire_encoders_respect_the_buffer_limit)
{
    wg_msg_hello h;
    wg_buf b;
    wg_err e;
    sample_hello(&h);
    wg_buf_init(&b, 10);
    refused(wg_wire_hello(&b, &h, &e), &e, &b, 0);
    refused(wg_wire_ack(&b, 1, 2, &e), &e, &b, 0);
    refused(wg_wire_done(&b, 1, &e), &e, &b, 0);
    ck_ok(wg_wire_bye(&b, &e), &e);
    wg_buf_release(&b);
}
END_TEST

/* ---- suite ------------------------------------------------------------ */

static const tu_test tests[] = {
    TU_TEST(case_roundtrip, test_wire_hello_round_trips),
    TU_TEST(case_roundtrip, test_wire_hello_at_every_bound_round_trips),
    TU_TEST(case_roundtrip, test_wire_vector_round_trips),
    TU_TEST(case_roundtrip, test_wire_empty_vector_round_trips),
    TU_TEST(case_roundtrip, test_wire_batch_of_three_round_trips),
    TU_TEST(case_roundtrip, test_wire_batch_of_the_largest_changes_round_trips),
    TU_TEST(case_roundtrip, test_wire_small_messages_round_trip),
    TU_TEST(case_roundtrip, test_wire_error_round_trips),
    TU_TEST(case_roundtrip, test_wire_type_names),
    TU_TEST(case_layout, test_wire_ack_layout_is_exact),
    TU_TEST(case_layout, test_wire_small_layouts_are_exact),
    TU_TEST(case_layout, test_wire_hello_and_vector_layouts_are_exact),
    TU_TEST(case_malformed, test_wire_empty_frame_is_rejected),
    TU_TEST(case_malformed, test_wire_wrong_magic_is_rejected),
    TU_TEST(case_malformed, test_wire_short_header_is_rejected),
    TU_TEST(case_malformed, test_wire_wrong_version_sets_version_and_type),
    TU_TEST(case_malformed, test_wire_unknown_type_is_rejected),
    TU_TEST(case_malformed, test_wire_every_truncation_of_hello_fails),
    TU_TEST(case_malformed, test_wire_every_truncation_of_vector_fails),
    TU_TEST(case_malformed, test_wire_every_truncation_of_batch_fails),
    TU_TEST(case_malformed, test_wire_every_truncation_of_small_messages_fails),
    TU_TEST(case_malformed, test_wire_trailing_byte_is_rejected),
    TU_TEST(case_malformed, test_wire_oversized_frame_is_rejected),
    TU_TEST(case_malformed, test_wire_vector_count_beyond_frame_fails_without_allocating),
    TU_TEST(case_malformed, test_wire_vector_of_minimal_entries_decodes),
    TU_TEST(case_malformed, test_wire_batch_count_beyond_frame_fails_without_allocating),
    TU_TEST(case_malformed, test_wire_batch_of_zero_changes_is_rejected),
    TU_TEST(case_malformed, test_wire_change_length_out_of_bounds_is_rejected),
    TU_TEST(case_malformed, test_wire_signature_flag_two_is_rejected),
    TU_TEST(case_malformed, test_wire_bad_name_is_rejected),
    TU_TEST(case_malformed, test_wire_bad_county_is_rejected),
    TU_TEST(case_malformed, test_wire_bad_role_is_rejected),
    TU_TEST(case_malformed, test_wire_upside_down_version_range_is_rejected),
    TU_TEST(case_malformed, test_wire_bad_scope_is_rejected),
    TU_TEST(case_malformed, test_wire_too_many_scopes_is_rejected),
    TU_TEST(case_malformed, test_wire_bad_partition_is_rejected),
    TU_TEST(case_malformed, test_wire_bad_late_entry_frees_everything),
    TU_TEST(case_malformed, test_wire_error_text_with_control_char_is_rejected),
    TU_TEST(case_encoders, test_wire_hello_encoder_refuses_out_of_bounds),
    TU_TEST(case_encoders, test_wire_vector_encoder_refuses_out_of_bounds),
    TU_TEST(case_encoders, test_wire_batch_encoder_refuses_out_of_bounds),
    TU_TEST(case_encoders, test_wire_batch_finish_refuses_more_than_the_change_limit),
    TU_TEST(case_encoders, test_wire_batch_cut_back_to_a_signed_change_finishes),
    TU_TEST(case_encoders, test_wire_batch_encoder_stops_at_the_message_limit),
    TU_TEST(case_encoders, test_wire_batch_add_into_a_full_buffer_leaves_it_whole),
    TU_TEST(case_encoders, test_wire_error_encoder_refuses_out_of_bounds),
    TU_TEST(case_encoders, test_wire_encoders_respect_the_buffer_limit),
};

int main(void)
{
    return tu_run(TU_SUITE("wire", tests));
}
