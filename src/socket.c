/* socket.c: /cockpit/socket (placeholder being replaced by the real
 * channel protocol implementation). */
#define G_LOG_DOMAIN "cockpit-ws"
#include "config.h"
#include "socket.h"

static int
socket_callback (struct lws *wsi, enum lws_callback_reasons reason,
                 void *user, void *in, size_t len)
{
  return 0;
}

const struct lws_protocols socket_lws_protocol = {
  "cockpit1", socket_callback, 0, 4096, 0, NULL, 0
};

void socket_init (void) { }
void channel_register_type (const ChannelType *type) { }
const ChannelType *channel_lookup_type (const gchar *payload) { return NULL; }
void socket_set_session_func (SocketSessionFunc func, GDestroyNotify session_free) { }
void socket_configure (const gchar *const *allowed_origins, gboolean tls) { }
void socket_close_all (guint16 code) { }
