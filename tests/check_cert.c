/*
 * check_cert.c - Check suite for membership certificates and revocations:
 * the codec (round trip, every truncation, each malformed field), the
 * signatures (a flipped byte fails), the area rule by the code's level, and
 * chains from the root down the administrative tree.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wg_cert.h"
#include "wg_ident.h"

#define NOW 1800000000ULL
#define DAY 86400ULL

typedef struct node {
    uint8_t pk[WG_SIGN_PK_BYTES], sk[WG_SIGN_SK_BYTES];
} node;

static node mk(void)
{
    node n;
    wg_sign_keypair(n.pk, n.sk);
    return n;
}

static wg_cert certify(const node *issuer, const node *subject,
                       const char *name, const char *scope, int role,
                       int enrol, uint64_t serial)
{
    wg_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, subject->pk, WG_SIGN_PK_BYTES);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.scope, sizeof c.scope, "%s", scope);
    c.role = (uint8_t)role;
    c.may_enrol = (uint8_t)enrol;
    c.not_before = NOW - DAY;
    c.not_after = NOW + 365 * DAY;
    c.serial = serial;
    ck_assert_int_eq(wg_cert_sign(&c, issuer->sk, NULL), WG_OK);
    return c;
}

/* ---- a little certificate store for chains ---------------------------------- */

typedef struct book {
    wg_cert c[8];
    int n;
    uint8_t revoked[8][WG_SIGN_PK_BYTES];
    int nrev;
} book;

static const wg_cert *book_lookup(void *ctx, const uint8_t *subject)
{
    book *b = ctx;
    for (int i = 0; i < b->n; i++)
        if (!memcmp(b->c[i].subject, subject, WG_SIGN_PK_BYTES))
            return &b->c[i];
    return NULL;
}

static int book_revoked(void *ctx, const uint8_t *subject, uint64_t serial)
{
    book *b = ctx;
    (void)serial;
    for (int i = 0; i < b->nrev; i++)
        if (!memcmp(b->revoked[i], subject, WG_SIGN_PK_BYTES))
            return 1;
    return 0;
}

static wg_rc chain(book *b, const wg_cert *c, const node *root, uint64_t now,
                   wg_err *err)
{
    wg_cert_source src = { book_lookup, book_revoked, b };
    return wg_cert_chain_verify(c, root->pk, &src, now, err);
}

/* ---- codec ------------------------------------------------------------------ */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_codec = {"codec", NULL, NULL, 0};
static const tu_case case_area = {"area", NULL, NULL, 0};
static const tu_case case_chain = {"chain", NULL, NULL, 0};

START_TEST(test_cert_round_trip_is_byte_identical)
{
    node r = mk(), o = mk();
    wg_cert c = certify(&r, &o, "rongan", "450224", 0, 0, 7), d;
    wg_buf b, b2;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    wg_buf_init(&b2, WG_CERT_MAX_BYTES);
    ck_assert_int_eq(wg_cert_encode(&c, &b, NULL), WG_OK);
    ck_assert_int_le(b.len, WG_CERT_MAX_BYTES);
    ck_assert_int_eq(wg_cert_decode(b.data, b.len, &d, NULL), WG_OK);
    ck_assert_str_eq(d.name, "rongan");
    ck_assert_str_eq(d.scope, "450224");
    ck_assert_int_eq(d.role, 0);
    ck_assert_uint_eq(d.serial, 7);
    ck_assert_mem_eq(d.issuer, r.pk, WG_SIGN_PK_BYTES);
    ck_assert_mem_eq(d.subject, o.pk, WG_SIGN_PK_BYTES);
    ck_assert_int_eq(wg_cert_verify(&d, NULL), WG_OK);
    ck_assert_int_eq(wg_cert_encode(&d, &b2, NULL), WG_OK);
    ck_assert_uint_eq(b.len, b2.len);
    ck_assert_mem_eq(b.data, b2.data, b.len);
    wg_buf_release(&b);
    wg_buf_release(&b2);
}
END_TEST

