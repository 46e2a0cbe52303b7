/* test-certificate.c: the certificate module (src/common/certificate.c).
 * Fixtures are generated at test time with the GnuTLS API. */
#include "config.h"

#include "common/certificate.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define DAY (24 * 60 * 60)

/* ------------------------------------------------------------------------
 * Captured warnings */

static GPtrArray *warnings;

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & G_LOG_LEVEL_WARNING)
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_str_equal (fields[i].key, "MESSAGE"))
          g_ptr_array_add (warnings, g_strdup (fields[i].value));
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* ------------------------------------------------------------------------
 * Fixture helpers */

typedef struct {
  gchar *dir;
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  fx->dir = g_dir_make_tmp ("test-certificate-XXXXXX", NULL);
  assert_non_null (fx->dir);
  g_ptr_array_set_size (warnings, 0);
  *state = fx;
  return 0;
}

static void
remove_tree (const gchar *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d)
    {
      const gchar *name;
      while ((name = g_dir_read_name (d)))
        {
          g_autofree gchar *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (d);
    }
  g_rmdir (path);
}

static int
teardown (void **state)
{
  Fixture *fx = *state;
  remove_tree (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

static gnutls_x509_privkey_t
make_key (gnutls_pk_algorithm_t algo)
{
  gnutls_x509_privkey_t key;
  assert_int_equal (gnutls_x509_privkey_init (&key), 0);
  if (algo == GNUTLS_PK_RSA)
    assert_int_equal (gnutls_x509_privkey_generate2 (key, GNUTLS_PK_RSA, 2048, 0, NULL, 0), 0);
  else
    assert_int_equal (gnutls_x509_privkey_generate2 (key, GNUTLS_PK_ECDSA,
                                                     GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                                     0, NULL, 0), 0);
  return key;
}

/* A certificate for @key named @cn, signed by @issuer/@issuer_key (self-signed when NULL). */
static gnutls_x509_crt_t
make_cert (gnutls_x509_privkey_t key, const gchar *cn, time_t not_before, time_t not_after,
           gboolean ca, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key)
{
  static guchar serial = 1;
  gnutls_x509_crt_t crt;
  guchar s[1] = { serial++ };

  assert_int_equal (gnutls_x509_crt_init (&crt), 0);
  assert_int_equal (gnutls_x509_crt_set_version (crt, 3), 0);
  assert_int_equal (gnutls_x509_crt_set_serial (crt, s, 1), 0);
  assert_int_equal (gnutls_x509_crt_set_activation_time (crt, not_before), 0);
  assert_int_equal (gnutls_x509_crt_set_expiration_time (crt, not_after), 0);
  assert_int_equal (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen (cn)), 0);
  assert_int_equal (gnutls_x509_crt_set_key (crt, key), 0);
  assert_int_equal (gnutls_x509_crt_set_basic_constraints (crt, ca ? 1 : 0, -1), 0);
  if (ca)
    assert_int_equal (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_KEY_CERT_SIGN), 0);
  assert_int_equal (gnutls_x509_crt_sign2 (crt, issuer ? issuer : crt, issuer_key ? issuer_key : key,
                                           GNUTLS_DIG_SHA256, 0), 0);
  return crt;
}

static gchar *
cert_pem (gnutls_x509_crt_t crt)
{
  gnutls_datum_t d;
  assert_int_equal (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &d), 0);
  gchar *s = g_strndup ((const gchar *) d.data, d.size);
  gnutls_free (d.data);
  return s;
}

/* "PRIVATE KEY" (PKCS#8) */
static gchar *
key_pem_pkcs8 (gnutls_x509_privkey_t key)
{
  gnutls_datum_t d;
  assert_int_equal (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d), 0);
  gchar *s = g_strndup ((const gchar *) d.data, d.size);
  gnutls_free (d.data);
  return s;
}

/* "RSA PRIVATE KEY" / "EC PRIVATE KEY" */
static gchar *
key_pem_legacy (gnutls_x509_privkey_t key)
{
  gnutls_datum_t d;
  assert_int_equal (gnutls_x509_privkey_export2 (key, GNUTLS_X509_FMT_PEM, &d), 0);
  gchar *s = g_strndup ((const gchar *) d.data, d.size);
  gnutls_free (d.data);
  return s;
}

/* "ENCRYPTED PRIVATE KEY" */
static gchar *
key_pem_encrypted (gnutls_x509_privkey_t key)
{
  gnutls_datum_t d;
  assert_int_equal (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, "secret",
                                                       GNUTLS_PKCS_PBES2_AES_256, &d), 0);
  gchar *s = g_strndup ((const gchar *) d.data, d.size);
  gnutls_free (d.data);
  return s;
}

static gchar *
write_file (const gchar *dir, const gchar *name, const gchar *contents)
{
  gchar *path = g_build_filename (dir, name, NULL);
  assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

/* A valid self-signed ECDSA server certificate and key, PEM. */
static void
make_pair (gchar **crt_out, gchar **key_out)
{
  time_t now = time (NULL);
  gnutls_x509_privkey_t key = make_key (GNUTLS_PK_ECDSA);
  gnutls_x509_crt_t crt = make_cert (key, "server", now - DAY, now + DAY, FALSE, NULL, NULL);
  *crt_out = cert_pem (crt);
  *key_out = key_pem_pkcs8 (key);
  gnutls_x509_crt_deinit (crt);
  gnutls_x509_privkey_deinit (key);
}

static gchar *
cert_cn (gnutls_x509_crt_t crt)
{
  gchar buf[256];
  size_t size = sizeof buf;
  assert_int_equal (gnutls_x509_crt_get_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size), 0);
  return g_strndup (buf, size);
}

/* Load @contents from DIR/@name and assert the exact error. */
static void
assert_load_error (Fixture *fx, const gchar *name, const gchar *contents,
                   CertificateError code, const gchar *reason)
{
  g_autofree gchar *path = write_file (fx->dir, name, contents);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *expected = g_strdup_printf ("%s: %s", path, reason);
  Certificate *cert = certificate_load (path, &error);

  assert_null (cert);
  assert_non_null (error);
  assert_string_equal (error->message, expected);
  assert_int_equal (error->domain, CERTIFICATE_ERROR);
  assert_int_equal (error->code, code);
}

/* ------------------------------------------------------------------------
 * Finding */

static void
touch (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = write_file (dir, name, "x");
  (void) path;
}

static void
test_find_last_picks_alphabetical_last (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;

  touch (fx->dir, "10-a.cert");
  touch (fx->dir, "50-c.cert");
  touch (fx->dir, "9-b.cert");
  touch (fx->dir, "A-upper.cert");   /* 'A' (0x41) sorts after '9' (0x39) */

  g_autofree gchar *path = certificate_find_last (fx->dir, &error);
  g_autofree gchar *expected = g_build_filename (fx->dir, "A-upper.cert", NULL);
  assert_null (error);
  assert_string_equal (path, expected);

  touch (fx->dir, "a-lower.cert");   /* 'a' (0x61) after 'A': byte order, not locale */
  g_autofree gchar *path2 = certificate_find_last (fx->dir, &error);
  g_autofree gchar *expected2 = g_build_filename (fx->dir, "a-lower.cert", NULL);
  assert_string_equal (path2, expected2);
}

