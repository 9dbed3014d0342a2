/*
 * check_csv.c - the CSV reader and writer (node/csv.c)
 *
 * Input goes through tmpfile(), so NUL bytes and empty input are fed exactly;
 * error cases assert the whole message, line number included.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wg_csv.h"

/* The UTF-8 byte order mark. */
#define BOM "\xEF\xBB\xBF"

static FILE *in;
static wg_csv_reader *rd;

static void teardown(void)
{
    wg_csv_reader_destroy(&rd);
    if (in)
        fclose(in);
    in = NULL;
}

/* Make rd read exactly the N bytes at P. */
static void feed_n(const char *p, size_t n)
{
    teardown();
    in = tmpfile();
    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(fwrite(p, 1, n, in), n);
    rewind(in);
    rd = wg_csv_reader_new(in);
    ck_assert_ptr_nonnull(rd);
}

static void feed(const char *s)
{
    feed_n(s, strlen(s));
}

static void expect_rec(int at, size_t want_line, const char *const *want,
                       size_t nwant)
{
    char **f = NULL;
    size_t n = 0, line = 0;
    wg_err err = { 0 };
    wg_rc rc = wg_csv_read(rd, &f, &n, &line, &err);
    ck_assert_msg(rc == WG_OK, "(line %d of the test) read failed: %d %s",
                  at, rc, err.msg);
    ck_assert_msg(n == nwant, "(line %d of the test) %zu fields, want %zu",
                  at, n, nwant);
    ck_assert_msg(line == want_line,
                  "(line %d of the test) record on line %zu, want %zu",
                  at, line, want_line);
    ck_assert_msg(f[n] == NULL, "(line %d of the test) no NULL after the "
                  "last field", at);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(f[i], want[i]) == 0,
                      "(line %d of the test) field %zu is \"%s\", want \"%s\"",
                      at, i + 1, f[i], want[i]);
}

#define FIELDS(...) (const char *const[]){ __VA_ARGS__ }
#define NFIELDS(...) (sizeof FIELDS(__VA_ARGS__) / sizeof(const char *))
/* The next record starts on LINE and holds exactly the given fields. */
#define EXPECT_REC(line, ...) \
    expect_rec(__LINE__, (line), FIELDS(__VA_ARGS__), NFIELDS(__VA_ARGS__))

static void expect_end(int at)
{
    char **f = NULL;
    size_t n = 0, line = 0;
    wg_err err = { 0 };
    wg_rc rc = wg_csv_read(rd, &f, &n, &line, &err);
    ck_assert_msg(rc == WG_ERR_NOTFOUND, "(line %d of the test) got %d, "
                  "want end of input", at, rc);
}
#define EXPECT_END() expect_end(__LINE__)

/* The next read fails with WG_ERR_INVALID and exactly MSG, for a record
 * starting on REC_LINE. */
static void expect_invalid(int at, size_t rec_line, const char *msg)
{
    char **f = NULL;
    size_t n = 0, line = 0;
    wg_err err = { 0 };
    wg_rc rc = wg_csv_read(rd, &f, &n, &line, &err);
    ck_assert_msg(rc == WG_ERR_INVALID, "(line %d of the test) got %d, "
                  "want invalid", at, rc);
    ck_assert_int_eq(err.code, WG_ERR_INVALID);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_msg(line == rec_line, "(line %d of the test) record on line "
                  "%zu, want %zu", at, line, rec_line);
}
#define EXPECT_INVALID(rec_line, msg) expect_invalid(__LINE__, (rec_line), (msg))

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- reading ------------------------------------------------------------ */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_read = {"read", NULL, teardown, 0};
static const tu_case case_errors = {"errors", NULL, teardown, 0};
static const tu_case case_write = {"write", NULL, teardown, 0};

START_TEST(test_csv_simple_rows)
{
    feed("name,gender,birth_date\nalice,female,1990-01-02\nbob,male,\n");
    EXPECT_REC(1, "name", "gender", "birth_date");
    EXPECT_REC(2, "alice", "female", "1990-01-02");
    EXPECT_REC(3, "bob", "male", "");
    EXPECT_END();
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_crlf_and_lf_read_the_same)
{
    static const char *const inputs[] = {
        "a,b\nc,d\n", "a,b\r\nc,d\r\n", "a,b\r\nc,d\n", "a,b\nc,d\r\n",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        feed(inputs[i]);
        EXPECT_REC(1, "a", "b");
        EXPECT_REC(2, "c", "d");
        EXPECT_END();
    }
}
END_TEST

