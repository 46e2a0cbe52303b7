/* channel-registry-catalog.c: the "registry-catalog" payload: every
 * repository name of the registry, from the catalog the server keeps
 * (registry-catalog.h), after this user's own access check.
 *
 * open {"payload":"registry-catalog","contains"?:TEXT,"fresh"?:bool}
 *   → ready → (this user's GET /v2/_catalog?n=1 must answer 200, else close
 *   "access-denied" / "not-found" / "internal-error") → rows
 *   {"type":"names","names":[…]} (up to 2000 names a row, in the
 *   registry's order; only names containing TEXT, ignoring case, when
 *   given) as the list has them or as its walk brings them, "progress"
 *   {"names","matched","walking","pages"} → done {"complete","truncated",
 *   "age","total","matched"[,"error"]} → close.
 * (doc/architecture.md, "Registry channels") */
#include "config.h"

#include "ws/channel-registry.h"
#include "ws/registry-api.h"
#include "ws/registry-catalog.h"
#include "ws/registry-output.h"
#include "ws/registry-row.h"
#include "ws/registry-walk.h"
#include "common/rcjson.h"

#include <string.h>

#define NAMES_PER_ROW 2000
#define CONTAINS_MAX 256

typedef struct {
  gint refs;
  RcChannel *channel;       /* NULL once closed */
  RegistryClient *client;
  RegistryOutput *output;
  gchar *registry;
  gchar *contains;          /* casefolded, or NULL */
  gboolean fresh;
  RegistryNameList *list;
  guint follow;
  guint cursor;
  guint matched;
  gboolean pumping;
} Cat;

static Cat *
cat_ref (Cat *c)
{
  c->refs++;
  return c;
}

static void
cat_unref (gpointer data)
{
  Cat *c = data;
  if (--c->refs > 0)
    return;
  if (c->follow)
    registry_catalog_unfollow (c->registry, c->follow);
  registry_name_list_unref (c->list);
  registry_client_unref (c->client);
  registry_output_free (c->output);
  g_free (c->registry);
  g_free (c->contains);
  g_free (c);
}

static gboolean
cat_wants (Cat *c, const gchar *name)
{
  if (!c->contains)
    return TRUE;
  g_autofree gchar *folded = g_utf8_casefold (name, -1);
  return strstr (folded, c->contains) != NULL;
}

static void
cat_finish (Cat *c)
{
  RegistryNameList *list = c->list;
  if (!registry_output_flush (c->output))
    return;
  g_autoptr(JsonObject) done = json_object_new ();
  json_object_set_boolean_member (done, "complete", list->complete);
  json_object_set_boolean_member (done, "truncated", list->truncated);
  json_object_set_int_member (done, "age", (g_get_real_time () - list->finished_at) / G_USEC_PER_SEC);
  json_object_set_int_member (done, "total", list->names->len);
  json_object_set_int_member (done, "matched", c->matched);
  if (list->error)
    json_object_set_string_member (done, "error", list->error);
  channel_send_control (c->channel, "done", done);
  channel_close (c->channel, NULL);
}

static void
cat_progress (Cat *c)
{
  JsonObject *p = json_object_new ();
  json_object_set_int_member (p, "names", c->cursor);
  json_object_set_int_member (p, "matched", c->matched);
  json_object_set_boolean_member (p, "walking", !c->list->finished);
  json_object_set_int_member (p, "pages", c->list->pages);
  registry_output_progress (c->output, p, FALSE);
}

