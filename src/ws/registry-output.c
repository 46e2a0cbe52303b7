/* registry-output.c: see registry-output.h. */
#include "config.h"

#include "ws/registry-output.h"

#include <string.h>

#define FLUSH_DELAY_MS 25
#define PROGRESS_INTERVAL_US (250 * 1000)

struct _RegistryOutput {
  RcChannel *channel;       /* NULL once detached */
  GString *rows;
  guint timer;
  guint n_rows;
  guint n_frames;
  gint64 progress_at;
  gboolean *freed;          /* set while sending: the send may free us */
};

RegistryOutput *
registry_output_new (RcChannel *channel)
{
  RegistryOutput *out = g_new0 (RegistryOutput, 1);
  out->channel = channel;
  out->rows = g_string_sized_new (REGISTRY_FRAME_SIZE + 1024);
  return out;
}

void
registry_output_detach (RegistryOutput *out)
{
  out->channel = NULL;
  if (out->timer)
    g_source_remove (out->timer);
  out->timer = 0;
}

void
registry_output_free (RegistryOutput *out)
{
  if (!out)
    return;
  registry_output_detach (out);
  if (out->freed)
    *out->freed = TRUE;
  g_string_free (out->rows, TRUE);
  g_free (out);
}

GString *
registry_output_rows (RegistryOutput *out)
{
  return out->rows;
}

gboolean
registry_output_flush (RegistryOutput *out)
{
  if (out->timer)
    g_source_remove (out->timer);
  out->timer = 0;
  if (!out->channel)
    return FALSE;
  if (out->rows->len == 0)
    return TRUE;
  for (const gchar *p = out->rows->str; (p = strchr (p, '\n')); p++)
    out->n_rows++;
  out->n_frames++;
  gboolean freed = FALSE;
  out->freed = &freed;
  channel_send (out->channel, out->rows->str, out->rows->len);
  if (freed)
    return FALSE;
  out->freed = NULL;
  g_string_truncate (out->rows, 0);
  /* keep the buffer from holding on to one huge row's memory */
  if (out->rows->allocated_len > 4 * REGISTRY_FRAME_SIZE)
    {
      g_string_free (out->rows, TRUE);
      out->rows = g_string_sized_new (REGISTRY_FRAME_SIZE + 1024);
    }
  return out->channel != NULL;
}

static gboolean
on_flush_timer (gpointer data)
{
  RegistryOutput *out = data;
  out->timer = 0;
  registry_output_flush (out);
  return G_SOURCE_REMOVE;
}

gboolean
registry_output_commit (RegistryOutput *out)
{
  if (!out->channel)
    return FALSE;
  if (out->rows->len >= REGISTRY_FRAME_SIZE)
    return registry_output_flush (out);
  if (out->rows->len && !out->timer)
    out->timer = g_timeout_add (FLUSH_DELAY_MS, on_flush_timer, out);
  return TRUE;
}

void
registry_output_progress (RegistryOutput *out, JsonObject *fields, gboolean force)
{
  g_autoptr(JsonObject) owned = fields;
  gint64 now = g_get_monotonic_time ();
  if (!out->channel || (!force && now - out->progress_at < PROGRESS_INTERVAL_US))
    return;
  if (!registry_output_flush (out))
    return;
  out->progress_at = now;
  channel_send_control (out->channel, "progress", owned);   /* queues; never closes the channel */
}

guint
registry_output_get_rows (RegistryOutput *out)
{
  return out->n_rows;
}

guint
registry_output_get_frames (RegistryOutput *out)
{
  return out->n_frames;
}
