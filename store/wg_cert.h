/*
 * wg_cert.h - membership certificates and revocations: codec and chains
 *
 * A certificate is a small signed statement by an issuer about a subject
 * key: its name, role, scope (a county code for an office, the HQ's own
 * code for an HQ, whose area is taken by the code's level), whether it may
 * enrol others, validity and serial. A revocation is a signed statement by
 * an issuer that a subject's certificate ends, with a cut-off: the heads of
 * the subject's feeds as the issuer knew them. Both are bounded byte
 * strings (big-endian integers), decoded through wg_reader:
 *
 *   certificate                         revocation
 *   u8  kind = 1                        u8  kind = 2
 *   u8  version = 1                     u8  version = 1
 *   32  issuer (Ed25519)                32  issuer (Ed25519)
 *   32  subject (Ed25519)               32  subject (Ed25519)
 *   u8  name length 1..64, name         u64 serial of the revoked cert
 *   6   scope (six ASCII digits)        u64 time (unix seconds)
 *   u8  role (0 office, 1 hq)           u8  ncut 0..WG_CERT_MAX_CUTS, each:
 *   u8  flags (bit 0 may enrol)               u8 partition length 1..16,
 *   u64 not before (unix seconds)             partition, u64 head seq
 *   u64 not after  (unix seconds)       u8  reason length 0..120, reason
 *   u64 serial                          64  signature
 *   64  signature
 *
 * The signature is Ed25519 by the issuer over "wings-cert" || every byte
 * before it, so a certificate can never be replayed as a change or a
 * revocation. The encoding is canonical: decode then encode gives the same
 * bytes.
 *
 * The root certifies itself (issuer == subject). Every other certificate
 * chains upward to it: each issuer holds a valid, unrevoked HQ certificate
 * that may enrol and whose area holds the subject's scope.
 */
#ifndef WG_CERT_H
#define WG_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "wg_buf.h"
#include "wg_crypto.h"
#include "wg_err.h"

#define WG_CERT_KIND 1
#define WG_REVOKE_KIND 2
#define WG_CERT_VERSION 1
#define WG_CERT_NAME_MAX 64
#define WG_CERT_CODE_CHARS 6
#define WG_CERT_MAX_CUTS 8
#define WG_CERT_REASON_MAX 120
#define WG_CERT_MAX_BYTES 256
#define WG_REVOKE_MAX_BYTES (128 + WG_CERT_MAX_CUTS * 25 + WG_CERT_REASON_MAX)
#define WG_CERT_MAX_DEPTH 8          /* root, province, prefecture, ... */
#define WG_CERT_FLAG_ENROL 1

typedef struct wg_cert {
    uint8_t issuer[WG_SIGN_PK_BYTES];
    uint8_t subject[WG_SIGN_PK_BYTES];
    char name[WG_CERT_NAME_MAX + 1];
    char scope[WG_CERT_CODE_CHARS + 1];
    uint8_t role;                 /* 0 office, 1 hq (as wg_role) */
    uint8_t may_enrol;
    uint64_t not_before, not_after;
    uint64_t serial;
    uint8_t sig[WG_SIG_BYTES];
} wg_cert;

typedef struct wg_cut {
    char partition[16 + 1];
    uint64_t head;
} wg_cut;

typedef struct wg_revoke {
    uint8_t issuer[WG_SIGN_PK_BYTES];
    uint8_t subject[WG_SIGN_PK_BYTES];
    uint64_t serial;
    uint64_t time;
    uint8_t ncut;
    wg_cut cut[WG_CERT_MAX_CUTS];
    char reason[WG_CERT_REASON_MAX + 1];
    uint8_t sig[WG_SIG_BYTES];
} wg_revoke;

/* Append C's bytes (signature included) to OUT. WG_ERR_INVALID when a
 * field breaks a bound (name, scope, role, validity order). */
wg_rc wg_cert_encode(const wg_cert *c, wg_buf *out, wg_err *err);
/* Decode exactly N bytes into *C. WG_ERR_CORRUPT for anything malformed:
 * short, trailing bytes, wrong kind or version, a bad name or scope, an
 * unknown role or flag, not_after before not_before. The signature is NOT
 * checked here: see wg_cert_verify(). */
wg_rc wg_cert_decode(const uint8_t *p, size_t n, wg_cert *c, wg_err *err);
/* Set C->issuer to SK's public half and sign. WG_ERR_INVALID as encode. */
wg_rc wg_cert_sign(wg_cert *c, const uint8_t sk[WG_SIGN_SK_BYTES],
                   wg_err *err);
