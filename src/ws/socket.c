/* socket.c: /cockpit/socket, the Cockpit channel protocol (the channels
 * themselves are in channel.c).
 *
 * One RcSocket per WebSocket. Frames are "CHANNEL\nPAYLOAD"; the control
 * channel is the empty name and carries JSON commands (init, open, ready,
 * close, done, ping, pong). Payload types plug in through ChannelType.
 *
 * Output is a queue of complete frames, each allocated with LWS_PRE bytes of
 * headroom so lws can write its header in place; each POLLOUT round writes
 * as many as the connection takes, up to a fair share. Above
 * SOCKET_HIGH_WATER bytes queued the socket stops reading from the browser
 * (lws_rx_flow_control) and channels see channel_is_congested(); below
 * SOCKET_LOW_WATER reading resumes and channels that were told to wait get
 * resume().
 *
 * Limits (SocketLimits): every byte a socket holds (queued frames, a message
 * being reassembled, what channels reserve) counts against its own budget
 * and its user's; channels and sockets per user are counted; a socket whose
 * queue goes unread for write_timeout seconds is closed and freed, even if
 * its close frame can never be delivered.
 */
#include "config.h"

#include "ws/socket-private.h"
#include "ws/http.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define SOCKET_HIGH_WATER (1024 * 1024)
#define SOCKET_LOW_WATER (256 * 1024)
#define SOCKET_WRITE_BATCH (256 * 1024)   /* bytes written per POLLOUT round at most */
#define SOCKET_FRAGMENT (64 * 1024)       /* a larger message goes out in fragments */
#define SOCKET_RX_FREE (64 * 1024)        /* of a message being reassembled, not charged */
#define SOCKET_MAX_MESSAGE (16 * 1024 * 1024)
#define SOCKET_PING_INTERVAL 30
#define SOCKET_MAX_CHANNEL_ID 256

typedef struct {
  gsize len;
  gsize off;                  /* written so far (in fragments) */
  gboolean binary;
  guchar buf[];               /* LWS_PRE headroom, then len bytes */
} OutFrame;

/* What all sockets of one user hold: the user's budget. */
typedef struct {
  gchar *key;                 /* backend "\n" user */
  guint sockets;
  gsize held;
} UserUsage;

struct _RcSocket {
  struct lws *wsi;
  gchar *peer;
  RcSession *session;         /* NULL when anonymous */
  UserUsage *user;            /* NULL when anonymous */
  GHashTable *channels;       /* id → RcChannel */
  GQueue out;                 /* OutFrame* */
  gsize out_bytes;
  gsize held;                 /* out_bytes + rx->len + what channels reserved */
  gsize held_max;             /* the most it held at once */
  GByteArray *rx;             /* partial incoming message, lazily allocated */
  gboolean rx_binary;
  gboolean rx_overflow;
  gboolean rx_too_large;      /* the overflow was the budget, not the 16 MiB cap */
  gboolean rx_too_large_channel;  /* ... and the channel it was for has failed */
  gboolean got_init;
  gboolean rx_paused;
  gboolean closing;           /* close after the queue drains */
  guint16 close_code;
  guint expiry_timer;
  guint write_timer;          /* armed while frames wait */
  gint64 last_write;          /* monotonic µs since frames wait without progress */
  gboolean limit_logged;
  gboolean resume_pending;    /* some channel waits for resume() */
};

/* What the protocol keeps per lws connection: filled in
 * FILTER_PROTOCOL_CONNECTION (session) and ESTABLISHED (socket). */
typedef struct {
  RcSocket *socket;
  RcSession *session;
} SocketPss;

static GHashTable *all_sockets;             /* RcSocket set */
static GHashTable *users;                   /* key → UserUsage */
static guint ping_timer;
static SocketSessionFunc session_func;
static SocketLimits limits = SOCKET_LIMITS_DEFAULT;

/* ----------------------------------------------------------- limits */

void
socket_set_limits (const SocketLimits *l)
{
  limits = *l;
  /* 0 means no limit (cockpit.conf(5)), not a budget of nothing */
  if (!limits.socket_buffer)
    limits.socket_buffer = G_MAXSIZE;
  if (!limits.user_buffer)
    limits.user_buffer = G_MAXSIZE;
}

