/*
 * wg_crypto.h - the only door to libsodium
 *
 * Node identity (Ed25519, and its Curve25519 form for CurveZMQ), hashing
 * (BLAKE2b-256), signing, page AEAD (XChaCha20-Poly1305), the key file codec
 * (a data key wrapped under Argon2id), and guarded memory for secrets.
 * Nothing here touches files or sockets, and nothing here logs.
 * All functions are thread-safe once wg_crypto_init() has returned.
 */
#ifndef WG_CRYPTO_H
#define WG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "wg_err.h"

#define WG_KEY_BYTES        32  /* data key, symmetric */
#define WG_HASH_BYTES       32  /* BLAKE2b-256 */
#define WG_SIGN_PK_BYTES    32  /* Ed25519 public key */
#define WG_SIGN_SK_BYTES    64  /* Ed25519 secret key (seed || pk) */
#define WG_SIG_BYTES        64
#define WG_CURVE_KEY_BYTES  32  /* Curve25519, public or secret */
#define WG_AEAD_NONCE_BYTES 24
#define WG_AEAD_TAG_BYTES   16
#define WG_DBID_BYTES       16  /* per-database id, associated with each page */
#define WG_KEYFILE_BYTES    128 /* the key file is exactly this long */
#define WG_KEY_HEX_CHARS    64  /* a public key written as text */

/* Initialise libsodium. Call once per process before anything else here. */
wg_rc wg_crypto_init(wg_err *err);

void wg_random(void *buf, size_t n);
/* Changes in a forked child (and never otherwise): what was drawn from
 * randomness under another generation must be drawn again. */
unsigned wg_fork_generation(void);

/* Secret memory: guarded pages (sodium_malloc), locked, wiped on release.
 * Caller owns; release with wg_secret_free(). Aborts when out of memory. */
void *wg_secret_alloc(size_t n);
void wg_secret_free(void *p);      /* accepts NULL */
void wg_wipe(void *p, size_t n);   /* sodium_memzero */

/* Constant-time equality of two buffers of N bytes: 1 when equal. */
int wg_equal(const void *a, const void *b, size_t n);

/* Lower-case hex. OUT must hold 2*N+1 bytes. */
void wg_hex_encode(char *out, const uint8_t *in, size_t n);
/* Exactly 2*N hex digits into N bytes; WG_ERR_INVALID otherwise. */
wg_rc wg_hex_decode(uint8_t *out, size_t n, const char *hex, wg_err *err);

/* ---- hashing --------------------------------------------------------- */

void wg_hash(uint8_t out[WG_HASH_BYTES], const void *in, size_t n);

typedef struct wg_hash_state { _Alignas(64) uint8_t opaque[384]; } wg_hash_state;
void wg_hash_init(wg_hash_state *s);
void wg_hash_update(wg_hash_state *s, const void *in, size_t n);
void wg_hash_final(wg_hash_state *s, uint8_t out[WG_HASH_BYTES]);

/* ---- identity and signatures ------------------------------------------ */

/* A fresh Ed25519 key pair. SK should live in wg_secret_alloc() memory. */
void wg_sign_keypair(uint8_t pk[WG_SIGN_PK_BYTES], uint8_t sk[WG_SIGN_SK_BYTES]);
void wg_sign(uint8_t sig[WG_SIG_BYTES], const void *msg, size_t n,
             const uint8_t sk[WG_SIGN_SK_BYTES]);
/* WG_OK when SIG is PK's signature of MSG, WG_ERR_AUTH otherwise. */
wg_rc wg_verify(const uint8_t sig[WG_SIG_BYTES], const void *msg, size_t n,
                const uint8_t pk[WG_SIGN_PK_BYTES]);
/* The Curve25519 form of an Ed25519 public key (for CurveZMQ). */
wg_rc wg_sign_pk_to_curve(uint8_t cpk[WG_CURVE_KEY_BYTES],
                          const uint8_t pk[WG_SIGN_PK_BYTES], wg_err *err);
/* The Curve25519 form of an Ed25519 secret key. CSK is a secret. */
wg_rc wg_sign_sk_to_curve(uint8_t csk[WG_CURVE_KEY_BYTES],
                          const uint8_t sk[WG_SIGN_SK_BYTES], wg_err *err);

/* ---- page AEAD ---------------------------------------------------------- */

/* Next nonce for a sealed page: a random 16-byte prefix drawn once per process
 * and a 64-bit counter within it, so no write pays a system call for
 * randomness and no nonce repeats under one key. */
void wg_nonce_next(uint8_t nonce[WG_AEAD_NONCE_BYTES]);

/* Encrypt N bytes of IN into OUT (may alias IN) and write the tag. */
void wg_aead_seal(uint8_t *out, uint8_t tag[WG_AEAD_TAG_BYTES],
                  const uint8_t *in, size_t n,
                  const uint8_t *ad, size_t adlen,
                  const uint8_t nonce[WG_AEAD_NONCE_BYTES],
                  const uint8_t key[WG_KEY_BYTES]);
/* Decrypt and authenticate; WG_ERR_AUTH (and OUT wiped) on any mismatch. */
wg_rc wg_aead_open(uint8_t *out, const uint8_t *in, size_t n,
                   const uint8_t tag[WG_AEAD_TAG_BYTES],
                   const uint8_t *ad, size_t adlen,
                   const uint8_t nonce[WG_AEAD_NONCE_BYTES],
                   const uint8_t key[WG_KEY_BYTES]);

/* ---- the key file --------------------------------------------------------
 *
 * WG_KEYFILE_BYTES bytes: "WINGSKEY", version, algorithm, cost level,
 * reserved, opslimit (u32), memlimit (u64), salt (16), database id (16),
 * nonce (24), then the data key sealed with XChaCha20-Poly1305 under the
 * Argon2id-derived key, every byte before it as associated data.
 */

typedef enum wg_kdf {
    WG_KDF_INTERACTIVE = 1,
    WG_KDF_MODERATE = 2,
    WG_KDF_SENSITIVE = 3,
    WG_KDF_TEST = 4       /* libsodium's minimum cost: for test nodes only */
} wg_kdf;

/* "interactive" / "moderate" / "sensitive" -> level; "test" (the minimum
 * cost, for throw-away test nodes) only when WINGS_TEST_KDF=1 is set in the
 * environment; WG_ERR_INVALID else. */
wg_rc wg_kdf_parse(const char *name, wg_kdf *out, wg_err *err);
const char *wg_kdf_name(wg_kdf kdf);

/* Wrap KEY (with DBID) under PASS into OUT. WG_ERR_INTERNAL if Argon2id
 * cannot get its memory. */
wg_rc wg_keyfile_seal(uint8_t out[WG_KEYFILE_BYTES],
                      const uint8_t key[WG_KEY_BYTES],
                      const uint8_t dbid[WG_DBID_BYTES],
                      const char *pass, size_t passlen, wg_kdf kdf,
                      wg_err *err);

/* Unwrap: N bytes read from a key file. WG_ERR_CORRUPT when the bytes are not
 * a key file (wrong size, magic, version, or cost out of bounds),
 * WG_ERR_AUTH when the passphrase is wrong (or the file altered).
 * KEY must be secret memory; it is wiped on failure. */
wg_rc wg_keyfile_open(const uint8_t *in, size_t n,
                      const char *pass, size_t passlen,
                      uint8_t key[WG_KEY_BYTES],
                      uint8_t dbid[WG_DBID_BYTES], wg_kdf *kdf_out,
                      wg_err *err);

#endif