START_TEST(test_csv_lone_cr_ends_a_line)
{
    feed("a,b\rc,d\r\re\r");
    EXPECT_REC(1, "a", "b");
    EXPECT_REC(2, "c", "d");
    EXPECT_REC(4, "e");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_quoted_commas_and_quotes)
{
    feed("\"a,b\",\"say \"\"hi\"\"\",\"\"\"\",\"\"\"\"\"\",\",\"\r\n");
    EXPECT_REC(1, "a,b", "say \"hi\"", "\"", "\"\"", ",");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_quoted_newlines_are_data)
{
    feed("id,note\r\n"
         "1,\"one\r\ntwo\nthree\rfour\"\r\n"
         "2,\"\n\"\n");
    EXPECT_REC(1, "id", "note");
    EXPECT_REC(2, "1", "one\r\ntwo\nthree\rfour");
    EXPECT_REC(6, "2", "\n");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_line_numbers_after_multiline_field)
{
    feed("h1,h2\n"                     /* line 1 */
         "\"a\nb\nc\",x\n"             /* lines 2-4 */
         "next,1\n"                    /* line 5 */
         "\n"                          /* line 6, blank */
         "y,\"\r\n\r\n\"\r\n"          /* lines 7-9 */
         "last,2");                    /* line 10 */
    EXPECT_REC(1, "h1", "h2");
    EXPECT_REC(2, "a\nb\nc", "x");
    EXPECT_REC(5, "next", "1");
    EXPECT_REC(7, "y", "\r\n\r\n");
    EXPECT_REC(10, "last", "2");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_chinese_utf8_passes_through)
{
    feed("姓名,性别,县\n"
         "张三,女,\"长沙县,星沙街道\"\n"
         "李四,男,浏阳市（城区）\n");
    EXPECT_REC(1, "姓名", "性别", "县");
    EXPECT_REC(2, "张三", "女", "长沙县,星沙街道");
    EXPECT_REC(3, "李四", "男", "浏阳市（城区）");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_bom_at_start_is_skipped)
{
    feed(BOM "姓名,age\r\n王五,30\r\n");
    EXPECT_REC(1, "姓名", "age");
    EXPECT_REC(2, "王五", "30");
    EXPECT_END();

    feed(BOM "\"quoted\"\n");
    EXPECT_REC(1, "quoted");
    EXPECT_END();

    feed(BOM);
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_bom_elsewhere_is_data)
{
    feed("a\n" BOM "b\n");
    EXPECT_REC(1, "a");
    EXPECT_REC(2, BOM "b");
    EXPECT_END();

    /* Only the first of two marks is skipped. */
    feed(BOM BOM "c\n");
    EXPECT_REC(1, BOM "c");
    EXPECT_END();

    /* Part of a mark is kept as it is. */
    feed("\xEF\xBB,x\n");
    EXPECT_REC(1, "\xEF\xBB", "x");
    EXPECT_END();

    feed("\xEF");
    EXPECT_REC(1, "\xEF");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_empty_fields)
{
    feed(",,\na,,b\nc,\n,d\n\"\"\n\"\",\"\"\n");
    EXPECT_REC(1, "", "", "");
    EXPECT_REC(2, "a", "", "b");
    EXPECT_REC(3, "c", "");
    EXPECT_REC(4, "", "d");
    EXPECT_REC(5, "");
    EXPECT_REC(6, "", "");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_empty_lines_are_skipped)
{
    feed("\n\r\na\n\n\r\n\rb\n\n");
    EXPECT_REC(3, "a");
    EXPECT_REC(7, "b");
    EXPECT_END();

    feed("");
    EXPECT_END();

    feed("\r\n\n");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_spaces_are_data)
{
    feed(" a , b\n \n");
    EXPECT_REC(1, " a ", " b");
    EXPECT_REC(2, " ");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_last_record_without_newline)
{
    feed("a,b\nc,d");
    EXPECT_REC(1, "a", "b");
    EXPECT_REC(2, "c", "d");
    EXPECT_END();

    feed("\"q\"");
    EXPECT_REC(1, "q");
    EXPECT_END();

    feed("x,");
    EXPECT_REC(1, "x", "");
    EXPECT_END();

    feed("x,\"\"");
    EXPECT_REC(1, "x", "");
    EXPECT_END();

    feed("a\r");
    EXPECT_REC(1, "a");
    EXPECT_END();
}
END_TEST

