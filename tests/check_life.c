/*
 * check_life.c - a node's life on disk: backup, restore, rekey, its folder
 */
#include <check.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "testutil.h"
#include "nodeutil.h"
#include "wg_life.h"

#define PASS "life test passphrase"
#define NAME_MARK "Lu-Meixiang-LIFE-MARKER"
#define ID_MARK "11010519491231002X"

NU_DIR_FIXTURE(dir)

static char *make_node(const char *name)
{
    return nu_create_pass(dir, name, "450224", WG_ROLE_OFFICE, WG_KDF_TEST,
                          PASS);
}

static wg_store *open_ok(const char *d, const char *pass)
{
    return nu_open_pass(d, pass);
}

static void add_person(wg_store *st, const char *name, const char *idnum)
{
    const char *names[] = { "name", "id_number", "gender", "birth_date",
                            "disability_category", "disability_grade" };
    const char *values[] = { name, idnum, "female", "1949-12-31", "physical",
                             "2" };
    char id[WG_ID_HEX_CHARS + 1];
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_msg(wg_store_add(st, wg_schema_table("person"), names, values,
                               6, id, &err) == WG_OK, "%s", err.msg);
    ck_assert_msg(wg_store_commit(st, &err) == WG_OK, "%s", err.msg);
}

static long persons(wg_store *st)
{
    long n = -1;
    ck_assert_int_eq(wg_store_count(st, wg_schema_table("person"), &n, NULL),
                     WG_OK);
    return n;
}

/* A node with one person, and its backup at DIR/b. */
static char *backed_up(char **node)
{
    *node = make_node("office");
    wg_store *st = open_ok(*node, PASS);
    add_person(st, NAME_MARK, ID_MARK);
    char *b = tu_path(dir, "b");
    wg_backup_info bi;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_backup(st, b, &bi, &err) == WG_OK, "%s", err.msg);
    ck_assert_str_eq(bi.node.name, "office");
    ck_assert_str_eq(bi.table[0], "person");
    ck_assert_uint_eq(bi.records[0], 1);
    wg_store_close(&st);
    return b;
}

static int exists(const char *p)
{
    struct stat sb;
    return lstat(p, &sb) == 0;
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_backup = {"backup", setup, teardown, 300};
static const tu_case case_local = {"local", setup, teardown, 120};

START_TEST(test_life_backup_restores_the_same_records)
{
    char *node, *b = backed_up(&node);
    ck_assert(!tu_contains(b, NAME_MARK));
    ck_assert(!tu_contains(b, ID_MARK));
    char *r = tu_path(dir, "restored");
    wg_backup_info bi;
    wg_err err = { 0 };
    ck_assert_msg(wg_store_restore(b, r, PASS, strlen(PASS), &bi, &err) ==
                  WG_OK, "%s", err.msg);
    ck_assert_uint_eq(bi.records[0], 1);
    long checked = 0, bad = -1;
    ck_assert_int_eq(wg_store_verify_pages(r, PASS, strlen(PASS), NULL, NULL,
                                           &checked, &bad, &err), WG_OK);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_gt(checked, 0);
    wg_store *st = open_ok(r, PASS);
    ck_assert_int_eq(persons(st), 1);
    ck_assert_int_eq(wg_store_verify_feeds(st, NULL, NULL, &checked, &bad,
                                           &err), WG_OK);
    ck_assert_int_eq(bad, 0);
    wg_store_close(&st);
    free(r);
    free(b);
    free(node);
}
END_TEST

/* Every byte of the header, key file and manifest, and every 61st byte of
 * the database copy: flipped, the backup is refused and nothing is left. */
START_TEST(test_life_every_altered_byte_is_refused)
{
    char *node, *b = backed_up(&node);
    size_t n;
    unsigned char *orig = tu_read(b, &n);
    uint32_t mlen = wg_get_u32be(orig + 12);
    char *t = tu_path(dir, "t"), *r = tu_path(dir, "r");
    long tried = 0;
    for (size_t off = 0; off < n; off += off < 144 + mlen ? 1 : 61) {
        tu_write(t, orig, n);
        tu_flip(t, (long)off, 0x01);
        wg_err err = { 0 };
        wg_rc rc = wg_store_restore(t, r, PASS, strlen(PASS), NULL, &err);
        ck_assert_msg(rc == WG_ERR_AUTH || rc == WG_ERR_INVALID ||
                      rc == WG_ERR_CORRUPT, "byte %zu: rc %d (%s)", off, rc,
                      err.msg);
        ck_assert_msg(!exists(r), "byte %zu: a folder was left", off);
        tried++;
    }
    ck_assert_int_gt(tried, 144 + (long)mlen);
    free(orig);
    free(t);
    free(r);
    free(b);
    free(node);
}
END_TEST

START_TEST(test_life_restore_needs_an_empty_folder_and_the_passphrase)
{
    char *node, *b = backed_up(&node);
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_restore(b, node, PASS, strlen(PASS), NULL,
                                      &err), WG_ERR_EXISTS);
    char *r = tu_path(dir, "r");
    ck_assert_int_eq(wg_store_restore(b, r, "wrong", 5, NULL, &err),
                     WG_ERR_AUTH);
    ck_assert(!exists(r));
    free(r);
    free(b);
    free(node);
}
END_TEST

