/*
 * check_validate.c - unit suite for store/validate.c
 *
 * Every rule of wg_validate_value and wg_validate_record, accepted and
 * rejected: the error code, that the message names the field, and the exact
 * wording of the messages the header documents. Resident id numbers are built
 * here with an independent check-digit formula rather than copied in.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wg_schema.h"
#include "wg_validate.h"

#define SENTINEL_CODE ((wg_rc)77)

/* ---- helpers ---------------------------------------------------------- */

static const wg_field *field(const char *table, const char *name)
{
    const wg_table *t = wg_schema_table(table);
    int i;

    ck_assert_msg(t != NULL, "no table %s", table);
    i = wg_schema_field_index(t, name);
    ck_assert_msg(i >= 0, "no field %s.%s", table, name);
    return &t->fields[i];
}

/* The check character of a 17-digit prefix, computed as the standard states
 * it (weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, 10 is X) so
 * the table-driven code under test is checked against a second derivation. */
static char id_check(const char *first17)
{
    int sum = 0, w = 1, c;

    for (int i = 16; i >= 0; i--) {
        w = w * 2 % 11;
        sum += (first17[i] - '0') * w;
    }
    c = (12 - sum % 11) % 11;
    return c == 10 ? 'X' : (char)('0' + c);
}

/* OUT (19 bytes) = FIRST17 and its correct check character. */
static const char *make_id(char *out, const char *first17)
{
    ck_assert_uint_eq(strlen(first17), 17);
    memcpy(out, first17, 17);
    out[17] = id_check(first17);
    out[18] = '\0';
    return out;
}

static void err_reset(wg_err *e)
{
    e->code = SENTINEL_CODE;
    strcpy(e->msg, "untouched");
}

static void accept_at(const char *file, int line, const char *table,
                      const char *name, const char *value, const char *canon)
{
    char out[WG_FIELD_MAX_BYTES + 1];
    wg_err e;
    wg_rc rc;

    err_reset(&e);
    memset(out, '#', sizeof out);
    rc = wg_validate_value(field(table, name), value, out, sizeof out, &e);
    ck_assert_msg(rc == WG_OK, "%s:%d: %s '%s' rejected: %s", file, line,
                  name, value, e.msg);
    ck_assert_msg(!strcmp(out, canon), "%s:%d: %s '%s' gave '%s', want '%s'",
                  file, line, name, value, out, canon);
    ck_assert_msg(e.code == SENTINEL_CODE && !strcmp(e.msg, "untouched"),
                  "%s:%d: err written on success", file, line);
}

/* Reject VALUE of TABLE.NAME with WG_ERR_INVALID and a message that begins
 * "NAME: " and contains WANT (or equals it, when EXACT). */
static void reject_at(const char *file, int line, const char *table,
                      const char *name, const char *value, const char *want,
                      int exact)
{
    char out[WG_FIELD_MAX_BYTES + 1] = "unchanged";
    char prefix[64];
    wg_err e;
    wg_rc rc;

    err_reset(&e);
    rc = wg_validate_value(field(table, name), value, out, sizeof out, &e);
    snprintf(prefix, sizeof prefix, "%s: ", name);
    ck_assert_msg(rc == WG_ERR_INVALID, "%s:%d: %s '%s' gave rc %d", file,
                  line, name, value, (int)rc);
    ck_assert_msg(e.code == WG_ERR_INVALID, "%s:%d: err.code %d", file, line,
                  (int)e.code);
    ck_assert_msg(!strncmp(e.msg, prefix, strlen(prefix)),
                  "%s:%d: message '%s' does not start with '%s'", file, line,
                  e.msg, prefix);
    if (exact)
        ck_assert_msg(!strcmp(e.msg, want), "%s:%d: message '%s', want '%s'",
                      file, line, e.msg, want);
    else
        ck_assert_msg(strstr(e.msg, want) != NULL,
                      "%s:%d: message '%s' lacks '%s'", file, line, e.msg,
                      want);
    ck_assert_msg(!strcmp(out, "unchanged"), "%s:%d: out written on failure",
                  file, line);
}

#define ACCEPT(t, f, v, c) accept_at(__FILE__, __LINE__, t, f, v, c)
#define REJECT(t, f, v, want) reject_at(__FILE__, __LINE__, t, f, v, want, 0)
#define REJECT_EXACT(t, f, v, want) \
    reject_at(__FILE__, __LINE__, t, f, v, want, 1)

/* A record of TABLE being built by field name. */
typedef struct rec {
    const wg_table *t;
    const char *v[WG_MAX_FIELDS];
} rec;

static void rec_set(rec *r, const char *name, const char *value)
{
    int i = wg_schema_field_index(r->t, name);

    ck_assert_msg(i >= 0, "no field %s.%s", r->t->name, name);
    r->v[i] = value;
}

/* Valid records with every field given. ID holds the person's id number. */
static rec person_full(char *id)
{
    rec r = { wg_schema_table("person"), { 0 } };

    rec_set(&r, "name", "韦小宝");
    rec_set(&r, "gender", "male");
    rec_set(&r, "birth_date", "1990-01-01");
    rec_set(&r, "id_number", make_id(id, "45022419900101123"));
    rec_set(&r, "disability_category", "physical");
    rec_set(&r, "disability_grade", "3");
    rec_set(&r, "certificate_no", "45022419900101123X43");
    rec_set(&r, "county", "450224");
    rec_set(&r, "township", "融安镇");
    rec_set(&r, "phone", "+86 138 0000 0000");
    rec_set(&r, "rural", "1");
    rec_set(&r, "registered_on", "2024-05-06");
    return r;
}

static rec training_full(void)
{
    rec r = { wg_schema_table("training"), { 0 } };

    rec_set(&r, "person_id", "0123456789abcdef0123456789abcdef");
    rec_set(&r, "course", "直播带货");
    rec_set(&r, "category", "ecommerce_live");
    rec_set(&r, "provider", "county vocational school");
    rec_set(&r, "start_date", "2024-03-01");
    rec_set(&r, "end_date", "2024-04-01");
    rec_set(&r, "hours", "120");
    rec_set(&r, "outcome", "certified");
    rec_set(&r, "county", "450224");
    return r;
}

