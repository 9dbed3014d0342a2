/*
 * ddl.c - the store's SQL tables, made and upgraded from the description
 *
 * Every replicated table is created from its wg_table entry (schema.c); the
 * node-local tables (origins, feeds, changes, peers, unmerged) are written
 * out here (and `overwritten`, overwritten.c). A store of an older schema is upgraded in place when opened, in
 * one transaction:
 *
 *   stored version v < WG_SCHEMA_VERSION
 *     for each table: since > v        --> CREATE TABLE
 *                     fields since > v --> ALTER TABLE ADD COLUMN, and each
 *                                          row's clocks moved (the slot of
 *                                          `deleted` is after the fields)
 *     every described index            --> CREATE INDEX IF NOT EXISTS
 *     changes listed in `unmerged`     --> merged now, as far as this
 *                                          build knows their fields
 *     meta schema_version              --> WG_SCHEMA_VERSION
 *
 * `unmerged` lists the changes a node kept but could not fully merge when
 * they arrived: their table or some field came from a newer schema. They
 * were stored and relayed unchanged all along; the upgrade merges them.
 * A store of a newer schema than this build is refused, never read.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sql_type(wg_ftype t)
{
    return t == WG_FT_INT || t == WG_FT_BOOL ? "INTEGER" : "TEXT";
}

/* A record table: `n` numbers rows in order of arrival (node-local; rows
 * pack densely and indexes carry a small integer), `id` is the record id (32
 * hex digits), `chg` the key of the latest change merged into the row. */
static wg_rc create_record_table(wg_store *st, const wg_table *t, wg_err *err)
{
    wg_buf b;
    wg_buf_init(&b, 8192);
    wg_rc rc = wg_buf_printf(&b, err, "CREATE TABLE %s(n INTEGER PRIMARY KEY, "
                             "id TEXT NOT NULL UNIQUE", t->name);
    for (int i = 0; rc == WG_OK && i < t->nfields; i++)
        rc = wg_buf_printf(&b, err, ", %s %s", t->fields[i].name,
                           sql_type(t->fields[i].type));
    if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, ", deleted INTEGER NOT NULL DEFAULT 0, "
                                    "clocks BLOB NOT NULL, "
                                    "chg INTEGER NOT NULL)");
    if (rc == WG_OK)
        rc = wg_buf_cstr(&b, err);
    if (rc == WG_OK)
        rc = wg_store__exec(st, (const char *)b.data, err);
    wg_buf_release(&b);
    return rc;
}

static wg_rc create_indexes(wg_store *st, const wg_table *t, wg_err *err)
{
    char sql[512];
    for (const wg_index *ix = t->indexes; ix && ix->name; ix++) {
        snprintf(sql, sizeof sql, "CREATE INDEX IF NOT EXISTS %s ON %s(%s)",
                 ix->name, t->name, ix->columns);
        wg_rc rc = wg_store__exec(st, sql, err);
        if (rc)
            return rc;
    }
    return WG_OK;
}

/* Node-local indexes for pages of records and for review; not part of the
 * described schema (every node may have them or not; a store made before
 * them gets them when next opened):
 *
 *   <t>_list_<f>  the live records of T in the order `list --sort F` and
 *                 the web page's persons ask for (ORDER BY F IS NULL, F,
 *                 id over deleted = 0), carrying every field a search
 *                 reads: a page at any offset, and a search, walk the
 *                 index alone and read only the rows they show.
 *   <t>_live_<f>  the live values of each unique field F: review finds
 *                 a value held twice from the index alone. */
static const struct { const char *table, *field; } list_sorts[] = {
    { "person", "name" },
    { NULL, NULL },
};

/* The statements that make them, one at a time: 1 and SQL filled while
 * there is one at position I, else 0. */
