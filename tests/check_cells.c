/*
 * check_cells.c - record text made safe where it lands (node/cells.c,
 * node/json.c): spreadsheet cells, terminals, JSON
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wg_node.h"

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_cells = {"cells", NULL, NULL, 0};

START_TEST(test_cells_formula_starts_get_an_apostrophe_import_takes_off)
{
    static const char *const risky[] = { "=1+1", "+86 138", "-2", "@SUM(A1)",
                                         "\tx", "\rx", "'quoted", NULL };
    static const char *const plain[] = { "韦小宝", "1985-03-07", "a=b", "",
                                         " =x", NULL };
    for (int i = 0; risky[i]; i++) {
        char *e = wg_cell_escape(risky[i]);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(e[0], '\'');
        ck_assert_str_eq(e + 1, risky[i]);
        ck_assert_str_eq(wg_cell_unescape(e), risky[i]);
        free(e);
    }
    for (int i = 0; plain[i]; i++) {
        ck_assert_ptr_null(wg_cell_escape(plain[i]));
        ck_assert_str_eq(wg_cell_unescape(plain[i]), plain[i]);
    }
    ck_assert_ptr_null(wg_cell_escape(NULL));
}
END_TEST

START_TEST(test_cells_terminal_text_shows_controls_instead_of_obeying_them)
{
    static const struct { const char *in, *out; } cases[] = {
        { "韦小宝", "韦小宝" },
        { "\x1b[31mred", "\\x1b[31mred" },
        { "a\xc2\x9b" "31mb", "a\\x9b31mb" },          /* 8-bit CSI */
        { "x\xe2\x80\xaey", "x\\u202ey" },             /* RLO */
        { "x\xe2\x81\xa6y", "x\\u2066y" },             /* LRI */
        { "bad\xff\xfe", "bad\\xff\\xfe" },
        { "\xe4\xb8", "\\xe4\\xb8" },                  /* a cut character */
        { "tab\tnl\n", "tab\\x09nl\\x0a" },
        { "del\x7f", "del\\x7f" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = wg_term_safe(cases[i].in);
        ck_assert_str_eq(s, cases[i].out);
        free(s);
    }
    char *s = wg_term_safe(NULL);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

static char *json_of(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    wg_json_str(f, s);
    fclose(f);
    return buf;
}

START_TEST(test_cells_json_is_always_valid_utf8)
{
    static const struct { const char *in, *out; } cases[] = {
        { "韦\"小\\宝", "\"韦\\\"小\\\\宝\"" },
        { "bad\xff", "\"bad\\ufffd\"" },
        { "\xe4\xb8" "x", "\"\\ufffd\\ufffdx\"" },
        { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },           /* overlong '/' */
        { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* a surrogate */
        { "c\xc2\x9b" "d", "\"c\\u009bd\"" },
        { "r\xe2\x80\xaes", "\"r\\u202es\"" },
        { "\x01\x7f", "\"\\u0001\\u007f\"" },
        { "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },  /* kept: U+1F600 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = json_of(cases[i].in);
        ck_assert_str_eq(j, cases[i].out);
        free(j);
    }
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_cells, test_cells_formula_starts_get_an_apostrophe_import_takes_off),
    TU_TEST(case_cells, test_cells_terminal_text_shows_controls_instead_of_obeying_them),
    TU_TEST(case_cells, test_cells_json_is_always_valid_utf8),
};

int main(void)
{
    return tu_run(TU_SUITE("cells", tests));
}
