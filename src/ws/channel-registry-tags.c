/* channel-registry-tags.c: the "registry-tags" payload: one repository's
 * tags with digest, created time, size and platforms, walked by the server
 * (registry-walk.h) and streamed as rows.
 *
 * open {"payload":"registry-tags","repository":R, "tags"?:[…], "priority"?:[…],
 *       "fresh"?:bool, "blobs"?:bool}
 *   → ready → rows ({"type":"names"} pages first, then {"type":"tag"} per
 *   tag as it completes, {"type":"error"} for a failed page) in frames of
 *   whole lines, "progress" control messages → a last "progress" → done →
 *   close; or close with a problem when the repository cannot be listed.
 *   Past REGISTRY_WALK_MAX_TAGS names (or the channel's memory budget) the
 *   listing stops: an error row says so, progress has "truncated":true.
 * control {"command":"priority","tags":[…]}: resolve these next.
 * (doc/architecture.md, "Registry channels") */
#include "config.h"

#include "ws/channel-registry.h"
#include "ws/registry-api.h"
#include "ws/registry-output.h"
#include "ws/registry-row.h"
#include "ws/registry-tag-queue.h"
#include "ws/registry-walk.h"
#include "common/rcjson.h"

#include <string.h>

#define MAX_SUBSET 100000
#define NAMES_PER_ROW 1000

typedef struct {
  gint refs;
  RcChannel *channel;       /* NULL once closed */
  RegistryClient *client;
  RegistryWalk *walk;
  RegistryOutput *output;
  gboolean blobs;
  gint64 started;
} Tags;

static Tags *
tags_ref (Tags *t)
{
  t->refs++;
  return t;
}

static void
tags_unref (gpointer data)
{
  Tags *t = data;
  if (--t->refs > 0)
    return;
  registry_walk_unref (t->walk);
  registry_client_unref (t->client);
  registry_output_free (t->output);
  g_free (t);
}

static void
tags_progress (Tags *t, gboolean force)
{
  JsonObject *p = json_object_new ();
  json_object_set_int_member (p, "listed", registry_walk_get_listed (t->walk));
  json_object_set_int_member (p, "done", registry_walk_get_finished (t->walk));
  json_object_set_boolean_member (p, "complete", registry_walk_is_listed (t->walk));
  if (registry_walk_is_truncated (t->walk))
    json_object_set_boolean_member (p, "truncated", TRUE);
  json_object_set_int_member (p, "requests", registry_client_sent (t->client));
  registry_output_progress (t->output, p, force);
}

/* After rows went out: stop walking while the browser does not read. */
static void
tags_after_rows (Tags *t)
{
  if (!registry_output_commit (t->output) || !t->channel)
    return;
  tags_progress (t, FALSE);
  if (t->channel && channel_is_congested (t->channel))
    {
      registry_walk_pause (t->walk);
      registry_client_pause (t->client);
    }
}

static void
on_names (RegistryWalk *walk, const gchar *const *names, guint n, gpointer data)
{
  Tags *t = tags_ref (data);
  for (guint i = 0; i < n; i += NAMES_PER_ROW)
    registry_row_append_names (registry_output_rows (t->output), names + i, MIN (NAMES_PER_ROW, n - i));
  /* the names are what the browser shows first: send them now */
  if (registry_output_flush (t->output))
    tags_progress (t, TRUE);
  tags_unref (t);
}

static void
on_tag (RegistryWalk *walk, const RegistryTagResult *result, gpointer data)
{
  Tags *t = tags_ref (data);
  registry_row_append_tag (registry_output_rows (t->output), result, t->blobs);
  tags_after_rows (t);
  tags_unref (t);
}

static void
on_problem (RegistryWalk *walk, const gchar *message, guint status, gpointer data)
{
  Tags *t = tags_ref (data);
  registry_row_append_error (registry_output_rows (t->output), message, status);
  tags_after_rows (t);
  tags_unref (t);
}

static void
on_done (RegistryWalk *walk, const GError *error, gpointer data)
{
  Tags *t = tags_ref (data);
  if (error)
    channel_fail (t->channel, channel_registry_problem (error), "%s", error->message);
  else if (registry_output_flush (t->output))
    {
      tags_progress (t, TRUE);
      g_debug ("registry-tags %s: %s: %u tags, %u requests, %u rows in %u frames, %.0f ms",
               channel_get_id (t->channel), registry_walk_get_repository (walk),
               registry_walk_get_listed (walk), registry_client_sent (t->client),
               registry_output_get_rows (t->output), registry_output_get_frames (t->output),
               (g_get_monotonic_time () - t->started) / 1000.0);
      channel_send_control (t->channel, "done", NULL);
      channel_close (t->channel, NULL);
    }
  tags_unref (t);
}

