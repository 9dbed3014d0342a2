/*
 * wire.c - the sync protocol's message codec (see wg_wire.h)
 *
 * Bytes from a peer are hostile: every length is checked against its bound
 * and against what is left of the frame before it is used or allocated for,
 * and a failed decode leaves nothing allocated. The encoders apply the same
 * rules to their arguments, so whatever one side encodes the other decodes,
 * and whatever decodes encodes back to the same bytes.
 */
#include "wg_wire.h"

#include <stdlib.h>
#include <string.h>

#include "wg_change.h"
#include "wg_validate.h"

#define HEADER_BYTES 3                   /* magic, version, type */
#define BATCH_COUNT_OFFSET 7             /* magic, version, type, u32 no */
#define BATCH_HEADER_BYTES 11            /* ... u32 n */
#define ERROR_TEXT_MAX 255
/* The smallest encoding of one entry, used to refuse a count that cannot
 * fit in the frame before allocating for it. */
#define VEC_ENTRY_MIN (WG_SIGN_PK_BYTES + 1 + 1 + 8)
#define BATCH_ENTRY_MIN (4 + 1 + 1)

_Static_assert(sizeof(((wg_vec_entry *)0)->partition) == WG_PARTITION_MAX + 1,
               "partition buffer");
_Static_assert(sizeof(((wg_msg *)0)->u.error.text) == ERROR_TEXT_MAX + 1,
               "error text buffer");
_Static_assert(WG_WIRE_MAX_SCOPES <= 255, "nscopes is a u8");

const char *wg_wire_type_name(uint8_t type)
{
    switch (type) {
    case WG_MSG_HELLO: return "hello";
    case WG_MSG_VECTOR: return "vector";
    case WG_MSG_BATCH: return "batch";
    case WG_MSG_ACK: return "ack";
    case WG_MSG_DONE: return "done";
    case WG_MSG_ERROR: return "error";
    case WG_MSG_BYE: return "bye";
    default: return "unknown";
    }
}

/* ---- the character rules, shared by encoder and decoder -------------- */

/* The rules themselves live in store/ident.c; these adapt them to bytes. */
static int name_ok(const uint8_t *s, size_t n)
{
    return wg_ident_name_ok((const char *)s, n);
}

static int county_ok(const uint8_t *s, size_t n)
{
    return wg_ident_county_ok((const char *)s, n);
}

static int scope_ok(const uint8_t *s, size_t n)
{
    return wg_ident_scope_ok((const char *)s, n);
}

static int partition_ok(const uint8_t *s, size_t n)
{
    return wg_ident_partition_ok((const char *)s, n);
}

