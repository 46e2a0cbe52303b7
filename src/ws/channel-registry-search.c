/* channel-registry-search.c: the "registry-search" payload: a tag name or
 * a digest (full or a prefix) in every repository this user can read;
 * matches stream as rows while the repositories are walked.
 *
 * open {"payload":"registry-search","query":Q,"kind"?:"tag"|"digest",
 *       "exact"?:bool,"repositories"?:[…]}
 *   kind: "digest" when Q starts with "sha256:"/"sha512:" or is 12 or more
 *   lowercase hex digits, else "tag" (unless given). A tag search matches
 *   tag names containing Q (ignoring case), or equal to it with "exact";
 *   a digest search matches a tag whose manifest, platform manifest,
 *   config or layer digest starts with Q ("sha256:" may be left out).
 *   → ready → (without "repositories": this user's GET /v2/_catalog?n=1,
 *   then the kept catalog, registry-catalog.h) → rows {"type":"tag",
 *   "repository","tag","digest","match":"tag"|"manifest"|"platform"|
 *   "config"|"layer",…} → "progress" {"repositories","total","walking",
 *   "matches","skipped","requests"} → done {"complete","repositories",
 *   "matches","skipped"} → close.
 * Repositories this user cannot list are skipped (counted, not shown). A
 * digest search walks first the repositories where the cache has met that
 * digest (as a manifest, or as a layer or config of a cached manifest):
 * "where is this digest" answers early. Those hits only reorder this
 * user's own list ("repositories", or the catalog): what the cache met in
 * other repositories is neither walked nor counted. One search per session at a time:
 * a new one closes the older ("terminated").
 * (doc/architecture.md, "Registry channels") */
#include "config.h"

#include "ws/channel-registry.h"
#include "ws/registry-api.h"
#include "ws/registry-cache.h"
#include "ws/registry-catalog.h"
#include "ws/registry-output.h"
#include "ws/registry-row.h"
#include "ws/registry-walk.h"
#include "common/rcjson.h"

#include <string.h>

#define WALKS_AT_ONCE 4
#define QUERY_MAX 256
#define GIVEN_MAX 100000

typedef struct {
  gint refs;
  RcChannel *channel;       /* NULL once closed */
  RegistryClient *client;
  RegistryOutput *output;
  gchar *registry;
  gchar *session_id;
  gchar *query;             /* casefolded for tags */
  gboolean digest;
  gboolean exact;
  gchar **given;            /* "repositories", or NULL: the catalog */
  guint given_cursor;
  RegistryNameList *list;
  guint follow;
  guint cursor;
  GHashTable *hits;         /* repositories to walk first, when in this user's list (owned) */
  guint hit_cursor;         /* names of the list looked up in hits so far */
  GHashTable *queued;       /* every repository started */
  GPtrArray *walks;         /* under way */
  guint repos_done, matches, skipped;
  gboolean pumping;
} Search;

static GHashTable *searches;      /* session id → Search (one a session) */

static void search_pump (Search *s);

static Search *
search_ref (Search *s)
{
  s->refs++;
  return s;
}

static void
search_unref (gpointer data)
{
  Search *s = data;
  if (--s->refs > 0)
    return;
  if (s->follow)
    registry_catalog_unfollow (s->registry, s->follow);
  g_ptr_array_unref (s->walks);
  g_clear_pointer (&s->hits, g_hash_table_unref);
  g_hash_table_unref (s->queued);
  registry_name_list_unref (s->list);
  registry_client_unref (s->client);
  registry_output_free (s->output);
  g_strfreev (s->given);
  g_free (s->registry);
  g_free (s->session_id);
  g_free (s->query);
  g_free (s);
}

/* ---------------------------------------------------------------- matches */

static gboolean
digest_hit (const Search *s, const gchar *digest)
{
  if (!digest)
    return FALSE;
  if (strchr (s->query, ':'))
    return g_str_has_prefix (digest, s->query);
  const gchar *hex = strchr (digest, ':');
  return hex && g_str_has_prefix (hex + 1, s->query);
}

static gboolean
manifest_has (const Search *s, const RegistryManifest *m)
{
  if (digest_hit (s, m->config.digest))
    return TRUE;
  for (guint i = 0; i < m->n_layers; i++)
    if (digest_hit (s, m->layers[i].digest))
      return TRUE;
  return FALSE;
}

