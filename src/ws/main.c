/* main.c: registry-console: options, configuration and wiring. */
#include "config.h"

#include "common/rcconfig.h"
#include "ws/auth.h"
#include "common/certificate.h"
#include "ws/http.h"
#include "ws/server.h"
#include "ws/socket.h"
#include "ws/tls.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <gnutls/gnutls.h>
#include <curl/curl.h>

static GMainLoop *loop;
static gchar *cert_dir;
static gint exit_status;

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

int
main (int argc, char *argv[])
{
  g_autoptr(Config) cfg = config_new_defaults ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  gint port = -1;
  gboolean no_tls = FALSE, version = FALSE;
  g_autofree gchar *address = NULL, *opt_cert_dir = NULL, *static_dir = NULL;
  g_autofree gchar *config_file = NULL, *session_key_file = NULL, *master = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("Port to listen on (default 9090)"), N_("PORT") },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, N_("Address to listen on (default all)"), N_("ADDRESS") },
    { "no-tls", 0, 0, G_OPTION_ARG_NONE, &no_tls, N_("Serve plain HTTP, behind a TLS proxy"), NULL },
    { "cert-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_cert_dir, N_("Certificate directory"), N_("DIR") },
    { "static-dir", 0, 0, G_OPTION_ARG_FILENAME, &static_dir, N_("Directory of the web UI"), N_("DIR") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_file, N_("cockpit.conf to read"), N_("FILE") },
    { "session-key-file", 0, 0, G_OPTION_ARG_FILENAME, &session_key_file, N_("Key sealing session cookies"), N_("FILE") },
    { "master", 0, 0, G_OPTION_ARG_STRING, &master, N_("OpenShift master API URL"), N_("URL") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the version"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("registry-console");

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

  if (master)
    cfg->master_url = g_strdup (master);
  if (!config_load_env (cfg, &error) ||
      !config_load_file (cfg, config_file ? config_file : CONF_DIR_DEFAULT "/cockpit.conf", &error))
    {
      g_printerr ("registry-console: %s\n", error->message);
      return 1;
    }
  if (port >= 0)
    {
      if (port > 65535)
        {
          g_printerr ("registry-console: --port %d is not a port number\n", port);
          return 2;
        }
      cfg->port = port;
    }
  if (no_tls)
    cfg->no_tls = TRUE;
  if (address)
    cfg->address = g_strdup (address);
  if (opt_cert_dir)
    {
      g_free (cfg->cert_dir);
      cfg->cert_dir = g_strdup (opt_cert_dir);
    }
  if (static_dir)
    {
      g_free (cfg->static_dir);
      cfg->static_dir = g_strdup (static_dir);
    }
  if (session_key_file)
    {
      g_free (cfg->session_key_file);
      cfg->session_key_file = g_strdup (session_key_file);
    }
  cert_dir = g_strdup (cfg->cert_dir);

  gnutls_global_init ();
  curl_global_init (CURL_GLOBAL_DEFAULT);
  loop = g_main_loop_new (NULL, FALSE);

  if (!cfg->no_tls && !tls_load_credentials (cfg->cert_dir, &error))
    {
      g_printerr ("registry-console: %s\n", error->message);
      return 1;
    }
  if (!http_init (cfg, &error))
    {
      g_printerr ("registry-console: %s\n", error->message);
      return 1;
    }
  socket_init ();
  {
    /* the console's own public URL (its route) is always an allowed origin */
    g_autoptr(GPtrArray) origins = g_ptr_array_new ();
    if (cfg->kube_url)
      g_ptr_array_add (origins, cfg->kube_url);
    for (guint i = 0; cfg->origins && cfg->origins[i]; i++)
      g_ptr_array_add (origins, cfg->origins[i]);
    g_ptr_array_add (origins, NULL);
    socket_configure ((const gchar *const *) origins->pdata, !cfg->no_tls);
  }

  /* login routes, sessions, the http-stream2 channel */
  if (!auth_init (cfg, &error))
    {
      g_printerr ("registry-console: %s\n", error->message);
      return 1;
    }

  if (!server_start (cfg, &error))
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
  http_shutdown ();
  g_main_loop_unref (loop);
  g_free (cert_dir);
  curl_global_cleanup ();
  gnutls_global_deinit ();
  g_message ("stopped");
  return exit_status;
}
