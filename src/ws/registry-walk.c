/* registry-walk.c: see registry-walk.h. The listing (tags/list pages), the
 * queue of tags waiting, this user's tag memo; each tag is resolved by
 * registry-resolve.c. */
#include "config.h"

#include "ws/registry-walk.h"
#include "ws/registry-api.h"
#include "ws/registry-cache.h"
#include "ws/registry-resolve.h"
#include "ws/registry-tag-queue.h"
#include "common/rcjson.h"

#include <string.h>

G_DEFINE_QUARK (registry-walk-error-quark, registry_walk_error)

#define MAX_ACTIVE_DEFAULT 16
#define MAX_PAGES 100000
#define SHOWN_NAME_MAX 256
/* The tag names are charged to the channel's budget this much at a time,
 * and only while this much more of the budget stays free: the rows that
 * carry them (and the next page being read) need room too. */
#define CHARGE_CHUNK (64 << 10)
#define CHARGE_HEADROOM (2 << 20)

/* What one user learnt from the registry: a tag's digest, and when. */
typedef struct {
  gint64 learnt;            /* monotonic µs */
  gchar digest[];
} MemoEntry;

/* One user's tag → MemoEntry for one repository. */
typedef struct {
  gint refs;
  GHashTable *digests;
  gsize charge;
} TagMemo;

struct _RegistryWalk {
  gint refs;
  RegistryClient *client;
  RegistryResolver *resolver;
  gchar *repository;
  gchar *scope;
  RegistryWalkFlags flags;
  RegistryWalkCallbacks cb;
  gpointer user_data;
  gchar **subset;
  guint memo_time;
  guint max_active;

  gboolean started, cancelled, paused, pumping, finished;
  gboolean listed;          /* tags/list read to its end (or given up) */
  gboolean truncated;       /* … given up at REGISTRY_WALK_MAX_TAGS or the budget */
  gchar *next_page;         /* the page to read on resume() */
  guint pages;
  gsize charged;            /* bytes charged to the client's budget for the names */
  gsize room;               /* … of which not used yet */

  RegistryTagQueue *queue;  /* every tag listed, those waiting */
  guint active;
  guint n_listed;
  guint n_finished;

  TagMemo *memo;            /* what this user's memo said at the start */
  GHashTable *learnt;       /* tag → MemoEntry resolved in this walk */
};

static void walk_pump (RegistryWalk *w);

/* ------------------------------------------------------------------- memo */

static TagMemo *
memo_ref (TagMemo *m)
{
  m->refs++;
  return m;
}

static void
memo_unref (TagMemo *m)
{
  if (!m || --m->refs > 0)
    return;
  g_hash_table_unref (m->digests);
  g_free (m);
}

static gchar *
memo_key (RegistryWalk *w)
{
  return g_strconcat (registry_client_get_user_key (w->client), "\n", w->repository, NULL);
}

static MemoEntry *
memo_entry_new (const gchar *digest, gint64 learnt)
{
  gsize n = strlen (digest) + 1;
  MemoEntry *e = g_malloc (sizeof (MemoEntry) + n);
  e->learnt = learnt;
  memcpy (e->digest, digest, n);
  return e;
}

static void
walk_load_memo (RegistryWalk *w)
{
  if (!w->memo_time || (w->flags & REGISTRY_WALK_FRESH))
    return;
  g_autofree gchar *key = memo_key (w);
  w->memo = registry_cache_lookup (REGISTRY_CACHE_TAGS, w->scope, key);
}

/* This user's digest for TAG when learnt less than memo_time ago, or NULL. */
static const MemoEntry *
walk_memo_entry (RegistryWalk *w, const gchar *tag)
{
  const MemoEntry *e = w->memo ? g_hash_table_lookup (w->memo->digests, tag) : NULL;
  if (!e || g_get_monotonic_time () - e->learnt >= (gint64) w->memo_time * G_USEC_PER_SEC)
    return NULL;
  return e;
}

