/* channel-registry-summary.c: the "registry-summary" payload: one row per
 * repository the UI shows (tag count, newest tag, size with shared blobs
 * counted once, a fingerprint that changes when a tag is added, removed or
 * moved), for the list of repositories and for cheap change detection.
 *
 * open {"payload":"registry-summary","repositories":[…] (at most 500),
 *       "fresh"?:bool}
 *   → ready → one row a repository as it completes:
 *   {"type":"repository","repository","tags","newest","created","size",
 *    "fingerprint"[,"partial":true][,"truncated":true][,"error","status"]}
 *   → "progress" {"repositories","total","requests"} → done → close.
 * Each repository is walked with this user's credential (its tags/list is
 * the access check) and the cache; one with more than 100 tags is counted,
 * not resolved ("partial": size and newest left out, the fingerprint over
 * the names, which are counted, not kept); "truncated" past the tags a
 * walk takes (REGISTRY_WALK_MAX_TAGS). Without "fresh", this user's tag memo is used, so a poll
 * costs one request a repository. One summary per session at a time: a
 * new one closes the older ("terminated").
 * (doc/architecture.md, "Registry channels") */
#include "config.h"

#include "ws/channel-registry.h"
#include "ws/registry-api.h"
#include "ws/registry-output.h"
#include "ws/registry-row.h"
#include "ws/registry-walk.h"
#include "common/rcjson.h"

#include <string.h>

#define REPOSITORIES_MAX 500
#define RESOLVED_TAGS_MAX 100
#define WALKS_AT_ONCE 4

typedef struct _Summary Summary;

/* One repository being summed up. */
typedef struct {
  Summary *summary;
  RegistryWalk *walk;
  guint n_tags;
  guint64 lanes[4];         /* the sum of sha256 ("tag digest\n") over the tags: the fingerprint */
  GHashTable *blobs;        /* digest → size (owned gint64) */
  gchar *newest_tag;
  gchar *newest;            /* created */
  GDateTime *newest_time;
  gboolean partial;
} Repo;

struct _Summary {
  gint refs;
  RcChannel *channel;
  RegistryClient *client;
  RegistryOutput *output;
  gchar *session_id;
  gchar **repositories;
  guint next;
  guint done;
  gboolean fresh;
  GPtrArray *repos;         /* Repo under way */
  gboolean pumping;
};

static GHashTable *summaries;     /* session id → Summary (one a session) */

static void summary_pump (Summary *s);

static Summary *
summary_ref (Summary *s)
{
  s->refs++;
  return s;
}

static void
repo_free (gpointer data)
{
  Repo *r = data;
  registry_walk_cancel (r->walk);
  registry_walk_unref (r->walk);
  g_hash_table_unref (r->blobs);
  g_free (r->newest_tag);
  g_free (r->newest);
  if (r->newest_time)
    g_date_time_unref (r->newest_time);
  g_free (r);
}

static void
summary_unref (gpointer data)
{
  Summary *s = data;
  if (--s->refs > 0)
    return;
  g_ptr_array_unref (s->repos);
  registry_client_unref (s->client);
  registry_output_free (s->output);
  g_strfreev (s->repositories);
  g_free (s->session_id);
  g_free (s);
}

/* ------------------------------------------------------------- one repo */

static void
repo_add_blob (Repo *r, const gchar *digest, gint64 size)
{
  if (digest && !g_hash_table_contains (r->blobs, digest))
    g_hash_table_insert (r->blobs, g_strdup (digest), g_memdup2 (&size, sizeof size));
}

static void
repo_add_manifest (Repo *r, const RegistryManifest *m)
{
  repo_add_blob (r, m->config.digest, m->config.size);
  for (guint i = 0; i < m->n_layers; i++)
    repo_add_blob (r, m->layers[i].digest, m->layers[i].size);
}

static void
repo_consider_created (Repo *r, const gchar *tag, const gchar *created)
{
  g_autoptr(GDateTime) t = created ? g_date_time_new_from_iso8601 (created, NULL) : NULL;
  if (!t || (r->newest_time && g_date_time_compare (t, r->newest_time) <= 0))
    return;
  if (r->newest_time)
    g_date_time_unref (r->newest_time);
  r->newest_time = g_steal_pointer (&t);
  g_free (r->newest);
  r->newest = g_strdup (created);
  g_free (r->newest_tag);
  r->newest_tag = g_strdup (tag);
}

static gboolean
on_want (RegistryWalk *walk, const gchar *tag, gpointer data)
{
  Repo *r = data;
  if (registry_walk_get_listed (walk) > RESOLVED_TAGS_MAX)
    r->partial = TRUE;
  return !r->partial;
}