START_TEST(test_life_rekey_leaves_the_old_key_useless)
{
    char *node = make_node("office");
    wg_store *st = open_ok(node, PASS);
    add_person(st, NAME_MARK, ID_MARK);
    wg_store_close(&st);
    char *k = tu_path(node, "wings.key"), *old = tu_path(dir, "old.key");
    tu_copy(k, old);
    wg_err err = { 0 };
    ck_assert_msg(wg_store_rekey(node, PASS, strlen(PASS), "new", 3, &err) ==
                  WG_OK, "%s", err.msg);
    st = open_ok(node, "new");
    ck_assert_int_eq(persons(st), 1);
    wg_store_close(&st);
    tu_copy(old, k);
    ck_assert_int_eq(wg_store_open(node, PASS, strlen(PASS), &st, &err),
                     WG_ERR_AUTH);
    ck_assert_ptr_null(st);
    free(k);
    free(old);
    free(node);
}
END_TEST

START_TEST(test_life_folder_must_be_ours_and_closed)
{
    char *node = make_node("office");
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_check_folder(node, &err), WG_OK);
    chmod(node, 0750);
    ck_assert_int_eq(wg_store_check_folder(node, &err), WG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "chmod 700"));
    wg_store *st = NULL;
    ck_assert_int_eq(wg_store_open(node, PASS, strlen(PASS), &st, &err),
                     WG_ERR_INVALID);
    chmod(node, 0700);
    st = open_ok(node, PASS);
    wg_store_close(&st);
    free(node);
}
END_TEST

START_TEST(test_life_files_beside_their_target)
{
    char *target = tu_path(dir, "out.csv");
    char *t1 = NULL, *t2 = NULL;
    wg_err err = { 0 };
    int f1 = wg_store_file_create(target, &t1, &err);
    int f2 = wg_store_file_create(target, &t2, &err);
    ck_assert_int_ge(f1, 0);
    ck_assert_int_ge(f2, 0);
    ck_assert_str_ne(t1, t2); /* fresh names: nothing to predict */
    ck_assert_int_eq(strncmp(t1, target, strlen(target)), 0);
    ck_assert_int_eq(write(f1, "a,b\n", 4), 4);
    ck_assert_int_eq(wg_store_file_commit(f1, &t1, target, &err), WG_OK);
    ck_assert_ptr_null(t1);
    char *t2copy = strdup(t2);
    wg_store_file_abandon(f2, &t2);
    ck_assert(!exists(t2copy));
    size_t n;
    unsigned char *got = tu_read(target, &n);
    ck_assert_uint_eq(n, 4);
    free(got);
    free(t2copy);
    free(target);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_backup, test_life_backup_restores_the_same_records),
    TU_TEST(case_backup, test_life_every_altered_byte_is_refused),
    TU_TEST(case_backup, test_life_restore_needs_an_empty_folder_and_the_passphrase),
    TU_TEST(case_local, test_life_rekey_leaves_the_old_key_useless),
    TU_TEST(case_local, test_life_folder_must_be_ours_and_closed),
    TU_TEST(case_local, test_life_files_beside_their_target),
};

int main(void)
{
    return tu_run(TU_SUITE("life", tests));
}
