/*
 * overwritten.c - who wrote a change, what it replaced, and the concurrent
 * edits the last-writer rule decided
 *
 * Every local write to a record table may name the clerk who made it
 * (changed_by, wg_store_set_actor), and every update names, for each field
 * it writes, the clock of the value it replaced (base_clocks: see the meta
 * fields in schema.c). Two writes of one field are *concurrent* when
 * neither replaced the other, directly or through writes in between:
 * following base clocks from one never reaches the other. Merge keeps the
 * greater clock as always; this file keeps, in the node-local table
 * `overwritten`, every pair of concurrent writes of one field whose values
 * differ, both values, both writers and both clerks, for `wings review`.
 *
 *   merge of a change carrying base_clocks into a held record
 *     a base differs from the clock held for that field,
 *     or the record has pairs listed already
 *       --> recount the record's pairs from all its changes held
 *           (its history chain, and the change being merged)
 *
 * The pairs are a function of the set of changes held, recounted from all
 * of them, so every node holding the same changes lists the same pairs
 * whatever order they came in. A write whose base points to a change not
 * held yet is counted concurrent until that change arrives (it carries a
 * base too, so its arrival recounts the record). A pair is listed once,
 * where the two lines of edits first met: a write made after one of them,
 * knowing it, is no new pair with the other. A recount reads at most
 * OW_MAX_CHAIN of a record's changes and pairs the OW_MAX_WRITES latest
 * writes of each field, so no writer can make a record cost more. Writes
 * without base_clocks (a record's first change, or an update by a
 * schema-2 node) are never listed: nothing says what they replaced.
 */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_ORIGIN_BYTES 8   /* the writer's key, as far as a base names it */
/* Bounds on what one record costs, whatever its writers send: the changes
 * a recount reads (its chain, newest merged first), and the writes of one
 * field it pairs (the latest by clock: the same on every node holding
 * them). */
#define OW_MAX_CHAIN 10000
#define OW_MAX_WRITES 32

/* ---- the clerk ------------------------------------------------------------ */

void wg_store_set_actor(wg_store *st, const char *name)
{
    if (!name || !*name)
        st->actor[0] = 0;
    else
        snprintf(st->actor, sizeof st->actor, "%s", name);
}

void wg_store__stamp(wg_store *st, const wg_table *t, wg_change *c)
{
    int f = wg_schema_meta(t, "changed_by");
    if (f < 0 || !st->actor[0] || c->nfields > WG_MAX_FIELDS)
        return;
    wg_change_field *cf = &c->fields[c->nfields++];
    cf->index = (uint8_t)f;
    cf->type = WG_VAL_TEXT;
    cf->text = st->actor;
    cf->len = (uint16_t)strlen(st->actor);
}

/* ---- base clocks ---------------------------------------------------------- */

wg_rc wg_store__base_clocks(wg_store *st, const wg_table *t, const char *id,
                            const int *given, char *out, size_t cap,
                            wg_err *err)
{
    int nf = t->nfields;
    sqlite3_stmt *get;
    wg_clock cl[WG_MAX_FIELDS + 1];
    memset(cl, 0, sizeof cl);
    out[0] = 0;
    wg_rc rc = wg_store__row_stmt(st, t->wire, ROW_GET, &get, err);
    if (rc)
        return rc;
    sqlite3_bind_text(get, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(get);
    if (r == SQLITE_ROW)
        rc = wg_store__clocks_decode(sqlite3_column_blob(get, nf + 2),
                                     (size_t)sqlite3_column_bytes(get, nf + 2),
                                     nf + 1, cl, err);
    else if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading a record", err);
    sqlite3_reset(get);
    size_t n = 0;
    for (int f = 0; rc == WG_OK && f < nf; f++) {
        if (!given[f] || t->fields[f].meta)
            continue;
        char one[64];
        if (cl[f].hlc == 0 && cl[f].oid == 0) {
            snprintf(one, sizeof one, "%s%d:0", n ? " " : "", f);
        } else {
            char o[2 * BASE_ORIGIN_BYTES + 1] = "0";
            if (cl[f].oid < st->nokeys)
                wg_hex_encode(o, st->okeys[cl[f].oid], BASE_ORIGIN_BYTES);
            snprintf(one, sizeof one, "%s%d:%" PRIx64 ":%s", n ? " " : "", f,
                     cl[f].hlc, o);
        }
        size_t l = strlen(one);
        if (n + l + 1 > cap)
            return wg_err_set(err, WG_ERR_INTERNAL, "base clocks too long");
        memcpy(out + n, one, l + 1);
        n += l;
    }
    return rc;
}

typedef struct base_ent {
    int has;          /* the change names a base for this field */
    int zero;         /* ... and it was empty */
    uint64_t hlc;
    uint8_t origin[BASE_ORIGIN_BYTES];
} base_ent;

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int hex_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            return 0;
    return 1;
}

