/* registry-catalog.c: see registry-catalog.h. One Catalog per registry URL:
 * the kept list, the list being walked, and who follows that walk. */
#include "config.h"

#include "ws/registry-catalog.h"
#include "ws/registry-api.h"
#include "ws/registry-client.h"
#include "ws/registry-walk.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <malloc.h>
#include <string.h>

#define FRESH_MIN_AGE_US (10 * G_USEC_PER_SEC)
#define WALK_TIMEOUT_S 600

typedef struct {
  guint id;
  RegistryCatalogFunc func;
  gpointer user_data;
} Follower;

typedef struct {
  gchar *registry;
  RegistryNameList *kept;
  RegistryNameList *walking;
  RegistryClient *client;   /* the walk's, with the credential of who started it */
  gchar *last_path;
  GArray *followers;        /* of the walking list */
} Catalog;

static GHashTable *catalogs;      /* registry → Catalog */
static gsize max_bytes = 16 << 20;
static guint max_age_s = 300;
static guint next_id = 1;

static void catalog_request (Catalog *c, const gchar *path);

/* ----------------------------------------------------------------- lists */

static RegistryNameList *
name_list_new (void)
{
  RegistryNameList *list = g_new0 (RegistryNameList, 1);
  list->refs = 1;
  list->names = g_ptr_array_new ();
  list->chunk = g_string_chunk_new (64 * 1024);
  list->bytes = sizeof *list + 64;
  return list;
}

RegistryNameList *
registry_name_list_ref (RegistryNameList *list)
{
  list->refs++;
  return list;
}

void
registry_name_list_unref (RegistryNameList *list)
{
  if (!list || --list->refs > 0)
    return;
  g_ptr_array_unref (list->names);
  g_string_chunk_free (list->chunk);
  g_free (list->error);
  g_free (list);
}

/* ------------------------------------------------------------- catalogs */

void
registry_catalog_configure (gsize bytes, guint age_s)
{
  max_bytes = bytes;
  max_age_s = age_s;
}

static void
catalog_free (gpointer data)
{
  Catalog *c = data;
  if (c->client)
    {
      registry_client_cancel (c->client);
      registry_client_unref (c->client);
    }
  registry_name_list_unref (c->kept);
  registry_name_list_unref (c->walking);
  g_array_unref (c->followers);
  g_free (c->last_path);
  g_free (c->registry);
  g_free (c);
}

static Catalog *
catalog_get (const gchar *registry)
{
  if (!catalogs)
    catalogs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, catalog_free);
  Catalog *c = g_hash_table_lookup (catalogs, registry);
  if (!c)
    {
      c = g_new0 (Catalog, 1);
      c->registry = g_strdup (registry);
      c->followers = g_array_new (FALSE, FALSE, sizeof (Follower));
      g_hash_table_insert (catalogs, c->registry, c);
    }
  return c;
}

void
registry_catalog_reset (void)
{
  g_clear_pointer (&catalogs, g_hash_table_unref);
}

gboolean
registry_catalog_walking (const gchar *registry)
{
  Catalog *c = catalogs ? g_hash_table_lookup (catalogs, registry) : NULL;
  return c && c->walking;
}

/* Tell the followers of the walking list (they may unfollow meanwhile). */
static void
catalog_notify (Catalog *c, RegistryNameList *list)
{
  g_autoptr(GArray) copy = g_array_copy (c->followers);
  for (guint i = 0; i < copy->len; i++)
    {
      Follower *f = &g_array_index (copy, Follower, i);
      gboolean still = FALSE;
      for (guint j = 0; j < c->followers->len && !still; j++)
        still = g_array_index (c->followers, Follower, j).id == f->id;
      if (still)
        f->func (list, f->user_data);
    }
}

/* The walk is over: a complete (or cut) list becomes the kept one; a
 * failed walk leaves the kept one as it was. */
static void
catalog_finish (Catalog *c, const gchar *error)
{
  g_autoptr(RegistryNameList) list = g_steal_pointer (&c->walking);
  list->finished = TRUE;
  list->complete = !error && !list->truncated;
  list->error = g_strdup (error);
  list->finished_at = g_get_real_time ();
  g_autofree gchar *shown = rc_log_escape (error, 512);
  g_debug ("catalog of %s: %u names in %u pages%s%s", c->registry, list->names->len, list->pages,
           error ? ": " : list->truncated ? ", cut (RegistryCatalogSize)" : "", error ? shown : "");
  if (!error)
    {
      registry_name_list_unref (c->kept);
      c->kept = registry_name_list_ref (list);
    }
  RegistryClient *client = g_steal_pointer (&c->client);
  catalog_notify (c, list);
  g_array_set_size (c->followers, 0);
  registry_client_unref (client);
  malloc_trim (0);
}

