/*
 * cert.c - membership certificates and revocations: codec, signatures,
 * areas and chains (layouts in wg_cert.h)
 *
 * Every byte here may come from a peer or a join token: decoders read
 * through wg_reader, refuse trailing bytes, and check each field's range,
 * so what decodes re-encodes to the same bytes.
 */
#include "wg_cert.h"

#include "wg_ident.h"

#include <stdio.h>
#include <string.h>

#define SIG_DOMAIN "wings-cert"

/* ---- field rules ---------------------------------------------------------- */

/* The rules of names and codes are the identity rules (store/ident.c): a
 * certificate names a node as `init` named it (三江 included), and its
 * scope is a division code. */
static int name_ok(const char *s, size_t n)
{
    return n <= WG_CERT_NAME_MAX && wg_ident_name_ok(s, n);
}

static int code_ok(const char *s, size_t n)
{
    return wg_ident_county_ok(s, n);
}

static int partition_ok(const char *s, size_t n)
{
    if (n < 1 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* Printable, no control bytes (C0, DEL) and no terminal escapes: reasons are
 * shown by `members` and `audit`. UTF-8 multibyte sequences are let through
 * when well formed. */
static int reason_ok(const char *s, size_t n)
{
    if (n > WG_CERT_REASON_MAX)
        return 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
        if (k == 0 || c > 0xf4 || i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++)
            if (i + j >= n || ((unsigned char)s[i + j] & 0xc0) != 0x80)
                return 0;
        unsigned char d = (unsigned char)s[i + 1];
        if ((c == 0xe0 && d < 0xa0) || (c == 0xed && d > 0x9f) ||
            (c == 0xf0 && d < 0x90) || (c == 0xf4 && d > 0x8f))
            return 0; /* overlong, surrogate or beyond U+10FFFF */
        if (c == 0xc2 && d >= 0x80 && d <= 0x9f)
            return 0; /* C1 controls, CSI among them */
        i += k + 1;
    }
    return 1;
}

/* ---- certificates ----------------------------------------------------------- */

static wg_rc cert_body(const wg_cert *c, wg_buf *out, wg_err *err)
{
    size_t nl = strnlen(c->name, sizeof c->name);
    size_t sl = strnlen(c->scope, sizeof c->scope);
    if (!name_ok(c->name, nl))
        return wg_err_set(err, WG_ERR_INVALID, "certificate name: 1 to %d "
                          "letters, digits, '-', '_' or '.'",
                          WG_CERT_NAME_MAX);
    if (!code_ok(c->scope, sl))
        return wg_err_set(err, WG_ERR_INVALID, "certificate scope: six digits");
    if (c->role > 1 || c->may_enrol > 1)
        return wg_err_set(err, WG_ERR_INVALID, "certificate role or flags out "
                          "of range");
    if (c->not_after < c->not_before)
        return wg_err_set(err, WG_ERR_INVALID, "certificate ends before it "
                          "starts");
    wg_rc rc = wg_buf_append_u8(out, WG_CERT_KIND, err);
    if (!rc) rc = wg_buf_append_u8(out, WG_CERT_VERSION, err);
    if (!rc) rc = wg_buf_append(out, c->issuer, WG_SIGN_PK_BYTES, err);
    if (!rc) rc = wg_buf_append(out, c->subject, WG_SIGN_PK_BYTES, err);
    if (!rc) rc = wg_buf_append_u8(out, (uint8_t)nl, err);
    if (!rc) rc = wg_buf_append(out, c->name, nl, err);
    if (!rc) rc = wg_buf_append(out, c->scope, sl, err);
    if (!rc) rc = wg_buf_append_u8(out, c->role, err);
    if (!rc) rc = wg_buf_append_u8(out, c->may_enrol ? WG_CERT_FLAG_ENROL : 0,
                                   err);
    if (!rc) rc = wg_buf_append_u64(out, c->not_before, err);
    if (!rc) rc = wg_buf_append_u64(out, c->not_after, err);
    if (!rc) rc = wg_buf_append_u64(out, c->serial, err);
    return rc;
}

wg_rc wg_cert_encode(const wg_cert *c, wg_buf *out, wg_err *err)
{
    wg_rc rc = cert_body(c, out, err);
    return rc ? rc : wg_buf_append(out, c->sig, WG_SIG_BYTES, err);
}

wg_rc wg_cert_decode(const uint8_t *p, size_t n, wg_cert *c, wg_err *err)
{
    wg_reader r;
    const uint8_t *b;
    uint8_t kind, ver, nl, flags;
    memset(c, 0, sizeof *c);
    wg_reader_init(&r, p, n);
    if (n > WG_CERT_MAX_BYTES)
        return wg_err_set(err, WG_ERR_CORRUPT, "certificate of %zu bytes "
                          "(limit %d)", n, WG_CERT_MAX_BYTES);
    if (!wg_reader_u8(&r, &kind) || kind != WG_CERT_KIND ||
        !wg_reader_u8(&r, &ver) || ver != WG_CERT_VERSION)
        return wg_err_set(err, WG_ERR_CORRUPT, "not a version %d certificate",
                          WG_CERT_VERSION);
    if (!wg_reader_bytes(&r, WG_SIGN_PK_BYTES, &b))
        goto short_;
    memcpy(c->issuer, b, WG_SIGN_PK_BYTES);
    if (!wg_reader_bytes(&r, WG_SIGN_PK_BYTES, &b))
        goto short_;
    memcpy(c->subject, b, WG_SIGN_PK_BYTES);
    if (!wg_reader_u8(&r, &nl) || !wg_reader_bytes(&r, nl, &b))
        goto short_;
    if (!name_ok((const char *)b, nl))
        return wg_err_set(err, WG_ERR_CORRUPT, "certificate name malformed");
    memcpy(c->name, b, nl);
    if (!wg_reader_bytes(&r, WG_CERT_CODE_CHARS, &b))
        goto short_;
    if (!code_ok((const char *)b, WG_CERT_CODE_CHARS))
        return wg_err_set(err, WG_ERR_CORRUPT, "certificate scope malformed");
    memcpy(c->scope, b, WG_CERT_CODE_CHARS);
    if (!wg_reader_u8(&r, &c->role) || !wg_reader_u8(&r, &flags))
        goto short_;
    if (c->role > 1 || (flags & ~WG_CERT_FLAG_ENROL))
        return wg_err_set(err, WG_ERR_CORRUPT, "certificate role or flags "
                          "unknown");
    c->may_enrol = flags & WG_CERT_FLAG_ENROL;
    if (!wg_reader_u64(&r, &c->not_before) ||
        !wg_reader_u64(&r, &c->not_after) || !wg_reader_u64(&r, &c->serial) ||
        !wg_reader_bytes(&r, WG_SIG_BYTES, &b))
        goto short_;
    memcpy(c->sig, b, WG_SIG_BYTES);
    if (c->not_after < c->not_before)
        return wg_err_set(err, WG_ERR_CORRUPT, "certificate ends before it "
                          "starts");
    if (wg_reader_left(&r))
        return wg_err_set(err, WG_ERR_CORRUPT, "certificate has %zu trailing "
                          "bytes", wg_reader_left(&r));
    return WG_OK;
short_:
    return wg_err_set(err, WG_ERR_CORRUPT, "certificate is truncated");
}

static void signed_hash(const uint8_t *body, size_t n, uint8_t h[WG_HASH_BYTES])
{
    wg_hash_state s;
    wg_hash_init(&s);
    wg_hash_update(&s, SIG_DOMAIN, sizeof SIG_DOMAIN - 1);
    wg_hash_update(&s, body, n);
    wg_hash_final(&s, h);
}

/* Signs the body in B into SIG with SK, if BODY_RC says it was built;
 * releases B and returns BODY_RC. */
static wg_rc sign_body(wg_rc body_rc, wg_buf *b, uint8_t sig[WG_SIG_BYTES],
                       const uint8_t sk[WG_SIGN_SK_BYTES])
{
    if (body_rc == WG_OK) {
        uint8_t h[WG_HASH_BYTES];
        signed_hash(b->data, b->len, h);
        wg_sign(sig, h, sizeof h, sk);
    }
    wg_buf_release(b);
    return body_rc;
}

/* Whether SIG by ISSUER signs the body in B (BODY_RC says whether it was
 * built: if not, it does not); releases B. */
static int body_verifies(wg_rc body_rc, wg_buf *b,
                         const uint8_t sig[WG_SIG_BYTES],
                         const uint8_t issuer[WG_SIGN_PK_BYTES])
{
    int ok = 0;
    if (body_rc == WG_OK) {
        uint8_t h[WG_HASH_BYTES];
        signed_hash(b->data, b->len, h);
        ok = wg_verify(sig, h, sizeof h, issuer) == WG_OK;
    }
    wg_buf_release(b);
    return ok;
}

wg_rc wg_cert_sign(wg_cert *c, const uint8_t sk[WG_SIGN_SK_BYTES], wg_err *err)
{
    wg_buf b;
    memcpy(c->issuer, sk + 32, WG_SIGN_PK_BYTES);
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    return sign_body(cert_body(c, &b, err), &b, c->sig, sk);
}

wg_rc wg_cert_verify(const wg_cert *c, wg_err *err)
{
    wg_buf b;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    wg_rc rc = cert_body(c, &b, err);
    if (body_verifies(rc, &b, c->sig, c->issuer))
        return WG_OK;
    if (rc != WG_OK)
        return WG_ERR_AUTH; /* ERR says what is wrong with the body */
    return wg_err_set(err, WG_ERR_AUTH, "certificate of '%s' has a bad "
                      "signature", c->name);
}

/* ---- revocations ------------------------------------------------------------ */

static wg_rc revoke_body(const wg_revoke *r, wg_buf *out, wg_err *err)
{
    size_t rl = strnlen(r->reason, sizeof r->reason);
    if (r->ncut > WG_CERT_MAX_CUTS || !reason_ok(r->reason, rl))
        return wg_err_set(err, WG_ERR_INVALID, "revocation: at most %d feeds "
                          "and a reason of at most %d printable bytes",
                          WG_CERT_MAX_CUTS, WG_CERT_REASON_MAX);
    wg_rc rc = wg_buf_append_u8(out, WG_REVOKE_KIND, err);
    if (!rc) rc = wg_buf_append_u8(out, WG_CERT_VERSION, err);
    if (!rc) rc = wg_buf_append(out, r->issuer, WG_SIGN_PK_BYTES, err);
    if (!rc) rc = wg_buf_append(out, r->subject, WG_SIGN_PK_BYTES, err);
    if (!rc) rc = wg_buf_append_u64(out, r->serial, err);
    if (!rc) rc = wg_buf_append_u64(out, r->time, err);
    if (!rc) rc = wg_buf_append_u8(out, r->ncut, err);
    for (int i = 0; !rc && i < r->ncut; i++) {
        size_t pl = strnlen(r->cut[i].partition, sizeof r->cut[i].partition);
        if (!partition_ok(r->cut[i].partition, pl))
            return wg_err_set(err, WG_ERR_INVALID, "revocation: partition %d "
                              "malformed", i);
        rc = wg_buf_append_u8(out, (uint8_t)pl, err);
        if (!rc) rc = wg_buf_append(out, r->cut[i].partition, pl, err);
        if (!rc) rc = wg_buf_append_u64(out, r->cut[i].head, err);
    }
    if (!rc) rc = wg_buf_append_u8(out, (uint8_t)rl, err);
    if (!rc) rc = wg_buf_append(out, r->reason, rl, err);
    return rc;
}

wg_rc wg_revoke_encode(const wg_revoke *r, wg_buf *out, wg_err *err)
{
    wg_rc rc = revoke_body(r, out, err);
    return rc ? rc : wg_buf_append(out, r->sig, WG_SIG_BYTES, err);
}

wg_rc wg_revoke_decode(const uint8_t *p, size_t n, wg_revoke *r, wg_err *err)
{
    wg_reader rd;
    const uint8_t *b;
    uint8_t kind, ver, len;
    memset(r, 0, sizeof *r);
    if (n > WG_REVOKE_MAX_BYTES)
        return wg_err_set(err, WG_ERR_CORRUPT, "revocation of %zu bytes "
                          "(limit %d)", n, WG_REVOKE_MAX_BYTES);
    wg_reader_init(&rd, p, n);
    if (!wg_reader_u8(&rd, &kind) || kind != WG_REVOKE_KIND ||
        !wg_reader_u8(&rd, &ver) || ver != WG_CERT_VERSION)
        return wg_err_set(err, WG_ERR_CORRUPT, "not a version %d revocation",
                          WG_CERT_VERSION);
    if (!wg_reader_bytes(&rd, WG_SIGN_PK_BYTES, &b))
        goto short_;
    memcpy(r->issuer, b, WG_SIGN_PK_BYTES);
    if (!wg_reader_bytes(&rd, WG_SIGN_PK_BYTES, &b))
        goto short_;
    memcpy(r->subject, b, WG_SIGN_PK_BYTES);
    if (!wg_reader_u64(&rd, &r->serial) || !wg_reader_u64(&rd, &r->time) ||
        !wg_reader_u8(&rd, &r->ncut))
        goto short_;
    if (r->ncut > WG_CERT_MAX_CUTS)
        return wg_err_set(err, WG_ERR_CORRUPT, "revocation names %u feeds "
                          "(limit %d)", r->ncut, WG_CERT_MAX_CUTS);
    for (int i = 0; i < r->ncut; i++) {
        if (!wg_reader_u8(&rd, &len) || !wg_reader_bytes(&rd, len, &b))
            goto short_;
        if (!partition_ok((const char *)b, len))
            return wg_err_set(err, WG_ERR_CORRUPT, "revocation partition "
                              "malformed");
        memcpy(r->cut[i].partition, b, len);
        if (!wg_reader_u64(&rd, &r->cut[i].head))
            goto short_;
    }
    if (!wg_reader_u8(&rd, &len) || !wg_reader_bytes(&rd, len, &b))
        goto short_;
    if (!reason_ok((const char *)b, len))
        return wg_err_set(err, WG_ERR_CORRUPT, "revocation reason malformed");
    memcpy(r->reason, b, len);
    if (!wg_reader_bytes(&rd, WG_SIG_BYTES, &b))
        goto short_;
    memcpy(r->sig, b, WG_SIG_BYTES);
    if (wg_reader_left(&rd))
        return wg_err_set(err, WG_ERR_CORRUPT, "revocation has %zu trailing "
                          "bytes", wg_reader_left(&rd));
    return WG_OK;
short_:
    return wg_err_set(err, WG_ERR_CORRUPT, "revocation is truncated");
}

wg_rc wg_revoke_sign(wg_revoke *r, const uint8_t sk[WG_SIGN_SK_BYTES],
                     wg_err *err)
{
    wg_buf b;
    memcpy(r->issuer, sk + 32, WG_SIGN_PK_BYTES);
    wg_buf_init(&b, WG_REVOKE_MAX_BYTES);
    return sign_body(revoke_body(r, &b, err), &b, r->sig, sk);
}

wg_rc wg_revoke_verify(const wg_revoke *r, wg_err *err)
{
    wg_buf b;
    wg_buf_init(&b, WG_REVOKE_MAX_BYTES);
    wg_rc rc = revoke_body(r, &b, err);
    if (body_verifies(rc, &b, r->sig, r->issuer))
        return WG_OK;
    if (rc != WG_OK)
        return WG_ERR_AUTH; /* ERR says what is wrong with the body */
    return wg_err_set(err, WG_ERR_AUTH, "revocation has a bad signature");
}

/* ---- areas ------------------------------------------------------------------ */

/* The area rule is the one of store/ident.c: a certificate's scope and
 * role name the same area as a node's county and role. */
int wg_cert_area(const char *code, int role, char *out)
{
    return wg_ident_area_prefix(code, (wg_role)role, out);
}

int wg_cert_area_holds(const char *code, int role, const char *county)
{
    return wg_ident_area_contains(code, (wg_role)role, county);
}

int wg_cert_covers(const wg_cert *c, const char *county)
{
    return wg_cert_area_holds(c->scope, c->role, county);
}

int wg_cert_area_within(const char *inner, int inner_role, const char *outer,
                        int outer_role)
{
    char a[WG_CERT_CODE_CHARS + 1], b[WG_CERT_CODE_CHARS + 1];
    if (wg_cert_area(inner, inner_role, a) < 0 ||
        wg_cert_area(outer, outer_role, b) < 0)
        return 0;
    return strlen(a) >= strlen(b) && strncmp(a, b, strlen(b)) == 0;
}

/* ---- chains ------------------------------------------------------------------ */

static void short_key(char out[9], const uint8_t *key)
{
    wg_hex_encode(out, key, 4);
}

wg_rc wg_cert_chain_verify(const wg_cert *c, const uint8_t root[WG_SIGN_PK_BYTES],
                           const wg_cert_source *src, uint64_t now,
                           wg_err *err)
{
    char who[9];
    for (int depth = 0; depth < WG_CERT_MAX_DEPTH; depth++) {
        short_key(who, c->subject);
        if (wg_cert_verify(c, NULL) != WG_OK)
            return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s) has a "
                              "bad signature", c->name, who);
        if (now < c->not_before || now > c->not_after)
            return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s) is not "
                              "valid now", c->name, who);
        if (src->revoked && src->revoked(src->ctx, c->subject, c->serial))
            return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s) is "
                              "revoked", c->name, who);
        int self = !memcmp(c->issuer, c->subject, WG_SIGN_PK_BYTES);
        if (self) {
            if (memcmp(c->subject, root, WG_SIGN_PK_BYTES) != 0)
                return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s) is "
                                  "self-signed but not the network's root",
                                  c->name, who);
            if (c->role != 1)
                return wg_err_set(err, WG_ERR_AUTH, "the root's certificate is "
                                  "not an hq's");
            return WG_OK;
        }
        const wg_cert *up = src->lookup(src->ctx, c->issuer);
        char iss[9];
        short_key(iss, c->issuer);
        if (!up)
            return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s): its "
                              "issuer %s is unknown", c->name, who, iss);
        if (up->role != 1 || !up->may_enrol)
            return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s): its "
                              "issuer %s may not enrol", c->name, who, iss);
        if (!wg_cert_area_within(c->scope, c->role, up->scope, up->role))
            return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s) for "
                              "%s lies outside its issuer's area (%s)",
                              c->name, who, c->scope, up->scope);
        if (c->not_before < up->not_before || c->not_after > up->not_after)
            return wg_err_set(err, WG_ERR_AUTH, "certificate of %s (%s) "
                              "outlives its issuer's", c->name, who);
        c = up;
    }
    return wg_err_set(err, WG_ERR_AUTH, "certificate chain longer than %d "
                      "links", WG_CERT_MAX_DEPTH);
}