static void
test_find_last_ignores_other_names (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *subdir = g_build_filename (fx->dir, "zz-dir.cert", NULL);

  touch (fx->dir, "1-real.cert");
  touch (fx->dir, "z.crt");
  touch (fx->dir, "z.key");
  touch (fx->dir, ".z-hidden.cert");
  touch (fx->dir, "z.cert.bak");
  touch (fx->dir, "z.certs");
  touch (fx->dir, "zcert");
  assert_int_equal (g_mkdir (subdir, 0755), 0);

  g_autofree gchar *path = certificate_find_last (fx->dir, &error);
  g_autofree gchar *expected = g_build_filename (fx->dir, "1-real.cert", NULL);
  assert_null (error);
  assert_string_equal (path, expected);
}

static void
test_find_last_follows_symlinks_to_files (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *target = write_file (fx->dir, "data", "x");
  g_autofree gchar *good = g_build_filename (fx->dir, "5-link.cert", NULL);
  g_autofree gchar *dangling = g_build_filename (fx->dir, "9-dangling.cert", NULL);

  touch (fx->dir, "1-file.cert");
  assert_int_equal (symlink (target, good), 0);
  assert_int_equal (symlink ("/nonexistent/file", dangling), 0);

  g_autofree gchar *path = certificate_find_last (fx->dir, &error);
  assert_null (error);
  assert_string_equal (path, good);
}

static void
test_find_last_empty_dir_not_found (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *expected = g_strdup_printf ("No certificate found in dir: %s", fx->dir);

  touch (fx->dir, "only.crt");
  assert_null (certificate_find_last (fx->dir, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NOT_FOUND));
  assert_string_equal (error->message, expected);
}

static void
test_find_last_missing_dir_not_found (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *missing = g_build_filename (fx->dir, "missing", NULL);
  g_autofree gchar *expected = g_strdup_printf ("No certificate found in dir: %s", missing);

  assert_null (certificate_find_last (missing, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NOT_FOUND));
  assert_string_equal (error->message, expected);
}

static void
test_find_last_returns_absolute_path (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *cwd = g_get_current_dir ();
  g_autofree gchar *base = g_path_get_basename (fx->dir);
  g_autofree gchar *parent = g_path_get_dirname (fx->dir);

  touch (fx->dir, "x.cert");
  assert_int_equal (chdir (parent), 0);
  g_autofree gchar *path = certificate_find_last (base, &error);
  assert_int_equal (chdir (cwd), 0);
  g_autofree gchar *expected = g_build_filename (fx->dir, "x.cert", NULL);
  assert_string_equal (path, expected);
}

/* ------------------------------------------------------------------------
 * Loading: accepted forms */

static void
test_load_pkcs8_key (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  assert_non_null (strstr (key, "-----BEGIN PRIVATE KEY-----"));
  g_autofree gchar *contents = g_strconcat (crt, key, NULL);
  g_autofree gchar *path = write_file (fx->dir, "a.cert", contents);

  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_non_null (cert);
  assert_string_equal (cert->path, path);
  assert_int_equal (cert->n_certs, 1);
  assert_non_null (cert->key);
  assert_null (cert->validity_warning);
  assert_int_equal (warnings->len, 0);
}

static void
load_legacy_key (Fixture *fx, gnutls_pk_algorithm_t algo, const gchar *label)
{
  time_t now = time (NULL);
  gnutls_x509_privkey_t key = make_key (algo);
  gnutls_x509_crt_t crt = make_cert (key, "legacy", now - DAY, now + DAY, FALSE, NULL, NULL);
  g_autofree gchar *crt_pem = cert_pem (crt);
  g_autofree gchar *key_pem = key_pem_legacy (key);
  g_autofree gchar *begin = g_strdup_printf ("-----BEGIN %s-----", label);
  g_autoptr(GError) error = NULL;

  assert_non_null (strstr (key_pem, begin));
  /* key first, certificate after: order of key and certificates is free */
  g_autofree gchar *contents = g_strconcat (key_pem, crt_pem, NULL);
  g_autofree gchar *path = write_file (fx->dir, "legacy.cert", contents);

  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_non_null (cert);
  assert_int_equal (cert->n_certs, 1);
  assert_int_equal (gnutls_x509_privkey_get_pk_algorithm (cert->key), algo);

  gnutls_x509_crt_deinit (crt);
  gnutls_x509_privkey_deinit (key);
}

static void
test_load_rsa_private_key (void **state)
{
  load_legacy_key (*state, GNUTLS_PK_RSA, "RSA PRIVATE KEY");
}

static void
test_load_ec_private_key (void **state)
{
  load_legacy_key (*state, GNUTLS_PK_ECDSA, "EC PRIVATE KEY");
}

static void
test_load_crlf_line_endings (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *contents = g_strconcat (crt, key, NULL);
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  g_autofree gchar *crlf = g_strjoinv ("\r\n", lines);
  g_autofree gchar *path = write_file (fx->dir, "crlf.cert", crlf);

  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_non_null (cert);
}

static void
test_load_chain_keeps_order (void **state)
{
  Fixture *fx = *state;
  time_t now = time (NULL);
  gnutls_x509_privkey_t ca_key = make_key (GNUTLS_PK_ECDSA);
  gnutls_x509_crt_t ca = make_cert (ca_key, "Test CA", now - DAY, now + DAY, TRUE, NULL, NULL);
  gnutls_x509_privkey_t key = make_key (GNUTLS_PK_ECDSA);
  gnutls_x509_crt_t crt = make_cert (key, "server", now - DAY, now + DAY, FALSE, ca, ca_key);
  g_autofree gchar *ca_pem = cert_pem (ca);
  g_autofree gchar *crt_pem = cert_pem (crt);
  g_autofree gchar *key_pem = key_pem_pkcs8 (key);
  g_autoptr(GError) error = NULL;

  g_autofree gchar *contents = g_strconcat (crt_pem, ca_pem, key_pem, NULL);
  g_autofree gchar *path = write_file (fx->dir, "chain.cert", contents);
  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_int_equal (cert->n_certs, 2);
  g_autofree gchar *cn0 = cert_cn (cert->certs[0]);
  g_autofree gchar *cn1 = cert_cn (cert->certs[1]);
  assert_string_equal (cn0, "server");
  assert_string_equal (cn1, "Test CA");

  /* the CA first: the key belongs to the second certificate → mismatch */
  g_autofree gchar *reversed = g_strconcat (ca_pem, crt_pem, key_pem, NULL);
  assert_load_error (fx, "reversed.cert", reversed, CERTIFICATE_ERROR_MISMATCH,
                     "private key does not match the certificate");

  gnutls_x509_crt_deinit (crt);
  gnutls_x509_crt_deinit (ca);
  gnutls_x509_privkey_deinit (key);
  gnutls_x509_privkey_deinit (ca_key);
}

