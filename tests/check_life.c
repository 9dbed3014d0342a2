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
static const tu_case case_rollback = {"rollback", setup, teardown, 120};

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


/* ---- the rollback mark and held writes ------------------------------------- */

START_TEST(test_life_mark_slot_round_trips_and_refuses_any_change)
{
    uint8_t key[WG_HASH_BYTES], other[WG_HASH_BYTES], slot[WG_MARK_SLOT];
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    wg_mark m = { 41, 1000, 12 }, got;
    wg_mark_seal(slot, &m, key);
    ck_assert_int_eq(wg_mark_open(slot, key, &got), 0);
    ck_assert_uint_eq(got.gen, 41);
    ck_assert_uint_eq(got.total, 1000);
    ck_assert_uint_eq(got.own, 12);
    ck_assert_int_eq(wg_mark_open(slot, other, &got), -1);
    for (size_t i = 0; i < WG_MARK_SLOT; i++) {
        slot[i] ^= 1;
        ck_assert_msg(wg_mark_open(slot, key, &got) == -1, "byte %zu", i);
        slot[i] ^= 1;
    }
}
END_TEST

START_TEST(test_life_mark_picks_the_newest_authentic_slot)
{
    uint8_t key[WG_HASH_BYTES], file[2 * WG_MARK_SLOT];
    memset(key, 3, sizeof key);
    wg_mark a = { 6, 50, 5 }, b = { 7, 52, 6 }, got;
    wg_mark_seal(file, &a, key);
    wg_mark_seal(file + WG_MARK_SLOT, &b, key);
    ck_assert_int_eq(wg_mark_pick(file, sizeof file, key, &got), 1);
    ck_assert_uint_eq(got.gen, 7);
    /* The newer slot torn by a power cut: the older one speaks. */
    file[WG_MARK_SLOT + 20] ^= 0xff;
    ck_assert_int_eq(wg_mark_pick(file, sizeof file, key, &got), 1);
    ck_assert_uint_eq(got.gen, 6);
    ck_assert_uint_eq(got.total, 50);
    /* Slots in either order; a file cut to one slot. */
    wg_mark_seal(file, &b, key);
    wg_mark_seal(file + WG_MARK_SLOT, &a, key);
    ck_assert_int_eq(wg_mark_pick(file, sizeof file, key, &got), 1);
    ck_assert_uint_eq(got.gen, 7);
    ck_assert_int_eq(wg_mark_pick(file, WG_MARK_SLOT + 10, key, &got), 1);
    ck_assert_uint_eq(got.gen, 7);
    file[3] ^= 1;
    file[WG_MARK_SLOT + 3] ^= 1;
    ck_assert_int_eq(wg_mark_pick(file, sizeof file, key, &got), 0);
    ck_assert_int_eq(wg_mark_pick(file, 10, key, &got), 0);
}
END_TEST

START_TEST(test_life_mark_behind_when_either_count_went_back)
{
    wg_mark m = { 1, 100, 40 };
    ck_assert(!wg_mark_behind(&m, 100, 40));
    ck_assert(!wg_mark_behind(&m, 130, 41)); /* a crash left the mark behind */
    ck_assert(wg_mark_behind(&m, 99, 40));   /* a change from a peer lost */
    ck_assert(wg_mark_behind(&m, 100, 39));  /* one of its own lost */
    ck_assert(wg_mark_behind(&m, 0, 0));
}
END_TEST

typedef struct own_ctx {
    const uint8_t *pk;
    uint64_t head;
} own_ctx;

static int on_own(void *p, const wg_feed_head *h)
{
    own_ctx *o = p;
    if (!memcmp(h->origin, o->pk, WG_SIGN_PK_BYTES))
        o->head += h->head;
    return 0;
}

static uint64_t own_head(wg_store *st)
{
    own_ctx o = { wg_store_info(st)->pk, 0 };
    ck_assert_int_eq(wg_store_feeds(st, on_own, &o, NULL), WG_OK);
    return o.head;
}

static void no_problem(void *ctx, const char *what)
{
    (void)ctx;
    ck_abort_msg("verify: %s", what);
}

static void feeds_verify(wg_store *st)
{
    long checked = 0, bad = 0;
    ck_assert_int_eq(wg_store_verify_feeds(st, no_problem, NULL, &checked,
                                           &bad, NULL), WG_OK);
    ck_assert_int_eq(bad, 0);
}