/* ---- join tokens ---------------------------------------------------------------- */

wg_rc wg_token_encode(const wg_token *t, wg_buf *out, wg_err *err)
{
    size_t nl = strnlen(t->name, sizeof t->name);
    size_t el = strnlen(t->endpoint, sizeof t->endpoint);
    if (t->ncerts < 1 || t->ncerts > WG_CERT_MAX_DEPTH || !name_ok(t->name, nl) ||
        el < 1 || el > WG_TOKEN_ENDPOINT_MAX)
        return wg_err_set(err, WG_ERR_INVALID, "token fields out of range");
    for (size_t i = 0; i < el; i++)
        if (t->endpoint[i] < 0x21 || t->endpoint[i] > 0x7e)
            return wg_err_set(err, WG_ERR_INVALID, "token endpoint not "
                              "printable");
    wg_rc rc = wg_buf_append_u8(out, WG_TOKEN_KIND, err);
    if (!rc) rc = wg_buf_append_u8(out, WG_CERT_VERSION, err);
    if (!rc) rc = wg_buf_append_u8(out, (uint8_t)t->ncerts, err);
    for (int i = 0; !rc && i < t->ncerts; i++) {
        wg_buf c;
        wg_buf_init(&c, WG_CERT_MAX_BYTES);
        rc = wg_cert_encode(&t->certs[i], &c, err);
        if (!rc) rc = wg_buf_append_u16(out, (uint16_t)c.len, err);
        if (!rc) rc = wg_buf_append(out, c.data, c.len, err);
        wg_buf_release(&c);
    }
    if (!rc) rc = wg_buf_append_u8(out, (uint8_t)nl, err);
    if (!rc) rc = wg_buf_append(out, t->name, nl, err);
    if (!rc) rc = wg_buf_append_u16(out, (uint16_t)el, err);
    if (!rc) rc = wg_buf_append(out, t->endpoint, el, err);
    return rc;
}

