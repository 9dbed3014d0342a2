/*
 * report.c - the federation's figures over the merged record tables
 *
 * The definitions are in wg_store.h ("reports"). Every table groups live
 * persons by one or two dimensions, so each person is counted once and
 * every total is the sum of its rows. Two ways to an answer:
 *
 *   aggregates  the default report (by county, the records as they are,
 *               ages on the report date) reads the tables report_agg.c
 *               keeps in step with every merge: no scan of persons;
 *   scan        everything else (--as-of, --from/--to, any --by, --recount)
 *               runs SQL over the record tables: persons counted per group
 *               from the person table; employed, trained and the flows by
 *               looking up only the persons that have a placement or a
 *               training; medians in C over the incomes SQLite returns.
 *
 * Dates in the SQL are literals: each one passed wg_validate_date() first,
 * and benchmarks hand the very same text to the sqlite3 shell.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg_validate.h"

/* ---- dimensions ----------------------------------------------------------- */

static const struct {
    const char *name;
    const char *expr;   /* over person p, and me / mt when joined */
} dims[WG_DIM_COUNT] = {
    { "county", "p.county" },
    { "township", "coalesce(p.township, '')" },
    { "gender", "coalesce(p.gender, '')" },
    { "disability_category", "coalesce(p.disability_category, '')" },
    { "disability_grade", "coalesce(p.disability_grade, '')" },
    { "rural", "coalesce(p.rural, '')" },
    { "employment_type", "coalesce(me.employment_type, '')" },
    { "category", "coalesce(mt.category, '')" },
};

const char *wg_report_dim_name(wg_report_dim d)
{
    return d < WG_DIM_COUNT ? dims[d].name : "?";
}

int wg_report_dim_parse(const char *name)
{
    for (int i = 0; i < WG_DIM_COUNT; i++)
        if (!strcmp(dims[i].name, name))
            return i;
    return -1;
}

void wg_report_query_init(wg_report_query *q)
{
    memset(q, 0, sizeof *q);
    q->ndims = 1;
    q->dims[0] = WG_DIM_COUNTY;
    q->age_min = WG_REPORT_AGE_MIN;
    q->age_max = WG_REPORT_AGE_MAX;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(q->today, sizeof q->today, "%Y-%m-%d", &tm);
}

/* ---- rows ------------------------------------------------------------------ */

typedef struct incomes {
    int64_t *v;
    size_t n, cap;
} incomes;

static void push(incomes *in, int64_t v)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 16;
        in->v = wg_xrealloc(in->v, in->cap * sizeof *in->v);
    }
    in->v[in->n++] = v;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The cells of a report being built: rows, their incomes, and an open
 * addressing index over (key 0, key 1). */
typedef struct cells {
    wg_report_row *rows;
    incomes *inc;
    size_t n, cap;
    size_t *slot;    /* index + 1; 0 empty */
    size_t nslot;
} cells;

static uint64_t hash2(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *a; a++)
        h = (h ^ (uint8_t)*a) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (; *b; b++)
        h = (h ^ (uint8_t)*b) * 1099511628211ULL;
    return h;
}

static void rehash(cells *c)
{
    free(c->slot);
    c->nslot = c->nslot ? c->nslot * 2 : 256;
    c->slot = wg_xcalloc(c->nslot, sizeof *c->slot);
    for (size_t i = 0; i < c->n; i++) {
        size_t j = hash2(c->rows[i].key[0], c->rows[i].key[1]) & (c->nslot - 1);
        while (c->slot[j])
            j = (j + 1) & (c->nslot - 1);
        c->slot[j] = i + 1;
    }
}

static wg_report_row *cell(cells *c, const char *k0, const char *k1)
{
    if ((c->n + 1) * 2 > c->nslot)
        rehash(c);
    size_t j = hash2(k0, k1) & (c->nslot - 1);
    for (; c->slot[j]; j = (j + 1) & (c->nslot - 1)) {
        wg_report_row *r = &c->rows[c->slot[j] - 1];
        if (!strcmp(r->key[0], k0) && !strcmp(r->key[1], k1))
            return r;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->rows = wg_xrealloc(c->rows, c->cap * sizeof *c->rows);
        c->inc = wg_xrealloc(c->inc, c->cap * sizeof *c->inc);
    }
    wg_report_row *r = &c->rows[c->n];
    memset(r, 0, sizeof *r);
    memset(&c->inc[c->n], 0, sizeof c->inc[c->n]);
    snprintf(r->key[0], sizeof r->key[0], "%s", k0);
    snprintf(r->key[1], sizeof r->key[1], "%s", k1);
    c->slot[j] = ++c->n;
    return r;
}

