/* rcconfig.c: environment (OpenShift template names) and cockpit.conf. */
#include "config.h"

#include "common/rcconfig.h"
#include "common/rcutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (config-error-quark, config_error)

Config *
config_new_defaults (void)
{
  Config *cfg = g_new0 (Config, 1);
  cfg->port = 9090;
  cfg->cert_dir = g_strdup (CERT_DIR_DEFAULT);
  cfg->static_dir = g_strdup (STATIC_DIR_DEFAULT);
  cfg->idle_timeout = 15;
  cfg->session_lifetime = 12 * 60;
  cfg->max_startups = 200;
  cfg->max_channels_per_socket = 128;
  cfg->max_sockets_per_user = 16;
  cfg->socket_buffer_limit = 8 << 20;
  cfg->user_buffer_limit = 32 << 20;
  cfg->socket_write_timeout = 30;
  cfg->max_upstream_connections = 64;
  cfg->max_upstream_per_host = 32;
  cfg->max_upstream_per_user = 12;
  cfg->registry_concurrency = 8;
  cfg->registry_cache_size = 32 << 20;
  cfg->registry_tag_memo_time = 120;
  cfg->registry_catalog_max_age = 300;
  cfg->registry_catalog_size = 16 << 20;
  cfg->upstream_timeout = 120;
  cfg->max_watches_per_user = 32;
  cfg->max_logins = 64;
  cfg->max_logins_per_address = 8;
  cfg->url_root = g_strdup ("");
  cfg->oauth_client_id = g_strdup ("cockpit-oauth-client");
  cfg->service_account_dir = g_strdup ("/var/run/secrets/kubernetes.io/serviceaccount");
  return cfg;
}

void
config_free (Config *cfg)
{
  if (!cfg)
    return;
  g_free (cfg->address);
  g_free (cfg->cert_dir);
  g_free (cfg->static_dir);
  g_free (cfg->session_key_file);
  g_strfreev (cfg->origins);
  g_free (cfg->login_title);
  g_free (cfg->url_root);
  g_free (cfg->oauth_provider_url);
  g_free (cfg->oauth_client_id);
  g_free (cfg->kube_url);
  g_free (cfg->master_url);
  g_free (cfg->master_ca_file);
  g_free (cfg->master_ca_data);
  g_free (cfg->service_account_dir);
  g_free (cfg->registry_host);
  g_free (cfg->registry_url);
  g_free (cfg->registry_ca_file);
  g_free (cfg);
}

static gboolean
parse_bool (const gchar *name, const gchar *value, gboolean *out, GError **error)
{
  if (g_ascii_strcasecmp (value, "true") == 0 || g_str_equal (value, "1") ||
      g_ascii_strcasecmp (value, "yes") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0 || g_str_equal (value, "0") ||
           g_ascii_strcasecmp (value, "no") == 0 || value[0] == '\0')
    *out = FALSE;
  else
    {
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
                   "%s: \"%s\" is not a boolean (true or false)", name, value);
      return FALSE;
    }
  return TRUE;
}

/* An absolute http(s) URL without fragment; returned without trailing '/'. */
static gboolean
parse_url (const gchar *name, const gchar *value, gchar **out, GError **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local = NULL;

  uri = g_uri_parse (value, G_URI_FLAGS_NONE, &local);
  if (!uri)
    {
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s: \"%s\" is not a URL: %s",
                   name, value, local->message);
      return FALSE;
    }
  if (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "http") != 0)
    {
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s: \"%s\" is not an http or https URL",
                   name, value);
      return FALSE;
    }
  if (!g_uri_get_host (uri) || !g_uri_get_host (uri)[0])
    {
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s: \"%s\" has no host", name, value);
      return FALSE;
    }
  g_free (*out);
  *out = rc_strip_trailing_slashes (g_strdup (value));
  return TRUE;
}

static gboolean
parse_uint (const gchar *name, const gchar *value, guint max, guint *out, GError **error)
{
  guint64 v;
  g_autoptr(GError) local = NULL;
  if (!g_ascii_string_to_unsigned (value, 10, 0, max, &v, &local))
    {
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s: \"%s\" is not a number from 0 to %u",
                   name, value, max);
      return FALSE;
    }
  *out = (guint) v;
  return TRUE;
}