START_TEST(test_csv_reader_bytes_counts_consumed_input)
{
    feed("ab,c\r\nd\re\n");
    ck_assert_uint_eq(wg_csv_reader_bytes(rd), 0);
    EXPECT_REC(1, "ab", "c");
    ck_assert_uint_eq(wg_csv_reader_bytes(rd), 6);
    EXPECT_REC(2, "d");       /* the byte after CR was looked at, not taken */
    ck_assert_uint_eq(wg_csv_reader_bytes(rd), 8);
    EXPECT_REC(3, "e");
    ck_assert_uint_eq(wg_csv_reader_bytes(rd), 10);
    EXPECT_END();
    ck_assert_uint_eq(wg_csv_reader_bytes(rd), 10);

    feed(BOM "x\n");
    EXPECT_REC(1, "x");
    ck_assert_uint_eq(wg_csv_reader_bytes(rd), 5);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(test_csv_unterminated_quote_names_its_line)
{
    feed("a\nb\nc,\"open\nstill open\n");
    EXPECT_REC(1, "a");
    EXPECT_REC(2, "b");
    EXPECT_INVALID(3, "line 3: field 2: unterminated quoted field");

    feed("\"");
    EXPECT_INVALID(1, "line 1: field 1: unterminated quoted field");

    feed("x\n\"a\"\"");
    EXPECT_REC(1, "x");
    EXPECT_INVALID(2, "line 2: field 1: unterminated quoted field");
}
END_TEST

START_TEST(test_csv_quote_inside_unquoted_field_is_invalid)
{
    feed("a,b\nc,d\"e\n");
    EXPECT_REC(1, "a", "b");
    EXPECT_INVALID(2, "line 2: field 2: quote inside unquoted field");

    /* No trimming: a space before the opening quote makes it a stray one. */
    feed("\"x\ny\",ok\n \"a\"\n");
    EXPECT_REC(1, "x\ny", "ok");
    EXPECT_INVALID(3, "line 3: field 1: quote inside unquoted field");
}
END_TEST

START_TEST(test_csv_characters_after_closing_quote_are_invalid)
{
    feed("h\n\"ok\",\"a\nb\"c\n");
    EXPECT_REC(1, "h");
    /* The record starts on line 2; the stray c is on line 3. */
    EXPECT_INVALID(2, "line 3: field 2: characters after closing quote");

    feed("\"a\" \n");
    EXPECT_INVALID(1, "line 1: field 1: characters after closing quote");
}
END_TEST

START_TEST(test_csv_nul_byte_is_invalid)
{
    static const char unquoted[] = "a\nb,c\0d\n";
    feed_n(unquoted, sizeof unquoted - 1);
    EXPECT_REC(1, "a");
    EXPECT_INVALID(2, "line 2: field 2: nul byte");

    static const char quoted[] = "a\n\"x\ny\0\"\n";
    feed_n(quoted, sizeof quoted - 1);
    EXPECT_REC(1, "a");
    EXPECT_INVALID(2, "line 3: field 1: nul byte");

    static const char after[] = "\"x\"\0\n";
    feed_n(after, sizeof after - 1);
    EXPECT_INVALID(1, "line 1: field 1: nul byte");
}
END_TEST

START_TEST(test_csv_field_size_limit)
{
    char *at_limit = repeat('x', WG_CSV_MAX_FIELD);
    char *over = repeat('y', WG_CSV_MAX_FIELD + 1);
    size_t cap = 2 * WG_CSV_MAX_FIELD + 64;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);

    snprintf(text, cap, "h\n%s,z\nid,%s\n", at_limit, over);
    feed(text);
    EXPECT_REC(1, "h");
    EXPECT_REC(2, at_limit, "z");
    EXPECT_INVALID(3, "line 3: field 2 is longer than 65536 bytes");

    /* A quoted field is measured after unquoting and blamed on the line
     * where it starts. */
    snprintf(text, cap, "h\n\"\n%s\"\n", at_limit);
    feed(text);
    EXPECT_REC(1, "h");
    EXPECT_INVALID(2, "line 2: field 1 is longer than 65536 bytes");

    free(text);
    free(over);
    free(at_limit);
}
END_TEST

