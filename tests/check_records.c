/*
 * check_records.c - records, the signed feed, and merge
 *
 * The merge property: any set of changes from several origins, applied in
 * any order that keeps each feed's own order, with duplicates, leaves every
 * store byte-identical (compared through the canonical dump).
 */
#include <check.h>

#include "store_int.h"
#include "testutil.h"
#include "nodeutil.h"

NU_DIR_FIXTURE(dir)

static wg_store *node(const char *name, const char *county, wg_role role)
{
    return nu_node(dir, name, county, role, WG_KDF_INTERACTIVE);
}

static void add_person(wg_store *st, const char *id, const char *name,
                       int serial)
{
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_begin(st, NULL), WG_OK);
    ck_assert_msg(nu_add_person(st, serial, id, name, NULL, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_int_eq(wg_store_commit(st, NULL), WG_OK);
}

static void update1(wg_store *st, const char *id, const char *field,
                    const char *value)
{
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_begin(st, NULL), WG_OK);
    ck_assert_msg(wg_store_update(st, wg_schema_table("person"), id, &field,
                                  &value, 1, &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(wg_store_commit(st, NULL), WG_OK);
}

/* ---- collecting a store's own changes ---------------------------------- */

static void collect(wg_store *st, const char *part, nu_feedcopy *f)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(wg_store_feed_read(st, wg_store_info(st)->pk, part, 0,
                                        1000000, nu_copy_change, f, NULL),
                     WG_OK);
}

static char *dump(wg_store *st)
{
    wg_buf b;
    wg_buf_init(&b, 1 << 24);
    ck_assert_int_eq(wg_store_dump(st, &b, NULL), WG_OK);
    ck_assert_int_eq(wg_buf_cstr(&b, NULL), WG_OK);
    return (char *)b.data;
}

/* ---- bulk loads ---------------------------------------------------------- */

static long live_in_name_order(wg_store *st)
{
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM person "
                                        "INDEXED BY person_list_name WHERE "
                                        "deleted = 0 AND (name IS NULL) = 0",
                                        -1, &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    long n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* ---- tests ------------------------------------------------------------------ */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_merge = {"merge", setup, teardown, 120};
static const tu_case case_feed = {"feed", setup, teardown, 60};

/* An import's transaction drops the list index when its rows outnumber
 * the table's and makes it again at COMMIT, whole; a rollback keeps the
 * old one; a few rows, or a table already holding many, keep it. */
START_TEST(test_records_bulk_load_makes_the_list_index_again_at_commit)
{
    char *d = nu_create(dir, "bulk", "450224", WG_ROLE_OFFICE,
                        WG_KDF_INTERACTIVE);
    wg_store *st = nu_open(d);
    const wg_table *t = wg_schema_table("person");
    wg_err err = { 0 };
    nu_add_persons(st, NULL, 1, 3);

    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_int_eq(wg_store_bulk(st, t, 5000, &err), WG_OK);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 0);
    ck_assert_int_eq(nu_has_index(st, "person_live_id_number"), 0);
    /* The new records' ids come from a pool drawn ahead, in ascending
     * order (and each one new). */
    char prev[WG_ID_HEX_CHARS + 1] = "", id[WG_ID_HEX_CHARS + 1];
    for (int i = 4; i <= 5; i++) {
        nu_person p;
        nu_person_row(&p, i, NULL, NULL, NULL);
        ck_assert_msg(wg_store_add(st, t, p.f, p.v, p.n, id, &err) == WG_OK,
                      "%s", err.msg);
        ck_assert_int_eq((int)strlen(id), WG_ID_HEX_CHARS);
        ck_assert_msg(strcmp(prev, id) < 0, "%s then %s", prev, id);
        memcpy(prev, id, sizeof id);
    }
    ck_assert_ptr_nonnull(st->idpool);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 0);
    /* A BEGIN refused inside it leaves the load as it was. */
    ck_assert_int_ne(wg_store_begin(st, NULL), WG_OK);
    ck_assert_ptr_nonnull(st->bulk_live);
    ck_assert_msg(wg_store_commit(st, &err) == WG_OK, "%s", err.msg);
    ck_assert_ptr_null(st->idpool);   /* gone with the transaction */
    ck_assert_ptr_null(st->bulk_live);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 1);
    ck_assert_int_eq(nu_has_index(st, "person_live_id_number"), 1);
    nu_integrity_ok(st, "the store");
    ck_assert_int_eq(live_in_name_order(st), 5);

    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_int_eq(wg_store_bulk(st, t, 5000, &err), WG_OK);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 0);
    ck_assert_int_eq(nu_add_person(st, 6, NULL, NULL, NULL, &err), WG_OK);
    wg_store_rollback(st);
    ck_assert_ptr_null(st->idpool);
    ck_assert_ptr_null(st->bulk_live);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 1);
    ck_assert_int_eq(nu_has_index(st, "person_live_id_number"), 1);
    nu_integrity_ok(st, "the store");
    ck_assert_int_eq(live_in_name_order(st), 5);

    /* A transaction after the rollback commits with the index kept up. */
    nu_add_persons(st, NULL, 6, 1);
    nu_integrity_ok(st, "the store");
    ck_assert_int_eq(live_in_name_order(st), 6);

    /* Too few rows to be worth it; outside a transaction, nothing. */
    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_int_eq(wg_store_bulk(st, t, 4999, &err), WG_OK);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 1);
    wg_store_rollback(st);
    ck_assert_int_eq(wg_store_bulk(st, t, 100000, &err), WG_OK);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 1);

    /* A table holding more than half as many as the rows keeps it. */
    nu_add_persons(st, NULL, 7, 2600);
    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_int_eq(wg_store_bulk(st, t, 5000, &err), WG_OK);
    ck_assert_int_eq(nu_has_index(st, "person_list_name"), 1);
    wg_store_rollback(st);
    wg_store_close(&st);

    /* Reopened: the index made at a commit is there and whole. */
    st = nu_open(d);
    nu_integrity_ok(st, "the store");
    ck_assert_int_eq(live_in_name_order(st), 2606);
    wg_store_close(&st);
    free(d);
}
END_TEST

