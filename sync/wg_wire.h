/*
 * wg_wire.h - the sync protocol's messages and their codec
 *
 * One ZeroMQ frame per message (the ROUTER side also sees the routing id
 * frame, which the codec never handles). Every message starts:
 *
 *   u8 magic 'W' (0x57), u8 protocol version, u8 type
 *
 * then a body by type (big-endian integers; a "str" is u8 length + bytes,
 * printable ASCII unless said otherwise):
 *
 *   HELLO  (1)  u8 lowest and u8 highest protocol version the sender speaks,
 *               u16 lowest and u16 highest schema version it syncs with
 *               (two nodes sync when both ranges overlap), 32 node key (claimed: identity comes from
 *               the CURVE handshake, never from here), str name ([A-Za-z0-9._-]
 *               and UTF-8 beyond ASCII, <= 64 bytes: wg_ident_name_ok), str county (6 digits),
 *               u8 role (0 office, 1 hq), u8 nscopes (<= WG_WIRE_MAX_SCOPES)
 *               then nscopes x str scope prefix (0..6 digits; "" = all),
 *               32 digest of the sender's vector over the shared partitions
 *               (zeros when it cannot know them yet), u32 nfeeds in it
 *   VECTOR (2)  u32 n (<= WG_WIRE_MAX_FEEDS), n x (32 origin, str partition
 *               (1..16), u64 head)
 *   BATCH  (3)  u32 batch number, u32 n (1..WG_WIRE_MAX_BATCH_CHANGES),
 *               n x (u32 len (1..WG_CHANGE_MAX_BYTES), len bytes of change,
 *               u8 has_sig (0/1), has_sig ? 64 signature : nothing)
 *   ACK    (4)  u32 batch number, u32 changes applied
 *   DONE   (5)  u64 changes sent in this session
 *   ERROR  (6)  u16 code (wg_rc of the sender), str2 text (u16 length,
 *               <= 255 bytes, UTF-8 allowed, no control characters)
 *   BYE    (7)  nothing: the sender has nothing to exchange (digests equal)
 *
 * A decoder never trusts a length: each is checked against what is left in
 * the frame and against its bound before use; trailing bytes are an error.
 */
#ifndef WG_WIRE_H
#define WG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "wg_buf.h"
#include "wg_err.h"
#include "wg_store.h"

#define WG_WIRE_MAGIC 0x57
/* The protocol versions this build reads (it writes the highest). Version
 * 2 brought version ranges to HELLO; nodes of version 1 are refused with a
 * message naming both. */
#define WG_WIRE_VERSION 2
#define WG_WIRE_VERSION_MIN 2
#define WG_WIRE_MAX_MSG (8u << 20)            /* ZMQ_MAXMSGSIZE */
#define WG_WIRE_MAX_BATCH_BYTES (1u << 20)
#define WG_WIRE_MAX_BATCH_CHANGES 2048
#define WG_WIRE_MAX_FEEDS 100000
#define WG_WIRE_MAX_SCOPES 64
#define WG_WIRE_SCOPE_MAX WG_SCOPE_MAX

typedef enum wg_msg_type {
    WG_MSG_HELLO = 1,
    WG_MSG_VECTOR = 2,
    WG_MSG_BATCH = 3,
    WG_MSG_ACK = 4,
    WG_MSG_DONE = 5,
    WG_MSG_ERROR = 6,
    WG_MSG_BYE = 7
} wg_msg_type;

typedef struct wg_msg_hello {
    uint8_t proto_min, proto_max;
    uint16_t schema_min, schema_max;
    uint8_t node[WG_SIGN_PK_BYTES];
    char name[WG_NAME_MAX + 1];
    char county[WG_COUNTY_CHARS + 1];
    uint8_t role;
    uint8_t nscopes;
    char scopes[WG_WIRE_MAX_SCOPES][WG_WIRE_SCOPE_MAX + 1];
    uint8_t digest[WG_HASH_BYTES];
    uint32_t nfeeds;
} wg_msg_hello;

typedef struct wg_vec_entry {
    uint8_t origin[WG_SIGN_PK_BYTES];
    char partition[WG_PARTITION_MAX + 1];
    uint64_t head;
} wg_vec_entry;

typedef struct wg_msg {
    uint8_t version;
    uint8_t type;
    union {
        wg_msg_hello hello;
        struct { uint32_t n; wg_vec_entry *e; } vector;     /* e: owned */
        struct { uint32_t no, n; wg_signed_change *c; } batch;
                             /* c: owned array; bodies borrow the frame */
        struct { uint32_t no, applied; } ack;
        struct { uint64_t sent; } done;
        struct { uint16_t code; char text[256]; } error;
    } u;
} wg_msg;

/* Decode one frame. On WG_OK, *M holds the message: release with
 * wg_msg_release(); batch bodies point into P, which must outlive M.
 * WG_ERR_PROTO for anything malformed, with ERR saying what. When only the
 * version is foreign, M->version and M->type are still set (so a HELLO can
 * be answered with an ERROR naming both versions) and the code is
 * WG_ERR_PROTO with a message naming both. */
wg_rc wg_wire_decode(const uint8_t *p, size_t n, wg_msg *m, wg_err *err);
void wg_msg_release(wg_msg *m);

/* Encoders append one whole message to OUT (reset it first). They fail
 * (WG_ERR_INVALID) only when an argument breaks a bound above. */
wg_rc wg_wire_hello(wg_buf *out, const wg_msg_hello *h, wg_err *err);
wg_rc wg_wire_vector(wg_buf *out, const wg_vec_entry *e, uint32_t n,
                     wg_err *err);
/* A batch is built incrementally: begin, add changes, then finish (which
 * writes the count). */
wg_rc wg_wire_batch_begin(wg_buf *out, uint32_t no, wg_err *err);
wg_rc wg_wire_batch_add(wg_buf *out, const wg_signed_change *c, wg_err *err);
wg_rc wg_wire_batch_finish(wg_buf *out, uint32_t n, wg_err *err);
wg_rc wg_wire_ack(wg_buf *out, uint32_t no, uint32_t applied, wg_err *err);
wg_rc wg_wire_done(wg_buf *out, uint64_t sent, wg_err *err);
wg_rc wg_wire_error(wg_buf *out, uint16_t code, const char *text, wg_err *err);
wg_rc wg_wire_bye(wg_buf *out, wg_err *err);

/* The name of a message type, for logs ("hello", ..., "unknown"). */
const char *wg_wire_type_name(uint8_t type);

#endif
