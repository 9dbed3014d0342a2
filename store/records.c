/*
 * records.c - local writes and reads of the record tables
 *
 * A local write validates the fields (validate.c), builds a change, and
 * hands it to the write cycle (txn.c: feed, merge, sign). Reads go straight
 * to the merged tables; history walks a record's changes (merge.c keeps the
 * chain).
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg_validate.h"

/* ---- local writes ------------------------------------------------------------ */

int wg_scope_contains(const wg_node_info *info, const char *county)
{
    return wg_ident_area_contains(info->county, info->role, county);
}

void wg_record_release(wg_record *r)
{
    for (int i = 0; i < WG_MAX_FIELDS; i++) {
        free(r->values[i]);
        r->values[i] = NULL;
    }
}

static void fill_record(sqlite3_stmt *s, const wg_table *t, wg_record *r)
{
    memset(r, 0, sizeof *r);
    r->table = t;
    snprintf(r->id, sizeof r->id, "%s", (const char *)sqlite3_column_text(s, 0));
    for (int i = 0; i < t->nfields; i++)
        if (sqlite3_column_type(s, i + 1) != SQLITE_NULL)
            r->values[i] = wg_xstrdup((const char *)sqlite3_column_text(s, i + 1));
    r->deleted = sqlite3_column_int(s, t->nfields + 1);
}

wg_rc wg_store_get(wg_store *st, const wg_table *t, const char *id,
                   wg_record *r, wg_err *err)
{
    sqlite3_stmt *s;
        if (!wg_validate_record_id(id))
        return wg_err_set(err, WG_ERR_NOTFOUND,
                          "no %s with id '%.40s' (an id is 32 hex digits)",
                          t->name, id);
    wg_rc rc = wg_store__row_stmt(st, t->wire, ROW_GET, &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    int res = sqlite3_step(s);
    if (res == SQLITE_ROW)
        fill_record(s, t, r);
    else if (res == SQLITE_DONE)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "no %s with id %s", t->name, id);
    else
        rc = wg_store__sqlerr(st, res, "reading a record", err);
    sqlite3_reset(s);
    return rc;
}

/* An amount typed in yuan (monthly_income=2800.50) is kept exactly in its
 * fen field and as whole yuan in its own, so a schema-2 node, which knows
 * only the yuan, still shows a value; a fen value given alone sets the
 * yuan too; both given must agree (whole yuan with the fen's whole yuan,
 * as an export writes them); clearing the yuan clears both. */
static wg_rc gather_fen(const wg_table *t, const char *const *names,
                        const char *const *values, int n, char **vals,
                        int *given, wg_err *err)
{
    for (int y = 0; y < t->nfields; y++) {
        int fi = wg_schema_fen_of(t, y);
        if (fi < 0 || (!given[y] && !given[fi]))
            continue;
        const char *raw = NULL;
        for (int i = 0; i < n; i++)
            if (!strcmp(names[i], t->fields[y].name))
                raw = values[i];
        char v[32];
        int64_t fen;
        if (given[y] && !vals[y]) {            /* cleared */
            if (given[fi] && vals[fi])
                return wg_err_set(err, WG_ERR_INVALID, "%s: cleared while "
                                  "%s is given", t->fields[y].name,
                                  t->fields[fi].name);
            given[fi] = 1;
            continue;
        }
        if (given[y]) {
            wg_rc rc = wg_validate_yuan(&t->fields[y], raw, &fen, err);
            if (rc)
                return rc;
            snprintf(v, sizeof v, "%lld", (long long)fen);
            /* both given (an export's two columns): whole yuan agree with
             * the fen's whole yuan, an amount with decimals to the fen */
            int agree = given[fi] && vals[fi] &&
                        (strchr(raw, '.')
                             ? !strcmp(vals[fi], v)
                             : strtoll(vals[fi], NULL, 10) / 100 == fen / 100);
            if (given[fi] && !agree)
                return wg_err_set(err, WG_ERR_INVALID, "%s: %s and %s %s "
                                  "disagree: give one of them",
                                  t->fields[y].name, raw, t->fields[fi].name,
                                  vals[fi] ? vals[fi] : "(empty)");
            if (!given[fi])
                vals[fi] = wg_xstrdup(v);
            given[fi] = 1;
        } else if (vals[fi]) {                 /* fen alone: the yuan too */
            snprintf(v, sizeof v, "%lld", strtoll(vals[fi], NULL, 10) / 100);
            wg_err verr;
            if (wg_validate_value(&t->fields[y], v, NULL, 0, &verr) != WG_OK)
                return wg_err_set(err, WG_ERR_INVALID, "%s: %s is out of "
                                  "range", t->fields[fi].name, vals[fi]);
            vals[y] = wg_xstrdup(v);
            given[y] = 1;
        } else {                               /* fen cleared: both */
            given[y] = 1;
        }
    }
    return WG_OK;
}