/* Add (or take away) the line "TAG DIGEST" to the fingerprint: its sha256
 * summed lane by lane (unsigned, wrapping), so that the order of the tags
 * does not matter and no name is kept: a repository of 100,000 tags is
 * counted in constant memory. */
static void
repo_count_line (Repo *r, const gchar *tag, const gchar *digest, gboolean add)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) tag, -1);
  g_checksum_update (sum, (const guchar *) " ", 1);
  g_checksum_update (sum, (const guchar *) digest, -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  guint8 bytes[32];
  gsize len = sizeof bytes;
  g_checksum_get_digest (sum, bytes, &len);
  for (guint i = 0; i < G_N_ELEMENTS (r->lanes); i++)
    {
      guint64 lane;
      memcpy (&lane, bytes + 8 * i, sizeof lane);
      r->lanes[i] = add ? r->lanes[i] + lane : r->lanes[i] - lane;
    }
}

static void
on_names (RegistryWalk *walk, const gchar *const *names, guint n, gpointer data)
{
  Repo *r = data;
  for (guint i = 0; i < n; i++)
    repo_count_line (r, names[i], "", TRUE);
  r->n_tags += n;
}

static void
on_tag (RegistryWalk *walk, const RegistryTagResult *result, gpointer data)
{
  Repo *r = data;
  /* a valid tag came in a names page (digest unknown then); a name that is
   * not a tag comes only here */
  if (!registry_tag_valid (result->tag))
    {
      repo_count_line (r, result->tag, "", TRUE);
      r->n_tags++;
    }
  else if (result->digest)
    {
      repo_count_line (r, result->tag, "", FALSE);
      repo_count_line (r, result->tag, result->digest, TRUE);
    }
  if (!result->manifest)
    return;
  if (!result->manifest->is_index)
    {
      repo_add_manifest (r, result->manifest);
      repo_consider_created (r, result->tag, result->config ? result->config->created : NULL);
    }
  for (guint i = 0; result->platforms && i < result->platforms->len; i++)
    {
      const RegistryPlatformResult *pr = &g_array_index (result->platforms, RegistryPlatformResult, i);
      if (pr->manifest)
        repo_add_manifest (r, pr->manifest);
      repo_consider_created (r, result->tag, pr->config ? pr->config->created : NULL);
    }
}

/* sha256 over the lines' sum and the tag count: what changes when a tag is
 * added, removed or moved (as far as the digests are known). */
static gchar *
repo_fingerprint (Repo *r)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) r->lanes, sizeof r->lanes);
  g_checksum_update (sum, (const guchar *) &r->n_tags, sizeof r->n_tags);
  return g_strdup (g_checksum_get_string (sum));
}

static void
repo_append_row (GString *out, Repo *r, const GError *error)
{
  g_string_append (out, "{\"type\":\"repository\",\"repository\":");
  registry_json_append_string (out, registry_walk_get_repository (r->walk));
  if (error)
    {
      g_string_append (out, ",\"error\":");
      registry_json_append_string (out, error->message);
      g_string_append (out, "}\n");
      return;
    }
  g_string_append_printf (out, ",\"tags\":%u", r->n_tags);
  if (registry_walk_is_truncated (r->walk))
    g_string_append (out, ",\"truncated\":true");
  g_autofree gchar *fingerprint = repo_fingerprint (r);
  g_string_append_printf (out, ",\"fingerprint\":\"%s\"", fingerprint);
  if (r->partial)
    {
      g_string_append (out, ",\"partial\":true}\n");
      return;
    }
  gint64 size = 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, r->blobs);
  while (g_hash_table_iter_next (&it, &k, &v))
    size = registry_size_add (size, *(gint64 *) v);
  g_string_append_printf (out, ",\"size\":%" G_GINT64_FORMAT, size);
  if (r->newest)
    {
      g_string_append (out, ",\"newest\":");
      registry_json_append_string (out, r->newest_tag);
      g_string_append (out, ",\"created\":");
      registry_json_append_string (out, r->newest);
    }
  g_string_append (out, "}\n");
}

static void
on_done (RegistryWalk *walk, const GError *error, gpointer data)
{
  Repo *r = data;
  Summary *s = summary_ref (r->summary);
  repo_append_row (registry_output_rows (s->output), r, error);
  s->done++;
  g_ptr_array_remove (s->repos, r);
  if (registry_output_commit (s->output) && s->channel)
    {
      JsonObject *p = json_object_new ();
      json_object_set_int_member (p, "repositories", s->done);
      json_object_set_int_member (p, "total", g_strv_length (s->repositories));
      json_object_set_int_member (p, "requests", registry_client_sent (s->client));
      registry_output_progress (s->output, p, FALSE);
    }
  summary_pump (s);
  summary_unref (s);
}