/* While a bulk load has the live id numbers' index dropped, memory answers
 * for it: a person's id number is still refused a second time, whether the
 * first holder was there before the load or added, updated or deleted in
 * it; and the index made again at COMMIT holds exactly the live values. */
START_TEST(test_records_bulk_load_keeps_one_person_once)
{
    char *d = nu_create(dir, "once", "450224", WG_ROLE_OFFICE,
                        WG_KDF_INTERACTIVE);
    wg_store *st = nu_open(d);
    const wg_table *t = wg_schema_table("person");
    int f = wg_schema_field_index(t, "id_number");
    wg_err err = { 0 };
    char before[WG_ID_HEX_CHARS + 1], a[WG_ID_HEX_CHARS + 1],
        b[WG_ID_HEX_CHARS + 1], got[WG_ID_HEX_CHARS + 1];
    nu_person p1, p2, p3, p4;
    nu_person_row(&p1, 1, NULL, NULL, NULL);
    nu_person_row(&p2, 2, NULL, NULL, NULL);
    nu_person_row(&p3, 3, NULL, NULL, NULL);
    nu_person_row(&p4, 4, NULL, NULL, NULL);
    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_int_eq(wg_store_add(st, t, p1.f, p1.v, p1.n, before, &err),
                     WG_OK);
    ck_assert_int_eq(wg_store_commit(st, &err), WG_OK);

    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_int_eq(wg_store_bulk(st, t, 100000, &err), WG_OK);
    ck_assert_int_eq(nu_has_index(st, "person_live_id_number"), 0);
    ck_assert_ptr_nonnull(st->bulk_live);

    /* A holder from before the load: found, and a second add refused
     * naming it. */
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p1.id_number, NULL, got,
                                          &err), WG_OK);
    ck_assert_str_eq(got, before);
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p1.id_number, before,
                                          got, &err), WG_ERR_NOTFOUND);
    ck_assert_int_eq(wg_store_add(st, t, p1.f, p1.v, p1.n, NULL, &err),
                     WG_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, before) != NULL, "%s", err.msg);

    /* Added in the load: found; a second add refused. */
    ck_assert_int_eq(wg_store_add(st, t, p2.f, p2.v, p2.n, a, &err), WG_OK);
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p2.id_number, NULL, got,
                                          &err), WG_OK);
    ck_assert_str_eq(got, a);
    ck_assert_int_eq(wg_store_add(st, t, p2.f, p2.v, p2.n, NULL, &err),
                     WG_ERR_INVALID);

    /* Updated to another number: the old one is free, the new one held;
     * taking a number another record holds is refused. */
    const char *fld = "id_number";
    const char *v3 = p3.id_number, *v1 = p1.id_number;
    ck_assert_int_eq(wg_store_update(st, t, a, &fld, &v3, 1, &err), WG_OK);
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p2.id_number, NULL, got,
                                          &err), WG_ERR_NOTFOUND);
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p3.id_number, NULL, got,
                                          &err), WG_OK);
    ck_assert_str_eq(got, a);
    ck_assert_int_eq(wg_store_update(st, t, a, &fld, &v1, 1, &err),
                     WG_ERR_INVALID);

    /* Deleted: its number is free for a new record. */
    ck_assert_int_eq(wg_store_delete(st, t, before, &err), WG_OK);
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p1.id_number, NULL, got,
                                          &err), WG_ERR_NOTFOUND);
    ck_assert_int_eq(wg_store_add(st, t, p1.f, p1.v, p1.n, b, &err), WG_OK);
    ck_assert_int_eq(wg_store_add(st, t, p4.f, p4.v, p4.n, NULL, &err),
                     WG_OK);
    ck_assert_msg(wg_store_commit(st, &err) == WG_OK, "%s", err.msg);

    /* The index made again holds what memory held: the same answers. */
    ck_assert_ptr_null(st->bulk_live);
    ck_assert_int_eq(nu_has_index(st, "person_live_id_number"), 1);
    nu_integrity_ok(st, "the store");
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p1.id_number, NULL, got,
                                          &err), WG_OK);
    ck_assert_str_eq(got, b);
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p3.id_number, NULL, got,
                                          &err), WG_OK);
    ck_assert_str_eq(got, a);
    ck_assert_int_eq(wg_store_find_unique(st, t, f, p2.id_number, NULL, got,
                                          &err), WG_ERR_NOTFOUND);
    wg_store_close(&st);
    free(d);
}
END_TEST

