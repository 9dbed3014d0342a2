/*
 * report_agg.c - the aggregates the default report reads, kept in step with
 * every merge
 *
 * The default report (by county, the records as they are, ages on today's
 * date) must answer over a national HQ's ten million persons in seconds, so
 * it does not scan persons: it reads three small derived tables, local to
 * the node and never replicated, that every merge keeps up to date inside
 * the merge's own transaction:
 *
 *   rpt_year(county, y)        per county and birth year (YYYY, '' for no
 *                              birth date): persons, employed (an active
 *                              placement), trained, certified, placements
 *                              (active ones)
 *   rpt_month(ym, county)      per birth month and county: persons, employed
 *   rpt_day(bdate, county)     per birth date and county: persons, employed
 *   rpt_income(county, income) active placements of live persons per income
 *                              (in fen from schema 3: monthly_income_fen,
 *                              else the whole yuan x 100)
 *   rpt_income100(county, b)   the same per 100 yuan (b = income / 10000)
 *
 * Working age on a date is a range of birth dates: whole years come from
 * rpt_year, the months of the two boundary years from rpt_month, the days
 * of the two boundary months from rpt_day, so a report reads some hundred
 * thousand rows at national scale, not ten million. A median finds its
 * 100-yuan bucket in rpt_income100 and then the exact value in rpt_income.
 *
 * Only live persons count, in the county and birth month their record says;
 * a placement or training counts through its person (one that arrived before
 * its person counts once the person arrives). A row whose counts are all
 * zero is deleted, so the tables equal a recount row for row:
 * wg_store_report_verify() recounts and compares.
 *
 * Merge calls wg_store__report_before() ahead of writing a record's row and
 * wg_store__report_after() once written. Before keeps the fields that count
 * (person: county, birth_date, deleted; placement: person_id, status,
 * deleted, monthly_income; training: person_id, outcome, deleted); after
 * reads them again (wg_store__report_after_new(): a row just made from one
 * change has that change's values, nothing is read) and, when they differ,
 * moves the person's contribution. The moves of one transaction are added
 * up per cell in memory and written once, before COMMIT (see "the deltas
 * a transaction buffers" below).
 * A person's contribution apart from the record in hand (its other
 * placements or trainings) is read from the covering indexes, excluding
 * that record, so the before and after of each affected person follow
 * without a second read of anything but the record itself.
 */
#include "store_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An active placement's income as the aggregates count it, and the size
 * of a histogram bucket (100 yuan) in that unit. */
#if WG_SCHEMA_VERSION >= 3
#define INC "coalesce(monthly_income_fen, monthly_income * 100)"
#define INC_X "coalesce(x.monthly_income_fen, x.monthly_income * 100)"
#define BUCKET "10000"
#define BUCKET_N 10000
#else
#define INC "monthly_income"
#define INC_X "x.monthly_income"
#define BUCKET "100"
#define BUCKET_N 100
#endif

enum {
    S_GET_PERSON, S_GET_PLACEMENT, S_GET_TRAINING, S_PERSON_LIVE,
    S_NP_EXCL, S_TR_EXCL, S_PARTS, S_INCOMES, S_YEAR_ADD, S_YEAR_GC,
    S_MONTH_ADD, S_MONTH_GC, S_DAY_ADD, S_DAY_GC, S_INC_ADD, S_INC_GC,
    S_INC100_ADD, S_INC100_GC, S_NSTMT
};