static void cells_release(cells *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->inc[i].v);
    free(c->inc);
    free(c->rows);
    free(c->slot);
    memset(c, 0, sizeof *c);
}

/* "" sorts last: the row of persons without the value. */
static int keycmp(const char *a, const char *b)
{
    if (!*a != !*b)
        return *a ? -1 : 1;
    return strcmp(a, b);
}

static int rowcmp(const void *x, const void *y)
{
    const wg_report_row *a = x, *b = y;
    int d = keycmp(a->key[0], b->key[0]);
    return d ? d : keycmp(a->key[1], b->key[1]);
}

/* Incomes are counted in fen from schema 3 (monthly_income_fen, else the
 * whole yuan x 100; report_agg.c keeps its aggregates in the same unit);
 * medians are reported in yuan. */
#if WG_SCHEMA_VERSION >= 3
#define INC_X "coalesce(x.monthly_income_fen, x.monthly_income * 100)"
#define PER_YUAN 100
#else
#define INC_X "x.monthly_income"
#define PER_YUAN 1
#endif

static void set_median(wg_report_row *r, int64_t *v, size_t n, int sorted)
{
    if (!n)
        return;
    if (!sorted)
        qsort(v, n, sizeof *v, cmp64);
    r->has_median = 1;
    r->median = (n % 2 ? (double)v[n / 2]
                       : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0) /
                PER_YUAN;
}

/* Rounded half up to two decimals, in integers so that 58.05 is 58.05. */
static double rate_of(long num, long den)
{
    if (den <= 0)
        return 0.0;
    long long r = (20000LL * num + den) / (2LL * den);
    return (double)r / 100.0;
}

static void add_counts(wg_report_row *to, const wg_report_row *r)
{
    to->persons += r->persons;
    to->working_age += r->working_age;
    to->working_age_employed += r->working_age_employed;
    to->employed += r->employed;
    to->trained += r->trained;
    to->certified += r->certified;
    to->placements += r->placements;
    to->newly_trained += r->newly_trained;
    to->newly_placed += r->newly_placed;
    to->placements_ended += r->placements_ended;
}

/* Turn the cells into OUT's rows: sorted cells, then the subtotals, then
 * the grand total; medians from the incomes of the rows summed. */