START_TEST(test_records_later_write_wins_and_history_keeps_the_loser)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    wg_store *b = node("b", "450224", WG_ROLE_OFFICE);
    const char *id = "0123456789abcdef0123456789abcdef";
    add_person(a, id, "first", 1);
    nu_feedcopy fa;
    collect(a, "450224", &fa);
    size_t applied;
    ck_assert_int_eq(wg_store_apply(b, fa.c, fa.n, &applied, NULL), WG_OK);
    ck_assert_uint_eq(applied, 1);
    update1(a, id, "name", "from-a");   /* earlier */
    /* Later even when both land in one millisecond (a clock tie would be
     * broken by the origins' random keys). */
    if (b->hlc < a->hlc)
        b->hlc = a->hlc;
    update1(b, id, "name", "from-b");   /* later: wins */
    nu_feedcopy fa2, fb;
    collect(a, "450224", &fa2);
    collect(b, "450224", &fb);
    ck_assert_int_eq(wg_store_apply(a, fb.c, fb.n, &applied, NULL), WG_OK);
    ck_assert_int_eq(wg_store_apply(b, fa2.c, fa2.n, &applied, NULL), WG_OK);
    wg_record r;
    ck_assert_int_eq(wg_store_get(a, wg_schema_table("person"), id, &r, NULL),
                     WG_OK);
    ck_assert_str_eq(r.values[0], "from-b");
    wg_record_release(&r);
    char *da = dump(a), *db = dump(b);
    ck_assert_str_eq(da, db);
    free(da);
    free(db);
    nu_feedcopy_free(&fa);
    nu_feedcopy_free(&fa2);
    nu_feedcopy_free(&fb);
    wg_store_close(&a);
    wg_store_close(&b);
}
END_TEST

/* ---- clerks and overwritten edits (schema 3) -------------------------- */

static int clerk_entry(void *ctx, const wg_history_entry *e)
{
    char *s = ctx;
    strcat(s, e->clerk[0] ? e->clerk : "-");
    strcat(s, ";");
    return 0;
}

static int count_rec(void *ctx, const wg_record *r)
{
    (void)r;
    ++*(long *)ctx;
    return 0;
}