static void
test_load_ignores_text_around_blocks (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *contents = g_strconcat ("subject=CN = server\nissuer=CN = server\n", crt,
                                            "\n# the key\n", key, "trailing text\n", NULL);
  g_autofree gchar *path = write_file (fx->dir, "text.cert", contents);
  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_non_null (cert);
}

static void
test_load_expired_warns (void **state)
{
  Fixture *fx = *state;
  time_t now = time (NULL);
  gnutls_x509_privkey_t key = make_key (GNUTLS_PK_ECDSA);
  /* 2020-01-01 .. 2021-01-01 00:00:00 UTC */
  gnutls_x509_crt_t crt = make_cert (key, "old", 1577836800, 1609459200, FALSE, NULL, NULL);
  g_autofree gchar *crt_pem = cert_pem (crt);
  g_autofree gchar *key_pem = key_pem_pkcs8 (key);
  g_autoptr(GError) error = NULL;
  (void) now;

  g_autofree gchar *contents = g_strconcat (crt_pem, key_pem, NULL);
  g_autofree gchar *path = write_file (fx->dir, "old.cert", contents);
  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_non_null (cert);
  assert_string_equal (cert->validity_warning, "expired on 2021-01-01 00:00:00 UTC");
  assert_int_equal (warnings->len, 1);
  g_autofree gchar *expected = g_strdup_printf ("%s: certificate expired on 2021-01-01 00:00:00 UTC", path);
  assert_string_equal (warnings->pdata[0], expected);

  gnutls_x509_crt_deinit (crt);
  gnutls_x509_privkey_deinit (key);
}

static void
test_load_not_yet_valid_warns (void **state)
{
  Fixture *fx = *state;
  gnutls_x509_privkey_t key = make_key (GNUTLS_PK_ECDSA);
  /* 2099-01-01 .. 2100-01-01 */
  gnutls_x509_crt_t crt = make_cert (key, "future", 4070908800, 4102444800, FALSE, NULL, NULL);
  g_autofree gchar *crt_pem = cert_pem (crt);
  g_autofree gchar *key_pem = key_pem_pkcs8 (key);
  g_autoptr(GError) error = NULL;

  g_autofree gchar *contents = g_strconcat (crt_pem, key_pem, NULL);
  g_autofree gchar *path = write_file (fx->dir, "future.cert", contents);
  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_non_null (cert);
  assert_string_equal (cert->validity_warning, "not valid before 2099-01-01 00:00:00 UTC");
  assert_int_equal (warnings->len, 1);

  gnutls_x509_crt_deinit (crt);
  gnutls_x509_privkey_deinit (key);
}

static void
test_load_dir_uses_last_and_never_falls_back (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *good = g_strconcat (crt, key, NULL);
  g_autofree gchar *p1 = write_file (fx->dir, "1-good.cert", good);
  g_autoptr(Certificate) cert = certificate_load_dir (fx->dir, &error);
  assert_null (error);
  assert_string_equal (cert->path, p1);

  /* a broken file sorting last is an error, not a fallback to 1-good.cert */
  g_autofree gchar *p2 = write_file (fx->dir, "2-bad.cert", crt);
  g_autofree gchar *expected = g_strdup_printf ("%s: no private key found", p2);
  assert_null (certificate_load_dir (fx->dir, &error));
  assert_string_equal (error->message, expected);
}

/* ------------------------------------------------------------------------
 * Loading: every error */

static void
test_load_unreadable (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *missing = g_build_filename (fx->dir, "missing.cert", NULL);
  g_autofree gchar *expected = g_strdup_printf ("%s: cannot read: No such file or directory", missing);

  assert_null (certificate_load (missing, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNREADABLE));
  assert_string_equal (error->message, expected);
  g_clear_error (&error);

  g_autofree gchar *dir = g_build_filename (fx->dir, "dir.cert", NULL);
  g_autofree gchar *expected2 = g_strdup_printf ("%s: cannot read: Is a directory", dir);
  assert_int_equal (g_mkdir (dir, 0755), 0);
  assert_null (certificate_load (dir, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNREADABLE));
  assert_string_equal (error->message, expected2);
}

static void
test_load_rejects_non_pem (void **state)
{
  Fixture *fx = *state;
  assert_load_error (fx, "text.cert", "hello world\n", CERTIFICATE_ERROR_NO_PEM,
                     "not a PEM file (no \"-----BEGIN\" block)");
  assert_load_error (fx, "empty.cert", "", CERTIFICATE_ERROR_NO_PEM,
                     "not a PEM file (no \"-----BEGIN\" block)");
}

static void
test_load_rejects_binary (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *path = g_build_filename (fx->dir, "der.cert", NULL);
  g_autofree gchar *expected = g_strdup_printf ("%s: not a PEM file (binary data)", path);
  g_autoptr(GError) error = NULL;
  static const gchar der[] = { 0x30, (gchar) 0x82, 0x01, 0x00, 0x00, 0x01 };

  assert_true (g_file_set_contents (path, der, sizeof der, NULL));
  assert_null (certificate_load (path, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_PEM));
  assert_string_equal (error->message, expected);
}

static void
test_load_rejects_missing_certificate (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  make_pair (&crt, &key);
  assert_load_error (fx, "key-only.cert", key, CERTIFICATE_ERROR_NO_CERTIFICATE, "no certificate found");
}

static void
test_load_rejects_missing_key (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  make_pair (&crt, &key);
  assert_load_error (fx, "crt-only.cert", crt, CERTIFICATE_ERROR_NO_KEY, "no private key found");
}

