/*
 * bulk.c - one transaction that writes many records of one table (an import)
 *
 * Every record written costs a descent into each index of its table, at the
 * place its key sorts: for keys in no particular order, a random leaf. An
 * import of a county's spreadsheet into a new or small node does that for
 * every row, and those descents were most of what the import cost beyond
 * the rows themselves. wg_store_bulk(T, rows), called inside the transaction
 * before the rows, arranges three things when the rows are many (BULK_MIN):
 *
 *   record ids      the new records' ids are drawn ahead, up to IDPOOL_MAX
 *                   at a time, and handed out in ascending order: each is
 *                   as random as one drawn alone (the pool goes with the
 *                   transaction), but T's unique id index takes them in one
 *                   sweep, the next entry beside the last.
 *
 * and, when T holds fewer than 1 / BULK_RATIO as many records as are coming:
 *
 *   list indexes    <t>_list_<f> (ddl.c: a sort order carrying every field a
 *                   search reads) are dropped, and made again by one CREATE
 *                   INDEX before COMMIT: sorted in memory, leaves written in
 *                   order and full. Nothing a write runs reads them.
 *   live values     <t>_live_<f> (each unique field's live values: what
 *                   refuses a person's id number twice) are dropped too,
 *                   and made again likewise. Meanwhile the values live in
 *                   memory (struct wg_bulk_live): loaded from T's live
 *                   records when dropped, kept by every record write of the
 *                   transaction (merge.c calls wg_store__bulk_moved() for
 *                   each row it writes, whatever wrote it), and read by
 *                   wg_store_find_unique() through wg_store__bulk_find(),
 *                   which answers exactly what the index would: the least
 *                   id of a live record holding the value, but EXCEPT.
 *
 * Dropping and making an index are part of the transaction: a process
 * killed between leaves the store as it was before BEGIN, and a ROLLBACK
 * brings the old indexes back unchanged. A table of many records keeps its
 * indexes (making them again would cost more than the rows' entries), and
 * so does every other transaction. Whatever ends the transaction (commit,
 * rollback, or a BEGIN after SQLite rolled one back on its own) ends this
 * state: wg_store__bulk_end().
 */
#include "store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BULK_MIN 5000
#define BULK_RATIO 2
#define IDPOOL_MAX 65536
#define LIVE_FIELDS 4   /* unique fields of one table held in memory */
#define LIVE_PRESIZE_MAX ((size_t)1 << 22)

/* ---- record ids -------------------------------------------------------- */

/* The pool in ascending order: a counting sort on the first two bytes
 * (uniformly random, so a bucket holds one or two), then insertion within
 * each bucket: linear, where qsort's comparisons were a visible part of an
 * import. TMP has room for the pool. */
static void sort_ids(uint8_t (*ids)[WG_ROWID_BYTES],
                     uint8_t (*tmp)[WG_ROWID_BYTES], size_t n)
{
    uint32_t *start = wg_xcalloc(65537, sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[(ids[i][0] << 8 | ids[i][1]) + 1]++;
    for (size_t b = 1; b <= 65536; b++)
        start[b] += start[b - 1];
    for (size_t i = 0; i < n; i++) {
        uint32_t b = (uint32_t)(ids[i][0] << 8 | ids[i][1]);
        memcpy(tmp[start[b]++], ids[i], WG_ROWID_BYTES);
    }
    for (size_t i = 1; i < n; i++) {   /* nearly sorted: short moves */
        uint8_t v[WG_ROWID_BYTES];
        memcpy(v, tmp[i], WG_ROWID_BYTES);
        size_t j = i;
        while (j > 0 && memcmp(tmp[j - 1], v, WG_ROWID_BYTES) > 0) {
            memcpy(tmp[j], tmp[j - 1], WG_ROWID_BYTES);
            j--;
        }
        memcpy(tmp[j], v, WG_ROWID_BYTES);
    }
    memcpy(ids, tmp, n * WG_ROWID_BYTES);
    free(start);
}

void wg_store__new_rowid(wg_store *st, uint8_t rowid[WG_ROWID_BYTES])
{
    if (!st->idpool_batch) {
        wg_random(rowid, WG_ROWID_BYTES);
        return;
    }
    if (st->idpool_next == st->idpool_n) {
        size_t n = st->idpool_batch;
        if (!st->idpool)
            st->idpool = wg_xmalloc(2 * n * sizeof *st->idpool);
        wg_random(st->idpool, n * sizeof *st->idpool);
        sort_ids(st->idpool, st->idpool + n, n);
        st->idpool_n = n;
        st->idpool_next = 0;
    }
    memcpy(rowid, st->idpool[st->idpool_next++], WG_ROWID_BYTES);
}

/* ---- live values in memory ------------------------------------------------
 *
 * One open-addressing multimap per unique field: (value, record id) pairs,
 * a value possibly held by several records (two offices registered one
 * person before they synced). Values are kept in one growing text arena
 * (entries hold offsets); a pair removed leaves a tombstone, so chains
 * stay whole. The table is sized for the rows announced and grows (moving
 * entries, dropping tombstones) at half full. */

typedef struct lentry {
    uint32_t off, len;                /* the value in the arena */
    char id[WG_ID_HEX_CHARS + 1];
    uint8_t state;                    /* 0 empty, 1 held, 2 tombstone */
} lentry;

typedef struct lmap {
    int f;
    lentry *e;
    size_t cap, used;                 /* used: held + tombstones */
    char *text;                       /* the arena */
    size_t tlen, tcap;
} lmap;

struct wg_bulk_live {
    const wg_table *t;
    int n;
    lmap m[LIVE_FIELDS];
};

static uint64_t value_hash(const char *v, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)v[i]) * 1099511628211ULL;
    return h ^ (h >> 31);
}