/* Canonicalise a (name, value) list into VALS (indexed by field), checking
 * names. Returns the index of "id" in NAMES or -1 through *ID_AT. */
static wg_rc gather(const wg_table *t, const char *const *names,
                    const char *const *values, int n, char **vals,
                    int *given, int *id_at, wg_err *err)
{
    if (id_at)
        *id_at = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], "id")) {
            if (!id_at)
                return wg_err_set(err, WG_ERR_INVALID, "id: cannot be changed");
            if (*id_at >= 0)
                return wg_err_set(err, WG_ERR_INVALID, "id: given twice");
            *id_at = i;
            continue;
        }
        int f = wg_schema_field_index(t, names[i]);
        if (!wg_schema_shown(t, f))   /* meta fields are the machinery's */
            return wg_err_set(err, WG_ERR_INVALID,
                              "%.64s: no such field in %s", names[i], t->name);
        if (given[f])
            return wg_err_set(err, WG_ERR_INVALID, "%s: given twice",
                              names[i]);
        given[f] = 1;
        if (!values[i][0]) {
            vals[f] = NULL; /* empty: absent / cleared */
            continue;
        }
        char buf[WG_FIELD_MAX_BYTES + 1];
        if (strlen(values[i]) > WG_FIELD_MAX_BYTES)
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: longer than %d bytes", names[i],
                              WG_FIELD_MAX_BYTES);
        wg_rc rc = wg_validate_value(&t->fields[f], values[i], buf, sizeof buf,
                                     err);
        if (rc)
            return rc;
        vals[f] = wg_xstrdup(buf);
    }
    return gather_fen(t, names, values, n, vals, given, err);
}

static void free_vals(char **vals)
{
    for (int i = 0; i < WG_MAX_FIELDS; i++) {
        free(vals[i]);
        vals[i] = NULL;
    }
}

static wg_rc check_person(wg_store *st, const char *person_id, wg_err *err)
{
    wg_record p;
    wg_rc rc = wg_store_get(st, wg_schema_table("person"), person_id, &p,
                            NULL);
    if (rc == WG_ERR_NOTFOUND || (rc == WG_OK && p.deleted)) {
        if (rc == WG_OK)
            wg_record_release(&p);
        return wg_err_set(err, WG_ERR_INVALID,
                          "person_id: no person with id %s", person_id);
    }
    if (rc)
        return wg_err_set(err, rc, "person_id: cannot look up %s", person_id);
    wg_record_release(&p);
    return WG_OK;
}

/* Everything a full record must satisfy before it is written locally. */
/* What a record must satisfy beyond its own values before it is written
 * locally: its county in scope, the person it names present. */
