/* main.c: registry-console: options, configuration and wiring. Every
 * module is started from here, in dependency order: TLS credentials, the
 * HTTP layer with the protocol list built here, the channel types, the
 * upstream client, then authentication and the socket's session hook, and
 * last the listener. (doc/architecture.md, "Modules") */
#include "config.h"

#include "common/rcconfig.h"
#include "ws/auth.h"
#include "ws/channel-http-stream2.h"
#include "ws/channel-registry-access.h"
#include "ws/channel-registry.h"
#include "ws/http.h"
#include "ws/server.h"
#include "ws/socket.h"
#include "ws/tls.h"
#include "ws/upstream.h"

#include <locale.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <gnutls/gnutls.h>

static GMainLoop *loop;
static gchar *cert_dir;

/* The vhost's protocols: plain HTTP first, then the WebSocket protocol of
 * /cockpit/socket; lws keeps a pointer to this array. */
static struct lws_protocols protocols[3];

static gboolean
on_quit (gpointer unused)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sigterm (gpointer data)
{
  g_message ("stopping (%s)", (const gchar *) data);
  server_stop ();
  socket_close_all (1001);
  /* let the close frames go out, then quit */
  g_timeout_add (200, on_quit, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sighup (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_message ("SIGHUP: reloading the certificate");
  if (!tls_load_credentials (cert_dir, &error))
    g_warning ("certificate not reloaded, keeping the old one: %s", error->message);
  return G_SOURCE_CONTINUE;
}

/* Each TLS connection takes three descriptors: raise the soft limit (often
 * 1024) towards the hard one, up to 65536 (libwebsockets sizes its tables
 * by the limit). */
static void
raise_descriptor_limit (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rlim_t want = MIN (rl.rlim_max, (rlim_t) 65536);   /* lws sizes tables by it */
      if (want > rl.rlim_cur)
        {
          rl.rlim_cur = want;
          if (setrlimit (RLIMIT_NOFILE, &rl) == 0)
            g_debug ("file descriptor limit raised to %lu", (unsigned long) want);
        }
    }
}

static gboolean
start (const Config *cfg, GError **error)
{
  raise_descriptor_limit ();
  if (!cfg->no_tls && !tls_load_credentials (cfg->cert_dir, error))
    return FALSE;

  protocols[0] = http_lws_protocol;
  protocols[1] = socket_lws_protocol;
  if (!http_init (cfg, protocols, error))
    return FALSE;

  SocketLimits limits = {
    .max_channels = cfg->max_channels_per_socket,
    .max_sockets_per_user = cfg->max_sockets_per_user,
    .socket_buffer = cfg->socket_buffer_limit,
    .user_buffer = cfg->user_buffer_limit,
    .write_timeout = cfg->socket_write_timeout,
  };
  socket_set_limits (&limits);
  channel_echo_register ();
  channel_null_register ();
  channel_http_stream2_register (cfg->upstream_timeout, cfg->max_watches_per_user);
  channel_registry_access_register ();
  RegistryChannelConfig registry = {
    .concurrency = cfg->registry_concurrency,
    .cache_size = cfg->registry_cache_size,
    .tag_memo_time = cfg->registry_tag_memo_time,
    .catalog_max_age = cfg->registry_catalog_max_age,
    .catalog_size = cfg->registry_catalog_size,
    .timeout = cfg->upstream_timeout,
  };
  channel_registry_register (&registry);

  if (!upstream_init (cfg, error) || !auth_init (cfg, error))
    return FALSE;
  socket_set_session_func (auth_session_for_cookie);

  return server_start (cfg, error);
}

/* Replace a configured string with a command-line one (transfer full). */
static void
override (gchar **field, gchar *value)
{
  if (value)
    {
      g_free (*field);
      *field = value;
    }
}

/* The command line over the environment and cockpit.conf, into CFG.
 * Returns -1 to go on, or the exit status (0 after --version). */
static int
configure (Config *cfg, int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  gint port = -1;
  gboolean no_tls = FALSE, version = FALSE;
  g_autofree gchar *address = NULL, *cert_dir_opt = NULL, *static_dir = NULL;
  g_autofree gchar *session_key_file = NULL, *master = NULL;
  g_autofree gchar *config_file = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("Port to listen on (default 9090)"), N_("PORT") },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, N_("Address to listen on (default all)"), N_("ADDRESS") },
    { "no-tls", 0, 0, G_OPTION_ARG_NONE, &no_tls, N_("Serve plain HTTP, behind a TLS proxy"), NULL },
    { "cert-dir", 0, 0, G_OPTION_ARG_FILENAME, &cert_dir_opt, N_("Certificate directory"), N_("DIR") },
    { "static-dir", 0, 0, G_OPTION_ARG_FILENAME, &static_dir, N_("Directory of the web UI"), N_("DIR") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_file, N_("cockpit.conf to read"), N_("FILE") },
    { "session-key-file", 0, 0, G_OPTION_ARG_FILENAME, &session_key_file, N_("Key sealing session cookies"), N_("FILE") },
    { "master", 0, 0, G_OPTION_ARG_STRING, &master, N_("OpenShift master API URL"), N_("URL") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the version"), NULL },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _("Web console for container image registries."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("registry-console: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("registry-console %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      g_printerr ("registry-console: unexpected argument: %s\n", argv[1]);
      return 2;
    }
  if (port > 65535)
    {
      g_printerr ("registry-console: --port %d is not a port number\n", port);
      return 2;
    }

  override (&cfg->master_url, g_steal_pointer (&master));
  if (!config_load_env (cfg, &error) ||
      !config_load_file (cfg, config_file ? config_file : CONF_DIR_DEFAULT "/cockpit.conf", &error))
    {
      g_printerr ("registry-console: %s\n", error->message);
      return 1;
    }
  if (port >= 0)
    cfg->port = port;
  if (no_tls)
    cfg->no_tls = TRUE;
  override (&cfg->address, g_steal_pointer (&address));
  override (&cfg->cert_dir, g_steal_pointer (&cert_dir_opt));
  override (&cfg->static_dir, g_steal_pointer (&static_dir));
  override (&cfg->session_key_file, g_steal_pointer (&session_key_file));
  return -1;
}

int
main (int argc, char *argv[])
{
  g_autoptr(Config) cfg = config_new_defaults ();
  g_autoptr(GError) error = NULL;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("registry-console");

  status = configure (cfg, argc, argv);
  if (status >= 0)
    return status;
  cert_dir = g_strdup (cfg->cert_dir);

  gnutls_global_init ();
  loop = g_main_loop_new (NULL, FALSE);

  if (!start (cfg, &error))
    {
      g_printerr ("registry-console: %s\n", error->message);
      return 1;
    }

  g_unix_signal_add_full (G_PRIORITY_DEFAULT, SIGTERM, on_sigterm, "SIGTERM", NULL);
  g_unix_signal_add_full (G_PRIORITY_DEFAULT, SIGINT, on_sigterm, "SIGINT", NULL);
  if (!cfg->no_tls)
    g_unix_signal_add (SIGHUP, on_sighup, NULL);

  g_main_loop_run (loop);

  auth_shutdown ();
  upstream_shutdown ();
  http_shutdown ();
  g_main_loop_unref (loop);
  g_free (cert_dir);
  gnutls_global_deinit ();
  g_message ("stopped");
  return 0;
}