/* A peer's key, made once per test. */
static const char *peer_key(void)
{
    static char hex[WG_KEY_HEX_CHARS + 1];
    uint8_t pk[WG_SIGN_PK_BYTES];
    uint8_t *sk = wg_secret_alloc(WG_SIGN_SK_BYTES);
    wg_sign_keypair(pk, sk);
    wg_secret_free(sk);
    wg_hex_encode(hex, pk, WG_SIGN_PK_BYTES);
    return hex;
}

START_TEST(test_life_an_older_database_is_noticed_and_writes_held)
{
    char *node = make_node("office");
    wg_err err = { 0 };
    wg_store *st = open_ok(node, PASS);
    ck_assert_int_eq(wg_store_peer_add(st, "hq", peer_key(),
                                       "tcp://127.0.0.1:7401", &err), WG_OK);
    add_person(st, NAME_MARK, ID_MARK);
    uint64_t missing, missing_own;
    ck_assert_int_eq(wg_store_life_notice(st, &missing, &missing_own),
                     WG_LIFE_FINE);
    wg_store_close(&st);
    char *db = tu_path(node, "wings.db"), *old = tu_path(dir, "old.db");
    tu_copy(db, old);
    st = open_ok(node, PASS);
    add_person(st, "Two", "110105194912310046");
    add_person(st, "Three", "110105194912310062");
    wg_store_close(&st);
    tu_copy(old, db);

    st = open_ok(node, PASS);
    ck_assert_int_eq(wg_store_life_notice(st, &missing, &missing_own),
                     WG_LIFE_ROLLED_BACK);
    ck_assert_uint_eq(missing, 2);
    ck_assert_uint_eq(missing_own, 2);
    wg_life_state ls;
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(ls.held);
    ck_assert_str_eq(ls.reason, "rollback");
    ck_assert_str_eq(ls.waiting, "hq");
    uint64_t head = own_head(st);
    /* A write while held: seen at once, not in any feed. */
    add_person(st, "Four", "110105194912310089");
    ck_assert_int_eq(persons(st), 2);
    ck_assert_uint_eq(own_head(st), head);
    wg_store_close(&st);

    /* Still held after a reopen, and still said. */
    st = open_ok(node, PASS);
    ck_assert_int_eq(wg_store_life_notice(st, &missing, &missing_own),
                     WG_LIFE_ROLLED_BACK);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert_uint_eq(ls.writes, 1);
    /* A session with a peer that is not waited for releases nothing. */
    ck_assert_int_eq(wg_store_life_check(st, "other", &err), WG_OK);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(ls.held);
    /* The last peer synced: the write is signed after the head, and the
     * two changes no peer gave back are said lost. */
    ck_assert_int_eq(wg_store_life_check(st, "hq", &err), WG_OK);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(!ls.held);
    ck_assert_uint_eq(own_head(st), head + 2); /* the write, the audit entry */
    ck_assert_int_eq(persons(st), 2);
    feeds_verify(st);
    wg_store_close(&st);

    /* The mark starts again from the store as it is: a healthy open. */
    st = open_ok(node, PASS);
    ck_assert_int_eq(wg_store_life_notice(st, &missing, &missing_own),
                     WG_LIFE_FINE);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(!ls.held);
    wg_store_close(&st);
    free(db);
    free(old);
    free(node);
}
END_TEST

START_TEST(test_life_a_restored_node_holds_until_its_peers_synced)
{
    char *node, *b = backed_up(&node);
    char *r = tu_path(dir, "restored");
    wg_err err = { 0 };
    wg_store *st = open_ok(node, PASS);
    ck_assert_int_eq(wg_store_peer_add(st, "hq", peer_key(),
                                       "tcp://127.0.0.1:7401", &err), WG_OK);
    wg_store_backup(st, b, NULL, &err);
    wg_store_close(&st);
    ck_assert_int_eq(wg_store_restore(b, r, PASS, strlen(PASS), NULL, &err),
                     WG_OK);
    char *flag = tu_path(r, WG_STORE_RESTOREDFILE);
    ck_assert(exists(flag));
    st = open_ok(r, PASS);
    ck_assert(!exists(flag));
    wg_life_state ls;
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(ls.held);
    ck_assert_str_eq(ls.reason, "restore");
    /* Removing the only peer waited for releases (nothing was written). */
    ck_assert_int_eq(wg_store_peer_remove(st, "hq", &err), WG_OK);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(!ls.held);
    feeds_verify(st);
    wg_store_close(&st);
    free(flag);
    free(r);
    free(b);
    free(node);
}
END_TEST

