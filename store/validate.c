/*
 * validate.c - checking record field values against the schema
 *
 * One checker per wg_ftype, a dispatcher that also writes the canonical form,
 * and the record-level rules (required fields, canonical values, cross-field
 * dates). Values come straight from people and files, so nothing here asserts
 * on them: every malformed value is a WG_ERR_INVALID naming the field.
 */
#include "wg_validate.h"
#include "wg_ident.h"

#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wg_i18n.h"

/* The field as a message names it: its title (身份证号) while messages are
 * being translated for a clerk who reads Chinese, else its name
 * (id_number), which is what the command line takes. */
const char *wg_validate_field_word(const wg_field *f)
{
    static const char probe[] = "%s: required";
    return f->title && _(probe) != probe ? f->title : f->name;
}

#define fname wg_validate_field_word

/* Scratch for canonical forms that differ from the input (INT, IDNUM): the
 * longest is a sign, 19 digits and the NUL. */
#define CANON_SMALL_BYTES 24

/* A value echoed in a message is cut to this many bytes (then "..."), so a
 * long value cannot crowd out the reason in a WG_ERR_MSG_BYTES message. */
#define SHOW_MAX 40
#define SHOW_BYTES (SHOW_MAX + 4)

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Length (1-4) of the well-formed UTF-8 sequence at P, or 0 if it is not one:
 * the byte ranges of Unicode table 3-7, which exclude overlong forms,
 * surrogates and code points past U+10FFFF. A NUL is never in a continuation
 * range, so this stops at the end of the string. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;  /* below: overlong */
        else if (c == 0xed)
            hi = 0x9f;  /* above: surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;  /* below: overlong */
        else if (c == 0xf4)
            hi = 0x8f;  /* above: past U+10FFFF */
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

size_t wg_validate_utf8_char(const char *p)
{
    return utf8_len((const unsigned char *)p);
}

/* V made fit to quote in a one-line message: controls and bytes that are not
 * UTF-8 written as \xNN, cut at a character boundary after SHOW_MAX bytes.
 * Returns BUF (SHOW_BYTES long). */
static const char *show(const char *v, char *buf)
{
    const unsigned char *p = (const unsigned char *)v;
    size_t o = 0;

    while (*p) {
        size_t n = utf8_len(p);
        int escape = n == 0 || (n == 1 && is_control(*p));
        size_t need = escape ? 4 : n;

        if (o + need > SHOW_MAX) {
            memcpy(buf + o, "...", 4);
            return buf;
        }
        if (escape) {
            snprintf(buf + o, 5, "\\x%02x", *p);
            o += 4;
            p++;
        } else {
            memcpy(buf + o, p, n);
            o += n;
            p += n;
        }
    }
    buf[o] = '\0';
    return buf;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

enum date_fault { DATE_OK, DATE_FORMAT, DATE_CALENDAR, DATE_RANGE };

/* Parse S as YYYY-MM-DD. Each position is tested in order, so a short
 * string fails at its NUL rather than being read past. */
static enum date_fault parse_date(const char *s, int *y, int *m, int *d)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };
    static const char shape[] = "dddd-dd-dd";

    for (int i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? !is_digit((unsigned char)s[i]) : s[i] != '-')
            return DATE_FORMAT;
    if (s[10] != '\0')
        return DATE_FORMAT;

    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10
         + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    if (*m < 1 || *m > 12 || *d < 1)
        return DATE_CALENDAR;
    if (*d > mdays[*m - 1] + (*m == 2 && is_leap(*y)))
        return DATE_CALENDAR;
    if (*y < 1900 || *y > 2100)
        return DATE_RANGE;
    return DATE_OK;
}

int wg_validate_date(const char *s, int *y, int *m, int *d)
{
    int yy, mm, dd;

    if (parse_date(s, &yy, &mm, &dd) != DATE_OK)
        return 0;
    if (y)
        *y = yy;
    if (m)
        *m = mm;
    if (d)
        *d = dd;
    return 1;
}

