/* rcconfig.h: the console's configuration: the environment (names from the
 * OpenShift 3 registry-console template) and cockpit.conf [WebService].
 * Every bad value is an error naming the key and the reason
 * (doc/architecture.md, "Configuration"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CONFIG_ERROR (config_error_quark ())
GQuark config_error_quark (void);
typedef enum { CONFIG_ERROR_INVALID } ConfigError;

typedef struct {
  /* listener (command line, env) */
  gchar *address;             /* NULL: all */
  guint16 port;               /* 9090 */
  gboolean no_tls;            /* --no-tls or COCKPIT_KUBE_INSECURE=true */
  gchar *cert_dir;            /* --cert-dir, default CERT_DIR_DEFAULT */
  gchar *static_dir;          /* --static-dir, default STATIC_DIR_DEFAULT */
  gchar *session_key_file;    /* --session-key-file */

  /* cockpit.conf [WebService] */
  gchar **origins;            /* Origins (space separated), may be NULL */
  gchar *login_title;         /* LoginTitle */
  guint idle_timeout;         /* IdleTimeout in minutes, default 15; 0 disables */
  guint max_startups;         /* MaxStartups: concurrent unauthenticated connections, default 10 (Cockpit) → we use 200 */
  gchar *url_root;            /* UrlRoot, "" or "/prefix" (no trailing slash) */
  guint session_lifetime;     /* SessionLifetime in minutes after login, default 720; 0: none */

  /* cockpit.conf [WebService]: what one user can make the server hold
   * (doc/architecture.md, "Limits"; defaults fit a 256 Mi pod) */
  guint max_channels_per_socket;  /* MaxChannelsPerSocket, 128 */
  guint max_sockets_per_user;     /* MaxSocketsPerUser, 16 */
  gsize socket_buffer_limit;      /* SocketBufferLimit, 8M */
  gsize user_buffer_limit;        /* UserBufferLimit, 32M */
  guint socket_write_timeout;     /* SocketWriteTimeout s, 30 */
  guint max_upstream_connections; /* MaxUpstreamConnections, 64 */
  guint max_upstream_per_host;    /* MaxUpstreamConnectionsPerHost, 32 */
  guint max_upstream_per_user;    /* MaxUpstreamPerUser requests at once, 12 */
  guint upstream_timeout;         /* UpstreamTimeout s (watches excepted), 120 */
  guint max_watches_per_user;     /* MaxWatchesPerUser, 32 */
  guint max_logins;               /* MaxLogins checked at once, 64 */
  guint max_logins_per_address;   /* MaxLoginsPerAddress checked at once, 8 */

  /* cockpit.conf [WebService]: the registry channels (doc/architecture.md,
   * "Registry channels") */
  guint registry_concurrency;     /* RegistryConcurrency: requests at once per channel, 8 */
  gsize registry_cache_size;      /* RegistryCacheSize: shared cache of manifests and configs, 32M */
  guint registry_tag_memo_time;   /* RegistryTagMemoTime s: one user's tag → digest reused, 120 */
  guint registry_catalog_max_age; /* RegistryCatalogMaxAge s: kept catalog walked again after, 300 */
  gsize registry_catalog_size;    /* RegistryCatalogSize: names kept per registry, 16M */

  /* OpenShift / registry (env) */
  gchar *oauth_provider_url;  /* OPENSHIFT_OAUTH_PROVIDER_URL */
  gchar *oauth_client_id;     /* OPENSHIFT_OAUTH_CLIENT_ID, default cockpit-oauth-client */
  gchar *kube_url;            /* COCKPIT_KUBE_URL: the console's own public URL */
  gchar *master_url;          /* --master or https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT */
  gboolean master_insecure;   /* KUBERNETES_INSECURE=true */
  gchar *master_ca_file;      /* service-account ca.crt when present */
  gchar *master_ca_data;      /* KUBERNETES_CA_DATA (PEM) */
  gchar *service_account_dir; /* /var/run/secrets/kubernetes.io/serviceaccount */
  gchar *registry_host;       /* REGISTRY_HOST (for pull/push/login commands) */
  gchar *registry_url;        /* REGISTRY_URL (plain Distribution v2 backend) */
  gchar *registry_ca_file;    /* --registry-ca FILE */
  gboolean registry_insecure; /* REGISTRY_INSECURE=true */
} Config;

Config *config_new_defaults (void);
/* Read the environment (names above) into cfg. */
gboolean config_load_env (Config *cfg, GError **error);
/* Read FILE's [WebService] group; a missing file is fine, a bad value is an
 * error naming the key and the reason. */
gboolean config_load_file (Config *cfg, const gchar *path, GError **error);
void config_free (Config *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Config, config_free)

G_END_DECLS