/* A limit was hit: say so once per socket (an attacker's thousand channels
 * make one log line, not a thousand). */
void
socket_log_limit (RcSocket *self, const gchar *problem, const gchar *what)
{
  if (self->limit_logged)
    return;
  self->limit_logged = TRUE;
  g_message ("%s: limit reached (%s): %s", self->peer, problem, what);
}

static void
user_usage_free (gpointer data)
{
  UserUsage *u = data;
  g_free (u->key);
  g_free (u);
}

static UserUsage *
user_usage_ref (RcSession *session)
{
  g_autofree gchar *key = session_get_owner_key (session);
  UserUsage *u;
  if (!users)
    users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, user_usage_free);
  u = g_hash_table_lookup (users, key);
  if (!u)
    {
      u = g_new0 (UserUsage, 1);
      u->key = g_steal_pointer (&key);
      g_hash_table_insert (users, u->key, u);
    }
  u->sockets++;
  return u;
}

static void
user_usage_unref (UserUsage *u)
{
  if (u && --u->sockets == 0)
    g_hash_table_remove (users, u->key);
}

/* Change what the socket holds by DELTA bytes (the one place that counts). */
static void
socket_account (RcSocket *self, gssize delta)
{
  self->held += delta;
  self->held_max = MAX (self->held_max, self->held);
  if (self->user)
    self->user->held += delta;
}

/* Would holding LEN more bytes go over a budget? (A limit of 0 is none.) */
static gboolean
socket_would_exceed (RcSocket *self, gsize len)
{
  return (limits.socket_buffer && self->held + len > limits.socket_buffer) ||
         (limits.user_buffer && self->user && self->user->held + len > limits.user_buffer);
}

/* Once megabytes a socket held are freed, give the memory back to the
 * system: glibc keeps freed heap memory otherwise, and the RSS of a server
 * that fended off a hostile user would stay at its peak, or grow past what
 * the budgets allow as freed buffers are not reused. At most once a
 * second. */
static guint trim_timer;

static gboolean
socket_trim_memory (gpointer unused)
{
  trim_timer = 0;
#ifdef __GLIBC__
  malloc_trim (0);
#endif
  return G_SOURCE_REMOVE;
}

static void
socket_schedule_trim (gsize freed)
{
  if (freed >= SOCKET_HIGH_WATER && !trim_timer)
    trim_timer = g_timeout_add_seconds (1, socket_trim_memory, NULL);
}

gboolean
socket_reserve (RcSocket *self, gsize len)
{
  if (socket_would_exceed (self, len))
    return FALSE;
  socket_account (self, len);
  return TRUE;
}

void
socket_release (RcSocket *self, gsize len)
{
  socket_account (self, -(gssize) len);
  socket_schedule_trim (len);
}

gboolean
socket_has_room (RcSocket *self, gsize len)
{
  return !socket_would_exceed (self, len);
}

void
socket_note_congested (RcSocket *self)
{
  self->resume_pending = TRUE;
}

RcSession *
socket_get_session (RcSocket *self)
{
  return self->session;
}

const gchar *
socket_get_peer (RcSocket *self)
{
  return self->peer;
}

void
socket_set_session_func (SocketSessionFunc func)
{
  session_func = func;
}

/* ----------------------------------------------------------------- output */

static gboolean socket_check_writes (gpointer data);

static void
socket_want_write (RcSocket *self)
{
  if (!self->wsi)
    return;
  lws_callback_on_writable (self->wsi);
  /* watch for a browser that stops reading */
  if (!self->write_timer && limits.write_timeout)
    self->write_timer = g_timeout_add_seconds (limits.write_timeout, socket_check_writes, self);
}

static void
socket_pause_rx (RcSocket *self, gboolean pause)
{
  if (self->rx_paused == pause || !self->wsi)
    return;
  self->rx_paused = pause;
  lws_rx_flow_control (self->wsi, pause ? 0 : 1);
}

/* Queue the frame CHANNEL "\n" DATA (CHANNEL "" for the control channel):
 * the one place frames are built. */