wg_rc wg_store_find_unique(wg_store *st, const wg_table *t, int f,
                           const char *value, const char *except,
                           char id_out[WG_ID_HEX_CHARS + 1], wg_err *err)
{
    /* Import asks this twice a row (to find the record a row names, then
     * to refuse a second holder): the statement is kept, not re-parsed,
     * and a value just found to have no holder is not looked up again
     * before a row is written. */
    int plain = !except || !except[0];
    if (plain && st->miss_ok && st->miss_tno == t->wire && st->miss_f == f &&
        !strcmp(st->miss_val, value))
        return WG_ERR_NOTFOUND;
    sqlite3_stmt *once = NULL, **slot = &once;
    wg_rc rc = WG_OK;
    /* A bulk load has the index dropped: memory answers (bulk.c). */
    if (wg_store__bulk_find(st, t, f, value, except, id_out, &rc))
        goto found;
    if (t->wire <= WG_TABLE_WIRE_MAX &&
        (!st->s_uniq[t->wire] || st->s_uniq_f[t->wire] == f)) {
        slot = &st->s_uniq[t->wire];
        st->s_uniq_f[t->wire] = f;
    }
    if (*slot) {
        sqlite3_reset(*slot);
    } else {
        char sql[256];
        /* min(id), not ORDER BY id LIMIT 1: the same answer without a
         * temporary b-tree built for every lookup. */
        snprintf(sql, sizeof sql, "SELECT min(id) FROM %s WHERE %s = ? AND "
                 "deleted = 0 AND id != ?", t->name, t->fields[f].name);
        rc = wg_store__prepare(st, sql, slot, err);
    }
    if (rc)
        return rc;
    sqlite3_stmt *s = *slot;
    int r = sqlite3_bind_text(s, 1, value, -1, SQLITE_TRANSIENT);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(s, 2, except ? except : "", -1,
                              SQLITE_TRANSIENT);
    if (r == SQLITE_OK)
        r = sqlite3_step(s);
    if (r == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        snprintf(id_out, WG_ID_HEX_CHARS + 1, "%s",
                 (const char *)sqlite3_column_text(s, 0));
    else if (r == SQLITE_ROW || r == SQLITE_DONE)
        rc = WG_ERR_NOTFOUND;
    else
        rc = wg_store__sqlerr(st, r, "looking up a value", err);
    sqlite3_reset(s);
found:
    st->miss_ok = rc == WG_ERR_NOTFOUND && plain &&
                  strlen(value) < sizeof st->miss_val;
    if (st->miss_ok) {
        st->miss_tno = t->wire;
        st->miss_f = f;
        strcpy(st->miss_val, value);
    }
    if (once)
        sqlite3_finalize(once);
    return rc;
}

/* A typed or imported record whose unique field (a person's id_number)
 * another live record of this node already holds is refused, naming that
 * record. EXCEPT: the record being updated. */
static wg_rc check_unique(wg_store *st, const wg_table *t,
                          const char *const *vals, const char *except,
                          wg_err *err)
{
    for (int f = 0; f < t->nfields; f++) {
        if (!t->fields[f].unique || !vals[f])
            continue;
        char other[WG_ID_HEX_CHARS + 1];
        wg_rc rc = wg_store_find_unique(st, t, f, vals[f], except, other,
                                        err);
        if (rc == WG_OK)
            return wg_err_set(err, WG_ERR_INVALID,
                              "%s: %s is already registered here as %s %s",
                              t->fields[f].name, vals[f], t->name, other);
        if (rc != WG_ERR_NOTFOUND)
            return rc;
    }
    return WG_OK;
}

static wg_rc check_place(wg_store *st, const wg_table *t,
                         const char *const *vals, wg_err *err)
{
    int c = wg_schema_field_index(t, "county");
    if (!wg_scope_contains(&st->info, vals[c]))
        return wg_err_set(err, WG_ERR_INVALID,
                          "county: %s is outside this node's scope (%s %s)",
                          vals[c], st->info.role == WG_ROLE_HQ ? "hq" : "office",
                          st->info.county);
    if (!wg_store__own_scope_ok(st, vals[c], err))
        return WG_ERR_INVALID;
    int p = wg_schema_field_index(t, "person_id");
    if (p >= 0 && vals[p])
        return check_person(st, vals[p], err);
    return WG_OK;
}

/* Everything a full record must satisfy before it is written locally. */
static wg_rc check_record(wg_store *st, const wg_table *t, char **vals,
                          wg_err *err)
{
    wg_rc rc = wg_validate_record(t, (const char *const *)vals, err);
    if (rc)
        return rc;
    return check_place(st, t, (const char *const *)vals, err);
}

static void set_field(wg_change *c, const wg_table *t, int f, const char *v)
{
    wg_change_field *cf = &c->fields[c->nfields++];
    cf->index = (uint8_t)f;
    if (!v) {
        cf->type = WG_VAL_NULL;
    } else if (t->fields[f].type == WG_FT_INT ||
               t->fields[f].type == WG_FT_BOOL) {
        cf->type = WG_VAL_INT;
        cf->i = strtoll(v, NULL, 10);
    } else {
        cf->type = WG_VAL_TEXT;
        cf->text = v;
        cf->len = (uint16_t)strlen(v);
    }
}

static void change_init(wg_change *c, const wg_table *t,
                        const uint8_t rowid[WG_ROWID_BYTES],
                        const char *county)
{
    memset(c, 0, sizeof *c);
    c->table = t->wire;
    memcpy(c->rowid, rowid, WG_ROWID_BYTES);
    snprintf(c->partition, sizeof c->partition, "%s", county);
}

/* The common case of wg_store_add(), checked once: names that are fields,
 * each at most once, no id twice, values within bounds, and the whole
 * record valid as given (so every value is already canonical). 0 sends the
 * caller down the general path, which also finds and words any problem. */
static int gather_clean(wg_store *st, const wg_table *t,
                        const char *const *names, const char *const *values,
                        int n, const char **vals, int *id_at)
{
    uint32_t given = 0;
    *id_at = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], "id")) {
            if (*id_at >= 0)
                return 0;
            *id_at = i;
            continue;
        }
        int f = wg_schema_field_index(t, names[i]);
        if (!wg_schema_shown(t, f) || (given & (1u << f)) ||
            t->fields[f].fen || wg_schema_is_fen(t, f) ||
            strlen(values[i]) > WG_FIELD_MAX_BYTES)
            return 0;
        given |= 1u << f;
        vals[f] = values[i][0] ? values[i] : NULL;
    }
    int c = wg_schema_field_index(t, "county");
    if (!vals[c])
        vals[c] = st->info.county;
    return wg_validate_record(t, vals, NULL) == WG_OK;
}

