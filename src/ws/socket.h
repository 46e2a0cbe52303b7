/* socket.h: /cockpit/socket, the Cockpit channel protocol
 * (doc/architecture.md, "The socket protocol"). Log domain: cockpit-ws.
 *
 * A payload type (echo, null, http-stream2, ...) is a ChannelType registered
 * with channel_register_type(); socket.c owns the frame parsing, the control
 * channel, the channel table and flow control. A channel ends in one of two
 * ways: channel_close() (done, or a problem without more to say) and
 * channel_fail() (a problem with a message, logged once). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libwebsockets.h>
#include "common/session.h"

G_BEGIN_DECLS

typedef struct _RcChannel RcChannel;

typedef struct {
  const gchar *payload;     /* "echo", "null", "http-stream2" */

  /* The open message is in `options`. Return TRUE and call channel_ready()
   * now or later; or call channel_fail() (or channel_close()) and return
   * FALSE: the channel is gone then, do not touch it. */
  gboolean (*open) (RcChannel *channel, JsonObject *options);
  /* A payload frame from the browser. */
  void (*recv) (RcChannel *channel, GBytes *payload);
  /* A control message for this channel other than open/close ("done", ...). */
  void (*control) (RcChannel *channel, const gchar *command, JsonObject *message);
  /* The channel is going away (browser closed it, socket closed, or
   * channel_close() was called): abort work, free data. Called exactly once. */
  void (*closed) (RcChannel *channel);
  /* Output queue drained below the low-water mark after channel_is_congested()
   * said TRUE: resume reading upstream. May be NULL. */
  void (*resume) (RcChannel *channel);
} ChannelType;

void channel_register_type (const ChannelType *type);
const ChannelType *channel_lookup_type (const gchar *payload);

const gchar *channel_get_id (RcChannel *channel);
/* Session of the socket's user, or NULL when the socket is not logged in. */
RcSession *channel_get_session (RcChannel *channel);
void channel_set_data (RcChannel *channel, gpointer data, GDestroyNotify destroy);
gpointer channel_get_data (RcChannel *channel);

/* {"command":"ready","channel":ID, ...extra members} */
void channel_ready (RcChannel *channel, JsonObject *extra);
/* A payload frame "ID\n" + data to the browser (binary frame when the
 * channel was opened with "binary":"raw"). */
void channel_send (RcChannel *channel, const void *data, gsize len);
/* Control message {"command":COMMAND,"channel":ID, ...fields}; fields may be NULL. */
void channel_send_control (RcChannel *channel, const gchar *command, JsonObject *fields);
/* Send {"command":"close","channel":ID[,"problem":P]} and drop the channel
 * (the closed() hook runs). PROBLEM NULL means a clean close. */
void channel_close (RcChannel *channel, const gchar *problem);
/* The one failure verb: log the reason (debug), send
 * {"command":"close","channel":ID,"problem":P,"message":…} and drop the
 * channel. */
void channel_fail (RcChannel *channel, const gchar *problem, const gchar *format, ...) G_GNUC_PRINTF (3, 4);
/* TRUE when the socket's output queue is above the high-water mark; the
 * channel must stop reading upstream until resume() is called. */
gboolean channel_is_congested (RcChannel *channel);
/* Charge LEN bytes this channel holds (a request body, say) to its socket's
 * and its user's memory budget. FALSE, and nothing charged, when that would
 * go over: the channel should fail with "too-large". What a channel holds
 * is given back when it closes, or earlier with channel_release(). */
gboolean channel_reserve (RcChannel *channel, gsize len);
void channel_release (RcChannel *channel, gsize len);

/* The lws protocol for "cockpit1"; main.c puts it in the vhost's list. */
extern const struct lws_protocols socket_lws_protocol;

/* What one user can make the server hold (cockpit.conf, see
 * doc/architecture.md, "Limits"). Going over closes that channel ("too-many",
 * "too-large") or that socket, never the server. */
typedef struct {
  guint max_channels;          /* open channels per socket */
  guint max_sockets_per_user;  /* open sockets of one user (all sessions) */
  gsize socket_buffer;         /* bytes one socket may hold: queued frames,
                                * a message being reassembled, request bodies */
  gsize user_buffer;           /* the same, summed over a user's sockets */
  guint write_timeout;         /* seconds a socket's queue may go unread */
} SocketLimits;

#define SOCKET_LIMITS_DEFAULT { 128, 16, 8 << 20, 32 << 20, 30 }

void socket_set_limits (const SocketLimits *limits);

/* Wired by main.c to auth: given the upgrade request's Cookie header (may be
 * NULL) and whether the connection is TLS, return the session (transfer
 * full) or NULL. While unset every socket is anonymous and allowed.
 * Opening a channel is activity (session_touch); a socket whose session is
 * over is closed with "authentication-failed". */
typedef RcSession *(*SocketSessionFunc) (const gchar *cookie_header, gboolean tls);
void socket_set_session_func (SocketSessionFunc func);

/* The built-in payload types. */
void channel_echo_register (void);
void channel_null_register (void);

/* Close every WebSocket with CODE (1001 on SIGTERM). */
void socket_close_all (guint16 code);
/* Close every WebSocket of the session with id SESSION_ID (logout) with
 * "authentication-failed". */
void socket_close_session (const gchar *session_id);

/* Pure parsing, exposed for tests and fuzzing. A frame is "CHANNEL\nPAYLOAD"
 * with CHANNEL printable ASCII (possibly empty: the control channel). */
gboolean socket_parse_frame (const gchar *data, gsize len,
                             const gchar **channel, gsize *channel_len,
                             const gchar **payload, gsize *payload_len);
/* A control message: a JSON object with a "command" string and an optional
 * "channel" string. Returns (transfer full) the object; *command points into it. */
JsonObject *socket_parse_control (const gchar *data, gsize len, const gchar **command,
                                  GError **error);
/* Open WebSockets right now. */
guint socket_count (void);

G_END_DECLS
