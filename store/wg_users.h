/*
 * wg_users.h - the people who sign in to the node's web page
 *
 * A local table of the node's encrypted store, never replicated: an account
 * opens one node's page, as the node's passphrase opens its store. Only
 * Argon2id hashes are kept (wg_pw.h); a password never reaches the store.
 */
#ifndef WG_USERS_H
#define WG_USERS_H

#include <stdint.h>

#include "wg_err.h"
#include "wg_pw.h"
#include "wg_store.h"

#define WG_USER_NAME_MAX 32

typedef enum wg_user_role {
    WG_USER_VIEWER = 0,   /* reads records */
    WG_USER_CLERK = 1,    /* also writes them */
    WG_USER_ADMIN = 2     /* also manages users, sees the audit trail */
} wg_user_role;

typedef struct wg_user {
    char name[WG_USER_NAME_MAX + 1];
    wg_user_role role;
    int64_t created;      /* unix seconds */
} wg_user;

/* "viewer", "clerk", "admin"; parse returns -1 for anything else. */
const char *wg_user_role_name(wg_user_role r);
int wg_user_role_parse(const char *s);

/* WG_ERR_INVALID unless NAME is 1 to WG_USER_NAME_MAX of [a-z0-9._-],
 * starting with a letter or digit (it is shown as NAME@NODE). */
wg_rc wg_user_check_name(const char *name, wg_err *err);

/* Add user NAME with ROLE and password hash HASH (from wg_pw_hash()).
 * WG_ERR_EXISTS when the name is taken. */
wg_rc wg_store_user_add(wg_store *st, const char *name, wg_user_role role,
                        const char *hash, wg_err *err);
/* WG_ERR_NOTFOUND when no such user. */
wg_rc wg_store_user_remove(wg_store *st, const char *name, wg_err *err);
wg_rc wg_store_user_set_hash(wg_store *st, const char *name,
                             const char *hash, wg_err *err);
/* Every user, sorted by name. U is borrowed for the call. */
typedef int (*wg_user_fn)(void *ctx, const wg_user *u);
wg_rc wg_store_users(wg_store *st, wg_user_fn fn, void *ctx, wg_err *err);

/* Check NAME's password. WG_OK fills *OUT; WG_ERR_AUTH for an unknown name
 * or a wrong password alike (the same work is done for both, so the time
 * taken does not tell which). */
wg_rc wg_store_user_check(wg_store *st, const char *name, const char *pass,
                          size_t len, wg_user *out, wg_err *err);

/* Create the user table if the store has none (at every open). */
wg_rc wg_store__users_init(wg_store *st, wg_err *err);

#endif
