/*
 * wg_pw.h - password hashes for the people who sign in to the web page
 *
 * Argon2id through libsodium's crypto_pwhash_str: the string holds the
 * algorithm, its cost and a random salt, so a hash made at one cost still
 * verifies after the default changes. Interactive cost by default (about
 * 64 MiB); the minimum when WINGS_TEST_KDF=1, for throw-away test nodes.
 */
#ifndef WG_PW_H
#define WG_PW_H

#include <stddef.h>

#include "wg_err.h"

#define WG_PW_HASH_MAX 128   /* crypto_pwhash_STRBYTES, with its NUL */
#define WG_PW_MIN_CHARS 8
#define WG_PW_MAX_BYTES 1024

/* Hash PASS (LEN bytes) into OUT (WG_PW_HASH_MAX bytes, NUL-terminated).
 * WG_ERR_INVALID when PASS is shorter than WG_PW_MIN_CHARS characters or
 * longer than WG_PW_MAX_BYTES; WG_ERR_INTERNAL when out of memory for the
 * hash. */
wg_rc wg_pw_hash(const char *pass, size_t len, char out[WG_PW_HASH_MAX],
                 wg_err *err);

/* 1 when PASS matches HASH, else 0 (also for a malformed HASH). */
int wg_pw_verify(const char *hash, const char *pass, size_t len);

/* 1 when S looks like a hash wg_pw_hash() made: "$argon2id$", printable,
 * shorter than WG_PW_HASH_MAX. */
int wg_pw_is_hash(const char *s);

#endif