static int same_value(const lmap *m, const lentry *e, const char *v, size_t n)
{
    return e->len == n && !memcmp(m->text + e->off, v, n);
}

/* A table of at least 2 * WANT slots (a power of two), entries moved in. */
static void lmap_resize(lmap *m, size_t want)
{
    size_t cap = 1024;
    while (cap < 2 * want)
        cap *= 2;
    lentry *old = m->e, *e = wg_table_alloc(cap, sizeof *e);
    size_t ocap = m->cap, used = 0;
    for (size_t j = 0; j < ocap; j++) {
        if (old[j].state != 1)
            continue;
        size_t k = (size_t)value_hash(m->text + old[j].off, old[j].len) &
                   (cap - 1);
        while (e[k].state)
            k = (k + 1) & (cap - 1);
        e[k] = old[j];
        used++;
    }
    if (old)
        wg_table_free(old, ocap, sizeof *old);
    m->e = e;
    m->cap = cap;
    m->used = used;
}

static void lmap_put(lmap *m, const char *value, const char *id)
{
    size_t n = strlen(value);
    if (n > UINT32_MAX / 2)
        return;   /* not a field value */
    if (2 * (m->used + 1) > m->cap)
        lmap_resize(m, m->used + 1);
    if (m->tlen + n > m->tcap) {
        m->tcap = m->tcap ? m->tcap : 1 << 16;
        while (m->tlen + n > m->tcap)
            m->tcap *= 2;
        m->text = wg_xrealloc(m->text, m->tcap);
    }
    size_t mask = m->cap - 1, j = (size_t)value_hash(value, n) & mask;
    while (m->e[j].state == 1)
        j = (j + 1) & mask;
    if (m->e[j].state == 0)
        m->used++;
    lentry *e = &m->e[j];
    memcpy(m->text + m->tlen, value, n);
    e->off = (uint32_t)m->tlen;
    e->len = (uint32_t)n;
    m->tlen += n;
    snprintf(e->id, sizeof e->id, "%s", id);
    e->state = 1;
}

static void lmap_remove(lmap *m, const char *value, const char *id)
{
    if (!m->cap)
        return;
    size_t n = strlen(value);
    size_t mask = m->cap - 1, j = (size_t)value_hash(value, n) & mask;
    for (; m->e[j].state != 0; j = (j + 1) & mask)
        if (m->e[j].state == 1 && !strcmp(m->e[j].id, id) &&
            same_value(m, &m->e[j], value, n)) {
            m->e[j].state = 2;
            return;
        }
}

/* The least id holding VALUE but EXCEPT (NULL: none); 0 if none. */
static int lmap_find(const lmap *m, const char *value, const char *except,
                     char out[WG_ID_HEX_CHARS + 1])
{
    int found = 0;
    if (!m->cap)
        return 0;
    size_t n = strlen(value);
    size_t mask = m->cap - 1, j = (size_t)value_hash(value, n) & mask;
    for (; m->e[j].state != 0; j = (j + 1) & mask) {
        const lentry *e = &m->e[j];
        if (e->state != 1 || !same_value(m, e, value, n) ||
            (except && !strcmp(e->id, except)))
            continue;
        if (!found || strcmp(e->id, out) < 0)
            memcpy(out, e->id, sizeof e->id);
        found = 1;
    }
    return found;
}

static void lmap_free(lmap *m)
{
    if (m->e)
        wg_table_free(m->e, m->cap, sizeof *m->e);
    free(m->text);
    memset(m, 0, sizeof *m);
}

static void live_free(struct wg_bulk_live *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++)
        lmap_free(&b->m[i]);
    free(b);
}

static lmap *live_map(wg_store *st, const wg_table *t, int f)
{
    struct wg_bulk_live *b = st->bulk_live;
    if (!b || b->t != t)
        return NULL;
    for (int i = 0; i < b->n; i++)
        if (b->m[i].f == f)
            return &b->m[i];
    return NULL;
}

