/*
 * check_web.c - web accounts (store/users.c, crypto/pwhash.c), HTML
 * escaping (node/web_html.c) and language tags (node/i18n.c)
 */
#include <check.h>
#include <string.h>

#include "testutil.h"
#include "nodeutil.h"
#include "wg_crypto.h"
#include "wg_node.h"
#include "wg_pw.h"
#include "wg_store.h"
#include "wg_users.h"
#include "web_int.h"

#define PASS "Juniper-2x-canal-orbit"

static char *dir;

static void setup(void)
{
    setenv("WINGS_TEST_KDF", "1", 1);
    ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);
    dir = tu_tmpdir();
}

static void teardown(void)
{
    tu_rmtree(&dir);
}

static wg_store *make_store(void)
{
    char *d = nu_create_pass(dir, "ronan", "450224", WG_ROLE_OFFICE,
                             WG_KDF_TEST, PASS);
    wg_store *st = nu_open_pass(d, PASS);
    free(d);
    return st;
}

static void hash_of(const char *pw, char out[WG_PW_HASH_MAX])
{
    wg_err err = { 0 };
    ck_assert_msg(wg_pw_hash(pw, strlen(pw), out, &err) == WG_OK, "%s",
                  err.msg);
}

static int count_users(void *ctx, const wg_user *u)
{
    (void)u;
    (*(int *)ctx)++;
    return 0;
}