static void finish(cells *c, int ndims, wg_report *out)
{
    /* Sort cells and their incomes together via an index. */
    size_t n = c->n;
    wg_report_row *sorted = wg_xmalloc((n ? n : 1) * sizeof *sorted);
    incomes *sinc = wg_xmalloc((n ? n : 1) * sizeof *sinc);
    size_t *idx = wg_xmalloc((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        c->rows[i].total = (unsigned)i;   /* carries the index while sorting */
    memcpy(sorted, c->rows, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, rowcmp);
    for (size_t i = 0; i < n; i++) {
        idx[i] = sorted[i].total;
        sorted[i].total = 0;
        sinc[i] = c->inc[idx[i]];
    }
    free(idx);

    size_t cap = n + 1;
    wg_report_row *rows = wg_xmalloc(cap * sizeof *rows);
    size_t m = 0;
    incomes all = { 0 };
    for (size_t i = 0; i < n; i++) {
        rows[m] = sorted[i];
        set_median(&rows[m], sinc[i].v, sinc[i].n, 0);
        m++;
        for (size_t k = 0; k < sinc[i].n; k++)
            push(&all, sinc[i].v[k]);
    }
    if (ndims == 2) {
        /* Subtotals per value of the first dimension (sorted: runs), then
         * per value of the second. */
        for (int d = 0; d < 2; d++) {
            cells sub = { 0 };
            for (size_t i = 0; i < n; i++) {
                wg_report_row *s = cell(&sub, d == 0 ? sorted[i].key[0] : "",
                                        d == 1 ? sorted[i].key[1] : "");
                add_counts(s, &sorted[i]);
                size_t si = (size_t)(s - sub.rows);
                for (size_t k = 0; k < sinc[i].n; k++)
                    push(&sub.inc[si], sinc[i].v[k]);
            }
            for (size_t i = 0; i < sub.n; i++)
                sub.rows[i].total = (unsigned)i;
            wg_report_row *ss = wg_xmalloc((sub.n ? sub.n : 1) * sizeof *ss);
            memcpy(ss, sub.rows, sub.n * sizeof *ss);
            qsort(ss, sub.n, sizeof *ss, rowcmp);
            cap += sub.n;
            rows = wg_xrealloc(rows, cap * sizeof *rows);
            for (size_t i = 0; i < sub.n; i++) {
                incomes *in = &sub.inc[ss[i].total];
                ss[i].total = d == 0 ? 2u : 1u;
                set_median(&ss[i], in->v, in->n, 0);
                rows[m++] = ss[i];
            }
            free(ss);
            cells_release(&sub);
        }
    }
    wg_report_row *g = &out->grand;
    memset(g, 0, sizeof *g);
    g->total = ndims == 2 ? 3u : 1u;
    for (size_t i = 0; i < n; i++)
        add_counts(g, &sorted[i]);
    set_median(g, all.v, all.n, 0);
    rows[m++] = *g;
    for (size_t i = 0; i < m; i++)
        rows[i].rate = rate_of(rows[i].working_age_employed,
                               rows[i].working_age);
    out->grand.rate = rows[m - 1].rate;
    out->rows = rows;
    out->n = m;
    free(all.v);
    free(sorted);
    free(sinc);   /* the vectors themselves are c->inc's */
}

void wg_report_release(wg_report *r)
{
    free(r->rows);
    r->rows = NULL;
    r->n = 0;
}

/* ---- the scan ---------------------------------------------------------- */

/* The limits of working age on DATE: born after LO and on or before HI.
 * Years are shifted as text: a 29 February that does not exist in the
 * shifted year still compares correctly (nothing lies between 28 February
 * and 1 March). */
static void age_limits(const char *date, int amin, int amax, char lo[16],
                       char hi[16])
{
    int y = atoi(date);
    snprintf(lo, 16, "%04d%s", y - amax - 1, date + 4);
    snprintf(hi, 16, "%04d%s", y - amin, date + 4);
}

typedef struct sqlctx {
    const wg_report_query *q;
    const char *date;
    char lo[16], hi[16];
    char active[256];   /* ACTIVE(x) */
    char trained[160], certified[160];
    char reg[64];
    char wa[96];
    char g[160];        /* grouping expressions */
    char joins[640];
} sqlctx;

static void sql_init(sqlctx *x, const wg_report_query *q, const char *date)
{
    memset(x, 0, sizeof *x);
    x->q = q;
    x->date = date;
    age_limits(date, q->age_min, q->age_max, x->lo, x->hi);
    int asof = q->as_of[0] != 0;
    if (asof) {
        snprintf(x->active, sizeof x->active,
                 "x.start_date <= '%s' AND CASE WHEN x.end_date IS NULL "
                 "THEN x.status = 'active' ELSE x.end_date > '%s' END",
                 date, date);
        snprintf(x->trained, sizeof x->trained,
                 "x.outcome IN ('completed', 'certified') AND "
                 "x.end_date <= '%s'", date);
        snprintf(x->certified, sizeof x->certified,
                 "x.outcome = 'certified' AND x.end_date <= '%s'", date);
        snprintf(x->reg, sizeof x->reg, " AND p.registered_on <= '%s'", date);
    } else {
        snprintf(x->active, sizeof x->active, "x.status = 'active'");
        snprintf(x->trained, sizeof x->trained,
                 "x.outcome IN ('completed', 'certified')");
        snprintf(x->certified, sizeof x->certified, "x.outcome = 'certified'");
    }
    snprintf(x->wa, sizeof x->wa,
             "(p.birth_date > '%s' AND p.birth_date <= '%s')", x->lo, x->hi);
    snprintf(x->g, sizeof x->g, "%s, %s", dims[q->dims[0]].expr,
             q->ndims > 1 ? dims[q->dims[1]].expr : "''");
    size_t len = 0;
    for (int i = 0; i < q->ndims; i++) {
        if (q->dims[i] == WG_DIM_EMPLOYMENT_TYPE)
            len += (size_t)snprintf(x->joins + len, sizeof x->joins - len,
                " LEFT JOIN (SELECT x.person_id, x.employment_type, "
                "max(x.start_date || printf('%%012d', "
                "coalesce(x.monthly_income, 0)) || x.id) FROM placement x "
                "WHERE x.deleted = 0 AND %s GROUP BY x.person_id) me "
                "ON me.person_id = p.id", x->active);
        if (q->dims[i] == WG_DIM_CATEGORY) {
            char when[64] = "";
            if (asof)
                snprintf(when, sizeof when, " AND x.start_date <= '%s'", date);
            len += (size_t)snprintf(x->joins + len, sizeof x->joins - len,
                " LEFT JOIN (SELECT x.person_id, x.category, "
                "max(x.start_date || x.id) FROM training x "
                "WHERE x.deleted = 0%s GROUP BY x.person_id) mt "
                "ON mt.person_id = p.id", when);
        }
    }
}

enum { F_PERSONS, F_EMPLOYED, F_TRAINED, F_NEW_TRAINED, F_NEW_PLACED,
       F_ENDED, F_INCOME, F_NQUERIES };

/* The SQL of query K into OUT (NULL when the query does not run). */
static char *query_sql(const sqlctx *x, int k)
{
    const wg_report_query *q = x->q;
    char *s = NULL;
    int r = 0;
    switch (k) {
    case F_PERSONS:
        /* Every live person is read: a scan of the table, never a walk of
         * a partial index over deleted = 0 (the listing's) that would
         * look each row up in the table again. */
        r = asprintf(&s, "SELECT %s, count(*), sum(%s) FROM person p "
                     "NOT INDEXED%s "
                     "WHERE p.deleted = 0%s GROUP BY 1, 2",
                     x->g, x->wa, x->joins, x->reg);
        break;
    case F_EMPLOYED:
        r = asprintf(&s, "SELECT %s, count(*), sum(%s), sum(e.np) FROM "
                     "(SELECT x.person_id, count(*) AS np FROM placement x "
                     "WHERE x.deleted = 0 AND %s GROUP BY x.person_id) e "
                     "JOIN person p ON p.id = e.person_id%s "
                     "WHERE p.deleted = 0%s GROUP BY 1, 2",
                     x->g, x->wa, x->active, x->joins, x->reg);
        break;
    case F_TRAINED:
        r = asprintf(&s, "SELECT %s, sum(t.tr), sum(t.ce) FROM "
                     "(SELECT x.person_id, max(%s) AS tr, max(%s) AS ce "
                     "FROM training x WHERE x.deleted = 0 AND "
                     "x.outcome IN ('completed', 'certified') "
                     "GROUP BY x.person_id) t "
                     "JOIN person p ON p.id = t.person_id%s "
                     "WHERE p.deleted = 0%s GROUP BY 1, 2",
                     x->g, x->trained, x->certified, x->joins, x->reg);
        break;
    case F_NEW_TRAINED:
    case F_NEW_PLACED:
        if (!q->from[0])
            return NULL;
        r = asprintf(&s, "SELECT %s, count(*) FROM "
                     "(SELECT DISTINCT x.person_id FROM %s x "
                     "WHERE x.deleted = 0 AND %s BETWEEN '%s' AND '%s') f "
                     "JOIN person p ON p.id = f.person_id%s "
                     "WHERE p.deleted = 0%s GROUP BY 1, 2",
                     x->g, k == F_NEW_TRAINED ? "training" : "placement",
                     k == F_NEW_TRAINED
                         ? "x.outcome IN ('completed', 'certified') AND "
                           "x.end_date"
                         : "x.start_date",
                     q->from, q->to, x->joins, x->reg);
        break;
    case F_ENDED:
        if (!q->from[0])
            return NULL;
        r = asprintf(&s, "SELECT %s, count(*) FROM placement x "
                     "JOIN person p ON p.id = x.person_id%s "
                     "WHERE x.deleted = 0 AND x.end_date BETWEEN '%s' AND "
                     "'%s' AND p.deleted = 0%s GROUP BY 1, 2",
                     x->g, x->joins, q->from, q->to, x->reg);
        break;
    case F_INCOME:
        r = asprintf(&s, "SELECT %s, " INC_X " FROM placement x "
                     "JOIN person p ON p.id = x.person_id%s "
                     "WHERE x.deleted = 0 AND %s AND "
                     "x.monthly_income IS NOT NULL AND p.deleted = 0%s",
                     x->g, x->joins, x->active, x->reg);
        break;
    }
    if (r < 0)
        abort();
    return s;
}

static wg_rc run_query(wg_store *st, const char *sql, int k, cells *c,
                       wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const char *k0 = (const char *)sqlite3_column_text(s, 0);
        const char *k1 = (const char *)sqlite3_column_text(s, 1);
        wg_report_row *row = cell(c, k0 ? k0 : "", k1 ? k1 : "");
        long a = (long)sqlite3_column_int64(s, 2);
        long b = (long)sqlite3_column_int64(s, 3);
        switch (k) {
        case F_PERSONS:
            row->persons += a;
            row->working_age += b;
            break;
        case F_EMPLOYED:
            row->employed += a;
            row->working_age_employed += b;
            row->placements += (long)sqlite3_column_int64(s, 4);
            break;
        case F_TRAINED:
            row->trained += a;
            row->certified += b;
            break;
        case F_NEW_TRAINED: row->newly_trained += a; break;
        case F_NEW_PLACED: row->newly_placed += a; break;
        case F_ENDED: row->placements_ended += a; break;
        case F_INCOME:
            push(&c->inc[row - c->rows], sqlite3_column_int64(s, 2));
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "computing a report", err);
    sqlite3_finalize(s);
    return rc;
}

static wg_rc scan(wg_store *st, const wg_report_query *q, const char *date,
                  cells *c, wg_err *err)
{
    sqlctx x;
    sql_init(&x, q, date);
    wg_rc rc = WG_OK;
    for (int k = 0; rc == WG_OK && k < F_NQUERIES; k++) {
        char *sql = query_sql(&x, k);
        if (sql)
            rc = run_query(st, sql, k, c, err);
        free(sql);
    }
    return rc;
}

/* ---- the kept aggregates ------------------------------------------------- */

/* The statements of the aggregate path: 0 whole birth years and the
 * county totals, 1 the boundary years' months and the boundary months'
 * days, 2 the 100-yuan income buckets. */
static char *agg_sql(const wg_report_query *q, const char *date, int k)
{
    char lo[16] = "", hi[16] = "", *s = NULL;
    int r = 0;
    if (q)
        age_limits(date, q->age_min, q->age_max, lo, hi);
    if (k == 0)
        r = asprintf(&s,
             "SELECT county, sum(persons), sum(employed), sum(trained), "
             "sum(certified), sum(placements), "
             "sum(CASE WHEN y > '%.4s' AND y < '%.4s' THEN persons "
             "ELSE 0 END), "
             "sum(CASE WHEN y > '%.4s' AND y < '%.4s' THEN employed "
             "ELSE 0 END) FROM rpt_year GROUP BY county",
             lo, hi, lo, hi);
    else if (k == 1)
        r = asprintf(&s,
             "SELECT county, sum(persons), sum(employed) FROM ("
             "SELECT county, persons, employed FROM rpt_month "
             "WHERE ym > '%.7s' AND ym <= '%.4s-99' UNION ALL "
             "SELECT county, persons, employed FROM rpt_month "
             "WHERE ym >= '%.4s-00' AND ym < '%.7s' UNION ALL "
             "SELECT county, persons, employed FROM rpt_day "
             "WHERE bdate > '%s' AND bdate <= '%.7s-99' UNION ALL "
             "SELECT county, persons, employed FROM rpt_day "
             "WHERE bdate >= '%.7s-00' AND bdate <= '%s') GROUP BY county",
             lo, lo, hi, hi, lo, lo, hi, hi);
    else
        r = asprintf(&s, "SELECT county, b, n FROM rpt_income100 "
                         "ORDER BY county, b");
    if (r < 0)
        abort();
    return s;
}

static wg_rc from_aggregates(wg_store *st, const wg_report_query *q,
                             const char *date, cells *c, wg_err *err)
{
    for (int k = 0; k < 2; k++) {
        char *sql = agg_sql(q, date, k);
        sqlite3_stmt *s;
        wg_rc rc = wg_store__prepare(st, sql, &s, err);
        free(sql);
        if (rc)
            return rc;
        int r;
        while ((r = sqlite3_step(s)) == SQLITE_ROW) {
            const char *k0 = (const char *)sqlite3_column_text(s, 0);
            wg_report_row *row = cell(c, k0 ? k0 : "", "");
            if (k == 0) {
                row->persons += (long)sqlite3_column_int64(s, 1);
                row->employed += (long)sqlite3_column_int64(s, 2);
                row->trained += (long)sqlite3_column_int64(s, 3);
                row->certified += (long)sqlite3_column_int64(s, 4);
                row->placements += (long)sqlite3_column_int64(s, 5);
                row->working_age += (long)sqlite3_column_int64(s, 6);
                row->working_age_employed += (long)sqlite3_column_int64(s, 7);
            } else {
                row->working_age += (long)sqlite3_column_int64(s, 1);
                row->working_age_employed += (long)sqlite3_column_int64(s, 2);
            }
        }
        sqlite3_finalize(s);
        if (r != SQLITE_DONE)
            return wg_store__sqlerr(st, r, "computing a report", err);
    }
    return WG_OK;
}

/* Medians from the histograms: for each county (and over all) the buckets
 * holding the middle rank(s) from rpt_income100, then only those buckets'
 * exact incomes from rpt_income. */
typedef struct hist {
    int64_t v, n;
} hist;

static int cmphist(const void *a, const void *b)
{
    int64_t x = ((const hist *)a)->v, y = ((const hist *)b)->v;
    return x < y ? -1 : x > y;
}

/* Where the middle ranks of N values fall in buckets H (sorted): the first
 * and last bucket holding them, and the count before the first. */
typedef struct mid {
    int64_t total, b1, b2, before;
    int64_t want[2];
    double got[2];
    int have;
} mid;

static void mid_of(const hist *h, size_t n, mid *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < n; i++)
        m->total += h[i].n;
    if (!m->total)
        return;
    m->want[0] = (m->total - 1) / 2;
    m->want[1] = m->total / 2;
    int64_t seen = 0;
    size_t i = 0;
    while (seen + h[i].n <= m->want[0])
        seen += h[i++].n;
    m->b1 = h[i].v;
    m->before = seen;
    while (seen + h[i].n <= m->want[1])
        seen += h[i++].n;
    m->b2 = h[i].v;
}

/* Walk exact (income, n) rows of M's buckets, in order. */
static void mid_take(mid *m, int64_t *seen, int64_t v, int64_t n)
{
    for (int w = 0; w < 2; w++)
        if (m->want[w] >= *seen && m->want[w] < *seen + n)
            m->got[w] = (double)v;
    *seen += n;
}

static wg_rc agg_medians(wg_store *st, cells *c, wg_report *out, wg_err *err)
{
    sqlite3_stmt *s;
    char *sql = agg_sql(NULL, NULL, 2);
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    free(sql);
    if (rc)
        return rc;
    /* Coarse rows, grouped by county (in order). */
    hist *all = NULL;
    size_t nall = 0, cap = 0;
    size_t *start = NULL, nseg = 0, capseg = 0;
    char (*keys)[WG_COUNTY_CHARS + 1] = NULL;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        k = k ? k : "";
        if (!nseg || strcmp(keys[nseg - 1], k)) {
            if (nseg == capseg) {
                capseg = capseg ? capseg * 2 : 256;
                start = wg_xrealloc(start, capseg * sizeof *start);
                keys = wg_xrealloc(keys, capseg * sizeof *keys);
            }
            start[nseg] = nall;
            snprintf(keys[nseg++], sizeof keys[0], "%s", k);
        }
        if (nall == cap) {
            cap = cap ? cap * 2 : 4096;
            all = wg_xrealloc(all, cap * sizeof *all);
        }
        all[nall].v = sqlite3_column_int64(s, 1);
        all[nall++].n = sqlite3_column_int64(s, 2);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "computing medians", err);
    mid *mids = wg_xcalloc(nseg + 1, sizeof *mids);
    wg_buf q;
    wg_buf_init(&q, (size_t)1 << 26);
    for (size_t i = 0; rc == WG_OK && i < nseg; i++) {
        size_t end = i + 1 < nseg ? start[i + 1] : nall;
        mid_of(all + start[i], end - start[i], &mids[i]);
        rc = wg_buf_printf(&q, err, "%s('%s', %lld, %lld)",
                           i ? ", " : "WITH want(county, lo, hi) AS (VALUES ",
                           keys[i], (long long)mids[i].b1 * 100 * PER_YUAN,
                           (long long)(mids[i].b2 + 1) * 100 * PER_YUAN);
    }
    /* Exact incomes of each county's middle buckets. */
    if (rc == WG_OK && nseg) {
        rc = wg_buf_printf(&q, err, ") SELECT w.county, i.income, i.n FROM "
                           "want w JOIN rpt_income i ON i.county = w.county "
                           "AND i.income >= w.lo AND i.income < w.hi "
                           "ORDER BY 1, 2");
        if (rc == WG_OK)
            rc = wg_buf_cstr(&q, err);
        if (rc == WG_OK)
            rc = wg_store__prepare(st, (const char *)q.data, &s, err);
        size_t seg = 0;
        int64_t seen = 0;
        while (rc == WG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(s, 0);
            while (seg < nseg && strcmp(keys[seg], k ? k : "") < 0)
                seg++;
            if (seg == nseg)
                break;
            if (!mids[seg].have) {
                mids[seg].have = 1;
                seen = mids[seg].before;
            }
            mid_take(&mids[seg], &seen, sqlite3_column_int64(s, 1),
                     sqlite3_column_int64(s, 2));
        }
        if (rc == WG_OK) {
            if (r != SQLITE_DONE && r != SQLITE_ROW)
                rc = wg_store__sqlerr(st, r, "computing medians", err);
            sqlite3_finalize(s);
        }
        for (size_t i = 0; rc == WG_OK && i < nseg; i++) {
            wg_report_row *row = cell(c, keys[i], "");
            row->has_median = mids[i].total > 0;
            row->median = (mids[i].got[0] + mids[i].got[1]) / 2.0 /
                          PER_YUAN;
        }
    }
    /* Over all: the buckets summed across counties, then the exact
     * incomes of the middle bucket(s) in every county. */
    if (rc == WG_OK && nall) {
        qsort(all, nall, sizeof *all, cmphist);
        size_t m = 0;
        for (size_t i = 0; i < nall; i++) {
            if (m && all[m - 1].v == all[i].v)
                all[m - 1].n += all[i].n;
            else
                all[m++] = all[i];
        }
        mid *g = &mids[nseg];
        mid_of(all, m, g);
        char *tq = NULL;
        if (asprintf(&tq, "SELECT i.income, sum(i.n) FROM (SELECT DISTINCT "
                     "county FROM rpt_income100) c JOIN rpt_income i "
                     "ON i.county = c.county AND i.income >= %lld AND "
                     "i.income < %lld GROUP BY 1 ORDER BY 1",
                     (long long)g->b1 * 100 * PER_YUAN,
                     (long long)(g->b2 + 1) * 100 * PER_YUAN) < 0)
            abort();
        rc = wg_store__prepare(st, tq, &s, err);
        free(tq);
        int64_t seen = g->before;
        while (rc == WG_OK && (r = sqlite3_step(s)) == SQLITE_ROW)
            mid_take(g, &seen, sqlite3_column_int64(s, 0),
                     sqlite3_column_int64(s, 1));
        if (rc == WG_OK) {
            if (r != SQLITE_DONE)
                rc = wg_store__sqlerr(st, r, "computing medians", err);
            sqlite3_finalize(s);
        }
        out->grand.has_median = 1;
        out->grand.median = (g->got[0] + g->got[1]) / 2.0 / PER_YUAN;
    }
    wg_buf_release(&q);
    free(mids);
    free(all);
    free(start);
    free(keys);
    return rc;
}