START_TEST(test_cert_every_truncation_and_trailing_byte_is_corrupt)
{
    node r = mk(), o = mk();
    wg_cert c = certify(&r, &o, "rongan", "450224", 0, 0, 1), d;
    wg_buf b;
    wg_buf_init(&b, WG_CERT_MAX_BYTES + 1);
    ck_assert_int_eq(wg_cert_encode(&c, &b, NULL), WG_OK);
    for (size_t n = 0; n < b.len; n++)
        ck_assert_int_eq(wg_cert_decode(b.data, n, &d, NULL), WG_ERR_CORRUPT);
    wg_buf_append_u8(&b, 0, NULL);
    wg_err err;
    ck_assert_int_eq(wg_cert_decode(b.data, b.len, &d, &err), WG_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "trailing"));
    wg_buf_release(&b);
}
END_TEST

/* Offsets of the layout in wg_cert.h for a 6-byte name. */
enum { O_KIND = 0, O_VER = 1, O_NAMELEN = 66, O_NAME = 67, O_SCOPE = 73,
       O_ROLE = 79, O_FLAGS = 80, O_NB = 81, O_NA = 89 };

START_TEST(test_cert_each_malformed_field_is_refused)
{
    node r = mk(), o = mk();
    wg_cert c = certify(&r, &o, "rongan", "450224", 0, 0, 1), d;
    wg_buf b;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    ck_assert_int_eq(wg_cert_encode(&c, &b, NULL), WG_OK);
    struct { size_t at; uint8_t v; } bad[] = {
        { O_KIND, 2 }, { O_VER, 2 }, { O_NAMELEN, 0 }, { O_NAMELEN, 200 },
        { O_NAME, ' ' }, { O_NAME, 0x1b }, { O_SCOPE, 'a' }, { O_SCOPE + 5, 0 },
        { O_ROLE, 2 }, { O_FLAGS, 2 }, { O_FLAGS, 0x81 },
        { O_NB, 0xff } /* not_before after not_after */,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *p = malloc(b.len);
        memcpy(p, b.data, b.len);
        p[bad[i].at] = bad[i].v;
        ck_assert_msg(wg_cert_decode(p, b.len, &d, NULL) == WG_ERR_CORRUPT,
                      "byte %zu = %u accepted", bad[i].at, bad[i].v);
        free(p);
    }
    /* Oversized input is refused before it is read. */
    uint8_t big[WG_CERT_MAX_BYTES + 1];
    memset(big, 0, sizeof big);
    ck_assert_int_eq(wg_cert_decode(big, sizeof big, &d, NULL), WG_ERR_CORRUPT);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_cert_any_flipped_byte_fails_its_signature)
{
    node r = mk(), o = mk();
    wg_cert c = certify(&r, &o, "rongan", "450224", 1, 1, 3), d;
    wg_buf b;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    ck_assert_int_eq(wg_cert_encode(&c, &b, NULL), WG_OK);
    int checked = 0;
    for (size_t i = 2; i < b.len; i++) {
        b.data[i] ^= 0x01;
        if (wg_cert_decode(b.data, b.len, &d, NULL) == WG_OK) {
            ck_assert_msg(wg_cert_verify(&d, NULL) == WG_ERR_AUTH,
                          "flip at %zu still verifies", i);
            checked++;
        }
        b.data[i] ^= 0x01;
    }
    ck_assert_int_gt(checked, 100);
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_cert_encode_refuses_bad_fields)
{
    node r = mk(), o = mk();
    wg_cert c = certify(&r, &o, "rongan", "450224", 0, 0, 1);
    wg_cert x = c;
    snprintf(x.name, sizeof x.name, "bad name");
    ck_assert_int_eq(wg_cert_sign(&x, r.sk, NULL), WG_ERR_INVALID);
    x = c;
    snprintf(x.scope, sizeof x.scope, "4502");
    ck_assert_int_eq(wg_cert_sign(&x, r.sk, NULL), WG_ERR_INVALID);
    x = c;
    x.not_after = x.not_before - 1;
    ck_assert_int_eq(wg_cert_sign(&x, r.sk, NULL), WG_ERR_INVALID);
}
END_TEST