static void
test_load_rejects_encrypted_pkcs8_key (void **state)
{
  Fixture *fx = *state;
  time_t now = time (NULL);
  gnutls_x509_privkey_t key = make_key (GNUTLS_PK_ECDSA);
  gnutls_x509_crt_t crt = make_cert (key, "enc", now - DAY, now + DAY, FALSE, NULL, NULL);
  g_autofree gchar *crt_pem = cert_pem (crt);
  g_autofree gchar *key_pem = key_pem_encrypted (key);

  assert_non_null (strstr (key_pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  g_autofree gchar *contents = g_strconcat (crt_pem, key_pem, NULL);
  assert_load_error (fx, "enc.cert", contents, CERTIFICATE_ERROR_ENCRYPTED_KEY, "private key is encrypted");

  gnutls_x509_crt_deinit (crt);
  gnutls_x509_privkey_deinit (key);
}

static void
test_load_rejects_proc_type_encrypted_key (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  make_pair (&crt, &key);
  /* OpenSSL's traditional encrypted form */
  const gchar *legacy =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n"
    "\n"
    "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n"
    "-----END RSA PRIVATE KEY-----\n";
  g_autofree gchar *contents = g_strconcat (crt, legacy, NULL);
  assert_load_error (fx, "proc.cert", contents, CERTIFICATE_ERROR_ENCRYPTED_KEY, "private key is encrypted");
}

static void
test_load_rejects_two_keys (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL, *crt2 = NULL, *key2 = NULL;
  make_pair (&crt, &key);
  make_pair (&crt2, &key2);
  g_autofree gchar *contents = g_strconcat (crt, key, key2, NULL);
  assert_load_error (fx, "two.cert", contents, CERTIFICATE_ERROR_TWO_KEYS, "more than one private key");
}

static void
test_load_rejects_mismatched_key (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL, *crt2 = NULL, *key2 = NULL;
  make_pair (&crt, &key);
  make_pair (&crt2, &key2);
  g_autofree gchar *contents = g_strconcat (crt, key2, NULL);
  assert_load_error (fx, "mismatch.cert", contents, CERTIFICATE_ERROR_MISMATCH,
                     "private key does not match the certificate");
}

static void
test_load_rejects_mismatched_key_type (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  make_pair (&crt, &key);
  gnutls_x509_privkey_t rsa = make_key (GNUTLS_PK_RSA);
  g_autofree gchar *rsa_pem = key_pem_legacy (rsa);
  g_autofree gchar *contents = g_strconcat (crt, rsa_pem, NULL);
  assert_load_error (fx, "mismatch-type.cert", contents, CERTIFICATE_ERROR_MISMATCH,
                     "private key does not match the certificate");
  gnutls_x509_privkey_deinit (rsa);
}

static void
test_load_rejects_truncated_block (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  make_pair (&crt, &key);
  g_autofree gchar *contents = g_strconcat (crt, key, NULL);

  /* cut in the middle of the key: BEGIN without END */
  g_autofree gchar *cut = g_strndup (contents, strlen (crt) + strlen (key) / 2);
  assert_load_error (fx, "cut-key.cert", cut, CERTIFICATE_ERROR_TRUNCATED,
                     "truncated PEM block \"PRIVATE KEY\": BEGIN without END");

  /* cut in the middle of the certificate */
  g_autofree gchar *cut2 = g_strndup (contents, strlen (crt) / 2);
  assert_load_error (fx, "cut-crt.cert", cut2, CERTIFICATE_ERROR_TRUNCATED,
                     "truncated PEM block \"CERTIFICATE\": BEGIN without END");

  /* a certificate's END swallowed by the next BEGIN */
  g_autofree gchar *no_end = g_strdup (contents);
  gchar *end = strstr (no_end, "-----END CERTIFICATE-----\n");
  memmove (end, end + strlen ("-----END CERTIFICATE-----\n"), strlen (end + strlen ("-----END CERTIFICATE-----\n")) + 1);
  assert_load_error (fx, "no-end.cert", no_end, CERTIFICATE_ERROR_TRUNCATED,
                     "truncated PEM block \"CERTIFICATE\": BEGIN without END");
}

static void
test_load_rejects_bad_base64 (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  make_pair (&crt, &key);

  /* a character outside the base64 alphabet */
  g_autofree gchar *bad = g_strconcat (crt, key, NULL);
  gchar *body = strchr (bad, '\n') + 5;
  *body = '!';
  assert_load_error (fx, "bad64.cert", bad, CERTIFICATE_ERROR_TRUNCATED,
                     "truncated PEM block \"CERTIFICATE\": invalid base64 data");

  /* lines lost in the middle: base64 length no longer a multiple of 4 */
  g_autofree gchar *lost = g_strconcat (crt, key, NULL);
  gchar *line2 = strchr (strchr (lost, '\n') + 1, '\n') + 1;
  memmove (line2 + 1, line2 + 2, strlen (line2 + 2) + 1);
  assert_load_error (fx, "lost.cert", lost, CERTIFICATE_ERROR_TRUNCATED,
                     "truncated PEM block \"CERTIFICATE\": invalid base64 data");

  /* an empty block */
  g_autofree gchar *empty = g_strconcat ("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", key, NULL);
  assert_load_error (fx, "empty-block.cert", empty, CERTIFICATE_ERROR_TRUNCATED,
                     "truncated PEM block \"CERTIFICATE\": invalid base64 data");
}

static void
test_load_rejects_garbage_certificate (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  make_pair (&crt, &key);
  /* valid base64, but not DER */
  g_autofree gchar *contents = g_strconcat ("-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQh\n-----END CERTIFICATE-----\n",
                                            key, NULL);
  g_autofree gchar *path = write_file (fx->dir, "garbage.cert", contents);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *prefix = g_strdup_printf ("%s: invalid certificate 1: ", path);

  assert_null (certificate_load (path, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_INVALID));
  assert_true (g_str_has_prefix (error->message, prefix));
  assert_null (strchr (error->message, '\n'));
}

static void
test_load_rejects_huge_file (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *path = g_build_filename (fx->dir, "huge.cert", NULL);
  g_autofree gchar *expected = g_strdup_printf ("%s: cannot read: File too large", path);
  g_autofree gchar *big = g_strnfill (2 * 1024 * 1024, 'A');
  g_autoptr(GError) error = NULL;

  assert_true (g_file_set_contents (path, big, -1, NULL));
  assert_null (certificate_load (path, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNREADABLE));
  assert_string_equal (error->message, expected);
}

/* A pipe has no size to check up front (remotectl certificate <(…) reads
 * one): what comes through it is read in pieces, and still bounded. */
typedef struct {
  const gchar *path;
  const gchar *data;
  gsize len;
} PipeWriter;

static gpointer
pipe_writer (gpointer user_data)
{
  PipeWriter *w = user_data;
  int fd = open (w->path, O_WRONLY | O_CLOEXEC);   /* waits for the reader */
  gsize off = 0;

  g_assert (fd >= 0);
  while (off < w->len)
    {
      /* small writes: the reader sees the file in many short reads */
      ssize_t r = write (fd, w->data + off, MIN (w->len - off, 500));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        break;          /* EPIPE: the reader stopped reading */
      off += r;
    }
  close (fd);
  return NULL;
}

static Certificate *
load_through_pipe (Fixture *fx, const gchar *data, gsize len, gchar **path, GError **error)
{
  PipeWriter w = { NULL, data, len };
  GThread *thread;
  Certificate *cert;

  *path = g_build_filename (fx->dir, "pipe.cert", NULL);
  assert_int_equal (mkfifo (*path, 0600), 0);
  w.path = *path;
  thread = g_thread_new ("pipe-writer", pipe_writer, &w);
  cert = certificate_load (*path, error);
  g_thread_join (thread);
  return cert;
}

static void
test_load_through_pipe (void **state)
{
  g_autofree gchar *crt = NULL, *key = NULL, *path = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *contents = g_strconcat (crt, key, NULL);
  g_autoptr(Certificate) cert = load_through_pipe (*state, contents, strlen (contents), &path, &error);
  assert_null (error);
  assert_non_null (cert);
  assert_string_equal (cert->path, path);
  assert_int_equal (cert->n_certs, 1);
}

static void
test_load_rejects_huge_pipe (void **state)
{
  g_autofree gchar *big = g_strnfill (2 * 1024 * 1024, 'A');
  g_autofree gchar *path = NULL;
  g_autoptr(GError) error = NULL;
  void (*old) (int) = signal (SIGPIPE, SIG_IGN);

  assert_null (load_through_pipe (*state, big, strlen (big), &path, &error));
  signal (SIGPIPE, old);
  g_autofree gchar *expected = g_strdup_printf ("%s: cannot read: File too large", path);
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNREADABLE));
  assert_string_equal (error->message, expected);
}

