/*
 * csv.c - RFC 4180 CSV reader and writer for import and export
 *
 * The reader pulls one byte at a time through stdio, so it never reads a
 * pipe further than the record it returns, and keeps the current record's
 * fields in one bounded buffer (see WG_CSV_MAX_FIELD and WG_CSV_MAX_FIELDS).
 */
#include "wg_csv.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wg_buf.h"

/*
 * Design note: read_record() is this state machine, one byte per step.
 *
 *   START ---- EOF ---------------------------------> NOTFOUND (no record)
 *     |  ^
 *     |  +-- LF, CR, CRLF: a blank line, skipped
 *     v
 *   FIELD ---- " ----> QUOTED ---- " ----> AFTER_QUOTE
 *     |                 |  ^                 |
 *     | any other       +--+ "" or any       +-- , ------------------> FIELD
 *     | byte, or none        other byte      +-- LF, CR, CRLF, EOF --> END
 *     v
 *   UNQUOTED ------------------------------------- , ----------------> FIELD
 *     +------------------------------------------- LF, CR, CRLF, EOF --> END
 *
 *   END: the record is returned.
 *
 * Errors: EOF in QUOTED (unterminated quoted field), a quote in UNQUOTED,
 * anything else in AFTER_QUOTE, a NUL anywhere, a field growing past
 * WG_CSV_MAX_FIELD, a field starting past WG_CSV_MAX_FIELDS. The FIELD and
 * END transitions are at the bottom of the field loop.
 */

/* Every field at its limit, each with its NUL. */
#define RECORD_MAX ((size_t)WG_CSV_MAX_FIELDS * (WG_CSV_MAX_FIELD + 1))

static const unsigned char utf8_bom[3] = { 0xEF, 0xBB, 0xBF };

struct wg_csv_reader {
    FILE *fp;              /* borrowed; NULL when reading MEM */
    const unsigned char *mem;  /* borrowed: wg_csv_reader_mem() */
    size_t mem_len, mem_pos;
    size_t bytes;          /* handed to the parser so far */
    size_t line;           /* physical line of the next byte, 1-based */
    int started;           /* the byte order mark check is done */
    int eof;               /* getc() said EOF once: do not ask again */
    int io_errno;          /* non-zero: reading failed with this errno */
    unsigned char pend[3]; /* bytes read but not yet parsed */
    size_t npend, pend_pos;
    wg_rc failed;          /* sticky: non-zero after an error */
    wg_err failure;
    size_t failed_line;    /* where the failing record starts */
    wg_buf data;           /* the record's fields, each NUL-terminated */
    size_t nfields;
    size_t offs[WG_CSV_MAX_FIELDS];
    char *ptrs[WG_CSV_MAX_FIELDS + 1];
};

wg_csv_reader *wg_csv_reader_new(FILE *fp)
{
    assert(fp);
    wg_csv_reader *r = wg_xcalloc(1, sizeof *r);
    r->fp = fp;
    r->line = 1;
    wg_buf_init(&r->data, RECORD_MAX);
    return r;
}

wg_csv_reader *wg_csv_reader_mem(const void *p, size_t n)
{
    wg_csv_reader *r = wg_xcalloc(1, sizeof *r);
    wg_buf_init(&r->data, RECORD_MAX);
    wg_csv_reader_reset_mem(r, p, n);
    return r;
}

void wg_csv_reader_reset_mem(wg_csv_reader *r, const void *p, size_t n)
{
    assert(r && !r->fp && (p || n == 0));
    /* Everything but the record buffer, which keeps its memory. */
    r->mem = p;
    r->mem_len = n;
    r->mem_pos = 0;
    r->bytes = 0;
    r->line = 1;
    r->started = r->eof = r->io_errno = 0;
    r->npend = r->pend_pos = 0;
    r->failed = WG_OK;
    r->failed_line = 0;
    r->nfields = 0;
    wg_buf_reset(&r->data);
}

void wg_csv_reader_destroy(wg_csv_reader **r)
{
    if (!r || !*r)
        return;
    wg_buf_release(&(*r)->data);
    free(*r);
    *r = NULL;
}

size_t wg_csv_reader_bytes(const wg_csv_reader *r)
{
    assert(r);
    return r->bytes;
}

static int raw_getc(wg_csv_reader *r)
{
    if (r->eof)
        return EOF;
    if (!r->fp) {
        if (r->mem_pos < r->mem_len)
            return r->mem[r->mem_pos++];
        r->eof = 1;
        return EOF;
    }
    int c = getc_unlocked(r->fp);   /* one reader per FILE */
    if (c == EOF) {
        r->eof = 1;
        /* a failed read set errno; not cleared before every byte */
        if (ferror(r->fp))
            r->io_errno = errno ? errno : EIO;
    }
    return c;
}