START_TEST(test_records_each_change_names_its_clerk)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    const wg_table *t = wg_schema_table("person");
    const char *id = "0123456789abcdef0123456789abcdef";
    add_person(a, id, "first", 1);
    wg_store_set_actor(a, "wei");
    update1(a, id, "name", "by-wei");
    wg_store_set_actor(a, NULL);
    update1(a, id, "name", "by-cli");
    char seen[256] = "";
    ck_assert_int_eq(wg_store_history(a, t, id, clerk_entry, seen, NULL),
                     WG_OK);
    ck_assert_str_eq(seen, "-;wei;-;");
    /* a search finds what records say, not the clerk who changed them */
    long found = 0;
    wg_list_opts lo = { .search = "wei" };
    ck_assert_int_eq(wg_store_list_opts(a, t, &lo, count_rec, &found, NULL),
                     WG_OK);
    ck_assert_int_eq(found, 0);
    lo.search = "by-";
    ck_assert_int_eq(wg_store_list_opts(a, t, &lo, count_rec, &found, NULL),
                     WG_OK);
    ck_assert_int_eq(found, 1);
    /* no one names the meta fields */
    const char *n[] = { "changed_by" }, *v[] = { "mallory" };
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_begin(a, NULL), WG_OK);
    ck_assert_int_eq(wg_store_update(a, t, id, n, v, 1, &err),
                     WG_ERR_INVALID);
    wg_store_rollback(a);
    ck_assert_ptr_nonnull(strstr(err.msg, "no such field"));
    wg_store_close(&a);
}
END_TEST

static int ow_line(void *ctx, const wg_overwrite *o)
{
    char *s = ctx;
    char line[512];
    snprintf(line, sizeof line, "%s|%s|%s|%s|%s|%s|%s|%llu|%llu\n",
             o->table->name, o->id, o->field,
             o->value[0] ? o->value[0] : "(null)",
             o->value[1] ? o->value[1] : "(null)",
             o->clerk[0] ? o->clerk[0] : "-", o->clerk[1] ? o->clerk[1] : "-",
             (unsigned long long)o->hlc[0], (unsigned long long)o->hlc[1]);
    strcat(s, line);
    return 0;
}

static void overwritten(wg_store *st, char *out)
{
    out[0] = 0;
    ck_assert_int_eq(wg_store_overwritten(st, ow_line, out, NULL), WG_OK);
}

/* Two offices edit one field while apart; one of them edits it again,
 * knowing its own value. Every node, whatever order the changes reach it
 * in (an update even before the record's first change), lists the one
 * pair where the two lines met, and nothing for a field edited once. */
START_TEST(test_records_overwritten_edits_are_the_same_in_any_order)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    wg_store *b = node("b", "450224", WG_ROLE_OFFICE);
    wg_store *r1 = node("r1", "450224", WG_ROLE_OFFICE);
    wg_store *r2 = node("r2", "450224", WG_ROLE_OFFICE);
    const char *id = "0123456789abcdef0123456789abcdef";
    add_person(a, id, "first", 1);
    nu_feedcopy f0;
    collect(a, "450224", &f0);
    size_t applied;
    ck_assert_int_eq(wg_store_apply(b, f0.c, f0.n, &applied, NULL), WG_OK);
    wg_store_set_actor(a, "wei");
    update1(a, id, "name", "from-a");
    wg_store_set_actor(a, NULL);
    update1(b, id, "name", "from-b");
    update1(b, id, "township", "only-b");
    update1(a, id, "name", "from-a-again");
    nu_feedcopy fa, fb;
    collect(a, "450224", &fa);
    collect(b, "450224", &fb);
    ck_assert_int_eq(wg_store_apply(r1, fa.c, fa.n, &applied, NULL), WG_OK);
    ck_assert_int_eq(wg_store_apply(r1, fb.c, fb.n, &applied, NULL), WG_OK);
    ck_assert_int_eq(wg_store_apply(r2, fb.c, fb.n, &applied, NULL), WG_OK);
    ck_assert_int_eq(wg_store_apply(r2, fa.c, fa.n, &applied, NULL), WG_OK);
    ck_assert_int_eq(wg_store_apply(a, fb.c, fb.n, &applied, NULL), WG_OK);
    ck_assert_int_eq(wg_store_apply(b, fa.c, fa.n, &applied, NULL), WG_OK);
    static char s1[4096], s2[4096], sa[4096], sb[4096];
    overwritten(r1, s1);
    overwritten(r2, s2);
    overwritten(a, sa);
    overwritten(b, sb);
    ck_assert_str_eq(s1, s2);
    ck_assert_str_eq(s1, sa);
    ck_assert_str_eq(s1, sb);
    /* one pair: from-a (by wei) and from-b; the later of the two kept */
    ck_assert_int_eq(strchr(s1, '\n') - s1 + 1, (long)strlen(s1));
    ck_assert_ptr_nonnull(strstr(s1, "person|0123456789abcdef0123456789abcdef"
                                     "|name|"));
    ck_assert(strstr(s1, "|from-a|from-b|wei|-|") ||
              strstr(s1, "|from-b|from-a|-|wei|"));
    char *d1 = dump(r1), *d2 = dump(r2);
    ck_assert_str_eq(d1, d2);
    free(d1);
    free(d2);
    nu_feedcopy_free(&f0);
    nu_feedcopy_free(&fa);
    nu_feedcopy_free(&fb);
    wg_store_close(&a);
    wg_store_close(&b);
    wg_store_close(&r1);
    wg_store_close(&r2);
}
END_TEST

