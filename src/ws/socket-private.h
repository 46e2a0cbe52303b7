/* socket-private.h: what socket.c and channel.c share inside the socket
 * module; nothing else includes it. */
#pragma once

#include "ws/socket.h"
#include "common/utf8.h"

G_BEGIN_DECLS

typedef struct _RcSocket RcSocket;

struct _RcChannel {
  RcSocket *socket;
  gchar *id;
  const ChannelType *type;
  gpointer data;
  GDestroyNotify destroy;
  gboolean binary;
  gboolean wants_resume;
  gboolean ready;
  gsize reserved;             /* bytes charged with channel_reserve() */
  Utf8Stream text;            /* text channels: a character cut at the end of a piece */
};

/* channel.c, for socket.c */
RcChannel *channel_new (RcSocket *socket, const gchar *id, const ChannelType *type, gboolean binary);
void channel_free (gpointer channel);       /* the channel table's value-destroy function */

/* socket.c, for channel.c */
void socket_queue (RcSocket *self, const gchar *channel, const void *data, gsize len, gboolean binary);
void socket_queue_control (RcSocket *self, JsonObject *object);
void socket_send_close (RcSocket *self, const gchar *channel, const gchar *problem, const gchar *message);
void socket_remove_channel (RcSocket *self, const gchar *id);   /* runs channel_free */
RcSession *socket_get_session (RcSocket *self);
const gchar *socket_get_peer (RcSocket *self);
gboolean socket_is_congested (RcSocket *self);
/* Charge or give back bytes held for this socket (its own and its user's
 * budget); reserving FALSE means over a budget and nothing was charged. */
gboolean socket_reserve (RcSocket *self, gsize len);
void socket_release (RcSocket *self, gsize len);
/* TRUE when the socket and its user may hold LEN more bytes. */
gboolean socket_has_room (RcSocket *self, gsize len);
/* A channel was told to wait (channel_is_congested): resume it when the
 * queue drains. */
void socket_note_congested (RcSocket *self);
/* A limit was hit: logged once per socket. */
void socket_log_limit (RcSocket *self, const gchar *problem, const gchar *what);

G_END_DECLS