void
socket_queue (RcSocket *self, const gchar *channel, const void *data, gsize len, gboolean binary)
{
  gsize idlen = strlen (channel);
  OutFrame *frame;

  if (!self->wsi)
    return;

  frame = g_malloc (sizeof (OutFrame) + LWS_PRE + idlen + 1 + len);
  frame->len = idlen + 1 + len;
  frame->off = 0;
  frame->binary = binary;
  memcpy (frame->buf + LWS_PRE, channel, idlen);
  frame->buf[LWS_PRE + idlen] = '\n';
  if (len)
    memcpy (frame->buf + LWS_PRE + idlen + 1, data, len);
  if (g_queue_is_empty (&self->out))
    self->last_write = g_get_monotonic_time ();   /* the wait starts now */
  g_queue_push_tail (&self->out, frame);
  self->out_bytes += frame->len;
  socket_account (self, frame->len);

  if (self->out_bytes > SOCKET_HIGH_WATER)
    socket_pause_rx (self, TRUE);
  socket_want_write (self);
}

void
socket_queue_control (RcSocket *self, JsonObject *object)
{
  g_autofree gchar *text = rc_json_write_object (object);
  /* strings from upstream (a reason phrase, a header) may be any bytes;
   * json-glib copies them as they are, and a browser fails the whole socket
   * on one text frame that is not UTF-8 */
  if (!g_utf8_validate (text, -1, NULL))
    {
      gchar *valid = g_utf8_make_valid (text, -1);
      g_free (text);
      text = valid;
    }
  socket_queue (self, "", text, strlen (text), FALSE);
}

void
socket_send_close (RcSocket *self, const gchar *channel, const gchar *problem, const gchar *message)
{
  g_autoptr(JsonObject) object = rc_json_build ("command", "close", "channel", channel,
                                                "problem", problem, "message", message, NULL);
  socket_queue_control (self, object);
}

/* Close the whole socket after telling the browser why. */
static void
socket_fail (RcSocket *self, const gchar *problem, const gchar *why)
{
  if (self->closing)
    return;
  g_message ("%s: closing socket: %s: %s", self->peer, problem, why);
  socket_send_close (self, NULL, problem, why);
  self->closing = TRUE;
  self->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
  socket_want_write (self);
}

/* The queue is below the low-water mark: read from the browser again and
 * let waiting channels go on, as long as the queue stays low; the ones not
 * reached stay flagged for the next time. */
static void
socket_drained (RcSocket *self)
{
  GHashTableIter iter;
  RcChannel *channel;
  g_autoptr(GPtrArray) waiting = g_ptr_array_new_with_free_func (g_free);

  socket_pause_rx (self, FALSE);
  self->resume_pending = FALSE;

  /* resume() may close channels, so collect first */
  g_hash_table_iter_init (&iter, self->channels);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &channel))
    if (channel->wants_resume && channel->type->resume)
      g_ptr_array_add (waiting, g_strdup (channel->id));
  for (guint i = 0; i < waiting->len; i++)
    {
      if (self->out_bytes > SOCKET_LOW_WATER)
        {
          self->resume_pending = TRUE;
          break;
        }
      channel = g_hash_table_lookup (self->channels, waiting->pdata[i]);
      if (channel && channel->wants_resume)
        {
          channel->wants_resume = FALSE;
          channel->type->resume (channel);
        }
    }
}

/* Write the next piece of FRAME, at most SOCKET_FRAGMENT bytes, as one
 * WebSocket fragment: lws keeps what the connection does not take, so a
 * large message never sits in lws's buffer whole. The LWS_PRE bytes lws
 * writes its header into, before a later piece, are already sent. Returns
 * the bytes written, or -1. */
static gssize
socket_write_piece (RcSocket *self, OutFrame *frame)
{
  gsize n = MIN (SOCKET_FRAGMENT, frame->len - frame->off);
  gboolean first = frame->off == 0, last = frame->off + n == frame->len;
  int flags = first ? (frame->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) : LWS_WRITE_CONTINUATION;

  if (!last)
    flags |= LWS_WRITE_NO_FIN;
  if (lws_write (self->wsi, frame->buf + LWS_PRE + frame->off, n, flags) < 0)
    return -1;
  frame->off += n;
  return n;
}

