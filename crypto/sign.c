/*
 * sign.c - BLAKE2b-256 hashing and Ed25519 identity and signatures
 */
#include "wg_crypto.h"

#include <sodium.h>

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(wg_hash_state),
               "wg_hash_state too small");
_Static_assert(crypto_sign_PUBLICKEYBYTES == WG_SIGN_PK_BYTES, "pk size");
_Static_assert(crypto_sign_SECRETKEYBYTES == WG_SIGN_SK_BYTES, "sk size");
_Static_assert(crypto_sign_BYTES == WG_SIG_BYTES, "sig size");

void wg_hash(uint8_t out[WG_HASH_BYTES], const void *in, size_t n)
{
    crypto_generichash(out, WG_HASH_BYTES, in, n, NULL, 0);
}

void wg_hash_init(wg_hash_state *s)
{
    crypto_generichash_init((crypto_generichash_state *)s->opaque, NULL, 0,
                            WG_HASH_BYTES);
}

void wg_hash_update(wg_hash_state *s, const void *in, size_t n)
{
    crypto_generichash_update((crypto_generichash_state *)s->opaque, in, n);
}

void wg_hash_final(wg_hash_state *s, uint8_t out[WG_HASH_BYTES])
{
    crypto_generichash_final((crypto_generichash_state *)s->opaque, out,
                             WG_HASH_BYTES);
    sodium_memzero(s, sizeof *s);
}

void wg_sign_keypair(uint8_t pk[WG_SIGN_PK_BYTES], uint8_t sk[WG_SIGN_SK_BYTES])
{
    crypto_sign_keypair(pk, sk);
}

void wg_sign(uint8_t sig[WG_SIG_BYTES], const void *msg, size_t n,
             const uint8_t sk[WG_SIGN_SK_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, n, sk);
}

wg_rc wg_verify(const uint8_t sig[WG_SIG_BYTES], const void *msg, size_t n,
                const uint8_t pk[WG_SIGN_PK_BYTES])
{
    return crypto_sign_verify_detached(sig, msg, n, pk) == 0 ? WG_OK
                                                            : WG_ERR_AUTH;
}

wg_rc wg_sign_pk_to_curve(uint8_t cpk[WG_CURVE_KEY_BYTES],
                          const uint8_t pk[WG_SIGN_PK_BYTES], wg_err *err)
{
    if (crypto_sign_ed25519_pk_to_curve25519(cpk, pk) != 0)
        return wg_err_set(err, WG_ERR_INVALID, "not a valid public key");
    return WG_OK;
}

wg_rc wg_sign_sk_to_curve(uint8_t csk[WG_CURVE_KEY_BYTES],
                          const uint8_t sk[WG_SIGN_SK_BYTES], wg_err *err)
{
    if (crypto_sign_ed25519_sk_to_curve25519(csk, sk) != 0)
        return wg_err_set(err, WG_ERR_INTERNAL, "cannot convert secret key");
    return WG_OK;
}
