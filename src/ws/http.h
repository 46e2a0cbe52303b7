/* http.h: the libwebsockets vhost on the glib loop, routes, static files,
 * security headers. Log domain: cockpit-ws.
 *
 * Other modules (auth) add routes with http_add_handler(); a handler gets an
 * HttpExchange, may answer at once or later (after an upstream request), and
 * must answer exactly once with http_exchange_respond*(). If the client goes
 * away first, responding is a harmless no-op. */
#pragma once

#include <glib.h>
#include <libwebsockets.h>
#include "common/rcconfig.h"

G_BEGIN_DECLS

typedef struct _HttpExchange HttpExchange;
typedef void (*HttpHandlerFunc) (HttpExchange *ex, gpointer user_data);

/* Create the lws context (LWS_SERVER_OPTION_GLIB on the default main context)
 * and vhost (no listening socket of its own; fds are adopted). */
gboolean http_init (const Config *cfg, GError **error);
void http_shutdown (void);

/* Hand an fd carrying plaintext HTTP to lws. `tls` tells whether the client
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

/* headers: NULL-terminated array of "Name: value" strings, or NULL.
 * Security headers are added by http.c to every response. */
void http_exchange_respond (HttpExchange *ex, guint status, const gchar *content_type,
                            GBytes *body, const gchar *const *headers);
void http_exchange_respond_json (HttpExchange *ex, guint status, const gchar *json_text,
                                 const gchar *const *headers);
/* Serve a file from the static dir (ETag, gzip, cache headers) as answer. */
void http_exchange_respond_static (HttpExchange *ex, const gchar *relative_path,
                                   const gchar *const *headers);

/* For other modules' lws callbacks: the connection's peer ("1.2.3.4:5678")
 * and whether the browser's side of it is TLS. */
const gchar *http_get_peer (struct lws *wsi);
gboolean http_wsi_is_tls (struct lws *wsi);
/* A request header of the connection (transfer full), or NULL. */
gchar *http_header_dup (struct lws *wsi, enum lws_token_indexes token);

G_END_DECLS