/* Keep what this walk learnt, each digest with the time it was learnt (a
 * whole walk only: a subset would make the memo look complete). */
static void
walk_save_memo (RegistryWalk *w)
{
  if (!w->memo_time || w->subset || g_hash_table_size (w->learnt) == 0)
    return;
  TagMemo *m = g_new0 (TagMemo, 1);
  m->refs = 1;
  m->digests = g_steal_pointer (&w->learnt);
  w->learnt = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->charge = 64 + 48 * g_hash_table_size (m->digests);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, m->digests);
  while (g_hash_table_iter_next (&it, &k, &v))
    m->charge += 48 + registry_charge_string (k) + registry_charge_string (((MemoEntry *) v)->digest) + 8;
  g_autofree gchar *key = memo_key (w);
  registry_cache_insert (REGISTRY_CACHE_TAGS, w->scope, key, m, m->charge,
                         (RegistryCacheRefFunc) memo_ref, (GDestroyNotify) memo_unref);
  memo_unref (m);
}

/* ------------------------------------------------------------------- walk */

RegistryWalk *
registry_walk_new (RegistryClient *client, const gchar *repository, RegistryWalkFlags flags)
{
  RegistryWalk *w = g_new0 (RegistryWalk, 1);
  w->refs = 1;
  w->client = registry_client_ref (client);
  w->repository = g_strdup (repository);
  w->scope = g_strdup (registry_client_get_registry (client));
  w->flags = flags;
  w->memo_time = 120;
  w->max_active = MAX_ACTIVE_DEFAULT;
  w->resolver = registry_resolver_new (client, repository, (flags & REGISTRY_WALK_NO_CONFIG) != 0);
  w->queue = registry_tag_queue_new ();
  w->learnt = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return w;
}

RegistryWalk *
registry_walk_ref (RegistryWalk *w)
{
  w->refs++;
  return w;
}

void
registry_walk_unref (RegistryWalk *w)
{
  if (!w || --w->refs > 0)
    return;
  registry_client_release (w->client, w->charged);
  registry_tag_queue_free (w->queue);
  g_free (w->next_page);
  g_hash_table_unref (w->learnt);
  memo_unref (w->memo);
  g_strfreev (w->subset);
  registry_resolver_unref (w->resolver);
  registry_client_unref (w->client);
  g_free (w->repository);
  g_free (w->scope);
  g_free (w);
}

void
registry_walk_set_tags (RegistryWalk *w, const gchar *const *tags)
{
  g_strfreev (w->subset);
  w->subset = tags ? g_strdupv ((gchar **) tags) : NULL;
}

void
registry_walk_set_memo_time (RegistryWalk *w, guint seconds)
{
  w->memo_time = seconds;
}

void
registry_walk_set_max_active (RegistryWalk *w, guint n)
{
  w->max_active = MAX (n, 1);
}

const gchar *
registry_walk_get_repository (RegistryWalk *w)
{
  return w->repository;
}

guint
registry_walk_get_listed (RegistryWalk *w)
{
  return w->n_listed;
}

guint
registry_walk_get_finished (RegistryWalk *w)
{
  return w->n_finished;
}

gboolean
registry_walk_is_listed (RegistryWalk *w)
{
  return w->listed;
}

gboolean
registry_walk_is_truncated (RegistryWalk *w)
{
  return w->truncated;
}

static void
walk_finish (RegistryWalk *w, const GError *error)
{
  if (w->finished)
    return;
  w->finished = TRUE;
  if (!error && !w->cancelled)
    {
      walk_save_memo (w);
      if (w->n_finished && !(w->flags & REGISTRY_WALK_NO_CONFIG))
        registry_cache_insert (REGISTRY_CACHE_WALKED, w->scope, w->repository, GINT_TO_POINTER (1), 0,
                               NULL, NULL);
    }
  if (!w->cancelled && w->cb.done)
    w->cb.done (w, error, w->user_data);
}