START_TEST(test_revoke_round_trip_signature_and_bad_reason)
{
    node r = mk(), o = mk();
    wg_revoke v, d;
    memset(&v, 0, sizeof v);
    memcpy(v.subject, o.pk, WG_SIGN_PK_BYTES);
    v.serial = 9;
    v.time = NOW;
    v.ncut = 2;
    snprintf(v.cut[0].partition, sizeof v.cut[0].partition, "450224");
    v.cut[0].head = 41;
    snprintf(v.cut[1].partition, sizeof v.cut[1].partition, "audit");
    v.cut[1].head = 3;
    snprintf(v.reason, sizeof v.reason, "PC stolen 被盗");
    ck_assert_int_eq(wg_revoke_sign(&v, r.sk, NULL), WG_OK);
    wg_buf b, b2;
    wg_buf_init(&b, WG_REVOKE_MAX_BYTES);
    wg_buf_init(&b2, WG_REVOKE_MAX_BYTES);
    ck_assert_int_eq(wg_revoke_encode(&v, &b, NULL), WG_OK);
    ck_assert_int_eq(wg_revoke_decode(b.data, b.len, &d, NULL), WG_OK);
    ck_assert_int_eq(wg_revoke_verify(&d, NULL), WG_OK);
    ck_assert_uint_eq(d.cut[0].head, 41);
    ck_assert_str_eq(d.cut[1].partition, "audit");
    ck_assert_str_eq(d.reason, "PC stolen 被盗");
    ck_assert_int_eq(wg_revoke_encode(&d, &b2, NULL), WG_OK);
    ck_assert_mem_eq(b.data, b2.data, b.len);
    for (size_t n = 0; n < b.len; n++)
        ck_assert_int_eq(wg_revoke_decode(b.data, n, &d, NULL), WG_ERR_CORRUPT);
    b.data[b.len - WG_SIG_BYTES - 1] ^= 0x02; /* last reason byte */
    if (wg_revoke_decode(b.data, b.len, &d, NULL) == WG_OK)
        ck_assert_int_eq(wg_revoke_verify(&d, NULL), WG_ERR_AUTH);
    /* A terminal escape or C1 control in a reason is refused. */
    snprintf(v.reason, sizeof v.reason, "x\x1b[2Jy");
    ck_assert_int_eq(wg_revoke_sign(&v, r.sk, NULL), WG_ERR_INVALID);
    snprintf(v.reason, sizeof v.reason, "x\xc2\x9b" "2Jy");
    ck_assert_int_eq(wg_revoke_sign(&v, r.sk, NULL), WG_ERR_INVALID);
    snprintf(v.reason, sizeof v.reason, "x\xe4\xb8");
    ck_assert_int_eq(wg_revoke_sign(&v, r.sk, NULL), WG_ERR_INVALID);
    wg_buf_release(&b);
    wg_buf_release(&b2);
}
END_TEST

/* ---- areas -------------------------------------------------------------------- */