START_TEST(test_csv_field_count_limit)
{
    char text[4 * WG_CSV_MAX_FIELDS + 16];
    size_t n = 0;
    text[n++] = '\n';
    for (int i = 0; i < WG_CSV_MAX_FIELDS; i++) {
        text[n++] = 'f';
        text[n++] = i + 1 < WG_CSV_MAX_FIELDS ? ',' : '\n';
    }
    size_t one_record = n;
    memcpy(text + n, text + 1, one_record - 2);
    n += one_record - 2;
    memcpy(text + n, ",g\n", 4);

    feed(text);
    char **f = NULL;
    size_t nf = 0, line = 0;
    ck_assert_int_eq(wg_csv_read(rd, &f, &nf, &line, NULL), WG_OK);
    ck_assert_uint_eq(nf, WG_CSV_MAX_FIELDS);
    ck_assert_uint_eq(line, 2);
    ck_assert_str_eq(f[WG_CSV_MAX_FIELDS - 1], "f");
    EXPECT_INVALID(3, "line 3: more than 256 fields");
}
END_TEST

START_TEST(test_csv_error_is_sticky)
{
    feed("\"a\"b\nfine\n");
    EXPECT_INVALID(1, "line 1: field 1: characters after closing quote");
    EXPECT_INVALID(1, "line 1: field 1: characters after closing quote");
}
END_TEST

START_TEST(test_csv_read_failure_is_io_error)
{
    teardown();
    in = fopen("/dev/null", "w");  /* reading it fails */
    ck_assert_ptr_nonnull(in);
    rd = wg_csv_reader_new(in);
    char **f = NULL;
    size_t n = 0;
    wg_err err = { 0 };
    ck_assert_int_eq(wg_csv_read(rd, &f, &n, NULL, &err), WG_ERR_IO);
    ck_assert_msg(strncmp(err.msg, "cannot read csv: ", 17) == 0, "%s",
                  err.msg);
}
END_TEST

/* ---- writing ------------------------------------------------------------ */

/* Everything written to OUT so far, NUL-terminated; caller frees. */
static char *slurp(FILE *out, size_t *len)
{
    long end = ftell(out);
    ck_assert_int_ge(end, 0);
    char *s = malloc((size_t)end + 1);
    ck_assert_ptr_nonnull(s);
    rewind(out);
    ck_assert_uint_eq(fread(s, 1, (size_t)end, out), (size_t)end);
    s[end] = '\0';
    if (len)
        *len = (size_t)end;
    return s;
}

START_TEST(test_csv_write_quotes_only_when_needed)
{
    FILE *out = tmpfile();
    ck_assert_ptr_nonnull(out);
    const char *const rec[] = {
        "a", "b c", " lead", "trail ", "x,y", "q\"q", "cr\r", "lf\n", NULL,
        "", "张三", "\t",
    };
    ck_assert_int_eq(wg_csv_write(out, rec, sizeof rec / sizeof rec[0], NULL),
                     WG_OK);
    const char *const bom[] = { BOM "x", "\xEF\xBB" };
    ck_assert_int_eq(wg_csv_write(out, bom, 2, NULL), WG_OK);
    char *s = slurp(out, NULL);
    ck_assert_str_eq(s, "a,b c,\" lead\",\"trail \",\"x,y\",\"q\"\"q\","
                        "\"cr\r\",\"lf\n\",,,张三,\t\r\n"
                        "\"" BOM "x\",\xEF\xBB\r\n");
    free(s);
    fclose(out);
}
END_TEST

START_TEST(test_csv_write_lone_empty_field_is_quoted)
{
    FILE *out = tmpfile();
    ck_assert_ptr_nonnull(out);
    const char *const empty[] = { "" };
    const char *const null[] = { NULL };
    const char *const two[] = { "", NULL };
    ck_assert_int_eq(wg_csv_write(out, empty, 1, NULL), WG_OK);
    ck_assert_int_eq(wg_csv_write(out, null, 1, NULL), WG_OK);
    ck_assert_int_eq(wg_csv_write(out, two, 2, NULL), WG_OK);
    char *s = slurp(out, NULL);
    ck_assert_str_eq(s, "\"\"\r\n\"\"\r\n,\r\n");
    free(s);
    fclose(out);
}
END_TEST