void
registry_walk_cancel (RegistryWalk *w)
{
  w->cancelled = TRUE;
  memset (&w->cb, 0, sizeof w->cb);
}

void
registry_walk_pause (RegistryWalk *w)
{
  w->paused = TRUE;
}

static void walk_list (RegistryWalk *w, const gchar *path);

void
registry_walk_resume (RegistryWalk *w)
{
  if (!w->paused)
    return;
  w->paused = FALSE;
  g_autofree gchar *next = g_steal_pointer (&w->next_page);
  if (next && !w->cancelled && !w->finished)
    walk_list (w, next);
  walk_pump (w);
}

void
registry_walk_prioritize (RegistryWalk *w, const gchar *const *tags)
{
  registry_tag_queue_prioritize (w->queue, tags, w->listed);
}

/* ------------------------------------------------------------- resolving */

static void
on_resolved (RegistryTagResult *result, gpointer data)
{
  RegistryWalk *w = data;
  w->active--;
  w->n_finished++;
  if (result->digest && !result->error)
    {
      /* a digest the memo gave keeps the time it was learnt */
      const MemoEntry *old = walk_memo_entry (w, result->tag);
      gint64 learnt = old && g_str_equal (old->digest, result->digest) ? old->learnt : g_get_monotonic_time ();
      g_hash_table_replace (w->learnt, g_strdup (result->tag), memo_entry_new (result->digest, learnt));
    }
  if (!w->cancelled && w->cb.tag)
    w->cb.tag (w, result, w->user_data);
  registry_tag_result_free (result);
  walk_pump (w);
}

static void
walk_start_tag (RegistryWalk *w, const gchar *tag)
{
  const MemoEntry *memo = walk_memo_entry (w, tag);
  const gchar *digest = memo ? memo->digest : NULL;
  w->active++;
  registry_resolver_resolve (w->resolver, tag, digest, on_resolved, registry_walk_ref (w),
                             (GDestroyNotify) registry_walk_unref);
}

static void
walk_pump (RegistryWalk *w)
{
  if (w->pumping || w->cancelled || w->finished)
    return;
  w->pumping = TRUE;
  registry_walk_ref (w);
  while (!w->paused && !w->cancelled && w->active < w->max_active && registry_tag_queue_waiting (w->queue))
    {
      const gchar *tag = registry_tag_queue_pop (w->queue);
      if (w->cb.want && !w->cb.want (w, tag, w->user_data))
        continue;
      walk_start_tag (w, tag);
    }
  w->pumping = FALSE;
  if (w->listed && w->active == 0 && registry_tag_queue_waiting (w->queue) == 0)
    walk_finish (w, NULL);
  registry_walk_unref (w);
}

/* Room in the budget for COST more bytes of names (charged a chunk at a
 * time, with CHARGE_HEADROOM left free); FALSE when over it. */
static gboolean
walk_charge (RegistryWalk *w, gsize cost)
{
  if (w->room < cost)
    {
      gsize chunk = MAX (cost, CHARGE_CHUNK);
      if (!registry_client_reserve (w->client, chunk + CHARGE_HEADROOM))
        return FALSE;
      registry_client_release (w->client, CHARGE_HEADROOM);
      w->charged += chunk;
      w->room += chunk;
    }
  w->room -= cost;
  return TRUE;
}

/* Take TAG (valid, not seen): FALSE, and the walk truncated, when it is one
 * over REGISTRY_WALK_MAX_TAGS or over the budget. */
static gboolean
walk_enqueue (RegistryWalk *w, const gchar *tag)
{
  if (registry_tag_queue_count (w->queue) >= REGISTRY_WALK_MAX_TAGS ||
      !walk_charge (w, strlen (tag) + 1 + REGISTRY_TAG_QUEUE_NAME_COST))
    {
      w->truncated = TRUE;
      return FALSE;
    }
  registry_tag_queue_add (w->queue, tag);
  w->n_listed++;
  return TRUE;
}

/* ---------------------------------------------------------------- listing */

