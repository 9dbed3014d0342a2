/*
 * log.c - the one log sink: stderr, one line per event
 *
 * "2026-11-28T14:00:00Z warn sync: message". The level comes from
 * $WINGS_LOG (error, warn, info, debug; default warn, info for `serve`,
 * whose lines are the journal of a node) and is checked before anything is
 * formatted. Callers never pass keys, passphrases or record
 * contents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg_node.h"

static const char *const names[] = { "error", "warn", "info", "debug" };

static int default_level = WG_LOG_WARN;

void wg_log_set_default(int level)
{
    default_level = level;
}

int wg_log_level(void)
{
    static int level = -1;
    if (level < 0) {
        const char *v = getenv("WINGS_LOG");
        level = default_level;
        for (int i = 0; v && i < 4; i++)
            if (!strcmp(v, names[i]))
                level = i;
    }
    return level;
}

void wg_log_sink(void *ctx, int level, const char *module, const char *msg)
{
    if (level > wg_log_level() || level < 0)
        return;
    char ts[WG_TIME_CHARS + 1];
    wg_ident_time_utc((int64_t)time(NULL), ts);
    fprintf(stderr, "%s %s %s: %s\n", ts, names[level], module, msg);
}
