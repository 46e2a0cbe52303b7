/* channel-registry-common.c: what the registry channels share; see
 * channel-registry.h. */
#include "config.h"

#include "ws/channel-registry.h"
#include "ws/registry-cache.h"
#include "ws/registry-client.h"
#include "ws/registry-credential.h"
#include "ws/registry-walk.h"
#include "ws/upstream.h"

#include <malloc.h>

#define TRIM_DELAY_MS 1000

static RegistryChannelConfig settings = REGISTRY_CHANNEL_CONFIG_DEFAULT;
static GHashTable *walks;         /* user key → open registry channels */
static guint walks_open;
static guint trim_timer;

const RegistryChannelConfig *
channel_registry_config (void)
{
  return &settings;
}

void
channel_registry_register (const RegistryChannelConfig *config)
{
  settings = *config;
  settings.concurrency = MAX (settings.concurrency, 1);
  registry_cache_set_budget (settings.cache_size);
  channel_registry_tags_register ();
  channel_registry_catalog_register ();
  channel_registry_search_register ();
  channel_registry_summary_register ();
  channel_openshift_images_register ();
}

static gboolean
budget_reserve (gpointer data, gsize len)
{
  return channel_reserve (data, len);
}

static void
budget_release (gpointer data, gsize len)
{
  channel_release (data, len);
}

RegistryClient *
channel_registry_open_client (RcChannel *channel, gboolean master)
{
  RcSession *session = channel_get_session (channel);
  if (!session)
    {
      channel_fail (channel, "authentication-failed", "not logged in");
      return NULL;
    }
  if (!upstream_get_base_url (master ? UPSTREAM_MASTER : UPSTREAM_REGISTRY))
    {
      channel_fail (channel, "not-found", "no %s is configured", master ? "master" : "registry");
      return NULL;
    }
  if (master && !g_str_equal (session_get_backend (session), "master"))
    {
      channel_fail (channel, "access-denied", "this session has no master credential");
      return NULL;
    }
  /* counted per user, not per login (session_get_owner_key) */
  g_autofree gchar *key = session_get_owner_key (session);
  if (!walks)
    walks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (walks, key));
  if (n >= REGISTRY_WALKS_PER_USER)
    {
      channel_fail (channel, "too-many", "this user has %u registry walks open already", n);
      return NULL;
    }
  g_hash_table_insert (walks, g_strdup (key), GUINT_TO_POINTER (n + 1));
  walks_open++;
  RegistryClient *client = master ? registry_client_new_for_master (session, settings.concurrency)
                                  : registry_client_new_for_session (session, settings.concurrency);
  RegistryBudget budget = { budget_reserve, budget_release, channel };
  registry_client_set_budget (client, &budget);
  registry_client_set_timeout (client, settings.timeout);
  return client;
}

void
channel_registry_release (RegistryClient *client)
{
  if (!client)
    return;
  registry_client_cancel (client);
  registry_client_set_budget (client, NULL);
  const gchar *key = registry_client_get_owner (client);
  guint n = walks ? GPOINTER_TO_UINT (g_hash_table_lookup (walks, key)) : 0;
  if (n <= 1)
    g_hash_table_remove (walks, key);
  else
    g_hash_table_insert (walks, g_strdup (key), GUINT_TO_POINTER (n - 1));
  if (walks_open)
    walks_open--;
  channel_registry_schedule_trim ();
}

const gchar *
channel_registry_problem (const GError *error)
{
  if (error->domain == REGISTRY_WALK_ERROR)
    {
      switch (error->code)
        {
        case REGISTRY_WALK_ERROR_ACCESS_DENIED:
          return "access-denied";
        case REGISTRY_WALK_ERROR_NOT_FOUND:
          return "not-found";
        default:
          return "internal-error";
        }
    }
  if (g_error_matches (error, REGISTRY_CLIENT_ERROR, REGISTRY_CLIENT_ERROR_TOO_LARGE))
    return "too-large";
  if (g_error_matches (error, REGISTRY_CLIENT_ERROR, REGISTRY_CLIENT_ERROR_NO_REGISTRY))
    return "not-found";
  return "internal-error";
}

static gboolean
on_trim (gpointer data)
{
  trim_timer = 0;
  if (walks_open == 0)
    {
      RegistryCacheStats stats;
      registry_cache_get_stats (&stats);
      malloc_trim (0);
      g_debug ("registry: walks over, memory trimmed (cache %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
               " bytes, %u entries)", stats.bytes, stats.budget, stats.entries);
    }
  return G_SOURCE_REMOVE;
}

void
channel_registry_schedule_trim (void)
{
  if (!trim_timer)
    trim_timer = g_timeout_add (TRIM_DELAY_MS, on_trim, NULL);
}
