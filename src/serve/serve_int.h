/* SPDX-License-Identifier: MIT */
/* Inside `wirt serve`: what the API, the web UI and the console share. */
#ifndef WIRT_SERVE_SERVE_INT_H
#define WIRT_SERVE_SERVE_INT_H

#include <limits.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/vm.h"

#define SERVE_COOKIE "wirt_token"

struct serve {
    char store[PATH_MAX];
    char web_dir[PATH_MAX]; /* the UI's files; "" when not built */
    bool tcp;               /* requests need the bearer token (or its cookie) */
    bool tls;
    char token[65]; /* hex */
};

struct sockaddr_in;

/* libmicrohttpd with the service's handlers and limits, on the listening
 * Unix socket lfd, or on TCP at sin (TLS with cert_pem), or with no
 * listener at all when lfd < 0 and sin is NULL: then connections come in
 * through MHD_add_connection (the request fuzzer does that). */
struct MHD_Daemon *serve_http_start(struct serve *sv, unsigned flags, int lfd,
                                    const struct sockaddr_in *sin, const char *cert_pem,
                                    const char *key_pem);

enum MHD_Result serve_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum MHD_Result serve_send_wirt_error(struct MHD_Connection *c, const struct wirt_error *e);

/* serve_web.c: the browser's side of the service. */

/* How a request proved who it is. */
enum serve_auth { SERVE_AUTH_NONE, SERVE_AUTH_SOCKET, SERVE_AUTH_BEARER, SERVE_AUTH_COOKIE };

/* The credential of a request on TCP (bearer header or the login cookie). */
enum serve_auth serve_web_auth(const struct serve *sv, struct MHD_Connection *c);

/* A cookie-authenticated request from a browser must come from our own
 * pages: its Origin (always sent on a WebSocket, and on cross-site POSTs)
 * names this server, and a request that changes something carries the
 * header only our scripts set.  Returns false with the reason. */
bool serve_web_same_origin(struct MHD_Connection *c, const char *method, const char **why);

/* GET / and /ui/...: the UI's static files; POST /login. */
bool serve_web_handles(const char *url);
enum MHD_Result serve_web(struct serve *sv, struct MHD_Connection *c, const char *method,
                          const char *url, const char *body, size_t body_len);

/* Finds the UI next to the executable (build/web) unless --web gave one. */
void serve_web_locate(struct serve *sv, const char *given);

/* serve_ws.c: the serial console over a WebSocket. */
bool serve_ws_is_upgrade(struct MHD_Connection *c);
/* An upgrade whose 101 is queued: the request keeps it (*pending) and
 * hands it to serve_ws_release when libmicrohttpd says the request is
 * done, whether the upgrade happened or the client left first. */
struct serve_ws_pending;
enum MHD_Result serve_ws_console(struct serve *sv, struct MHD_Connection *c, const char *name,
                                 struct serve_ws_pending **pending);
enum MHD_Result serve_ws_events(struct MHD_Connection *c, struct serve_ws_pending **pending);
void serve_ws_release(struct serve_ws_pending *p);
void serve_ws_stop(void);

/* serve_supervise.c: the watch over the store (events, restart policy). */
bool serve_supervise_start(const struct serve *sv);
void serve_supervise_stop(void);
/* The sequence number the next event will get. */
uint64_t serve_events_next(void);
/* The event at *cursor (advancing it), waiting up to wait_ms for one; NULL
 * when there is none.  *lost counts events that fell out of the ring
 * before this reader got them.  The caller frees the text. */
char *serve_events_get(uint64_t *cursor, unsigned wait_ms, uint64_t *lost);

#endif
