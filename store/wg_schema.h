/*
 * wg_schema.h - the record tables, described once
 *
 * The three record tables (person, training, placement) and their fields, in
 * schema order. SQL, validation, JSON, CSV and the change codec are all driven
 * from these descriptions, so a field is added in one place.
 */
#ifndef WG_SCHEMA_H
#define WG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "wg_err.h"

#define WG_SCHEMA_VERSION 1
#define WG_ID_HEX_CHARS 32          /* a record id: 128 random bits in hex */
#define WG_FIELD_MAX_BYTES 1024     /* the longest text value accepted */
#define WG_MAX_FIELDS 16

typedef enum wg_ftype {
    WG_FT_TEXT,    /* UTF-8 text, at most max_len bytes, no control chars */
    WG_FT_INT,     /* decimal integer within [min, max] */
    WG_FT_DATE,    /* YYYY-MM-DD, a real calendar date, 1900-01-01..2100-12-31 */
    WG_FT_BOOL,    /* 0 or 1 */
    WG_FT_ENUM,    /* one of enum_values */
    WG_FT_IDNUM,   /* 18-character resident id, GB 11643 check digit */
    WG_FT_COUNTY,  /* 6 decimal digits */
    WG_FT_REF,     /* a record id (32 lower-case hex) of a person */
    WG_FT_PHONE    /* a Chinese mobile or landline number, as text */
} wg_ftype;

typedef struct wg_field {
    const char *name;
    wg_ftype type;
    int required;                    /* must be present on a new record */
    const char *const *enum_values;  /* NULL-terminated, for WG_FT_ENUM */
    int64_t min, max;                /* for WG_FT_INT */
    size_t max_len;                  /* for WG_FT_TEXT */
    const char *title;               /* Chinese column title (exports, page) */
    const char *const *enum_titles;  /* Chinese label of each enum value */
} wg_field;

typedef struct wg_table {
    const char *name;
    const wg_field *fields;
    int nfields;
} wg_table;

/* The table called NAME, or NULL. */
const wg_table *wg_schema_table(const char *name);
/* The i-th table (0..2), or NULL past the end. */
const wg_table *wg_schema_table_at(int i);
/* The audit trail's table (not a record table: never named by a user). */
const wg_table *wg_schema_audit(void);
/* Index of field NAME in T, or -1. */
int wg_schema_field_index(const wg_table *t, const char *name);
/* Index of the field whose Chinese title is TITLE in T, or -1. */
int wg_schema_field_by_title(const wg_table *t, const char *title);
/* The Chinese label of enum VALUE of F, or NULL if F has none for it. */
const char *wg_schema_enum_title(const wg_field *f, const char *value);

#endif
