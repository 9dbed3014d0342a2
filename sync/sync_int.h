/*
 * sync_int.h - what the files of sync/ share
 */
#ifndef WG_SYNC_INT_H
#define WG_SYNC_INT_H

#include "wg_sync.h"
#include "wg_wire.h"

#define WG_BATCH_CHANGES 512   /* changes per batch we send */

/* ---- the engine, for the control socket (ctl.c) -------------------------- */

/* The ZAP domain of the control socket: NULL-mechanism connections in it
 * are admitted by uid, not by key. */
#define WG_CTL_ZAP_DOMAIN "wings-ctl"

/* Bind the engine's ZAP handler if it is not bound yet (wg_engine_listen
 * binds it too). */
wg_rc wg_engine__zap_bind(wg_engine *e, wg_err *err);
/* Admit control-socket connections from UID from now on. */
void wg_engine__ctl_admit(wg_engine *e, unsigned long uid);
/* The engine's ZeroMQ context. Borrowed. */
void *wg_engine__zmq(wg_engine *e);
/* Stop polling SOCK (given to wg_engine_watch()). */
void wg_engine__unwatch(wg_engine *e, void *sock);
/* The uid in a Unix peer address as libzmq gives it ("...:UID:GID:PID");
 * 0 when A (N bytes) has no such tail. */
int wg_ctl__peer_uid(const char *a, size_t n, unsigned long *uid);

typedef struct wg_session wg_session;

/* Sends one whole message; the session never touches a socket. */
typedef wg_rc (*wg_session_send_fn)(void *ctx, const uint8_t *p, size_t n);

/* A session with the peer whose authenticated key is PEER_KEY (named NAME in
 * our peer list). Caller owns; release with wg_session_destroy(). */
wg_session *wg_session_new(wg_store *st, int is_client, const char *name,
                           const uint8_t peer_key[WG_SIGN_PK_BYTES],
                           wg_session_send_fn send, void *ctx);
void wg_session_destroy(wg_session **s);

/* Client: send HELLO. */
wg_rc wg_session_start(wg_session *s, wg_err *err);

/* Handle one message from the peer. An error ends the session: the peer has
 * already been sent an ERROR when that is useful. */
wg_rc wg_session_receive(wg_session *s, const uint8_t *p, size_t n,
                         wg_err *err);

/* 1 once both sides have said they are done (or the digests matched). */
int wg_session_finished(const wg_session *s);
long wg_session_sent(const wg_session *s);
long wg_session_received(const wg_session *s);
long wg_session_refused(const wg_session *s);
const char *wg_session_name(const wg_session *s);
const uint8_t *wg_session_peer_key(const wg_session *s);

#endif