static int getb(wg_csv_reader *r)
{
    int c;
    if (r->pend_pos < r->npend)
        c = r->pend[r->pend_pos++];
    else if ((c = raw_getc(r)) == EOF)
        return EOF;
    r->bytes++;
    return c;
}

/* Give back the byte getb() just returned. */
static void ungetb(wg_csv_reader *r, int c)
{
    if (r->pend_pos > 0) {
        r->pend[--r->pend_pos] = (unsigned char)c;
    } else {
        r->pend[0] = (unsigned char)c;
        r->npend = 1;
    }
    r->bytes--;
}

static int peekb(wg_csv_reader *r)
{
    int c = getb(r);
    if (c != EOF)
        ungetb(r, c);
    return c;
}

/* C (CR or LF) was just read outside quotes: take the LF of a CRLF too. */
static void end_line(wg_csv_reader *r, int c)
{
    if (c == '\r' && peekb(r) == '\n')
        getb(r);
    r->line++;
}

/* Skip a UTF-8 byte order mark at the very start, keeping anything else. */
static void skip_bom(wg_csv_reader *r)
{
    r->started = 1;
    while (r->npend < sizeof utf8_bom) {
        int c = raw_getc(r);
        if (c == EOF)
            return;
        r->pend[r->npend++] = (unsigned char)c;
        if (r->pend[r->npend - 1] != utf8_bom[r->npend - 1])
            return;
    }
    r->npend = 0;
    r->bytes += sizeof utf8_bom;
}

static wg_rc append(wg_csv_reader *r, size_t start, size_t field_line,
                    size_t field_no, int c, wg_err *err)
{
    if (r->data.len - start >= WG_CSV_MAX_FIELD)
        return wg_err_set(err, WG_ERR_INVALID,
                          "line %zu: field %zu is longer than %d bytes",
                          field_line, field_no, WG_CSV_MAX_FIELD);
    /* The common case, a byte into room already there (and room for the
     * NUL wg_buf keeps after it), without a call per byte. */
    if (r->data.len + 2 <= r->data.cap) {
        r->data.data[r->data.len++] = (uint8_t)c;
        return WG_OK;
    }
    return wg_buf_append_u8(&r->data, (uint8_t)c, err);
}

static wg_rc nul_byte(size_t line, size_t field_no, wg_err *err)
{
    return wg_err_set(err, WG_ERR_INVALID, "line %zu: field %zu: nul byte",
                      line, field_no);
}

static wg_rc read_record(wg_csv_reader *r, size_t *rec_line, wg_err *err)
{
    wg_rc rc;
    int c;

    wg_buf_reset(&r->data);
    r->nfields = 0;
    for (;;) {
        c = getb(r);
        if (c == EOF)
            return WG_ERR_NOTFOUND;
        if (c != '\r' && c != '\n')
            break;
        end_line(r, c);
    }
    *rec_line = r->line;

    /* One field per turn; C holds the field's first byte. */
    for (;;) {
        if (r->nfields == WG_CSV_MAX_FIELDS)
            return wg_err_set(err, WG_ERR_INVALID,
                              "line %zu: more than %d fields",
                              r->line, WG_CSV_MAX_FIELDS);
        size_t start = r->data.len;
        size_t field_line = r->line;
        size_t field_no = r->nfields + 1;
        r->offs[r->nfields++] = start;

        if (c == '"') {
            for (;;) {
                c = getb(r);
                if (c == EOF)
                    return wg_err_set(err, WG_ERR_INVALID,
                                      "line %zu: field %zu: unterminated "
                                      "quoted field", field_line, field_no);
                if (c == '"') {
                    if (peekb(r) != '"')
                        break;
                    getb(r);
                } else if (c == '\0') {
                    return nul_byte(r->line, field_no, err);
                } else if (c == '\n' || (c == '\r' && peekb(r) != '\n')) {
                    r->line++;
                }
                if ((rc = append(r, start, field_line, field_no, c, err)))
                    return rc;
            }
            c = getb(r);
            if (c == '\0')
                return nul_byte(r->line, field_no, err);
            if (c != ',' && c != '\r' && c != '\n' && c != EOF)
                return wg_err_set(err, WG_ERR_INVALID,
                                  "line %zu: field %zu: characters after "
                                  "closing quote", r->line, field_no);
        } else {
            while (c != ',' && c != '\r' && c != '\n' && c != EOF) {
                if (c == '"')
                    return wg_err_set(err, WG_ERR_INVALID,
                                      "line %zu: field %zu: quote inside "
                                      "unquoted field", r->line, field_no);
                if (c == '\0')
                    return nul_byte(r->line, field_no, err);
                if ((rc = append(r, start, field_line, field_no, c, err)))
                    return rc;
                c = getb(r);
            }
        }
        if (r->data.len + 2 <= r->data.cap)   /* as append(): no call */
            r->data.data[r->data.len++] = 0;
        else if ((rc = wg_buf_append_u8(&r->data, 0, err)))
            return rc;

        if (c == ',') {
            c = getb(r);
            continue;
        }
        if (c != EOF)
            end_line(r, c);
        break;
    }
    for (size_t i = 0; i < r->nfields; i++)
        r->ptrs[i] = (char *)r->data.data + r->offs[i];
    r->ptrs[r->nfields] = NULL;
    return WG_OK;
}

