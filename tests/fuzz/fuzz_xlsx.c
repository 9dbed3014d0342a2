/*
 * fuzz_xlsx.c - libFuzzer harness for the .xlsx reader (node/xlsx.c)
 *
 * Opens the input as a workbook from memory and reads every row until the
 * end or an error. Whatever the bytes (a zip bomb, malformed XML, cell
 * references out of order, shared string indexes out of range), the reader
 * must fail with WG_ERR_INVALID and a message, never crash, read out of
 * bounds or grow past its limits; rows it returns must hold at most
 * WG_XLSX_MAX_COLS cells of at most WG_XLSX_MAX_CELL bytes, in increasing
 * row order. Seeds: tests/fuzz/corpus/xlsx/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "wg_xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wg_xlsx *x = NULL;
    wg_err err = { 0 };
    wg_rc rc = wg_xlsx_open_buffer(data, size, &x, &err);
    if (rc != WG_OK) {
        FZ_CHECK(rc == WG_ERR_INVALID);
        FZ_CHECK(x == NULL && err.msg[0]);
        return 0;
    }
    size_t last = 0;
    for (int rows = 0;; rows++) {
        char **cells = NULL;
        const wg_xlsx_kind *kinds = NULL;
        size_t n = 0, row = 0;
        rc = wg_xlsx_read(x, &cells, &kinds, &n, &row, &err);
        if (rc == WG_ERR_NOTFOUND)
            break;
        if (rc != WG_OK) {
            FZ_CHECK(rc == WG_ERR_INVALID);
            FZ_CHECK(!strncmp(err.msg, "row ", 4));
            /* errors are sticky */
            FZ_CHECK(wg_xlsx_read(x, &cells, &kinds, &n, &row, NULL) == rc);
            break;
        }
        FZ_CHECK(n >= 1 && n <= WG_XLSX_MAX_COLS);
        FZ_CHECK(row > last);
        last = row;
        FZ_CHECK(cells[n] == NULL);
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(cells[i]);
            FZ_CHECK(len <= WG_XLSX_MAX_CELL);
            FZ_CHECK(kinds[i] <= WG_XLSX_BOOL);
            FZ_CHECK((len == 0) == (kinds[i] == WG_XLSX_EMPTY) || len == 0);
            any |= len > 0;
            if (kinds[i] == WG_XLSX_DATE)
                FZ_CHECK(len == 10 && cells[i][4] == '-' && cells[i][7] == '-');
        }
        FZ_CHECK(any);
    }
    wg_xlsx_close(&x);
    FZ_CHECK(x == NULL);
    return 0;
}
