/*
 * area.c - the names of administrative areas (code -> name)
 *
 * An HQ names the areas inside its scope; reports and charts show the
 * names. The table is local to each node for now: it is not yet one of the
 * replicated tables, so names reach other nodes only when they are set
 * there too (see docs/ARCHITECTURE.md).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#include "wg_validate.h"

static int is_code(const char *code)
{
    if (strlen(code) != WG_COUNTY_CHARS)
        return 0;
    for (int i = 0; i < WG_COUNTY_CHARS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

wg_rc wg_store_area_set(wg_store *st, const char *code, const char *name,
                        wg_err *err)
{
    static const wg_field name_field = { .name = "name", .type = WG_FT_TEXT,
                                         .max_len = WG_AREA_NAME_MAX };
    if (!is_code(code))
        return wg_err_set(err, WG_ERR_INVALID, "area code '%.16s': must be "
                          "6 digits", code);
    if (!name[0])
        return wg_err_set(err, WG_ERR_INVALID, "area %s: the name is empty",
                          code);
    wg_rc rc = wg_validate_value(&name_field, name, NULL, 0, err);
    if (rc)
        return rc;
    if (st->info.role != WG_ROLE_HQ)
        return wg_err_set(err, WG_ERR_INVALID, "area names are kept by an "
                          "HQ; this node is an office");
    if (!wg_scope_contains(&st->info, code))
        return wg_err_set(err, WG_ERR_INVALID, "area %s is outside this "
                          "node's scope (%s)", code, st->info.county);
    sqlite3_stmt *s;
    if ((rc = wg_store__prepare(st, "INSERT OR REPLACE INTO area(code, name) "
                                    "VALUES(?, ?)", &s, err)))
        return rc;
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "naming an area", err);
    return WG_OK;
}

wg_rc wg_store_area_get(wg_store *st, const char *code, char *out,
                        wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT name FROM area WHERE code = ?",
                                 &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        snprintf(out, WG_AREA_NAME_MAX + 1, "%s",
                 (const char *)sqlite3_column_text(s, 0));
    else if (r == SQLITE_DONE)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "no name for area %s", code);
    else
        rc = wg_store__sqlerr(st, r, "reading area names", err);
    sqlite3_finalize(s);
    return rc;
}

wg_rc wg_store_areas(wg_store *st, wg_area_fn fn, void *ctx, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT code, name FROM area "
                                     "ORDER BY code", &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(ctx, (const char *)sqlite3_column_text(s, 0),
               (const char *)sqlite3_column_text(s, 1)))
            break;
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading area names", err);
    sqlite3_finalize(s);
    return rc;
}