static const char *const stmt_sql[S_NSTMT] = {
    "SELECT county, birth_date, deleted FROM person WHERE id = ?1",
    "SELECT person_id, status, deleted, " INC " FROM placement "
    "WHERE id = ?1",
    "SELECT person_id, outcome, deleted FROM training WHERE id = ?1",
    "SELECT county, birth_date FROM person WHERE id = ?1 AND deleted = 0",
    "SELECT count(*) FROM placement WHERE person_id = ?1 AND "
    "status = 'active' AND deleted = 0 AND id != ?2",
    "SELECT coalesce(max(outcome IN ('completed', 'certified')), 0), "
    "coalesce(max(outcome = 'certified'), 0) FROM training "
    "WHERE person_id = ?1 AND deleted = 0 AND id != ?2",
    /* S_NP and S_TR as one statement, for person_move() */
    "SELECT (SELECT count(*) FROM placement WHERE person_id = ?1 AND "
    "status = 'active' AND deleted = 0), "
    "coalesce(max(outcome IN ('completed', 'certified')), 0), "
    "coalesce(max(outcome = 'certified'), 0) FROM training "
    "WHERE person_id = ?1 AND deleted = 0",
    "SELECT " INC " FROM placement WHERE person_id = ?1 AND "
    "status = 'active' AND deleted = 0 AND monthly_income IS NOT NULL",
    "INSERT INTO rpt_year(county, y, persons, employed, trained, "
    "certified, placements) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT(county, y) DO UPDATE SET persons = persons + ?3, "
    "employed = employed + ?4, trained = trained + ?5, "
    "certified = certified + ?6, placements = placements + ?7",
    "DELETE FROM rpt_year WHERE county = ?1 AND y = ?2 AND persons = 0 "
    "AND employed = 0 AND trained = 0 AND certified = 0 AND placements = 0",
    "INSERT INTO rpt_month(ym, county, persons, employed) "
    "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(ym, county) DO UPDATE SET "
    "persons = persons + ?3, employed = employed + ?4",
    "DELETE FROM rpt_month WHERE ym = ?1 AND county = ?2 AND persons = 0 "
    "AND employed = 0",
    "INSERT INTO rpt_day(bdate, county, persons, employed) "
    "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(bdate, county) DO UPDATE SET "
    "persons = persons + ?3, employed = employed + ?4",
    "DELETE FROM rpt_day WHERE bdate = ?1 AND county = ?2 AND persons = 0 "
    "AND employed = 0",
    "INSERT INTO rpt_income(county, income, n) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(county, income) DO UPDATE SET n = n + ?3",
    "DELETE FROM rpt_income WHERE county = ?1 AND income = ?2 AND n = 0",
    "INSERT INTO rpt_income100(county, b, n) VALUES(?1, ?2 / " BUCKET ", ?3) "
    "ON CONFLICT(county, b) DO UPDATE SET n = n + ?3",
    "DELETE FROM rpt_income100 WHERE county = ?1 AND b = ?2 / " BUCKET
    " AND n = 0",
};

/* One aggregate cell's pending deltas: the upsert K's key (two texts and
 * an integer, zero-filled past their ends so a cell compares as bytes)
 * and what the transaction added to it so far. */
#define PEND_TEXT 12    /* a county (6), a date (10), a month (7) */
#define PEND_MAX 65536  /* cells a transaction buffers before it writes (an
                         * import's day cells: every birth date of 50 years) */
#define PEND_KEEP 4096  /* slots kept between transactions */

typedef struct pcell {
    uint8_t used, k;
    char a[PEND_TEXT], b[PEND_TEXT];
    int64_t i;
    int d[5];
} pcell;
_Static_assert(offsetof(pcell, d) % 8 == 0,
               "cell_hash reads the key as words");

struct wg_rpt {
    sqlite3_stmt *s[S_NSTMT];
    pcell *cells;      /* open addressing, cap a power of two */
    size_t cap, n;
};

static wg_rc get_stmt(wg_store *st, int k, sqlite3_stmt **out, wg_err *err)
{
    if (!st->rpt)
        st->rpt = wg_xcalloc(1, sizeof *st->rpt);
    sqlite3_stmt **slot = &st->rpt->s[k];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        *out = *slot;
        return WG_OK;
    }
    wg_rc rc = wg_store__prepare(st, stmt_sql[k], slot, err);
    *out = *slot;
    return rc;
}

void wg_store__report_release(wg_store *st)
{
    if (!st->rpt)
        return;
    for (int k = 0; k < S_NSTMT; k++)
        sqlite3_finalize(st->rpt->s[k]);
    wg_table_free(st->rpt->cells, st->rpt->cap, sizeof(pcell));
    free(st->rpt);
    st->rpt = NULL;
}

/* ---- schema ----------------------------------------------------------------- */

/* The aggregate tables, created as PREFIX + name ("rpt_" or "temp.v_"). */
static char *tables_sql(const char *prefix)
{
    char *sql = NULL;
    if (asprintf(&sql,
        "CREATE TABLE IF NOT EXISTS %1$syear(county TEXT NOT NULL, "
        "y TEXT NOT NULL, persons INTEGER NOT NULL, employed INTEGER NOT NULL, "
        "trained INTEGER NOT NULL, certified INTEGER NOT NULL, "
        "placements INTEGER NOT NULL, PRIMARY KEY(county, y)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS %1$smonth(ym TEXT NOT NULL, "
        "county TEXT NOT NULL, persons INTEGER NOT NULL, "
        "employed INTEGER NOT NULL, PRIMARY KEY(ym, county)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS %1$sday(bdate TEXT NOT NULL, "
        "county TEXT NOT NULL, persons INTEGER NOT NULL, "
        "employed INTEGER NOT NULL, PRIMARY KEY(bdate, county)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS %1$sincome(county TEXT NOT NULL, "
        "income INTEGER NOT NULL, n INTEGER NOT NULL, "
        "PRIMARY KEY(county, income)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS %1$sincome100(county TEXT NOT NULL, "
        "b INTEGER NOT NULL, n INTEGER NOT NULL, "
        "PRIMARY KEY(county, b)) WITHOUT ROWID;", prefix) < 0)
        abort();
    return sql;
}

