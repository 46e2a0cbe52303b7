/* remotectl: the helper's main. Only the "certificate" command
 * (doc/architecture.md, "Certificates"):
 *   remotectl certificate [--cert-dir DIR] [--ensure [--rsa]] [--user U] [--group G] [FILE…]
 * Exit status: 0 success, 1 failure, 2 usage error. */
#include "config.h"

#include "common/certificate.h"

#include <glib/gi18n.h>

#include <errno.h>
#include <grp.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static const gchar *prog = "remotectl";

/* Warnings (an expired certificate) as one plain line, like our errors. */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      for (gsize i = 0; i < n_fields; i++)
        {
          if (g_str_equal (fields[i].key, "MESSAGE"))
            {
              g_printerr ("%s: %s\n", prog, (const gchar *) fields[i].value);
              return G_LOG_WRITER_HANDLED;
            }
        }
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
print_usage (FILE *out)
{
  fprintf (out, "%s", _("Usage:\n"
                        "  remotectl COMMAND [OPTION…]\n"
                        "  remotectl --help | --version\n"
                        "\n"
                        "Commands:\n"
                        "  certificate   Print, create or combine the web server's TLS certificate\n"
                        "\n"
                        "Run \"remotectl certificate --help\" for the command's options.\n"));
}

static gboolean
lookup_user (const gchar *name, uid_t *uid, GError **error)
{
  struct passwd *pw;
  gchar *end = NULL;
  guint64 n;

  errno = 0;
  pw = getpwnam (name);
  if (pw)
    {
      *uid = pw->pw_uid;
      return TRUE;
    }
  n = g_ascii_strtoull (name, &end, 10);
  if (name[0] && end && *end == '\0' && n < G_MAXUINT32)
    {
      *uid = (uid_t) n;
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("unknown user: %s"), name);
  return FALSE;
}

static gboolean
lookup_group (const gchar *name, gid_t *gid, GError **error)
{
  struct group *gr;
  gchar *end = NULL;
  guint64 n;

  errno = 0;
  gr = getgrnam (name);
  if (gr)
    {
      *gid = gr->gr_gid;
      return TRUE;
    }
  n = g_ascii_strtoull (name, &end, 10);
  if (name[0] && end && *end == '\0' && n < G_MAXUINT32)
    {
      *gid = (gid_t) n;
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("unknown group: %s"), name);
  return FALSE;
}

/* "remotectl certificate" options. */
typedef struct {
  gchar *cert_dir;
  gchar *user;
  gchar *group;
  gchar **files;
  gboolean ensure;
  gboolean rsa;
} CertificateOptions;

static void
certificate_options_clear (CertificateOptions *opts)
{
  g_free (opts->cert_dir);
  g_free (opts->user);
  g_free (opts->group);
  g_strfreev (opts->files);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CertificateOptions, certificate_options_clear)

/* FALSE (the message printed) on a usage error. */
static gboolean
parse_certificate_options (int argc, char **argv, CertificateOptions *opts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autofree gchar *cert_dir_help = g_strdup_printf (_("Certificate directory (default: %s)"), CERT_DIR_DEFAULT);
  GOptionEntry entries[] = {
    { "cert-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->cert_dir, cert_dir_help, N_("DIR") },
    { "ensure", 0, 0, G_OPTION_ARG_NONE, &opts->ensure,
      N_("Create a self-signed certificate if there is none"), NULL },
    { "rsa", 0, 0, G_OPTION_ARG_NONE, &opts->rsa,
      N_("Generate an RSA 2048 key instead of ECDSA P-256"), NULL },
    { "user", 0, 0, G_OPTION_ARG_STRING, &opts->user,
      N_("Owner of the files created"), N_("USER") },
    { "group", 0, 0, G_OPTION_ARG_STRING, &opts->group,
      N_("Group of the files created"), N_("GROUP") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->files, NULL, NULL },
    { NULL }
  };

  g_set_prgname ("remotectl certificate");
  context = g_option_context_new (_("[FILE…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
    _("Print the path of the certificate the web server uses (the last *.cert\n"
      "file of the directory). With --ensure, create a self-signed one first\n"
      "when there is none. With FILEs (certificate, chain and key in PEM),\n"
      "combine them into one validated NAME.cert in the directory, NAME being\n"
      "the first file's name without its extension."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr (_("%s: %s (see \"remotectl certificate --help\")\n"), prog, error->message);
      return FALSE;
    }
  if (!opts->cert_dir)
    opts->cert_dir = g_strdup (CERT_DIR_DEFAULT);
  return TRUE;
}

/* The path to print: the file combined from FILEs, or the certificate the
 * server would use (created first with --ensure), which must load: never a
 * silent fallback. */
static gchar *
certificate_path (const CertificateOptions *opts, uid_t uid, gid_t gid, GError **error)
{
  g_autofree gchar *path = NULL;
  g_autoptr(Certificate) cert = NULL;

  if (opts->files && opts->files[0])
    return certificate_combine (opts->cert_dir, (const gchar * const *) opts->files, uid, gid, error);

  if (opts->ensure)
    path = certificate_ensure (opts->cert_dir,
                               opts->rsa ? CERTIFICATE_KEY_RSA_2048 : CERTIFICATE_KEY_ECDSA_P256,
                               uid, gid, error);
  else
    path = certificate_find_last (opts->cert_dir, error);
  if (!path)
    return NULL;
  cert = certificate_load (path, error);
  if (!cert)
    return NULL;
  return g_steal_pointer (&cert->path);
}

static int
run_certificate (int argc, char **argv)
{
  g_auto(CertificateOptions) opts = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = NULL;
  uid_t uid = (uid_t) -1;
  gid_t gid = (gid_t) -1;

  if (!parse_certificate_options (argc, argv, &opts))
    return EXIT_USAGE;

  if ((opts.user && !lookup_user (opts.user, &uid, &error)) ||
      (opts.group && !lookup_group (opts.group, &gid, &error)) ||
      !(path = certificate_path (&opts, uid, gid, &error)))
    {
      g_printerr ("%s: %s\n", prog, error->message);
      return EXIT_FAILURE;
    }
  g_print ("certificate: %s\n", path);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_prgname (prog);
  g_log_set_writer_func (log_writer, NULL, NULL);

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return EXIT_SUCCESS;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("remotectl %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (g_str_equal (argv[1], "certificate"))
    return run_certificate (argc - 1, argv + 1);

  if (argv[1][0] == '-')
    g_printerr (_("%s: unknown option: %s (see \"remotectl --help\")\n"), prog, argv[1]);
  else
    g_printerr (_("%s: unknown command: %s (see \"remotectl --help\")\n"), prog, argv[1]);
  return EXIT_USAGE;
}