static int count_entry(void *ctx, const wg_history_entry *e)
{
    (*(int *)ctx)++;
    return 0;
}

START_TEST(test_records_delete_sticks_against_an_earlier_concurrent_update)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    wg_store *b = node("b", "450224", WG_ROLE_OFFICE);
    const char *id = "00000000000000000000000000000001";
    add_person(a, id, "p", 2);
    nu_feedcopy f1;
    collect(a, "450224", &f1);
    size_t n;
    ck_assert_int_eq(wg_store_apply(b, f1.c, f1.n, &n, NULL), WG_OK);
    update1(b, id, "phone", "13800000000");
    ck_assert_int_eq(wg_store_begin(a, NULL), WG_OK);
    ck_assert_int_eq(wg_store_delete(a, wg_schema_table("person"), id, NULL),
                     WG_OK);
    ck_assert_int_eq(wg_store_commit(a, NULL), WG_OK);
    nu_feedcopy fa, fb;
    collect(a, "450224", &fa);
    collect(b, "450224", &fb);
    ck_assert_int_eq(wg_store_apply(a, fb.c, fb.n, &n, NULL), WG_OK);
    ck_assert_int_eq(wg_store_apply(b, fa.c, fa.n, &n, NULL), WG_OK);
    wg_record r;
    ck_assert_int_eq(wg_store_get(b, wg_schema_table("person"), id, &r, NULL),
                     WG_OK);
    ck_assert_int_eq(r.deleted, 1);
    ck_assert_str_eq(r.values[9], "13800000000"); /* the update still merged */
    wg_record_release(&r);
    int entries = 0;
    ck_assert_int_eq(wg_store_history(b, wg_schema_table("person"), id,
                                      count_entry, &entries, NULL),
                     WG_OK);
    ck_assert_int_eq(entries, 3);
    nu_feedcopy_free(&f1);
    nu_feedcopy_free(&fa);
    nu_feedcopy_free(&fb);
    wg_store_close(&a);
    wg_store_close(&b);
}
END_TEST

static uint64_t rnd_state;
static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