wg_rc wg_store__report_schema(wg_store *st, wg_err *err)
{
    char *sql = tables_sql("rpt_");
    wg_rc rc = wg_store__exec(st, sql, err);
    free(sql);
    return rc;
}

static char *recount_sql(const char *prefix, const char *inc)
{
    char *sql = NULL;
    if (asprintf(&sql,
        "CREATE TEMP TABLE rpt_pp AS SELECT p.county AS county, "
        "  coalesce(p.birth_date, '') AS b, coalesce(e.np, 0) AS np, "
        "  coalesce(t.tr, 0) AS tr, coalesce(t.ce, 0) AS ce "
        "FROM person p "
        "LEFT JOIN (SELECT person_id, count(*) AS np FROM placement "
        "  WHERE deleted = 0 AND status = 'active' GROUP BY person_id) e "
        "  ON e.person_id = p.id "
        "LEFT JOIN (SELECT person_id, "
        "  max(outcome IN ('completed', 'certified')) AS tr, "
        "  max(outcome = 'certified') AS ce FROM training "
        "  WHERE deleted = 0 GROUP BY person_id) t ON t.person_id = p.id "
        "WHERE p.deleted = 0;"
        "INSERT INTO %1$syear SELECT county, substr(b, 1, 4), count(*), "
        "  sum(np > 0), sum(tr), sum(ce), sum(np) FROM rpt_pp GROUP BY 1, 2;"
        "INSERT INTO %1$smonth SELECT substr(b, 1, 7), county, count(*), "
        "  sum(np > 0) FROM rpt_pp WHERE b != '' GROUP BY 1, 2;"
        "INSERT INTO %1$sday SELECT b, county, count(*), sum(np > 0) "
        "  FROM rpt_pp WHERE b != '' GROUP BY 1, 2;"
        "INSERT INTO %1$sincome SELECT p.county, %2$s, count(*) "
        "  FROM placement x JOIN person p ON p.id = x.person_id "
        "  WHERE x.deleted = 0 AND x.status = 'active' "
        "  AND x.monthly_income IS NOT NULL AND p.deleted = 0 "
        "  GROUP BY 1, 2;"
        "INSERT INTO %1$sincome100 SELECT county, income / " BUCKET ", "
        "  sum(n) FROM %1$sincome GROUP BY 1, 2;"
        "DROP TABLE temp.rpt_pp;",
        prefix, inc) < 0)
        abort();
    return sql;
}

char *wg_store__report_recount_sql(const char *prefix)
{
    return recount_sql(prefix, INC_X);
}

static wg_rc rebuild(wg_store *st, wg_err *err);

/* The recount, into the tables PREFIX + name (made by tables_sql()). */
static wg_rc recount_into(wg_store *st, const char *prefix, wg_err *err)
{
    /* A store not upgraded yet (report_open runs first) has no fen
     * column: its whole yuan, in the same unit. The upgrade recounts. */
    sqlite3_stmt *probe = NULL;
    int fen = WG_SCHEMA_VERSION >= 3 &&
              sqlite3_prepare_v2(st->db, "SELECT monthly_income_fen FROM "
                                 "placement LIMIT 0", -1, &probe,
                                 NULL) == SQLITE_OK;
    sqlite3_finalize(probe);
    char *sql = recount_sql(prefix, fen ? INC_X : WG_SCHEMA_VERSION >= 3
                                                      ? "x.monthly_income * 100"
                                                      : INC_X);
    wg_rc rc = wg_store__exec(st, sql, err);
    free(sql);
    return rc;
}

wg_rc wg_store__report_recount(wg_store *st, wg_err *err)
{
    wg_rc rc = wg_store__report_schema(st, err);
    return rc ? rc : rebuild(st, err);
}

static wg_rc rebuild(wg_store *st, wg_err *err)
{
    wg_store__report_discard(st);   /* the recount counts what they held */
    wg_rc rc = wg_store__exec(st, "DELETE FROM rpt_year; DELETE FROM "
                                  "rpt_month; DELETE FROM rpt_day; DELETE "
                                  "FROM rpt_income; DELETE FROM "
                                  "rpt_income100;", err);
    if (rc == WG_OK)
        rc = recount_into(st, "rpt_", err);
    return rc;
}

wg_rc wg_store_report_rebuild(wg_store *st, wg_err *err)
{
    wg_rc rc = wg_store__begin(st, err);
    if (rc)
        return rc;
    if ((rc = wg_store__report_schema(st, err)) || (rc = rebuild(st, err))) {
        wg_store__rollback(st);
        return rc;
    }
    return wg_store__commit(st, err);
}