static int count_feeds(void *ctx, const wg_feed_head *h)
{
    (*(uint64_t *)ctx) += h->head + 1;
    return 0;
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_core = {"core", setup, teardown, 60};

START_TEST(test_users_add_check_remove)
{
    wg_store *st = make_store();
    char h[WG_PW_HASH_MAX];
    hash_of("Pomelo-4k-river", h);
    ck_assert(!strncmp(h, "$argon2id$", 10));
    wg_err err = { 0 };
    ck_assert_int_eq(wg_store_user_add(st, "wei", WG_USER_CLERK, h, &err),
                     WG_OK);
    wg_user u;
    ck_assert_int_eq(wg_store_user_check(st, "wei", "Pomelo-4k-river", 15, &u,
                                         &err), WG_OK);
    ck_assert_str_eq(u.name, "wei");
    ck_assert_int_eq(u.role, WG_USER_CLERK);
    ck_assert_int_eq(wg_store_user_check(st, "wei", "Pomelo-4k-rivet", 15, &u,
                                         &err), WG_ERR_AUTH);
    ck_assert_str_eq(err.msg, "wrong user name or password");
    ck_assert_int_eq(wg_store_user_check(st, "nobody", "Pomelo-4k-river", 15,
                                         &u, &err), WG_ERR_AUTH);
    ck_assert_str_eq(err.msg, "wrong user name or password");
    ck_assert_int_eq(wg_store_user_add(st, "wei", WG_USER_ADMIN, h, &err),
                     WG_ERR_EXISTS);
    /* a new password replaces the old one */
    char h2[WG_PW_HASH_MAX];
    hash_of("Kumquat-9z-ferry", h2);
    ck_assert_int_eq(wg_store_user_set_hash(st, "wei", h2, &err), WG_OK);
    ck_assert_int_eq(wg_store_user_check(st, "wei", "Pomelo-4k-river", 15, &u,
                                         &err), WG_ERR_AUTH);
    ck_assert_int_eq(wg_store_user_check(st, "wei", "Kumquat-9z-ferry", 16,
                                         &u, &err), WG_OK);
    ck_assert_int_eq(wg_store_user_remove(st, "wei", &err), WG_OK);
    ck_assert_int_eq(wg_store_user_remove(st, "wei", &err), WG_ERR_NOTFOUND);
    ck_assert_int_eq(wg_store_user_set_hash(st, "wei", h2, &err),
                     WG_ERR_NOTFOUND);
    int n = 0;
    ck_assert_int_eq(wg_store_users(st, count_users, &n, &err), WG_OK);
    ck_assert_int_eq(n, 0);
    wg_store_close(&st);
}
END_TEST

START_TEST(test_users_refuse_bad_input)
{
    wg_store *st = make_store();
    char h[WG_PW_HASH_MAX];
    hash_of("Pomelo-4k-river", h);
    wg_err err = { 0 };
    static const char *const bad[] = { "", "Wei", "-wei", "wei lin", "wei@x",
        "韦", "abcdefghijklmnopqrstuvwxyz0123456", NULL };
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(wg_store_user_add(st, bad[i], WG_USER_CLERK, h, &err) ==
                      WG_ERR_INVALID, "name '%s' accepted", bad[i]);
    ck_assert_int_eq(wg_store_user_add(st, "wei", WG_USER_CLERK, "secret",
                                       &err), WG_ERR_INVALID);
    ck_assert_int_eq(wg_store_user_add(st, "wei", WG_USER_CLERK,
                                       "$argon2id$ x", &err), WG_ERR_INVALID);
    char out[WG_PW_HASH_MAX];
    ck_assert_int_eq(wg_pw_hash("short", 5, out, &err), WG_ERR_INVALID);
    /* 8 characters of Chinese are 24 bytes and enough */
    ck_assert_int_eq(wg_pw_hash("一二三四五六七八", 24, out, &err), WG_OK);
    ck_assert_int_eq(wg_pw_verify(out, "一二三四五六七八", 24), 1);
    ck_assert_int_eq(wg_pw_verify("not a hash", "x", 1), 0);
    ck_assert_int_eq(wg_user_role_parse("clerk"), WG_USER_CLERK);
    ck_assert_int_eq(wg_user_role_parse("root"), -1);
    wg_store_close(&st);
}
END_TEST

/* Accounts are local: adding one writes no change to any feed, and they
 * survive closing and opening the store. */
START_TEST(test_users_are_local_and_kept)
{
    wg_store *st = make_store();
    wg_err err = { 0 };
    uint64_t before = 0, after = 0;
    ck_assert_int_eq(wg_store_feeds(st, count_feeds, &before, &err), WG_OK);
    char h[WG_PW_HASH_MAX];
    hash_of("Pomelo-4k-river", h);
    ck_assert_int_eq(wg_store_user_add(st, "li.na", WG_USER_VIEWER, h, &err),
                     WG_OK);
    ck_assert_int_eq(wg_store_feeds(st, count_feeds, &after, &err), WG_OK);
    ck_assert_uint_eq(before, after);
    wg_store_close(&st);
    char *d = tu_path(dir, "ronan");
    ck_assert_int_eq(wg_store_open(d, PASS, strlen(PASS), &st, &err), WG_OK);
    free(d);
    wg_user u;
    ck_assert_int_eq(wg_store_user_check(st, "li.na", "Pomelo-4k-river", 15,
                                         &u, &err), WG_OK);
    ck_assert_int_eq(u.role, WG_USER_VIEWER);
    wg_store_close(&st);
}
END_TEST

static char *escaped(const char *s)
{
    wg_buf b;
    wg_buf_init(&b, 4096);
    h_text(&b, s);
    wg_buf_append(&b, "", 1, NULL);
    char *out = strdup((const char *)b.data);
    wg_buf_release(&b);
    return out;
}

START_TEST(test_web_html_escapes_everything)
{
    char *e = escaped("<script>alert('x')</script>&\"");
    ck_assert_str_eq(e, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
                        "&amp;&quot;");
    free(e);
    e = escaped("韦小宝\x1b[31m\x7f\tok");
    ck_assert_str_eq(e, "韦小宝\xef\xbf\xbd[31m\xef\xbf\xbd\tok");
    free(e);
    e = escaped("");
    ck_assert_str_eq(e, "");
    free(e);
    wg_buf b;
    wg_buf_init(&b, 4096);
    h_url(&b, "/a b?&<\"");
    wg_buf_append(&b, "", 1, NULL);
    ck_assert_str_eq((const char *)b.data, "%2Fa%20b%3F%26%3C%22");
    wg_buf_release(&b);
}
END_TEST

START_TEST(test_i18n_lang_tags)
{
    ck_assert_str_eq(wg_i18n_lang_of("zh_CN.UTF-8"), "zh_CN");
    ck_assert_str_eq(wg_i18n_lang_of("zh-CN"), "zh_CN");
    ck_assert_str_eq(wg_i18n_lang_of("zh"), "zh_CN");
    ck_assert_str_eq(wg_i18n_lang_of("zh_TW:en"), "zh_CN");
    ck_assert_str_eq(wg_i18n_lang_of("en_US.UTF-8"), "en");
    ck_assert_str_eq(wg_i18n_lang_of("zu"), "en");
    ck_assert_str_eq(wg_i18n_lang_of("zhx"), "en");
    ck_assert_str_eq(wg_i18n_lang_of(""), "en");
}
END_TEST

static int clerks(void *ctx, const wg_history_entry *e)
{
    strcat(ctx, e->clerk[0] ? e->clerk : "-");
    strcat(ctx, ";");
    return 0;
}

/* The page's writes go through ops.c with the signed-in account: each
 * change names it; the store forgets it after the write. */
START_TEST(test_ops_record_the_clerk)
{
    wg_store *st = make_store();
    const wg_table *t = wg_schema_table("person");
    char idnum[19], id[WG_ID_HEX_CHARS + 1];
    nu_person_idnum(idnum, 7);
    const char *n[] = { "name", "id_number", "disability_category" };
    const char *v[] = { "韦小梅", idnum, "physical" };
    wg_err err = { 0 };
    ck_assert_msg(wg_ops_add(st, "wei", t, n, v, 3, id, &err) == WG_OK, "%s",
                  err.msg);
    const char *un[] = { "township" }, *uv[] = { "古宜镇" };
    ck_assert_int_eq(wg_ops_update(st, "li.na", t, id, un, uv, 1, &err),
                     WG_OK);
    uv[0] = "长安镇";
    ck_assert_int_eq(wg_ops_update(st, NULL, t, id, un, uv, 1, &err), WG_OK);
    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    uv[0] = "丹洲镇";
    ck_assert_int_eq(wg_store_update(st, t, id, un, uv, 1, &err), WG_OK);
    ck_assert_int_eq(wg_store_commit(st, &err), WG_OK);
    /* a refused write leaves no clerk behind either */
    const char *bn[] = { "gender" }, *bv[] = { "unknown" };
    ck_assert_int_eq(wg_ops_update(st, "wei", t, id, bn, bv, 1, &err),
                     WG_ERR_INVALID);
    ck_assert_int_eq(wg_store_begin(st, &err), WG_OK);
    uv[0] = "古宜镇";
    ck_assert_int_eq(wg_store_update(st, t, id, un, uv, 1, &err), WG_OK);
    ck_assert_int_eq(wg_store_commit(st, &err), WG_OK);
    char seen[128] = "";
    ck_assert_int_eq(wg_store_history(st, t, id, clerks, seen, &err), WG_OK);
    ck_assert_str_eq(seen, "wei;li.na;-;-;-;");
    wg_store_close(&st);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_core, test_users_add_check_remove),
    TU_TEST(case_core, test_users_refuse_bad_input),
    TU_TEST(case_core, test_users_are_local_and_kept),
    TU_TEST(case_core, test_web_html_escapes_everything),
    TU_TEST(case_core, test_i18n_lang_tags),
    TU_TEST(case_core, test_ops_record_the_clerk),
};

int main(void)
{
    return tu_run(TU_SUITE("web", tests));
}