wg_rc wg_store_add(wg_store *st, const wg_table *t, const char *const *names,
                   const char *const *values, int n, char *id_out,
                   wg_err *err)
{
    char *own[WG_MAX_FIELDS] = { 0 };
    const char *vals[WG_MAX_FIELDS] = { 0 };
    int given[WG_MAX_FIELDS] = { 0 }, id_at = -1;
    char id[WG_ID_HEX_CHARS + 1];
    uint8_t rowid[WG_ROWID_BYTES];
    int c = wg_schema_field_index(t, "county");
    wg_rc rc = wg_store__txn_alive(st, err);
    if (rc)
        return rc;
    if (!gather_clean(st, t, names, values, n, vals, &id_at)) {
        /* Canonicalise value by value, then check the whole record. */
        if ((rc = gather(t, names, values, n, own, given, &id_at, err)))
            goto out;
        if (!own[c])
            own[c] = wg_xstrdup(st->info.county);
        if ((rc = wg_validate_record(t, (const char *const *)own, err)))
            goto out;
        memcpy(vals, own, sizeof vals);
    }
    if ((rc = check_place(st, t, vals, err)) ||
        (rc = check_unique(st, t, vals, NULL, err)))
        goto out;
    if (id_at >= 0) {
        if (!wg_validate_record_id(values[id_at])) {
            rc = wg_err_set(err, WG_ERR_INVALID,
                            "id: '%.40s' is not 32 lower-case hex digits",
                            values[id_at]);
            goto out;
        }
        snprintf(id, sizeof id, "%s", values[id_at]);
        wg_record old;
        wg_err gerr = { 0 };
        wg_rc got = wg_store_get(st, t, id, &old, &gerr);
        if (got == WG_OK) {
            wg_record_release(&old);
            rc = wg_err_set(err, WG_ERR_INVALID,
                            "id: a %s with id %s already exists", t->name, id);
            goto out;
        }
        /* Only "no such record" means the id is free: a read error is
         * that error (SQLite has rolled the transaction back after it). */
        if (got != WG_ERR_NOTFOUND) {
            rc = got;
            if (err)
                *err = gerr;
            goto out;
        }
        wg_hex_decode(rowid, sizeof rowid, id, NULL);
    } else {
        wg_store__new_rowid(st, rowid);
        wg_hex_encode(id, rowid, sizeof rowid);
    }
    wg_change ch;
    change_init(&ch, t, rowid, vals[c]);
    for (int f = 0; f < t->nfields; f++)
        if (vals[f])
            set_field(&ch, t, f, vals[f]);
    wg_store__stamp(st, t, &ch);
    /* The id is new: drawn at random, or looked up just above. */
    if ((rc = wg_store__local_change(st, &ch,
                                     id_at >= 0 ? 1 : WG_FRESH_NEW_ID, err)))
        goto out;
    if (id_out)
        memcpy(id_out, id, sizeof id);
out:
    free_vals(own);
    return rc;
}

/* The live record ID, or WG_ERR_NOTFOUND. */
static wg_rc get_live(wg_store *st, const wg_table *t, const char *id,
                      wg_record *r, wg_err *err)
{
    wg_rc rc = wg_store_get(st, t, id, r, err);
    if (rc == WG_OK && r->deleted) {
        wg_record_release(r);
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "%s %s is deleted", t->name, id);
    }
    return rc;
}