int wg_store__bulk_find(wg_store *st, const wg_table *t, int f,
                        const char *value, const char *except,
                        char id_out[WG_ID_HEX_CHARS + 1], wg_rc *rc)
{
    const lmap *m = live_map(st, t, f);
    if (!m)
        return 0;
    *rc = lmap_find(m, value, except && except[0] ? except : NULL, id_out)
              ? WG_OK : WG_ERR_NOTFOUND;
    return 1;
}

void wg_store__bulk_moved(wg_store *st, const wg_table *t, int f,
                          const char *id, const char *old, const char *now)
{
    lmap *m = live_map(st, t, f);
    if (!m || (old && now && !strcmp(old, now)))
        return;
    if (old)
        lmap_remove(m, old, id);
    if (now)
        lmap_put(m, now, id);
}

/* T's live records' values of its unique fields, into memory, in tables
 * sized for ROWS more. */
static wg_rc live_load(wg_store *st, const wg_table *t, long rows,
                       wg_err *err)
{
    struct wg_bulk_live *b = wg_xcalloc(1, sizeof *b);
    b->t = t;
    for (int f = 0; f < t->nfields; f++) {
        if (!t->fields[f].unique)
            continue;
        if (b->n == LIVE_FIELDS) {   /* not expected: keep the indexes */
            live_free(b);
            return WG_ERR_NOTFOUND;
        }
        b->m[b->n++].f = f;
    }
    for (int i = 0; i < b->n; i++)   /* bounded: a wild guess is no harm */
        lmap_resize(&b->m[i], (size_t)rows < LIVE_PRESIZE_MAX
                                  ? (size_t)rows : LIVE_PRESIZE_MAX);
    wg_rc rc = WG_OK;
    for (int i = 0; rc == WG_OK && i < b->n; i++) {
        char q[256];
        snprintf(q, sizeof q, "SELECT id, %s FROM %s WHERE deleted = 0 AND "
                 "%s IS NOT NULL", t->fields[b->m[i].f].name, t->name,
                 t->fields[b->m[i].f].name);
        sqlite3_stmt *s;
        if ((rc = wg_store__prepare(st, q, &s, err)))
            break;
        int r;
        while ((r = sqlite3_step(s)) == SQLITE_ROW)
            lmap_put(&b->m[i], (const char *)sqlite3_column_text(s, 1),
                     (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        if (r != SQLITE_DONE)
            rc = wg_store__sqlerr(st, r, "reading unique values", err);
    }
    if (rc) {
        live_free(b);
        return rc;
    }
    st->bulk_live = b;
    return WG_OK;
}

/* ---- the transaction --------------------------------------------------- */

void wg_store__bulk_end(wg_store *st)
{
    st->list_dropped = 0;
    free(st->idpool);
    st->idpool = NULL;
    st->idpool_n = st->idpool_next = st->idpool_batch = 0;
    live_free(st->bulk_live);
    st->bulk_live = NULL;
}

/* Is NAME one of T's node-local indexes, and of which kind? */
static int is_local(const wg_table *t, const char *name, const char *kind)
{
    size_t tl = strlen(t->name);
    return !strncmp(name, t->name, tl) && !strncmp(name + tl, kind,
                                                    strlen(kind));
}

wg_rc wg_store_bulk(wg_store *st, const wg_table *t, long rows, wg_err *err)
{
    if (rows < BULK_MIN || sqlite3_get_autocommit(st->db) || st->bulk_live ||
        st->list_dropped)
        return WG_OK;
    st->idpool_batch = rows < IDPOOL_MAX ? (size_t)rows : IDPOOL_MAX;
    char name[128], sql[1024], q[160];
    snprintf(q, sizeof q, "SELECT max(n) FROM %s", t->name);
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, q, &s, err);
    if (rc)
        return rc;
    int r = sqlite3_step(s);
    long long held = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "counting records", err);
    if (held * BULK_RATIO > rows)
        return WG_OK;
    rc = live_load(st, t, rows + held, err);
    int live = rc == WG_OK;
    if (rc == WG_ERR_NOTFOUND)
        rc = WG_OK;
    for (int i = 0; rc == WG_OK && wg_store__local_index(i, name, sizeof name,
                                                          sql, sizeof sql);
         i++) {
        if (!is_local(t, name, "_list_") &&
            !(live && is_local(t, name, "_live_")))
            continue;
        snprintf(q, sizeof q, "DROP INDEX IF EXISTS %s", name);
        if ((rc = wg_store__exec(st, q, err)) == WG_OK)
            st->list_dropped = 1;
    }
    return rc;
}

wg_rc wg_store__list_indexes_restore(wg_store *st, wg_err *err)
{
    if (!st->list_dropped)
        return WG_OK;
    st->list_dropped = 0;   /* the rest goes with the transaction */
    return wg_store__create_list_indexes(st, err);
}