START_TEST(test_csv_write_rejects_what_cannot_be_read)
{
    FILE *out = tmpfile();
    ck_assert_ptr_nonnull(out);
    char *over = repeat('x', WG_CSV_MAX_FIELD + 1);
    const char *const big[] = { "ok", over };
    wg_err err = { 0 };
    ck_assert_int_eq(wg_csv_write(out, big, 2, &err), WG_ERR_INVALID);
    ck_assert_str_eq(err.msg, "csv field 2 is longer than 65536 bytes");

    const char *many[WG_CSV_MAX_FIELDS + 1] = { 0 };
    ck_assert_int_eq(wg_csv_write(out, many, WG_CSV_MAX_FIELDS + 1, &err),
                     WG_ERR_INVALID);
    ck_assert_str_eq(err.msg, "csv record has 257 fields, more than 256");
    ck_assert_int_eq(ftell(out), 0);  /* nothing half-written */
    free(over);
    fclose(out);
}
END_TEST

START_TEST(test_csv_write_failure_is_io_error)
{
    FILE *out = fopen("/dev/null", "r");  /* writing it fails */
    ck_assert_ptr_nonnull(out);
    const char *const rec[] = { "a", "b" };
    wg_err err = { 0 };
    ck_assert_int_eq(wg_csv_write(out, rec, 2, &err), WG_ERR_IO);
    ck_assert_int_eq(err.code, WG_ERR_IO);
    ck_assert_msg(strncmp(err.msg, "cannot write csv record: ", 25) == 0,
                  "%s", err.msg);
    fclose(out);
}
END_TEST

START_TEST(test_csv_round_trip_of_tricky_values)
{
    char *all_quotes = repeat('"', WG_CSV_MAX_FIELD);
    const char *const r1[] = {
        "   ", "\"quoted\"", ",", "\r", "\n", "\r\n", "\"", " ", "",
        "x\"\"y", "张三,李四", BOM "bom", "a\"", "\"b", "tab\t",
    };
    const char *const r2[] = { "" };
    const char *const r3[] = { "\r" };
    const char *const r4[] = { all_quotes, "end" };
    const char *const r5[] = { "last" };
    struct { const char *const *f; size_t n; size_t line; } recs[] = {
        /* "\r", "\n" and "\r\n" each end a physical line inside quotes */
        { r1, sizeof r1 / sizeof r1[0], 1 },
        { r2, 1, 5 },
        { r3, 1, 6 },
        { r4, 2, 8 },
        { r5, 1, 9 },
    };
    size_t nrecs = sizeof recs / sizeof recs[0];

    FILE *out = tmpfile();
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < nrecs; i++)
        ck_assert_int_eq(wg_csv_write(out, recs[i].f, recs[i].n, NULL), WG_OK);
    size_t len = 0;
    char *text = slurp(out, &len);
    fclose(out);

    feed_n(text, len);
    for (size_t i = 0; i < nrecs; i++) {
        char **f = NULL;
        size_t n = 0, line = 0;
        wg_err err = { 0 };
        ck_assert_msg(wg_csv_read(rd, &f, &n, &line, &err) == WG_OK,
                      "record %zu: %s", i + 1, err.msg);
        ck_assert_uint_eq(n, recs[i].n);
        ck_assert_uint_eq(line, recs[i].line);
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(strcmp(f[j], recs[i].f[j]) == 0,
                          "record %zu field %zu differs", i + 1, j + 1);
    }
    EXPECT_END();
    ck_assert_uint_eq(wg_csv_reader_bytes(rd), len);
    free(text);
    free(all_quotes);
}
END_TEST


/* A reader over memory reads what a reader over a FILE reads, record for
 * record, line for line, error for error; reset, it starts over on other
 * bytes; and wg_csv_format() gives the bytes wg_csv_write() writes. */