/* Parse a base_clocks value of LEN bytes (from any writer: anything
 * malformed is simply not a base) into B[0..NF). 1 if any parsed. */
static int parse_bases(const char *s, size_t len, int nf, base_ent *b)
{
    int any = 0;
    memset(b, 0, (size_t)nf * sizeof *b);
    size_t i = 0;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        /* one token s[i..j): N:0 or N:HLC:ORIGIN */
        int f = 0, k = 0;
        size_t p = i;
        while (p < j && s[p] >= '0' && s[p] <= '9' && k < 3) {
            f = f * 10 + (s[p++] - '0');
            k++;
        }
        if (k && p < j && s[p] == ':' && f < nf) {
            p++;
            if (j - p == 1 && s[p] == '0') {
                b[f].has = b[f].zero = 1;
                any = 1;
            } else {
                uint64_t h = 0;
                int d = 0, v;
                while (p < j && d < 16 && (v = hexval(s[p])) >= 0) {
                    h = h << 4 | (uint64_t)v;
                    p++;
                    d++;
                }
                if (d && p < j && s[p] == ':' && j - p - 1 ==
                                                     2 * BASE_ORIGIN_BYTES &&
                    hex_ok(s + p + 1, 2 * BASE_ORIGIN_BYTES)) {
                    char o[2 * BASE_ORIGIN_BYTES + 1];
                    memcpy(o, s + p + 1, 2 * BASE_ORIGIN_BYTES);
                    o[2 * BASE_ORIGIN_BYTES] = 0;
                    wg_hex_decode(b[f].origin, BASE_ORIGIN_BYTES, o, NULL);
                    b[f].has = 1;
                    b[f].zero = 0;
                    b[f].hlc = h;
                    any = 1;
                }
            }
        }
        i = j;
    }
    return any;
}

static const wg_change_field *base_field(const wg_table *t, const wg_change *c)
{
    int bf = wg_schema_meta(t, "base_clocks");
    for (int i = 0; bf >= 0 && i < c->nfields; i++)
        if (c->fields[i].index == bf && c->fields[i].type == WG_VAL_TEXT)
            return &c->fields[i];
    return NULL;
}

int wg_store__ow_mismatch(wg_store *st, const wg_table *t, const wg_change *c,
                          const wg_clock *held)
{
    const wg_change_field *bf = base_field(t, c);
    base_ent b[WG_MAX_FIELDS];
    if (!bf || !parse_bases(bf->text, bf->len, t->nfields, b))
        return 0;
    for (int f = 0; f < t->nfields; f++) {
        if (!b[f].has)
            continue;
        const wg_clock *h = &held[f];
        int held_zero = h->hlc == 0 && h->oid == 0;
        if (b[f].zero != held_zero)
            return 1;
        if (!held_zero &&
            (h->hlc != b[f].hlc || h->oid >= st->nokeys ||
             memcmp(st->okeys[h->oid], b[f].origin, BASE_ORIGIN_BYTES)))
            return 1;
    }
    return 0;
}