/* A JSON array of strings as a NULL-terminated vector (transfer full), or
 * NULL with *OK FALSE when it is something else or longer than MAX. */
static gchar **
strings_option (JsonObject *options, const gchar *name, guint max, gboolean *ok)
{
  JsonArray *array = NULL;
  *ok = rc_json_get_array (options, name, NULL, &array);
  if (!*ok || !array)
    return NULL;
  guint n = json_array_get_length (array);
  if (n > max)
    {
      *ok = FALSE;
      return NULL;
    }
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          *ok = FALSE;
          return NULL;
        }
      g_ptr_array_add (out, g_strdup (json_node_get_string (node)));
    }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_steal (out, NULL);
}

/* "priority": the first REGISTRY_TAG_QUEUE_PRIORITY_MAX strings of the
 * array, those that may be tags (a name that cannot be one is not copied). */
static gchar **
priority_option (JsonObject *options, const gchar *name, gboolean *ok)
{
  JsonArray *array = NULL;
  *ok = rc_json_get_array (options, name, NULL, &array);
  if (!*ok || !array)
    return NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (array) && out->len < REGISTRY_TAG_QUEUE_PRIORITY_MAX; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          *ok = FALSE;
          return NULL;
        }
      const gchar *tag = json_node_get_string (node);
      if (registry_tag_valid (tag))
        g_ptr_array_add (out, g_strdup (tag));
    }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_steal (out, NULL);
}

static gboolean
tags_open (RcChannel *channel, JsonObject *options)
{
  static const RegistryWalkCallbacks callbacks = { on_names, NULL, on_tag, on_problem, on_done };
  const gchar *repository = NULL;
  gboolean fresh = FALSE, blobs = FALSE, ok_tags = TRUE, ok_priority = TRUE;
  g_auto(GStrv) subset = strings_option (options, "tags", MAX_SUBSET, &ok_tags);
  g_auto(GStrv) priority = priority_option (options, "priority", &ok_priority);
  if (!rc_json_get_string (options, "repository", NULL, &repository) || !repository ||
      !rc_json_get_bool (options, "fresh", FALSE, &fresh) ||
      !rc_json_get_bool (options, "blobs", FALSE, &blobs) || !ok_tags || !ok_priority)
    {
      channel_fail (channel, "protocol-error", "registry-tags wants \"repository\" (a string), and "
                    "optionally \"tags\" and \"priority\" (arrays of strings), \"fresh\" and \"blobs\"");
      return FALSE;
    }
  if (!registry_repository_valid (repository))
    {
      channel_fail (channel, "not-found", "not a valid repository name");
      return FALSE;
    }
  RegistryClient *client = channel_registry_open_client (channel, FALSE);
  if (!client)
    return FALSE;

  Tags *t = g_new0 (Tags, 1);
  t->refs = 1;
  t->channel = channel;
  t->client = client;
  t->blobs = blobs;
  t->started = g_get_monotonic_time ();
  t->output = registry_output_new (channel);
  t->walk = registry_walk_new (client, repository, fresh ? REGISTRY_WALK_FRESH : 0);
  registry_walk_set_memo_time (t->walk, channel_registry_config ()->tag_memo_time);
  registry_walk_set_max_active (t->walk, 2 * channel_registry_config ()->concurrency);
  registry_walk_set_tags (t->walk, (const gchar *const *) subset);
  channel_set_data (channel, t, tags_unref);
  channel_ready (channel, NULL);
  g_debug ("registry-tags %s: walking %s", channel_get_id (channel), repository);
  registry_walk_start (t->walk, &callbacks, t);
  if (priority)
    registry_walk_prioritize (t->walk, (const gchar *const *) priority);
  return TRUE;
}

static void
tags_control (RcChannel *channel, const gchar *command, JsonObject *message)
{
  Tags *t = channel_get_data (channel);
  gboolean ok = TRUE;
  if (!t || !g_str_equal (command, "priority"))
    return;
  g_auto(GStrv) tags = priority_option (message, "tags", &ok);
  if (tags)
    registry_walk_prioritize (t->walk, (const gchar *const *) tags);
}

static void
tags_closed (RcChannel *channel)
{
  Tags *t = channel_get_data (channel);
  if (!t)
    return;
  t->channel = NULL;
  registry_walk_cancel (t->walk);
  registry_output_detach (t->output);
  channel_registry_release (t->client);
}

static void
tags_resume (RcChannel *channel)
{
  Tags *t = channel_get_data (channel);
  if (!t)
    return;
  registry_client_resume (t->client);
  registry_walk_resume (t->walk);
}

static const ChannelType registry_tags_type = {
  .payload = "registry-tags",
  .open = tags_open,
  .closed = tags_closed,
  .control = tags_control,
  .resume = tags_resume,
};

void
channel_registry_tags_register (void)
{
  channel_register_type (&registry_tags_type);
}
