/*
 * wg_change.h - one change: the immutable unit of replication
 *
 * A change is a byte string (big-endian integers):
 *
 *   u8  version             = 1
 *   32  origin              Ed25519 public key of the authoring node
 *   u8  partition length    1..16, then that many bytes (a county code)
 *   u64 seq                 1, 2, 3, ... without gaps in (origin, partition)
 *   32  prev                hash of the feed's previous change; zeros at seq 1
 *   u64 hlc                 hybrid logical clock: ms << 16 | counter
 *   u8  table               the table's wire number (wg_schema.h), 1..63
 *   16  row id
 *   u8  nfields             1..WG_MAX_FIELDS+1, then per field:
 *         u8 index          the field's position in its table (its wire
 *                           number), < WG_MAX_FIELDS, or WG_FIELD_DELETED
 *         u8 type           0 null, 1 text, 2 integer
 *         text:    u16 length, bytes (at most WG_FIELD_MAX_BYTES)
 *         integer: u64 (two's complement)
 *
 * A table or field this build does not know (added by a newer schema) is
 * accepted within the same bounds, so a change passes through an older
 * node unchanged. Its hash is BLAKE2b-256 of those bytes. Signatures are kept beside the
 * bytes, not inside them: the signature of a change signs its hash, and thus
 * every change before it in the feed.
 */
#ifndef WG_CHANGE_H
#define WG_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "wg_buf.h"
#include "wg_crypto.h"
#include "wg_err.h"
#include "wg_ident.h"
#include "wg_schema.h"

#define WG_CHANGE_VERSION 1
#define WG_FIELD_DELETED 255
#define WG_CHANGE_MAX_BYTES (256 + (WG_MAX_FIELDS + 1) * (4 + WG_FIELD_MAX_BYTES))
#define WG_ROWID_BYTES 16

/* Wire numbers of the tables the machinery names (schema.c holds them). */
enum { WG_TABLE_PERSON = 1, WG_TABLE_TRAINING = 2, WG_TABLE_PLACEMENT = 3,
       WG_TABLE_AUDIT = 4, WG_TABLE_AREA = 5, WG_TABLE_MEMBER = 6 };
enum { WG_VAL_NULL = 0, WG_VAL_TEXT = 1, WG_VAL_INT = 2 };

typedef struct wg_change_field {
    uint8_t index;
    uint8_t type;
    int64_t i;
    const char *text;     /* borrowed, NOT NUL-terminated: use len */
    uint16_t len;
} wg_change_field;

typedef struct wg_change {
    uint8_t origin[WG_SIGN_PK_BYTES];
    char partition[WG_PARTITION_MAX + 1];
    uint64_t seq;
    uint8_t prev[WG_HASH_BYTES];
    uint64_t hlc;
    uint8_t table;
    uint8_t rowid[WG_ROWID_BYTES];
    uint8_t nfields;
    wg_change_field fields[WG_MAX_FIELDS + 1];
} wg_change;

/* Append the bytes of C to OUT. WG_ERR_INVALID if C breaks a bound or
 * names a table or field this build does not know (a node writes only what
 * it knows). */
wg_rc wg_change_encode(const wg_change *c, wg_buf *out, wg_err *err);

/* Decode N bytes into *C. Text fields borrow from P. WG_ERR_CORRUPT for
 * anything malformed: short, trailing bytes, bad version, lengths out of
 * range, a table number outside 1..WG_TABLE_WIRE_MAX, a field index of
 * WG_MAX_FIELDS or more, a duplicate field, a partition that is not
 * printable ASCII. Unknown tables and fields within those bounds decode. */
wg_rc wg_change_decode(const uint8_t *p, size_t n, wg_change *c, wg_err *err);

/* Does this build know every table and field C names? */
int wg_change_known(const wg_change *c);

/* ---- the row form (store layout 2) ---- */

/* Length of the prefix of the canonical bytes BODY that a stored row leaves
 * out (version, origin, partition, seq, prev: what the row's key and feed
 * already say); 0 if BODY is too short to have one and anything after it. */
size_t wg_change_prefix_len(const uint8_t *body, size_t len);
/* The canonical bytes of the change stored as TAIL (TLEN bytes) at SEQ of
 * the feed (ORIGIN, PART), whose previous change hashes to PREV, into OUT
 * (room for WG_CHANGE_MAX_BYTES). Returns their length; 0 if they would
 * not fit. */
size_t wg_change_rebuild(const uint8_t origin[WG_SIGN_PK_BYTES],
                         const char *part, uint64_t seq,
                         const uint8_t prev[WG_HASH_BYTES],
                         const uint8_t *tail, size_t tlen, uint8_t *out);

#endif
