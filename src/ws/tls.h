/* tls.h: GnuTLS server sessions and the non-blocking pump between a TLS
 * connection and a socketpair whose other end libwebsockets has adopted.
 * Log domain: cockpit-ws. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Load the certificate (last .cert in dir, self-signed created if none) as
 * the credentials for new connections. Called at start and on SIGHUP; open
 * connections keep the credentials they started with. */
gboolean tls_load_credentials (const gchar *cert_dir, GError **error);

/* Take over a connected TCP socket whose first byte is a TLS handshake.
 * `done` is called once the connection no longer counts as a "startup"
 * (handshake finished or failed). */
void tls_connection_start (int fd, const gchar *peer, guint handshake_timeout_ms,
                           GDestroyNotify done, gpointer done_data);

/* Start time (monotonic µs) of the oldest connection still in its TLS
 * handshake, G_MAXINT64 when none; and dropping it (MaxStartups). */
gint64 tls_oldest_handshake (void);
void tls_drop_oldest_handshake (void);

G_END_DECLS