static int table_exists(wg_store *st, const char *name)
{
    sqlite3_stmt *s;
    int found = 0;
    if (wg_store__prepare(st, "SELECT 1 FROM sqlite_master WHERE type = "
                              "'table' AND name = ?", &s, NULL))
        return 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

wg_rc wg_store__report_open(wg_store *st, wg_err *err)
{
    if (table_exists(st, "rpt_income100"))
        return WG_OK;
    /* A store made before the report kept these aggregates: build them
     * once (an earlier layout's tables go first; they are derived). */
    wg_rc rc = wg_store__exec(st, "DROP TABLE IF EXISTS rpt_year;"
                                  "DROP TABLE IF EXISTS rpt_month;"
                                  "DROP TABLE IF EXISTS rpt_day;"
                                  "DROP TABLE IF EXISTS rpt_income;", err);
    return rc ? rc : wg_store_report_rebuild(st, err);
}

wg_rc wg_store_report_verify(wg_store *st, long *bad, wg_err *err)
{
    static const char *const names[] = { "year", "month", "day", "income",
                                         "income100" };
    *bad = 0;
    wg_rc rc = wg_store__report_flush(st, err);
    if (rc)
        return rc;
    char *sql = tables_sql("temp.v_");
    rc = wg_store__exec(st, sql, err);
    free(sql);
    if (rc == WG_OK)
        rc = recount_into(st, "temp.v_", err);
    for (size_t i = 0; rc == WG_OK && i < 2 * 5; i++) {
        const char *nm = names[i / 2];
        char q[256];
        if (i % 2)
            snprintf(q, sizeof q, "SELECT count(*) FROM (SELECT * FROM "
                     "temp.v_%s EXCEPT SELECT * FROM rpt_%s)", nm, nm);
        else
            snprintf(q, sizeof q, "SELECT count(*) FROM (SELECT * FROM "
                     "rpt_%s EXCEPT SELECT * FROM temp.v_%s)", nm, nm);
        sqlite3_stmt *s;
        if ((rc = wg_store__prepare(st, q, &s, err)))
            break;
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW)
            *bad += (long)sqlite3_column_int64(s, 0);
        else
            rc = wg_store__sqlerr(st, r, "checking the report aggregates",
                                  err);
        sqlite3_finalize(s);
    }
    wg_store__exec(st, "DROP TABLE IF EXISTS temp.v_year;"
                       "DROP TABLE IF EXISTS temp.v_month;"
                       "DROP TABLE IF EXISTS temp.v_day;"
                       "DROP TABLE IF EXISTS temp.v_income;"
                       "DROP TABLE IF EXISTS temp.v_income100;", NULL);
    return rc;
}

/* ---- applying contributions -------------------------------------------- */

static wg_rc step_done(wg_store *st, sqlite3_stmt *s, wg_err *err)
{
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE && r != SQLITE_ROW)
        return wg_store__sqlerr(st, r, "keeping the report aggregates", err);
    return WG_OK;
}

/* Write upsert K (S_*_ADD) for the cell (A, B or I) by the deltas D and,
 * when one was negative, its zero-row sweep K + 1. A and B are texts of
 * ALEN and BLEN bytes (-1: to their NUL); the income statements take A
 * and I. */
static wg_rc apply(wg_store *st, int k, const char *a, int alen,
                   const char *b, int blen, int64_t i, const int *d,
                   wg_err *err)
{
    int nd = k == S_YEAR_ADD ? 5 : k == S_INC_ADD || k == S_INC100_ADD ? 1
                                                                       : 2;
    int neg = 0;
    for (int j = 0; j < nd; j++)
        neg |= d[j] < 0;
    int income = k == S_INC_ADD || k == S_INC100_ADD;
    for (int pass = 0; pass < 1 + neg; pass++) {
        sqlite3_stmt *s;
        wg_rc rc = get_stmt(st, k + pass, &s, err);
        if (rc)
            return rc;
        sqlite3_bind_text(s, 1, a, alen, SQLITE_STATIC);
        if (income)
            sqlite3_bind_int64(s, 2, i);
        else
            sqlite3_bind_text(s, 2, b, blen, SQLITE_STATIC);
        for (int j = 0; !pass && j < nd; j++)
            sqlite3_bind_int(s, 3 + j, d[j]);
        if ((rc = step_done(st, s, err)))
            return rc;
    }
    return WG_OK;
}

/* ---- the deltas a transaction buffers ------------------------------------ */

/* A merge moves the same few cells again and again (an import of a
 * county's persons adds one to its year, month and day cells row after
 * row), so a transaction adds its deltas up in memory and writes each
 * cell once, before COMMIT (wg_store__report_flush(), called by
 * wg_store__commit()); a rollback drops them (wg_store__report_discard()).
 * Nothing reads the aggregate tables between: the report flushes first.
 * Outside a transaction each delta is written at once. The buffer holds
 * at most PEND_MAX cells; a transaction that moves more writes them out
 * and starts again. */