/* Returns -1 when lws should close the connection. */
static int
socket_writeable (RcSocket *self)
{
  OutFrame *frame;
  gsize written = 0;
  guint frames = 0;

  /* As many queued frames as the connection takes without blocking, up to
   * a fair share, so a busy socket needs one POLLOUT round per batch, not
   * per message. A frame stays charged to the budget until all of it is
   * written. */
  while ((frame = g_queue_peek_head (&self->out)))
    {
      if (written > 0 && (written >= SOCKET_WRITE_BATCH || lws_send_pipe_choked (self->wsi)))
        break;
      gssize n = socket_write_piece (self, frame);
      if (n < 0)
        {
          g_debug ("%s: write failed", self->peer);
          return -1;
        }
      written += n;
      if (frame->off < frame->len)
        continue;
      g_queue_pop_head (&self->out);
      self->out_bytes -= frame->len;
      socket_account (self, -(gssize) frame->len);
      g_free (frame);
      frames++;
    }
  if (written > 0)
    {
      self->last_write = g_get_monotonic_time ();
      if ((self->rx_paused || self->resume_pending) && self->out_bytes <= SOCKET_LOW_WATER)
        socket_drained (self);
      if (!g_queue_is_empty (&self->out) || self->closing)
        socket_want_write (self);
      return 0;
    }

  if (self->closing)
    {
      lws_close_reason (self->wsi, self->close_code ? self->close_code : LWS_CLOSE_STATUS_NORMAL,
                        NULL, 0);
      return -1;
    }
  return 0;
}

/* A browser that does not read: nothing was written for write_timeout
 * seconds while frames wait. Close and free the socket now (lws kills the
 * connection; its close frame may never be read). */
static gboolean
socket_check_writes (gpointer data)
{
  RcSocket *self = data;
  gint64 idle_us = g_get_monotonic_time () - self->last_write;
  gint64 limit_us = (gint64) limits.write_timeout * G_USEC_PER_SEC;

  self->write_timer = 0;
  if (!self->wsi || (g_queue_is_empty (&self->out) && !self->closing))
    return G_SOURCE_REMOVE;
  if (idle_us < limit_us)
    {
      guint rest = (guint) ((limit_us - idle_us) / G_USEC_PER_SEC) + 1;
      self->write_timer = g_timeout_add_seconds (rest, socket_check_writes, self);
      return G_SOURCE_REMOVE;
    }
  g_message ("%s: closing socket: the browser has not read for %u s (%" G_GSIZE_FORMAT " bytes waiting)",
             self->peer, limits.write_timeout, self->out_bytes);
  lws_set_timeout (self->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  /* This runs on a glib timer, outside lws: lws only looks at its due
   * timeouts when it services something, so wake it now, or the kill
   * waits for the next request on some other connection. */
  lws_cancel_service (lws_get_context (self->wsi));
  return G_SOURCE_REMOVE;
}

gboolean
socket_is_congested (RcSocket *self)
{
  return self->out_bytes > SOCKET_HIGH_WATER;
}

void
socket_remove_channel (RcSocket *self, const gchar *id)
{
  g_hash_table_remove (self->channels, id);
}

/* ------------------------------------------------------- parsing (pure) */

gboolean
socket_parse_frame (const gchar *data, gsize len,
                    const gchar **channel, gsize *channel_len,
                    const gchar **payload, gsize *payload_len)
{
  const gchar *nl = memchr (data, '\n', MIN (len, SOCKET_MAX_CHANNEL_ID + 1));
  if (!nl)
    return FALSE;
  *channel = data;
  *channel_len = nl - data;
  *payload = nl + 1;
  *payload_len = len - (*channel_len + 1);
  for (gsize i = 0; i < *channel_len; i++)
    {
      guchar c = data[i];
      if (c < 0x21 || c > 0x7e)     /* printable ASCII, no spaces */
        return FALSE;
    }
  return TRUE;
}

JsonObject *
socket_parse_control (const gchar *data, gsize len, const gchar **command, GError **error)
{
  g_autoptr(JsonObject) object = rc_json_parse_object (data, len, error);
  const gchar *channel;

  if (!object)
    return NULL;
  if (!rc_json_get_string (object, "command", NULL, command) || !*command)
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "control message has no \"command\" string");
      return NULL;
    }
  if (!rc_json_get_string (object, "channel", NULL, &channel))
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "control message \"channel\" is not a string");
      return NULL;
    }
  return g_steal_pointer (&object);
}

/* -------------------------------------------------------------- dispatch */

/* A channel id is 1 to SOCKET_MAX_CHANNEL_ID printable ASCII characters,
 * as in frames (socket_parse_frame). */