/* What of RESULT matches a digest query, or NULL. */
static const gchar *
digest_match (const Search *s, const RegistryTagResult *r)
{
  if (digest_hit (s, r->digest))
    return "manifest";
  if (!r->manifest)
    return NULL;
  if (digest_hit (s, r->manifest->config.digest))
    return "config";
  if (manifest_has (s, r->manifest))
    return "layer";
  for (guint i = 0; r->platforms && i < r->platforms->len; i++)
    {
      const RegistryPlatformResult *pr = &g_array_index (r->platforms, RegistryPlatformResult, i);
      if (digest_hit (s, pr->platform->digest))
        return "platform";
      if (pr->manifest && manifest_has (s, pr->manifest))
        return "layer";
    }
  return NULL;
}

static gboolean
on_want (RegistryWalk *walk, const gchar *tag, gpointer data)
{
  Search *s = data;
  if (s->digest)
    return TRUE;
  if (s->exact)
    return g_str_equal (tag, s->query);
  g_autofree gchar *folded = g_utf8_casefold (tag, -1);
  return strstr (folded, s->query) != NULL;
}

static void
on_tag (RegistryWalk *walk, const RegistryTagResult *result, gpointer data)
{
  Search *s = search_ref (data);
  const gchar *match = s->digest ? digest_match (s, result) : (on_want (walk, result->tag, s) ? "tag" : NULL);
  if (match && s->channel)
    {
      /* a copy of the row with where and what matched */
      RegistryTagResult shown = *result;
      shown.repository = (gchar *) registry_walk_get_repository (walk);
      shown.match = match;
      registry_row_append_tag (registry_output_rows (s->output), &shown, FALSE);
      s->matches++;
      registry_output_commit (s->output);
    }
  search_unref (s);
}

/* ------------------------------------------------------------------ walks */

static void
search_progress (Search *s, gboolean force)
{
  if (!s->channel)
    return;
  JsonObject *p = json_object_new ();
  json_object_set_int_member (p, "repositories", s->repos_done);
  json_object_set_int_member (p, "total", s->given ? g_strv_length (s->given)
                                          : s->list ? s->list->names->len : 0);
  json_object_set_boolean_member (p, "walking", s->list && !s->list->finished);
  json_object_set_int_member (p, "matches", s->matches);
  json_object_set_int_member (p, "skipped", s->skipped);
  json_object_set_int_member (p, "requests", registry_client_sent (s->client));
  registry_output_progress (s->output, p, force);
}

static void
on_walk_done (RegistryWalk *walk, const GError *error, gpointer data)
{
  Search *s = search_ref (data);
  s->repos_done++;
  if (error)
    s->skipped++;
  g_ptr_array_remove (s->walks, walk);
  search_progress (s, FALSE);
  search_pump (s);
  search_unref (s);
}

static void
search_start_walk (Search *s, const gchar *repository)
{
  static const RegistryWalkCallbacks callbacks = { NULL, on_want, on_tag, NULL, on_walk_done };
  g_hash_table_add (s->queued, g_strdup (repository));
  RegistryWalk *w = registry_walk_new (s->client, repository, s->digest ? REGISTRY_WALK_NO_CONFIG : 0);
  registry_walk_set_memo_time (w, channel_registry_config ()->tag_memo_time);
  registry_walk_set_max_active (w, channel_registry_config ()->concurrency);
  g_ptr_array_add (s->walks, w);
  registry_walk_start (w, &callbacks, s);
}

/* The next name of this user's list that the cache met the digest in, or
 * NULL for now (each name of the list is looked at once). */
static const gchar *
search_next_hit (Search *s)
{
  if (!s->hits)
    return NULL;
  for (;;)
    {
      const gchar *name = s->given ? s->given[s->hit_cursor]
                        : s->list && s->hit_cursor < s->list->names->len
                        ? g_ptr_array_index (s->list->names, s->hit_cursor) : NULL;
      if (!name)
        return NULL;
      s->hit_cursor++;
      if (g_hash_table_contains (s->hits, name) && !g_hash_table_contains (s->queued, name))
        return name;
    }
}

