/*
 * wg_xlsx.h - the first worksheet of an .xlsx workbook, row by row
 *
 * For `wings import`. The zip container is read with libzip and each XML
 * part with libxml2's streaming reader: nothing here inflates or parses
 * XML by hand. A workbook is hostile input, so every part is read into a
 * buffer with a hard limit (a zip bomb stops at WG_XLSX_MAX_PART bytes of
 * output, whatever its header claims), and rows, cells and shared strings
 * are bounded as CSV records are.
 */
#ifndef WG_XLSX_H
#define WG_XLSX_H

#include <stddef.h>

#include "wg_err.h"

#define WG_XLSX_MAX_PART (64u << 20)     /* one XML part, inflated */
#define WG_XLSX_MAX_STRINGS 1000000      /* shared strings */
#define WG_XLSX_MAX_CELL 65536           /* bytes of one cell's text */
#define WG_XLSX_MAX_COLS 256             /* columns A..IV */

/* What a cell held, beside its text. */
typedef enum wg_xlsx_kind {
    WG_XLSX_EMPTY = 0,
    WG_XLSX_TEXT,     /* a string: shared, inline or a formula's result */
    WG_XLSX_NUMBER,   /* a number, its text as stored ("4.50225E+17") */
    WG_XLSX_DATE,     /* a number in a date format, given as YYYY-MM-DD */
    WG_XLSX_BOOL      /* "0" or "1" */
} wg_xlsx_kind;

typedef struct wg_xlsx wg_xlsx;

/* Open the workbook in file PATH, or in LEN bytes at DATA (borrowed: must
 * outlive the reader). Caller owns; release with wg_xlsx_close().
 * WG_ERR_INVALID when it is not a workbook wings can read (ERR says what:
 * not a zip, no worksheet, a part over the limit, malformed XML);
 * WG_ERR_NOTFOUND when PATH cannot be opened. */
wg_rc wg_xlsx_open_file(const char *path, wg_xlsx **out, wg_err *err);
wg_rc wg_xlsx_open_buffer(const void *data, size_t len, wg_xlsx **out,
                          wg_err *err);

/* Release *X (may be NULL) and set it to NULL. */
void wg_xlsx_close(wg_xlsx **x);

/* The next row that holds a cell with text. WG_OK: *N (>= 1) cells, each
 * NUL-terminated, then NULL, in *CELLS, and their kinds in *KINDS (may be
 * NULL); columns missing before the last cell are empty strings. *ROW is
 * the sheet's 1-based row number. Borrowed: valid until the next call.
 * WG_ERR_NOTFOUND at the end; WG_ERR_INVALID on malformed content ("row
 * N: reason"); errors are sticky. */
wg_rc wg_xlsx_read(wg_xlsx *x, char ***cells, const wg_xlsx_kind **kinds,
                   size_t *n, size_t *row, wg_err *err);

#endif
