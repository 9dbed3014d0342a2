/*
 * fuzz_keyfile.c - libFuzzer harness for the key file decoder
 *
 * Any bytes may sit in a node's wings.key. The decoder must refuse what is
 * not a key file without crashing and without spending unbounded memory or
 * time in Argon2id (the cost fields are bounded before use; the harness
 * keeps to inputs whose cost fields name the interactive minimum so each run
 * stays fast).
 */
#include <stdint.h>
#include <string.h>

#include "wg_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        wg_crypto_init(NULL);
        init = 1;
    }
    uint8_t buf[WG_KEYFILE_BYTES + 8];
    size_t n = size < sizeof buf ? size : sizeof buf;
    memcpy(buf, data, n);
    /* Keep derivation cheap: cap the cost fields at the minimum. */
    if (n >= 24) {
        memset(buf + 12, 0, 12);
        buf[12] = 1;            /* opslimit 1 */
        buf[18] = 0x01;         /* memlimit 64 KiB */
    }
    uint8_t key[WG_KEY_BYTES], dbid[WG_DBID_BYTES];
    wg_err err;
    wg_kdf kdf;
    wg_rc rc = wg_keyfile_open(buf, n, "passphrase", 10, key, dbid, &kdf, &err);
    if (rc != WG_OK && rc != WG_ERR_AUTH && rc != WG_ERR_CORRUPT &&
        rc != WG_ERR_INTERNAL)
        __builtin_trap();
    /* Also the raw input, unmodified, when it cannot reach Argon2id. */
    if (size != WG_KEYFILE_BYTES)
        wg_keyfile_open(data, size, "passphrase", 10, key, dbid, &kdf, &err);
    return 0;
}