START_TEST(test_cert_area_is_taken_by_the_codes_level)
{
    char a[7];
    wg_cert_area("451000", 1, a);
    ck_assert_str_eq(a, "4510");
    wg_cert_area("450000", 1, a);
    ck_assert_str_eq(a, "45");
    wg_cert_area("000000", 1, a);
    ck_assert_str_eq(a, "");
    wg_cert_area("500000", 1, a);
    ck_assert_str_eq(a, "50");
    wg_cert_area("450224", 1, a);
    ck_assert_str_eq(a, "450224");
    wg_cert_area("450000", 0, a); /* an office: its code, whatever it is */
    ck_assert_str_eq(a, "450000");
    /* No division code, no area: never "" (which would be everything). */
    ck_assert_int_eq(wg_cert_area("4502", 1, a), -1);
    ck_assert(!wg_cert_area_holds("4502", 1, "450224"));
    ck_assert(!wg_cert_area_within("45022x", 0, "450000", 1));
    /* The same rule as a node's own area (store/ident.c). */
    char b[7];
    const char *codes[] = { "000000", "450000", "451000", "450224", "500000" };
    for (int i = 0; i < 5; i++)
        for (int role = 0; role < 2; role++) {
            ck_assert_int_eq(wg_cert_area(codes[i], role, a),
                             wg_ident_area_prefix(codes[i], (wg_role)role, b));
            ck_assert_str_eq(a, b);
        }
    ck_assert(wg_cert_area_holds("451000", 1, "451021"));
    ck_assert(!wg_cert_area_holds("451000", 1, "451121")); /* Hezhou */
    ck_assert(!wg_cert_area_holds("451000", 1, "451000x"));
    ck_assert(wg_cert_area_holds("000000", 1, "650102"));
    ck_assert(wg_cert_area_holds("500000", 1, "500101"));
    ck_assert(!wg_cert_area_holds("500000", 1, "510101"));
    ck_assert(wg_cert_area_holds("450224", 0, "450224"));
    ck_assert(!wg_cert_area_holds("450224", 0, "450225"));
    ck_assert(wg_cert_area_within("451000", 1, "450000", 1));
    ck_assert(wg_cert_area_within("451021", 0, "451000", 1));
    ck_assert(!wg_cert_area_within("451121", 0, "451000", 1));
    ck_assert(!wg_cert_area_within("450000", 1, "451000", 1));
    ck_assert(wg_cert_area_within("450000", 1, "450000", 1));
}
END_TEST

/* ---- chains ------------------------------------------------------------------- */

