/* server.h: the listening socket, accepting, telling TLS from plain HTTP by
 * the first byte, and the MaxStartups limit. Log domain: cockpit-ws. */
#pragma once

#include <glib.h>
#include "common/rcconfig.h"

G_BEGIN_DECLS

#define SERVER_ERROR (server_error_quark ())
GQuark server_error_quark (void);

/* Listen as cfg says (or on an inherited systemd socket, LISTEN_FDS) and
 * accept on the default main context. */
gboolean server_start (const Config *cfg, GError **error);
void server_stop (void);
/* The port actually bound (useful with --port 0). */
guint16 server_get_port (void);

G_END_DECLS