wg_rc wg_token_decode(const uint8_t *p, size_t n, wg_token *t, wg_err *err)
{
    wg_reader r;
    const uint8_t *b;
    uint8_t kind, ver, nc, nl;
    uint16_t len;
    memset(t, 0, sizeof *t);
    if (n > WG_TOKEN_MAX_BYTES)
        return wg_err_set(err, WG_ERR_CORRUPT, "token too long");
    wg_reader_init(&r, p, n);
    if (!wg_reader_u8(&r, &kind) || kind != WG_TOKEN_KIND ||
        !wg_reader_u8(&r, &ver) || ver != WG_CERT_VERSION ||
        !wg_reader_u8(&r, &nc) || nc < 1 || nc > WG_CERT_MAX_DEPTH)
        return wg_err_set(err, WG_ERR_CORRUPT, "not a version %d join token",
                          WG_CERT_VERSION);
    for (int i = 0; i < nc; i++) {
        if (!wg_reader_u16(&r, &len) || !wg_reader_bytes(&r, len, &b))
            return wg_err_set(err, WG_ERR_CORRUPT, "token is truncated");
        wg_rc rc = wg_cert_decode(b, len, &t->certs[i], err);
        if (rc)
            return rc;
    }
    t->ncerts = nc;
    if (!wg_reader_u8(&r, &nl) || !wg_reader_bytes(&r, nl, &b) ||
        !name_ok((const char *)b, nl))
        return wg_err_set(err, WG_ERR_CORRUPT, "token's enroller name "
                          "malformed");
    memcpy(t->name, b, nl);
    if (!wg_reader_u16(&r, &len) || len < 1 || len > WG_TOKEN_ENDPOINT_MAX ||
        !wg_reader_bytes(&r, len, &b))
        return wg_err_set(err, WG_ERR_CORRUPT, "token's endpoint malformed");
    for (size_t i = 0; i < len; i++)
        if (b[i] < 0x21 || b[i] > 0x7e)
            return wg_err_set(err, WG_ERR_CORRUPT, "token's endpoint "
                              "malformed");
    memcpy(t->endpoint, b, len);
    if (wg_reader_left(&r))
        return wg_err_set(err, WG_ERR_CORRUPT, "token has trailing bytes");
    return WG_OK;
}