gboolean
config_load_env (Config *cfg, GError **error)
{
  const gchar *v;

  if ((v = g_getenv ("COCKPIT_KUBE_INSECURE")) &&
      !parse_bool ("COCKPIT_KUBE_INSECURE", v, &cfg->no_tls, error))
    return FALSE;
  if ((v = g_getenv ("OPENSHIFT_OAUTH_PROVIDER_URL")) && v[0] &&
      !parse_url ("OPENSHIFT_OAUTH_PROVIDER_URL", v, &cfg->oauth_provider_url, error))
    return FALSE;
  if ((v = g_getenv ("OPENSHIFT_OAUTH_CLIENT_ID")) && v[0])
    {
      g_free (cfg->oauth_client_id);
      cfg->oauth_client_id = g_strdup (v);
    }
  if ((v = g_getenv ("COCKPIT_KUBE_URL")) && v[0] &&
      !parse_url ("COCKPIT_KUBE_URL", v, &cfg->kube_url, error))
    return FALSE;

  if (!cfg->master_url)
    {
      const gchar *host = g_getenv ("KUBERNETES_SERVICE_HOST");
      const gchar *port = g_getenv ("KUBERNETES_SERVICE_PORT");
      if (host && host[0])
        {
          guint p = 443;
          if (port && port[0] && !parse_uint ("KUBERNETES_SERVICE_PORT", port, 65535, &p, error))
            return FALSE;
          if (strchr (host, ':'))
            cfg->master_url = g_strdup_printf ("https://[%s]:%u", host, p);
          else
            cfg->master_url = g_strdup_printf ("https://%s:%u", host, p);
        }
    }
  if ((v = g_getenv ("KUBERNETES_INSECURE")) &&
      !parse_bool ("KUBERNETES_INSECURE", v, &cfg->master_insecure, error))
    return FALSE;
  if ((v = g_getenv ("KUBERNETES_CA_DATA")) && v[0])
    {
      g_free (cfg->master_ca_data);
      cfg->master_ca_data = g_strdup (v);
    }
  if (cfg->service_account_dir)
    {
      g_autofree gchar *ca = g_build_filename (cfg->service_account_dir, "ca.crt", NULL);
      if (!cfg->master_ca_file && g_file_test (ca, G_FILE_TEST_IS_REGULAR))
        cfg->master_ca_file = g_steal_pointer (&ca);
    }
  /* The template sets REGISTRY_ONLY=true: in Cockpit it hid the host pages.
   * This console has registry pages only, so it is checked and needs no
   * other effect. */
  gboolean registry_only;
  if ((v = g_getenv ("REGISTRY_ONLY")) && !parse_bool ("REGISTRY_ONLY", v, &registry_only, error))
    return FALSE;
  if ((v = g_getenv ("REGISTRY_HOST")) && v[0])
    {
      if (strpbrk (v, "/ \t\"'<>"))
        {
          g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
                       "REGISTRY_HOST: \"%s\" must be host[:port], without scheme or path", v);
          return FALSE;
        }
      g_free (cfg->registry_host);
      cfg->registry_host = g_strdup (v);
    }
  if ((v = g_getenv ("REGISTRY_URL")) && v[0] && !parse_url ("REGISTRY_URL", v, &cfg->registry_url, error))
    return FALSE;
  if ((v = g_getenv ("REGISTRY_INSECURE")) && !parse_bool ("REGISTRY_INSECURE", v, &cfg->registry_insecure, error))
    return FALSE;
  if ((v = g_getenv ("SESSION_KEY_FILE")) && v[0] && !cfg->session_key_file)
    cfg->session_key_file = g_strdup (v);
  return TRUE;
}

/* A size: a number of bytes with an optional K, M or G (KiB, MiB, GiB) */
static gboolean
parse_size (const gchar *name, const gchar *value, gsize *out, GError **error)
{
  gchar *end = NULL;
  guint64 n = g_ascii_strtoull (value, &end, 10);
  guint64 unit = 1;
  if (end == value)
    goto bad;
  while (*end == ' ')
    end++;
  if (g_ascii_strncasecmp (end, "K", 1) == 0)
    unit = 1024;
  else if (g_ascii_strncasecmp (end, "M", 1) == 0)
    unit = 1024 * 1024;
  else if (g_ascii_strncasecmp (end, "G", 1) == 0)
    unit = 1024 * 1024 * 1024;
  else if (*end)
    goto bad;
  if (*end && end[1] && g_ascii_strcasecmp (end + 1, "iB") != 0 && g_ascii_strcasecmp (end + 1, "B") != 0)
    goto bad;
  if (n > G_MAXSIZE / unit / 2)
    goto bad;
  *out = n * unit;
  return TRUE;
bad:
  g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
               "%s: \"%s\" is not a size (bytes, or a number with K, M or G)", name, value);
  return FALSE;
}

static gboolean
load_origins (Config *cfg, const gchar *name, gchar *value, GError **error)
{
  g_auto(GStrv) parts = g_strsplit_set (g_strstrip (value), " \t", -1);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; parts[i]; i++)
    {
      g_autofree gchar *url = NULL;
      if (!parts[i][0])
        continue;
      if (!parse_url (name, parts[i], &url, error))
        return FALSE;
      g_ptr_array_add (out, g_steal_pointer (&url));
    }
  g_ptr_array_add (out, NULL);
  g_strfreev (cfg->origins);
  cfg->origins = (gchar **) g_ptr_array_steal (out, NULL);
  return TRUE;
}