wg_rc wg_store_update(wg_store *st, const wg_table *t, const char *id,
                      const char *const *names, const char *const *values,
                      int n, wg_err *err)
{
    char *vals[WG_MAX_FIELDS] = { 0 };
    int given[WG_MAX_FIELDS] = { 0 };
    wg_record cur;
    wg_rc rc = wg_store__txn_alive(st, err);
    if (rc == WG_OK)
        rc = get_live(st, t, id, &cur, err);
    if (rc)
        return rc;
    if ((rc = gather(t, names, values, n, vals, given, NULL, err)))
        goto out;
    int c = wg_schema_field_index(t, "county");
    if (!wg_scope_contains(&st->info, cur.values[c])) {
        rc = wg_err_set(err, WG_ERR_INVALID,
                        "county: %s is outside this node's scope",
                        cur.values[c]);
        goto out;
    }
    if (!wg_store__own_scope_ok(st, cur.values[c], err)) {
        rc = WG_ERR_INVALID;
        goto out;
    }
    if (given[c] && (!vals[c] || strcmp(vals[c], cur.values[c]))) {
        rc = wg_err_set(err, WG_ERR_INVALID,
                        "county: a record cannot move to another county; "
                        "delete it and add it there");
        goto out;
    }
    /* Validate the record as it would be after the update. */
    char *merged[WG_MAX_FIELDS] = { 0 };
    for (int f = 0; f < t->nfields; f++)
        merged[f] = given[f] ? vals[f] : cur.values[f];
    /* A held id number first: it says more than a birth date that the
     * new id number no longer matches. */
    if ((rc = check_unique(st, t, (const char *const *)merged, id, err)) ||
        (rc = check_record(st, t, merged, err)))
        goto out;
    wg_change ch;
    uint8_t rowid[WG_ROWID_BYTES];
    wg_hex_decode(rowid, sizeof rowid, id, NULL);
    change_init(&ch, t, rowid, cur.values[c]);
    for (int f = 0; f < t->nfields; f++)
        if (given[f])
            set_field(&ch, t, f, vals[f]);
    if (ch.nfields == 0) {
        rc = wg_err_set(err, WG_ERR_INVALID, "nothing to update");
        goto out;
    }
    /* What each written field replaced: merge elsewhere tells a
     * concurrent edit from a later one by it (overwritten.c). */
    char base[WG_FIELD_MAX_BYTES + 1];
    int bf = wg_schema_meta(t, "base_clocks");
    if (bf >= 0) {
        if ((rc = wg_store__base_clocks(st, t, id, given, base, sizeof base,
                                        err)))
            goto out;
        if (base[0])
            set_field(&ch, t, bf, base);
    }
    wg_store__stamp(st, t, &ch);
    rc = wg_store__local_change(st, &ch, 0, err);
out:
    free_vals(vals);
    wg_record_release(&cur);
    return rc;
}

wg_rc wg_store_delete(wg_store *st, const wg_table *t, const char *id,
                      wg_err *err)
{
    wg_record cur;
    wg_rc rc = wg_store__txn_alive(st, err);
    if (rc == WG_OK)
        rc = get_live(st, t, id, &cur, err);
    if (rc)
        return rc;
    int c = wg_schema_field_index(t, "county");
    if (!wg_scope_contains(&st->info, cur.values[c])) {
        rc = wg_err_set(err, WG_ERR_INVALID,
                        "county: %s is outside this node's scope",
                        cur.values[c]);
    } else if (!wg_store__own_scope_ok(st, cur.values[c], err)) {
        rc = WG_ERR_INVALID;
    } else {
        wg_change ch;
        uint8_t rowid[WG_ROWID_BYTES];
        wg_hex_decode(rowid, sizeof rowid, id, NULL);
        change_init(&ch, t, rowid, cur.values[c]);
        wg_change_field *f = &ch.fields[ch.nfields++];
        f->index = WG_FIELD_DELETED;
        f->type = WG_VAL_INT;
        f->i = 1;
        wg_store__stamp(st, t, &ch);
        rc = wg_store__local_change(st, &ch, 0, err);
    }
    wg_record_release(&cur);
    return rc;
}

wg_rc wg_store_undelete(wg_store *st, const wg_table *t, const char *id,
                        wg_err *err)
{
    wg_record cur;
    wg_rc rc = wg_store__txn_alive(st, err);
    if (rc == WG_OK)
        rc = wg_store_get(st, t, id, &cur, err);
    if (rc)
        return rc;
    int c = wg_schema_partition(t);
    if (!cur.deleted) {
        rc = wg_err_set(err, WG_ERR_INVALID, "%s %s is not deleted", t->name,
                        id);
    } else if (!wg_scope_contains(&st->info, cur.values[c])) {
        rc = wg_err_set(err, WG_ERR_INVALID,
                        "county: %s is outside this node's scope",
                        cur.values[c]);
    } else if (!wg_store__own_scope_ok(st, cur.values[c], err)) {
        rc = WG_ERR_INVALID;
    } else {
        /* A live record now holding its unique value (registered again
         * after the delete) would make two. */
        rc = check_unique(st, t, (const char *const *)cur.values, id, err);
    }
    if (rc == WG_OK) {
        wg_change ch;
        uint8_t rowid[WG_ROWID_BYTES];
        wg_hex_decode(rowid, sizeof rowid, id, NULL);
        change_init(&ch, t, rowid, cur.values[c]);
        wg_change_field *f = &ch.fields[ch.nfields++];
        f->index = WG_FIELD_DELETED;
        f->type = WG_VAL_INT;
        f->i = 0;
        wg_store__stamp(st, t, &ch);
        rc = wg_store__local_change(st, &ch, 0, err);
    }
    wg_record_release(&cur);
    return rc;
}

