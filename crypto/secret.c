/*
 * secret.c - libsodium start-up, randomness, guarded memory, hex
 */
#include "wg_crypto.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A forked child must not repeat its parent's random pool or nonces. glibc
 * no longer caches getpid(), so asking it on every draw cost a system call
 * per page written; a fork handler bumps a generation instead. */
static atomic_uint fork_generation = 1;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void after_fork_child(void)
{
    atomic_fetch_add(&fork_generation, 1);
}

static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, after_fork_child);
}

unsigned wg_fork_generation(void)
{
    pthread_once(&fork_once, watch_forks);
    return atomic_load(&fork_generation);
}

wg_rc wg_crypto_init(wg_err *err)
{
    if (sodium_init() < 0)
        return wg_err_set(err, WG_ERR_INTERNAL, "cannot initialise libsodium");
    return WG_OK;
}

/* libsodium 1.0.18 makes a getrandom() call per randombytes_buf(); an
 * import that draws one 16-byte record id per row paid a system call each.
 * Requests of up to POOL_SMALL bytes (ids, not keys) are served from a
 * per-thread pool drawn POOL_BYTES at a time; bytes handed out are wiped
 * from it, and a forked child starts a pool of its own. */
#define POOL_BYTES 1024
#define POOL_SMALL 16

static _Thread_local uint8_t pool[POOL_BYTES];
static _Thread_local size_t pool_left;
static _Thread_local unsigned pool_gen;   /* 0: never filled */

/* A bulk draw (more than BULK_BYTES: a pool of record ids for an import)
 * would be a getrandom() per 256 bytes: it is one 32-byte seed from the
 * system instead, expanded by ChaCha20 (randombytes_buf_deterministic). */
#define BULK_BYTES 4096

void wg_random(void *buf, size_t n)
{
    if (n > BULK_BYTES) {
        uint8_t seed[randombytes_SEEDBYTES];
        randombytes_buf(seed, sizeof seed);
        randombytes_buf_deterministic(buf, n, seed);
        sodium_memzero(seed, sizeof seed);
        return;
    }
    if (n > POOL_SMALL) {
        randombytes_buf(buf, n);
        return;
    }
    unsigned gen = wg_fork_generation();
    if (gen != pool_gen || pool_left < n) {
        randombytes_buf(pool, sizeof pool);
        pool_left = sizeof pool;
        pool_gen = gen;
    }
    uint8_t *p = pool + (sizeof pool - pool_left);
    memcpy(buf, p, n);
    sodium_memzero(p, n);
    pool_left -= n;
}

void *wg_secret_alloc(size_t n)
{
    void *p = sodium_malloc(n);
    if (!p) {
        fprintf(stderr, "wings: out of secure memory allocating %zu bytes\n", n);
        abort();
    }
    sodium_memzero(p, n);
    return p;
}

void wg_secret_free(void *p)
{
    sodium_free(p); /* wipes; accepts NULL */
}

void wg_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

int wg_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void wg_hex_encode(char *out, const uint8_t *in, size_t n)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

wg_rc wg_hex_decode(uint8_t *out, size_t n, const char *hex, wg_err *err)
{
    size_t got = 0;
    const char *end = NULL;
    size_t len = 0;
    while (hex[len])
        len++;
    if (len != 2 * n)
        return wg_err_set(err, WG_ERR_INVALID,
                          "expected %zu hex digits, got %zu", 2 * n, len);
    for (size_t i = 0; i < len; i++) {
        char c = hex[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return wg_err_set(err, WG_ERR_INVALID, "not a hex digit at %zu", i);
    }
    if (sodium_hex2bin(out, n, hex, len, NULL, &got, &end) != 0 || got != n)
        return wg_err_set(err, WG_ERR_INVALID, "bad hex string");
    return WG_OK;
}