/* The next repository to walk (transfer full), or NULL for now. */
static gchar *
search_next (Search *s)
{
  const gchar *hit = search_next_hit (s);
  if (hit)
    return g_strdup (hit);
  while (s->given && s->given[s->given_cursor])
    {
      const gchar *name = s->given[s->given_cursor++];
      if (!g_hash_table_contains (s->queued, name))
        return g_strdup (name);
    }
  while (s->list && s->cursor < s->list->names->len)
    {
      const gchar *name = g_ptr_array_index (s->list->names, s->cursor++);
      if (!g_hash_table_contains (s->queued, name))
        return g_strdup (name);
    }
  return NULL;
}

static gboolean
search_exhausted (Search *s)
{
  return s->walks->len == 0 &&
         (s->given ? s->given[s->given_cursor] == NULL
                   : s->list && s->list->finished && s->cursor == s->list->names->len);
}

static void
search_finish (Search *s)
{
  if (!registry_output_flush (s->output))
    return;
  search_progress (s, TRUE);
  g_autoptr(JsonObject) done = json_object_new ();
  json_object_set_boolean_member (done, "complete", s->given || (s->list && s->list->complete));
  json_object_set_int_member (done, "repositories", s->repos_done);
  json_object_set_int_member (done, "matches", s->matches);
  json_object_set_int_member (done, "skipped", s->skipped);
  channel_send_control (s->channel, "done", done);
  channel_close (s->channel, NULL);
}

static void
search_pump (Search *s)
{
  if (s->pumping || !s->channel)
    return;
  s->pumping = TRUE;
  search_ref (s);
  gchar *next;
  while (s->channel && s->walks->len < WALKS_AT_ONCE && (next = search_next (s)))
    {
      search_start_walk (s, next);
      g_free (next);
    }
  if (s->channel && search_exhausted (s))
    search_finish (s);
  s->pumping = FALSE;
  search_unref (s);
}

/* ------------------------------------------------------------- candidates */

static void
collect_manifests (const gchar *digest, gpointer value, gpointer data)
{
  Search *s = ((gpointer *) data)[0];
  GPtrArray *hits = ((gpointer *) data)[1];
  RegistryManifest *m = value;
  gboolean hit = digest_hit (s, digest) || manifest_has (s, m);
  for (guint i = 0; !hit && i < m->n_platforms; i++)
    hit = digest_hit (s, m->platforms[i].digest);
  if (hit)
    g_ptr_array_add (hits, g_strdup (digest));
}

/* Repositories where the cache met a manifest that matches: walked first
 * when this user's list names them. */
static void
search_find_candidates (Search *s)
{
  g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func (g_free);
  gpointer data[] = { s, hits };
  registry_cache_foreach (REGISTRY_CACHE_MANIFEST, s->registry, collect_manifests, data);
  if (strchr (s->query, ':'))
    g_ptr_array_add (hits, g_strdup (s->query));
  for (guint i = 0; i < hits->len; i++)
    {
      g_auto(GStrv) repos = registry_cache_seen_in (s->registry, g_ptr_array_index (hits, i));
      for (guint j = 0; repos[j]; j++)
        g_hash_table_add (s->hits, g_strdup (repos[j]));
    }
  g_debug ("registry-search: %u cached manifests match, in %u repositories", hits->len,
           g_hash_table_size (s->hits));
}

/* ------------------------------------------------------------------ setup */

static void
on_list_grew (RegistryNameList *list, gpointer data)
{
  Search *s = data;
  if (list->finished)
    s->follow = 0;
  search_pump (s);
}

static void
on_access (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  Search *s = data;
  if (!s->channel)
    return;
  if (error || response->status != 200)
    {
      g_autofree gchar *text = error ? g_strdup (error->message) : registry_response_describe (response);
      guint status = error ? 0 : response->status;
      channel_fail (s->channel, status == 401 || status == 403 ? "access-denied" :
                    status == 404 ? "not-found" : "internal-error", "_catalog: %s", text);
      return;
    }
  s->list = registry_catalog_view (s->registry, channel_get_session (s->channel), FALSE,
                                   on_list_grew, s, &s->follow);
  search_pump (s);
}