START_TEST(test_records_merge_converges_in_any_order_with_duplicates)
{
    enum { ORIGINS = 3, RECORDS = 6, WRITES = 60, ORDERS = 12 };
    const char *fields[] = { "name", "phone", "township", "disability_grade",
                             "certificate_no" };
    wg_store *o[ORIGINS];
    char ids[RECORDS][33];
    rnd_state = 42;
    for (int i = 0; i < ORIGINS; i++) {
        char name[8];
        snprintf(name, sizeof name, "o%d", i);
        o[i] = node(name, "450224", WG_ROLE_OFFICE);
    }
    /* Every origin creates every record (concurrent creation). */
    for (int r = 0; r < RECORDS; r++) {
        snprintf(ids[r], sizeof ids[r], "%032x", r + 1);
        for (int i = 0; i < ORIGINS; i++)
            add_person(o[i], ids[r], "initial", r);
    }
    /* Random updates and deletes, some with equal clocks on all origins. */
    uint64_t base = (wg_hlc_now_ms() + 60000) << 16;
    for (int w = 0; w < WRITES; w++) {
        int i = (int)(rnd() % ORIGINS), r = (int)(rnd() % RECORDS);
        if (w % 10 == 0) /* force the same clock value on every origin */
            for (int k = 0; k < ORIGINS; k++)
                o[k]->hlc = base + (uint64_t)w * 10;
        wg_record cur;
        ck_assert_int_eq(wg_store_get(o[i], wg_schema_table("person"), ids[r],
                                      &cur, NULL), WG_OK);
        int dead = cur.deleted;
        wg_record_release(&cur);
        if (dead)
            continue;
        if (rnd() % 8 == 0) {
            ck_assert_int_eq(wg_store_begin(o[i], NULL), WG_OK);
            ck_assert_int_eq(wg_store_delete(o[i], wg_schema_table("person"),
                                             ids[r], NULL), WG_OK);
            ck_assert_int_eq(wg_store_commit(o[i], NULL), WG_OK);
        } else {
            const char *f = fields[rnd() % 5];
            char v[32];
            if (!strcmp(f, "disability_grade"))
                snprintf(v, sizeof v, "%d", (int)(rnd() % 4) + 1);
            else if (!strcmp(f, "phone"))   /* a phone number must be one */
                snprintf(v, sizeof v, "138%04d%04d", w, i);
            else
                snprintf(v, sizeof v, "v%d-%d", w, i);
            update1(o[i], ids[r], f, v);
        }
    }
    nu_feedcopy f[ORIGINS];
    for (int i = 0; i < ORIGINS; i++)
        collect(o[i], "450224", &f[i]);

    char *first = NULL;
    for (int order = 0; order < ORDERS; order++) {
        char name[16];
        snprintf(name, sizeof name, "fresh%d", order);
        wg_store *fresh = node(name, "450224", WG_ROLE_OFFICE);
        size_t pos[ORIGINS] = { 0 };
        int left = ORIGINS;
        while (left) {
            int i = (int)(rnd() % ORIGINS);
            if (pos[i] == f[i].n)
                continue;
            /* A chunk ending on a signed change (here every commit is one
             * change, so every change is signed). */
            size_t len = 1 + (size_t)(rnd() % 7);
            if (pos[i] + len > f[i].n)
                len = f[i].n - pos[i];
            size_t applied;
            wg_err err = { 0 };
            ck_assert_msg(wg_store_apply(fresh, f[i].c + pos[i], len, &applied,
                                         &err) == WG_OK, "%s", err.msg);
            ck_assert_uint_eq(applied, len);
            /* Now and then replay something already held: no effect. */
            if (rnd() % 3 == 0) {
                size_t from = (size_t)(rnd() % (pos[i] + len));
                ck_assert_int_eq(wg_store_apply(fresh, f[i].c + from,
                                                pos[i] + len - from, &applied,
                                                &err), WG_OK);
                ck_assert_uint_eq(applied, 0);
            }
            pos[i] += len;
            if (pos[i] == f[i].n)
                left--;
        }
        char *d = dump(fresh);
        if (!first)
            first = d;
        else {
            ck_assert_str_eq(d, first);
            free(d);
        }
        wg_store_close(&fresh);
    }
    /* The origins, once they hold everything, agree too. */
    for (int i = 0; i < ORIGINS; i++) {
        for (int j = 0; j < ORIGINS; j++) {
            size_t applied;
            if (i != j)
                ck_assert_int_eq(wg_store_apply(o[i], f[j].c, f[j].n,
                                                &applied, NULL), WG_OK);
        }
        char *d = dump(o[i]);
        ck_assert_str_eq(d, first);
        free(d);
    }
    ck_assert_ptr_nonnull(strstr(first, "[person]"));
    if (getenv("WG_SHOW_DUMP"))
        fputs(first, stderr);
    free(first);
    for (int i = 0; i < ORIGINS; i++) {
        nu_feedcopy_free(&f[i]);
        wg_store_close(&o[i]);
    }
}
END_TEST

