/*
 * wg_validate.h - checking record field values against the schema
 *
 * Pure functions over the descriptions in wg_schema.h: no SQLite, no I/O, no
 * allocation; only wg_validate_record() reads the clock (today's date). Local writes, CSV import and the CLI run every value a
 * person typed through here before it reaches the store. Thread-safe.
 */
#ifndef WG_VALIDATE_H
#define WG_VALIDATE_H

#include <stddef.h>

#include "wg_err.h"
#include "wg_schema.h"

/* Check one value of field F (text as typed by a user: integers in decimal,
 * dates YYYY-MM-DD, booleans 0/1). On success writes the canonical form into
 * OUT (size OUTSZ, NUL-terminated; e.g. "007" -> "7" for ints, an id number's
 * trailing 'x' upper-cased to 'X'); OUT may be NULL to check only. The
 * canonical form is never longer than VALUE, so OUTSZ of strlen(VALUE) + 1, or
 * WG_FIELD_MAX_BYTES + 1 for any value that passes, always suffices.
 * Fails with WG_ERR_INVALID and a message "FIELD: reason", e.g.
 * "id_number: check digit is 5, expected 7",
 * "birth_date: 2023-02-29 is not a calendar date",
 * "disability_grade: 5 is out of range 1-4",
 * "disability_category: 'blind' is not one of physical, visual, ...".
 * The empty string is valid TEXT but fails every other type with
 * "FIELD: empty". TEXT and PHONE are canonical without leading or trailing
 * spaces (ASCII or U+3000); text of spaces only is "FIELD: blank (only
 * spaces) ...". PHONE: a Chinese mobile (11 digits, 13-19 first) or a
 * landline (0AAA-NNNNNNN, with or without the hyphen, an extension after
 * '-' or 转); the message gives both forms. Fails with WG_ERR_INTERNAL (a caller bug) when the valid
 * canonical form does not fit in OUTSZ. */
wg_rc wg_validate_value(const wg_field *f, const char *value, char *out,
                        size_t outsz, wg_err *err);

/* An amount in yuan for field F (one with a fen field): digits, then
 * optionally '.' and one or two digits ("2800", "2800.5", "2800.50"),
 * within F's range in whole yuan; into *FEN exactly. WG_ERR_INVALID:
 * "monthly_income: '1234.567' is not an amount in yuan with at most two
 * decimals (like 2800.50)". Such a field's wg_validate_value() takes these
 * forms too, its canonical value the whole yuan. */
wg_rc wg_validate_yuan(const wg_field *f, const char *value, int64_t *fen,
                       wg_err *err);

/* Check a whole record of table T: VALUES[i] is the value of T->fields[i], or
 * NULL when absent; the empty string counts as absent. Checks, and reports the
 * first failure of, in this order: each field in schema order (required
 * fields present and non-empty: "name: required"; each present value valid as
 * wg_validate_value says and already in canonical form, since nothing is
 * rewritten here: "disability_grade: '04' is not canonical, expected '4'");
 * then end_date >= start_date ("end_date: 2024-01-01 is before start_date
 * 2024-03-01"); then, when both id_number and birth_date are given, the birth
 * date encoded in the id number (characters 7-14, YYYYMMDD) equals birth_date
 * ("birth_date: 1990-01-02 does not match the id number's 1990-01-01").
 * Fails with WG_ERR_INVALID. */
wg_rc wg_validate_record(const wg_table *t, const char *const *values,
                         wg_err *err);

/* As wg_validate_record(), then, for a person: gender agrees with the id
 * number's 17th character (odd: male, even: female: "gender: female does
 * not match the id number, whose 17th digit 3 is odd (male)"), and, when
 * TODAY (YYYY-MM-DD) is not NULL, registered_on is not after it
 * ("registered_on: 2030-01-01 is in the future (today is 2026-12-06)").
 * wg_validate_record() is this with today's local date (the machine's zone,
 * TZ honoured): the one rule here that reads the clock. */
wg_rc wg_validate_record_at(const wg_table *t, const char *const *values,
                            const char *today, wg_err *err);

/* Today's local date as YYYY-MM-DD into OUT; 0 if the clock fails. */
int wg_validate_today(char out[11]);

/* How a message names field F: its title (身份证号) while messages are
 * translated into Chinese, else its name (id_number). */
const char *wg_validate_field_word(const wg_field *f);

/* WG_OK if NAME is a field of T; else WG_ERR_INVALID listing the fields:
 * "hukou: no such field in person (fields: name, gender, ...)". */
wg_rc wg_validate_field_name(const wg_table *t, const char *name,
                             wg_err *err);

/* The birth date an id number encodes (characters 7-14) as YYYY-MM-DD into
 * OUT, returning 1; 0 when IDNUM does not start with 14 digits naming a
 * calendar date. Used to fill birth_date when only the id number is
 * given. */
int wg_validate_idnum_birth(const char *idnum, char out[11]);

/* Length (1-4) of the well-formed UTF-8 character at P, or 0 when P does
 * not start one (overlong forms, surrogates, past U+10FFFF, a cut
 * sequence). Never reads past a NUL. */
size_t wg_validate_utf8_char(const char *p);

/* 1 if S is exactly YYYY-MM-DD naming a real calendar date in 1900..2100, else
 * 0. On 1, stores year, month and day through Y, M, D (each may be NULL). */
int wg_validate_date(const char *s, int *y, int *m, int *d);

/* The check character ('0'-'9' or 'X') that GB 11643-1999 gives the first 17
 * characters of ID18, or 0 if those are not 17 decimal digits. Reads no
 * further than the first non-digit, so a short string is safe. */
int wg_validate_idnum_check(const char *id18);

/* 1 if S is a record id: exactly WG_ID_HEX_CHARS lower-case hex characters. */
int wg_validate_record_id(const char *s);

#endif