/* Send names from the cursor on, as far as the browser keeps up. */
static void
cat_pump (Cat *c)
{
  if (c->pumping || !c->channel)
    return;
  c->pumping = TRUE;
  cat_ref (c);
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();
  GPtrArray *names = c->list->names;
  while (c->channel && c->cursor < names->len && !channel_is_congested (c->channel))
    {
      g_ptr_array_set_size (batch, 0);
      while (c->cursor < names->len && batch->len < NAMES_PER_ROW)
        {
          const gchar *name = g_ptr_array_index (names, c->cursor++);
          if (cat_wants (c, name))
            g_ptr_array_add (batch, (gpointer) name);
        }
      c->matched += batch->len;
      if (batch->len)
        registry_row_append_names (registry_output_rows (c->output), (const gchar *const *) batch->pdata,
                                   batch->len);
      /* the first names go out at once, the rest in full frames */
      if (!(c->cursor <= NAMES_PER_ROW ? registry_output_flush (c->output) : registry_output_commit (c->output)))
        break;
    }
  if (c->channel)
    {
      cat_progress (c);
      if (c->cursor == names->len && c->list->finished)
        cat_finish (c);
    }
  c->pumping = FALSE;
  cat_unref (c);
}

static void
on_list_grew (RegistryNameList *list, gpointer data)
{
  Cat *c = data;
  if (list->finished)
    c->follow = 0;      /* the catalog forgets its followers then */
  cat_pump (c);
}

static void
on_access (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  Cat *c = data;
  if (!c->channel)
    return;
  if (error || response->status != 200)
    {
      g_autofree gchar *text = error ? g_strdup (error->message) : registry_response_describe (response);
      guint status = error ? 0 : response->status;
      channel_fail (c->channel, status == 401 || status == 403 ? "access-denied" :
                    status == 404 ? "not-found" : "internal-error", "_catalog: %s", text);
      return;
    }
  c->list = registry_catalog_view (c->registry, channel_get_session (c->channel), c->fresh,
                                   on_list_grew, c, &c->follow);
  cat_pump (c);
}

static gboolean
cat_open (RcChannel *channel, JsonObject *options)
{
  const gchar *contains = NULL;
  gboolean fresh = FALSE;
  if (!rc_json_get_string (options, "contains", NULL, &contains) ||
      !rc_json_get_bool (options, "fresh", FALSE, &fresh) ||
      (contains && strlen (contains) > CONTAINS_MAX))
    {
      channel_fail (channel, "protocol-error", "registry-catalog takes \"contains\" (a string of at most "
                    "256 bytes) and \"fresh\" (a boolean)");
      return FALSE;
    }
  RegistryClient *client = channel_registry_open_client (channel, FALSE);
  if (!client)
    return FALSE;
  Cat *c = g_new0 (Cat, 1);
  c->refs = 1;
  c->channel = channel;
  c->client = client;
  c->output = registry_output_new (channel);
  c->registry = g_strdup (registry_client_get_registry (client));
  c->contains = contains && contains[0] ? g_utf8_casefold (contains, -1) : NULL;
  c->fresh = fresh;
  channel_set_data (channel, c, cat_unref);
  channel_ready (channel, NULL);
  /* this user's own access, before anything kept is shown */
  g_autofree gchar *path = registry_path_catalog (1);
  registry_client_request (client, "GET", path, "application/json", 64 * 1024, TRUE, on_access,
                           cat_ref (c), cat_unref);
  return TRUE;
}

static void
cat_closed (RcChannel *channel)
{
  Cat *c = channel_get_data (channel);
  if (!c)
    return;
  c->channel = NULL;
  if (c->follow)
    registry_catalog_unfollow (c->registry, c->follow);
  c->follow = 0;
  registry_output_detach (c->output);
  channel_registry_release (c->client);
}

static void
cat_resume (RcChannel *channel)
{
  Cat *c = channel_get_data (channel);
  if (c && c->list)
    cat_pump (c);
}

static const ChannelType registry_catalog_type = {
  .payload = "registry-catalog",
  .open = cat_open,
  .closed = cat_closed,
  .resume = cat_resume,
};

void
channel_registry_catalog_register (void)
{
  registry_catalog_configure (channel_registry_config ()->catalog_size,
                              channel_registry_config ()->catalog_max_age);
  channel_register_type (&registry_catalog_type);
}