/* A name the registry listed that no request may carry: a failed row. */
static void
walk_refuse_name (RegistryWalk *w, const gchar *name)
{
  g_autofree gchar *cut = strlen (name) > SHOWN_NAME_MAX ? g_utf8_make_valid (name, SHOWN_NAME_MAX) : NULL;
  g_autofree gchar *shown = cut ? g_strconcat (cut, "…", NULL) : g_strdup (name);
  g_autoptr(RegistryTagResult) r = registry_tag_result_new (shown);
  r->error = g_strdup (strlen (name) > REGISTRY_TAG_MAX ? "the tag name is longer than 128 characters"
                                                        : "not a valid tag name");
  w->n_listed++;
  w->n_finished++;
  if (w->cb.tag)
    w->cb.tag (w, r, w->user_data);
}

static void
walk_take_names (RegistryWalk *w, JsonArray *tags)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GPtrArray) refused = g_ptr_array_new ();
  guint odd = 0;
  for (guint i = 0; tags && i < json_array_get_length (tags); i++)
    {
      JsonNode *node = json_array_get_element (tags, i);
      const gchar *name = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                          ? json_node_get_string (node) : NULL;
      if (!name)
        odd++;
      else if (!registry_tag_valid (name))
        g_ptr_array_add (refused, (gpointer) name);
      else if (!registry_tag_queue_seen (w->queue, name))
        {
          if (!walk_enqueue (w, name))
            break;
          g_ptr_array_add (names, (gpointer) name);
        }
    }
  /* the page's names first, then what could not be a tag */
  if (names->len && w->cb.names)
    w->cb.names (w, (const gchar *const *) names->pdata, names->len, w->user_data);
  for (guint i = 0; i < refused->len && !w->cancelled; i++)
    walk_refuse_name (w, g_ptr_array_index (refused, i));
  if (w->cancelled)
    return;
  if (odd && !w->cancelled && w->cb.problem)
    w->cb.problem (w, "tags/list: some entries are not strings", 0, w->user_data);
}

static void
walk_take_subset (RegistryWalk *w)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; w->subset[i]; i++)
    if (registry_tag_valid (w->subset[i]) && !registry_tag_queue_seen (w->queue, w->subset[i]))
      {
        if (!walk_enqueue (w, w->subset[i]))
          break;
        g_ptr_array_add (names, w->subset[i]);
      }
  if (names->len && w->cb.names)
    w->cb.names (w, (const gchar *const *) names->pdata, names->len, w->user_data);
  for (guint i = 0; w->subset[i] && !w->cancelled; i++)
    if (!registry_tag_valid (w->subset[i]))
      walk_refuse_name (w, w->subset[i]);
}

/* The first tags/list failed: the walk cannot start. */
static void
walk_refused (RegistryWalk *w, const RegistryResponse *response, const GError *error)
{
  g_autoptr(GError) e = NULL;
  g_autofree gchar *text = error ? g_strdup (error->message) : registry_response_describe (response);
  guint status = response ? response->status : 0;
  RegistryWalkError code = status == 401 || status == 403 ? REGISTRY_WALK_ERROR_ACCESS_DENIED
                         : status == 404 ? REGISTRY_WALK_ERROR_NOT_FOUND : REGISTRY_WALK_ERROR_FAILED;
  e = g_error_new (REGISTRY_WALK_ERROR, code, "%s: tags/list: %s", w->repository, text);
  walk_finish (w, e);
}

/* A later page failed, or cannot be followed: go on with what is listed. */
static void
walk_list_ends_early (RegistryWalk *w, const gchar *message, guint status)
{
  w->listed = TRUE;
  if (w->cb.problem)
    w->cb.problem (w, message, status, w->user_data);
  walk_pump (w);
}