/* ---- reads ------------------------------------------------------------------ */

size_t wg_store__chain_bytes(sqlite3_stmt *at, int64_t k, uint8_t *buf)
{
    /* The row's bytes after the prefix its key and feed give (the change
     * before it in the feed gives prev; zeros at seq 1, or when it is
     * missing: history does not hash). */
    static const uint8_t zeros[WG_HASH_BYTES];
    if (sqlite3_column_bytes(at, 3) != WG_SIGN_PK_BYTES)
        return 0;
    return wg_change_rebuild(
        sqlite3_column_blob(at, 3), (const char *)sqlite3_column_text(at, 4),
        (uint64_t)(k & WG_SEQ_MAX),
        sqlite3_column_bytes(at, 2) == WG_HASH_BYTES
            ? sqlite3_column_blob(at, 2) : zeros,
        sqlite3_column_blob(at, 1), (size_t)sqlite3_column_bytes(at, 1), buf);
}

/* SEARCH as a LIKE pattern matching it anywhere, with % _ and \ taken
 * literally. Caller frees. */
static char *like_pattern(const char *search)
{
    size_t n = strlen(search);
    char *p = wg_xmalloc(2 * n + 3), *q = p;
    *q++ = '%';
    for (const char *c = search; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            *q++ = '\\';
        *q++ = *c;
    }
    *q++ = '%';
    *q = 0;
    return p;
}

wg_rc wg_store_list_opts(wg_store *st, const wg_table *t,
                         const wg_list_opts *o, wg_record_fn fn, void *ctx,
                         wg_err *err)
{
    char *vals[WG_MAX_FIELDS] = { 0 };
    int given[WG_MAX_FIELDS] = { 0 }, id_at, sort = -1;
    char *like = NULL;
    wg_buf b;
    wg_buf_init(&b, 16384);
    sqlite3_stmt *s = NULL;
    wg_rc rc = gather(t, o->names, o->values, o->n, vals, given, &id_at, err);
    if (rc == WG_OK && id_at >= 0)
        rc = wg_err_set(err, WG_ERR_INVALID, "id: use 'wings get' for one id");
    if (rc == WG_OK && o->sort && *o->sort &&
        (sort = wg_schema_field_index(t, o->sort)) < 0 &&
        strcmp(o->sort, "id"))
        rc = wg_err_set(err, WG_ERR_INVALID, "sort: %s has no field '%.64s'",
                        t->name, o->sort);
    if (rc == WG_OK && o->limit < 0)
        rc = wg_err_set(err, WG_ERR_INVALID, "limit: must not be negative");
    if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, "SELECT id");
    for (int i = 0; rc == WG_OK && i < t->nfields; i++)
        rc = wg_buf_printf(&b, err, ", %s", t->fields[i].name);
    if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, ", deleted FROM %s AS x WHERE deleted = 0",
                           t->name);
    for (int f = 0; rc == WG_OK && f < t->nfields; f++) {
        if (given[f])
            rc = wg_buf_printf(&b, err, vals[f] ? " AND %s = ?%d"
                                                : " AND %s IS NULL",
                               t->fields[f].name, f + 1);
        /* A record whose referenced record is deleted is hidden with it
         * (a deleted person's trainings and placements), and comes back
         * when that is undeleted; one held without its reference shows. */
        if (rc == WG_OK && t->fields[f].role == WG_FR_REF)
            rc = wg_buf_printf(&b, err, " AND NOT EXISTS (SELECT 1 FROM %s r "
                               "WHERE r.id = x.%s AND r.deleted = 1)",
                               t->fields[f].ref, t->fields[f].name);
    }
    if (rc == WG_OK && o->search && *o->search) {
        like = like_pattern(o->search);
        const char *sep = " AND (";
        for (int f = 0; rc == WG_OK && f < t->nfields; f++) {
            wg_ftype ty = t->fields[f].type;
            /* what the record says, not the store's own notes (the clerk
             * who changed it, the clocks it replaced) */
            if ((ty != WG_FT_TEXT && ty != WG_FT_IDNUM) || t->fields[f].meta)
                continue;
            rc = wg_buf_printf(&b, err, "%s%s LIKE ?%d ESCAPE '\\'", sep,
                               t->fields[f].name, WG_MAX_FIELDS + 1);
            sep = " OR ";
        }
        if (rc == WG_OK)
            rc = wg_buf_printf(&b, err, ")");
    }
    if (rc == WG_OK && sort >= 0)
        rc = wg_buf_printf(&b, err, " ORDER BY %s IS NULL, %s%s, id",
                           t->fields[sort].name, t->fields[sort].name,
                           o->desc ? " DESC" : "");
    else if (rc == WG_OK)
        rc = wg_buf_printf(&b, err, " ORDER BY id%s", o->desc ? " DESC" : "");
    if (rc == WG_OK && o->limit > 0)
        rc = wg_buf_printf(&b, err, " LIMIT %ld OFFSET %ld", o->limit,
                           o->offset > 0 ? o->offset : 0);
    if (rc == WG_OK)
        rc = wg_buf_cstr(&b, err);
    if (rc == WG_OK)
        rc = wg_store__prepare(st, (const char *)b.data, &s, err);
    for (int f = 0; rc == WG_OK && f < t->nfields; f++) {
        if (!given[f] || !vals[f])
            continue;
        if (t->fields[f].type == WG_FT_INT || t->fields[f].type == WG_FT_BOOL)
            sqlite3_bind_int64(s, f + 1, strtoll(vals[f], NULL, 10));
        else
            sqlite3_bind_text(s, f + 1, vals[f], -1, SQLITE_STATIC);
    }
    if (rc == WG_OK && like)
        sqlite3_bind_text(s, WG_MAX_FIELDS + 1, like, -1, SQLITE_STATIC);
    int r = SQLITE_DONE;
    while (rc == WG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_record rec;
        fill_record(s, t, &rec);
        int stop = fn(ctx, &rec);
        wg_record_release(&rec);
        if (stop)
            break;
    }
    if (rc == WG_OK && r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "listing records", err);
    sqlite3_finalize(s);
    wg_buf_release(&b);
    free(like);
    free_vals(vals);
    return rc;
}