/* ---------------------------------------------------------------- channel */

static void
summary_start (Summary *s, const gchar *repository)
{
  static const RegistryWalkCallbacks callbacks = { on_names, on_want, on_tag, NULL, on_done };
  Repo *r = g_new0 (Repo, 1);
  r->summary = s;
  r->blobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  r->walk = registry_walk_new (s->client, repository, s->fresh ? REGISTRY_WALK_FRESH : 0);
  registry_walk_set_memo_time (r->walk, channel_registry_config ()->tag_memo_time);
  registry_walk_set_max_active (r->walk, channel_registry_config ()->concurrency);
  g_ptr_array_add (s->repos, r);
  registry_walk_start (r->walk, &callbacks, r);
}

static void
summary_pump (Summary *s)
{
  if (s->pumping || !s->channel)
    return;
  s->pumping = TRUE;
  summary_ref (s);
  while (s->channel && s->repos->len < WALKS_AT_ONCE && s->repositories[s->next])
    summary_start (s, s->repositories[s->next++]);
  if (s->channel && s->repos->len == 0 && !s->repositories[s->next] && registry_output_flush (s->output))
    {
      channel_send_control (s->channel, "done", NULL);
      channel_close (s->channel, NULL);
    }
  s->pumping = FALSE;
  summary_unref (s);
}

static gchar **
summary_parse (RcChannel *channel, JsonObject *options, gboolean *fresh)
{
  JsonArray *repos = NULL;
  if (!rc_json_get_array (options, "repositories", NULL, &repos) || !repos ||
      json_array_get_length (repos) > REPOSITORIES_MAX || !rc_json_get_bool (options, "fresh", FALSE, fresh))
    {
      channel_fail (channel, "protocol-error", "registry-summary wants \"repositories\" (at most 500 names) "
                    "and optionally \"fresh\"");
      return NULL;
    }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (repos); i++)
    {
      JsonNode *node = json_array_get_element (repos, i);
      const gchar *name = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                          ? json_node_get_string (node) : NULL;
      if (!registry_repository_valid (name))
        {
          channel_fail (channel, "protocol-error", "\"repositories\" holds a name that is not a repository");
          return NULL;
        }
      g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_add (names, NULL);
  return (gchar **) g_ptr_array_steal (names, NULL);
}

static gboolean
summary_open (RcChannel *channel, JsonObject *options)
{
  gboolean fresh = FALSE;
  g_auto(GStrv) repositories = summary_parse (channel, options, &fresh);
  if (!repositories)
    return FALSE;
  RegistryClient *client = channel_registry_open_client (channel, FALSE);
  if (!client)
    return FALSE;
  Summary *s = g_new0 (Summary, 1);
  s->refs = 1;
  s->channel = channel;
  s->client = client;
  s->fresh = fresh;
  s->output = registry_output_new (channel);
  s->repositories = g_steal_pointer (&repositories);
  s->repos = g_ptr_array_new_with_free_func (repo_free);
  s->session_id = g_strdup (session_get_id (channel_get_session (channel)));
  channel_set_data (channel, s, summary_unref);
  if (!summaries)
    summaries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Summary *old = g_hash_table_lookup (summaries, s->session_id);
  if (old && old->channel)
    channel_fail (old->channel, "terminated", "replaced by a newer summary of this session");
  g_hash_table_insert (summaries, g_strdup (s->session_id), s);
  channel_ready (channel, NULL);
  summary_pump (s);
  return TRUE;
}

static void
summary_closed (RcChannel *channel)
{
  Summary *s = channel_get_data (channel);
  if (!s)
    return;
  s->channel = NULL;
  if (summaries && g_hash_table_lookup (summaries, s->session_id) == s)
    g_hash_table_remove (summaries, s->session_id);
  for (guint i = 0; i < s->repos->len; i++)
    registry_walk_cancel (((Repo *) g_ptr_array_index (s->repos, i))->walk);
  registry_output_detach (s->output);
  channel_registry_release (s->client);
}

static const ChannelType registry_summary_type = {
  .payload = "registry-summary",
  .open = summary_open,
  .closed = summary_closed,
};

void
channel_registry_summary_register (void)
{
  channel_register_type (&registry_summary_type);
}