int wg_validate_idnum_check(const char *id18)
{
    /* GB 11643-1999: weight 2^(17-i) mod 11 for position i, and the map from
     * the weighted sum mod 11 to the check character. */
    static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6,
                                    3, 7, 9, 10, 5, 8, 4, 2 };
    int sum = 0;

    for (int i = 0; i < 17; i++) {
        if (!is_digit((unsigned char)id18[i]))
            return 0;
        sum += (id18[i] - '0') * weight[i];
    }
    return "10X98765432"[sum % 11];
}

int wg_validate_record_id(const char *s)
{
    for (int i = 0; i < WG_ID_HEX_CHARS; i++)
        if (!is_digit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return 0;
    return s[WG_ID_HEX_CHARS] == '\0';
}

/* Bytes of white space at P that a person cannot see the end of a cell
 * by: ASCII spaces and the ideographic space U+3000 (E3 80 80), which
 * Chinese input methods type in full-width mode. */
static size_t space_at(const char *p)
{
    if (*p == ' ')
        return 1;
    if ((unsigned char)p[0] == 0xe3 && (unsigned char)p[1] == 0x80 &&
        (unsigned char)p[2] == 0x80)
        return 3;
    return 0;
}

/* The part of V without leading and trailing spaces: *START and *LEN. */
static void trim_span(const char *v, size_t *start, size_t *len)
{
    size_t a = 0, n = strlen(v), k;

    while ((k = space_at(v + a)) != 0)
        a += k;
    while (n > a) {
        if (v[n - 1] == ' ')
            n--;
        else if (n - a >= 3 && space_at(v + n - 3) == 3)
            n -= 3;
        else
            break;
    }
    *start = a;
    *len = n - a;
}

static wg_rc check_text(const wg_field *f, const char *v, wg_err *err)
{
    size_t lim = f->max_len && f->max_len < WG_FIELD_MAX_BYTES
                     ? f->max_len : WG_FIELD_MAX_BYTES;
    const unsigned char *p = (const unsigned char *)v;

    if (strnlen(v, lim + 1) > lim)
        return wg_err_set(err, WG_ERR_INVALID, "%s: longer than %zu bytes",
                          fname(f), lim);
    for (size_t i = 0; p[i];) {
        size_t n = utf8_len(p + i);
        if (n == 0)
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: invalid utf-8 at byte %zu", fname(f), i + 1);
        if (n == 1 && is_control(p[i]))
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: control character 0x%02x at byte %zu",
                              fname(f), p[i], i + 1);
        i += n;
    }
    if (v[0]) {
        size_t a, n;

        trim_span(v, &a, &n);
        if (n == 0)
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: blank (only spaces): leave it empty or "
                              "write a value", fname(f));
    }
    return WG_OK;
}

/* The birth date an 18-character id number carries (digits 7-14), as
 * YYYY-MM-DD into OUT (11 bytes). No snprintf: every imported row asks. */
static void idnum_date(char out[11], const char *idnum)
{
    memcpy(out, idnum + 6, 4);
    out[4] = '-';
    memcpy(out + 5, idnum + 10, 2);
    out[7] = '-';
    memcpy(out + 8, idnum + 12, 2);
    out[10] = '\0';
}

static wg_rc check_int(const wg_field *f, const char *v, char *canon,
                       wg_err *err)
{
    char sb[SHOW_BYTES];
    const char *p = v;
    int neg = 0, over = 0;
    uint64_t mag = 0;
    int64_t n = 0;
    size_t nd;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    nd = strlen(p);
    if (nd == 0 || !all_digits(p, nd))
        return wg_err_set(err, WG_ERR_INVALID, "%s: '%s' is not an integer",
                          fname(f), show(v, sb));
    while (*p == '0' && p[1]) {  /* keep one zero of "000" */
        p++;
        nd--;
    }
    /* 19 digits cannot wrap a uint64_t (< 1.9e19); more cannot fit int64_t. */
    if (nd > 19)
        over = 1;
    else
        for (size_t i = 0; i < nd; i++)
            mag = mag * 10 + (uint64_t)(p[i] - '0');
    if (mag > (uint64_t)INT64_MAX + neg)
        over = 1;
    if (!over && mag == 0)
        neg = 0;  /* "-0" is 0 */
    if (!over)  /* -(mag - 1) - 1 reaches INT64_MIN without overflowing */
        n = neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
    if (over || n < f->min || n > f->max)
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: %s%s is out of range %" PRId64 "-%" PRId64,
                          fname(f), neg ? "-" : "", show(p, sb), f->min,
                          f->max);
    /* the canonical decimal form (no snprintf: this runs for every
     * integer of every imported row) */
    char rev[CANON_SMALL_BYTES];
    size_t len = 0, o = 0;
    uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
    do
        rev[len++] = (char)('0' + u % 10);
    while ((u /= 10));
    if (n < 0)
        canon[o++] = '-';
    while (len)
        canon[o++] = rev[--len];
    canon[o] = '\0';
    return WG_OK;
}