static gboolean
channel_id_valid (const gchar *id)
{
  gsize n = 0;
  for (const gchar *p = id; *p; p++, n++)
    if ((guchar) *p < 0x21 || (guchar) *p > 0x7e || n >= SOCKET_MAX_CHANNEL_ID)
      return FALSE;
  return n > 0;
}

static void
socket_open_channel (RcSocket *self, const gchar *id, JsonObject *options)
{
  const gchar *payload = NULL, *binary = NULL;
  const ChannelType *type;
  RcChannel *channel;

  if (!id || !channel_id_valid (id))
    {
      socket_fail (self, "protocol-error", "open without a valid \"channel\"");
      return;
    }
  if (g_hash_table_contains (self->channels, id))
    {
      socket_fail (self, "protocol-error", "channel id already in use");
      return;
    }
  if (!rc_json_get_string (options, "payload", NULL, &payload) || !payload)
    {
      g_debug ("%s: channel %s: open without payload", self->peer, id);
      socket_send_close (self, id, "protocol-error", "open without \"payload\"");
      return;
    }
  type = channel_lookup_type (payload);
  if (!type)
    {
      g_autofree gchar *shown = rc_log_escape (payload, 64);
      g_debug ("%s: channel %s: unsupported payload %s", self->peer, id, shown);
      socket_send_close (self, id, "not-supported", NULL);
      return;
    }

  if (limits.max_channels && g_hash_table_size (self->channels) >= limits.max_channels)
    {
      socket_log_limit (self, "too-many", "channels");
      socket_send_close (self, id, "too-many", "too many open channels on this socket");
      return;
    }

  channel = channel_new (self, id, type,
                         rc_json_get_string (options, "binary", NULL, &binary) && g_strcmp0 (binary, "raw") == 0);
  g_hash_table_insert (self->channels, channel->id, channel);
  g_debug ("%s: channel %s (%s) opened", self->peer, id, payload);

  /* opening a channel is what counts as activity on a socket */
  if (self->session && !session_touch (self->session, g_get_real_time () / G_USEC_PER_SEC))
    {
      channel_fail (channel, "authentication-failed", "the session has expired");
      return;
    }
  type->open (channel, options);
}

static void
socket_control (RcSocket *self, const gchar *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = NULL;
  const gchar *command = NULL;
  const gchar *id;
  RcChannel *channel;

  object = socket_parse_control (data, len, &command, &error);
  if (!object)
    {
      socket_fail (self, "protocol-error", error->message);
      return;
    }

  if (g_str_equal (command, "init"))
    {
      gint64 version = -1;
      if (!rc_json_get_int (object, "version", -1, &version) || version != 1)
        {
          socket_fail (self, "protocol-error", "unsupported init version");
          return;
        }
      self->got_init = TRUE;
      return;
    }
  if (!self->got_init)
    {
      socket_fail (self, "protocol-error", "expected init first");
      return;
    }

  id = rc_json_string_or (object, "channel", NULL);

  if (g_str_equal (command, "ping"))
    {
      g_autoptr(JsonObject) pong = rc_json_build ("command", "pong", "channel", id, NULL);
      socket_queue_control (self, pong);
      return;
    }
  if (g_str_equal (command, "pong"))
    return;
  if (g_str_equal (command, "open"))
    {
      socket_open_channel (self, id, object);
      return;
    }
  if (!id)
    {
      if (g_str_equal (command, "close") || g_str_equal (command, "logout") ||
          g_str_equal (command, "hint") || g_str_equal (command, "options"))
        return;  /* socket-wide commands we accept and ignore */
      socket_fail (self, "protocol-error", "control message without channel");
      return;
    }

  channel = g_hash_table_lookup (self->channels, id);
  if (!channel)
    {
      /* Cockpit ignores messages for channels that are already gone */
      g_autofree gchar *shown_command = rc_log_escape (command, 64);
      g_autofree gchar *shown_id = rc_log_escape (id, 64);
      g_debug ("%s: %s for unknown channel %s", self->peer, shown_command, shown_id);
      return;
    }

  if (g_str_equal (command, "close"))
    {
      socket_send_close (self, id, NULL, NULL);
      g_hash_table_remove (self->channels, id);
    }
  else if (channel->type->control)
    {
      channel->type->control (channel, command, object);
    }
}