wg_rc wg_csv_read(wg_csv_reader *r, char ***fields, size_t *nfields,
                  size_t *line, wg_err *err)
{
    assert(r && fields && nfields);
    if (r->failed) {
        if (r->failed == WG_ERR_INVALID && line)
            *line = r->failed_line;
        if (err)
            *err = r->failure;
        return r->failed;
    }
    if (!r->started)
        skip_bom(r);

    wg_err e;
    size_t rec_line = 0;
    wg_rc rc = read_record(r, &rec_line, &e);
    /* A failed read looks like EOF to the parser: report it as what it is. */
    if (r->io_errno)
        rc = wg_err_set(&e, WG_ERR_IO, "cannot read csv: %s",
                        strerror(r->io_errno));
    if (rc == WG_OK) {
        *fields = r->ptrs;
        *nfields = r->nfields;
        if (line)
            *line = rec_line;
        return WG_OK;
    }
    if (rc == WG_ERR_NOTFOUND)
        return wg_err_set(err, rc, "end of csv input");
    if (rc == WG_ERR_INVALID && line)
        *line = rec_line;
    r->failed = rc;
    r->failure = e;
    r->failed_line = rec_line;
    if (err)
        *err = e;
    return rc;
}

static int needs_quotes(const char *s, size_t len, int lone)
{
    if (len == 0)
        return lone;
    if (s[0] == ' ' || s[len - 1] == ' ')
        return 1;
    if (len >= sizeof utf8_bom && memcmp(s, utf8_bom, sizeof utf8_bom) == 0)
        return 1;
    return strpbrk(s, ",\"\r\n") != NULL;
}

static int put(wg_buf *b, const char *s, size_t n)
{
    return wg_buf_append(b, s, n, NULL) == WG_OK;
}

static int put_field(wg_buf *b, const char *s, size_t len, int lone)
{
    if (!needs_quotes(s, len, lone))
        return put(b, s, len);
    if (!put(b, "\"", 1))
        return 0;
    for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1)
        if (!put(b, s, (size_t)(q - s) + 1) || !put(b, "\"", 1))
            return 0;
    return put(b, s, strlen(s)) && put(b, "\"", 1);
}

wg_rc wg_csv_format(wg_buf *out, const char *const *fields, size_t n,
                    wg_err *err)
{
    assert(out && fields && n > 0);
    if (n > WG_CSV_MAX_FIELDS)
        return wg_err_set(err, WG_ERR_INVALID,
                          "csv record has %zu fields, more than %d",
                          n, WG_CSV_MAX_FIELDS);
    for (size_t i = 0; i < n; i++)
        if (fields[i] && strlen(fields[i]) > WG_CSV_MAX_FIELD)
            return wg_err_set(err, WG_ERR_INVALID,
                              "csv field %zu is longer than %d bytes",
                              i + 1, WG_CSV_MAX_FIELD);
    size_t at = out->len;
    int ok = 1;
    for (size_t i = 0; ok && i < n; i++) {
        const char *s = fields[i] ? fields[i] : "";
        ok = (i == 0 || put(out, ",", 1)) && put_field(out, s, strlen(s), n == 1);
    }
    if (!ok || !put(out, "\r\n", 2)) {
        out->len = at;
        return wg_err_set(err, WG_ERR_INVALID, "csv record too large for "
                          "its buffer");
    }
    return WG_OK;
}

wg_rc wg_csv_write(FILE *fp, const char *const *fields, size_t n, wg_err *err)
{
    assert(fp && fields && n > 0);
    wg_buf b;
    wg_buf_init(&b, RECORD_MAX * 2 + 2 * WG_CSV_MAX_FIELDS + 2);
    wg_rc rc = wg_csv_format(&b, fields, n, err);
    if (rc == WG_OK) {
        errno = 0;
        if ((b.len && fwrite(b.data, 1, b.len, fp) != b.len) || ferror(fp))
            rc = wg_err_set(err, WG_ERR_IO, "cannot write csv record: %s",
                            strerror(errno ? errno : EIO));
    }
    wg_buf_release(&b);
    return rc;
}