wg_rc wg_validate_yuan(const wg_field *f, const char *v, int64_t *fen,
                       wg_err *err)
{
    char sb[SHOW_BYTES];
    size_t n = strlen(v), dot = strcspn(v, ".");
    size_t dec = dot < n ? n - dot - 1 : 0;
    if (dot == 0 || dot > 12 || !all_digits(v, dot) ||
        (dot < n && (dec < 1 || dec > 2 || !all_digits(v + dot + 1, dec))))
        return wg_err_set(err, WG_ERR_INVALID, "%s: '%s' is not an amount in "
                          "yuan with at most two decimals (like 2800.50)",
                          fname(f), show(v, sb));
    int64_t y = 0, j = 0;
    for (size_t i = 0; i < dot; i++)
        y = y * 10 + (v[i] - '0');
    if (dec >= 1)
        j = (v[dot + 1] - '0') * 10;
    if (dec == 2)
        j += v[dot + 2] - '0';
    if (y < f->min || y > f->max)   /* check_int's words */
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: %s%s is out of range %" PRId64 "-%" PRId64,
                          fname(f), "", show(v, sb), f->min, f->max);
    *fen = y * 100 + j;
    return WG_OK;
}

static wg_rc check_date(const wg_field *f, const char *v, wg_err *err)
{
    char sb[SHOW_BYTES];
    int y, m, d;

    switch (parse_date(v, &y, &m, &d)) {
    case DATE_OK:
        return WG_OK;
    case DATE_FORMAT:
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: '%s' is not a date (YYYY-MM-DD)", fname(f),
                          show(v, sb));
    case DATE_CALENDAR:
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: %s is not a calendar date", fname(f), v);
    case DATE_RANGE:
        break;
    }
    return wg_err_set(err, WG_ERR_INVALID,
                      "%s: %s is outside 1900-01-01..2100-12-31", fname(f), v);
}

static wg_rc check_bool(const wg_field *f, const char *v, wg_err *err)
{
    char sb[SHOW_BYTES];

    if ((v[0] == '0' || v[0] == '1') && v[1] == '\0')
        return WG_OK;
    return wg_err_set(err, WG_ERR_INVALID, "%s: '%s' is not 0 or 1", fname(f),
                      show(v, sb));
}

static wg_rc check_enum(const wg_field *f, const char *v, wg_err *err)
{
    char sb[SHOW_BYTES];
    char list[WG_ERR_MSG_BYTES];
    size_t o = 0;

    assert(f->enum_values);
    for (const char *const *e = f->enum_values; *e; e++)
        if (!strcmp(*e, v))
            return WG_OK;
    list[0] = '\0';
    for (const char *const *e = f->enum_values; *e; e++) {
        int k = snprintf(list + o, sizeof list - o, "%s%s",
                         e == f->enum_values ? "" : ", ", *e);
        if (k < 0 || (size_t)k >= sizeof list - o)
            break;  /* the message is cut short by wg_err_set anyway */
        o += (size_t)k;
    }
    return wg_err_set(err, WG_ERR_INVALID, "%s: '%s' is not one of %s",
                      fname(f), show(v, sb), list);
}

