/*
 * fuzz_wire.c - libFuzzer harness for the sync wire codec
 *
 * Every frame a peer sends goes through wg_wire_decode: it must refuse
 * malformed bytes without crashing or leaking, and whatever it accepts must
 * encode back, through the encoders, to exactly the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "wg_wire.h"

static wg_rc reencode(const wg_msg *m, wg_buf *b, wg_err *err)
{
    wg_rc rc;
    switch (m->type) {
    case WG_MSG_HELLO:
        return wg_wire_hello(b, &m->u.hello, err);
    case WG_MSG_VECTOR:
        return wg_wire_vector(b, m->u.vector.e, m->u.vector.n, err);
    case WG_MSG_BATCH:
        rc = wg_wire_batch_begin(b, m->u.batch.no, err);
        for (uint32_t i = 0; !rc && i < m->u.batch.n; i++)
            rc = wg_wire_batch_add(b, &m->u.batch.c[i], err);
        return rc ? rc : wg_wire_batch_finish(b, m->u.batch.n, err);
    case WG_MSG_ACK:
        return wg_wire_ack(b, m->u.ack.no, m->u.ack.applied, err);
    case WG_MSG_DONE:
        return wg_wire_done(b, m->u.done.sent, err);
    case WG_MSG_ERROR:
        return wg_wire_error(b, m->u.error.code, m->u.error.text, err);
    case WG_MSG_BYE:
        return wg_wire_bye(b, err);
    default:
        abort(); /* decode accepted a type it does not know */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wg_msg m;
    wg_err err;
    if (wg_wire_decode(data, size, &m, &err) != WG_OK) {
        wg_msg_release(&m);
        return 0;
    }
    wg_buf b;
    wg_buf_init(&b, WG_WIRE_MAX_MSG);
    fz_encodes_back(reencode(&m, &b, &err), &b, data, size);
    wg_msg_release(&m);
    return 0;
}
