/* server.h: the listening socket, accepting, telling TLS from plain HTTP by
 * the first byte, and the MaxStartups limit. Log domain: cockpit-ws. */
#pragma once

#include <glib.h>
#include "common/rcconfig.h"

G_BEGIN_DECLS

#define SERVER_ERROR (server_error_quark ())
GQuark server_error_quark (void);
typedef enum {
  SERVER_ERROR_ADDRESS,         /* --address does not resolve */
  SERVER_ERROR_LISTEN,          /* the port is busy or not ours to bind */
} ServerError;

/* Listen as cfg says (or on an inherited systemd socket, LISTEN_FDS) and
 * accept on the default main context. */
gboolean server_start (const Config *cfg, GError **error);
void server_stop (void);

G_END_DECLS
