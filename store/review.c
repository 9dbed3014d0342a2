/*
 * review.c - what needs a person's eye: records held twice, and merging them
 *
 * A unique field (a person's id_number) is unique among what a node typed
 * and imported (records.c refuses a second one), but two offices can
 * register one person before they sync: both records are valid, signed and
 * replicated, and every node that holds both lists them here until a
 * clerk merges them. Merging is ordinary local writes in one transaction:
 * each record that references the duplicate is updated to reference the
 * record kept, then the duplicate is deleted, so history keeps both and
 * every node converges on the same result by the same merge rule.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUP_IDS_MAX 64   /* ids listed per duplicated value */

wg_rc wg_store_duplicates(wg_store *st, const wg_table *t, wg_dup_fn fn,
                          void *ctx, wg_err *err)
{
    wg_rc rc = WG_OK;
    for (int f = 0; rc == WG_OK && f < t->nfields; f++) {
        if (!t->fields[f].unique)
            continue;
        const char *name = t->fields[f].name;
        char sql[512];
        /* The ids of each value held by two or more live records, in id
         * order, each group once. */
        snprintf(sql, sizeof sql,
                 "SELECT d.v, r.id FROM (SELECT %s AS v FROM %s WHERE "
                 "deleted = 0 AND %s IS NOT NULL GROUP BY %s HAVING "
                 "count(*) > 1) d JOIN %s r ON r.%s = d.v AND r.deleted = 0 "
                 "ORDER BY d.v, r.id", name, t->name, name, name, t->name,
                 name);
        sqlite3_stmt *s;
        if ((rc = wg_store__query(st, &s, err, sql, "")))
            return rc;
        char value[WG_FIELD_MAX_BYTES + 1] = "";
        char ids[DUP_IDS_MAX][WG_ID_HEX_CHARS + 1];
        const char *idp[DUP_IDS_MAX];
        int n = 0, r, stop = 0;
        while (!stop && (r = sqlite3_step(s)) == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(s, 0);
            if (n && strcmp(v, value)) {
                stop = fn(ctx, t, name, value, idp, n);
                n = 0;
            }
            snprintf(value, sizeof value, "%s", v);
            if (n < DUP_IDS_MAX) {
                snprintf(ids[n], sizeof ids[n], "%s",
                         (const char *)sqlite3_column_text(s, 1));
                idp[n] = ids[n];
                n++;
            }
        }
        if (!stop && r != SQLITE_ROW && r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "listing duplicates", err);
        else if (!stop && n)
            stop = fn(ctx, t, name, value, idp, n);
        sqlite3_finalize(s);
        if (stop)
            break;
    }
    return rc;
}

/* The ids of live records of R whose field F references ID. Caller frees
 * *OUT (an array of *N ids). */
static wg_rc referencing(wg_store *st, const wg_table *r, int f,
                         const char *id, char (**out)[WG_ID_HEX_CHARS + 1],
                         int *n, wg_err *err)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE %s = ? AND "
             "deleted = 0 ORDER BY id", r->name, r->fields[f].name);
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, sql, "t", id);
    if (rc)
        return rc;
    int cap = 0, res;
    *out = NULL;
    *n = 0;
    while ((res = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap)
            *out = wg_xrealloc(*out, (size_t)(cap = cap ? cap * 2 : 16) *
                                         sizeof **out);
        snprintf((*out)[(*n)++], WG_ID_HEX_CHARS + 1, "%s",
                 (const char *)sqlite3_column_text(s, 0));
    }
    if (res != SQLITE_DONE)
        rc = wg_store__sqlerr(st, res, "finding references", err);
    sqlite3_finalize(s);
    return rc;
}

wg_rc wg_store_merge_records(wg_store *st, const wg_table *t,
                             const char *keep, const char *dup, int *moved,
                             wg_err *err)
{
    *moved = 0;
    if (!strcmp(keep, dup))
        return wg_err_set(err, WG_ERR_INVALID, "a %s cannot be merged into "
                          "itself", t->name);
    wg_record k, d;
    wg_rc rc = wg_store_get(st, t, keep, &k, err);
    if (rc)
        return rc;
    rc = wg_store_get(st, t, dup, &d, err);
    if (rc) {
        wg_record_release(&k);
        return rc;
    }
    if (k.deleted || d.deleted)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "%s %s is deleted", t->name,
                        k.deleted ? keep : dup);
    wg_record_release(&k);
    wg_record_release(&d);
    if (rc)
        return rc;
    if ((rc = wg_store_begin(st, err)))
        return rc;
    const wg_table *r;
    for (int i = 0; rc == WG_OK && (r = wg_schema_table_at(i)); i++)
        for (int f = 0; rc == WG_OK && f < r->nfields; f++) {
            if (r->fields[f].role != WG_FR_REF ||
                strcmp(r->fields[f].ref, t->name))
                continue;
            char (*ids)[WG_ID_HEX_CHARS + 1];
            int n;
            if ((rc = referencing(st, r, f, dup, &ids, &n, err)))
                break;
            const char *names[1] = { r->fields[f].name };
            const char *values[1] = { keep };
            for (int j = 0; rc == WG_OK && j < n; j++)
                if ((rc = wg_store_update(st, r, ids[j], names, values, 1,
                                          err)) == WG_OK)
                    (*moved)++;
            free(ids);
        }
    if (rc == WG_OK)
        rc = wg_store_delete(st, t, dup, err);
    if (rc == WG_OK)
        return wg_store_commit(st, err);
    wg_store_rollback(st);
    *moved = 0;
    return rc;
}