static void
test_parse_from_memory (void **state)
{
  g_autofree gchar *crt = NULL, *key = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *contents = g_strconcat (crt, key, NULL);
  /* not NUL-terminated: only @length bytes count */
  g_autofree gchar *padded = g_strconcat (contents, "-----BEGIN CERTIFICATE-----\n", NULL);
  g_autoptr(Certificate) cert = certificate_parse ("memory", padded, strlen (contents), &error);
  assert_null (error);
  assert_non_null (cert);
  assert_string_equal (cert->path, "memory");
  assert_int_equal (cert->n_certs, 1);

  assert_null (certificate_parse ("memory", crt, strlen (crt), &error));
  assert_string_equal (error->message, "memory: no private key found");
  g_clear_error (&error);
  assert_null (certificate_parse ("memory", NULL, 0, &error));
  assert_string_equal (error->message, "memory: not a PEM file (no \"-----BEGIN\" block)");
}

/* ------------------------------------------------------------------------
 * Generating */

static void
check_san (gnutls_x509_crt_t crt, guint seq, int type, const void *value, size_t len)
{
  guchar buf[256];
  size_t size = sizeof buf;
  unsigned int critical;
  int ret = gnutls_x509_crt_get_subject_alt_name (crt, seq, buf, &size, &critical);
  assert_int_equal (ret, type);
  assert_int_equal (size, len);
  assert_memory_equal (buf, value, len);
}

static Certificate *
generate_and_load (Fixture *fx, CertificateKeyType type)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = certificate_generate_self_signed (fx->dir, type, -1, -1, &error);
  g_autofree gchar *expected = g_build_filename (fx->dir, "0-self-signed.cert", NULL);
  assert_null (error);
  assert_string_equal (path, expected);
  Certificate *cert = certificate_load (path, &error);
  assert_null (error);
  assert_non_null (cert);
  assert_null (cert->validity_warning);
  return cert;
}

