/*
 * area.c - the names of administrative areas (code -> name)
 *
 * A replicated table (schema.c, "area"): one record per code, partitioned
 * by the code itself, so the names an HQ sets reach every node whose scope
 * holds the area. The record id is the hash of the code, the same on every
 * node: two HQs naming one area write one record, and the later name wins
 * by the usual per-field merge. Writes go through the local write cycle
 * like any record (validated, signed, in this node's feed).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#define AREA_ID_DOMAIN "wings area name "

static const wg_table *area_table(void)
{
    for (int i = 0; wg_schema_all(i); i++)
        if (!strcmp(wg_schema_all(i)->name, "area"))
            return wg_schema_all(i);
    return NULL;
}

/* The record id of area CODE: the first 16 bytes of the hash of the domain
 * and the code, in hex. */
static void area_id(const char *code, char out[WG_ID_HEX_CHARS + 1])
{
    char in[64];
    uint8_t h[WG_HASH_BYTES];
    int n = snprintf(in, sizeof in, "%s%s", AREA_ID_DOMAIN, code);
    wg_hash(h, in, (size_t)n);
    wg_hex_encode(out, h, WG_ID_HEX_CHARS / 2);
}

wg_rc wg_store_area_set(wg_store *st, const char *code, const char *name,
                        wg_err *err)
{
    const wg_table *t = area_table();
    if (!t)
        return wg_err_set(err, WG_ERR_INTERNAL, "this build has no area "
                          "table");
    size_t len = strlen(code);
    int digits = len == WG_COUNTY_CHARS;
    for (size_t i = 0; digits && i < len; i++)
        digits = code[i] >= '0' && code[i] <= '9';
    if (!digits)
        return wg_err_set(err, WG_ERR_INVALID, "area code '%.16s': must be "
                          "6 digits", code);
    if (st->info.role != WG_ROLE_HQ)
        return wg_err_set(err, WG_ERR_INVALID, "area names are kept by an "
                          "HQ; this node is an office");
    char id[WG_ID_HEX_CHARS + 1];
    area_id(code, id);
    const char *names[] = { "county", "name" };
    const char *values[] = { code, name };
    wg_record old;
    wg_err gerr = { 0 };
    wg_rc got = wg_store_get(st, t, id, &old, &gerr);
    if (got == WG_ERR_NOTFOUND) {
        const char *an[] = { "id", "county", "name" };
        const char *av[] = { id, code, name };
        return wg_store_add(st, t, an, av, 3, NULL, err);
    }
    if (got)
        return wg_err_set(err, gerr.code, "%s", gerr.msg);
    int same = !old.deleted && old.values[1] && !strcmp(old.values[1], name);
    int deleted = old.deleted;
    wg_record_release(&old);
    if (same)
        return WG_OK;
    if (deleted)
        return wg_err_set(err, WG_ERR_INVALID, "area %s: its name was "
                          "deleted", code);
    return wg_store_update(st, t, id, names + 1, values + 1, 1, err);
}

wg_rc wg_store_area_get(wg_store *st, const char *code, char *out,
                        wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT name FROM area WHERE county = ? "
                                     "AND deleted = 0", &s, err);
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
    /* One record per code unless two ids claim it (a peer that derived
     * ids otherwise): the smallest id's name then, the same everywhere. */
    wg_rc rc = wg_store__prepare(st, "SELECT county, name, min(id) FROM area "
                                     "WHERE deleted = 0 AND name IS NOT NULL "
                                     "GROUP BY county ORDER BY county",
                                 &s, err);
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