int wg_store__local_index(int i, char *name, size_t ncap, char *sql,
                          size_t cap)
{
    int k = 0;
    for (int j = 0; list_sorts[j].table; j++, k++) {
        if (k != i)
            continue;
        const wg_table *t = wg_schema_table(list_sorts[j].table);
        const char *f = list_sorts[j].field;
        snprintf(name, ncap, "%s_list_%s", t->name, f);
        size_t n = (size_t)snprintf(sql, cap, "CREATE INDEX IF NOT EXISTS %s "
                                    "ON %s(%s IS NULL, %s, id", name, t->name,
                                    f, f);
        for (int c = 0; c < t->nfields && n < cap; c++) {
            wg_ftype ty = t->fields[c].type;
            if ((ty == WG_FT_TEXT || ty == WG_FT_IDNUM) &&
                strcmp(t->fields[c].name, f))
                n += (size_t)snprintf(sql + n, cap - n, ", %s",
                                      t->fields[c].name);
        }
        if (n < cap)
            snprintf(sql + n, cap - n, ") WHERE deleted = 0");
        return 1;
    }
    const wg_table *t;
    for (int j = 0; (t = wg_schema_all(j)); j++)
        for (int c = 0; c < t->nfields; c++) {
            if (!t->fields[c].unique || k++ != i)
                continue;
            snprintf(name, ncap, "%s_live_%s", t->name, t->fields[c].name);
            snprintf(sql, cap, "CREATE INDEX IF NOT EXISTS %s ON %s(%s) "
                     "WHERE deleted = 0", name, t->name, t->fields[c].name);
            return 1;
        }
    return 0;
}

/* Does the schema hold a TYPE ('table', 'index') named NAME? */
static wg_rc has_object(wg_store *st, const char *type, const char *name,
                        int *yes, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, "SELECT 1 FROM sqlite_master "
                               "WHERE type = ? AND name = ?", "tt", type,
                               name);
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "reading the schema", err);
    *yes = r == SQLITE_ROW;
    return WG_OK;
}

wg_rc wg_store__create_list_indexes(wg_store *st, wg_err *err)
{
    char name[128], sql[1024];
    for (int i = 0;
         wg_store__local_index(i, name, sizeof name, sql, sizeof sql); i++) {
        wg_rc rc = wg_store__exec(st, sql, err);
        if (rc)
            return rc;
    }
    return WG_OK;
}

/* Indexes an earlier release described and this one does not need:
 * person_id_number duplicated person_live_id_number for every query (all
 * of them ask for live records), at the cost of one more index entry per
 * person written. */
static const char *const retired_indexes[] = { "person_id_number", NULL };

wg_rc wg_store__list_indexes(wg_store *st, wg_err *err)
{
    char name[128], sql[1024];
    int todo = 0;   /* an index to drop or to make */
    for (int i = 0; !todo && retired_indexes[i]; i++) {
        int have;
        wg_rc rc = has_object(st, "index", retired_indexes[i], &have, err);
        if (rc)
            return rc;
        todo = have;
    }
    for (int i = 0; !todo && wg_store__local_index(i, name, sizeof name,
                                                   sql, sizeof sql); i++) {
        int have;
        wg_rc rc = has_object(st, "index", name, &have, err);
        if (rc)
            return rc;
        todo = !have;
    }
    if (!todo)
        return WG_OK;
    wg_rc rc = wg_store__begin(st, err);
    if (rc)
        return rc;
    for (int i = 0; rc == WG_OK && retired_indexes[i]; i++) {
        snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %s",
                 retired_indexes[i]);
        rc = wg_store__exec(st, sql, err);
    }
    if (rc || (rc = wg_store__create_list_indexes(st, err))) {
        wg_store__rollback(st);
        return rc;
    }
    return wg_store__commit(st, err);
}

#define UNMERGED_SQL "CREATE TABLE IF NOT EXISTS unmerged(k INTEGER PRIMARY KEY)"

/* Every table but meta (store.c). A feed is numbered by `fid`; its changes
 * are the rows of `change` keyed WG_CHANGE_KEY(fid, seq), appended in order
 * (`seq` is computed from the key, never stored). `body` holds a change's
 * bytes from hlc on, `hash` the hash of all of them (WG_STORE_LAYOUT).
 * `prev` chains the changes of one record, newest first, from the record's
 * `chg`. */