static void
test_generate_ecdsa_contents (void **state)
{
  Fixture *fx = *state;
  g_autoptr(Certificate) cert = generate_and_load (fx, CERTIFICATE_KEY_ECDSA_P256);
  gnutls_x509_crt_t crt = cert->certs[0];
  const gchar *host = g_get_host_name ();
  static const guchar ipv4[4] = { 127, 0, 0, 1 };
  static const guchar ipv6[16] = { [15] = 1 };
  time_t now = time (NULL);
  unsigned int bits = 0, usage = 0, critical = 0, ca = 99;
  gnutls_ecc_curve_t curve = 0;
  guchar serial[64];
  size_t serial_size = sizeof serial;
  gchar oid[128];
  size_t oid_size = sizeof oid;

  assert_int_equal (cert->n_certs, 1);
  g_autofree gchar *cn = cert_cn (crt);
  assert_string_equal (cn, host);

  guint seq = 0;
  check_san (crt, seq++, GNUTLS_SAN_DNSNAME, host, strlen (host));
  if (!g_str_equal (host, "localhost"))
    check_san (crt, seq++, GNUTLS_SAN_DNSNAME, "localhost", 9);
  check_san (crt, seq++, GNUTLS_SAN_IPADDRESS, ipv4, 4);
  check_san (crt, seq++, GNUTLS_SAN_IPADDRESS, ipv6, 16);
  {
    guchar buf[256];
    size_t size = sizeof buf;
    assert_int_equal (gnutls_x509_crt_get_subject_alt_name (crt, seq, buf, &size, NULL),
                      GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
  }

  assert_int_equal (gnutls_x509_crt_get_pk_algorithm (crt, &bits), GNUTLS_PK_ECDSA);
  assert_int_equal (gnutls_x509_privkey_get_pk_algorithm (cert->key), GNUTLS_PK_ECDSA);
  assert_int_equal (gnutls_x509_crt_get_pk_ecc_raw (crt, &curve, NULL, NULL), 0);
  assert_int_equal (curve, GNUTLS_ECC_CURVE_SECP256R1);
  assert_int_equal (gnutls_x509_crt_get_signature_algorithm (crt), GNUTLS_SIGN_ECDSA_SHA256);

  time_t nb = gnutls_x509_crt_get_activation_time (crt);
  time_t na = gnutls_x509_crt_get_expiration_time (crt);
  assert_true (nb <= now && nb >= now - DAY - 60);
  assert_true (na >= now + 364 * DAY && na <= now + 366 * DAY);

  assert_int_equal (gnutls_x509_crt_get_serial (crt, serial, &serial_size), 0);
  assert_int_equal (serial_size, 16);
  assert_true ((serial[0] & 0x80) == 0 && serial[0] != 0);

  assert_int_equal (gnutls_x509_crt_get_basic_constraints (crt, &critical, &ca, NULL), 0);
  assert_int_equal (ca, 0);
  assert_true (gnutls_x509_crt_get_key_usage (crt, &usage, &critical) >= 0);
  assert_int_equal (usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
  assert_int_equal (gnutls_x509_crt_get_key_purpose_oid (crt, 0, oid, &oid_size, &critical), 0);
  assert_string_equal (oid, GNUTLS_KP_TLS_WWW_SERVER);

  /* self-signed, signature verifies */
  unsigned int status = 99;
  assert_int_equal (gnutls_x509_crt_verify (crt, &crt, 1, 0, &status), 0);
  assert_int_equal (status, 0);
}

static void
test_generate_serials_differ (void **state)
{
  Fixture *fx = *state;
  g_autoptr(Certificate) first = generate_and_load (fx, CERTIFICATE_KEY_ECDSA_P256);
  g_autofree gchar *path = g_build_filename (fx->dir, "0-self-signed.cert", NULL);
  assert_int_equal (g_unlink (path), 0);
  g_autoptr(Certificate) second = generate_and_load (fx, CERTIFICATE_KEY_ECDSA_P256);
  guchar s1[32], s2[32];
  size_t l1 = sizeof s1, l2 = sizeof s2;
  assert_int_equal (gnutls_x509_crt_get_serial (first->certs[0], s1, &l1), 0);
  assert_int_equal (gnutls_x509_crt_get_serial (second->certs[0], s2, &l2), 0);
  assert_int_equal (l1, l2);
  assert_memory_not_equal (s1, s2, l1);
}

static void
test_generate_rsa (void **state)
{
  Fixture *fx = *state;
  g_autoptr(Certificate) cert = generate_and_load (fx, CERTIFICATE_KEY_RSA_2048);
  unsigned int bits = 0, usage = 0, critical = 0;

  assert_int_equal (gnutls_x509_crt_get_pk_algorithm (cert->certs[0], &bits), GNUTLS_PK_RSA);
  assert_int_equal (bits, 2048);
  assert_int_equal (gnutls_x509_privkey_get_pk_algorithm (cert->key), GNUTLS_PK_RSA);
  assert_int_equal (gnutls_x509_crt_get_signature_algorithm (cert->certs[0]), GNUTLS_SIGN_RSA_SHA256);
  assert_true (gnutls_x509_crt_get_key_usage (cert->certs[0], &usage, &critical) >= 0);
  assert_int_equal (usage, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT);
}

static void
test_generate_mode_0640_and_no_leftovers (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  mode_t old = umask (077);  /* the mode must not depend on the umask */
  g_autofree gchar *path = certificate_generate_self_signed (fx->dir, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error);
  umask (old);
  struct stat st;

  assert_null (error);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_true (S_ISREG (st.st_mode));

  /* only the certificate: no temporary file left behind */
  GDir *d = g_dir_open (fx->dir, 0, NULL);
  assert_string_equal (g_dir_read_name (d), "0-self-signed.cert");
  assert_null (g_dir_read_name (d));
  g_dir_close (d);
}

static void
test_generate_sets_owner (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  uid_t uid = getuid () == 0 ? 65534 : getuid ();
  gid_t gid = getuid () == 0 ? 65534 : getgid ();
  g_autofree gchar *path = certificate_generate_self_signed (fx->dir, CERTIFICATE_KEY_ECDSA_P256, uid, gid, &error);
  struct stat st;

  assert_null (error);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_uid, uid);
  assert_int_equal (st.st_gid, gid);
}

static void
test_generate_creates_missing_dir (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *sub = g_build_filename (fx->dir, "a", "ws-certs.d", NULL);
  g_autofree gchar *path = certificate_ensure (sub, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error);
  g_autofree gchar *expected = g_build_filename (sub, "0-self-signed.cert", NULL);
  assert_null (error);
  assert_string_equal (path, expected);
  assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

static void
test_ensure_keeps_existing (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *crt = NULL, *key = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *contents = g_strconcat (crt, key, NULL);
  g_autofree gchar *existing = write_file (fx->dir, "50-mine.cert", contents);
  g_autofree gchar *path = certificate_ensure (fx->dir, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error);
  g_autofree gchar *self_signed = g_build_filename (fx->dir, "0-self-signed.cert", NULL);

  assert_null (error);
  assert_string_equal (path, existing);
  assert_false (g_file_test (self_signed, G_FILE_TEST_EXISTS));
}

static void
test_ensure_generates_when_missing (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  touch (fx->dir, "tls.crt");
  touch (fx->dir, "tls.key");
  g_autofree gchar *path = certificate_ensure (fx->dir, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error);
  g_autofree gchar *expected = g_build_filename (fx->dir, "0-self-signed.cert", NULL);
  assert_null (error);
  assert_string_equal (path, expected);
  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_non_null (cert);

  /* a second call finds it rather than generating again */
  g_autofree gchar *again = certificate_ensure (fx->dir, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error);
  g_autoptr(Certificate) cert2 = certificate_load (again, &error);
  assert_true (gnutls_x509_crt_equals (cert->certs[0], cert2->certs[0]));
}

static void
test_generate_reports_unwritable_dir (void **state)
{
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  /* a regular file where the directory should be */
  g_autofree gchar *file = write_file (fx->dir, "notadir", "x");
  g_autofree gchar *expected = g_strdup_printf ("%s: cannot create directory: Not a directory", file);
  assert_null (certificate_generate_self_signed (file, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNWRITABLE));
  assert_string_equal (error->message, expected);
}

static void
test_generate_keeps_file_that_appeared_meanwhile (void **state)
{
  /* the losing racer's view: 0-self-signed.cert is already there when its
   * own complete file is ready; the existing one stays, nothing is left over */
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *crt = NULL, *key = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *contents = g_strconcat (crt, key, NULL);
  g_autofree gchar *existing = write_file (fx->dir, "0-self-signed.cert", contents);
  g_autofree gchar *path = certificate_generate_self_signed (fx->dir, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error);
  assert_null (error);
  assert_string_equal (path, existing);

  g_autofree gchar *now = NULL;
  assert_true (g_file_get_contents (path, &now, NULL, NULL));
  assert_string_equal (now, contents);
  GDir *d = g_dir_open (fx->dir, 0, NULL);
  assert_string_equal (g_dir_read_name (d), "0-self-signed.cert");
  assert_null (g_dir_read_name (d));
  g_dir_close (d);
}

/* ------------------------------------------------------------------------
 * The race: processes generating at the same moment */

static gchar *
crt_fingerprint (gnutls_x509_crt_t crt)
{
  guchar buf[32];
  size_t size = sizeof buf;
  assert_int_equal (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, buf, &size), 0);
  return g_strdup_printf ("%02x%02x%02x%02x%02x%02x%02x%02x", buf[0], buf[1], buf[2], buf[3],
                          buf[4], buf[5], buf[6], buf[7]);
}

static void
test_generate_race_ends_with_one_valid_file (void **state)
{
  Fixture *fx = *state;
  enum { ROUNDS = 10, RACERS = 4 };

  for (int round = 0; round < ROUNDS; round++)
    {
      g_autofree gchar *dir = g_strdup_printf ("%s/round-%d", fx->dir, round);
      int go[2], out[2];
      pid_t pids[RACERS];

      assert_int_equal (g_mkdir (dir, 0755), 0);
      assert_int_equal (pipe (go), 0);
      assert_int_equal (pipe (out), 0);

      for (int i = 0; i < RACERS; i++)
        {
          pids[i] = fork ();
          assert_true (pids[i] >= 0);
          if (pids[i] == 0)
            {
              char c;
              GError *error = NULL;
              close (go[1]);
              /* wait for the start signal so that all generate at once */
              if (read (go[0], &c, 1) != 0)
                _exit (3);
              gchar *path = certificate_ensure (dir, CERTIFICATE_KEY_ECDSA_P256, -1, -1, &error);
              if (!path)
                _exit (1);
              Certificate *cert = certificate_load (path, &error);
              if (!cert)
                _exit (2);
              gchar *fp = crt_fingerprint (cert->certs[0]);
              gchar *line = g_strdup_printf ("%s\n", fp);
              gboolean written = write (out[1], line, strlen (line)) == (ssize_t) strlen (line);
              g_free (line);
              g_free (fp);
              g_free (path);
              certificate_free (cert);
              _exit (written ? 0 : 4);
            }
        }
      close (go[0]);
      close (out[1]);
      close (go[1]);   /* EOF releases all racers at once */

      for (int i = 0; i < RACERS; i++)
        {
          int status = 0;
          assert_int_equal (waitpid (pids[i], &status, 0), pids[i]);
          assert_true (WIFEXITED (status));
          assert_int_equal (WEXITSTATUS (status), 0);
        }

      gchar buf[1024] = "";
      gsize got = 0;
      ssize_t r;
      while ((r = read (out[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += r;
      close (out[0]);
      buf[got] = '\0';

      /* exactly one file, and every racer ended up with that one */
      g_autoptr(GError) error = NULL;
      g_autofree gchar *path = g_build_filename (dir, "0-self-signed.cert", NULL);
      g_autoptr(Certificate) cert = certificate_load (path, &error);
      assert_null (error);
      g_autofree gchar *fp = crt_fingerprint (cert->certs[0]);
      g_auto(GStrv) lines = g_strsplit (g_strstrip (buf), "\n", -1);
      assert_int_equal (g_strv_length (lines), RACERS);
      for (int i = 0; i < RACERS; i++)
        assert_string_equal (lines[i], fp);

      GDir *d = g_dir_open (dir, 0, NULL);
      assert_string_equal (g_dir_read_name (d), "0-self-signed.cert");
      assert_null (g_dir_read_name (d));
      g_dir_close (d);
    }
}

/* ------------------------------------------------------------------------
 * A real TLS handshake with the generated credentials */

typedef struct {
  int fd;
  gnutls_certificate_credentials_t creds;
  int handshake;
  gchar received[64];
} Server;

static gpointer
server_thread (gpointer data)
{
  Server *srv = data;
  gnutls_session_t session;
  ssize_t n;

  g_assert (gnutls_init (&session, GNUTLS_SERVER) == 0);
  g_assert (gnutls_set_default_priority (session) == 0);
  g_assert (gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, srv->creds) == 0);
  gnutls_transport_set_int (session, srv->fd);
  gnutls_handshake_set_timeout (session, 10000);
  do
    srv->handshake = gnutls_handshake (session);
  while (srv->handshake < 0 && !gnutls_error_is_fatal (srv->handshake));
  if (srv->handshake == 0)
    {
      n = gnutls_record_recv (session, srv->received, sizeof srv->received - 1);
      if (n > 0)
        {
          srv->received[n] = '\0';
          gnutls_record_send (session, "pong", 4);
        }
      gnutls_bye (session, GNUTLS_SHUT_WR);
    }
  gnutls_deinit (session);
  return NULL;
}

static void
handshake_with (Fixture *fx, CertificateKeyType type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Certificate) cert = generate_and_load (fx, type);
  gnutls_certificate_credentials_t server_creds = certificate_credentials_new (cert, &error);
  gnutls_certificate_credentials_t client_creds;
  gnutls_session_t session;
  int sv[2];
  int ret;
  gchar buf[16] = "";

  assert_null (error);
  assert_non_null (server_creds);
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);

  Server srv = { .fd = sv[0], .creds = server_creds, .handshake = -1 };
  GThread *thread = g_thread_new ("tls-server", server_thread, &srv);

  /* the client trusts exactly the generated certificate, checks "localhost" */
  assert_int_equal (gnutls_certificate_allocate_credentials (&client_creds), 0);
  assert_int_equal (gnutls_certificate_set_x509_trust (client_creds, cert->certs, 1), 1);
  assert_int_equal (gnutls_init (&session, GNUTLS_CLIENT), 0);
  assert_int_equal (gnutls_set_default_priority (session), 0);
  assert_int_equal (gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, client_creds), 0);
  assert_int_equal (gnutls_server_name_set (session, GNUTLS_NAME_DNS, "localhost", 9), 0);
  gnutls_session_set_verify_cert (session, "localhost", 0);
  gnutls_transport_set_int (session, sv[1]);
  gnutls_handshake_set_timeout (session, 10000);
  do
    ret = gnutls_handshake (session);
  while (ret < 0 && !gnutls_error_is_fatal (ret));
  if (ret < 0)
    fail_msg ("client handshake: %s (verify status %u)", gnutls_strerror (ret),
              gnutls_session_get_verify_cert_status (session));
  assert_int_equal (gnutls_session_get_verify_cert_status (session), 0);
  assert_int_equal (gnutls_record_send (session, "ping", 4), 4);
  assert_int_equal (gnutls_record_recv (session, buf, sizeof buf), 4);
  assert_memory_equal (buf, "pong", 4);

  g_thread_join (thread);
  assert_int_equal (srv.handshake, 0);
  assert_string_equal (srv.received, "ping");

  gnutls_deinit (session);
  gnutls_certificate_free_credentials (client_creds);
  gnutls_certificate_free_credentials (server_creds);
  close (sv[0]);
  close (sv[1]);
}

static void
test_handshake_with_generated_ecdsa (void **state)
{
  handshake_with (*state, CERTIFICATE_KEY_ECDSA_P256);
}

static void
test_handshake_with_generated_rsa (void **state)
{
  handshake_with (*state, CERTIFICATE_KEY_RSA_2048);
}

static void
test_generated_cert_matches_its_names_only (void **state)
{
  /* the handshake verification above is real: another name fails */
  Fixture *fx = *state;
  g_autoptr(GError) error = NULL;
  g_autoptr(Certificate) cert = generate_and_load (fx, CERTIFICATE_KEY_ECDSA_P256);
  unsigned int status = 0;
  gnutls_x509_trust_list_t tl;

  assert_int_equal (gnutls_x509_trust_list_init (&tl, 0), 0);
  assert_int_equal (gnutls_x509_trust_list_add_cas (tl, cert->certs, 1, GNUTLS_TL_NO_DUPLICATES), 1);
  assert_int_equal (gnutls_x509_trust_list_verify_crt (tl, cert->certs, 1, 0, &status, NULL), 0);
  assert_int_equal (status, 0);
  assert_true (gnutls_x509_crt_check_hostname (cert->certs[0], "localhost"));
  assert_true (gnutls_x509_crt_check_hostname (cert->certs[0], "127.0.0.1"));
  assert_true (gnutls_x509_crt_check_hostname (cert->certs[0], "::1"));
  assert_true (gnutls_x509_crt_check_hostname (cert->certs[0], g_get_host_name ()));
  assert_false (gnutls_x509_crt_check_hostname (cert->certs[0], "example.com"));
  /* the trust list does not own the certificates: deinit without freeing them */
  gnutls_x509_trust_list_deinit (tl, 0);
}

/* ------------------------------------------------------------------------
 * Combining */

static void
test_combine_crt_and_key (void **state)
{
  Fixture *fx = *state;
  time_t now = time (NULL);
  gnutls_x509_privkey_t ca_key = make_key (GNUTLS_PK_ECDSA);
  gnutls_x509_crt_t ca = make_cert (ca_key, "Test CA", now - DAY, now + DAY, TRUE, NULL, NULL);
  gnutls_x509_privkey_t key = make_key (GNUTLS_PK_ECDSA);
  gnutls_x509_crt_t crt = make_cert (key, "server", now - DAY, now + DAY, FALSE, ca, ca_key);
  g_autofree gchar *ca_pem = cert_pem (ca);
  g_autofree gchar *crt_pem = cert_pem (crt);
  g_autofree gchar *key_pem = key_pem_legacy (key);
  g_autofree gchar *secrets = g_build_filename (fx->dir, "secrets", NULL);
  g_autofree gchar *certs = g_build_filename (fx->dir, "ws-certs.d", NULL);
  g_autoptr(GError) error = NULL;
  struct stat st;

  assert_int_equal (g_mkdir (secrets, 0755), 0);
  /* the secret's tls.crt holds the chain; the key in its own file */
  g_autofree gchar *chain = g_strconcat (crt_pem, ca_pem, NULL);
  g_autofree gchar *crt_file = write_file (secrets, "tls.crt", chain);
  g_autofree gchar *key_file = write_file (secrets, "tls.key", key_pem);
  const gchar *files[] = { crt_file, key_file, NULL };

  g_autofree gchar *path = certificate_combine (certs, files, -1, -1, &error);
  g_autofree gchar *expected = g_build_filename (certs, "tls.cert", NULL);
  assert_null (error);
  assert_string_equal (path, expected);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);

  g_autoptr(Certificate) cert = certificate_load (path, &error);
  assert_null (error);
  assert_int_equal (cert->n_certs, 2);
  g_autofree gchar *cn0 = cert_cn (cert->certs[0]);
  g_autofree gchar *cn1 = cert_cn (cert->certs[1]);
  assert_string_equal (cn0, "server");
  assert_string_equal (cn1, "Test CA");

  g_autofree gchar *found = certificate_find_last (certs, &error);
  assert_string_equal (found, path);

  /* key first, CA in a file of its own before the server certificate:
   * the server certificate still ends up first; name from the first file */
  g_autofree gchar *ca_file = write_file (secrets, "ca.pem", ca_pem);
  g_autofree gchar *srv_file = write_file (secrets, "server.pem", crt_pem);
  const gchar *files2[] = { key_file, ca_file, srv_file, NULL };
  g_autofree gchar *path2 = certificate_combine (certs, files2, -1, -1, &error);
  g_autofree gchar *expected2 = g_build_filename (certs, "tls.cert", NULL);
  assert_null (error);
  assert_string_equal (path2, expected2);
  g_autoptr(Certificate) cert2 = certificate_load (path2, &error);
  assert_null (error);
  g_autofree gchar *cn2 = cert_cn (cert2->certs[0]);
  assert_string_equal (cn2, "server");

  gnutls_x509_crt_deinit (crt);
  gnutls_x509_crt_deinit (ca);
  gnutls_x509_privkey_deinit (key);
  gnutls_x509_privkey_deinit (ca_key);
}

