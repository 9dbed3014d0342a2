/*
 * aead.c - XChaCha20-Poly1305 for pages, and the per-process nonce source
 *
 * libsodium 1.0.18 makes a system call per randombytes_buf(), which costs a
 * third of page throughput; so a random 16-byte prefix is drawn once per
 * process and an atomic 64-bit counter runs within it. Two processes never
 * share a prefix (2^-128), and one process never repeats a counter.
 */
#include "wg_crypto.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == WG_AEAD_NONCE_BYTES,
               "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == WG_AEAD_TAG_BYTES,
               "tag size");

static uint8_t prefix[16];
static atomic_uint prefix_gen;   /* 0: never drawn */
static atomic_uint_fast64_t counter;
static pthread_mutex_t prefix_lock = PTHREAD_MUTEX_INITIALIZER;

void wg_nonce_next(uint8_t nonce[WG_AEAD_NONCE_BYTES])
{
    /* A forked child must not continue its parent's sequence. */
    unsigned gen = wg_fork_generation();
    if (gen != atomic_load(&prefix_gen)) {
        pthread_mutex_lock(&prefix_lock);
        if (gen != atomic_load(&prefix_gen)) {
            randombytes_buf(prefix, sizeof prefix);
            atomic_store(&counter, 0);
            atomic_store(&prefix_gen, gen);
        }
        pthread_mutex_unlock(&prefix_lock);
    }
    uint64_t c = atomic_fetch_add(&counter, 1);
    memcpy(nonce, prefix, 16);
    for (int i = 0; i < 8; i++)
        nonce[16 + i] = (uint8_t)(c >> (8 * i));
}

void wg_aead_seal(uint8_t *out, uint8_t tag[WG_AEAD_TAG_BYTES],
                  const uint8_t *in, size_t n,
                  const uint8_t *ad, size_t adlen,
                  const uint8_t nonce[WG_AEAD_NONCE_BYTES],
                  const uint8_t key[WG_KEY_BYTES])
{
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        out, tag, NULL, in, n, ad, adlen, NULL, nonce, key);
}

wg_rc wg_aead_open(uint8_t *out, const uint8_t *in, size_t n,
                   const uint8_t tag[WG_AEAD_TAG_BYTES],
                   const uint8_t *ad, size_t adlen,
                   const uint8_t nonce[WG_AEAD_NONCE_BYTES],
                   const uint8_t key[WG_KEY_BYTES])
{
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            out, NULL, in, n, tag, ad, adlen, nonce, key) != 0) {
        sodium_memzero(out, n);
        return WG_ERR_AUTH;
    }
    return WG_OK;
}