static void
socket_message (RcSocket *self, const gchar *data, gsize len)
{
  const gchar *channel_id, *payload;
  gsize channel_len, payload_len;
  RcChannel *channel;
  g_autofree gchar *id = NULL;

  if (self->closing)
    return;

  if (!socket_parse_frame (data, len, &channel_id, &channel_len, &payload, &payload_len))
    {
      socket_fail (self, "protocol-error", "frame without a channel prefix");
      return;
    }

  if (channel_len == 0)
    {
      socket_control (self, payload, payload_len);
      return;
    }

  if (!self->got_init)
    {
      socket_fail (self, "protocol-error", "expected init first");
      return;
    }

  id = g_strndup (channel_id, channel_len);
  channel = g_hash_table_lookup (self->channels, id);
  if (!channel)
    {
      g_debug ("%s: payload for unknown channel %s", self->peer, id);
      return;
    }
  if (channel->type->recv)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (payload, payload_len);
      channel->type->recv (channel, bytes);
    }
}

/* ------------------------------------------------------------- lifecycle */

static void
socket_send_init (RcSocket *self)
{
  g_autofree gchar *csrf = rc_random_hex (32);
  g_autoptr(JsonObject) init = rc_json_build ("command", "init", "channel-seed", "1:", "host", "localhost",
                                              "csrf-token", csrf, NULL);
  JsonArray *caps = json_array_new ();

  json_object_set_int_member (init, "version", 1);
  json_array_add_string_element (caps, "multi");
  json_array_add_string_element (caps, "credentials");
  json_array_add_string_element (caps, "binary");
  json_object_set_array_member (init, "capabilities", caps);
  json_object_set_object_member (init, "system", rc_json_build ("version", PACKAGE_VERSION, NULL));
  socket_queue_control (self, init);
}

static gboolean
socket_ping_all (gpointer unused)
{
  GHashTableIter iter;
  RcSocket *self;
  static const gchar ping[] = "{\"command\":\"ping\"}";

  g_hash_table_iter_init (&iter, all_sockets);
  while (g_hash_table_iter_next (&iter, (gpointer *) &self, NULL))
    {
      if (self->got_init && !self->closing && self->out_bytes < SOCKET_LOW_WATER)
        socket_queue (self, "", ping, sizeof ping - 1, FALSE);
    }
  return G_SOURCE_CONTINUE;
}

/* Wake up when the session is due to end; activity may have moved the end
 * later, in which case sleep again. The session is over at the first second
 * past its expiry, the moment its cookie stops opening too. */
static gboolean
socket_check_expiry (gpointer data)
{
  RcSocket *self = data;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 expires = session_get_expires (self->session);

  self->expiry_timer = 0;
  if (session_is_over (self->session, now))
    {
      socket_fail (self, "authentication-failed", "the session has expired");
      return G_SOURCE_REMOVE;
    }
  if (expires)
    self->expiry_timer = g_timeout_add_seconds (MIN (expires - now + 1, G_MAXUINT / 2), socket_check_expiry, self);
  return G_SOURCE_REMOVE;
}

static RcSocket *
socket_new (struct lws *wsi, RcSession *session)
{
  RcSocket *self = g_new0 (RcSocket, 1);

  self->wsi = wsi;
  self->peer = g_strdup (http_get_peer (wsi));
  self->session = session;
  self->user = session ? user_usage_ref (session) : NULL;
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, channel_free);
  g_queue_init (&self->out);

  if (!all_sockets)
    all_sockets = g_hash_table_new (NULL, NULL);
  g_hash_table_add (all_sockets, self);
  if (!ping_timer)
    ping_timer = g_timeout_add_seconds (SOCKET_PING_INTERVAL, socket_ping_all, NULL);
  if (session)
    socket_check_expiry (self);
  return self;
}

static void
socket_free (RcSocket *self)
{
  OutFrame *frame;

  g_hash_table_remove (all_sockets, self);
  if (self->expiry_timer)
    g_source_remove (self->expiry_timer);
  if (self->write_timer)
    g_source_remove (self->write_timer);
  self->wsi = NULL;   /* channels closing now must not queue */
  g_hash_table_destroy (self->channels);
  while ((frame = g_queue_pop_head (&self->out)))
    g_free (frame);
  if (self->rx)
    g_byte_array_unref (self->rx);
  if (self->user)
    self->user->held -= MIN (self->user->held, self->held);
  user_usage_unref (self->user);
  socket_schedule_trim (self->held_max);
  session_unref (self->session);
  g_free (self->peer);
  g_free (self);
}