wg_rc wg_store__create_schema(wg_store *st, wg_err *err)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
        "CREATE TABLE origin(oid INTEGER PRIMARY KEY, key BLOB NOT NULL "
        "UNIQUE);"
        "CREATE TABLE feed(fid INTEGER PRIMARY KEY, oid INTEGER NOT NULL, "
        "part TEXT NOT NULL, head INTEGER NOT NULL, head_hash BLOB NOT NULL, "
        "frozen INTEGER NOT NULL DEFAULT 0, UNIQUE(oid, part));"
        "CREATE TABLE change(k INTEGER PRIMARY KEY, "
        "seq INTEGER GENERATED ALWAYS AS (k & %lld) VIRTUAL, "
        "hash BLOB NOT NULL, sig BLOB, body BLOB NOT NULL, prev INTEGER);"
        "CREATE TABLE peer(name TEXT PRIMARY KEY, key BLOB NOT NULL UNIQUE, "
        "endpoint TEXT NOT NULL, last_time INTEGER NOT NULL DEFAULT 0, "
        "last_result TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL "
        "DEFAULT '', last_sent INTEGER NOT NULL DEFAULT 0, "
        "last_received INTEGER NOT NULL DEFAULT 0);"
        UNMERGED_SQL ";" WG_OVERWRITTEN_SQL ";",
        (long long)WG_SEQ_MAX);
    wg_rc rc = wg_store__exec(st, sql, err);
    const wg_table *t;
    for (int i = 0; rc == WG_OK && (t = wg_schema_all(i)); i++)
        if ((rc = create_record_table(st, t, err)) == WG_OK)
            rc = create_indexes(st, t, err);
    if (rc == WG_OK)
        rc = wg_store__create_list_indexes(st, err);
    return rc;
}

/* ---- upgrade in place ---------------------------------------------------- */

/* Add T's fields a store of VERSION lacks, moving each row's clock of
 * `deleted` from after the old fields to after the new ones. */
static wg_rc add_fields(wg_store *st, const wg_table *t, int version,
                        wg_err *err)
{
    int old_nf = wg_schema_nfields_at(t, version), nf = t->nfields;
    char sql[512];
    wg_rc rc = WG_OK;
    for (int i = old_nf; rc == WG_OK && i < nf; i++) {
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", t->name,
                 t->fields[i].name, sql_type(t->fields[i].type));
        rc = wg_store__exec(st, sql, err);
    }
    if (rc || old_nf == nf)
        return rc;
    sqlite3_stmt *get = NULL, *put = NULL;
    snprintf(sql, sizeof sql, "SELECT n, clocks FROM %s", t->name);
    if ((rc = wg_store__prepare(st, sql, &get, err)))
        return rc;
    snprintf(sql, sizeof sql, "UPDATE %s SET clocks = ? WHERE n = ?", t->name);
    if ((rc = wg_store__prepare(st, sql, &put, err))) {
        sqlite3_finalize(get);
        return rc;
    }
    int r;
    while (rc == WG_OK && (r = sqlite3_step(get)) == SQLITE_ROW) {
        wg_clock cl[WG_MAX_FIELDS + 1];
        uint8_t enc[WG_CLOCKS_MAX];
        if ((rc = wg_store__clocks_decode(sqlite3_column_blob(get, 1),
                                          (size_t)sqlite3_column_bytes(get, 1),
                                          old_nf + 1, cl, err)))
            break;
        cl[nf] = cl[old_nf];
        for (int i = old_nf; i < nf; i++)
            cl[i] = (wg_clock){ 0, 0 };
        size_t len = wg_store__clocks_encode(cl, nf + 1, enc);
        rc = wg_store__step(st, put, "moving a record's clocks", err, "bi",
                            enc, (int)len, sqlite3_column_int64(get, 0));
    }
    if (rc == WG_OK && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "upgrading a table", err);
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    return rc;
}

/* The canonical bytes of the change stored under K, into OUT (room for
 * WG_CHANGE_MAX_BYTES); their length through *LEN. */
static wg_rc change_at(wg_store *st, int64_t k, uint8_t *out, size_t *len,
                       wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(
        st, &s, err,
        "SELECT o.key, f.part, c.body, "
        "(SELECT p.hash FROM change p WHERE p.k = c.k - 1 AND c.seq > 1) "
        "FROM change c JOIN feed f ON f.fid = c.k >> 40 "
        "JOIN origin o ON o.oid = f.oid WHERE c.k = ?", "i", k);
    if (rc)
        return rc;
    static const uint8_t zeros[WG_HASH_BYTES];
    int r = sqlite3_step(s);
    *len = 0;
    if (r == SQLITE_ROW && sqlite3_column_bytes(s, 0) == WG_SIGN_PK_BYTES) {
        const uint8_t *prev = sqlite3_column_bytes(s, 3) == WG_HASH_BYTES
                                  ? sqlite3_column_blob(s, 3) : zeros;
        *len = wg_change_rebuild(sqlite3_column_blob(s, 0),
                                 (const char *)sqlite3_column_text(s, 1),
                                 (uint64_t)(k & WG_SEQ_MAX), prev,
                                 sqlite3_column_blob(s, 2),
                                 (size_t)sqlite3_column_bytes(s, 2), out);
    } else if (r != SQLITE_ROW && r != SQLITE_DONE) {
        rc = wg_store__sqlerr(st, r, "reading a kept change", err);
    }
    sqlite3_finalize(s);
    if (rc == WG_OK && *len == 0)
        rc = wg_err_set(err, WG_ERR_CORRUPT, "kept change %lld is missing or "
                        "malformed", (long long)k);
    return rc;
}

