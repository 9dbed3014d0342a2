/*
 * wg_sync.h - exchanging signed changes with peers over CurveZMQ
 */
#ifndef WG_SYNC_H
#define WG_SYNC_H

#include "wg_store.h"

#define WG_SYNC_PROTOCOL_VERSION 1

/* The libzmq version this build runs against, as "4.3.4". */
const char *wg_sync_zmq_version(void);

#endif