void
socket_close_all (guint16 code)
{
  GHashTableIter iter;
  RcSocket *self;

  if (!all_sockets)
    return;
  g_hash_table_iter_init (&iter, all_sockets);
  while (g_hash_table_iter_next (&iter, (gpointer *) &self, NULL))
    {
      self->closing = TRUE;
      self->close_code = code;
      socket_want_write (self);
    }
}

void
socket_close_session (const gchar *session_id)
{
  GHashTableIter iter;
  RcSocket *self;

  if (!all_sockets)
    return;
  g_hash_table_iter_init (&iter, all_sockets);
  while (g_hash_table_iter_next (&iter, (gpointer *) &self, NULL))
    {
      if (self->session && g_str_equal (session_get_id (self->session), session_id))
        socket_fail (self, "authentication-failed", "logged out");
    }
}

guint
socket_count (void)
{
  return all_sockets ? g_hash_table_size (all_sockets) : 0;
}

/* --------------------------------------------------------- the upgrade */

static int
socket_filter (struct lws *wsi, SocketPss *pss)
{
  const gchar *peer = http_get_peer (wsi);

  if (http_is_plain_on_tls_port (wsi))
    {
      g_debug ("%s: WebSocket refused: plain HTTP on the TLS port", peer);
      lws_return_http_status (wsi, HTTP_STATUS_FORBIDDEN, "WebSocket needs https");
      return -1;
    }
  if (!http_origin_allowed (wsi))
    {
      lws_return_http_status (wsi, HTTP_STATUS_FORBIDDEN, "Origin not allowed");
      return -1;
    }
  if (session_func)
    {
      g_autofree gchar *cookie = http_header_dup (wsi, WSI_TOKEN_HTTP_COOKIE);
      pss->session = session_func (cookie, http_is_tls (wsi));
      if (cookie)
        explicit_bzero (cookie, strlen (cookie));
      if (!pss->session)
        {
          g_debug ("%s: WebSocket refused: not logged in", peer);
          lws_return_http_status (wsi, HTTP_STATUS_UNAUTHORIZED, "Not logged in");
          return -1;
        }
    }
  g_debug ("%s: WebSocket upgrade accepted", peer);
  return 0;
}

/* ---------------------------------------------------------- lws callback */

/* A message being reassembled went over the budget: fail the channel it is
 * for (its id is the start of the message: in the buffer so far, or in the
 * piece that just came). TRUE when there was such a channel. */
static gboolean
socket_fail_channel_of (RcSocket *self, const guint8 *held, gsize held_len, const void *in, gsize len)
{
  const gchar *data = held_len ? (const gchar *) held : in;
  gsize n = held_len ? held_len : len;
  const gchar *channel_id, *payload;
  gsize channel_len, payload_len;
  if (!socket_parse_frame (data, n, &channel_id, &channel_len, &payload, &payload_len) || channel_len == 0)
    return FALSE;
  g_autofree gchar *id = g_strndup (channel_id, channel_len);
  RcChannel *channel = g_hash_table_lookup (self->channels, id);
  if (!channel)
    return FALSE;
  socket_log_limit (self, "too-large", "a message over the socket's budget");
  channel_fail (channel, "too-large", "message over the socket's memory budget");
  return TRUE;
}

/* What a reassembly buffer of LEN bytes has charged (see socket_receive). */
static gsize
rx_charged (gsize len)
{
  return len > SOCKET_RX_FREE ? len - SOCKET_RX_FREE : 0;
}