static wg_rc check_idnum(const wg_field *f, const char *v, char *canon,
                         wg_err *err)
{
    char sb[SHOW_BYTES];
    char date[11];
    int want, got;

    if (strnlen(v, 19) != 18)
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: '%s' is not 18 characters long", fname(f),
                          show(v, sb));
    for (int i = 0; i < 17; i++)
        if (!is_digit((unsigned char)v[i]))
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: character %d is not a digit", fname(f),
                              i + 1);
    got = v[17] == 'x' ? 'X' : v[17];
    if (!is_digit(got) && got != 'X')
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: character 18 is not a digit or X", fname(f));
    if (!memcmp(v, "000000", 6))
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: region code 000000 is not valid", fname(f));
    idnum_date(date, v);
    if (!wg_validate_date(date, NULL, NULL, NULL))
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: birth date %.8s is not a valid date", fname(f),
                          v + 6);
    want = wg_validate_idnum_check(v);
    if (got != want)
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: check digit is %c, expected %c", fname(f), got,
                          want);
    memcpy(canon, v, 17);
    canon[17] = (char)got;
    canon[18] = '\0';
    return WG_OK;
}

/* Leading decimal digits of P. */
static size_t digits_at(const char *p)
{
    size_t n = 0;

    while (is_digit((unsigned char)p[n]))
        n++;
    return n;
}

/* 1 if V is a Chinese mobile number: 11 digits, 13x-19x, perhaps after
 * +86 or 0086 and in groups split by single spaces or hyphens
 * (+86 138 0000 0000). */
static int mobile_ok(const char *v)
{
    char d[12];
    size_t nd = 0;

    if (!strncmp(v, "+86", 3) || !strncmp(v, "0086", 4)) {
        v += v[0] == '+' ? 3 : 4;
        if (*v == ' ' || *v == '-')
            v++;
    }
    for (; *v; v++) {
        if (is_digit((unsigned char)*v)) {
            if (nd == 11)
                return 0;
            d[nd++] = *v;
        } else if ((*v != ' ' && *v != '-') || !nd ||
                   !is_digit((unsigned char)v[1])) {
            return 0;  /* one space or hyphen between digit groups only */
        }
    }
    return nd == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

/* 1 if V is a mobile number (mobile_ok) or a landline: area code (0 and
 * 2-3 digits) and number (7-8 digits, not starting 0 or 1), with or
 * without a hyphen between them, and an optional extension of 1-6 digits
 * after '-' or 转. V is trimmed of spaces already. */
static int phone_ok(const char *v)
{
    size_t n = digits_at(v), area, num;
    const char *p;

    if (mobile_ok(v))
        return 1;
    if (v[0] != '0')
        return 0;
    if (v[n] == '-') {          /* 0AAA-NNNNNNN */
        area = n;
        p = v + n + 1;
        num = digits_at(p);
        if (area < 3 || area > 4 || num < 7 || num > 8 || *p < '2')
            return 0;
        p += num;
    } else {                    /* 0AAANNNNNNN */
        if (n < 11 || n > 12 || (n == 12 && v[1] <= '2'))
            return 0;
        p = v + n;
    }
    if (*p == '\0')
        return 1;
    if (*p == '-')
        p++;
    else if (!strncmp(p, "\xe8\xbd\xac", 3))  /* 转 */
        p += 3;
    else
        return 0;
    n = digits_at(p);
    return n >= 1 && n <= 6 && p[n] == '\0';
}

static wg_rc check_phone(const wg_field *f, const char *v, wg_err *err)
{
    char sb[SHOW_BYTES];
    size_t a, n;
    char buf[WG_FIELD_MAX_BYTES + 1];
    wg_rc rc = check_text(f, v, err);

    if (rc)
        return rc;
    trim_span(v, &a, &n);
    memcpy(buf, v + a, n);
    buf[n] = '\0';
    if (phone_ok(buf))
        return WG_OK;
    return wg_err_set(err, WG_ERR_INVALID,
                      "%s: '%s' is not a phone number: a mobile is 11 digits "
                      "from 13 to 19 (13812345678), a landline its area code "
                      "and number (0772-2812345 or 07722812345, an extension "
                      "after '-')", fname(f), show(v, sb));
}

static wg_rc check_county(const wg_field *f, const char *v, wg_err *err)
{
    char sb[SHOW_BYTES];

    if (!wg_ident_county_ok(v, strnlen(v, WG_COUNTY_CHARS + 1)))
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: '%s' is not a 6-digit county code", fname(f),
                          show(v, sb));
    /* 000000 names the national HQ in a config, never a record's county. */
    if (!strcmp(v, "000000"))
        return wg_err_set(err, WG_ERR_INVALID,
                          "%s: 000000 is not a county code", fname(f));
    return WG_OK;
}