START_TEST(test_records_apply_refuses_forged_gapped_and_unsigned_changes)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    wg_store *b = node("b", "450224", WG_ROLE_OFFICE);
    for (int i = 0; i < 4; i++) {
        char id[33];
        snprintf(id, sizeof id, "%032x", i + 100);
        add_person(a, id, "x", i);
    }
    nu_feedcopy f;
    collect(a, "450224", &f);
    ck_assert_uint_eq(f.n, 4);
    size_t n;
    wg_err err = { 0 };
    /* A gap: change 2 before change 1. */
    ck_assert_int_eq(wg_store_apply(b, f.c + 1, 1, &n, &err), WG_ERR_PROTO);
    /* A forged body: the signature no longer verifies. */
    f.bodies[0][f.c[0].len - 1] ^= 1;
    ck_assert_int_eq(wg_store_apply(b, f.c, 1, &n, &err), WG_ERR_AUTH);
    f.bodies[0][f.c[0].len - 1] ^= 1;
    /* An unsigned tail. */
    wg_signed_change unsig = f.c[0];
    unsig.has_sig = 0;
    ck_assert_int_eq(wg_store_apply(b, &unsig, 1, &n, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "unsigned"));
    /* Nothing of the refused batches landed. */
    long count = -1;
    ck_assert_int_eq(wg_store_count(b, wg_schema_table("person"), &count, NULL),
                     WG_OK);
    ck_assert_int_eq(count, 0);
    ck_assert_int_eq(wg_store_apply(b, f.c, 4, &n, &err), WG_OK);
    ck_assert_uint_eq(n, 4);
    nu_feedcopy_free(&f);
    wg_store_close(&a);
    wg_store_close(&b);
}
END_TEST

START_TEST(test_records_equivocation_freezes_the_feed)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    wg_store *b = node("b", "450224", WG_ROLE_OFFICE);
    add_person(a, "000000000000000000000000000000aa", "x", 1);
    nu_feedcopy f1;
    collect(a, "450224", &f1);
    size_t n;
    ck_assert_int_eq(wg_store_apply(b, f1.c, 1, &n, NULL), WG_OK);
    /* The same origin signs a different change 1: rewind a's feed. */
    ck_assert_int_eq(wg_store__exec(a, "DELETE FROM change; DELETE FROM feed;"
                                       "DELETE FROM person;", NULL), WG_OK);
    add_person(a, "000000000000000000000000000000bb", "y", 2);
    nu_feedcopy f2;
    collect(a, "450224", &f2);
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_apply(b, f2.c, 1, &n, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "equivocation"));
    /* Frozen: even the honest continuation is refused now. */
    ck_assert_int_eq(wg_store_apply(b, f1.c, 1, &n, &err), WG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "frozen"));
    nu_feedcopy_free(&f1);
    nu_feedcopy_free(&f2);
    wg_store_close(&a);
    wg_store_close(&b);
}
END_TEST

static int has(const nu_problems *p, const char *needle)
{
    for (int i = 0; i < p->n && i < 16; i++)
        if (strstr(p->text[i], needle))
            return 1;
    return 0;
}

/* A store with 8 changes in its feed, each its own signed commit. */
static wg_store *fed(void)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    for (int i = 0; i < 8; i++) {
        char id[33];
        snprintf(id, sizeof id, "%032x", i + 1);
        add_person(a, id, "x", i);
    }
    nu_problems p = { 0 };
    long checked, bad;
    ck_assert_int_eq(wg_store_verify_feeds(a, nu_on_problem, &p, &checked,
                                           &bad, NULL), WG_OK);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(checked, 8);
    return a;
}

static nu_problems recheck(wg_store *a)
{
    nu_problems p = { 0 };
    long checked, bad;
    ck_assert_int_eq(wg_store_verify_feeds(a, nu_on_problem, &p, &checked,
                                           &bad, NULL), WG_OK);
    ck_assert_int_eq(bad, p.n);
    return p;
}

START_TEST(test_records_feed_check_reports_an_altered_change)
{
    wg_store *a = fed();
    ck_assert_int_eq(wg_store__exec(a, "UPDATE change SET body = "
                                       "substr(body, 1, 100) || x'ff' || "
                                       "substr(body, 102) WHERE seq = 3", NULL),
                     WG_OK);
    nu_problems p = recheck(a);
    ck_assert(has(&p, "change 3 was altered (hash mismatch)"));
    wg_store_close(&a);
}
END_TEST

START_TEST(test_records_feed_check_reports_a_dropped_change)
{
    wg_store *a = fed();
    ck_assert_int_eq(wg_store__exec(a, "DELETE FROM change WHERE seq = 4",
                                    NULL), WG_OK);
    nu_problems p = recheck(a);
    ck_assert(has(&p, "change 4 is missing"));
    ck_assert(has(&p, "change 5 does not chain"));
    wg_store_close(&a);
}
END_TEST