START_TEST(test_csv_memory_reader_reads_as_the_file_reader)
{
    static const char *const texts[] = {
        BOM "a,b\r\n\r\n\"x\ny\",\"q\"\"\"\rlast",
        "one\n\"open",
        "",
        "\n\n",
        "a,\"b\"c\n",
    };
    wg_csv_reader *m = wg_csv_reader_mem(NULL, 0);
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        size_t len = strlen(texts[k]);
        feed_n(texts[k], len);
        wg_csv_reader_reset_mem(m, texts[k], len);
        for (;;) {
            char **f1 = NULL, **f2 = NULL;
            size_t n1 = 0, n2 = 0, l1 = 0, l2 = 0;
            wg_err e1 = { 0 }, e2 = { 0 };
            wg_rc r1 = wg_csv_read(rd, &f1, &n1, &l1, &e1);
            /* the file reader's fields are borrowed until its next read */
            char keep[8][64];
            for (size_t i = 0; r1 == WG_OK && i < n1 && i < 8; i++)
                snprintf(keep[i], sizeof keep[i], "%s", f1[i]);
            wg_rc r2 = wg_csv_read(m, &f2, &n2, &l2, &e2);
            ck_assert_int_eq(r1, r2);
            ck_assert_uint_eq(wg_csv_reader_bytes(rd),
                              wg_csv_reader_bytes(m));
            if (r1 != WG_OK) {
                ck_assert_str_eq(e1.msg, e2.msg);
                break;
            }
            ck_assert_uint_eq(n1, n2);
            ck_assert_uint_eq(l1, l2);
            for (size_t i = 0; i < n1 && i < 8; i++)
                ck_assert_str_eq(keep[i], f2[i]);
        }
    }
    wg_csv_reader_destroy(&m);

    const char *const rec[] = { "a b", "\"q\"", "", "张三,李四", " x" };
    FILE *out = tmpfile();
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(wg_csv_write(out, rec, 5, NULL), WG_OK);
    size_t len = 0;
    char *text = slurp(out, &len);
    fclose(out);
    wg_buf b;
    wg_buf_init(&b, 1024);
    ck_assert_int_eq(wg_buf_append(&b, "kept", 4, NULL), WG_OK);
    ck_assert_int_eq(wg_csv_format(&b, rec, 5, NULL), WG_OK);
    ck_assert_uint_eq(b.len, 4 + len);
    ck_assert(memcmp(b.data + 4, text, len) == 0);
    /* Too large for the buffer's limit: refused, the buffer as it was. */
    wg_buf small;
    wg_buf_init(&small, 8);
    ck_assert_int_eq(wg_csv_format(&small, rec, 5, NULL), WG_ERR_INVALID);
    ck_assert_uint_eq(small.len, 0);
    wg_buf_release(&small);
    wg_buf_release(&b);
    free(text);
}
END_TEST

START_TEST(test_csv_destroy_accepts_null)
{
    wg_csv_reader *none = NULL;
    wg_csv_reader_destroy(&none);
    wg_csv_reader_destroy(NULL);
    feed("a\n");
    wg_csv_reader_destroy(&rd);
    ck_assert_ptr_null(rd);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_read, test_csv_simple_rows),
    TU_TEST(case_read, test_csv_crlf_and_lf_read_the_same),
    TU_TEST(case_read, test_csv_lone_cr_ends_a_line),
    TU_TEST(case_read, test_csv_quoted_commas_and_quotes),
    TU_TEST(case_read, test_csv_quoted_newlines_are_data),
    TU_TEST(case_read, test_csv_line_numbers_after_multiline_field),
    TU_TEST(case_read, test_csv_chinese_utf8_passes_through),
    TU_TEST(case_read, test_csv_bom_at_start_is_skipped),
    TU_TEST(case_read, test_csv_bom_elsewhere_is_data),
    TU_TEST(case_read, test_csv_empty_fields),
    TU_TEST(case_read, test_csv_empty_lines_are_skipped),
    TU_TEST(case_read, test_csv_spaces_are_data),
    TU_TEST(case_read, test_csv_last_record_without_newline),
    TU_TEST(case_read, test_csv_reader_bytes_counts_consumed_input),
    TU_TEST(case_read, test_csv_destroy_accepts_null),
    TU_TEST(case_errors, test_csv_unterminated_quote_names_its_line),
    TU_TEST(case_errors, test_csv_quote_inside_unquoted_field_is_invalid),
    TU_TEST(case_errors, test_csv_characters_after_closing_quote_are_invalid),
    TU_TEST(case_errors, test_csv_nul_byte_is_invalid),
    TU_TEST(case_errors, test_csv_field_size_limit),
    TU_TEST(case_errors, test_csv_field_count_limit),
    TU_TEST(case_errors, test_csv_error_is_sticky),
    TU_TEST(case_errors, test_csv_read_failure_is_io_error),
    TU_TEST(case_write, test_csv_write_quotes_only_when_needed),
    TU_TEST(case_write, test_csv_write_lone_empty_field_is_quoted),
    TU_TEST(case_write, test_csv_write_rejects_what_cannot_be_read),
    TU_TEST(case_write, test_csv_write_failure_is_io_error),
    TU_TEST(case_write, test_csv_round_trip_of_tricky_values),
    TU_TEST(case_write, test_csv_memory_reader_reads_as_the_file_reader),
};

int main(void)
{
    return tu_run(TU_SUITE("csv", tests));
}