/* WG_OK when C's signature verifies under C->issuer; WG_ERR_AUTH else. */
wg_rc wg_cert_verify(const wg_cert *c, wg_err *err);

wg_rc wg_revoke_encode(const wg_revoke *r, wg_buf *out, wg_err *err);
wg_rc wg_revoke_decode(const uint8_t *p, size_t n, wg_revoke *r,
                       wg_err *err);
wg_rc wg_revoke_sign(wg_revoke *r, const uint8_t sk[WG_SIGN_SK_BYTES],
                     wg_err *err);
wg_rc wg_revoke_verify(const wg_revoke *r, wg_err *err);

/* ---- areas ---------------------------------------------------------------- */

/* The partition prefix a node of CODE and ROLE (0 office, 1 hq) covers:
 * wg_ident_area_prefix(), the one home of the rule (by the code's level,
 * never by stripping zeros: an office its own code; an HQ 000000 -> "",
 * XX0000 -> "XX", XXYY00 -> "XXYY", any other code -> itself). OUT holds
 * WG_CERT_CODE_CHARS + 1 bytes. Returns its length, or -1 (OUT "") when
 * CODE is no division code or ROLE unknown: no area at all. */
int wg_cert_area(const char *code, int role, char *out);
/* Does the area of (CODE, ROLE) hold COUNTY? */
int wg_cert_area_holds(const char *code, int role, const char *county);
/* Does C's scope hold COUNTY? */
int wg_cert_covers(const wg_cert *c, const char *county);
/* Is the whole area of INNER (code, role) inside the area of OUTER? */
int wg_cert_area_within(const char *inner, int inner_role, const char *outer,
                        int outer_role);

/* ---- chains ---------------------------------------------------------------- */

/* The certificates and revocations a node knows, looked up by subject. The
 * lookup returns the newest certificate of SUBJECT (highest serial) or
 * NULL; the revoked callback says whether SUBJECT's certificate SERIAL is
 * revoked by a revocation that itself verifies. */
typedef struct wg_cert_source {
    const wg_cert *(*lookup)(void *ctx, const uint8_t subject[WG_SIGN_PK_BYTES]);
    int (*revoked)(void *ctx, const uint8_t subject[WG_SIGN_PK_BYTES],
                   uint64_t serial);
    void *ctx;
} wg_cert_source;

/* Verify C against ROOT at time NOW (unix seconds): its signature, its
 * validity, not revoked, and its issuer's certificate likewise, up to the
 * root's self-signed certificate, each issuer an HQ that may enrol and whose
 * area holds the subject's whole area. At most WG_CERT_MAX_DEPTH links.
 * WG_OK, or WG_ERR_AUTH with ERR saying which link failed and why. */
wg_rc wg_cert_chain_verify(const wg_cert *c, const uint8_t root[WG_SIGN_PK_BYTES],
                           const wg_cert_source *src, uint64_t now,
                           wg_err *err);

/* ---- join tokens ---------------------------------------------------------------
 *
 *   u8  kind = 3, u8 version = 1
 *   u8  ncerts 1..WG_CERT_MAX_DEPTH, each: u16 length, a certificate
 *       (the root's first, the new node's last)
 *   u8  enroller name length 1..64, name
 *   u16 enroller endpoint length 1..256, endpoint (printable ASCII)
 *
 * written as "wings1-" and the bytes in hex: one word, no spaces. */
#define WG_TOKEN_KIND 3
#define WG_TOKEN_PREFIX "wings1-"
#define WG_TOKEN_ENDPOINT_MAX 256
#define WG_TOKEN_MAX_BYTES (8 + WG_CERT_MAX_DEPTH * (2 + WG_CERT_MAX_BYTES) + \
                            1 + WG_CERT_NAME_MAX + 2 + WG_TOKEN_ENDPOINT_MAX)

typedef struct wg_token {
    int ncerts;
    wg_cert certs[WG_CERT_MAX_DEPTH];
    char name[WG_CERT_NAME_MAX + 1];
    char endpoint[WG_TOKEN_ENDPOINT_MAX + 1];
} wg_token;

wg_rc wg_token_encode(const wg_token *t, wg_buf *out, wg_err *err);
wg_rc wg_token_decode(const uint8_t *p, size_t n, wg_token *t, wg_err *err);

#endif