/* The key's bytes (from k to d, zero-filled) as five words, mixed. */
static uint64_t cell_hash(const pcell *c)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    const uint8_t *p = (const uint8_t *)c;
    for (size_t o = 0; o < offsetof(pcell, d); o += 8) {
        uint64_t w;
        memcpy(&w, p + o, 8);
        if (o == 0)
            w &= ~(uint64_t)0xff;   /* `used` is not part of the key */
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    return h;
}

static int cell_same(const pcell *x, const pcell *y)
{
    return !memcmp(&x->k, &y->k, offsetof(pcell, d) - offsetof(pcell, k));
}

static void pend_put(struct wg_rpt *r, const pcell *key, const int *d, int nd)
{
    size_t m = r->cap - 1, j = (size_t)cell_hash(key) & m;
    while (r->cells[j].used && !cell_same(&r->cells[j], key))
        j = (j + 1) & m;
    pcell *c = &r->cells[j];
    if (!c->used) {
        memcpy(c, key, sizeof *c);   /* padding included: compared as bytes */
        memset(c->d, 0, sizeof c->d);
        c->used = 1;
        r->n++;
    }
    for (int x = 0; x < nd; x++)
        c->d[x] += d[x];
}

static void pend_grow(struct wg_rpt *r)
{
    pcell *old = r->cells;
    size_t ocap = r->cap;
    r->cap = ocap ? ocap * 2 : 1024;
    r->cells = wg_table_alloc(r->cap, sizeof *r->cells);
    r->n = 0;
    for (size_t j = 0; j < ocap; j++)
        if (old[j].used)
            pend_put(r, &old[j], old[j].d, 5);
    wg_table_free(old, ocap, sizeof *old);
}

void wg_store__report_discard(wg_store *st)
{
    struct wg_rpt *r = st->rpt;
    if (r && r->cap > PEND_KEEP) {   /* a big transaction's table: freed */
        wg_table_free(r->cells, r->cap, sizeof *r->cells);
        r->cells = NULL;
        r->cap = r->n = 0;
    } else if (r && r->n) {
        memset(r->cells, 0, r->cap * sizeof *r->cells);
        r->n = 0;
    }
}

wg_rc wg_store__report_flush(wg_store *st, wg_err *err)
{
    struct wg_rpt *r = st->rpt;
    if (!r || !r->n)
        return WG_OK;
    wg_rc rc = WG_OK;
    for (size_t j = 0; rc == WG_OK && j < r->cap; j++) {
        const pcell *c = &r->cells[j];
        if (c->used && (c->d[0] | c->d[1] | c->d[2] | c->d[3] | c->d[4]))
            rc = apply(st, c->k, c->a, -1, c->b, -1, c->i, c->d, err);
    }
    wg_store__report_discard(st);
    return rc;
}

/* Add deltas D to the cell of upsert K: buffered inside a transaction,
 * written at once outside one (or when a text does not fit a cell). */
static wg_rc delta(wg_store *st, int k, const char *a, int alen,
                   const char *b, int blen, int64_t i, const int *d,
                   wg_err *err)
{
    size_t la = alen < 0 ? strlen(a) : (size_t)alen;
    size_t lb = !b ? 0 : blen < 0 ? strlen(b) : (size_t)blen;
    if (sqlite3_get_autocommit(st->db) || la >= PEND_TEXT || lb >= PEND_TEXT)
        return apply(st, k, a, alen, b, blen, i, d, err);
    if (!st->rpt)
        st->rpt = wg_xcalloc(1, sizeof *st->rpt);
    struct wg_rpt *r = st->rpt;
    if (r->n >= PEND_MAX) {
        wg_rc rc = wg_store__report_flush(st, err);
        if (rc)
            return rc;
    }
    if (2 * (r->n + 1) > r->cap)
        pend_grow(r);
    pcell key;
    memset(&key, 0, sizeof key);
    key.k = (uint8_t)k;
    memcpy(key.a, a, la);
    if (b)
        memcpy(key.b, b, lb);
    key.i = i;
    int nd = k == S_YEAR_ADD ? 5 : k == S_INC_ADD || k == S_INC100_ADD ? 1
                                                                       : 2;
    pend_put(r, &key, d, nd);
    return WG_OK;
}

/* Add the deltas to the cells of COUNTY and birth date BDATE ("" unknown):
 * its year, month and day. */
