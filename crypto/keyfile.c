/*
 * keyfile.c - the key file codec: a data key wrapped under Argon2id
 *
 * Layout (WG_KEYFILE_BYTES = 128, integers little-endian):
 *   0  "WINGSKEY"        8   magic
 *   8  version           1   = 1
 *   9  algorithm         1   = 1 (Argon2id v1.3)
 *  10  cost level        1   wg_kdf, for display only
 *  11  reserved          1   = 0
 *  12  opslimit          4
 *  16  memlimit          8   bytes
 *  24  salt             16
 *  40  database id      16
 *  56  nonce            24
 *  80  sealed data key  32 + 16 tag
 * Bytes 0..79 are the associated data, so no parameter can be altered
 * without the unwrap failing. The costs are bounded before use so a hostile
 * file cannot make Argon2id allocate without limit.
 */
#include "wg_crypto.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "WINGSKEY"
#define HDR_BYTES 80
#define MAX_MEMLIMIT ((uint64_t)4 << 30)
#define MAX_OPSLIMIT 64u

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

wg_rc wg_kdf_parse(const char *name, wg_kdf *out, wg_err *err)
{
    if (!strcmp(name, "interactive"))
        *out = WG_KDF_INTERACTIVE;
    else if (!strcmp(name, "moderate"))
        *out = WG_KDF_MODERATE;
    else if (!strcmp(name, "sensitive"))
        *out = WG_KDF_SENSITIVE;
    else if (!strcmp(name, "test") && getenv("WINGS_TEST_KDF") &&
             !strcmp(getenv("WINGS_TEST_KDF"), "1"))
        *out = WG_KDF_TEST; /* minimum cost: only where a test asks for it */
    else
        return wg_err_set(err, WG_ERR_INVALID,
                          "unknown kdf cost '%s' (use interactive, moderate or "
                          "sensitive)", name);
    return WG_OK;
}

const char *wg_kdf_name(wg_kdf kdf)
{
    switch (kdf) {
    case WG_KDF_INTERACTIVE: return "interactive";
    case WG_KDF_MODERATE: return "moderate";
    case WG_KDF_SENSITIVE: return "sensitive";
    case WG_KDF_TEST: return "test";
    }
    return "custom";
}

static void kdf_costs(wg_kdf kdf, uint64_t *ops, uint64_t *mem)
{
    switch (kdf) {
    case WG_KDF_INTERACTIVE:
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    case WG_KDF_SENSITIVE:
        *ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
        *mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
        break;
    case WG_KDF_TEST:
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
        break;
    case WG_KDF_MODERATE:
    default:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    }
}

static wg_rc derive(uint8_t kek[WG_KEY_BYTES], const char *pass, size_t passlen,
                    const uint8_t *salt, uint64_t ops, uint64_t mem, wg_err *err)
{
    if (crypto_pwhash(kek, WG_KEY_BYTES, pass, passlen, salt, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return wg_err_set(err, WG_ERR_INTERNAL,
                          "key derivation failed (not enough memory for %llu "
                          "MiB?)", (unsigned long long)(mem >> 20));
    return WG_OK;
}

wg_rc wg_keyfile_seal(uint8_t out[WG_KEYFILE_BYTES],
                      const uint8_t key[WG_KEY_BYTES],
                      const uint8_t dbid[WG_DBID_BYTES],
                      const char *pass, size_t passlen, wg_kdf kdf,
                      wg_err *err)
{
    uint64_t ops, mem;
    kdf_costs(kdf, &ops, &mem);

    memset(out, 0, WG_KEYFILE_BYTES);
    memcpy(out, MAGIC, 8);
    out[8] = 1;
    out[9] = 1;
    out[10] = (uint8_t)kdf;
    put_le(out + 12, ops, 4);
    put_le(out + 16, mem, 8);
    randombytes_buf(out + 24, 16);
    memcpy(out + 40, dbid, WG_DBID_BYTES);
    randombytes_buf(out + 56, WG_AEAD_NONCE_BYTES);

    uint8_t *kek = wg_secret_alloc(WG_KEY_BYTES);
    wg_rc rc = derive(kek, pass, passlen, out + 24, ops, mem, err);
    if (rc == WG_OK)
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
            out + 80, out + 80 + WG_KEY_BYTES, NULL, key, WG_KEY_BYTES,
            out, HDR_BYTES, NULL, out + 56, kek);
    wg_secret_free(kek);
    return rc;
}

wg_rc wg_keyfile_open(const uint8_t *in, size_t n,
                      const char *pass, size_t passlen,
                      uint8_t key[WG_KEY_BYTES],
                      uint8_t dbid[WG_DBID_BYTES], wg_kdf *kdf_out,
                      wg_err *err)
{
    if (n != WG_KEYFILE_BYTES)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "key file has %zu bytes, expected %d", n,
                          WG_KEYFILE_BYTES);
    if (memcmp(in, MAGIC, 8) != 0)
        return wg_err_set(err, WG_ERR_CORRUPT, "not a wings key file");
    if (in[8] != 1 || in[9] != 1)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "key file version %u, algorithm %u not supported",
                          in[8], in[9]);
    uint64_t ops = get_le(in + 12, 4);
    uint64_t mem = get_le(in + 16, 8);
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > MAX_OPSLIMIT ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > MAX_MEMLIMIT)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "key file names an out-of-range key derivation cost");

    uint8_t *kek = wg_secret_alloc(WG_KEY_BYTES);
    wg_rc rc = derive(kek, pass, passlen, in + 24, ops, mem, err);
    if (rc == WG_OK &&
        crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            key, NULL, in + 80, WG_KEY_BYTES, in + 80 + WG_KEY_BYTES, in,
            HDR_BYTES, in + 56, kek) != 0) {
        sodium_memzero(key, WG_KEY_BYTES);
        rc = wg_err_set(err, WG_ERR_AUTH, "wrong passphrase");
    }
    wg_secret_free(kek);
    if (rc == WG_OK) {
        memcpy(dbid, in + 40, WG_DBID_BYTES);
        if (kdf_out)
            *kdf_out = (wg_kdf)in[10];
    }
    return rc;
}
