/*
 * sync.c - sync module entry points
 */
#include <stdio.h>
#include <zmq.h>

#include "wg_sync.h"

const char *wg_sync_zmq_version(void)
{
    static char v[32];
    int a, b, c;
    zmq_version(&a, &b, &c);
    snprintf(v, sizeof v, "%d.%d.%d", a, b, c);
    return v;
}