START_TEST(test_cert_chain_root_prefecture_office_holds)
{
    node root = mk(), pref = mk(), off = mk();
    book b = { .n = 0 };
    b.c[b.n++] = certify(&root, &root, "gx", "450000", 1, 1, 1);
    b.c[b.n++] = certify(&root, &pref, "liuzhou", "450200", 1, 1, 2);
    wg_cert o = certify(&pref, &off, "rongan", "450224", 0, 0, 3);
    wg_err err;
    ck_assert_msg(chain(&b, &o, &root, NOW, &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(chain(&b, &b.c[0], &root, NOW, NULL), WG_OK);
    /* Another network's root: the same chain fails. */
    node other = mk();
    ck_assert_int_eq(chain(&b, &o, &other, NOW, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "not the network's root"));
}
END_TEST

START_TEST(test_cert_chain_refuses_a_scope_outside_the_issuers_area)
{
    node root = mk(), baise = mk(), off = mk(), pref = mk();
    book b = { .n = 0 };
    b.c[b.n++] = certify(&root, &root, "gx", "450000", 1, 1, 1);
    b.c[b.n++] = certify(&root, &baise, "baise", "451000", 1, 1, 2);
    wg_err err;
    /* Baise (4510xx) certifying a Hezhou county (4511xx). */
    wg_cert o = certify(&baise, &off, "babu", "451102", 0, 0, 3);
    ck_assert_int_eq(chain(&b, &o, &root, NOW, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "outside its issuer's area"));
    /* ... or a whole province. */
    wg_cert p = certify(&baise, &pref, "gx2", "450000", 1, 1, 4);
    ck_assert_int_eq(chain(&b, &p, &root, NOW, NULL), WG_ERR_AUTH);
    /* Inside its area: fine. */
    wg_cert in = certify(&baise, &off, "youjiang", "451002", 0, 0, 5);
    ck_assert_int_eq(chain(&b, &in, &root, NOW, NULL), WG_OK);
}
END_TEST

START_TEST(test_cert_chain_refuses_office_issuers_revoked_expired_and_loops)
{
    node root = mk(), pref = mk(), off = mk(), off2 = mk(), x = mk(), y = mk();
    book b = { .n = 0 };
    b.c[b.n++] = certify(&root, &root, "gx", "450000", 1, 1, 1);
    b.c[b.n++] = certify(&root, &pref, "liuzhou", "450200", 1, 1, 2);
    b.c[b.n++] = certify(&pref, &off, "rongan", "450224", 0, 0, 3);
    wg_err err;
    /* An office enrolling another. */
    wg_cert o2 = certify(&off, &off2, "rongan2", "450224", 0, 0, 4);
    ck_assert_int_eq(chain(&b, &o2, &root, NOW, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "may not enrol"));
    /* An HQ without the enrol flag. */
    b.c[1] = certify(&root, &pref, "liuzhou", "450200", 1, 0, 2);
    ck_assert_int_eq(chain(&b, &b.c[2], &root, NOW, NULL), WG_ERR_AUTH);
    b.c[1] = certify(&root, &pref, "liuzhou", "450200", 1, 1, 2);
    ck_assert_int_eq(chain(&b, &b.c[2], &root, NOW, NULL), WG_OK);
    /* Expired, not yet valid. */
    ck_assert_int_eq(chain(&b, &b.c[2], &root, NOW + 400 * DAY, &err),
                     WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "not valid now"));
    ck_assert_int_eq(chain(&b, &b.c[2], &root, NOW - 2 * DAY, NULL),
                     WG_ERR_AUTH);
    /* A revoked prefecture takes its offices with it. */
    memcpy(b.revoked[b.nrev++], pref.pk, WG_SIGN_PK_BYTES);
    ck_assert_int_eq(chain(&b, &b.c[2], &root, NOW, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "liuzhou"));
    b.nrev = 0;
    /* Unknown issuer; and two HQs certifying each other, never reaching
     * the root. */
    wg_cert lone = certify(&x, &off2, "lone", "450224", 0, 0, 5);
    ck_assert_int_eq(chain(&b, &lone, &root, NOW, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown"));
    book l = { .n = 0 };
    l.c[l.n++] = certify(&y, &x, "x", "450000", 1, 1, 6);
    l.c[l.n++] = certify(&x, &y, "y", "450000", 1, 1, 7);
    ck_assert_int_eq(chain(&l, &l.c[0], &root, NOW, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
    /* A self-signed office claiming to be the root. */
    node fake = mk();
    wg_cert f = certify(&fake, &fake, "fake", "450224", 0, 1, 8);
    ck_assert_int_eq(chain(&b, &f, &fake, NOW, NULL), WG_ERR_AUTH);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_codec, test_cert_round_trip_is_byte_identical),
    TU_TEST(case_codec, test_cert_every_truncation_and_trailing_byte_is_corrupt),
    TU_TEST(case_codec, test_cert_each_malformed_field_is_refused),
    TU_TEST(case_codec, test_cert_any_flipped_byte_fails_its_signature),
    TU_TEST(case_codec, test_cert_encode_refuses_bad_fields),
    TU_TEST(case_codec, test_revoke_round_trip_signature_and_bad_reason),
    TU_TEST(case_area, test_cert_area_is_taken_by_the_codes_level),
    TU_TEST(case_chain, test_cert_chain_root_prefecture_office_holds),
    TU_TEST(case_chain, test_cert_chain_refuses_a_scope_outside_the_issuers_area),
    TU_TEST(case_chain, test_cert_chain_refuses_office_issuers_revoked_expired_and_loops),
};

int main(void)
{
    return tu_run_after(wg_crypto_init(NULL), TU_SUITE("cert", tests));
}
