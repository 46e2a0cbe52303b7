/* socket.h: /cockpit/socket, the Cockpit channel protocol (DESIGN.md §5).
 * Log domain: cockpit-ws.
 *
 * A payload type (echo, null, http-stream2, ...) is a ChannelType registered
 * with channel_register_type(); socket.c owns the frame parsing, the control
 * channel, the channel table and flow control. */
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
   * now or later; or return FALSE with *problem (static string such as
   * "not-supported", "protocol-error", "access-denied") and optionally a
   * *message (transfer full) to refuse; the socket sends the close. */
  gboolean (*open) (RcChannel *channel, JsonObject *options,
                    const gchar **problem, gchar **message);
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
/* Send {"command":"close","channel":ID[,"problem":P][,"message":M]} and drop
 * the channel (the closed() hook runs). problem NULL means a clean close. */
void channel_close (RcChannel *channel, const gchar *problem, const gchar *message);
/* TRUE when the socket's output queue is above the high-water mark; the
 * channel must stop reading upstream until resume() is called. */
gboolean channel_is_congested (RcChannel *channel);

/* The lws protocol for "cockpit1"; http.c puts it in the vhost's list. */
extern const struct lws_protocols socket_lws_protocol;

/* Hook set by auth.c: given the request's Cookie header (may be NULL), return
 * the session (transfer full) or NULL. While unset every socket is anonymous
 * and allowed. */
typedef RcSession *(*SocketSessionFunc) (const gchar *cookie_header);
void socket_set_session_func (SocketSessionFunc func, GDestroyNotify session_free);

/* Hook set by auth.c: when the session ends for want of activity (wall-clock
 * seconds, 0 for never). Activity on a channel may move it later. A socket
 * whose session has ended is closed with "authentication-failed". */
typedef gint64 (*SocketSessionExpiresFunc) (RcSession *session);
void socket_set_session_expires_func (SocketSessionExpiresFunc func);

/* Register the built-in payload types (echo, null). Call once at start. */
void socket_init (void);

/* Close every WebSocket with CODE (1001 on SIGTERM). */
void socket_close_all (guint16 code);

/* Check Origin against the console's own origin and Config origins. */
void socket_configure (const gchar *const *allowed_origins, gboolean tls);

/* Pure parsing, exposed for tests and fuzzing. A frame is "CHANNEL\nPAYLOAD"
 * with CHANNEL printable ASCII (possibly empty: the control channel). */
gboolean socket_parse_frame (const gchar *data, gsize len,
                             const gchar **channel, gsize *channel_len,
                             const gchar **payload, gsize *payload_len);
/* A control message: a JSON object with a "command" string and an optional
 * "channel" string. Returns (transfer full) the object; *command points into it. */
JsonObject *socket_parse_control (const gchar *data, gsize len, const gchar **command,
                                  GError **error);
/* Origin is the console's own (scheme://Host) or one of `allowed`. */
gboolean socket_origin_allowed (const gchar *origin, const gchar *host, gboolean tls,
                                const gchar *const *allowed);
/* Open WebSockets right now. */
guint socket_count (void);

G_END_DECLS