/* ---- the report ------------------------------------------------------------ */

#define WG_REPORT_CACHE_KIB (256 * 1024)

/* The page cache's bound in KiB (0 if unknown). */
static int cache_kib(wg_store *st)
{
    sqlite3_stmt *s;
    int kib = 0;
    if (wg_store__prepare(st, "PRAGMA cache_size", &s, NULL) != WG_OK)
        return 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(s, 0);
        /* negative: KiB; positive: pages */
        kib = v < 0 ? (int)-v : (int)(v * (WG_PAGE_BYTES / 1024));
    }
    sqlite3_finalize(s);
    return kib;
}

static wg_rc check_query(const wg_report_query *q, wg_err *err)
{
    if (q->ndims < 1 || q->ndims > WG_REPORT_MAX_DIMS)
        return wg_err_set(err, WG_ERR_INVALID, "a report has one or two "
                          "dimensions");
    for (int i = 0; i < q->ndims; i++)
        if (q->dims[i] < 0 || q->dims[i] >= WG_DIM_COUNT)
            return wg_err_set(err, WG_ERR_INVALID, "no such dimension");
    if (q->ndims == 2 && q->dims[0] == q->dims[1])
        return wg_err_set(err, WG_ERR_INVALID, "--by names %s twice",
                          dims[q->dims[0]].name);
    if (q->as_of[0] && !wg_validate_date(q->as_of, NULL, NULL, NULL))
        return wg_err_set(err, WG_ERR_INVALID, "--as-of: '%s' is not a date "
                          "(YYYY-MM-DD)", q->as_of);
    if (!wg_validate_date(q->today, NULL, NULL, NULL))
        return wg_err_set(err, WG_ERR_INVALID, "today's date is unknown");
    if (!q->from[0] != !q->to[0])
        return wg_err_set(err, WG_ERR_INVALID, "--from and --to go together");
    if (q->from[0] && (!wg_validate_date(q->from, NULL, NULL, NULL) ||
                       !wg_validate_date(q->to, NULL, NULL, NULL)))
        return wg_err_set(err, WG_ERR_INVALID, "--from and --to take dates "
                          "(YYYY-MM-DD)");
    if (q->from[0] && strcmp(q->from, q->to) > 0)
        return wg_err_set(err, WG_ERR_INVALID, "--from %s is after --to %s",
                          q->from, q->to);
    if (q->age_min < 0 || q->age_max > 150 || q->age_min > q->age_max)
        return wg_err_set(err, WG_ERR_INVALID, "--ages: %d-%d is not a range "
                          "of ages (0-150, MIN <= MAX)", q->age_min,
                          q->age_max);
    return WG_OK;
}

