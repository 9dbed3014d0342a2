/*
 * ops.c - record writes as one unit: validate, write, sign, commit
 *
 * What `wings add` and `wings update` do to the store, for callers that
 * are not a command line (the web page): one transaction per record,
 * validated by the store before anything changes, committed (durable and
 * signed into this node's feed) before it returns.
 *
 * ACTOR names who asked (a web account, or NULL for the node's operator):
 * this is the one place that hands it to the store, which records it in
 * each change it writes (changed_by), so history and review show
 * NAME@NODE. It is cleared again before returning: the store is shared by
 * every request the daemon serves.
 */
#include "wg_node.h"

wg_rc wg_ops_add(wg_store *st, const char *actor, const wg_table *t,
                 const char *const *names, const char *const *values, int n,
                 char id_out[WG_ID_HEX_CHARS + 1], wg_err *err)
{
    wg_rc rc = wg_store_begin(st, err);
    if (rc)
        return rc;
    wg_store_set_actor(st, actor);
    rc = wg_store_add(st, t, names, values, n, id_out, err);
    wg_store_set_actor(st, NULL);
    if (rc) {
        wg_store_rollback(st);
        return rc;
    }
    return wg_store_commit(st, err);
}

wg_rc wg_ops_update(wg_store *st, const char *actor, const wg_table *t,
                    const char *id, const char *const *names,
                    const char *const *values, int n, wg_err *err)
{
    wg_rc rc = wg_store_begin(st, err);
    if (rc)
        return rc;
    wg_store_set_actor(st, actor);
    rc = wg_store_update(st, t, id, names, values, n, err);
    wg_store_set_actor(st, NULL);
    if (rc) {
        wg_store_rollback(st);
        return rc;
    }
    return wg_store_commit(st, err);
}

wg_rc wg_ops_merge(wg_store *st, const char *actor, const wg_table *t,
                   const char *keep, const char *dup, int *moved, wg_err *err)
{
    (void)actor;
    /* One transaction of its own, as `wings merge` makes it. */
    return wg_store_merge_records(st, t, keep, dup, moved, err);
}