/* UTF-8 passes through unchecked; C0 controls and DEL do not. */
static int text_ok(const uint8_t *s, size_t n)
{
    if (n > ERROR_TEXT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ---- decoding --------------------------------------------------------- */

/* A u8-length string into DST (CAP bytes, NUL-terminated), checked by OK.
 * Returns 0 (without marking the reader) for a bad string; a short frame
 * marks the reader bad. */
static int get_str(wg_reader *r, char *dst, size_t cap,
                   int (*ok)(const uint8_t *, size_t))
{
    uint8_t len;
    const uint8_t *s;
    if (!wg_reader_u8(r, &len) || len >= cap)
        return 0;
    if (!wg_reader_bytes(r, len, &s) || !ok(s, len))
        return 0;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 1;
}

static int get_fixed(wg_reader *r, uint8_t *dst, size_t n)
{
    const uint8_t *s;
    if (!wg_reader_bytes(r, n, &s))
        return 0;
    memcpy(dst, s, n);
    return 1;
}

/* Why a field failed: a short frame, or a bad value. */
static wg_rc field_err(const wg_reader *r, wg_err *err, const char *type,
                       const char *what)
{
    if (r->bad)
        return wg_err_set(err, WG_ERR_PROTO, "truncated %s (at %s)", type,
                          what);
    return wg_err_set(err, WG_ERR_PROTO, "bad %s in %s", what, type);
}

static wg_rc decode_hello(wg_reader *r, wg_msg_hello *h, wg_err *err)
{
    if (!wg_reader_u8(r, &h->proto_min) || !wg_reader_u8(r, &h->proto_max) ||
        h->proto_min > h->proto_max)
        return field_err(r, err, "hello", "protocol versions");
    if (!wg_reader_u16(r, &h->schema_min) ||
        !wg_reader_u16(r, &h->schema_max) || h->schema_min > h->schema_max)
        return field_err(r, err, "hello", "schema versions");
    if (!get_fixed(r, h->node, sizeof h->node))
        return field_err(r, err, "hello", "node key");
    if (!get_str(r, h->name, sizeof h->name, name_ok))
        return field_err(r, err, "hello", "name");
    if (!get_str(r, h->county, sizeof h->county, county_ok))
        return field_err(r, err, "hello", "county");
    if (!wg_reader_u8(r, &h->role) || h->role > WG_ROLE_HQ)
        return field_err(r, err, "hello", "role");
    if (!wg_reader_u8(r, &h->nscopes) || h->nscopes > WG_WIRE_MAX_SCOPES)
        return field_err(r, err, "hello", "scope count");
    for (unsigned i = 0; i < h->nscopes; i++)
        if (!get_str(r, h->scopes[i], sizeof h->scopes[i], scope_ok))
            return field_err(r, err, "hello", "scope");
    if (!get_fixed(r, h->digest, sizeof h->digest))
        return field_err(r, err, "hello", "digest");
    if (!wg_reader_u32(r, &h->nfeeds))
        return field_err(r, err, "hello", "feed count");
    return WG_OK;
}

static wg_rc decode_vector(wg_reader *r, wg_msg *m, wg_err *err)
{
    uint32_t n;
    if (!wg_reader_u32(r, &n))
        return field_err(r, err, "vector", "feed count");
    if (n > WG_WIRE_MAX_FEEDS)
        return wg_err_set(err, WG_ERR_PROTO,
                          "vector of %u feeds (limit %d)", n,
                          WG_WIRE_MAX_FEEDS);
    if ((size_t)n > wg_reader_left(r) / VEC_ENTRY_MIN)
        return wg_err_set(err, WG_ERR_PROTO,
                          "vector of %u feeds does not fit in %zu bytes", n,
                          wg_reader_left(r));
    wg_vec_entry *e = n ? wg_xcalloc(n, sizeof *e) : NULL;
    /* Owned by M from here, so a failure below is undone by release. */
    m->u.vector.e = e;
    m->u.vector.n = n;
    for (uint32_t i = 0; i < n; i++) {
        if (!get_fixed(r, e[i].origin, sizeof e[i].origin))
            return field_err(r, err, "vector", "origin");
        if (!get_str(r, e[i].partition, sizeof e[i].partition,
                     partition_ok))
            return field_err(r, err, "vector", "partition");
        if (!wg_reader_u64(r, &e[i].head))
            return field_err(r, err, "vector", "head");
    }
    return WG_OK;
}

static wg_rc decode_batch(wg_reader *r, wg_msg *m, wg_err *err)
{
    uint32_t no, n;
    if (!wg_reader_u32(r, &no))
        return field_err(r, err, "batch", "batch number");
    if (!wg_reader_u32(r, &n))
        return field_err(r, err, "batch", "change count");
    if (n == 0 || n > WG_WIRE_MAX_BATCH_CHANGES)
        return wg_err_set(err, WG_ERR_PROTO,
                          "batch of %u changes (must be 1..%d)", n,
                          WG_WIRE_MAX_BATCH_CHANGES);
    if ((size_t)n > wg_reader_left(r) / BATCH_ENTRY_MIN)
        return wg_err_set(err, WG_ERR_PROTO,
                          "batch of %u changes does not fit in %zu bytes", n,
                          wg_reader_left(r));
    wg_signed_change *c = wg_xcalloc(n, sizeof *c);
    m->u.batch.c = c;
    m->u.batch.no = no;
    m->u.batch.n = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        uint8_t has_sig;
        if (!wg_reader_u32(r, &len))
            return field_err(r, err, "batch", "change length");
        if (len < 1 || len > WG_CHANGE_MAX_BYTES)
            return wg_err_set(err, WG_ERR_PROTO,
                              "batch change %u of %u bytes (must be 1..%u)",
                              i, len, (unsigned)WG_CHANGE_MAX_BYTES);
        if (!wg_reader_bytes(r, len, &c[i].body))
            return field_err(r, err, "batch", "change");
        c[i].len = len;
        if (!wg_reader_u8(r, &has_sig) || has_sig > 1)
            return field_err(r, err, "batch", "signature flag");
        c[i].has_sig = has_sig;
        if (has_sig && !get_fixed(r, c[i].sig, sizeof c[i].sig))
            return field_err(r, err, "batch", "signature");
    }
    return WG_OK;
}

static wg_rc decode_error(wg_reader *r, wg_msg *m, wg_err *err)
{
    uint16_t len;
    const uint8_t *s;
    if (!wg_reader_u16(r, &m->u.error.code))
        return field_err(r, err, "error", "code");
    if (!wg_reader_u16(r, &len))
        return field_err(r, err, "error", "text length");
    if (len > ERROR_TEXT_MAX)
        return wg_err_set(err, WG_ERR_PROTO,
                          "error text of %u bytes (limit %d)", len,
                          ERROR_TEXT_MAX);
    if (!wg_reader_bytes(r, len, &s) || !text_ok(s, len))
        return field_err(r, err, "error", "text");
    memcpy(m->u.error.text, s, len);
    m->u.error.text[len] = '\0';
    return WG_OK;
}

static wg_rc decode_body(wg_reader *r, wg_msg *m, wg_err *err)
{
    switch (m->type) {
    case WG_MSG_HELLO:
        return decode_hello(r, &m->u.hello, err);
    case WG_MSG_VECTOR:
        return decode_vector(r, m, err);
    case WG_MSG_BATCH:
        return decode_batch(r, m, err);
    case WG_MSG_ACK:
        if (!wg_reader_u32(r, &m->u.ack.no) ||
            !wg_reader_u32(r, &m->u.ack.applied))
            return field_err(r, err, "ack", "counts");
        return WG_OK;
    case WG_MSG_DONE:
        if (!wg_reader_u64(r, &m->u.done.sent))
            return field_err(r, err, "done", "count");
        return WG_OK;
    case WG_MSG_ERROR:
        return decode_error(r, m, err);
    case WG_MSG_BYE:
        return WG_OK;
    default:
        return wg_err_set(err, WG_ERR_PROTO, "unknown message type %u",
                          m->type);
    }
}

wg_rc wg_wire_decode(const uint8_t *p, size_t n, wg_msg *m, wg_err *err)
{
    memset(m, 0, sizeof *m);
    if (n == 0)
        return wg_err_set(err, WG_ERR_PROTO, "empty message");
    if (n > WG_WIRE_MAX_MSG)
        return wg_err_set(err, WG_ERR_PROTO,
                          "message of %zu bytes (limit %u)", n,
                          WG_WIRE_MAX_MSG);
    if (p[0] != WG_WIRE_MAGIC)
        return wg_err_set(err, WG_ERR_PROTO, "not a wings message");
    if (n < HEADER_BYTES)
        return wg_err_set(err, WG_ERR_PROTO, "truncated message header");
    if (p[1] < WG_WIRE_VERSION_MIN || p[1] > WG_WIRE_VERSION) {
        /* Kept so the caller can answer in kind and name both versions. */
        m->version = p[1];
        m->type = p[2];
        return wg_err_set(err, WG_ERR_PROTO,
                          "peer speaks protocol version %u, this node "
                          "speaks %d..%d", p[1], WG_WIRE_VERSION_MIN,
                          WG_WIRE_VERSION);
    }
    m->version = p[1];
    m->type = p[2];

    wg_reader r;
    wg_reader_init(&r, p + HEADER_BYTES, n - HEADER_BYTES);
    wg_rc rc = decode_body(&r, m, err);
    if (rc == WG_OK && wg_reader_left(&r) != 0)
        rc = wg_err_set(err, WG_ERR_PROTO, "trailing bytes after %s",
                        wg_wire_type_name(m->type));
    if (rc != WG_OK)
        wg_msg_release(m);
    return rc;
}

void wg_msg_release(wg_msg *m)
{
    if (!m)
        return;
    if (m->type == WG_MSG_VECTOR)
        free(m->u.vector.e);
    else if (m->type == WG_MSG_BATCH)
        free(m->u.batch.c);
    memset(m, 0, sizeof *m);
}

/* ---- encoding --------------------------------------------------------- */

/* A NUL-terminated string of at most MAX bytes held in a CAP-byte field:
 * its length, or -1 when it is not terminated within the field. */
static long field_len(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n == cap ? -1 : (long)n;
}

static int str_ok(const char *s, size_t cap,
                  int (*ok)(const uint8_t *, size_t))
{
    long n = field_len(s, cap);
    return n >= 0 && ok((const uint8_t *)s, (size_t)n);
}

static wg_rc put_header(wg_buf *out, uint8_t type, wg_err *err)
{
    uint8_t h[HEADER_BYTES] = { WG_WIRE_MAGIC, WG_WIRE_VERSION, type };
    return wg_buf_append(out, h, sizeof h, err);
}

/* Callers have checked S; the length fits a u8. */
static wg_rc put_str(wg_buf *out, const char *s, wg_err *err)
{
    size_t n = strlen(s);
    wg_rc rc = wg_buf_append_u8(out, (uint8_t)n, err);
    return rc ? rc : wg_buf_append(out, s, n, err);
}

/* An encoder that fails leaves OUT as it found it. */
static wg_rc undo(wg_buf *out, size_t len, wg_rc rc)
{
    if (rc != WG_OK)
        out->len = len;
    return rc;
}

wg_rc wg_wire_hello(wg_buf *out, const wg_msg_hello *h, wg_err *err)
{
    if (!str_ok(h->name, sizeof h->name, name_ok))
        return wg_err_set(err, WG_ERR_INVALID,
                          "hello name must be 1..%d of [A-Za-z0-9._-]",
                          WG_NAME_MAX);
    if (!str_ok(h->county, sizeof h->county, county_ok))
        return wg_err_set(err, WG_ERR_INVALID,
                          "hello county must be %d digits", WG_COUNTY_CHARS);
    if (h->role > WG_ROLE_HQ)
        return wg_err_set(err, WG_ERR_INVALID, "hello role %u unknown",
                          h->role);
    if (h->proto_min > h->proto_max || h->schema_min > h->schema_max)
        return wg_err_set(err, WG_ERR_INVALID, "hello version range upside "
                          "down");
    if (h->nscopes > WG_WIRE_MAX_SCOPES)
        return wg_err_set(err, WG_ERR_INVALID,
                          "hello with %u scopes (limit %d)", h->nscopes,
                          WG_WIRE_MAX_SCOPES);
    for (unsigned i = 0; i < h->nscopes; i++)
        if (!str_ok(h->scopes[i], sizeof h->scopes[i], scope_ok))
            return wg_err_set(err, WG_ERR_INVALID,
                              "hello scope %u must be 0..%d digits", i,
                              WG_WIRE_SCOPE_MAX);

    size_t len0 = out->len;
    wg_rc rc = put_header(out, WG_MSG_HELLO, err);
    if (!rc) rc = wg_buf_append_u8(out, h->proto_min, err);
    if (!rc) rc = wg_buf_append_u8(out, h->proto_max, err);
    if (!rc) rc = wg_buf_append_u16(out, h->schema_min, err);
    if (!rc) rc = wg_buf_append_u16(out, h->schema_max, err);
    if (!rc) rc = wg_buf_append(out, h->node, sizeof h->node, err);
    if (!rc) rc = put_str(out, h->name, err);
    if (!rc) rc = put_str(out, h->county, err);
    if (!rc) rc = wg_buf_append_u8(out, h->role, err);
    if (!rc) rc = wg_buf_append_u8(out, h->nscopes, err);
    for (unsigned i = 0; !rc && i < h->nscopes; i++)
        rc = put_str(out, h->scopes[i], err);
    if (!rc) rc = wg_buf_append(out, h->digest, sizeof h->digest, err);
    if (!rc) rc = wg_buf_append_u32(out, h->nfeeds, err);
    return undo(out, len0, rc);
}

wg_rc wg_wire_vector(wg_buf *out, const wg_vec_entry *e, uint32_t n,
                     wg_err *err)
{
    if (n > WG_WIRE_MAX_FEEDS)
        return wg_err_set(err, WG_ERR_INVALID,
                          "vector of %u feeds (limit %d)", n,
                          WG_WIRE_MAX_FEEDS);
    if (n && !e)
        return wg_err_set(err, WG_ERR_INVALID, "vector of %u feeds: no entries",
                          n);
    for (uint32_t i = 0; i < n; i++)
        if (!str_ok(e[i].partition, sizeof e[i].partition, partition_ok))
            return wg_err_set(err, WG_ERR_INVALID,
                              "vector entry %u: partition must be 1..%d "
                              "printable characters", i, WG_PARTITION_MAX);

    size_t len0 = out->len;
    wg_rc rc = put_header(out, WG_MSG_VECTOR, err);
    if (!rc) rc = wg_buf_append_u32(out, n, err);
    for (uint32_t i = 0; !rc && i < n; i++) {
        rc = wg_buf_append(out, e[i].origin, sizeof e[i].origin, err);
        if (!rc) rc = put_str(out, e[i].partition, err);
        if (!rc) rc = wg_buf_append_u64(out, e[i].head, err);
    }
    return undo(out, len0, rc);
}

/* Does OUT start with a batch header (so begin was called on it)? */
static int batch_begun(const wg_buf *out)
{
    return out->len >= BATCH_HEADER_BYTES && out->data[0] == WG_WIRE_MAGIC &&
           out->data[1] == WG_WIRE_VERSION && out->data[2] == WG_MSG_BATCH;
}

wg_rc wg_wire_batch_begin(wg_buf *out, uint32_t no, wg_err *err)
{
    /* The count is patched at a fixed offset, so the batch must be the
     * whole buffer. */
    if (out->len != 0)
        return wg_err_set(err, WG_ERR_INVALID,
                          "a batch must start in an empty buffer");
    wg_rc rc = put_header(out, WG_MSG_BATCH, err);
    if (!rc) rc = wg_buf_append_u32(out, no, err);
    if (!rc) rc = wg_buf_append_u32(out, 0, err);
    return undo(out, 0, rc);
}

wg_rc wg_wire_batch_add(wg_buf *out, const wg_signed_change *c, wg_err *err)
{
    if (!batch_begun(out))
        return wg_err_set(err, WG_ERR_INVALID, "no batch begun in this buffer");
    if (c->len < 1 || c->len > WG_CHANGE_MAX_BYTES || !c->body)
        return wg_err_set(err, WG_ERR_INVALID,
                          "change of %zu bytes (must be 1..%u)", c->len,
                          (unsigned)WG_CHANGE_MAX_BYTES);
    if (c->has_sig != 0 && c->has_sig != 1)
        return wg_err_set(err, WG_ERR_INVALID,
                          "change signature flag %d (must be 0 or 1)",
                          c->has_sig);
    size_t need = 4 + c->len + 1 + (c->has_sig ? WG_SIG_BYTES : 0);
    if (need > WG_WIRE_MAX_MSG - out->len)
        return wg_err_set(err, WG_ERR_INVALID,
                          "batch would pass the message limit of %u bytes",
                          WG_WIRE_MAX_MSG);

    size_t len0 = out->len;
    wg_rc rc = wg_buf_append_u32(out, (uint32_t)c->len, err);
    if (!rc) rc = wg_buf_append(out, c->body, c->len, err);
    if (!rc) rc = wg_buf_append_u8(out, (uint8_t)c->has_sig, err);
    if (!rc && c->has_sig)
        rc = wg_buf_append(out, c->sig, sizeof c->sig, err);
    return undo(out, len0, rc);
}

/* The number of whole entries after the batch header, or -1 when the bytes
 * there are not a sequence of them. */
static long batch_entries(const wg_buf *out)
{
    wg_reader r;
    long count = 0;
    wg_reader_init(&r, out->data + BATCH_HEADER_BYTES,
                   out->len - BATCH_HEADER_BYTES);
    while (wg_reader_left(&r) > 0) {
        uint32_t len;
        uint8_t has_sig;
        const uint8_t *skip;
        if (!wg_reader_u32(&r, &len) || !wg_reader_bytes(&r, len, &skip) ||
            !wg_reader_u8(&r, &has_sig) || has_sig > 1 ||
            (has_sig && !wg_reader_bytes(&r, WG_SIG_BYTES, &skip)))
            return -1;
        count++;
    }
    return count;
}

wg_rc wg_wire_batch_finish(wg_buf *out, uint32_t n, wg_err *err)
{
    if (!batch_begun(out))
        return wg_err_set(err, WG_ERR_INVALID, "no batch begun in this buffer");
    if (n == 0 || n > WG_WIRE_MAX_BATCH_CHANGES)
        return wg_err_set(err, WG_ERR_INVALID,
                          "batch of %u changes (must be 1..%d)", n,
                          WG_WIRE_MAX_BATCH_CHANGES);
    /* Counted from the bytes rather than from the adds: a sender may cut
     * the buffer back to an earlier entry (to end the batch on a signed
     * change) before finishing. */
    long held = batch_entries(out);
    if (held < 0)
        return wg_err_set(err, WG_ERR_INVALID,
                          "batch buffer does not end on a whole change");
    if ((long)n != held)
        return wg_err_set(err, WG_ERR_INVALID,
                          "batch count %u but the buffer holds %ld changes",
                          n, held);
    wg_put_u32be(out->data + BATCH_COUNT_OFFSET, n);
    return WG_OK;
}

wg_rc wg_wire_ack(wg_buf *out, uint32_t no, uint32_t applied, wg_err *err)
{
    size_t len0 = out->len;
    wg_rc rc = put_header(out, WG_MSG_ACK, err);
    if (!rc) rc = wg_buf_append_u32(out, no, err);
    if (!rc) rc = wg_buf_append_u32(out, applied, err);
    return undo(out, len0, rc);
}

wg_rc wg_wire_done(wg_buf *out, uint64_t sent, wg_err *err)
{
    size_t len0 = out->len;
    wg_rc rc = put_header(out, WG_MSG_DONE, err);
    if (!rc) rc = wg_buf_append_u64(out, sent, err);
    return undo(out, len0, rc);
}

wg_rc wg_wire_error(wg_buf *out, uint16_t code, const char *text, wg_err *err)
{
    if (!text)
        text = "";
    size_t n = strnlen(text, ERROR_TEXT_MAX + 1);
    if (!text_ok((const uint8_t *)text, n))
        return wg_err_set(err, WG_ERR_INVALID,
                          "error text must be at most %d bytes without "
                          "control characters", ERROR_TEXT_MAX);
    size_t len0 = out->len;
    wg_rc rc = put_header(out, WG_MSG_ERROR, err);
    if (!rc) rc = wg_buf_append_u16(out, code, err);
    if (!rc) rc = wg_buf_append_u16(out, (uint16_t)n, err);
    if (!rc) rc = wg_buf_append(out, text, n, err);
    return undo(out, len0, rc);
}

wg_rc wg_wire_bye(wg_buf *out, wg_err *err)
{
    size_t len0 = out->len;
    return undo(out, len0, put_header(out, WG_MSG_BYE, err));
}