wg_rc wg_store_list(wg_store *st, const wg_table *t,
                    const char *const *names, const char *const *values,
                    int n, wg_record_fn fn, void *ctx, wg_err *err)
{
    wg_list_opts o = { .names = names, .values = values, .n = n };
    return wg_store_list_opts(st, t, &o, fn, ctx, err);
}

wg_rc wg_store_resolve_id(wg_store *st, const wg_table *t, const char *prefix,
                          char id_out[WG_ID_HEX_CHARS + 1],
                          char matches[2][WG_ID_HEX_CHARS + 1], wg_err *err)
{
    size_t n = strlen(prefix);
    if (n == WG_ID_HEX_CHARS || n < WG_ID_PREFIX_MIN || n > WG_ID_HEX_CHARS ||
        strspn(prefix, "0123456789abcdef") != n) {
        snprintf(id_out, WG_ID_HEX_CHARS + 1, "%.32s", prefix);
        return WG_OK; /* whole, or not an id at all: as given */
    }
    char hi[WG_ID_HEX_CHARS + 2];
    snprintf(hi, sizeof hi, "%sg", prefix); /* just past every completion */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE id >= ? AND id < ? "
             "ORDER BY id LIMIT 2", t->name);
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(st, &s, err, sql, "tt", prefix, hi);
    if (rc)
        return rc;
    int found = 0, r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW && found < 2)
        snprintf(matches[found++], WG_ID_HEX_CHARS + 1, "%s",
                 (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "finding an id", err);
    if (found == 0)
        return wg_err_set(err, WG_ERR_NOTFOUND, "no %s with an id starting "
                          "%s", t->name, prefix);
    if (found > 1)
        return wg_err_set(err, WG_ERR_AMBIGUOUS, "id %s is ambiguous: %s, "
                          "%s, ...", prefix, matches[0], matches[1]);
    memcpy(id_out, matches[0], WG_ID_HEX_CHARS + 1);
    return WG_OK;
}

wg_rc wg_store_count(wg_store *st, const wg_table *t, long *n, wg_err *err)
{
    char sql[128];
    sqlite3_stmt *s;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE deleted = 0",
             t->name);
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(s, 0);
    else
        rc = wg_store__sqlerr(st, r, "counting records", err);
    sqlite3_finalize(s);
    return rc;
}

typedef struct hist_item {
    uint64_t hlc;
    uint8_t origin[WG_SIGN_PK_BYTES];
    uint8_t *body;
    size_t len;
} hist_item;

static int hist_cmp(const void *a, const void *b)
{
    const hist_item *x = a, *y = b;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    return memcmp(x->origin, y->origin, WG_SIGN_PK_BYTES);
}