START_TEST(test_life_mark_outlives_a_rekey_and_a_damaged_one_is_said)
{
    char *node = make_node("office");
    wg_err err = { 0 };
    wg_store *st = open_ok(node, PASS);
    add_person(st, NAME_MARK, ID_MARK);
    wg_store_close(&st);
    ck_assert_int_eq(wg_store_rekey(node, PASS, strlen(PASS), "new", 3, &err),
                     WG_OK);
    uint64_t a, b;
    st = open_ok(node, "new");
    ck_assert_int_eq(wg_store_life_notice(st, &a, &b), WG_LIFE_FINE);
    wg_store_close(&st);
    char *mark = tu_path(node, WG_STORE_MARKFILE);
    FILE *f = fopen(mark, "wb");
    fputs("garbage", f);
    fclose(f);
    st = open_ok(node, "new");
    ck_assert_int_eq(wg_store_life_notice(st, &a, &b), WG_LIFE_MARK_DAMAGED);
    wg_store_close(&st);
    st = open_ok(node, "new");
    ck_assert_int_eq(wg_store_life_notice(st, &a, &b), WG_LIFE_FINE);
    wg_store_close(&st);
    free(mark);
    free(node);
}
END_TEST


/* DST is a copy of the whole node folder SRC (wings.mark included). */
static void copy_folder(const char *src, const char *dst)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dst, src, dst);
    ck_assert_int_eq(system(cmd), 0);
}

static int64_t one_int(wg_store *st, const char *sql)
{
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* The own changes of ST after seq AFTER, as a peer would send them. */
static void own_changes(wg_store *st, uint64_t after, nu_feedcopy *f)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(wg_store_feed_read(st, wg_store_info(st)->pk, "450224",
                                        after, 1000, nu_copy_change, f, NULL),
                     WG_OK);
}