static wg_rc cell_add(wg_store *st, const char *county, const char *bdate,
                      int dp, int de, int dt, int dc, int dpl, wg_err *err)
{
    if (!dp && !de && !dt && !dc && !dpl)
        return WG_OK;
    int d[5] = { dp, de, dt, dc, dpl };
    wg_rc rc = delta(st, S_YEAR_ADD, county, -1, bdate, bdate[0] ? 4 : 0, 0,
                     d, err);
    if (rc || !bdate[0] || (!dp && !de))
        return rc;
    /* month and day are keyed (when, county) */
    if ((rc = delta(st, S_MONTH_ADD, bdate, 7, county, -1, 0, d, err)))
        return rc;
    return delta(st, S_DAY_ADD, bdate, -1, county, -1, 0, d, err);
}

static wg_rc income_add(wg_store *st, const char *county, int64_t income,
                        int d, wg_err *err)
{
    wg_rc rc = delta(st, S_INC_ADD, county, -1, NULL, 0, income, &d, err);
    /* the 100-yuan bucket, as the statement's ?2 / BUCKET keys it */
    return rc ? rc : delta(st, S_INC100_ADD, county, -1, NULL, 0,
                           income / BUCKET_N * BUCKET_N, &d, err);
}

static void copy_col(sqlite3_stmt *s, int col, char *out, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(s, col);
    size_t n = v ? (size_t)sqlite3_column_bytes(s, col) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v ? v : "", n);
    out[n] = '\0';
}

/* The live person PID's county and birth date; 0 when there is none. */
static int person_live(wg_store *st, const char *pid, char *county,
                       char *bdate, wg_rc *rc, wg_err *err)
{
    sqlite3_stmt *s;
    if ((*rc = get_stmt(st, S_PERSON_LIVE, &s, err)))
        return 0;
    sqlite3_bind_text(s, 1, pid, -1, SQLITE_STATIC);
    int r = sqlite3_step(s), found = 0;
    if (r == SQLITE_ROW) {
        found = 1;
        copy_col(s, 0, county, WG_COUNTY_CHARS + 1);
        copy_col(s, 1, bdate, WG_REPORT_DATE_CHARS + 1);
    } else if (r != SQLITE_DONE) {
        *rc = wg_store__sqlerr(st, r, "keeping the report aggregates", err);
    }
    sqlite3_reset(s);
    return found;
}

/* Two integers from a one-row statement K on (PID, ID); ID may be NULL. */
static wg_rc query2(wg_store *st, int k, const char *pid, const char *id,
                    int64_t *a, int64_t *b, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = get_stmt(st, k, &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, pid, -1, SQLITE_STATIC);
    if (id)
        sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *a = sqlite3_column_int64(s, 0);
        if (b)
            *b = sqlite3_column_int64(s, 1);
    } else {
        rc = wg_store__sqlerr(st, r, "keeping the report aggregates", err);
    }
    sqlite3_reset(s);
    return rc;
}

/* Move the whole contribution of person PID (its placements and trainings)
 * by SIGN into (COUNTY, BDATE). ALONE: PID was drawn at random just now,
 * so no placement or training names it. */
static wg_rc person_move(wg_store *st, const char *pid, const char *county,
                         const char *bdate, int sign, int alone, wg_err *err)
{
    int64_t np = 0, tr = 0, ce = 0;
    if (alone)   /* nothing can name it: its own cell only */
        return cell_add(st, county, bdate, sign, 0, 0, 0, 0, err);
    sqlite3_stmt *s;
    wg_rc rc = get_stmt(st, S_PARTS, &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, pid, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        np = sqlite3_column_int64(s, 0);
        tr = sqlite3_column_int64(s, 1);
        ce = sqlite3_column_int64(s, 2);
    } else {
        rc = wg_store__sqlerr(st, r, "keeping the report aggregates", err);
    }
    sqlite3_reset(s);
    if (rc)
        return rc;
    if ((rc = cell_add(st, county, bdate, sign, sign * (np > 0),
                       sign * (int)tr, sign * (int)ce, sign * (int)np, err)))
        return rc;
    if (!np)
        return WG_OK;
    if ((rc = get_stmt(st, S_INCOMES, &s, err)))
        return rc;
    sqlite3_bind_text(s, 1, pid, -1, SQLITE_STATIC);
    int64_t inc[64];
    int n = 0;
    /* Few incomes per person: collect them before writing, since writing
     * the table being read would disturb the read. */
    int64_t *more = NULL;
    size_t nmore = 0, capmore = 0;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(s, 0);
        if (n < 64) {
            inc[n++] = v;
        } else {
            if (nmore == capmore) {
                capmore = capmore ? capmore * 2 : 64;
                more = wg_xrealloc(more, capmore * sizeof *more);
            }
            more[nmore++] = v;
        }
    }
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "keeping the report aggregates", err);
    for (int i = 0; rc == WG_OK && i < n; i++)
        rc = income_add(st, county, inc[i], sign, err);
    for (size_t i = 0; rc == WG_OK && i < nmore; i++)
        rc = income_add(st, county, more[i], sign, err);
    free(more);
    return rc;
}

