/*
 * report.c - aggregates over the merged record tables, in SQL
 *
 * A person counts where the person record says it lives; trainings and
 * placements are joined to live persons (a placement that arrived before
 * its person, or whose person was deleted, is not counted). Medians are
 * taken in C over the incomes SQLite returns in order.
 */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double round1(double v)
{
    return floor(v * 10.0 + 0.5) / 10.0;
}

static wg_report_row *row_for(wg_report_row **rows, size_t *n, size_t *cap,
                              const char *key)
{
    if (*n && !strcmp((*rows)[*n - 1].key, key))
        return &(*rows)[*n - 1];
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*rows)[i].key, key))
            return &(*rows)[i];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *rows = wg_xrealloc(*rows, *cap * sizeof **rows);
    }
    wg_report_row *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->key, sizeof r->key, "%s", key);
    return r;
}

typedef struct incomes {
    int64_t *v;
    size_t n, cap;
} incomes;

static void push(incomes *in, int64_t v)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 1024;
        in->v = wg_xrealloc(in->v, in->cap * sizeof *in->v);
    }
    in->v[in->n++] = v;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void median(wg_report_row *r, int64_t *v, size_t n)
{
    if (!n)
        return;
    r->has_median = 1;
    r->median = n % 2 ? (double)v[n / 2]
                      : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

/* Run SQL whose rows are (key, a, b, c, d) into the rows' counters in the
 * order persons, employed|placements, trained, certified. */
static wg_rc counts(wg_store *st, const char *sql, wg_report_by by,
                    wg_report_row **rows, size_t *n, size_t *cap, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, sql, &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(s, 0);
        wg_report_row *row = row_for(rows, n, cap, key ? key : "(none)");
        row->persons += sqlite3_column_int64(s, 1);
        if (by == WG_REPORT_EMPLOYMENT_TYPE)
            row->placements += sqlite3_column_int64(s, 2);
        else
            row->employed += sqlite3_column_int64(s, 2);
        row->trained += sqlite3_column_int64(s, 3);
        row->certified += sqlite3_column_int64(s, 4);
    }
    if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "computing a report", err);
    sqlite3_finalize(s);
    return rc;
}

static const char *const count_sql[] = {
    /* by county */
    /* Each figure counted per county on its own and joined by county (20
     * rows), not per person: persons from the covering index on (county,
     * deleted); employed and trained by looking up only the persons that
     * have an active placement or a completed training. */
    "WITH pc AS (SELECT county, count(*) AS n FROM person "
    "  WHERE deleted = 0 GROUP BY county), "
    "emp AS (SELECT p.county, count(*) AS n FROM "
    "  (SELECT DISTINCT person_id FROM placement "
    "   WHERE deleted = 0 AND status = 'active') e "
    "  JOIN person p ON p.id = e.person_id WHERE p.deleted = 0 "
    "  GROUP BY p.county), "
    "tr AS (SELECT p.county, count(*) AS n, sum(t.cert) AS c FROM "
    "  (SELECT person_id, max(outcome = 'certified') AS cert FROM training "
    "   WHERE deleted = 0 AND outcome IN ('completed', 'certified') "
    "   GROUP BY person_id) t "
    "  JOIN person p ON p.id = t.person_id WHERE p.deleted = 0 "
    "  GROUP BY p.county) "
    "SELECT pc.county, pc.n, coalesce(emp.n, 0), coalesce(tr.n, 0), "
    "  coalesce(tr.c, 0) "
    "FROM pc LEFT JOIN emp ON emp.county = pc.county "
    "LEFT JOIN tr ON tr.county = pc.county ORDER BY pc.county",
    /* by employment type */
    "SELECT pl.employment_type, count(DISTINCT pl.person_id), count(*), 0, 0 "
    "FROM placement pl JOIN person p ON p.id = pl.person_id "
    "WHERE pl.deleted = 0 AND p.deleted = 0 AND pl.status = 'active' "
    "GROUP BY pl.employment_type ORDER BY pl.employment_type",
    /* by training category */
    "SELECT t.category, count(DISTINCT t.person_id), 0, "
    "  count(DISTINCT CASE WHEN t.outcome IN ('completed', 'certified') "
    "    THEN t.person_id END), "
    "  count(DISTINCT CASE WHEN t.outcome = 'certified' THEN t.person_id END) "
    "FROM training t JOIN person p ON p.id = t.person_id "
    "WHERE t.deleted = 0 AND p.deleted = 0 "
    "GROUP BY t.category ORDER BY t.category",
};