/* ---- recounting a record's concurrent writes -------------------------------- */

typedef struct ow_write {
    int field;
    uint64_t hlc;
    uint8_t origin[WG_SIGN_PK_BYTES];
    base_ent base;
    char *value;      /* NULL: cleared */
    char clerk[72];
} ow_write;

typedef struct ow_set {
    ow_write *w;
    size_t n, cap;
} ow_set;

static void collect(ow_set *s, const wg_table *t, const wg_change *c)
{
    const wg_change_field *bf = base_field(t, c);
    base_ent b[WG_MAX_FIELDS];
    if (!bf || !parse_bases(bf->text, bf->len, t->nfields, b))
        return;
    /* once per change, whichever way it was reached */
    for (size_t i = 0; i < s->n; i++)
        if (s->w[i].hlc == c->hlc &&
            !memcmp(s->w[i].origin, c->origin, WG_SIGN_PK_BYTES))
            return;
    char clerk[72] = "";
    int cb = wg_schema_meta(t, "changed_by");
    for (int i = 0; i < c->nfields; i++)
        if (c->fields[i].index == cb && c->fields[i].type == WG_VAL_TEXT &&
            c->fields[i].len < sizeof clerk) {
            memcpy(clerk, c->fields[i].text, c->fields[i].len);
            clerk[c->fields[i].len] = 0;
        }
    for (int i = 0; i < c->nfields; i++) {
        const wg_change_field *f = &c->fields[i];
        if (f->index >= t->nfields || t->fields[f->index].meta ||
            !b[f->index].has)
            continue;
        if (s->n == s->cap)
            s->w = wg_xrealloc(s->w, (s->cap = s->cap ? s->cap * 2 : 16) *
                                         sizeof *s->w);
        ow_write *w = &s->w[s->n++];
        memset(w, 0, sizeof *w);
        w->field = f->index;
        w->hlc = c->hlc;
        memcpy(w->origin, c->origin, WG_SIGN_PK_BYTES);
        w->base = b[f->index];
        memcpy(w->clerk, clerk, sizeof clerk);
        if (f->type == WG_VAL_TEXT) {
            w->value = wg_xmalloc((size_t)f->len + 1);
            memcpy(w->value, f->text, f->len);
            w->value[f->len] = 0;
        } else if (f->type == WG_VAL_INT) {
            char v[24];
            snprintf(v, sizeof v, "%lld", (long long)f->i);
            w->value = wg_xstrdup(v);
        }
    }
}

/* The write of FIELD in S that CUR replaced (CUR's base), or NULL. */
static const ow_write *base_write(const ow_set *s, int field,
                                  const ow_write *cur)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->w[i].field == field && s->w[i].hlc == cur->base.hlc &&
            !memcmp(s->w[i].origin, cur->base.origin, BASE_ORIGIN_BYTES))
            return &s->w[i];
    return NULL;
}

/* Does following base clocks from B reach A (same field)? */
static int replaced(const ow_set *s, const ow_write *a, const ow_write *b)
{
    const ow_write *cur = b;
    for (size_t step = 0; step <= s->n; step++) {
        if (!cur->base.has || cur->base.zero)
            return 0;
        if (cur->base.hlc == a->hlc &&
            !memcmp(cur->base.origin, a->origin, BASE_ORIGIN_BYTES))
            return 1;
        const ow_write *next = base_write(s, b->field, cur);
        if (!next)
            return 0;
        cur = next;
    }
    return 0;
}

static int concurrent(const ow_set *s, const ow_write *a, const ow_write *b)
{
    return !replaced(s, a, b) && !replaced(s, b, a);
}

/* Was A already concurrent with a write B replaced (on B's way back)?
 * Then B was written knowing that meeting, and A, B are not a new one. */