wg_rc wg_store_history(wg_store *st, const wg_table *t, const char *id,
                       wg_history_fn fn, void *ctx, wg_err *err)
{
    sqlite3_stmt *s, *at = NULL;
    char sql[64];
    int64_t k = 0;
    snprintf(sql, sizeof sql, "SELECT chg FROM %s WHERE id = ?", t->name);
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        k = sqlite3_column_int64(s, 0);
    else if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading history", err);
    sqlite3_finalize(s);
    if (rc == WG_OK)
        rc = wg_store__prepare(st, WG_CHAIN_SQL, &at, err);
    _Static_assert(WG_SEQ_BITS == 40, "the query above shifts by 40");
    uint8_t *buf = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    hist_item *items = NULL;
    size_t n = 0, cap = 0, steps = 0, power = 1;
    int64_t mark = 0;
    /* The record's changes, newest merged first, each naming the one merged
     * before it. */
    while (rc == WG_OK && k) {
        sqlite3_reset(at);
        sqlite3_bind_int64(at, 1, k);
        r = sqlite3_step(at);
        if (r == SQLITE_DONE)
            break; /* the chain is cut: wg_store_verify_feeds() says where */
        if (r != SQLITE_ROW) {
            rc = wg_store__sqlerr(st, r, "reading history", err);
            break;
        }
        wg_change c;
        const uint8_t *body = buf;
        size_t len = wg_store__chain_bytes(at, k, buf);
        if (len == 0) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "a change of %.40s is "
                            "malformed", id);
            break;
        }
        if (wg_change_decode(body, len, &c, err) != WG_OK) {
            rc = WG_ERR_CORRUPT;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            items = wg_xrealloc(items, cap * sizeof *items);
        }
        items[n].hlc = c.hlc;
        memcpy(items[n].origin, c.origin, WG_SIGN_PK_BYTES);
        items[n].body = wg_xmalloc(len);
        memcpy(items[n].body, body, len);
        items[n].len = len;
        n++;
        k = sqlite3_column_int64(at, 0);
        /* A store altered by hand could hold a loop (Brent's detection). */
        if (++steps == power) {
            mark = k;
            power *= 2;
            steps = 0;
        } else if (k && k == mark) {
            rc = wg_err_set(err, WG_ERR_CORRUPT, "history of %.40s loops",
                            id);
            break;
        }
    }
    sqlite3_finalize(at);
    free(buf);
    if (rc == WG_OK && n == 0)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "no %s with id %.40s", t->name,
                        id);
    if (n > 1)
        qsort(items, n, sizeof *items, hist_cmp);
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        wg_change c;
        wg_history_entry e;
        memset(&e, 0, sizeof e);
        wg_change_decode(items[i].body, items[i].len, &c, NULL);
        e.hlc = c.hlc;
        wg_hlc_format(c.hlc, e.when);
        wg_hex_encode(e.origin_hex, c.origin, WG_SIGN_PK_BYTES);
        memcpy(e.origin, c.origin, WG_SIGN_PK_BYTES);
        e.deleted = -1;
        for (int f = 0; f < c.nfields; f++) {
            const wg_change_field *cf = &c.fields[f];
            if (cf->index == WG_FIELD_DELETED) {
                e.deleted = (int)cf->i;
                continue;
            }
            /* A newer schema's field is not named here; the meta fields
             * are the change's own facts, not values a clerk typed. */
            if (cf->index >= t->nfields || t->fields[cf->index].meta) {
                if (cf->index < t->nfields && cf->type == WG_VAL_TEXT &&
                    !strcmp(t->fields[cf->index].name, "changed_by") &&
                    cf->len < sizeof e.clerk) {
                    memcpy(e.clerk, cf->text, cf->len);
                    e.clerk[cf->len] = 0;
                }
                continue;
            }
            e.names[e.nfields] = t->fields[cf->index].name;
            if (cf->type == WG_VAL_TEXT) {
                char *v = wg_xmalloc((size_t)cf->len + 1);
                memcpy(v, cf->text, cf->len);
                v[cf->len] = 0;
                e.values[e.nfields] = v;
            } else if (cf->type == WG_VAL_INT) {
                char v[24];
                snprintf(v, sizeof v, "%lld", (long long)cf->i);
                e.values[e.nfields] = wg_xstrdup(v);
            }
            e.nfields++;
        }
        int stop = fn(ctx, &e);
        for (int f = 0; f < e.nfields; f++)
            free(e.values[f]);
        if (stop)
            break;
    }
    for (size_t i = 0; i < n; i++)
        free(items[i].body);
    free(items);
    return rc;
}