static gboolean
load_max_startups (Config *cfg, const gchar *name, gchar *value, GError **error)
{
  /* Cockpit's form is "10" or "start:rate:full"; take the full count */
  gchar *colon = strrchr (g_strstrip (value), ':');
  if (!parse_uint (name, colon ? colon + 1 : value, 1000000, &cfg->max_startups, error))
    return FALSE;
  if (cfg->max_startups == 0)
    {
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s must be at least 1", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_url_root (Config *cfg, const gchar *name, gchar *value, GError **error)
{
  gchar *root = g_strstrip (value);
  if (root[0] && (root[0] != '/' || strstr (root, "..") || strpbrk (root, "?#%\\ \"'<>")))
    {
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
                   "%s: \"%s\" must be an absolute path like /registry", name, root);
      return FALSE;
    }
  rc_strip_trailing_slashes (root);
  g_free (cfg->url_root);
  cfg->url_root = g_strdup (root);
  return TRUE;
}

/* The numeric keys of [WebService]: name, where, largest value. */
static const struct {
  const gchar *key;
  gsize offset;
  guint max;
} number_keys[] = {
  { "IdleTimeout", G_STRUCT_OFFSET (Config, idle_timeout), 60 * 24 * 365 },
  { "SessionLifetime", G_STRUCT_OFFSET (Config, session_lifetime), 60 * 24 * 365 },
  { "MaxChannelsPerSocket", G_STRUCT_OFFSET (Config, max_channels_per_socket), 100000 },
  { "MaxSocketsPerUser", G_STRUCT_OFFSET (Config, max_sockets_per_user), 100000 },
  { "SocketWriteTimeout", G_STRUCT_OFFSET (Config, socket_write_timeout), 86400 },
  { "MaxUpstreamConnections", G_STRUCT_OFFSET (Config, max_upstream_connections), 100000 },
  { "MaxUpstreamConnectionsPerHost", G_STRUCT_OFFSET (Config, max_upstream_per_host), 100000 },
  { "MaxUpstreamPerUser", G_STRUCT_OFFSET (Config, max_upstream_per_user), 100000 },
  { "UpstreamTimeout", G_STRUCT_OFFSET (Config, upstream_timeout), 86400 },
  { "MaxWatchesPerUser", G_STRUCT_OFFSET (Config, max_watches_per_user), 100000 },
  { "MaxLogins", G_STRUCT_OFFSET (Config, max_logins), 100000 },
  { "MaxLoginsPerAddress", G_STRUCT_OFFSET (Config, max_logins_per_address), 100000 },
  { "RegistryConcurrency", G_STRUCT_OFFSET (Config, registry_concurrency), 1000 },
  { "RegistryTagMemoTime", G_STRUCT_OFFSET (Config, registry_tag_memo_time), 86400 },
  { "RegistryCatalogMaxAge", G_STRUCT_OFFSET (Config, registry_catalog_max_age), 86400 * 30 },
};

static const struct {
  const gchar *key;
  gsize offset;
} size_keys[] = {
  { "SocketBufferLimit", G_STRUCT_OFFSET (Config, socket_buffer_limit) },
  { "UserBufferLimit", G_STRUCT_OFFSET (Config, user_buffer_limit) },
  { "RegistryCacheSize", G_STRUCT_OFFSET (Config, registry_cache_size) },
  { "RegistryCatalogSize", G_STRUCT_OFFSET (Config, registry_catalog_size) },
};

static gboolean
load_numbers (Config *cfg, GKeyFile *kf, const gchar *path, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (number_keys); i++)
    {
      g_autofree gchar *v = g_key_file_get_string (kf, "WebService", number_keys[i].key, NULL);
      g_autofree gchar *name = g_strdup_printf ("%s: [WebService] %s", path, number_keys[i].key);
      if (v && !parse_uint (name, g_strstrip (v), number_keys[i].max,
                            G_STRUCT_MEMBER_P (cfg, number_keys[i].offset), error))
        return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (size_keys); i++)
    {
      g_autofree gchar *v = g_key_file_get_string (kf, "WebService", size_keys[i].key, NULL);
      g_autofree gchar *name = g_strdup_printf ("%s: [WebService] %s", path, size_keys[i].key);
      if (v && !parse_size (name, g_strstrip (v), G_STRUCT_MEMBER_P (cfg, size_keys[i].offset), error))
        return FALSE;
    }
  return TRUE;
}

gboolean
config_load_file (Config *cfg, const gchar *path, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  static const struct {
    const gchar *key;
    gboolean (*load) (Config *cfg, const gchar *name, gchar *value, GError **error);
  } string_keys[] = {
    { "Origins", load_origins },
    { "MaxStartups", load_max_startups },
    { "UrlRoot", load_url_root },
  };

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, CONFIG_ERROR, CONFIG_ERROR_INVALID, "%s: %s", path, local->message);
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (string_keys); i++)
    {
      g_autofree gchar *v = g_key_file_get_string (kf, "WebService", string_keys[i].key, NULL);
      g_autofree gchar *name = g_strdup_printf ("%s: [WebService] %s", path, string_keys[i].key);
      if (v && !string_keys[i].load (cfg, name, v, error))
        return FALSE;
    }
  g_autofree gchar *title = g_key_file_get_string (kf, "WebService", "LoginTitle", NULL);
  if (title)
    {
      g_free (cfg->login_title);
      cfg->login_title = g_strdup (g_strstrip (title));
    }
  return load_numbers (cfg, kf, path, error);
}