static void
test_combine_replaces_existing (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL, *crt2 = NULL, *key2 = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  make_pair (&crt2, &key2);
  g_autofree gchar *old = g_strconcat (crt, key, NULL);
  g_autofree gchar *target = write_file (fx->dir, "tls.cert", old);
  g_autofree gchar *c = write_file (fx->dir, "tls.crt", crt2);
  g_autofree gchar *k = write_file (fx->dir, "tls.key", key2);
  const gchar *files[] = { c, k, NULL };

  g_autofree gchar *path = certificate_combine (fx->dir, files, -1, -1, &error);
  assert_null (error);
  assert_string_equal (path, target);
  g_autofree gchar *contents = NULL;
  assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  assert_non_null (strstr (contents, crt2));
  assert_null (strstr (contents, crt));
}

static void
test_combine_rejects_mismatch (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL, *crt2 = NULL, *key2 = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  make_pair (&crt2, &key2);
  g_autofree gchar *c = write_file (fx->dir, "tls.crt", crt);
  g_autofree gchar *k = write_file (fx->dir, "tls.key", key2);
  const gchar *files[] = { c, k, NULL };
  g_autofree gchar *expected = g_strdup_printf ("%s, %s: private key does not match the certificate", c, k);
  g_autofree gchar *target = g_build_filename (fx->dir, "tls.cert", NULL);

  assert_null (certificate_combine (fx->dir, files, -1, -1, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_MISMATCH));
  assert_string_equal (error->message, expected);
  assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
}