static int met_before(const ow_set *s, const ow_write *a, const ow_write *b)
{
    const ow_write *cur = b;
    for (size_t step = 0; step <= s->n; step++) {
        if (!cur->base.has || cur->base.zero)
            return 0;
        const ow_write *next = base_write(s, b->field, cur);
        if (!next)
            return 0;
        if (next != a && concurrent(s, a, next))
            return 1;
        cur = next;
    }
    return 0;
}

static int later(const ow_write *a, const ow_write *b)
{
    if (a->hlc != b->hlc)
        return a->hlc > b->hlc;
    return memcmp(a->origin, b->origin, WG_SIGN_PK_BYTES) > 0;
}

/* Walk the record's changes from key K (newest merged first). */
static wg_rc walk_chain(wg_store *st, const wg_table *t, int64_t k,
                        ow_set *s, wg_err *err)
{
    sqlite3_stmt *at;
    wg_rc rc = wg_store__prepare(st, WG_CHAIN_SQL, &at, err);
    if (rc)
        return rc;
    uint8_t *buf = wg_xmalloc(WG_CHANGE_MAX_BYTES);
    /* a chain is at most as long as the store has changes; a loop (a store
     * altered by hand) ends at the cap */
    for (long steps = 0; k && steps < OW_MAX_CHAIN; steps++) {
        sqlite3_reset(at);
        sqlite3_bind_int64(at, 1, k);
        int r = sqlite3_step(at);
        if (r == SQLITE_DONE)
            break;
        if (r != SQLITE_ROW) {
            rc = wg_store__sqlerr(st, r, "reading history", err);
            break;
        }
        size_t len = wg_store__chain_bytes(at, k, buf);
        wg_change c;
        if (len && wg_change_decode(buf, len, &c, NULL) == WG_OK &&
            c.table == t->wire)
            collect(s, t, &c);
        k = sqlite3_column_int64(at, 0);
    }
    free(buf);
    sqlite3_finalize(at);
    return rc;
}

/* Field, then the latest clock first. */
static int by_field_latest(const void *x, const void *y)
{
    const ow_write *a = x, *b = y;
    if (a->field != b->field)
        return a->field < b->field ? -1 : 1;
    return later(a, b) ? -1 : later(b, a) ? 1 : 0;
}

/* Keep the OW_MAX_WRITES latest writes of each field. */
static void bound_writes(ow_set *s)
{
    if (s->n > 1)
        qsort(s->w, s->n, sizeof *s->w, by_field_latest);
    size_t out = 0;
    int run = 0;
    for (size_t i = 0; i < s->n; i++) {
        run = i && s->w[i].field == s->w[i - 1].field ? run + 1 : 0;
        if (run < OW_MAX_WRITES)
            s->w[out++] = s->w[i];
        else
            free(s->w[i].value);
    }
    s->n = out;
}

wg_rc wg_store__ow_recount(wg_store *st, const wg_table *t, const char *id,
                           const wg_change *c, int64_t chain, wg_err *err)
{
    ow_set s = { 0 };
    collect(&s, t, c);
    wg_rc rc = walk_chain(st, t, chain, &s, err);
    bound_writes(&s);
    if (rc == WG_OK)
        rc = wg_store__run(st, "recounting overwritten edits", err,
                           "DELETE FROM overwritten WHERE tbl = ? AND id = ?",
                           "tt", t->name, id);
    for (size_t i = 0; rc == WG_OK && i < s.n; i++)
        for (size_t j = i + 1; rc == WG_OK && j < s.n; j++) {
            ow_write *a = &s.w[i], *b = &s.w[j];
            if (a->field != b->field)
                continue;
            if (!a->value != !b->value ||
                (a->value && strcmp(a->value, b->value)))
                ; /* different values: see below */
            else
                continue;
            if (!concurrent(&s, a, b) || met_before(&s, a, b) ||
                met_before(&s, b, a))
                continue;
            ow_write *win = later(a, b) ? a : b, *lose = win == a ? b : a;
            rc = wg_store__run(
                st, "listing an overwritten edit", err,
                "INSERT OR IGNORE INTO overwritten(tbl, id, field, win_hlc, "
                "win_origin, win_value, win_clerk, lose_hlc, lose_origin, "
                "lose_value, lose_clerk) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                "tttibttibtt", t->name, id, t->fields[win->field].name,
                (int64_t)win->hlc, win->origin, (int)WG_SIGN_PK_BYTES,
                win->value, win->clerk[0] ? win->clerk : NULL,
                (int64_t)lose->hlc, lose->origin, (int)WG_SIGN_PK_BYTES,
                lose->value, lose->clerk[0] ? lose->clerk : NULL);
        }
    for (size_t i = 0; i < s.n; i++)
        free(s.w[i].value);
    free(s.w);
    return rc;
}