static rec placement_full(void)
{
    rec r = { wg_schema_table("placement"), { 0 } };

    rec_set(&r, "person_id", "fedcba9876543210fedcba9876543210");
    rec_set(&r, "employer", "融安金桔合作社");
    rec_set(&r, "employment_type", "enterprise");
    rec_set(&r, "position", "packer");
    rec_set(&r, "start_date", "2024-03-01");
    rec_set(&r, "end_date", "2024-12-31");
    rec_set(&r, "monthly_income", "2800");
    rec_set(&r, "status", "ended");
    rec_set(&r, "county", "450224");
    return r;
}

static void rec_ok_at(const char *file, int line, const rec *r)
{
    wg_err e;
    wg_rc rc;

    err_reset(&e);
    rc = wg_validate_record(r->t, r->v, &e);
    ck_assert_msg(rc == WG_OK, "%s:%d: %s record rejected: %s", file, line,
                  r->t->name, e.msg);
    ck_assert_msg(e.code == SENTINEL_CODE && !strcmp(e.msg, "untouched"),
                  "%s:%d: err written on success", file, line);
}

static void rec_bad_at(const char *file, int line, const rec *r,
                       const char *want)
{
    wg_err e;
    wg_rc rc;

    err_reset(&e);
    rc = wg_validate_record(r->t, r->v, &e);
    ck_assert_msg(rc == WG_ERR_INVALID, "%s:%d: rc %d, want invalid", file,
                  line, (int)rc);
    ck_assert_msg(e.code == WG_ERR_INVALID, "%s:%d: err.code %d", file, line,
                  (int)e.code);
    ck_assert_msg(!strcmp(e.msg, want), "%s:%d: message '%s', want '%s'",
                  file, line, e.msg, want);
}

#define REC_OK(r) rec_ok_at(__FILE__, __LINE__, r)
#define REC_BAD(r, want) rec_bad_at(__FILE__, __LINE__, r, want)

/* ---- text ------------------------------------------------------------- */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_clerk = {"clerk", NULL, NULL, 0};
static const tu_case case_text = {"text", NULL, NULL, 0};
static const tu_case case_int = {"int", NULL, NULL, 0};
static const tu_case case_date = {"date", NULL, NULL, 0};
static const tu_case case_choice = {"choice", NULL, NULL, 0};
static const tu_case case_idnum = {"idnum", NULL, NULL, 0};
static const tu_case case_codes = {"codes", NULL, NULL, 0};
static const tu_case case_value = {"value", NULL, NULL, 0};
static const tu_case case_record = {"record", NULL, NULL, 0};

