/* channel.c: one channel of /cockpit/socket: the payload types registered
 * by name, the channel's state and data, what it sends (text channels
 * always valid UTF-8, see common/utf8.h), its budget, and the two ways it
 * ends (channel_close, channel_fail). See socket.h. */
#include "config.h"

#include "ws/socket-private.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>

static GHashTable *channel_types;           /* payload → ChannelType */

/* ------------------------------------------------------------------ types */

void
channel_register_type (const ChannelType *type)
{
  if (!channel_types)
    channel_types = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_replace (channel_types, (gpointer) type->payload, (gpointer) type);
}

const ChannelType *
channel_lookup_type (const gchar *payload)
{
  if (!channel_types || !payload)
    return NULL;
  return g_hash_table_lookup (channel_types, payload);
}

/* -------------------------------------------------------------- lifecycle */

RcChannel *
channel_new (RcSocket *socket, const gchar *id, const ChannelType *type, gboolean binary)
{
  RcChannel *channel = g_new0 (RcChannel, 1);
  channel->socket = socket;
  channel->id = g_strdup (id);
  channel->type = type;
  channel->binary = binary;
  return channel;
}

void
channel_free (gpointer data)
{
  RcChannel *channel = data;
  g_debug ("channel %s (%s) closed", channel->id, channel->type->payload);
  if (channel->type->closed)
    channel->type->closed (channel);
  if (channel->destroy && channel->data)
    channel->destroy (channel->data);
  if (channel->reserved)
    socket_release (channel->socket, channel->reserved);
  g_free (channel->id);
  g_free (channel);
}

const gchar *
channel_get_id (RcChannel *channel)
{
  return channel->id;
}

RcSession *
channel_get_session (RcChannel *channel)
{
  return socket_get_session (channel->socket);
}

void
channel_set_data (RcChannel *channel, gpointer data, GDestroyNotify destroy)
{
  if (channel->destroy && channel->data)
    channel->destroy (channel->data);
  channel->data = data;
  channel->destroy = destroy;
}

gpointer
channel_get_data (RcChannel *channel)
{
  return channel->data;
}

/* ---------------------------------------------------------------- budget */

gboolean
channel_reserve (RcChannel *channel, gsize len)
{
  if (!socket_reserve (channel->socket, len))
    return FALSE;
  channel->reserved += len;
  return TRUE;
}

void
channel_release (RcChannel *channel, gsize len)
{
  len = MIN (len, channel->reserved);
  channel->reserved -= len;
  socket_release (channel->socket, len);
}

/* ---------------------------------------------------------------- output */

/* Send what a text channel still holds back: at the end of its data it can
 * only be a character cut short, so U+FFFD. */
static void
channel_flush_text (RcChannel *channel)
{
  if (!channel->binary && utf8_stream_pending (&channel->text))
    {
      gsize n = 0;
      g_autofree guint8 *copy = NULL;
      const guint8 *out = utf8_stream_piece (&channel->text, NULL, 0, TRUE, &n, &copy);
      socket_queue (channel->socket, channel->id, out, n, FALSE);
    }
}

void
channel_send_control (RcChannel *channel, const gchar *command, JsonObject *fields)
{
  g_autoptr(JsonObject) object = rc_json_build ("command", command, "channel", channel->id, NULL);
  if (g_str_equal (command, "done"))
    channel_flush_text (channel);
  if (fields)
    {
      JsonObjectIter iter;
      const gchar *name;
      JsonNode *value;
      json_object_iter_init (&iter, fields);
      while (json_object_iter_next (&iter, &name, &value))
        {
          if (!g_str_equal (name, "command") && !g_str_equal (name, "channel"))
            json_object_set_member (object, name, json_node_copy (value));
        }
    }
  socket_queue_control (channel->socket, object);
}

void
channel_ready (RcChannel *channel, JsonObject *extra)
{
  channel->ready = TRUE;
  channel_send_control (channel, "ready", extra);
}

void
channel_send (RcChannel *channel, const void *data, gsize len)
{
  if (!socket_has_room (channel->socket, len))
    {
      socket_log_limit (channel->socket, "too-large", "the browser does not read what the socket sends");
      channel_fail (channel, "too-large", "the browser does not read what this channel sends");
      return;
    }
  if (channel->binary)
    {
      socket_queue (channel->socket, channel->id, data, len, TRUE);
      return;
    }
  gsize n = 0;
  g_autofree guint8 *copy = NULL;
  const guint8 *text = utf8_stream_piece (&channel->text, data, len, FALSE, &n, &copy);
  if (n > 0 || len == 0)
    socket_queue (channel->socket, channel->id, text, n, FALSE);
}

gboolean
channel_is_congested (RcChannel *channel)
{
  if (socket_is_congested (channel->socket))
    {
      channel->wants_resume = TRUE;
      socket_note_congested (channel->socket);
      return TRUE;
    }
  return FALSE;
}

/* ------------------------------------------------------------------- end */

static void
channel_end (RcChannel *channel, const gchar *problem, const gchar *message)
{
  RcSocket *socket = channel->socket;
  g_autofree gchar *id = g_strdup (channel->id);
  if (!problem)
    channel_flush_text (channel);
  socket_send_close (socket, id, problem, message);
  socket_remove_channel (socket, id);   /* runs closed() */
}

void
channel_close (RcChannel *channel, const gchar *problem)
{
  if (problem)
    g_debug ("%s: channel %s: closing: %s", socket_get_peer (channel->socket), channel->id, problem);
  channel_end (channel, problem, NULL);
}

void
channel_fail (RcChannel *channel, const gchar *problem, const gchar *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree gchar *shown = rc_log_escape (message, 512);
  g_debug ("%s: channel %s (%s): %s: %s", socket_get_peer (channel->socket), channel->id,
           channel->type->payload, problem, shown);
  channel_end (channel, problem, message);
}