static gboolean
looks_like_digest (const gchar *q)
{
  if (g_str_has_prefix (q, "sha256:") || g_str_has_prefix (q, "sha512:"))
    return TRUE;
  gsize n = strlen (q);
  for (const gchar *p = q; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return n >= 12;
}

/* The open message's options into S; FALSE (and the channel failed) on a
 * bad one. */
static gboolean
search_parse (RcChannel *channel, JsonObject *options, Search *s)
{
  const gchar *query = NULL, *kind = NULL;
  JsonArray *repos = NULL;
  if (!rc_json_get_string (options, "query", NULL, &query) || !query || !query[0] ||
      strlen (query) > QUERY_MAX || !rc_json_get_string (options, "kind", NULL, &kind) ||
      (kind && !g_str_equal (kind, "tag") && !g_str_equal (kind, "digest")) ||
      !rc_json_get_bool (options, "exact", FALSE, &s->exact) ||
      !rc_json_get_array (options, "repositories", NULL, &repos) ||
      (repos && json_array_get_length (repos) > GIVEN_MAX))
    {
      channel_fail (channel, "protocol-error", "registry-search wants \"query\" (1 to 256 bytes), and "
                    "optionally \"kind\" (\"tag\" or \"digest\"), \"exact\", \"repositories\"");
      return FALSE;
    }
  s->digest = kind ? g_str_equal (kind, "digest") : looks_like_digest (query);
  s->query = s->digest || s->exact ? g_strdup (query) : g_utf8_casefold (query, -1);
  if (!repos)
    return TRUE;
  g_autoptr(GPtrArray) given = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (repos); i++)
    {
      JsonNode *node = json_array_get_element (repos, i);
      const gchar *name = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                          ? json_node_get_string (node) : NULL;
      if (!registry_repository_valid (name))
        {
          channel_fail (channel, "protocol-error", "\"repositories\" holds a name that is not a repository");
          return FALSE;
        }
      g_ptr_array_add (given, g_strdup (name));
    }
  g_ptr_array_add (given, NULL);
  s->given = (gchar **) g_ptr_array_steal (given, NULL);
  return TRUE;
}

/* One search a session: an older one still running is closed. */
static void
search_claim_session (Search *s)
{
  if (!searches)
    searches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Search *old = g_hash_table_lookup (searches, s->session_id);
  if (old && old->channel)
    channel_fail (old->channel, "terminated", "replaced by a newer search of this session");
  g_hash_table_insert (searches, g_strdup (s->session_id), s);
}

static gboolean
search_open (RcChannel *channel, JsonObject *options)
{
  Search *s = g_new0 (Search, 1);
  s->refs = 1;
  s->walks = g_ptr_array_new_with_free_func ((GDestroyNotify) registry_walk_unref);
  s->queued = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!search_parse (channel, options, s) || !(s->client = channel_registry_open_client (channel, FALSE)))
    {
      search_unref (s);
      return FALSE;
    }
  s->channel = channel;
  s->output = registry_output_new (channel);
  s->registry = g_strdup (registry_client_get_registry (s->client));
  s->session_id = g_strdup (session_get_id (channel_get_session (channel)));
  channel_set_data (channel, s, search_unref);
  search_claim_session (s);
  channel_ready (channel, NULL);
  g_debug ("registry-search %s: %s search", channel_get_id (channel), s->digest ? "digest" : "tag");
  if (s->digest)
    search_find_candidates (s);
  if (s->given)
    {
      search_pump (s);
      return TRUE;
    }
  /* this user's own access to the catalog, before the kept one is used */
  g_autofree gchar *path = registry_path_catalog (1);
  registry_client_request (s->client, "GET", path, "application/json", 64 * 1024, TRUE, on_access,
                           search_ref (s), search_unref);
  return TRUE;
}

static void
search_closed (RcChannel *channel)
{
  Search *s = channel_get_data (channel);
  if (!s)
    return;
  s->channel = NULL;
  if (searches && g_hash_table_lookup (searches, s->session_id) == s)
    g_hash_table_remove (searches, s->session_id);
  if (s->follow)
    registry_catalog_unfollow (s->registry, s->follow);
  s->follow = 0;
  for (guint i = 0; i < s->walks->len; i++)
    registry_walk_cancel (g_ptr_array_index (s->walks, i));
  registry_output_detach (s->output);
  channel_registry_release (s->client);
}

static const ChannelType registry_search_type = {
  .payload = "registry-search",
  .open = search_open,
  .closed = search_closed,
};

void
channel_registry_search_register (void)
{
  channel_register_type (&registry_search_type);
}