static void
test_combine_reports_bad_input_file (void **state)
{
  Fixture *fx = *state;
  g_autofree gchar *crt = NULL, *key = NULL;
  g_autoptr(GError) error = NULL;

  make_pair (&crt, &key);
  g_autofree gchar *c = write_file (fx->dir, "tls.crt", crt);
  g_autofree gchar *missing = g_build_filename (fx->dir, "tls.key", NULL);
  const gchar *files[] = { c, missing, NULL };
  g_autofree gchar *expected = g_strdup_printf ("%s: cannot read: No such file or directory", missing);

  assert_null (certificate_combine (fx->dir, files, -1, -1, &error));
  assert_string_equal (error->message, expected);
  g_clear_error (&error);

  const gchar *only_crt[] = { c, NULL };
  g_autofree gchar *expected2 = g_strdup_printf ("%s: no private key found", c);
  assert_null (certificate_combine (fx->dir, only_crt, -1, -1, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_KEY));
  assert_string_equal (error->message, expected2);
}

static void
test_combine_without_files (void **state)
{
  Fixture *fx = *state;
  const gchar *none[] = { NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;

  assert_null (certificate_combine (fx->dir, none, -1, -1, &error));
  assert_true (g_error_matches (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_FILES));
  assert_string_equal (error->message, "no files to combine");
  assert_null (certificate_combine (fx->dir, NULL, -1, -1, &error2));
  assert_true (g_error_matches (error2, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_FILES));
}

int
main (void)
{
  warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);

#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_find_last_picks_alphabetical_last),
    T (test_find_last_ignores_other_names),
    T (test_find_last_follows_symlinks_to_files),
    T (test_find_last_empty_dir_not_found),
    T (test_find_last_missing_dir_not_found),
    T (test_find_last_returns_absolute_path),
    T (test_load_pkcs8_key),
    T (test_load_rsa_private_key),
    T (test_load_ec_private_key),
    T (test_load_crlf_line_endings),
    T (test_load_chain_keeps_order),
    T (test_load_ignores_text_around_blocks),
    T (test_load_expired_warns),
    T (test_load_not_yet_valid_warns),
    T (test_load_dir_uses_last_and_never_falls_back),
    T (test_load_unreadable),
    T (test_load_rejects_non_pem),
    T (test_load_rejects_binary),
    T (test_load_rejects_missing_certificate),
    T (test_load_rejects_missing_key),
    T (test_load_rejects_encrypted_pkcs8_key),
    T (test_load_rejects_proc_type_encrypted_key),
    T (test_load_rejects_two_keys),
    T (test_load_rejects_mismatched_key),
    T (test_load_rejects_mismatched_key_type),
    T (test_load_rejects_truncated_block),
    T (test_load_rejects_bad_base64),
    T (test_load_rejects_garbage_certificate),
    T (test_load_rejects_huge_file),
    T (test_load_through_pipe),
    T (test_load_rejects_huge_pipe),
    T (test_parse_from_memory),
    T (test_generate_ecdsa_contents),
    T (test_generate_serials_differ),
    T (test_generate_rsa),
    T (test_generate_mode_0640_and_no_leftovers),
    T (test_generate_sets_owner),
    T (test_generate_creates_missing_dir),
    T (test_ensure_keeps_existing),
    T (test_ensure_generates_when_missing),
    T (test_generate_reports_unwritable_dir),
    T (test_generate_keeps_file_that_appeared_meanwhile),
    T (test_generate_race_ends_with_one_valid_file),
    T (test_handshake_with_generated_ecdsa),
    T (test_handshake_with_generated_rsa),
    T (test_generated_cert_matches_its_names_only),
    T (test_combine_crt_and_key),
    T (test_combine_replaces_existing),
    T (test_combine_rejects_mismatch),
    T (test_combine_reports_bad_input_file),
    T (test_combine_without_files),
  };
#undef T

  return cmocka_run_group_tests_name ("certificate", tests, NULL, NULL);
}