static int
socket_receive (RcSocket *self, const void *in, size_t len)
{
  gboolean final = lws_is_final_fragment (self->wsi);
  gboolean first = lws_is_first_fragment (self->wsi);

  if (first && !self->rx_overflow && (!self->rx || self->rx->len == 0))
    self->rx_binary = lws_frame_is_binary (self->wsi);

  /* The common case: a whole message in one callback, no copy */
  if (final && (!self->rx || self->rx->len == 0) && !self->rx_overflow)
    {
      socket_message (self, in, len);
      return 0;
    }

  if (!self->rx_overflow)
    {
      /* A message arrives in pieces (TLS records, lws's buffer). The first
       * SOCKET_RX_FREE bytes of one are not charged, so ordinary frames
       * always reach their channel, whose own budget decides (a request
       * body over it fails that channel, not the socket); beyond that the
       * message counts, so an unfinished huge one is bounded. */
      gsize before = self->rx ? self->rx->len : 0;
      gsize charge = before + len > SOCKET_RX_FREE ? before + len - MAX (before, SOCKET_RX_FREE) : 0;
      if (!self->rx)
        self->rx = g_byte_array_new ();
      if (before + len > SOCKET_MAX_MESSAGE || !socket_reserve (self, charge))
        {
          self->rx_overflow = TRUE;
          self->rx_too_large = before + len <= SOCKET_MAX_MESSAGE;
          /* over the budget: the channel the message is for fails (its rest
           * is dropped); a control message over it fails the socket */
          if (self->rx_too_large)
            self->rx_too_large_channel = socket_fail_channel_of (self, self->rx->data, self->rx->len, in, len);
          socket_release (self, rx_charged (self->rx->len));
          /* its memory too, not only its count (the socket may live on a
           * while before it closes) */
          g_clear_pointer (&self->rx, g_byte_array_unref);
        }
      else
        g_byte_array_append (self->rx, in, len);
    }

  if (final)
    {
      if (self->rx_overflow)
        {
          self->rx_overflow = FALSE;
          if (self->rx_too_large && !self->rx_too_large_channel)
            {
              socket_log_limit (self, "too-large", "a message over the socket's budget");
              socket_fail (self, "too-large", "message over the socket's memory budget");
            }
          else if (!self->rx_too_large)
            socket_fail (self, "protocol-error", "message too large");
          self->rx_too_large_channel = FALSE;
        }
      else
        {
          /* handed over whole: what the channel makes of it counts from
           * here (the message itself is freed right after) */
          socket_release (self, rx_charged (self->rx->len));
          socket_message (self, (const gchar *) self->rx->data, self->rx->len);
        }
      /* free big reassembly buffers; keep small ones for reuse */
      if (self->rx && self->rx->len > 65536)
        g_clear_pointer (&self->rx, g_byte_array_unref);
      else if (self->rx)
        g_byte_array_set_size (self->rx, 0);
    }
  return 0;
}

static int
socket_callback (struct lws *wsi, enum lws_callback_reasons reason,
                 void *user, void *in, size_t len)
{
  SocketPss *pss = user;

  switch (reason)
    {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      return socket_filter (wsi, pss);

    case LWS_CALLBACK_ESTABLISHED:
      pss->socket = socket_new (wsi, pss->session);
      pss->session = NULL;
      g_debug ("%s: WebSocket open", pss->socket->peer);
      socket_send_init (pss->socket);
      if (pss->socket->user && limits.max_sockets_per_user &&
          pss->socket->user->sockets > limits.max_sockets_per_user)
        {
          socket_log_limit (pss->socket, "too-many", "sockets of one user");
          socket_fail (pss->socket, "too-many", "too many open sockets for this user");
        }
      return 0;

    case LWS_CALLBACK_RECEIVE:
      if (!pss->socket)
        return -1;
      http_unblock_current_source ();
      return socket_receive (pss->socket, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (!pss->socket)
        return -1;
      return socket_writeable (pss->socket);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (pss->socket)
        g_debug ("%s: WebSocket closed by peer", pss->socket->peer);
      return 0;

    case LWS_CALLBACK_CLOSED:
      if (pss->socket)
        {
          g_debug ("%s: WebSocket closed", pss->socket->peer);
          socket_free (pss->socket);
          pss->socket = NULL;
        }
      return 0;

    case LWS_CALLBACK_WSI_DESTROY:
      if (pss)
        g_clear_pointer (&pss->session, session_unref);
      http_connection_destroyed (wsi);
      return 0;

    default:
      return 0;
    }
}

const struct lws_protocols socket_lws_protocol = {
  .name = "cockpit1",
  .callback = socket_callback,
  .per_session_data_size = sizeof (SocketPss),
  .rx_buffer_size = 0,
};
