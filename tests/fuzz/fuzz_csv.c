/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (node/csv.c)
 *
 * Reads the input as CSV until end or error; every record read is written
 * back with wg_csv_format() (the bytes wg_csv_write() writes) and must read
 * back as the very same fields, alone and on line 1. Seeds:
 * tests/fuzz/corpus/csv/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "wg_csv.h"

/* One reader for the inputs, one for the round trips and one buffer for
 * the text written, each kept from input to input: an input costs the
 * parser's work, not a FILE, a stdio buffer and a reader's allocations
 * (which, through the sanitizer's quarantine, cost more than the parse). */
static wg_csv_reader *in_r, *back_r;
static wg_buf text;

static void round_trip(char **fields, size_t n)
{
    wg_buf_reset(&text);
    FZ_CHECK(wg_csv_format(&text, (const char *const *)fields, n, NULL) ==
          WG_OK);
    size_t len = text.len;
    FZ_CHECK(len >= 2 && text.data[len - 2] == '\r' && text.data[len - 1] == '\n');

    wg_csv_reader_reset_mem(back_r, text.data, len);
    char **back = NULL;
    size_t nback = 0, line = 0;
    wg_err err;
    wg_rc rc = wg_csv_read(back_r, &back, &nback, &line, &err);
    if (rc != WG_OK)
        fprintf(stderr, "fuzz_csv: rewritten record does not read: %s\n",
                err.msg);
    FZ_CHECK(rc == WG_OK);
    FZ_CHECK(line == 1);
    FZ_CHECK(nback == n);
    for (size_t i = 0; i < n; i++)
        FZ_CHECK(strcmp(back[i], fields[i]) == 0);
    FZ_CHECK(wg_csv_read(back_r, &back, &nback, &line, NULL) == WG_ERR_NOTFOUND);
    FZ_CHECK(wg_csv_reader_bytes(back_r) == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!in_r) {
        in_r = wg_csv_reader_mem(NULL, 0);
        back_r = wg_csv_reader_mem(NULL, 0);
        wg_buf_init(&text, (size_t)WG_CSV_MAX_FIELDS *
                               (2 * WG_CSV_MAX_FIELD + 3) + 2);
    }
    wg_csv_reader *r = in_r;
    wg_csv_reader_reset_mem(r, data, size);
    size_t last_line = 0, last_bytes = 0;
    for (;;) {
        char **fields = NULL;
        size_t n = 0, line = 0;
        wg_err err;
        wg_rc rc = wg_csv_read(r, &fields, &n, &line, &err);
        size_t bytes = wg_csv_reader_bytes(r);
        FZ_CHECK(bytes >= last_bytes && bytes <= size);
        last_bytes = bytes;
        if (rc == WG_ERR_NOTFOUND) {
            FZ_CHECK(bytes == size);
            break;
        }
        FZ_CHECK(line > last_line);
        last_line = line;
        if (rc != WG_OK) {
            FZ_CHECK(rc == WG_ERR_INVALID);
            FZ_CHECK(strncmp(err.msg, "line ", 5) == 0);
            break;
        }
        FZ_CHECK(n >= 1 && n <= WG_CSV_MAX_FIELDS);
        FZ_CHECK(fields[n] == NULL);
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(strlen(fields[i]) <= WG_CSV_MAX_FIELD);
        round_trip(fields, n);
    }
    return 0;
}