START_TEST(test_records_feed_check_reports_two_reordered_changes)
{
    wg_store *a = fed();
    /* Swap the rows of changes 5 and 6 (seq is the low bits of the key). */
    ck_assert_int_eq(
        wg_store__exec(a,
                       "UPDATE change SET k = -k WHERE seq = 5;"
                       "UPDATE change SET k = k - 1 WHERE seq = 6;"
                       "UPDATE change SET k = 1 - k WHERE k < 0;", NULL),
        WG_OK);
    nu_problems p = recheck(a);
    ck_assert(has(&p, "change 5 belongs elsewhere (6 in its bytes)"));
    ck_assert(has(&p, "change 6 belongs elsewhere (5 in its bytes)"));
    wg_store_close(&a);
}
END_TEST

START_TEST(test_records_feed_check_reports_a_signature_by_another_key)
{
    wg_store *a = fed();
    uint8_t pk[WG_SIGN_PK_BYTES], sk[WG_SIGN_SK_BYTES], sig[WG_SIG_BYTES];
    wg_sign_keypair(pk, sk);
    sqlite3_stmt *s;
    ck_assert_int_eq(wg_store__prepare(a, "SELECT hash FROM change WHERE seq = "
                                          "8", &s, NULL), WG_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    wg_sign(sig, sqlite3_column_blob(s, 0), WG_HASH_BYTES, sk);
    sqlite3_finalize(s);
    ck_assert_int_eq(wg_store__prepare(a, "UPDATE change SET sig = ? WHERE "
                                          "seq = 8", &s, NULL), WG_OK);
    sqlite3_bind_blob(s, 1, sig, WG_SIG_BYTES, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    nu_problems p = recheck(a);
    ck_assert(has(&p, "change 8 has a signature that does not verify"));
    wg_store_close(&a);
}
END_TEST

START_TEST(test_records_clock_survives_restart)
{
    wg_store *a = node("a", "450224", WG_ROLE_OFFICE);
    a->hlc = (wg_hlc_now_ms() + 3600000) << 16; /* an hour ahead */
    add_person(a, "000000000000000000000000000000cc", "x", 1);
    uint64_t before = a->hlc;
    wg_store_close(&a);
    char *d = tu_path(dir, "a");
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_open(d, NU_PASS, strlen(NU_PASS), &a, &err),
                     WG_OK);
    ck_assert_uint_eq(a->hlc, before);
    ck_assert_uint_gt(wg_store__hlc_tick(a), before);
    /* A remote clock a year ahead does not drag ours along. */
    uint64_t year = (wg_hlc_now_ms() + 365ULL * 86400000) << 16;
    ck_assert_int_eq(wg_store__hlc_observe(a, year), 1);
    ck_assert_uint_lt(a->hlc, year);
    free(d);
    wg_store_close(&a);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_merge, test_records_later_write_wins_and_history_keeps_the_loser),
    TU_TEST(case_merge, test_records_delete_sticks_against_an_earlier_concurrent_update),
    TU_TEST(case_merge, test_records_merge_converges_in_any_order_with_duplicates),
    TU_TEST(case_merge, test_records_clock_survives_restart),
    TU_TEST(case_merge, test_records_each_change_names_its_clerk),
    TU_TEST(case_merge, test_records_overwritten_edits_are_the_same_in_any_order),
    TU_TEST(case_feed, test_records_apply_refuses_forged_gapped_and_unsigned_changes),
    TU_TEST(case_feed, test_records_equivocation_freezes_the_feed),
    TU_TEST(case_feed, test_records_feed_check_reports_an_altered_change),
    TU_TEST(case_feed, test_records_feed_check_reports_a_dropped_change),
    TU_TEST(case_feed, test_records_feed_check_reports_two_reordered_changes),
    TU_TEST(case_feed, test_records_feed_check_reports_a_signature_by_another_key),
    TU_TEST(case_merge, test_records_bulk_load_makes_the_list_index_again_at_commit),
    TU_TEST(case_merge, test_records_bulk_load_keeps_one_person_once),
};

int main(void)
{
    return tu_run(TU_SUITE("records", tests));
}
