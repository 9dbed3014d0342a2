/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (node/csv.c)
 *
 * Reads the input as CSV until end or error; every record read is written
 * back with wg_csv_write() and must read back as the very same fields, alone
 * and on line 1. Seeds: tests/fuzz/corpus/csv/.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "wg_csv.h"

static void round_trip(char **fields, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FZ_CHECK(out);
    FZ_CHECK(wg_csv_write(out, (const char *const *)fields, n, NULL) == WG_OK);
    FZ_CHECK(fclose(out) == 0);
    FZ_CHECK(len >= 2 && text[len - 2] == '\r' && text[len - 1] == '\n');

    FILE *in = fmemopen(text, len, "r");
    FZ_CHECK(in);
    wg_csv_reader *r = wg_csv_reader_new(in);
    char **back = NULL;
    size_t nback = 0, line = 0;
    wg_err err;
    wg_rc rc = wg_csv_read(r, &back, &nback, &line, &err);
    if (rc != WG_OK)
        fprintf(stderr, "fuzz_csv: rewritten record does not read: %s\n",
                err.msg);
    FZ_CHECK(rc == WG_OK);
    FZ_CHECK(line == 1);
    FZ_CHECK(nback == n);
    for (size_t i = 0; i < n; i++)
        FZ_CHECK(strcmp(back[i], fields[i]) == 0);
    FZ_CHECK(wg_csv_read(r, &back, &nback, &line, NULL) == WG_ERR_NOTFOUND);
    FZ_CHECK(wg_csv_reader_bytes(r) == len);
    wg_csv_reader_destroy(&r);
    FZ_CHECK(r == NULL);
    fclose(in);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* fmemopen() wants a writable buffer, and some libcs refuse size 0. */
    char *copy = malloc(size + 1);
    FZ_CHECK(copy);
    if (size)
        memcpy(copy, data, size);
    FILE *in = fmemopen(copy, size ? size : 1, "r");
    FZ_CHECK(in);
    if (size == 0)
        fgetc(in);   /* make the one-byte stream empty */

    wg_csv_reader *r = wg_csv_reader_new(in);
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
    wg_csv_reader_destroy(&r);
    fclose(in);
    free(copy);
    return 0;
}
