/*
 * pwhash.c - Argon2id password hashes (crypto_pwhash_str)
 */
#include "wg_pw.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int test_cost(void)
{
    const char *t = getenv("WINGS_TEST_KDF");
    return t && !strcmp(t, "1");
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

wg_rc wg_pw_hash(const char *pass, size_t len, char out[WG_PW_HASH_MAX],
                 wg_err *err)
{
    if (utf8_chars(pass, len) < WG_PW_MIN_CHARS)
        return wg_err_set(err, WG_ERR_INVALID,
                          "the password is too short: at least %d characters",
                          WG_PW_MIN_CHARS);
    if (len > WG_PW_MAX_BYTES)
        return wg_err_set(err, WG_ERR_INVALID,
                          "the password is too long: at most %d bytes",
                          WG_PW_MAX_BYTES);
    unsigned long long ops = test_cost() ? crypto_pwhash_OPSLIMIT_MIN
                                         : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = test_cost() ? crypto_pwhash_MEMLIMIT_MIN
                             : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (crypto_pwhash_str_alg(out, pass, len, ops, mem,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return wg_err_set(err, WG_ERR_INTERNAL,
                          "not enough memory to hash a password");
    return WG_OK;
}

int wg_pw_verify(const char *hash, const char *pass, size_t len)
{
    if (!wg_pw_is_hash(hash))
        return 0;
    return crypto_pwhash_str_verify(hash, pass, len) == 0;
}

int wg_pw_is_hash(const char *s)
{
    size_t n = strnlen(s, WG_PW_HASH_MAX);
    if (n >= WG_PW_HASH_MAX || strncmp(s, "$argon2id$", 10) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}