START_TEST(test_validate_text_accepts_utf8_spaces_and_empty)
{
    char v[256];

    ACCEPT("person", "name", "韦小宝", "韦小宝");
    ACCEPT("person", "name", "  Li Ming  ", "Li Ming");     /* trimmed */
    ACCEPT("person", "name", "\xe3\x80\x80韦 小宝 ", "韦 小宝");  /* U+3000 too */
    ACCEPT("person", "township", "", "");
    ACCEPT("person", "name", "\xed\x9f\xbf", "\xed\x9f\xbf");          /* U+D7FF */
    ACCEPT("person", "name", "\xee\x80\x80", "\xee\x80\x80");          /* U+E000 */
    ACCEPT("person", "name", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");  /* U+10FFFF */
    ACCEPT("person", "name", "\xc2\x80", "\xc2\x80");                  /* U+0080 */
    memset(v, 'a', 200);
    v[200] = '\0';
    ACCEPT("person", "name", v, v);  /* exactly max_len */
}
END_TEST

START_TEST(test_validate_text_rejects_longer_than_max_len)
{
    char v[700] = "";

    memset(v, 'a', 201);
    v[201] = '\0';
    REJECT_EXACT("person", "name", v, "name: longer than 200 bytes");
    memset(v, '1', 33);
    v[33] = '\0';
    REJECT_EXACT("person", "phone", v, "phone: longer than 32 bytes");
    /* The limit is in bytes: 67 three-byte characters are 201 bytes. */
    v[0] = '\0';
    for (int i = 0; i < 67; i++)
        strcat(v, "张");
    REJECT_EXACT("training", "course", v, "course: longer than 200 bytes");
    v[strlen(v) - 3] = '\0';
    ACCEPT("training", "course", v, v);
}
END_TEST

START_TEST(test_validate_text_rejects_control_characters)
{
    REJECT_EXACT("person", "name", "a\tb",
                 "name: control character 0x09 at byte 2");
    REJECT_EXACT("person", "name", "a\n",
                 "name: control character 0x0a at byte 2");
    REJECT("person", "name", "\rx", "control character 0x0d at byte 1");
    REJECT("person", "township", "x\x01", "control character 0x01");
    REJECT("person", "township", "x\x1f", "control character 0x1f");
    REJECT("person", "phone", "12\x7f", "control character 0x7f");
}
END_TEST

START_TEST(test_validate_text_rejects_malformed_utf8)
{
    static const char *const bad[] = {
        "\x80",                 /* stray continuation */
        "\xc0\xaf",             /* overlong '/' */
        "\xc1\xbf",             /* overlong */
        "\xe0\x80\xaf",         /* overlong, 3 bytes */
        "\xf0\x80\x80\xaf",     /* overlong, 4 bytes */
        "\xed\xa0\x80",         /* surrogate U+D800 */
        "\xed\xbf\xbf",         /* surrogate U+DFFF */
        "\xf4\x90\x80\x80",     /* U+110000 */
        "\xf5\x80\x80\x80",     /* past the last lead byte */
        "\xff",
        "\xe5\xbc",             /* truncated at the end */
        "\xe5\x41\x41",         /* continuation missing */
        "ok\xe5\xbc\xa0\xe5",   /* good then truncated */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REJECT("person", "name", bad[i], "invalid utf-8 at byte");
    REJECT_EXACT("person", "name", "ok\xe5\xbc\xa0\xe5",
                 "name: invalid utf-8 at byte 6");
}
END_TEST

/* ---- int -------------------------------------------------------------- */

START_TEST(test_validate_int_accepts_within_range)
{
    ACCEPT("person", "disability_grade", "1", "1");
    ACCEPT("person", "disability_grade", "04", "4");
    ACCEPT("training", "hours", "007", "7");
    ACCEPT("training", "hours", "0", "0");
    ACCEPT("training", "hours", "000", "0");
    ACCEPT("training", "hours", "-0", "0");
    ACCEPT("training", "hours", "-000", "0");
    ACCEPT("training", "hours", "100000", "100000");
    ACCEPT("training", "hours", "00000000000000000000000000000000000042",
           "42");
    ACCEPT("placement", "monthly_income", "100000000", "100000000");
}
END_TEST

START_TEST(test_validate_int_rejects_out_of_range)
{
    REJECT_EXACT("person", "disability_grade", "5",
                 "disability_grade: 5 is out of range 1-4");
    REJECT_EXACT("person", "disability_grade", "0",
                 "disability_grade: 0 is out of range 1-4");
    REJECT_EXACT("person", "disability_grade", "-1",
                 "disability_grade: -1 is out of range 1-4");
    REJECT_EXACT("person", "disability_grade", "0005",
                 "disability_grade: 5 is out of range 1-4");
    REJECT_EXACT("training", "hours", "100001",
                 "hours: 100001 is out of range 0-100000");
    REJECT("placement", "monthly_income", "100000001", "is out of range");
    REJECT("placement", "monthly_income", "-1", "is out of range");
}
END_TEST

START_TEST(test_validate_int_rejects_overflow_without_wrapping)
{
    /* Values that wrap to something in range if parsed carelessly. */
    REJECT("training", "hours", "9223372036854775807", "is out of range");
    REJECT("training", "hours", "9223372036854775808", "is out of range");
    REJECT("training", "hours", "18446744073709551617", "is out of range");
    REJECT_EXACT("training", "hours", "-18446744073709551615",
                 "hours: -18446744073709551615 is out of range 0-100000");
    REJECT("training", "hours", "99999999999999999999999999", "out of range");
    REJECT("training", "hours", "-99999999999999999999999999",
           "hours: -9999");
}
END_TEST

START_TEST(test_validate_int_full_int64_range)
{
    wg_field wide = { .name = "n", .type = WG_FT_INT, .min = INT64_MIN,
                      .max = INT64_MAX };
    char out[32];
    wg_err e;

    ck_assert_int_eq(wg_validate_value(&wide, "9223372036854775807", out,
                                       sizeof out, &e), WG_OK);
    ck_assert_str_eq(out, "9223372036854775807");
    ck_assert_int_eq(wg_validate_value(&wide, "-9223372036854775808", out,
                                       sizeof out, &e), WG_OK);
    ck_assert_str_eq(out, "-9223372036854775808");
    ck_assert_int_eq(wg_validate_value(&wide, "-00009223372036854775808", out,
                                       sizeof out, &e), WG_OK);
    ck_assert_str_eq(out, "-9223372036854775808");
    ck_assert_int_eq(wg_validate_value(&wide, "9223372036854775808", out,
                                       sizeof out, &e), WG_ERR_INVALID);
    ck_assert_str_eq(e.msg, "n: 9223372036854775808 is out of range "
                            "-9223372036854775808-9223372036854775807");
    ck_assert_int_eq(wg_validate_value(&wide, "-9223372036854775809", out,
                                       sizeof out, &e), WG_ERR_INVALID);
    ck_assert_int_eq(wg_validate_value(&wide, "10000000000000000000", out,
                                       sizeof out, &e), WG_ERR_INVALID);
}
END_TEST

START_TEST(test_validate_int_rejects_non_decimal)
{
    static const char *const bad[] = {
        "+5", " 5", "5 ", "0x10", "1e3", "1.0", "1,000", "-", "--1", "-+1",
        "five", "\xef\xbc\x95" /* fullwidth 5 */, "5\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REJECT("training", "hours", bad[i], "is not an integer");
    REJECT_EXACT("training", "hours", "0x10", "hours: '0x10' is not an integer");
    REJECT_EXACT("training", "hours", "5\n", "hours: '5\\x0a' is not an integer");
}
END_TEST

/* ---- date ------------------------------------------------------------- */

START_TEST(test_validate_date_accepts_calendar_dates)
{
    ACCEPT("person", "birth_date", "1990-01-01", "1990-01-01");
    ACCEPT("person", "birth_date", "1900-01-01", "1900-01-01");
    ACCEPT("person", "birth_date", "2100-12-31", "2100-12-31");
    ACCEPT("person", "birth_date", "2000-02-29", "2000-02-29"); /* /400 */
    ACCEPT("person", "registered_on", "2024-02-29", "2024-02-29");
    ACCEPT("training", "start_date", "2023-04-30", "2023-04-30");
    ACCEPT("placement", "end_date", "1999-12-31", "1999-12-31");
}
END_TEST

START_TEST(test_validate_date_rejects_non_calendar_dates)
{
    REJECT_EXACT("person", "birth_date", "2023-02-29",
                 "birth_date: 2023-02-29 is not a calendar date");
    REJECT("person", "birth_date", "1900-02-29", "is not a calendar date");
    REJECT("person", "birth_date", "2100-02-29", "is not a calendar date");
    REJECT("person", "birth_date", "2024-02-30", "is not a calendar date");
    REJECT("person", "birth_date", "2023-04-31", "is not a calendar date");
    REJECT("person", "birth_date", "2023-13-01", "is not a calendar date");
    REJECT("person", "birth_date", "2023-00-10", "is not a calendar date");
    REJECT("person", "birth_date", "2023-01-00", "is not a calendar date");
    REJECT("person", "birth_date", "2023-01-32", "is not a calendar date");
    REJECT("training", "end_date", "2023-99-99", "is not a calendar date");
}
END_TEST

START_TEST(test_validate_date_rejects_years_outside_1900_2100)
{
    REJECT_EXACT("person", "birth_date", "1899-12-31",
                 "birth_date: 1899-12-31 is outside 1900-01-01..2100-12-31");
    REJECT("person", "birth_date", "2101-01-01", "is outside");
    REJECT("person", "birth_date", "0000-01-01", "is outside");
    REJECT("person", "birth_date", "9999-12-31", "is outside");
}
END_TEST

START_TEST(test_validate_date_rejects_other_shapes)
{
    static const char *const bad[] = {
        "2023-2-28", "2023-02-8", "23-02-28", "2023/02/28", "20230228",
        "2023-02-28 ", " 2023-02-28", "2023-02-2x", "2023-02-280",
        "+023-02-28", "2023-02-28T00:00", "2023--2-28", "2023-02",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REJECT("person", "birth_date", bad[i], "is not a date (YYYY-MM-DD)");
    REJECT_EXACT("training", "start_date", "2023/02/28",
                 "start_date: '2023/02/28' is not a date (YYYY-MM-DD)");
}
END_TEST

START_TEST(test_validate_date_helper_reports_parts)
{
    int y = 0, m = 0, d = 0;

    ck_assert_int_eq(wg_validate_date("2024-02-29", &y, &m, &d), 1);
    ck_assert_int_eq(y, 2024);
    ck_assert_int_eq(m, 2);
    ck_assert_int_eq(d, 29);
    ck_assert_int_eq(wg_validate_date("1900-01-01", NULL, NULL, NULL), 1);
    ck_assert_int_eq(wg_validate_date("2100-12-31", NULL, NULL, NULL), 1);
    ck_assert_int_eq(wg_validate_date("2023-02-29", &y, &m, &d), 0);
    ck_assert_int_eq(wg_validate_date("1899-12-31", NULL, NULL, NULL), 0);
    ck_assert_int_eq(wg_validate_date("2101-01-01", NULL, NULL, NULL), 0);
    ck_assert_int_eq(wg_validate_date("2024-1-1", NULL, NULL, NULL), 0);
    ck_assert_int_eq(wg_validate_date("", NULL, NULL, NULL), 0);
}
END_TEST

/* ---- bool and enum ---------------------------------------------------- */

START_TEST(test_validate_bool_is_0_or_1)
{
    ACCEPT("person", "rural", "0", "0");
    ACCEPT("person", "rural", "1", "1");
    REJECT_EXACT("person", "rural", "2", "rural: '2' is not 0 or 1");
    REJECT("person", "rural", "00", "is not 0 or 1");
    REJECT("person", "rural", "01", "is not 0 or 1");
    REJECT("person", "rural", "true", "is not 0 or 1");
    REJECT("person", "rural", " 1", "is not 0 or 1");
    REJECT("person", "rural", "-0", "is not 0 or 1");
}
END_TEST

START_TEST(test_validate_enum_accepts_every_listed_value)
{
    int checked = 0;

    for (int ti = 0; wg_schema_table_at(ti); ti++) {
        const wg_table *t = wg_schema_table_at(ti);
        for (int i = 0; i < t->nfields; i++) {
            if (t->fields[i].type != WG_FT_ENUM)
                continue;
            for (const char *const *e = t->fields[i].enum_values; *e; e++) {
                ACCEPT(t->name, t->fields[i].name, *e, *e);
                checked++;
            }
        }
    }
    ck_assert_int_ge(checked, 25);
}
END_TEST

START_TEST(test_validate_enum_rejects_others_listing_allowed_values)
{
    REJECT_EXACT("person", "disability_category", "blind",
                 "disability_category: 'blind' is not one of physical, "
                 "visual, hearing, speech, intellectual, mental, multiple");
    REJECT("person", "disability_category", "Physical", "is not one of");
    REJECT("person", "disability_category", "physical ", "is not one of");
    REJECT("person", "disability_category", "phys", "is not one of");
    REJECT_EXACT("person", "gender", "m",
                 "gender: 'm' is not one of male, female");
    REJECT_EXACT("placement", "employment_type", "contract",
                 "employment_type: 'contract' is not one of enterprise, "
                 "assisted, self_employed, online, public_welfare, "
                 "agricultural, flexible");
    REJECT("training", "outcome", "ENROLLED", "is not one of enrolled");
}
END_TEST

/* ---- id number -------------------------------------------------------- */

START_TEST(test_validate_idnum_accepts_published_example)
{
    ACCEPT("person", "id_number", "11010519491231002X", "11010519491231002X");
    ACCEPT("person", "id_number", "11010519491231002x", "11010519491231002X");
    ck_assert_int_eq(wg_validate_idnum_check("11010519491231002X"), 'X');
    ck_assert_int_eq(id_check("11010519491231002"), 'X');
}
END_TEST

START_TEST(test_validate_idnum_accepts_computed_numbers)
{
    static const char *const prefixes[] = {
        "45022419900101123", "44030419850715008", "51010720000229441",
        "65010219000101001", "23010221001231999", "99999919991231999",
    };
    char id[19];

    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        make_id(id, prefixes[i]);
        ACCEPT("person", "id_number", id, id);
    }
}
END_TEST

START_TEST(test_validate_idnum_check_matches_independent_formula)
{
    /* A deterministic walk over prefixes, so every check value 0-10 and
     * every digit in every position turns up. */
    uint32_t x = 12345;
    int seen[11] = { 0 };
    char p[18];

    for (int n = 0; n < 5000; n++) {
        int c;
        for (int i = 0; i < 17; i++) {
            x = x * 1103515245u + 12345u;
            p[i] = (char)('0' + (x >> 16) % 10);
        }
        p[17] = '\0';
        c = wg_validate_idnum_check(p);
        ck_assert_int_eq(c, id_check(p));
        seen[c == 'X' ? 10 : c - '0'] = 1;
    }
    for (int i = 0; i < 11; i++)
        ck_assert_msg(seen[i], "check value %d never produced", i);
}
END_TEST

START_TEST(test_validate_idnum_check_helper_needs_17_digits)
{
    ck_assert_int_eq(wg_validate_idnum_check(""), 0);
    ck_assert_int_eq(wg_validate_idnum_check("1101051949123100"), 0);
    ck_assert_int_eq(wg_validate_idnum_check("1101051949123100a"), 0);
    ck_assert_int_eq(wg_validate_idnum_check("X1010519491231002"), 0);
    ck_assert_int_eq(wg_validate_idnum_check("11010519491231002"), 'X');
}
END_TEST

START_TEST(test_validate_idnum_rejects_wrong_check_digit)
{
    char id[19];
    const char *all = "0123456789X";

    REJECT_EXACT("person", "id_number", "110105194912310021",
                 "id_number: check digit is 1, expected X");
    make_id(id, "45022419900101123");
    for (const char *c = all; *c; c++) {
        char right = id_check(id), want[64];
        if (*c == right)
            continue;
        id[17] = *c;
        snprintf(want, sizeof want, "id_number: check digit is %c, expected %c",
                 *c, right);
        REJECT_EXACT("person", "id_number", id, want);
    }
    /* A transposition of two digits is caught too. */
    make_id(id, "45022419900101123");
    id[14] = '3';
    id[16] = '1';
    REJECT("person", "id_number", id, "check digit is");
}
END_TEST

START_TEST(test_validate_idnum_rejects_bad_shape)
{
    REJECT_EXACT("person", "id_number", "11010519491231002",
                 "id_number: '11010519491231002' is not 18 characters long");
    REJECT("person", "id_number", "11010519491231002X1",
           "is not 18 characters long");
    REJECT("person", "id_number", "110105491231002", /* old 15-digit form */
           "is not 18 characters long");
    REJECT_EXACT("person", "id_number", "110105194912310A2X",
                 "id_number: character 16 is not a digit");
    REJECT("person", "id_number", "X1010519491231002X",
           "character 1 is not a digit");
    REJECT("person", "id_number", "11010519491231002 ",
           "character 18 is not a digit or X");
    REJECT_EXACT("person", "id_number", "11010519491231002Y",
                 "id_number: character 18 is not a digit or X");
    REJECT("person", "id_number", "\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0"
           "\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0", "character 1 is not a digit");
}
END_TEST

START_TEST(test_validate_idnum_rejects_impossible_birth_date)
{
    char id[19];

    REJECT_EXACT("person", "id_number", make_id(id, "45022419490230123"),
                 "id_number: birth date 19490230 is not a valid date");
    REJECT("person", "id_number", make_id(id, "45022418991231123"),
           "birth date 18991231 is not a valid date");
    REJECT("person", "id_number", make_id(id, "45022421010101123"),
           "birth date 21010101 is not a valid date");
    REJECT("person", "id_number", make_id(id, "45022419901301123"),
           "birth date 19901301 is not a valid date");
    REJECT("person", "id_number", make_id(id, "45022419230229123"),
           "birth date 19230229 is not a valid date");
}
END_TEST

START_TEST(test_validate_idnum_rejects_zero_region)
{
    char id[19];

    REJECT_EXACT("person", "id_number", make_id(id, "00000019900101123"),
                 "id_number: region code 000000 is not valid");
    ACCEPT("person", "id_number", make_id(id, "00000119900101123"), id);
}
END_TEST

/* ---- county and ref --------------------------------------------------- */

START_TEST(test_validate_county_is_six_digits_not_all_zero)
{
    ACCEPT("person", "county", "450224", "450224");
    ACCEPT("training", "county", "450200", "450200");
    ACCEPT("placement", "county", "000001", "000001");
    REJECT_EXACT("person", "county", "000000",
                 "county: 000000 is not a county code");
    REJECT_EXACT("person", "county", "45022",
                 "county: '45022' is not a 6-digit county code");
    REJECT("person", "county", "4502240", "is not a 6-digit county code");
    REJECT("person", "county", "45022a", "is not a 6-digit county code");
    REJECT("person", "county", " 450224", "is not a 6-digit county code");
    REJECT("person", "county", "-45022", "is not a 6-digit county code");
}
END_TEST

START_TEST(test_validate_ref_is_32_lower_case_hex)
{
    ACCEPT("training", "person_id", "0123456789abcdef0123456789abcdef",
           "0123456789abcdef0123456789abcdef");
    REJECT_EXACT("training", "person_id", "0123456789ABCDEF0123456789abcdef",
                 "person_id: '0123456789ABCDEF0123456789abcdef' is not a "
                 "record id (32 lower-case hex characters)");
    REJECT("placement", "person_id", "0123456789abcdef0123456789abcde",
           "is not a record id");
    REJECT("placement", "person_id", "0123456789abcdef0123456789abcdef0",
           "is not a record id");
    REJECT("placement", "person_id", "0123456789abcdeg0123456789abcdef",
           "is not a record id");
    ck_assert_int_eq(wg_validate_record_id("ffffffffffffffffffffffffffffffff"),
                     1);
    ck_assert_int_eq(wg_validate_record_id(""), 0);
    ck_assert_int_eq(wg_validate_record_id("0123456789abcdef0123456789abcde "),
                     0);
}
END_TEST

/* ---- the value API ---------------------------------------------------- */

START_TEST(test_validate_empty_fails_every_non_text_field)
{
    int checked = 0;

    for (int ti = 0; wg_schema_table_at(ti); ti++) {
        const wg_table *t = wg_schema_table_at(ti);
        for (int i = 0; i < t->nfields; i++) {
            char want[64];
            if (t->fields[i].type == WG_FT_TEXT) {
                ACCEPT(t->name, t->fields[i].name, "", "");
                continue;
            }
            snprintf(want, sizeof want, "%s: empty", t->fields[i].name);
            REJECT_EXACT(t->name, t->fields[i].name, "", want);
            checked++;
        }
    }
    ck_assert_int_ge(checked, 15);
}
END_TEST

START_TEST(test_validate_output_buffer_sizes_and_aliasing)
{
    const wg_field *grade = field("person", "disability_grade");
    const wg_field *id = field("person", "id_number");
    char out[19], buf[32];
    wg_err e;

    /* OUT may be NULL to check only. */
    ck_assert_int_eq(wg_validate_value(grade, "3", NULL, 0, NULL), WG_OK);
    ck_assert_int_eq(wg_validate_value(grade, "9", NULL, 0, &e),
                     WG_ERR_INVALID);
    /* Exactly enough room, then one byte short. */
    ck_assert_int_eq(wg_validate_value(id, "11010519491231002x", out, 19, &e),
                     WG_OK);
    ck_assert_str_eq(out, "11010519491231002X");
    strcpy(out, "unchanged");
    ck_assert_int_eq(wg_validate_value(id, "11010519491231002x", out, 18, &e),
                     WG_ERR_INTERNAL);
    ck_assert_int_eq(e.code, WG_ERR_INTERNAL);
    ck_assert_str_eq(e.msg, "id_number: canonical value needs 19 bytes, "
                            "buffer has 18");
    ck_assert_str_eq(out, "unchanged");
    /* The canonical form is judged, not the input: "0004" fits in 2. */
    ck_assert_int_eq(wg_validate_value(grade, "0004", out, 2, &e), WG_OK);
    ck_assert_str_eq(out, "4");
    /* Canonicalising in place. */
    strcpy(buf, "000003");
    ck_assert_int_eq(wg_validate_value(grade, buf, buf, sizeof buf, &e),
                     WG_OK);
    ck_assert_str_eq(buf, "3");
    strcpy(buf, "11010519491231002x");
    ck_assert_int_eq(wg_validate_value(id, buf, buf, sizeof buf, &e), WG_OK);
    ck_assert_str_eq(buf, "11010519491231002X");
}
END_TEST

START_TEST(test_validate_null_err_is_allowed)
{
    rec r = training_full();

    ck_assert_int_eq(wg_validate_value(field("person", "gender"), "x", NULL, 0,
                                       NULL), WG_ERR_INVALID);
    rec_set(&r, "course", NULL);
    ck_assert_int_eq(wg_validate_record(r.t, r.v, NULL), WG_ERR_INVALID);
}
END_TEST

START_TEST(test_validate_echoed_values_are_escaped_and_cut)
{
    char big[4096];
    wg_err e;

    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(wg_validate_value(field("person", "gender"), big, NULL, 0,
                                       &e), WG_ERR_INVALID);
    ck_assert_msg(!strncmp(e.msg, "gender: '", 9), "%s", e.msg);
    ck_assert_msg(strstr(e.msg, "...' is not one of male, female") != NULL,
                  "%s", e.msg);
    ck_assert_uint_lt(strlen(e.msg), WG_ERR_MSG_BYTES);

    /* Controls and stray bytes are escaped; a line stays one line. */
    REJECT_EXACT("person", "gender", "ma\nle\xff",
                 "gender: 'ma\\x0ale\\xff' is not one of male, female");
    /* Multi-byte characters are kept whole, never cut in half. */
    REJECT("person", "gender", "男", "gender: '男' is not one of");
    big[0] = '\0';
    for (int i = 0; i < 20; i++)
        strcat(big, "男");
    ck_assert_int_eq(wg_validate_value(field("person", "gender"), big, NULL, 0,
                                       &e), WG_ERR_INVALID);
    ck_assert_msg(strstr(e.msg, "'男男男男男男男男男男男男男...'") != NULL,
                  "%s", e.msg);
}
END_TEST

START_TEST(test_validate_long_enum_lists_and_unknown_types_stay_bounded)
{
    /* Longer than a message can hold: the list is cut, never overrun. */
    static const char *const many[] = {
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "ccccccccccccccccccccccccccccccccccccccc",
        "ddddddddddddddddddddddddddddddddddddddd",
        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
        "fffffffffffffffffffffffffffffffffffffff",
        "ggggggggggggggggggggggggggggggggggggggg",
        "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh", NULL,
    };
    wg_field wide = { .name = "kind", .type = WG_FT_ENUM, .enum_values = many };
    wg_field odd = { .name = "odd", .type = (wg_ftype)99 };
    wg_err e;

    ck_assert_int_eq(wg_validate_value(&wide, many[7], NULL, 0, &e), WG_OK);
    ck_assert_int_eq(wg_validate_value(&wide, "zzz", NULL, 0, &e),
                     WG_ERR_INVALID);
    ck_assert_msg(!strncmp(e.msg, "kind: 'zzz' is not one of aaa", 29), "%s",
                  e.msg);
    ck_assert_uint_lt(strlen(e.msg), WG_ERR_MSG_BYTES);
    ck_assert_int_eq(wg_validate_value(&odd, "1", NULL, 0, &e),
                     WG_ERR_INTERNAL);
    ck_assert_str_eq(e.msg, "odd: unknown field type 99");
}
END_TEST

/* ---- records ---------------------------------------------------------- */

START_TEST(test_validate_record_accepts_full_records)
{
    char id[19];
    rec p = person_full(id), t = training_full(), pl = placement_full();

    REC_OK(&p);
    REC_OK(&t);
    REC_OK(&pl);
}
END_TEST

START_TEST(test_validate_record_optional_fields_may_be_absent_or_empty)
{
    for (int ti = 0; ti < 3; ti++) {
        const wg_table *t = wg_schema_table_at(ti);
        for (int i = 0; i < t->nfields; i++) {
            char id[19];
            rec r = ti == 0 ? person_full(id)
                    : ti == 1 ? training_full() : placement_full();
            if (t->fields[i].required)
                continue;
            r.v[i] = NULL;
            REC_OK(&r);
            r.v[i] = "";
            REC_OK(&r);
        }
    }
}
END_TEST

START_TEST(test_validate_record_required_fields_must_be_given)
{
    int checked = 0;

    for (int ti = 0; ti < 3; ti++) {
        const wg_table *t = wg_schema_table_at(ti);
        for (int i = 0; i < t->nfields; i++) {
            char id[19], want[64];
            rec r = ti == 0 ? person_full(id)
                    : ti == 1 ? training_full() : placement_full();
            if (!t->fields[i].required)
                continue;
            snprintf(want, sizeof want, "%s: required", t->fields[i].name);
            r.v[i] = NULL;
            REC_BAD(&r, want);
            r.v[i] = "";
            REC_BAD(&r, want);
            checked++;
        }
    }
    ck_assert_int_ge(checked, 14);
}
END_TEST

START_TEST(test_validate_record_only_required_fields_is_enough)
{
    rec r = { wg_schema_table("person"), { 0 } };

    rec_set(&r, "name", "Li Ming");
    rec_set(&r, "id_number", "11010519491231002X");
    rec_set(&r, "disability_category", "visual");
    rec_set(&r, "county", "110105");
    REC_OK(&r);
}
END_TEST

START_TEST(test_validate_record_rejects_an_invalid_value)
{
    char id[19];
    rec r = person_full(id);

    rec_set(&r, "disability_grade", "5");
    REC_BAD(&r, "disability_grade: 5 is out of range 1-4");
    r = person_full(id);
    rec_set(&r, "name", "a\tb");
    REC_BAD(&r, "name: control character 0x09 at byte 2");
    /* The first failure in schema order is the one reported. */
    rec_set(&r, "county", "0");
    REC_BAD(&r, "name: control character 0x09 at byte 2");
}
END_TEST

START_TEST(test_validate_record_rejects_non_canonical_values)
{
    char id[19];
    rec r = person_full(id);
    rec t = training_full();

    rec_set(&r, "disability_grade", "04");
    REC_BAD(&r, "disability_grade: '04' is not canonical, expected '4'");
    r = person_full(id);
    rec_set(&r, "birth_date", "1949-12-31");
    rec_set(&r, "id_number", "11010519491231002x");
    REC_BAD(&r, "id_number: '11010519491231002x' is not canonical, expected "
                "'11010519491231002X'");
    rec_set(&t, "hours", "-0");
    REC_BAD(&t, "hours: '-0' is not canonical, expected '0'");
}
END_TEST

START_TEST(test_validate_record_end_date_not_before_start_date)
{
    rec t = training_full(), p = placement_full();

    rec_set(&t, "start_date", "2024-03-01");
    rec_set(&t, "end_date", "2024-01-01");
    REC_BAD(&t, "end_date: 2024-01-01 is before start_date 2024-03-01");
    rec_set(&t, "end_date", "2024-03-01");  /* a one-day course */
    REC_OK(&t);
    rec_set(&t, "end_date", NULL);
    REC_OK(&t);

    rec_set(&p, "start_date", "2024-03-01");
    rec_set(&p, "end_date", "2024-02-29");
    REC_BAD(&p, "end_date: 2024-02-29 is before start_date 2024-03-01");
    rec_set(&p, "end_date", "2025-01-01");
    REC_OK(&p);
}
END_TEST

START_TEST(test_validate_record_birth_date_matches_id_number)
{
    char id[19];
    rec r = person_full(id);  /* born 1990-01-01, id encodes 19900101 */

    rec_set(&r, "birth_date", "1990-01-02");
    REC_BAD(&r, "birth_date: 1990-01-02 does not match the id number's "
                "1990-01-01");
    rec_set(&r, "birth_date", "1991-01-01");
    REC_BAD(&r, "birth_date: 1991-01-01 does not match the id number's "
                "1990-01-01");
    rec_set(&r, "birth_date", NULL);
    REC_OK(&r);
    rec_set(&r, "birth_date", "");
    REC_OK(&r);
    rec_set(&r, "birth_date", "1949-12-31");
    rec_set(&r, "id_number", "11010519491231002X");
    rec_set(&r, "gender", "female");  /* 17th digit 2: even */
    REC_OK(&r);
}
END_TEST

/* ---- the checks a clerk expects ------------------------------------------ */

START_TEST(test_validate_phone_takes_mobiles_and_landlines)
{
    ACCEPT("person", "phone", "13812345678", "13812345678");
    ACCEPT("person", "phone", "19912345678", "19912345678");
    ACCEPT("person", "phone", " 138 1234 5678 ", "138 1234 5678");
    ACCEPT("person", "phone", "+86 138-1234-5678", "+86 138-1234-5678");
    ACCEPT("person", "phone", "0772-2812345", "0772-2812345");
    ACCEPT("person", "phone", "07722812345", "07722812345");
    ACCEPT("person", "phone", "010-62345678", "010-62345678");
    ACCEPT("person", "phone", "01062345678", "01062345678");
    ACCEPT("person", "phone", "0772-28123456-801", "0772-28123456-801");
    ACCEPT("person", "phone", "0772-2812345转12", "0772-2812345转12");
    REJECT_EXACT("person", "phone", "abc",
                 "phone: 'abc' is not a phone number: a mobile is 11 digits "
                 "from 13 to 19 (13812345678), a landline its area code and "
                 "number (0772-2812345 or 07722812345, an extension after "
                 "'-')");
    REJECT("person", "phone", "12812345678", "is not a phone number");
    REJECT("person", "phone", "1381234567", "is not a phone number");
    REJECT("person", "phone", "138123456789", "is not a phone number");
    REJECT("person", "phone", "0772-0812345", "is not a phone number");
    REJECT("person", "phone", "0772-281234", "is not a phone number");
    REJECT("person", "phone", "0772-2812345-", "is not a phone number");
    REJECT("person", "phone", "0772-2812345-1234567", "is not a phone number");
    REJECT("person", "phone", "0", "is not a phone number");
    REJECT("person", "phone", "138  1234 5678", "is not a phone number");
    REJECT("person", "phone", "   ", "phone: blank (only spaces)");
}
END_TEST

START_TEST(test_validate_text_of_spaces_only_is_blank)
{
    REJECT_EXACT("person", "name", "   ",
                 "name: blank (only spaces): leave it empty or write a value");
    REJECT("person", "name", "\xe3\x80\x80 ", "name: blank (only spaces)");
    REJECT("training", "course", " ", "course: blank (only spaces)");
}
END_TEST

START_TEST(test_validate_gender_follows_the_id_numbers_17th_digit)
{
    char id[19];
    rec r = person_full(id);  /* 17th digit 3: odd, a man */

    REC_OK(&r);
    rec_set(&r, "gender", "female");
    REC_BAD(&r, "gender: female does not match the id number, whose 17th "
                "digit 3 is odd (male)");
    rec_set(&r, "gender", NULL);
    REC_OK(&r);
    rec_set(&r, "birth_date", "1949-12-31");
    rec_set(&r, "id_number", "11010519491231002X");
    rec_set(&r, "gender", "male");
    REC_BAD(&r, "gender: male does not match the id number, whose 17th "
                "digit 2 is even (female)");
}
END_TEST

START_TEST(test_validate_registration_is_not_in_the_future)
{
    char id[19], today[11], want[128];
    rec r = person_full(id);
    wg_err e;

    ck_assert_int_eq(wg_validate_record_at(r.t, r.v, "2024-05-06", &e), WG_OK);
    ck_assert_int_eq(wg_validate_record_at(r.t, r.v, "2024-05-05", &e),
                     WG_ERR_INVALID);
    ck_assert_str_eq(e.msg, "registered_on: 2024-05-06 is in the future "
                            "(today is 2024-05-05)");
    rec_set(&r, "registered_on", "2100-01-01");
    ck_assert(wg_validate_today(today));
    snprintf(want, sizeof want, "registered_on: 2100-01-01 is in the future "
             "(today is %s)", today);
    REC_BAD(&r, want);
}
END_TEST

START_TEST(test_validate_unknown_field_lists_the_fields)
{
    wg_err e;

    ck_assert_int_eq(wg_validate_field_name(wg_schema_table("person"), "name",
                                            &e), WG_OK);
    ck_assert_int_eq(wg_validate_field_name(wg_schema_table("person"),
                                            "hukou", &e), WG_ERR_INVALID);
    ck_assert_str_eq(e.msg, "hukou: no such field in person (fields: name, "
                            "gender, birth_date, id_number, "
                            "disability_category, disability_grade, "
                            "certificate_no, county, township, phone, "
                            "rural, registered_on, certificate_valid_until)");
}
END_TEST

START_TEST(test_validate_birth_date_comes_from_the_id_number)
{
    char d[11];

    ck_assert(wg_validate_idnum_birth("11010519491231002X", d));
    ck_assert_str_eq(d, "1949-12-31");
    ck_assert(!wg_validate_idnum_birth("11010519491331002X", d));
    ck_assert(!wg_validate_idnum_birth("1101051949", d));
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_clerk, test_validate_phone_takes_mobiles_and_landlines),
    TU_TEST(case_clerk, test_validate_text_of_spaces_only_is_blank),
    TU_TEST(case_clerk, test_validate_gender_follows_the_id_numbers_17th_digit),
    TU_TEST(case_clerk, test_validate_registration_is_not_in_the_future),
    TU_TEST(case_clerk, test_validate_unknown_field_lists_the_fields),
    TU_TEST(case_clerk, test_validate_birth_date_comes_from_the_id_number),
    TU_TEST(case_text, test_validate_text_accepts_utf8_spaces_and_empty),
    TU_TEST(case_text, test_validate_text_rejects_longer_than_max_len),
    TU_TEST(case_text, test_validate_text_rejects_control_characters),
    TU_TEST(case_text, test_validate_text_rejects_malformed_utf8),
    TU_TEST(case_int, test_validate_int_accepts_within_range),
    TU_TEST(case_int, test_validate_int_rejects_out_of_range),
    TU_TEST(case_int, test_validate_int_rejects_overflow_without_wrapping),
    TU_TEST(case_int, test_validate_int_full_int64_range),
    TU_TEST(case_int, test_validate_int_rejects_non_decimal),
    TU_TEST(case_date, test_validate_date_accepts_calendar_dates),
    TU_TEST(case_date, test_validate_date_rejects_non_calendar_dates),
    TU_TEST(case_date, test_validate_date_rejects_years_outside_1900_2100),
    TU_TEST(case_date, test_validate_date_rejects_other_shapes),
    TU_TEST(case_date, test_validate_date_helper_reports_parts),
    TU_TEST(case_choice, test_validate_bool_is_0_or_1),
    TU_TEST(case_choice, test_validate_enum_accepts_every_listed_value),
    TU_TEST(case_choice, test_validate_enum_rejects_others_listing_allowed_values),
    TU_TEST(case_idnum, test_validate_idnum_accepts_published_example),
    TU_TEST(case_idnum, test_validate_idnum_accepts_computed_numbers),
    TU_TEST(case_idnum, test_validate_idnum_check_matches_independent_formula),
    TU_TEST(case_idnum, test_validate_idnum_check_helper_needs_17_digits),
    TU_TEST(case_idnum, test_validate_idnum_rejects_wrong_check_digit),
    TU_TEST(case_idnum, test_validate_idnum_rejects_bad_shape),
    TU_TEST(case_idnum, test_validate_idnum_rejects_impossible_birth_date),
    TU_TEST(case_idnum, test_validate_idnum_rejects_zero_region),
    TU_TEST(case_codes, test_validate_county_is_six_digits_not_all_zero),
    TU_TEST(case_codes, test_validate_ref_is_32_lower_case_hex),
    TU_TEST(case_value, test_validate_empty_fails_every_non_text_field),
    TU_TEST(case_value, test_validate_output_buffer_sizes_and_aliasing),
    TU_TEST(case_value, test_validate_null_err_is_allowed),
    TU_TEST(case_value, test_validate_echoed_values_are_escaped_and_cut),
    TU_TEST(case_value, test_validate_long_enum_lists_and_unknown_types_stay_bounded),
    TU_TEST(case_record, test_validate_record_accepts_full_records),
    TU_TEST(case_record, test_validate_record_optional_fields_may_be_absent_or_empty),
    TU_TEST(case_record, test_validate_record_required_fields_must_be_given),
    TU_TEST(case_record, test_validate_record_only_required_fields_is_enough),
    TU_TEST(case_record, test_validate_record_rejects_an_invalid_value),
    TU_TEST(case_record, test_validate_record_rejects_non_canonical_values),
    TU_TEST(case_record, test_validate_record_end_date_not_before_start_date),
    TU_TEST(case_record, test_validate_record_birth_date_matches_id_number),
};

int main(void)
{
    return tu_run(TU_SUITE("validate", tests));
}
