/*
 * wg_csv.h - RFC 4180 CSV: a streaming reader and a one-record writer
 *
 * Used by `wings import` and `wings export` (and the --csv listings). Bytes
 * pass through untouched: the reader neither checks nor converts encodings,
 * so UTF-8 names round trip and checking them is the importer's job.
 */
#ifndef WG_CSV_H
#define WG_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "wg_buf.h"
#include "wg_err.h"

/* Longest field, in bytes after unquoting, and most fields per record. A
 * hostile file therefore costs the reader at most about 16 MiB. */
#define WG_CSV_MAX_FIELD 65536
#define WG_CSV_MAX_FIELDS 256

typedef struct wg_csv_reader wg_csv_reader;

/* A reader of the CSV text on FP. Caller owns; release with
 * wg_csv_reader_destroy(). FP is borrowed: it must outlive the reader, the
 * caller closes it, and nobody else reads from it while the reader is used. */
wg_csv_reader *wg_csv_reader_new(FILE *fp);

/* A reader of the N bytes at P, which are borrowed: they must outlive the
 * reader's use. No FILE, no copy (an import's text already in memory, a
 * fuzzer's input). Release with wg_csv_reader_destroy(). */
wg_csv_reader *wg_csv_reader_mem(const void *p, size_t n);

/* Start a reader made by wg_csv_reader_mem() again, on the N bytes at P,
 * as a fresh one would (line 1, no error), keeping the memory it has: many
 * texts read with one allocation. */
void wg_csv_reader_reset_mem(wg_csv_reader *r, const void *p, size_t n);

/* Release *R (which may be NULL) and set it to NULL. FP is not closed. */
void wg_csv_reader_destroy(wg_csv_reader **r);

/* Read the next record.
 *
 * WG_OK: *nfields (>= 1) is set and *fields points at *nfields NUL-terminated
 * field strings, then a NULL. Borrowed: valid until the next call on R.
 * WG_ERR_NOTFOUND: end of input, no record.
 * WG_ERR_INVALID: ERR says "line N: reason", N being the physical line of the
 * fault (for an unterminated quoted field, the line of its opening quote;
 * for an oversized field, the line it starts on). Reasons: unterminated
 * quoted field, a quote inside an unquoted field, characters after a closing
 * quote, a field over WG_CSV_MAX_FIELD bytes, more than WG_CSV_MAX_FIELDS
 * fields, a NUL byte.
 * WG_ERR_IO: reading FP failed.
 * After an error, every later call fails again with the same code and message.
 *
 * *LINE (may be NULL) is set on WG_OK and WG_ERR_INVALID to the 1-based
 * physical line on which the record starts; quoted fields may span lines.
 * Lines end in LF, CRLF or a lone CR (old Mac exports), inside quotes too.
 *
 * Accepted: LF or CRLF record ends, a last record without one, quoted fields
 * with "" escapes and embedded commas, CR and LF, a UTF-8 byte order mark at
 * the very start (skipped). Empty lines are skipped and are not records; a
 * line holding just "" is a record of one empty field. No trimming: spaces
 * are data, and a quote may only open a field, so ` "a"` is an error. */
wg_rc wg_csv_read(wg_csv_reader *r, char ***fields, size_t *nfields,
                  size_t *line, wg_err *err);

/* Bytes of FP consumed so far, byte order mark included (for a progress
 * display against the file size). */
size_t wg_csv_reader_bytes(const wg_csv_reader *r);

/* Write one record of N (>= 1) fields to FP, ending it with CRLF. A field is
 * quoted only when it contains a comma, quote, CR or LF, starts or ends with a
 * space, starts with a UTF-8 byte order mark, or is the lone field of the
 * record and empty (an empty line would read back as no record); quotes
 * inside are doubled. A NULL field is written as empty. A record the reader
 * would reject (a field over WG_CSV_MAX_FIELD bytes, more than
 * WG_CSV_MAX_FIELDS fields) is WG_ERR_INVALID and nothing is written.
 * WG_ERR_IO if a write fails; stdio buffers, so the caller must still check
 * fflush() or fclose(). A char ** from wg_csv_read() needs a cast to pass
 * as FIELDS: C does not add the inner const implicitly. */
wg_rc wg_csv_write(FILE *fp, const char *const *fields, size_t n, wg_err *err);

/* The record wg_csv_write() writes, appended to OUT instead (same rules and
 * refusals; WG_ERR_INVALID, OUT as it was, when it does not fit OUT's
 * limit). */
wg_rc wg_csv_format(wg_buf *out, const char *const *fields, size_t n,
                    wg_err *err);

#endif
