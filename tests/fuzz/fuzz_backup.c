/*
 * fuzz_backup.c - libFuzzer harness for the backup manifest decoder
 *
 * restore decodes a manifest only after it authenticated under the node's
 * data key, but the decoder must still refuse anything malformed without
 * crashing or reading past its input: every field is read through a
 * wg_reader, every string bounded by its field's size.
 */
#include <stdint.h>
#include <string.h>

#include "wg_life.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wg_backup_info bi;
    uint8_t hash[WG_HASH_BYTES];
    wg_err err;
    wg_rc rc = wg_store_manifest_decode(data, size, &bi, hash, &err);
    if (rc != WG_OK && rc != WG_ERR_CORRUPT && rc != WG_ERR_INVALID)
        __builtin_trap();
    if (rc == WG_OK) {
        /* Whatever decoded is bounded text. */
        if (strlen(bi.node.name) > WG_NAME_MAX ||
            strlen(bi.node.county) > WG_COUNTY_CHARS ||
            strlen(bi.node.endpoint) > WG_ENDPOINT_MAX ||
            bi.ntables < 0 || bi.ntables > WG_BACKUP_MAX_TABLES)
            __builtin_trap();
        for (int i = 0; i < bi.ntables; i++)
            if (strlen(bi.table[i]) >= sizeof bi.table[i])
                __builtin_trap();
    }
    return 0;
}
