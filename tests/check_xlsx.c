/*
 * check_xlsx.c - the .xlsx reader (node/xlsx.c) on the workbooks of
 * tests/data/ (made by tests/data/make_fixtures.py)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wg_xlsx.h"

#ifndef WG_TEST_DATA
#error "WG_TEST_DATA must name tests/data"
#endif

static wg_xlsx *open_data(const char *name, wg_rc want, wg_err *err)
{
    wg_xlsx *x = NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", WG_TEST_DATA, name);
    wg_rc rc = wg_xlsx_open_file(path, &x, err);
    ck_assert_msg(rc == want, "%s: rc %d (%s)", name, (int)rc, err->msg);
    return x;
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_read = {"read", NULL, NULL, 60};

START_TEST(test_xlsx_reads_strings_gaps_dates_numbers_and_booleans)
{
    wg_err err;
    wg_xlsx *x = open_data("handmade.xlsx", WG_OK, &err);
    char **c;
    const wg_xlsx_kind *k;
    size_t n, row;

    ck_assert_int_eq(wg_xlsx_read(x, &c, &k, &n, &row, &err), WG_OK);
    ck_assert_uint_eq(row, 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(c[0], "name");
    ck_assert_str_eq(c[1], "");           /* B1 missing: a gap */
    ck_assert_int_eq(k[1], WG_XLSX_EMPTY);
    ck_assert_str_eq(c[2], "x");          /* inline string */

    ck_assert_int_eq(wg_xlsx_read(x, &c, &k, &n, &row, &err), WG_OK);
    ck_assert_uint_eq(row, 3);
    ck_assert_uint_eq(n, 6);
    ck_assert_str_eq(c[0], "韦小宝 ");    /* rich text runs, phonetic left out */
    ck_assert_int_eq(k[0], WG_XLSX_TEXT);
    ck_assert_str_eq(c[1], "1985-03-07"); /* built-in date format 14 */
    ck_assert_int_eq(k[1], WG_XLSX_DATE);
    ck_assert_str_eq(c[2], "2024-05-01"); /* yyyy"年"m"月"d"日", time dropped */
    ck_assert_str_eq(c[3], "4.50225198503071E+17");
    ck_assert_int_eq(k[3], WG_XLSX_NUMBER);
    ck_assert_str_eq(c[4], "1");
    ck_assert_int_eq(k[4], WG_XLSX_BOOL);
    ck_assert_str_eq(c[5], "name");       /* a formula's cached string */

    /* row 4 is empty: skipped */
    ck_assert_int_eq(wg_xlsx_read(x, &c, &k, &n, &row, &err),
                     WG_ERR_NOTFOUND);
    wg_xlsx_close(&x);
    ck_assert_ptr_null(x);
}
END_TEST

START_TEST(test_xlsx_reads_an_openpyxl_workbook)
{
    wg_err err;
    wg_xlsx *x = open_data("openpyxl_persons.xlsx", WG_OK, &err);
    char **c;
    const wg_xlsx_kind *k;
    size_t n, row;

    ck_assert_int_eq(wg_xlsx_read(x, &c, &k, &n, &row, &err), WG_OK);
    ck_assert_uint_eq(n, 9);
    ck_assert_str_eq(c[0], "姓名");
    ck_assert_int_eq(wg_xlsx_read(x, &c, &k, &n, &row, &err), WG_OK);
    ck_assert_str_eq(c[0], "韦小宝");
    ck_assert_str_eq(c[2], "1985-03-07");
    ck_assert_int_eq(k[2], WG_XLSX_DATE);
    ck_assert_str_eq(c[3], "450226198503071236");
    ck_assert_int_eq(k[3], WG_XLSX_TEXT);
    ck_assert_str_eq(c[8], "2024-05-01");
    wg_xlsx_close(&x);
}
END_TEST

START_TEST(test_xlsx_stops_a_zip_bomb_at_its_bound)
{
    wg_err err;
    wg_xlsx *x = open_data("zip_bomb.xlsx", WG_ERR_INVALID, &err);
    ck_assert_ptr_null(x);
    ck_assert_str_eq(err.msg, "part xl/worksheets/sheet1.xml inflates to "
                              "more than 64 MiB");
}
END_TEST

START_TEST(test_xlsx_refuses_what_is_not_a_workbook)
{
    wg_err err;
    static const char junk[] = "PK\3\4 not a zip";
    wg_xlsx *x = NULL;
    ck_assert_int_eq(wg_xlsx_open_buffer(junk, sizeof junk, &x, &err),
                     WG_ERR_INVALID);
    ck_assert_ptr_null(x);
    ck_assert(!strncmp(err.msg, "not an .xlsx workbook: ", 23));
    x = open_data("excel_utf8_bom.csv", WG_ERR_INVALID, &err);
    ck_assert_ptr_null(x);
    x = open_data("no_such_file.xlsx", WG_ERR_NOTFOUND, &err);
    ck_assert_ptr_null(x);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_read, test_xlsx_reads_strings_gaps_dates_numbers_and_booleans),
    TU_TEST(case_read, test_xlsx_reads_an_openpyxl_workbook),
    TU_TEST(case_read, test_xlsx_stops_a_zip_bomb_at_its_bound),
    TU_TEST(case_read, test_xlsx_refuses_what_is_not_a_workbook),
};

int main(void)
{
    return tu_run(TU_SUITE("xlsx", tests));
}
