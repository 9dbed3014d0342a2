/*
 * users.c - web page accounts: a local table, never replicated
 *
 * The table is not part of the record schema and never enters a feed: it is
 * made at open, if absent, like the node's other local settings (peers).
 */
#include "store_int.h"
#include "wg_users.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char users_sql[] =
    "CREATE TABLE IF NOT EXISTS web_user("
    " name TEXT PRIMARY KEY,"
    " role INTEGER NOT NULL CHECK (role BETWEEN 0 AND 2),"
    " hash TEXT NOT NULL,"
    " created INTEGER NOT NULL) WITHOUT ROWID;";

wg_rc wg_store__users_init(wg_store *st, wg_err *err)
{
    return wg_store__exec(st, users_sql, err);
}

const char *wg_user_role_name(wg_user_role r)
{
    switch (r) {
    case WG_USER_VIEWER: return "viewer";
    case WG_USER_CLERK: return "clerk";
    case WG_USER_ADMIN: return "admin";
    }
    return "viewer";
}

int wg_user_role_parse(const char *s)
{
    if (!strcmp(s, "viewer"))
        return WG_USER_VIEWER;
    if (!strcmp(s, "clerk"))
        return WG_USER_CLERK;
    if (!strcmp(s, "admin"))
        return WG_USER_ADMIN;
    return -1;
}

wg_rc wg_user_check_name(const char *name, wg_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > WG_USER_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
        !strchr("abcdefghijklmnopqrstuvwxyz0123456789", name[0]))
        return wg_err_set(err, WG_ERR_INVALID,
                          "user name '%.32s' may hold only lower-case letters, "
                          "digits, '-', '_' and '.' (1 to %d, starting with a "
                          "letter or digit)", name, WG_USER_NAME_MAX);
    return WG_OK;
}

static wg_rc step_done(wg_store *st, sqlite3_stmt *s, const char *what,
                       wg_err *err)
{
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, what, err);
    return WG_OK;
}

wg_rc wg_store_user_add(wg_store *st, const char *name, wg_user_role role,
                        const char *hash, wg_err *err)
{
    wg_rc rc = wg_user_check_name(name, err);
    if (rc)
        return rc;
    if (!wg_pw_is_hash(hash))
        return wg_err_set(err, WG_ERR_INVALID, "not a password hash");
    sqlite3_stmt *s;
    if ((rc = wg_store__prepare(st, "INSERT INTO web_user(name, role, hash, "
                                    "created) VALUES(?, ?, ?, ?)", &s, err)))
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)role);
    sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if ((r & 0xff) == SQLITE_CONSTRAINT)
        return wg_err_set(err, WG_ERR_EXISTS, "a user named '%s' exists "
                          "already (see 'wings user list')", name);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "adding a user", err);
    return WG_OK;
}

wg_rc wg_store_user_remove(wg_store *st, const char *name, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "DELETE FROM web_user WHERE name = ?",
                                 &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if ((rc = step_done(st, s, "removing a user", err)))
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return wg_err_set(err, WG_ERR_NOTFOUND, "no user named '%.32s'", name);
    return WG_OK;
}

wg_rc wg_store_user_set_hash(wg_store *st, const char *name,
                             const char *hash, wg_err *err)
{
    if (!wg_pw_is_hash(hash))
        return wg_err_set(err, WG_ERR_INVALID, "not a password hash");
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "UPDATE web_user SET hash = ? "
                                     "WHERE name = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if ((rc = step_done(st, s, "changing a password", err)))
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return wg_err_set(err, WG_ERR_NOTFOUND, "no user named '%.32s'", name);
    return WG_OK;
}

static void fill(sqlite3_stmt *s, wg_user *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s",
             (const char *)sqlite3_column_text(s, 0));
    int role = sqlite3_column_int(s, 1);
    u->role = role == 2 ? WG_USER_ADMIN : role == 1 ? WG_USER_CLERK
                                                    : WG_USER_VIEWER;
    u->created = sqlite3_column_int64(s, 3);
}

wg_rc wg_store_users(wg_store *st, wg_user_fn fn, void *ctx, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT name, role, hash, created FROM "
                                     "web_user ORDER BY name", &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_user u;
        fill(s, &u);
        if (fn(ctx, &u))
            break;
    }
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "listing users", err);
    return WG_OK;
}

wg_rc wg_store_user_check(wg_store *st, const char *name, const char *pass,
                          size_t len, wg_user *out, wg_err *err)
{
    /* A hash to verify against when the name is unknown, made once, so an
     * unknown name costs the same Argon2id work as a wrong password. */
    static char dummy[WG_PW_HASH_MAX];
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT name, role, hash, created FROM "
                                     "web_user WHERE name = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    char hash[WG_PW_HASH_MAX] = "";
    int found = r == SQLITE_ROW;
    if (found) {
        fill(s, out);
        snprintf(hash, sizeof hash, "%s",
                 (const char *)sqlite3_column_text(s, 2));
    }
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "reading a user", err);
    if (!found) {
        if (!dummy[0] &&
            wg_pw_hash("not-a-password", 14, dummy, NULL) != WG_OK)
            dummy[0] = 0;
        (void)wg_pw_verify(dummy, pass, len);
        return wg_err_set(err, WG_ERR_AUTH, "wrong user name or password");
    }
    if (!wg_pw_verify(hash, pass, len))
        return wg_err_set(err, WG_ERR_AUTH, "wrong user name or password");
    return WG_OK;
}