START_TEST(test_life_a_folder_copied_back_repairs_its_own_feed)
{
    char *node = make_node("office"), *copy = tu_path(dir, "copy");
    wg_err err = { 0 };
    wg_store *st = open_ok(node, PASS);
    ck_assert_int_eq(wg_store_peer_add(st, "hq", peer_key(),
                                       "tcp://127.0.0.1:7401", &err), WG_OK);
    add_person(st, NAME_MARK, ID_MARK);
    ck_assert_uint_eq(own_head(st), 1);
    wg_store_close(&st);
    copy_folder(node, copy);
    /* The original goes on: two persons (2, 3) the copy never saw, which
     * "hq" holds. */
    st = open_ok(node, PASS);
    add_person(st, "Two", "110105194912310046");
    add_person(st, "Three", "110105194912310062");
    nu_feedcopy lost;
    own_changes(st, 1, &lost);
    ck_assert_uint_eq(lost.n, 2);
    wg_store_close(&st);

    /* The copy put back: healthy at open; a record typed, and the first
     * record edited, take seqs 2 and 3 again. */
    st = open_ok(copy, PASS);
    uint64_t missing, missing_own;
    ck_assert_int_eq(wg_store_life_notice(st, &missing, &missing_own),
                     WG_LIFE_FINE);
    add_person(st, "Four", "110105194912310089");
    char id1[WG_ID_HEX_CHARS + 1];
    const wg_table *pt = wg_schema_table("person");
    ck_assert_int_eq(wg_store_find_unique(st, pt, wg_schema_field_index(
                                              pt, "id_number"), ID_MARK, NULL,
                                          id1, &err), WG_OK);
    const char *f[] = { "phone" }, *v[] = { "13800000000" };
    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    ck_assert_msg(wg_store_update(st, wg_schema_table("person"), id1, f, v, 1,
                                  &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(wg_store_commit(st, &err), WG_OK);
    ck_assert_uint_eq(own_head(st), 3);
    nu_feedcopy forked;
    own_changes(st, 1, &forked);
    ck_assert_int_eq(wg_store_own_seen_set(st, "hq", "450224", 3, &err),
                     WG_OK);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 3);

    /* "hq" gives back 2 and 3: the copy's own 2 and 3 are held, the feed
     * cut back to 1 and continued by what hq holds, writes held. */
    size_t applied = 0;
    wg_store_apply_peer(st, "hq");
    ck_assert_msg(wg_store_apply(st, lost.c, lost.n, &applied, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(applied, 2);
    ck_assert_uint_eq(own_head(st), 3);
    wg_life_state ls;
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(ls.held);
    ck_assert_str_eq(ls.reason, "fork");
    ck_assert_str_eq(ls.waiting, "hq");
    /* the two moved changes, then the fork's own audit entry */
    ck_assert_uint_eq(ls.writes, 3);
    ck_assert_int_eq(one_int(st, "SELECT count(*) FROM held WHERE n < 1"), 2);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 1);
    /* Every record there: the lost ones back, the new one kept. */
    ck_assert_int_eq(persons(st), 4);
    /* No record names a change that is gone: Four's only change was moved
     * (chg 0 until it is signed again), the first record's edit likewise
     * (it names its first change again). */
    ck_assert_int_eq(one_int(st, "SELECT count(*) FROM person WHERE chg != 0 "
                                 "AND chg NOT IN (SELECT k FROM change)"), 0);
    ck_assert_int_eq(one_int(st, "SELECT count(*) FROM person WHERE chg = 0"),
                     1);
    ck_assert_int_eq(one_int(st, "SELECT count(*) FROM change WHERE prev "
                                 "IS NOT NULL AND prev NOT IN (SELECT k FROM "
                                 "change)"), 0);
    feeds_verify(st);
    /* The same seq offered differently again (the copy's own change 2, as
     * a second peer that received it would send it): this node signed two
     * changes there; refused, nothing frozen. */
    wg_store_apply_peer(st, "hq2");
    ck_assert_int_eq(wg_store_apply(st, forked.c, forked.n, &applied, &err),
                     WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "this node signed two changes there"), "%s",
                  err.msg);
    ck_assert(!wg_store_apply_froze(st, NULL));
    ck_assert_uint_eq(own_head(st), 3);
    wg_store_close(&st);

    /* Still held after a reopen (the mark was lowered with the feed, so no
     * rollback is seen); the last peer synced releases: the two writes and
     * the audit entry signed after what came back. */
    st = open_ok(copy, PASS);
    ck_assert_int_eq(wg_store_life_notice(st, &missing, &missing_own),
                     WG_LIFE_FINE);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(ls.held);
    ck_assert_str_eq(ls.reason, "fork");
    ck_assert_int_eq(wg_store_life_check(st, "hq", &err), WG_OK);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(!ls.held);
    ck_assert_uint_eq(own_head(st), 3 + 3 + 1); /* and the release entry */
    ck_assert_int_eq(persons(st), 4);
    ck_assert_int_eq(one_int(st, "SELECT count(*) FROM person WHERE chg = 0 "
                                 "OR chg NOT IN (SELECT k FROM change)"), 0);
    feeds_verify(st);
    wg_store_close(&st);
    nu_feedcopy_free(&lost);
    nu_feedcopy_free(&forked);
    free(copy);
    free(node);
}
END_TEST

START_TEST(test_life_own_seen_kept_per_peer)
{
    char *node = make_node("office");
    wg_err err = { 0 };
    wg_store *st = open_ok(node, PASS);
    add_person(st, NAME_MARK, ID_MARK);
    add_person(st, "Two", "110105194912310046");
    ck_assert_int_eq(wg_store_peer_add(st, "hq", peer_key(),
                                       "tcp://127.0.0.1:7401", &err), WG_OK);
    /* A new peer is known to hold nothing. */
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 0);
    ck_assert_int_eq(wg_store_own_seen_set(st, "hq", "450224", 1, &err),
                     WG_OK);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 1);
    /* Never more than this store holds. */
    ck_assert_int_eq(wg_store_own_seen_set(st, "hq", "450224", 99, &err),
                     WG_OK);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 2);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450200"), 0);
    /* A peer removed and added again starts from nothing. */
    const char *k = peer_key();
    ck_assert_int_eq(wg_store_peer_remove(st, "hq", &err), WG_OK);
    ck_assert_int_eq(one_int(st, "SELECT count(*) FROM own_seen"), 0);
    ck_assert_int_eq(wg_store_peer_add(st, "hq", k, "tcp://127.0.0.1:7401",
                                       &err), WG_OK);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 0);
    /* A store from before the table: each peer known to hold what the store
     * holds at the upgrade (nothing more is sent for it). */
    ck_assert_int_eq(sqlite3_exec(st->db, "DROP TABLE own_seen", NULL, NULL,
                                  NULL), SQLITE_OK);
    wg_store_close(&st);
    st = open_ok(node, PASS);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 2);
    wg_store_close(&st);
    free(node);
}
END_TEST


