/*
 * fuzz_change.c - libFuzzer harness for the change codec
 *
 * Changes arrive from peers: decode must refuse malformed bytes without
 * crashing, and whatever it accepts of tables and fields this build knows
 * must encode back to the same bytes (a newer schema's change is kept as it
 * came and never encoded here: a node writes only what it knows).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "wg_change.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wg_change c;
    wg_err err;
    if (wg_change_decode(data, size, &c, &err) != WG_OK)
        return 0;
    if (!wg_change_known(&c)) {
        wg_buf b;
        wg_buf_init(&b, WG_CHANGE_MAX_BYTES);
        if (wg_change_encode(&c, &b, &err) != WG_ERR_INVALID)
            abort();
        wg_buf_release(&b);
        return 0;
    }
    wg_buf b;
    wg_buf_init(&b, WG_CHANGE_MAX_BYTES);
    fz_encodes_back(wg_change_encode(&c, &b, &err), &b, data, size);
    return 0;
}
