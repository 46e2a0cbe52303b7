/* http.h: the libwebsockets vhost on the glib loop, connections, routes,
 * static files, security headers, the origin check. Log domain: cockpit-ws.
 *
 * main.c builds the lws protocol list (http_lws_protocol first, then the
 * WebSocket protocols) and hands it to http_init(). Every adopted connection
 * carries an HttpConnection (lws opaque user data: peer, TLS or not); each
 * protocol's LWS_CALLBACK_WSI_DESTROY hands it back with
 * http_connection_destroyed().
 *
 * Other modules (auth) add routes with http_add_handler(); a handler gets an
 * HttpExchange, may answer at once or later (after an upstream request), and
 * must answer exactly once with http_exchange_respond*() or, for an error,
 * http_exchange_fail(). If the client goes away first, responding is a
 * harmless no-op. */
#pragma once

#include <glib.h>
#include <libwebsockets.h>
#include "common/rcconfig.h"

G_BEGIN_DECLS

typedef struct _HttpExchange HttpExchange;
typedef void (*HttpHandlerFunc) (HttpExchange *ex, gpointer user_data);

#define HTTP_ERROR (http_error_quark ())
GQuark http_error_quark (void);
typedef enum {
  HTTP_ERROR_LWS,               /* libwebsockets refused to start */
} HttpError;

/* The "http" protocol: requests, static files, routes; first in the list. */
extern const struct lws_protocols http_lws_protocol;

/* Create the lws context (LWS_SERVER_OPTION_GLIB on the default main context)
 * and vhost (no listening socket of its own; fds are adopted) with
 * PROTOCOLS (terminated by an all-zero entry; must outlive the server).
 * Allowed origins: the console's own, COCKPIT_KUBE_URL, Origins. */
gboolean http_init (const Config *cfg, const struct lws_protocols *protocols, GError **error);
void http_shutdown (void);

/* Hand an fd carrying plaintext HTTP to lws; on failure (FALSE) the fd is
 * closed already. `tls` tells whether the client
 * side of this connection is TLS (for Secure cookies, HSTS, redirects);
 * `plain_on_tls_port` marks a plain-HTTP connection on the TLS port, which
 * only gets /ping and 301 redirects to https. `peer` is for logs. */
gboolean http_adopt_fd (int fd, gboolean tls, gboolean plain_on_tls_port, const gchar *peer);

/* Called from lws callbacks. lws's glib sources are not recursive, so glib
 * blocks each one while it dispatches: its fd leaves the poll set and comes
 * back, two eventfd wake-ups every time. Nothing here runs a nested main
 * loop, so the source dispatching now (an lws connection's, as a rule)
 * needs no such protection. */
static inline void
http_unblock_current_source (void)
{
  GSource *current = g_main_current_source ();
  if (current && !g_source_get_can_recurse (current))
    g_source_set_can_recurse (current, TRUE);
}

/* Exact path match (after UrlRoot is removed); "/cockpit/login" etc.
 * A handler for "/" replaces the default index.html. */
void http_add_handler (const gchar *path, HttpHandlerFunc func, gpointer user_data);

const gchar *http_exchange_get_method (HttpExchange *ex);
const gchar *http_exchange_get_path (HttpExchange *ex);      /* without query, UrlRoot removed */
const gchar *http_exchange_get_query (HttpExchange *ex);     /* without '?', or NULL */
const gchar *http_exchange_get_header (HttpExchange *ex, const gchar *lowercase_name); /* or NULL */
GBytes *http_exchange_get_body (HttpExchange *ex);           /* request body (may be empty), transfer none */
const gchar *http_exchange_get_peer (HttpExchange *ex);
gboolean http_exchange_is_tls (HttpExchange *ex);
/* "https://host:port" as the browser sees this server (Host header + scheme). */
gchar *http_exchange_dup_origin (HttpExchange *ex);
/* The request's Origin is the console's own or a configured one
 * (common/origin.h); logged when not. */
gboolean http_exchange_origin_allowed (HttpExchange *ex);

/* headers: NULL-terminated array of "Name: value" strings, or NULL.
 * Security headers are added by http.c to every response. */
void http_exchange_respond (HttpExchange *ex, guint status, const gchar *content_type,
                            GBytes *body, const gchar *const *headers);
void http_exchange_respond_json (HttpExchange *ex, guint status, const gchar *json_text,
                                 const gchar *const *headers);
/* The one way a handler answers an error: STATUS with the JSON body
 * {"problem":PROBLEM,"message":…} (Cockpit's problem codes:
 * "authentication-failed", "access-denied", "not-found", "protocol-error",
 * "internal-error", "not-supported", "too-large", …), never cached. HEADERS
 * as for http_exchange_respond(), may be NULL. */
void http_exchange_fail (HttpExchange *ex, guint status, const gchar *problem,
                         const gchar *const *headers, const gchar *format, ...) G_GNUC_PRINTF (5, 6);
/* Serve a file from the static dir (ETag, gzip, cache headers) as answer. */
void http_exchange_respond_static (HttpExchange *ex, const gchar *relative_path,
                                   const gchar *const *headers);

/* For other protocols' lws callbacks: the connection's peer
 * ("1.2.3.4:5678"), whether the browser's side of it is TLS, and whether it
 * is plain HTTP on the TLS port (only /ping and redirects there). */
const gchar *http_get_peer (struct lws *wsi);
gboolean http_is_tls (struct lws *wsi);
gboolean http_is_plain_on_tls_port (struct lws *wsi);
/* The request's Origin and Host headers pass the origin check. */
gboolean http_origin_allowed (struct lws *wsi);
/* A request header of the connection (transfer full), or NULL. */
gchar *http_header_dup (struct lws *wsi, enum lws_token_indexes token);
/* Every protocol's LWS_CALLBACK_WSI_DESTROY calls this: the connection's
 * HttpConnection is freed. */
void http_connection_destroyed (struct lws *wsi);

G_END_DECLS