static int kind_of(const wg_table *t)
{
    static const wg_table *person, *placement, *training;
    if (!person) {
        person = wg_schema_table("person");
        placement = wg_schema_table("placement");
        training = wg_schema_table("training");
    }
    return t == person ? WG_RPT_PERSON : t == placement ? WG_RPT_PLACEMENT
           : t == training ? WG_RPT_TRAINING : 0;
}

/* Read the fields that count of record ID of KIND into *R. */
static wg_rc read_state(wg_store *st, int kind, const char *id,
                        wg_rpt_state *r, wg_err *err)
{
    static const int k_of[] = { 0, S_GET_PERSON, S_GET_PLACEMENT,
                                S_GET_TRAINING };
    memset(r, 0, sizeof *r);
    sqlite3_stmt *s;
    wg_rc rc = get_stmt(st, k_of[kind], &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int q = sqlite3_step(s);
    if (q == SQLITE_ROW) {
        r->present = 1;
        if (kind == WG_RPT_PERSON) {
            copy_col(s, 0, r->county, sizeof r->county);
            copy_col(s, 1, r->bdate, sizeof r->bdate);
            r->live = sqlite3_column_int(s, 2) == 0;
        } else {
            copy_col(s, 0, r->pid, sizeof r->pid);
            const char *v = (const char *)sqlite3_column_text(s, 1);
            r->live = sqlite3_column_int(s, 2) == 0;
            if (kind == WG_RPT_PLACEMENT) {
                r->a = v && !strcmp(v, "active");
                r->has_income = sqlite3_column_type(s, 3) != SQLITE_NULL;
                r->income = sqlite3_column_int64(s, 3);
            } else {
                r->a = v && (!strcmp(v, "completed") ||
                             !strcmp(v, "certified"));
                r->b = v && !strcmp(v, "certified");
            }
        }
    } else if (q != SQLITE_DONE) {
        rc = wg_store__sqlerr(st, q, "keeping the report aggregates", err);
    }
    sqlite3_reset(s);
    return rc;
}

wg_rc wg_store__report_before(wg_store *st, const wg_table *t, const char *id,
                              int absent, wg_rpt_note *note, wg_err *err)
{
    memset(note, 0, sizeof *note);
    note->kind = kind_of(t);
    if (!note->kind)
        return WG_OK;
    size_t n = strnlen(id, sizeof note->id - 1);
    memcpy(note->id, id, n);
    note->id[n] = '\0';
    if (absent)
        return WG_OK;   /* old: not present */
    return read_state(st, note->kind, id, &note->old, err);
}

/* Does state R of a placement or training count for person PID? */
static int part_of(const wg_rpt_state *r, const char *pid)
{
    return r->present && r->live && r->pid[0] && !strcmp(r->pid, pid);
}

static wg_rc child_changed(wg_store *st, const wg_rpt_note *note,
                           const wg_rpt_state *nw, wg_err *err)
{
    const wg_rpt_state *old = &note->old;
    const char *pids[2] = { NULL, NULL };
    if (old->present && old->live && old->pid[0])
        pids[0] = old->pid;
    if (nw->present && nw->live && nw->pid[0] &&
        (!pids[0] || strcmp(pids[0], nw->pid)))
        pids[1] = nw->pid;
    for (int i = 0; i < 2; i++) {
        const char *pid = pids[i];
        if (!pid)
            continue;
        char county[WG_COUNTY_CHARS + 1], bdate[WG_REPORT_DATE_CHARS + 1];
        wg_rc rc = WG_OK;
        if (!person_live(st, pid, county, bdate, &rc, err)) {
            if (rc)
                return rc;
            continue;   /* no live person: nothing of it counts */
        }
        int op = part_of(old, pid), np_ = part_of(nw, pid);
        int64_t a = 0, b = 0;
        if (note->kind == WG_RPT_PLACEMENT) {
            int oa = op && old->a, na = np_ && nw->a;
            if ((rc = query2(st, S_NP_EXCL, pid, note->id, &a, NULL, err)))
                return rc;
            int eb = a + oa > 0, ea = a + na > 0;
            if ((rc = cell_add(st, county, bdate, 0, ea - eb, 0, 0, na - oa,
                               err)))
                return rc;
            if (oa && old->has_income &&
                (rc = income_add(st, county, old->income, -1, err)))
                return rc;
            if (na && nw->has_income &&
                (rc = income_add(st, county, nw->income, 1, err)))
                return rc;
        } else {
            if ((rc = query2(st, S_TR_EXCL, pid, note->id, &a, &b, err)))
                return rc;
            int tb = a || (op && old->a), ta = a || (np_ && nw->a);
            int cb = b || (op && old->b), ca = b || (np_ && nw->b);
            if ((rc = cell_add(st, county, bdate, 0, 0, ta - tb, ca - cb, 0,
                               err)))
                return rc;
        }
    }
    return WG_OK;
}

/* Move the aggregates from NOTE's old state to NW. */
static wg_rc moved(wg_store *st, const wg_rpt_note *note,
                   const wg_rpt_state *nwp, int alone, wg_err *err)
{
    wg_rpt_state nw = *nwp;
    wg_rc rc = WG_OK;
    const wg_rpt_state *old = &note->old;
    if (note->kind == WG_RPT_PERSON) {
        int oc = old->present && old->live, nc = nw.present && nw.live;
        if (oc == nc && (!oc || (!strcmp(old->county, nw.county) &&
                                 !strcmp(old->bdate, nw.bdate))))
            return WG_OK;
        if (oc && (rc = person_move(st, note->id, old->county, old->bdate, -1,
                                    0, err)))
            return rc;
        if (nc)
            rc = person_move(st, note->id, nw.county, nw.bdate, 1, alone,
                             err);
        return rc;
    }
    if (old->present == nw.present && old->live == nw.live &&
        !strcmp(old->pid, nw.pid) && old->a == nw.a && old->b == nw.b &&
        old->has_income == nw.has_income && old->income == nw.income)
        return WG_OK;
    return child_changed(st, note, &nw, err);
}

wg_rc wg_store__report_after(wg_store *st, const wg_rpt_note *note,
                             wg_err *err)
{
    if (!note->kind)
        return WG_OK;
    wg_rpt_state nw;
    wg_rc rc = read_state(st, note->kind, note->id, &nw, err);
    return rc ? rc : moved(st, note, &nw, 0, err);
}

/* Text field F of change C into OUT (CAP bytes, cut as copy_col() cuts);
 * 1 when C sets it to a text. */
static int change_text(const wg_change *c, int f, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; f >= 0 && i < c->nfields; i++)
        if (c->fields[i].index == f) {
            if (c->fields[i].type != WG_VAL_TEXT)
                return 0;
            size_t n = c->fields[i].len < cap - 1 ? c->fields[i].len : cap - 1;
            memcpy(out, c->fields[i].text, n);
            out[n] = '\0';
            return 1;
        }
    return 0;
}