/* Append a page's names; FALSE when the list is full. */
static gboolean
catalog_take_page (Catalog *c, JsonArray *repositories)
{
  RegistryNameList *list = c->walking;
  for (guint i = 0; repositories && i < json_array_get_length (repositories); i++)
    {
      JsonNode *node = json_array_get_element (repositories, i);
      const gchar *name = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                          ? json_node_get_string (node) : NULL;
      if (!name || !registry_repository_valid (name))
        continue;   /* nobody could open it */
      gsize cost = strlen (name) + 1 + sizeof (gpointer);
      if (list->bytes + cost > max_bytes)
        {
          list->truncated = TRUE;
          return FALSE;
        }
      g_ptr_array_add (list->names, g_string_chunk_insert (list->chunk, name));
      list->bytes += cost;
    }
  return TRUE;
}

static void
on_catalog_page (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  Catalog *c = data;
  if (error || response->status != 200)
    {
      g_autofree gchar *text = error ? g_strdup (error->message) : registry_response_describe (response);
      g_autofree gchar *message = g_strdup_printf ("_catalog, page %u: %s", c->walking->pages + 1, text);
      catalog_finish (c, message);
      return;
    }
  c->walking->pages++;
  gsize len = 0;
  const gchar *body = g_bytes_get_data (response->body, &len);
  g_autoptr(JsonObject) page = registry_json_parse_lenient (body, len, NULL, NULL);
  JsonArray *repositories = NULL;
  if (!page || !rc_json_get_array (page, "repositories", NULL, &repositories))
    {
      catalog_finish (c, "_catalog: not a list of repositories");
      return;
    }
  gboolean room = catalog_take_page (c, repositories);
  g_autoptr(GError) local = NULL;
  g_autofree gchar *next = room ? registry_link_next (g_hash_table_lookup (response->headers, "link"),
                                                      c->registry, &local) : NULL;
  if (local)
    {
      catalog_finish (c, local->message);
      return;
    }
  if (next && g_strcmp0 (next, c->last_path) == 0)
    {
      catalog_finish (c, "_catalog: the pages do not end");
      return;
    }
  catalog_notify (c, c->walking);
  if (next && c->walking)
    catalog_request (c, next);
  else if (c->walking)
    catalog_finish (c, NULL);
}

static void
catalog_request (Catalog *c, const gchar *path)
{
  g_free (c->last_path);
  c->last_path = g_strdup (path);
  registry_client_request (c->client, "GET", path, "application/json", REGISTRY_LIST_MAX, TRUE,
                           on_catalog_page, c, NULL);
}

static void
catalog_start_walk (Catalog *c, RcSession *session)
{
  c->walking = name_list_new ();
  c->client = registry_client_new_for_session (session, 1);
  registry_client_set_timeout (c->client, WALK_TIMEOUT_S);
  g_debug ("catalog of %s: walking", c->registry);
  g_autofree gchar *path = registry_path_catalog (REGISTRY_PAGE_SIZE);
  catalog_request (c, path);
}

RegistryNameList *
registry_catalog_view (const gchar *registry, RcSession *session, gboolean fresh,
                       RegistryCatalogFunc func, gpointer user_data, guint *id)
{
  Catalog *c = catalog_get (registry);
  *id = 0;
  if (c->kept)
    {
      gint64 age = g_get_real_time () - c->kept->finished_at;
      if (!c->walking && (age > (gint64) max_age_s * G_USEC_PER_SEC || (fresh && age > FRESH_MIN_AGE_US)))
        catalog_start_walk (c, session);
      return registry_name_list_ref (c->kept);
    }
  if (!c->walking)
    catalog_start_walk (c, session);
  Follower f = { next_id++, func, user_data };
  g_array_append_val (c->followers, f);
  *id = f.id;
  return registry_name_list_ref (c->walking);
}

void
registry_catalog_unfollow (const gchar *registry, guint id)
{
  Catalog *c = catalogs && id ? g_hash_table_lookup (catalogs, registry) : NULL;
  for (guint i = 0; c && i < c->followers->len; i++)
    if (g_array_index (c->followers, Follower, i).id == id)
      {
        g_array_remove_index (c->followers, i);
        return;
      }
}