static const char *const total_sql[] = {
    NULL, /* the county rows add up: every person has one county */
    "SELECT 'total', count(DISTINCT pl.person_id), count(*), 0, 0 "
    "FROM placement pl JOIN person p ON p.id = pl.person_id "
    "WHERE pl.deleted = 0 AND p.deleted = 0 AND pl.status = 'active'",
    "SELECT 'total', count(DISTINCT t.person_id), 0, "
    "  count(DISTINCT CASE WHEN t.outcome IN ('completed', 'certified') "
    "    THEN t.person_id END), "
    "  count(DISTINCT CASE WHEN t.outcome = 'certified' THEN t.person_id END) "
    "FROM training t JOIN person p ON p.id = t.person_id "
    "WHERE t.deleted = 0 AND p.deleted = 0",
};

static const char *const income_sql[] = {
    "SELECT p.county, pl.monthly_income FROM placement pl "
    "JOIN person p ON p.id = pl.person_id WHERE pl.deleted = 0 "
    "AND p.deleted = 0 AND pl.status = 'active' "
    "AND pl.monthly_income IS NOT NULL ORDER BY p.county, pl.monthly_income",
    "SELECT pl.employment_type, pl.monthly_income FROM placement pl "
    "JOIN person p ON p.id = pl.person_id WHERE pl.deleted = 0 "
    "AND p.deleted = 0 AND pl.status = 'active' "
    "AND pl.monthly_income IS NOT NULL "
    "ORDER BY pl.employment_type, pl.monthly_income",
    NULL,
};

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

wg_rc wg_store_report(wg_store *st, wg_report_by by, wg_report_row **rows,
                      size_t *n, wg_report_row *total, wg_err *err)
{
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    memset(total, 0, sizeof *total);
    snprintf(total->key, sizeof total->key, "total");
    /* The joins look persons up by id at random: with a province's
     * records, a page cache of WG_REPORT_CACHE_KIB spares most of those
     * pages a second read and decryption. Given back afterwards. */
    int was = cache_kib(st);
    if (was > 0 && was < WG_REPORT_CACHE_KIB)
        wg_store_set_cache(st, WG_REPORT_CACHE_KIB, NULL);
    wg_rc rc = counts(st, count_sql[by], by, rows, n, &cap, err);
    if (rc == WG_OK && total_sql[by]) {
        wg_report_row *t = NULL;
        size_t tn = 0, tcap = 0;
        rc = counts(st, total_sql[by], by, &t, &tn, &tcap, err);
        if (rc == WG_OK && tn == 1)
            *total = t[0];
        free(t);
    } else if (rc == WG_OK) {
        for (size_t i = 0; i < *n; i++) {
            total->persons += (*rows)[i].persons;
            total->employed += (*rows)[i].employed;
            total->trained += (*rows)[i].trained;
            total->certified += (*rows)[i].certified;
        }
    }
    if (rc == WG_OK && income_sql[by]) {
        sqlite3_stmt *s;
        incomes all = { 0 }, one = { 0 };
        char key[32] = "";
        if ((rc = wg_store__prepare(st, income_sql[by], &s, err)) == WG_OK) {
            int r;
            while ((r = sqlite3_step(s)) == SQLITE_ROW) {
                const char *k = (const char *)sqlite3_column_text(s, 0);
                k = k ? k : "(none)";
                if (strcmp(k, key)) {
                    if (one.n)
                        median(row_for(rows, n, &cap, key), one.v, one.n);
                    one.n = 0;
                    snprintf(key, sizeof key, "%s", k);
                }
                int64_t v = sqlite3_column_int64(s, 1);
                push(&one, v);
                push(&all, v);
            }
            if (one.n)
                median(row_for(rows, n, &cap, key), one.v, one.n);
            if (r != SQLITE_DONE)
                rc = wg_store__sqlerr(st, r, "computing medians", err);
            sqlite3_finalize(s);
        }
        qsort(all.v, all.n, sizeof *all.v, cmp64);
        median(total, all.v, all.n);
        free(all.v);
        free(one.v);
    }
    for (size_t i = 0; rc == WG_OK && i < *n; i++)
        (*rows)[i].rate = (*rows)[i].persons
                              ? round1(100.0 * (double)(*rows)[i].employed /
                                       (double)(*rows)[i].persons)
                              : 0.0;
    total->rate = total->persons ? round1(100.0 * (double)total->employed /
                                          (double)total->persons)
                                 : 0.0;
    if (rc) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    if (was > 0 && was < WG_REPORT_CACHE_KIB)
        wg_store_set_cache(st, was, NULL);
    return rc;
}