/* Integer field F of change C into *V; 1 when C sets it to an integer. */
static int change_int(const wg_change *c, int f, int64_t *v)
{
    for (int i = 0; f >= 0 && i < c->nfields; i++)
        if (c->fields[i].index == f) {
            if (c->fields[i].type != WG_VAL_INT)
                return 0;
            *v = c->fields[i].i;
            return 1;
        }
    return 0;
}

wg_rc wg_store__report_after_new(wg_store *st, const wg_rpt_note *note,
                                 const wg_table *t, const wg_change *c,
                                 int new_id, wg_err *err)
{
    if (!note->kind)
        return WG_OK;
    /* The row was just made from C alone: its state is C's (what
     * read_state() would read back). */
    wg_rpt_state nw;
    memset(&nw, 0, sizeof nw);
    nw.present = 1;
    int64_t del = 0, v = 0;
    change_int(c, WG_FIELD_DELETED, &del);
    nw.live = del == 0;
    char text[WG_FIELD_MAX_BYTES + 1];
    if (note->kind == WG_RPT_PERSON) {
        change_text(c, wg_schema_field_index(t, "county"), nw.county,
                    sizeof nw.county);
        change_text(c, wg_schema_field_index(t, "birth_date"), nw.bdate,
                    sizeof nw.bdate);
    } else {
        change_text(c, wg_schema_field_index(t, "person_id"), nw.pid,
                    sizeof nw.pid);
    }
    if (note->kind == WG_RPT_PLACEMENT) {
        int has = change_text(c, wg_schema_field_index(t, "status"), text,
                              sizeof text);
        nw.a = has && !strcmp(text, "active");
#if WG_SCHEMA_VERSION >= 3
        if (change_int(c, wg_schema_field_index(t, "monthly_income_fen"),
                       &v)) {
            nw.has_income = 1;
            nw.income = v;
        } else if (change_int(c, wg_schema_field_index(t, "monthly_income"),
                              &v)) {
            nw.has_income = 1;
            nw.income = v * 100;
        }
#else
        if (change_int(c, wg_schema_field_index(t, "monthly_income"), &v)) {
            nw.has_income = 1;
            nw.income = v;
        }
#endif
    } else if (note->kind == WG_RPT_TRAINING) {
        int has = change_text(c, wg_schema_field_index(t, "outcome"), text,
                              sizeof text);
        nw.a = has && (!strcmp(text, "completed") ||
                       !strcmp(text, "certified"));
        nw.b = has && !strcmp(text, "certified");
    }
    return moved(st, note, &nw, new_id, err);
}