static wg_rc check_ref(const wg_field *f, const char *v, wg_err *err)
{
    char sb[SHOW_BYTES];

    if (wg_validate_record_id(v))
        return WG_OK;
    return wg_err_set(err, WG_ERR_INVALID,
                      "%s: '%s' is not a record id (32 lower-case hex "
                      "characters)", fname(f), show(v, sb));
}

wg_rc wg_validate_value(const wg_field *f, const char *value, char *out,
                        size_t outsz, wg_err *err)
{
    char small[CANON_SMALL_BYTES];
    const char *canon = value;  /* most types are canonical once accepted */
    wg_rc rc;
    size_t n;

    assert(f && value);
    if (f->type != WG_FT_TEXT && value[0] == '\0')
        return wg_err_set(err, WG_ERR_INVALID, "%s: empty", fname(f));
    switch (f->type) {
    case WG_FT_TEXT:
    case WG_FT_PHONE:
        rc = f->type == WG_FT_TEXT ? check_text(f, value, err)
                                   : check_phone(f, value, err);
        if (rc == WG_OK) {
            /* Canonical text has no leading or trailing spaces; it is
             * never longer than VALUE, so it is cut in place in OUT. */
            size_t a, len;

            trim_span(value, &a, &len);
            if (!out)
                return WG_OK;
            if (len >= outsz)
                return wg_err_set(err, WG_ERR_INTERNAL,
                                  "%s: canonical value needs %zu bytes, "
                                  "buffer has %zu", fname(f), len + 1, outsz);
            memmove(out, value + a, len);
            out[len] = '\0';
            return WG_OK;
        }
        break;
    case WG_FT_INT:
        if (f->fen && strchr(value, '.')) {
            /* yuan with decimals: the canonical value is the whole yuan */
            int64_t fen;
            rc = wg_validate_yuan(f, value, &fen, err);
            if (rc == WG_OK)
                snprintf(small, CANON_SMALL_BYTES, "%" PRId64, fen / 100);
        } else {
            rc = check_int(f, value, small, err);
        }
        canon = small;
        break;
    case WG_FT_DATE:
        rc = check_date(f, value, err);
        break;
    case WG_FT_BOOL:
        rc = check_bool(f, value, err);
        break;
    case WG_FT_ENUM:
        rc = check_enum(f, value, err);
        break;
    case WG_FT_IDNUM:
        rc = check_idnum(f, value, small, err);
        canon = small;
        break;
    case WG_FT_COUNTY:
        rc = check_county(f, value, err);
        break;
    case WG_FT_REF:
        rc = check_ref(f, value, err);
        break;
    default:
        return wg_err_set(err, WG_ERR_INTERNAL, "%s: unknown field type %d",
                          fname(f), (int)f->type);
    }
    if (rc != WG_OK || !out)
        return rc;
    n = strlen(canon);
    if (n >= outsz)
        return wg_err_set(err, WG_ERR_INTERNAL,
                          "%s: canonical value needs %zu bytes, buffer has %zu",
                          fname(f), n + 1, outsz);
    memmove(out, canon, n + 1);  /* OUT may be VALUE itself */
    return WG_OK;
}

static const char *present(const wg_table *t, const char *const *values,
                           const char *name)
{
    int i = wg_schema_field_index(t, name);
    const char *v = i >= 0 ? values[i] : NULL;

    return v && v[0] ? v : NULL;
}

int wg_validate_idnum_birth(const char *idnum, char out[11])
{
    char date[11];

    if (digits_at(idnum) < 14)
        return 0;
    idnum_date(date, idnum);
    if (!wg_validate_date(date, NULL, NULL, NULL))
        return 0;
    memcpy(out, date, sizeof date);
    return 1;
}