wg_rc wg_store__ow_listed(wg_store *st, const wg_table *t, const char *id,
                          int *yes, wg_err *err)
{
    /* asked at every merged update: one cached statement */
    wg_rc rc = wg_store__stmt(st, &st->s_ow_listed, "SELECT 1 FROM "
                              "overwritten WHERE tbl = ? AND id = ? LIMIT 1",
                              err);
    if (rc)
        return rc;
    sqlite3_stmt *s = st->s_ow_listed;
    sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "reading overwritten edits", err);
    *yes = r == SQLITE_ROW;
    return WG_OK;
}

/* ---- reading them ------------------------------------------------------------ */

wg_rc wg_store_overwritten(wg_store *st, wg_overwrite_fn fn, void *ctx,
                           wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__query(
        st, &s, err,
        "SELECT tbl, id, field, win_hlc, win_origin, win_value, win_clerk, "
        "lose_hlc, lose_origin, lose_value, lose_clerk FROM overwritten "
        "ORDER BY tbl, id, field, win_hlc, win_origin, lose_hlc, lose_origin",
        "");
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_overwrite o;
        memset(&o, 0, sizeof o);
        o.table = wg_schema_table((const char *)sqlite3_column_text(s, 0));
        if (!o.table)
            continue;
        o.id = (const char *)sqlite3_column_text(s, 1);
        o.field = (const char *)sqlite3_column_text(s, 2);
        for (int w = 0; w < 2; w++) {
            int c = 3 + 4 * w;
            o.hlc[w] = (uint64_t)sqlite3_column_int64(s, c);
            if (sqlite3_column_bytes(s, c + 1) == WG_SIGN_PK_BYTES)
                memcpy(o.origin[w], sqlite3_column_blob(s, c + 1),
                       WG_SIGN_PK_BYTES);
            o.value[w] = (const char *)sqlite3_column_text(s, c + 2);
            o.clerk[w] = (const char *)sqlite3_column_text(s, c + 3);
        }
        if (fn(ctx, &o))
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading overwritten edits", err);
    sqlite3_finalize(s);
    return rc;
}

/* ---- node names --------------------------------------------------------------- */

int wg_store_node_name(wg_store *st, const uint8_t key[WG_SIGN_PK_BYTES],
                       char *out, size_t cap)
{
    out[0] = 0;
    if (!memcmp(key, st->info.pk, WG_SIGN_PK_BYTES)) {
        snprintf(out, cap, "%s", st->info.name);
        return 1;
    }
    sqlite3_stmt *s;
    if (wg_store__query(st, &s, NULL, "SELECT name FROM peer WHERE key = ?",
                        "b", key, (int)WG_SIGN_PK_BYTES) == WG_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    if (out[0])
        return 1;
    char hex[WG_KEY_HEX_CHARS + 1];
    wg_hex_encode(hex, key, WG_SIGN_PK_BYTES);
    if (wg_schema_by_wire(WG_TABLE_MEMBER) &&
        wg_store__query(st, &s, NULL, "SELECT name FROM member WHERE "
                        "subject = ? AND kind = 'cert' AND deleted = 0 AND "
                        "name IS NOT NULL AND name != '' ORDER BY serial "
                        "DESC LIMIT 1", "t", hex) == WG_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    return out[0] != 0;
}
