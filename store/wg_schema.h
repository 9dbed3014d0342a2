/*
 * wg_schema.h - the tables, described once
 *
 * Every replicated table (the record tables person, training and placement,
 * and the audit trail) is one wg_table entry in schema.c: its fields in
 * schema order with their types, bounds, roles and Chinese titles, its
 * number on the wire, its indexes and the schema version that added it. SQL
 * (schema_sql.c), upgrades in place, validation, the change codec, the
 * canonical dump, import/export columns, `help add`, `status` counts and
 * reports all walk these entries, so a new field or table is one entry here
 * plus its tests.
 *
 * Compatibility rules, kept by every entry:
 *   - a field's position in its table is its number on the wire: fields are
 *     only ever appended, never reordered, renamed or removed;
 *   - a table's `wire` number is never reused;
 *   - `since` is the schema version that added a field or table; a store or
 *     a peer of an older version keeps changes carrying it unmerged (and
 *     relays them unchanged) until it is upgraded.
 */
#ifndef WG_SCHEMA_H
#define WG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "wg_err.h"

/* The schema this build writes and fully understands. A build configured
 * with WINGS_SCHEMA_PREV leaves out everything added in the latest version:
 * the tests use it as the previous release. */
#ifdef WG_SCHEMA_PREV
#define WG_SCHEMA_VERSION 2
#else
#define WG_SCHEMA_VERSION 3
#endif
/* The oldest schema whose nodes keep what they do not understand (and so
 * can be synced with: see WG_SYNC_SCHEMA_MIN in wg_sync.h). */
#define WG_SCHEMA_MIN 1

#define WG_ID_HEX_CHARS 32          /* a record id: 128 random bits in hex */
#define WG_FIELD_MAX_BYTES 1024     /* the longest text value accepted */
/* The most fields a table can ever have: also the bound on field numbers a
 * change may carry, so a newer table's fields fit an older node. */
#define WG_MAX_FIELDS 30
/* Table numbers a change may carry: 1..WG_TABLE_WIRE_MAX. */
#define WG_TABLE_WIRE_MAX 63

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

/* What a field means to the machinery around it. */
typedef enum wg_frole {
    WG_FR_NONE = 0,
    WG_FR_PARTITION,   /* the record's partition (its county): fixed at
                        * creation, decides who may write and receive it */
    WG_FR_REF          /* names a record of table `ref` */
} wg_frole;

typedef struct wg_field {
    const char *name;
    wg_ftype type;
    int required;                    /* must be present on a new record */
    const char *const *enum_values;  /* NULL-terminated, for WG_FT_ENUM */
    int64_t min, max;                /* for WG_FT_INT */
    size_t max_len;                  /* for WG_FT_TEXT */
    const char *title;               /* Chinese column title (exports, page) */
    const char *const *enum_titles;  /* Chinese label of each enum value */
    wg_frole role;
    const char *ref;                 /* WG_FR_REF: the table named */
    int since;                       /* schema version that added it */
    const char *help;                /* one line for `help add`, or NULL */
    int unique;                      /* a node's live records never share a
                                      * value: typed and imported writes are
                                      * refused; copies from two offices
                                      * are listed by `review` */
    const char *fen;                 /* WG_FT_INT in whole yuan: the field
                                      * holding the amount exactly, in fen;
                                      * input may then carry two decimals
                                      * (records.c writes both) */
    int meta;                        /* written by the machinery, never by
                                      * a user: left out of `help add`,
                                      * add/update/import names, list, get,
                                      * export and the page's forms, but
                                      * replicated, merged and dumped like
                                      * any field (see schema.c) */
} wg_field;

/* An index: NAME on the comma-separated COLUMNS of its table. */
typedef struct wg_index {
    const char *name;
    const char *columns;
} wg_index;

typedef struct wg_table {
    const char *name;
    uint8_t wire;                /* its number in a change; never reused */
    int since;                   /* schema version that added it */
    int user;                    /* a record table users name (add, list,
                                  * import); 0 for the audit trail */
    const char *title;           /* Chinese name */
    const wg_field *fields;
    int nfields;
    const wg_index *indexes;     /* ends with a { NULL } entry */
} wg_table;

/* The record table called NAME (user tables only), or NULL. */
const wg_table *wg_schema_table(const char *name);
/* The i-th user record table (person, training, placement, ...), or NULL
 * past the end. */
const wg_table *wg_schema_table_at(int i);
/* The i-th replicated table of any kind (records and audit), or NULL past
 * the end: what SQL, upgrades and the canonical dump walk. */
const wg_table *wg_schema_all(int i);
/* The table with wire number WIRE, or NULL when this build knows none. */
const wg_table *wg_schema_by_wire(unsigned wire);
/* The audit trail's table (not a record table: never named by a user). */
const wg_table *wg_schema_audit(void);
/* Index of field NAME in T, or -1. */
int wg_schema_field_index(const wg_table *t, const char *name);
/* Index of the field whose Chinese title is TITLE in T, or -1. */
int wg_schema_field_by_title(const wg_table *t, const char *title);
/* The Chinese label of enum VALUE of F, or NULL if F has none for it. */
const char *wg_schema_enum_title(const wg_field *f, const char *value);
/* Index of T's partition field (its county), or -1. */
int wg_schema_partition(const wg_table *t);
/* Number of T's fields a store of schema VERSION has (fields are appended
 * in order of `since`). */
int wg_schema_nfields_at(const wg_table *t, int version);
/* Index of T's meta field NAME (changed_by, base_clocks), or -1 when
 * this build's T has none. */
int wg_schema_meta(const wg_table *t, const char *name);
/* Index of the fen field of T's field I (wg_field.fen), or -1. */
int wg_schema_fen_of(const wg_table *t, int i);
/* Is field I of T some field's fen field? */
int wg_schema_is_fen(const wg_table *t, int i);
/* Is field I of T one that users see and write (not a meta field)? */
int wg_schema_shown(const wg_table *t, int i);
/* The name of a field type as `help add` shows it ("text", "date", ...). */
const char *wg_schema_type_name(wg_ftype type);

#endif