START_TEST(test_life_own_change_that_does_not_chain_is_learnt_again)
{
    char *node = make_node("office"), *copy = tu_path(dir, "copy");
    wg_err err = { 0 };
    wg_store *st = open_ok(node, PASS);
    ck_assert_int_eq(wg_store_peer_add(st, "hq", peer_key(),
                                       "tcp://127.0.0.1:7401", &err), WG_OK);
    add_person(st, NAME_MARK, ID_MARK);
    wg_store_close(&st);
    copy_folder(node, copy);
    st = open_ok(node, PASS);
    add_person(st, "Two", "110105194912310046");
    add_person(st, "Three", "110105194912310062");
    nu_feedcopy lost;
    own_changes(st, 1, &lost);
    ck_assert_uint_eq(lost.n, 2);
    wg_store_close(&st);
    st = open_ok(copy, PASS);
    add_person(st, "Four", "110105194912310089");
    /* hq thought to hold up to 2 (wrongly): it sends only 3, which does
     * not chain to this store's 2. Refused, nothing moved, and hq's copy
     * of the feed is learnt again from the start next time. */
    ck_assert_int_eq(wg_store_own_seen_set(st, "hq", "450224", 2, &err),
                     WG_OK);
    size_t applied = 0;
    wg_store_apply_peer(st, "hq");
    ck_assert_int_eq(wg_store_apply(st, lost.c + 1, 1, &applied, &err),
                     WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "learnt again from this peer"), "%s",
                  err.msg);
    ck_assert_uint_eq(wg_store_own_seen(st, "hq", "450224"), 0);
    ck_assert_uint_eq(own_head(st), 2);
    wg_life_state ls;
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(!ls.held);
    /* The next session sends from the start: 2 differs, repaired. */
    ck_assert_msg(wg_store_apply(st, lost.c, lost.n, &applied, &err) == WG_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(applied, 2);
    ck_assert_int_eq(wg_store_life_state(st, &ls, &err), WG_OK);
    ck_assert(ls.held);
    ck_assert_int_eq(persons(st), 4);
    feeds_verify(st);
    wg_store_close(&st);
    nu_feedcopy_free(&lost);
    free(copy);
    free(node);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_backup, test_life_backup_restores_the_same_records),
    TU_TEST(case_backup, test_life_every_altered_byte_is_refused),
    TU_TEST(case_backup, test_life_restore_needs_an_empty_folder_and_the_passphrase),
    TU_TEST(case_local, test_life_rekey_leaves_the_old_key_useless),
    TU_TEST(case_local, test_life_folder_must_be_ours_and_closed),
    TU_TEST(case_local, test_life_files_beside_their_target),
    TU_TEST(case_rollback, test_life_mark_slot_round_trips_and_refuses_any_change),
    TU_TEST(case_rollback, test_life_mark_picks_the_newest_authentic_slot),
    TU_TEST(case_rollback, test_life_mark_behind_when_either_count_went_back),
    TU_TEST(case_rollback, test_life_an_older_database_is_noticed_and_writes_held),
    TU_TEST(case_rollback, test_life_a_restored_node_holds_until_its_peers_synced),
    TU_TEST(case_rollback, test_life_mark_outlives_a_rekey_and_a_damaged_one_is_said),
    TU_TEST(case_rollback, test_life_a_folder_copied_back_repairs_its_own_feed),
    TU_TEST(case_rollback, test_life_own_seen_kept_per_peer),
    TU_TEST(case_rollback, test_life_own_change_that_does_not_chain_is_learnt_again),
};

int main(void)
{
    return tu_run(TU_SUITE("life", tests));
}