/* More tags than a walk takes: go on with those listed. */
static void
walk_list_cut (RegistryWalk *w)
{
  g_autofree gchar *message = g_strdup_printf (
    "tags/list: only the first %u tags are read (at most %u a walk, within this channel's memory budget)",
    registry_tag_queue_count (w->queue), REGISTRY_WALK_MAX_TAGS);
  walk_list_ends_early (w, message, 0);
}

static void
walk_follow (RegistryWalk *w, const RegistryResponse *response, const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *next = registry_link_next (g_hash_table_lookup (response->headers, "link"),
                                               w->scope, &error);
  if (error)
    walk_list_ends_early (w, error->message, 0);
  else if (next && (g_str_equal (next, path) || w->pages >= MAX_PAGES))
    walk_list_ends_early (w, "tags/list: the pages do not end", 0);
  else if (next && w->paused)
    {
      /* the browser does not read: the next page waits for resume() */
      g_free (w->next_page);
      w->next_page = g_steal_pointer (&next);
    }
  else if (next)
    {
      walk_list (w, next);
      walk_pump (w);
    }
  else
    {
      w->listed = TRUE;
      walk_pump (w);
    }
}

typedef struct {
  RegistryWalk *walk;
  gchar *path;
} ListCall;

static void
list_call_free (gpointer data)
{
  ListCall *lc = data;
  registry_walk_unref (lc->walk);
  g_free (lc->path);
  g_free (lc);
}

static void
on_list_page (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  ListCall *lc = data;
  RegistryWalk *w = lc->walk;
  if (w->cancelled || w->finished)
    return;
  gboolean first = w->pages++ == 0;
  if ((error || response->status != 200) && first)
    {
      walk_refused (w, error ? NULL : response, error);
      return;
    }
  if (error || response->status != 200)
    {
      g_autofree gchar *text = error ? g_strdup (error->message) : registry_response_describe (response);
      g_autofree gchar *message = g_strdup_printf ("tags/list, page %u: %s", w->pages, text);
      walk_list_ends_early (w, message, error ? 0 : response->status);
      return;
    }
  if (first)
    walk_load_memo (w);
  if (w->subset)
    {
      walk_take_subset (w);
      if (w->truncated && !w->cancelled)
        walk_list_cut (w);
      else
        {
          w->listed = TRUE;
          walk_pump (w);
        }
      return;
    }
  gsize len = 0;
  const gchar *body = g_bytes_get_data (response->body, &len);
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonObject) page = registry_json_parse_lenient (body, len, NULL, &local);
  JsonArray *tags = NULL;
  if (!page || !rc_json_get_array (page, "tags", NULL, &tags))
    {
      g_autofree gchar *message = g_strdup_printf ("tags/list, page %u: not a list of tags%s%s", w->pages,
                                                   local ? ": " : "", local ? local->message : "");
      if (first)
        {
          g_autoptr(GError) e = g_error_new (REGISTRY_WALK_ERROR, REGISTRY_WALK_ERROR_FAILED, "%s: %s",
                                             w->repository, message);
          walk_finish (w, e);
        }
      else
        walk_list_ends_early (w, message, 0);
      return;
    }
  walk_take_names (w, tags);
  if (w->cancelled)
    return;
  if (w->truncated)
    walk_list_cut (w);
  else
    walk_follow (w, response, lc->path);
}

static void
walk_list (RegistryWalk *w, const gchar *path)
{
  ListCall *lc = g_new0 (ListCall, 1);
  lc->walk = registry_walk_ref (w);
  lc->path = g_strdup (path);
  registry_client_request (w->client, "GET", path, "application/json", REGISTRY_LIST_MAX, TRUE,
                           on_list_page, lc, list_call_free);
}

void
registry_walk_start (RegistryWalk *w, const RegistryWalkCallbacks *callbacks, gpointer user_data)
{
  g_return_if_fail (!w->started);
  w->started = TRUE;
  w->cb = *callbacks;
  w->user_data = user_data;
  g_autofree gchar *path = registry_path_tags (w->repository, w->subset ? 1 : REGISTRY_PAGE_SIZE);
  walk_list (w, path);
}