wg_rc wg_validate_field_name(const wg_table *t, const char *name,
                             wg_err *err)
{
    char sb[SHOW_BYTES];
    char list[WG_ERR_MSG_BYTES];
    size_t o = 0;

    if (wg_schema_shown(t, wg_schema_field_index(t, name)))
        return WG_OK;
    list[0] = '\0';
    for (int i = 0; i < t->nfields; i++) {
        if (t->fields[i].meta)  /* the machinery's, never a user's */
            continue;
        int k = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "",
                         t->fields[i].name);
        if (k < 0 || (size_t)k >= sizeof list - o)
            break;
        o += (size_t)k;
    }
    return wg_err_set(err, WG_ERR_INVALID, "%s: no such field in %s (fields: "
                      "%s)", show(name, sb), t->name, list);
}

int wg_validate_today(char out[11])
{
    /* Every validated record asks: the local date is worked out once a
     * second per thread. */
    static _Thread_local time_t last = (time_t)-1;
    static _Thread_local char day[11];
    time_t now = time(NULL);
    struct tm tm;

    if (now == (time_t)-1)
        return 0;
    if (now != last) {
        if (!localtime_r(&now, &tm) ||
            strftime(day, sizeof day, "%Y-%m-%d", &tm) != 10)
            return 0;
        last = now;
    }
    memcpy(out, day, sizeof day);
    return 1;
}

wg_rc wg_validate_record(const wg_table *t, const char *const *values,
                         wg_err *err)
{
    char today[11];

    return wg_validate_record_at(t, values,
                                 wg_validate_today(today) ? today : NULL, err);
}

wg_rc wg_validate_record_at(const wg_table *t, const char *const *values,
                            const char *today, wg_err *err)
{
    const char *start, *end, *birth, *idnum, *gender, *reg;

    assert(t && values);
    for (int i = 0; i < t->nfields; i++) {
        const wg_field *f = &t->fields[i];
        const char *v = values[i];
        char canon[WG_FIELD_MAX_BYTES + 1];
        char sb[SHOW_BYTES], sc[SHOW_BYTES];
        wg_rc rc;

        if (!v || !v[0]) {
            if (f->required)
                return wg_err_set(err, WG_ERR_INVALID, "%s: required",
                                  fname(f));
            continue;
        }
        rc = wg_validate_value(f, v, canon, sizeof canon, err);
        if (rc != WG_OK)
            return rc;
        /* The store compares and indexes the stored bytes, so "007" beside
         * "7", or an id number ending in x beside one ending in X, would be
         * two values for one fact. */
        if (strcmp(canon, v))
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: '%s' is not canonical, expected '%s'",
                              fname(f), show(v, sb), show(canon, sc));
    }

    /* Valid dates are fixed-width YYYY-MM-DD, so byte order is date order. */
    start = present(t, values, "start_date");
    end = present(t, values, "end_date");
    if (start && end && strcmp(end, start) < 0)
        return wg_err_set(err, WG_ERR_INVALID,
                          "end_date: %s is before start_date %s", end, start);

    birth = present(t, values, "birth_date");
    idnum = present(t, values, "id_number");
    if (birth && idnum) {
        char enc[11];

        idnum_date(enc, idnum);
        if (strcmp(enc, birth))
            return wg_err_set(err, WG_ERR_INVALID,
                              "birth_date: %s does not match the id number's "
                              "%s", birth, enc);
    }

    /* GB 11643: the 17th character is odd for a man, even for a woman. */
    gender = present(t, values, "gender");
    if (gender && idnum && is_digit((unsigned char)idnum[16])) {
        int odd = (idnum[16] - '0') % 2;
        const char *want = odd ? "male" : "female";

        if (strcmp(gender, want))
            return wg_err_set(err, WG_ERR_INVALID,
                              "gender: %s does not match the id number, "
                              "whose 17th digit %c is %s (%s)", gender,
                              idnum[16], odd ? "odd" : "even", want);
    }

    reg = present(t, values, "registered_on");
    if (reg && today && strcmp(reg, today) > 0)
        return wg_err_set(err, WG_ERR_INVALID,
                          "registered_on: %s is in the future (today is %s)",
                          reg, today);
    return WG_OK;
}