wg_rc wg_store__merge_unmerged(wg_store *st, int version, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, "SELECT k FROM unmerged", "");
    if (rc)
        return rc;
    int64_t *keys = NULL;
    size_t n = 0, cap = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap)
            keys = wg_xrealloc(keys, (cap = cap ? cap * 2 : 64) * sizeof *keys);
        keys[n++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading unmerged changes", err);
    uint8_t *buf = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        size_t len;
        wg_change c;
        if ((rc = change_at(st, keys[i], buf, &len, err)) ||
            (rc = wg_change_decode(buf, len, &c, err)))
            break;
        const wg_table *t = wg_schema_by_wire(c.table);
        if (!t)
            continue; /* still from the future: stays listed */
        uint32_t oid;
        int64_t prev;
        /* A table this store did not know at VERSION was never merged:
         * link the change into its record's history now. A known table's
         * change was merged as far as the fields went, and linked then. */
        int linked = t->since <= version;
        if ((rc = wg_store__oid(st, c.origin, &oid, err)) ||
            (rc = wg_store__merge(st, &c, oid, 0, linked ? 0 : keys[i], &prev,
                                  err)))
            break;
        if (!linked && prev)
            rc = wg_store__run(st, "linking a change", err,
                               "UPDATE change SET prev = ? WHERE k = ?", "ii",
                               prev, keys[i]);
        if (rc == WG_OK && wg_change_known(&c))
            rc = wg_store__run(st, "listing unmerged changes", err,
                               "DELETE FROM unmerged WHERE k = ?", "i",
                               keys[i]);
    }
    free(buf);
    free(keys);
    return rc;
}

wg_rc wg_store__upgrade(wg_store *st, int version, wg_err *err)
{
    if (version > WG_SCHEMA_VERSION)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "store has schema version %d, this wings reads up "
                          "to %d: install a newer wings", version,
                          WG_SCHEMA_VERSION);
    if (version < 1)
        return wg_err_set(err, WG_ERR_CORRUPT,
                          "store has schema version %d, which no wings wrote",
                          version);
    int have_unmerged = 0;
    wg_rc rc = has_object(st, "table", "unmerged", &have_unmerged, err);
    if (rc || (version == WG_SCHEMA_VERSION && have_unmerged))
        return rc;
    if ((rc = wg_store__begin(st, err)))
        return rc;
    rc = wg_store__exec(st, UNMERGED_SQL, err);
    if (rc == WG_OK)
        rc = wg_store__exec(st, WG_OVERWRITTEN_SQL, err);
    const wg_table *t;
    for (int i = 0; rc == WG_OK && (t = wg_schema_all(i)); i++) {
        if (t->since > version)
            rc = create_record_table(st, t, err);
        else
            rc = add_fields(st, t, version, err);
        if (rc == WG_OK)
            rc = create_indexes(st, t, err);
    }
    /* Schema 3 counts incomes in fen: the report's aggregates again. */
    if (rc == WG_OK && version < 3 && WG_SCHEMA_VERSION >= 3)
        rc = wg_store__report_recount(st, err);
    if (rc == WG_OK && version < WG_SCHEMA_VERSION)
        rc = wg_store__merge_unmerged(st, version, err);
    if (rc == WG_OK) {
        char v[16];
        snprintf(v, sizeof v, "%d", WG_SCHEMA_VERSION);
        rc = wg_store__run(st, "recording the schema version", err,
                           "INSERT OR REPLACE INTO meta(k, v) "
                           "VALUES('schema_version', ?)", "t", v);
    }
    if (rc == WG_OK) {
        rc = wg_store__commit(st, err);
        if (rc == WG_OK && version < WG_SCHEMA_VERSION)
            wg_store__logf(st, WG_LOG_INFO, "store upgraded from schema "
                           "version %d to %d", version, WG_SCHEMA_VERSION);
    } else {
        wg_store__rollback(st);
    }
    return rc;
}