static int use_aggregates(const wg_report_query *q)
{
    return !q->recount && q->ndims == 1 && q->dims[0] == WG_DIM_COUNTY &&
           !q->as_of[0] && !q->from[0];
}

wg_rc wg_store_report(wg_store *st, const wg_report_query *q, wg_report *out,
                      wg_err *err)
{
    memset(out, 0, sizeof *out);
    wg_rc rc = check_query(q, err);
    if (rc == WG_OK)
        rc = wg_store__report_flush(st, err);
    if (rc)
        return rc;
    out->q = *q;
    const char *date = q->as_of[0] ? q->as_of : q->today;
    snprintf(out->date, sizeof out->date, "%s", date);
    int agg = use_aggregates(q);
    /* The scan's joins look persons up by id at random: a page cache of
     * WG_REPORT_CACHE_KIB spares most pages a second read and decryption.
     * Given back afterwards. */
    int was = agg ? 0 : cache_kib(st);
    if (was > 0 && was < WG_REPORT_CACHE_KIB)
        wg_store_set_cache(st, WG_REPORT_CACHE_KIB, NULL);
    cells c = { 0 };
    if (agg) {
        out->from_aggregates = 1;
        rc = from_aggregates(st, q, date, &c, err);
        /* Medians come from the histogram, not from income lists. */
        wg_report tmp = { 0 };
        if (rc == WG_OK)
            rc = agg_medians(st, &c, &tmp, err);
        if (rc == WG_OK) {
            finish(&c, 1, out);
            /* finish() found no incomes: put the histogram's medians in. */
            for (size_t i = 0; i + 1 < out->n; i++) {
                const wg_report_row *h = cell(&c, out->rows[i].key[0], "");
                out->rows[i].has_median = h->has_median;
                out->rows[i].median = h->median;
            }
            out->grand.has_median = tmp.grand.has_median;
            out->grand.median = tmp.grand.median;
            out->rows[out->n - 1].has_median = tmp.grand.has_median;
            out->rows[out->n - 1].median = tmp.grand.median;
        }
    } else {
        rc = scan(st, q, date, &c, err);
        if (rc == WG_OK)
            finish(&c, q->ndims, out);
    }
    cells_release(&c);
    if (was > 0 && was < WG_REPORT_CACHE_KIB)
        wg_store_set_cache(st, was, NULL);
    if (rc)
        wg_report_release(out);
    return rc;
}
