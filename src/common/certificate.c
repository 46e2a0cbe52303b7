/* certificate.c: find, load, validate, generate and combine the server's
 * .cert files (doc/architecture.md, "Certificates"). GnuTLS only. */
#include "config.h"

#include "common/certificate.h"
#include "common/rcutil.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SELF_SIGNED_NAME "0-self-signed.cert"
#define CERT_SUFFIX ".cert"

G_DEFINE_QUARK (certificate-error-quark, certificate_error)

/* ------------------------------------------------------------------------
 * PEM parsing: we classify the blocks ourselves so that every malformed
 * file gets a precise reason; GnuTLS then imports each block. */

typedef enum {
  BLOCK_OTHER,
  BLOCK_CERTIFICATE,
  BLOCK_KEY,            /* PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY */
  BLOCK_ENCRYPTED_KEY,  /* ENCRYPTED PRIVATE KEY, or Proc-Type: 4,ENCRYPTED */
  BLOCK_UNSUPPORTED_KEY /* some other "... PRIVATE KEY" */
} BlockKind;

typedef struct {
  BlockKind kind;
  gchar *label;
  gchar *text;          /* BEGIN line through END line, newline terminated */
  const gchar *source;  /* file it came from (borrowed) */
} PemBlock;

static void
pem_block_free (gpointer data)
{
  PemBlock *block = data;
  /* key material does not outlive its use */
  if (block->kind != BLOCK_CERTIFICATE && block->kind != BLOCK_OTHER)
    gnutls_memset (block->text, 0, strlen (block->text));
  g_free (block->label);
  g_free (block->text);
  g_free (block);
}

static BlockKind
classify_label (const gchar *label)
{
  if (g_str_equal (label, "CERTIFICATE") || g_str_equal (label, "X509 CERTIFICATE"))
    return BLOCK_CERTIFICATE;
  if (g_str_equal (label, "PRIVATE KEY") || g_str_equal (label, "RSA PRIVATE KEY") ||
      g_str_equal (label, "EC PRIVATE KEY"))
    return BLOCK_KEY;
  if (g_str_equal (label, "ENCRYPTED PRIVATE KEY"))
    return BLOCK_ENCRYPTED_KEY;
  if (g_str_has_suffix (label, "PRIVATE KEY"))
    return BLOCK_UNSUPPORTED_KEY;
  return BLOCK_OTHER;
}

/* Returns the label of "-----BEGIN LABEL-----" (or END), or NULL. */
static gchar *
boundary_label (const gchar *line, gsize len, const gchar *what)
{
  g_autofree gchar *prefix = g_strdup_printf ("-----%s ", what);
  gsize plen = strlen (prefix);

  while (len > 0 && g_ascii_isspace (line[len - 1]))
    len--;
  if (len < plen + 5 || strncmp (line, prefix, plen) != 0 || strncmp (line + len - 5, "-----", 5) != 0)
    return NULL;
  return g_strndup (line + plen, len - plen - 5);
}

static gboolean
is_base64_line (const gchar *line, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      gchar c = line[i];
      if (!(g_ascii_isalnum (c) || c == '+' || c == '/' || c == '=' || g_ascii_isspace (c)))
        return FALSE;
    }
  return TRUE;
}

/* Check the body between BEGIN and END: optional RFC 1421 headers, then
 * base64 of a length that is a multiple of four with padding only at the end. */
static gboolean
check_block_body (gchar **lines, guint n, gboolean *encrypted)
{
  guint i = 0;
  gsize count = 0;
  gboolean seen_pad = FALSE;

  /* headers ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ...") end with a blank line */
  if (n > 0 && strchr (lines[0], ':'))
    {
      for (; i < n && lines[i][0] != '\0' && lines[i][0] != '\r'; i++)
        {
          if (g_str_has_prefix (lines[i], "Proc-Type:") && strstr (lines[i], "ENCRYPTED"))
            *encrypted = TRUE;
        }
    }

  for (; i < n; i++)
    {
      const gchar *line = lines[i];
      gsize len = strlen (line);
      if (!is_base64_line (line, len))
        return FALSE;
      for (gsize j = 0; j < len; j++)
        {
          if (g_ascii_isspace (line[j]))
            continue;
          if (line[j] == '=')
            seen_pad = TRUE;
          else if (seen_pad)
            return FALSE;
          count++;
        }
    }
  return count > 0 && count % 4 == 0;
}

/* Index of the END line of the block that begins at lines[begin] with
 * @label: the next "-----" line, when it is "-----END LABEL-----". N when
 * there is none. */
static guint
find_block_end (gchar **lines, guint n, guint begin, const gchar *label)
{
  guint end = begin + 1;

  while (end < n && !g_str_has_prefix (lines[end], "-----"))
    end++;
  if (end == n)
    return n;
  g_autofree gchar *end_label = boundary_label (lines[end], strlen (lines[end]), "END");
  return end_label && g_str_equal (end_label, label) ? end : n;
}

/* lines[begin+1 .. end-1] is the body; "\r" stripped for the check. */
static gboolean
block_body_ok (gchar **lines, guint begin, guint end, gboolean *encrypted)
{
  g_autoptr(GPtrArray) body = g_ptr_array_new_with_free_func (g_free);

  for (guint j = begin + 1; j < end; j++)
    g_ptr_array_add (body, g_strchomp (g_strdup (lines[j])));
  return check_block_body ((gchar **) body->pdata, body->len, encrypted);
}

/* BEGIN line through END line, each line ending in "\n" only. */
static gchar *
block_text (gchar **lines, guint begin, guint end)
{
  GString *text = g_string_new (NULL);

  for (guint j = begin; j <= end; j++)
    {
      g_autofree gchar *line = g_strchomp (g_strdup (lines[j]));
      g_string_append (text, line);
      g_string_append_c (text, '\n');
    }
  return g_string_free (text, FALSE);
}

/* The block that begins at lines[begin] (its BEGIN line's @label); *END is
 * set to the index of its END line. */
static PemBlock *
parse_block (const gchar *path, gchar **lines, guint n, guint begin, const gchar *label,
             guint *end, GError **error)
{
  gboolean encrypted = FALSE;
  PemBlock *block;

  *end = find_block_end (lines, n, begin, label);
  if (*end == n)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_TRUNCATED,
                   _("%s: truncated PEM block \"%s\": BEGIN without END"), path, label);
      return NULL;
    }
  if (!block_body_ok (lines, begin, *end, &encrypted))
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_TRUNCATED,
                   _("%s: truncated PEM block \"%s\": invalid base64 data"), path, label);
      return NULL;
    }

  block = g_new0 (PemBlock, 1);
  block->kind = classify_label (label);
  if (block->kind == BLOCK_KEY && encrypted)
    block->kind = BLOCK_ENCRYPTED_KEY;
  block->label = g_strdup (label);
  block->text = block_text (lines, begin, *end);
  block->source = path;
  return block;
}

/* Parse all PEM blocks of @contents into @blocks; text around them is
 * ignored, but there must be at least one. */
static gboolean
parse_pem (const gchar *path, const gchar *contents, GPtrArray *blocks, GError **error)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  guint n = g_strv_length (lines);
  guint found = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree gchar *label = boundary_label (lines[i], strlen (lines[i]), "BEGIN");
      PemBlock *block;
      guint end;

      if (!label)
        continue;
      block = parse_block (path, lines, n, i, label, &end, error);
      if (!block)
        return FALSE;
      g_ptr_array_add (blocks, block);
      found++;
      i = end;
    }

  if (found == 0)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_PEM,
                   _("%s: not a PEM file (no \"-----BEGIN\" block)"), path);
      return FALSE;
    }
  return TRUE;
}

#define MAX_FILE_SIZE (1024 * 1024)

/* Read a whole file of at most MAX_FILE_SIZE bytes: the descriptor that was
 * opened and checked, so there is no window to swap the file in between.
 * Returns the contents (not NUL-terminated) and sets *LENGTH. */
static gchar *
read_file (const gchar *path, gsize *length, GError **error)
{
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree gchar *buf = NULL;
  struct stat st;
  int errsv = 0;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 || fstat (fd, &st) < 0)
    errsv = errno;
  else if (S_ISDIR (st.st_mode))
    errsv = EISDIR;
  else if (st.st_size > MAX_FILE_SIZE)
    errsv = EFBIG;
  if (errsv != 0)
    {
      if (fd >= 0)
        close (fd);
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNREADABLE,
                   _("%s: cannot read: %s"), path, g_strerror (errsv));
      return NULL;
    }

  /* one byte more than allowed tells a file that grew since fstat() */
  in = g_unix_input_stream_new (fd, TRUE);
  buf = g_malloc (MAX_FILE_SIZE + 1);
  *length = 0;
  if (!g_input_stream_read_all (in, buf, MAX_FILE_SIZE + 1, length, NULL, &local) ||
      *length > MAX_FILE_SIZE)
    {
      gnutls_memset (buf, 0, *length);
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNREADABLE,
                   _("%s: cannot read: %s"), path, local ? local->message : g_strerror (EFBIG));
      return NULL;
    }
  return g_steal_pointer (&buf);
}

static gboolean
parse_pem_data (const gchar *name, const gchar *data, gsize length, GPtrArray *blocks, GError **error)
{
  g_autofree gchar *contents = NULL;

  if (memchr (data, '\0', length))
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_PEM,
                   _("%s: not a PEM file (binary data)"), name);
      return FALSE;
    }
  contents = g_strndup (data, length);
  gboolean ok = parse_pem (name, contents, blocks, error);
  gnutls_memset (contents, 0, length);
  return ok;
}

static gboolean
read_pem_file (const gchar *path, GPtrArray *blocks, GError **error)
{
  g_autofree gchar *contents = NULL;
  gsize length = 0;

  contents = read_file (path, &length, error);
  if (!contents)
    return FALSE;
  gboolean ok = parse_pem_data (path, contents, length, blocks, error);
  gnutls_memset (contents, 0, length);
  return ok;
}

/* ------------------------------------------------------------------------
 * Building a Certificate from blocks */

void
certificate_free (Certificate *cert)
{
  if (!cert)
    return;
  for (guint i = 0; i < cert->n_certs; i++)
    gnutls_x509_crt_deinit (cert->certs[i]);
  g_free (cert->certs);
  if (cert->key)
    gnutls_x509_privkey_deinit (cert->key);
  g_free (cert->path);
  g_free (cert->validity_warning);
  g_free (cert);
}

static gchar *
format_time (time_t t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t);
  if (!dt)
    return g_strdup ("?");
  return g_date_time_format (dt, "%Y-%m-%d %H:%M:%S UTC");
}

static gboolean
key_matches_cert (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
  guchar cid[64], kid[64];
  size_t clen = sizeof cid, klen = sizeof kid;

  if (gnutls_x509_crt_get_key_id (crt, GNUTLS_KEYID_USE_SHA256, cid, &clen) < 0)
    return FALSE;
  if (gnutls_x509_privkey_get_key_id (key, GNUTLS_KEYID_USE_SHA256, kid, &klen) < 0)
    return FALSE;
  return clen == klen && memcmp (cid, kid, clen) == 0;
}

/* Building a Certificate goes in steps, each setting @error and returning
 * FALSE on failure; the caller's g_autoptr(Certificate) frees whatever was
 * built so far. @name is what errors about the file as a whole start with
 * (a path, or a list of paths); errors about one block name its file. */

/* The one private key block, refusing encrypted keys, unsupported key types
 * and a second key. *KEY_BLOCK stays NULL when there is no key; import_key()
 * reports that, after the certificates have been checked. */
static gboolean
find_key_block (const gchar *name, GPtrArray *blocks, PemBlock **key_block, GError **error)
{
  guint n_keys = 0;

  *key_block = NULL;
  for (guint i = 0; i < blocks->len; i++)
    {
      PemBlock *block = blocks->pdata[i];
      switch (block->kind)
        {
        case BLOCK_ENCRYPTED_KEY:
          g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_ENCRYPTED_KEY,
                       _("%s: private key is encrypted"), block->source);
          return FALSE;
        case BLOCK_UNSUPPORTED_KEY:
          g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_INVALID,
                       _("%s: unsupported private key type \"%s\""), block->source, block->label);
          return FALSE;
        case BLOCK_KEY:
          n_keys++;
          *key_block = block;
          break;
        case BLOCK_CERTIFICATE:
        case BLOCK_OTHER:
          break;
        }
    }

  if (n_keys > 1)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_TWO_KEYS,
                   _("%s: more than one private key"), name);
      return FALSE;
    }
  return TRUE;
}

/* Append the certificate of @block to cert->certs (which has room for it). */
static gboolean
import_certificate (const gchar *name, const PemBlock *block, Certificate *cert, GError **error)
{
  gnutls_datum_t data = { (guchar *) block->text, strlen (block->text) };
  gnutls_x509_crt_t *crt = &cert->certs[cert->n_certs];
  int ret;

  ret = gnutls_x509_crt_init (crt);
  if (ret < 0)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_FAILED,
                   "%s: %s", name, gnutls_strerror (ret));
      return FALSE;
    }
  cert->n_certs++;
  ret = gnutls_x509_crt_import (*crt, &data, GNUTLS_X509_FMT_PEM);
  if (ret < 0)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_INVALID,
                   _("%s: invalid certificate %u: %s"), block->source, cert->n_certs, gnutls_strerror (ret));
      return FALSE;
    }
  return TRUE;
}

/* All certificate blocks, in file order; at least one. */
static gboolean
import_certificates (const gchar *name, GPtrArray *blocks, Certificate *cert, GError **error)
{
  cert->certs = g_new0 (gnutls_x509_crt_t, blocks->len);
  for (guint i = 0; i < blocks->len; i++)
    {
      PemBlock *block = blocks->pdata[i];

      if (block->kind == BLOCK_OTHER)
        g_debug ("%s: ignoring PEM block \"%s\"", block->source, block->label);
      if (block->kind == BLOCK_CERTIFICATE && !import_certificate (name, block, cert, error))
        return FALSE;
    }

  if (cert->n_certs == 0)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_CERTIFICATE,
                   _("%s: no certificate found"), name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
import_key (const gchar *name, const PemBlock *key_block, Certificate *cert, GError **error)
{
  int ret;

  if (!key_block)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_KEY,
                   _("%s: no private key found"), name);
      return FALSE;
    }

  ret = gnutls_x509_privkey_init (&cert->key);
  if (ret >= 0)
    {
      gnutls_datum_t data = { (guchar *) key_block->text, strlen (key_block->text) };
      ret = gnutls_x509_privkey_import2 (cert->key, &data, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
    }
  if (ret < 0)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_INVALID,
                   _("%s: invalid private key: %s"), key_block->source, gnutls_strerror (ret));
      return FALSE;
    }
  return TRUE;
}

/* The key must belong to the first certificate. With @reorder (combining
 * files given in any order) the certificate it belongs to moves to the
 * front instead, the others keeping their order. */
static gboolean
put_server_first (const gchar *name, Certificate *cert, gboolean reorder, GError **error)
{
  guint match = 0;

  if (key_matches_cert (cert->certs[0], cert->key))
    return TRUE;
  if (reorder)
    {
      for (match = 1; match < cert->n_certs; match++)
        if (key_matches_cert (cert->certs[match], cert->key))
          break;
    }
  if (match == 0 || match == cert->n_certs)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_MISMATCH,
                   _("%s: private key does not match the certificate"), name);
      return FALSE;
    }

  gnutls_x509_crt_t server = cert->certs[match];
  memmove (&cert->certs[1], &cert->certs[0], match * sizeof cert->certs[0]);
  cert->certs[0] = server;
  return TRUE;
}

/* Outside its validity period the server certificate still loads (the
 * server must start to be fixed), with a warning logged and kept. */
static void
note_validity (const gchar *name, Certificate *cert)
{
  time_t now = time (NULL);
  time_t not_before = gnutls_x509_crt_get_activation_time (cert->certs[0]);
  time_t not_after = gnutls_x509_crt_get_expiration_time (cert->certs[0]);

  if (not_after != (time_t) -1 && now > not_after)
    {
      g_autofree gchar *when = format_time (not_after);
      cert->validity_warning = g_strdup_printf (_("expired on %s"), when);
    }
  else if (not_before != (time_t) -1 && now < not_before)
    {
      g_autofree gchar *when = format_time (not_before);
      cert->validity_warning = g_strdup_printf (_("not valid before %s"), when);
    }
  if (cert->validity_warning)
    g_warning ("%s: certificate %s", name, cert->validity_warning);
}

static Certificate *
certificate_from_blocks (const gchar *name, GPtrArray *blocks, gboolean reorder, GError **error)
{
  g_autoptr(Certificate) cert = g_new0 (Certificate, 1);
  PemBlock *key_block = NULL;

  if (!find_key_block (name, blocks, &key_block, error) ||
      !import_certificates (name, blocks, cert, error) ||
      !import_key (name, key_block, cert, error) ||
      !put_server_first (name, cert, reorder, error))
    return NULL;
  note_validity (name, cert);
  return g_steal_pointer (&cert);
}

Certificate *
certificate_parse (const gchar *name, const gchar *data, gsize length, GError **error)
{
  g_autoptr(GPtrArray) blocks = g_ptr_array_new_with_free_func (pem_block_free);

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (!parse_pem_data (name, data ? data : "", length, blocks, error))
    return NULL;
  Certificate *cert = certificate_from_blocks (name, blocks, FALSE, error);
  if (cert)
    cert->path = g_strdup (name);
  return cert;
}

Certificate *
certificate_load (const gchar *path, GError **error)
{
  g_autoptr(GPtrArray) blocks = g_ptr_array_new_with_free_func (pem_block_free);
  g_autofree gchar *abs = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  abs = g_path_is_absolute (path) ? g_strdup (path) : g_canonicalize_filename (path, NULL);
  if (!read_pem_file (abs, blocks, error))
    return NULL;

  Certificate *cert = certificate_from_blocks (abs, blocks, FALSE, error);
  if (!cert)
    return NULL;
  cert->path = g_steal_pointer (&abs);
  g_debug ("%s: loaded certificate with %u chain element(s)", cert->path, cert->n_certs);
  return cert;
}

/* ------------------------------------------------------------------------
 * Finding */

gchar *
certificate_find_last (const gchar *dir, GError **error)
{
  g_autofree gchar *abs_dir = NULL;
  g_autofree gchar *best = NULL;
  struct dirent *entry;
  DIR *d;

  g_return_val_if_fail (dir != NULL, NULL);
  abs_dir = g_canonicalize_filename (dir, NULL);

  d = opendir (abs_dir);
  if (!d)
    {
      int errsv = errno;
      if (errsv == ENOENT)
        g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NOT_FOUND,
                     _("No certificate found in dir: %s"), abs_dir);
      else
        g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNREADABLE,
                     _("%s: cannot read directory: %s"), abs_dir, g_strerror (errsv));
      return NULL;
    }

  while ((entry = readdir (d)) != NULL)
    {
      const gchar *name = entry->d_name;
      struct stat st;

      if (name[0] == '.' || !g_str_has_suffix (name, CERT_SUFFIX))
        continue;
      if (best && strcmp (name, best) <= 0)
        continue;

      /* follow symlinks (Kubernetes secrets are symlinks); regular files only */
      if (fstatat (dirfd (d), name, &st, 0) < 0 || !S_ISREG (st.st_mode))
        continue;
      g_free (best);
      best = g_strdup (name);
    }
  closedir (d);

  if (!best)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NOT_FOUND,
                   _("No certificate found in dir: %s"), abs_dir);
      return NULL;
    }
  return g_build_filename (abs_dir, best, NULL);
}

Certificate *
certificate_load_dir (const gchar *dir, GError **error)
{
  g_autofree gchar *path = certificate_find_last (dir, error);
  if (!path)
    return NULL;
  g_debug ("using certificate %s", path);
  return certificate_load (path, error);
}

gnutls_certificate_credentials_t
certificate_credentials_new (const Certificate *cert, GError **error)
{
  gnutls_certificate_credentials_t creds = NULL;
  int ret;

  g_return_val_if_fail (cert != NULL, NULL);

  ret = gnutls_certificate_allocate_credentials (&creds);
  if (ret < 0)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_FAILED,
                   _("cannot allocate TLS credentials: %s"), gnutls_strerror (ret));
      return NULL;
    }
  ret = gnutls_certificate_set_x509_key (creds, cert->certs, cert->n_certs, cert->key);
  if (ret < 0)
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_INVALID,
                   _("%s: cannot use certificate and key: %s"),
                   cert->path ? cert->path : "certificate", gnutls_strerror (ret));
      gnutls_certificate_free_credentials (creds);
      return NULL;
    }
  return creds;
}

/* ------------------------------------------------------------------------
 * Writing */

static gboolean
fsync_dir (const gchar *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync (fd) < 0)
    {
      int errsv = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNWRITABLE,
                   _("%s: cannot sync directory: %s"), dir, g_strerror (errsv));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static gboolean
ensure_dir (const gchar *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int errsv = errno;
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNWRITABLE,
                   _("%s: cannot create directory: %s"), dir, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

/* Write all of @data to @fd; FALSE with errno set on failure. */
static gboolean
write_all (int fd, const gchar *data, gsize len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, data, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return FALSE;
      data += w;
      len -= w;
    }
  return TRUE;
}

/* Fill the new temporary file @fd for @target: contents, mode, owner, on
 * disk. Closes @fd in every case. */
static gboolean
fill_temp (int fd, const gchar *target, const gchar *data, gsize len,
           uid_t uid, gid_t gid, GError **error)
{
  gboolean owner_failed = FALSE;
  int errsv = 0;

  if (!write_all (fd, data, len) || fchmod (fd, 0640) < 0)
    errsv = errno;
  else if ((uid != (uid_t) -1 || gid != (gid_t) -1) && fchown (fd, uid, gid) < 0)
    errsv = errno, owner_failed = TRUE;
  else if (fsync (fd) < 0)
    errsv = errno;
  if (close (fd) < 0 && errsv == 0)
    errsv = errno;

  if (errsv == 0)
    return TRUE;
  if (owner_failed)
    g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNWRITABLE,
                 _("%s: cannot set owner: %s"), target, g_strerror (errsv));
  else
    g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNWRITABLE,
                 _("%s: cannot write: %s"), target, g_strerror (errsv));
  return FALSE;
}

/* Write @data to a complete, synced temporary file beside @target.
 * Returns the temporary path. */
static gchar *
write_temp (const gchar *target, const gchar *data, gsize len,
            uid_t uid, gid_t gid, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (target);
  g_autofree gchar *base = g_path_get_basename (target);
  g_autofree gchar *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  int fd;

  if (!ensure_dir (dir, error))
    return NULL;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0640);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNWRITABLE,
                   _("%s: cannot create temporary file: %s"), dir, g_strerror (errsv));
      return NULL;
    }
  if (!fill_temp (fd, target, data, len, uid, gid, error))
    {
      g_unlink (tmp);
      return NULL;
    }
  return g_steal_pointer (&tmp);
}

/* Atomically put @data at @target. With @no_replace an existing @target
 * wins (the other racer's complete file stays in place). */
static gboolean
write_atomic (const gchar *target, const gchar *data, gsize len,
              uid_t uid, gid_t gid, gboolean no_replace, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (target);
  g_autofree gchar *tmp = write_temp (target, data, len, uid, gid, error);
  int errsv;

  if (!tmp)
    return FALSE;

  if (no_replace)
    {
      /* link() fails with EEXIST when another process got there first */
      if (link (tmp, target) < 0)
        {
          errsv = errno;
          if (errsv == EEXIST)
            {
              g_debug ("%s: created concurrently, keeping that one", target);
              g_unlink (tmp);
              return fsync_dir (dir, error);
            }
          if (errsv != EPERM && errsv != ENOTSUP && errsv != EOPNOTSUPP && errsv != ENOSYS)
            goto fail;
          /* no hard links on this file system: rename instead */
          if (rename (tmp, target) < 0)
            {
              errsv = errno;
              goto fail;
            }
        }
      else
        {
          g_unlink (tmp);
        }
    }
  else if (rename (tmp, target) < 0)
    {
      errsv = errno;
      goto fail;
    }

  return fsync_dir (dir, error);

fail:
  g_unlink (tmp);
  g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_UNWRITABLE,
               _("%s: cannot write: %s"), target, g_strerror (errsv));
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Generation: each GnuTLS step returns GnuTLS's error code, and
 * certificate_generate_self_signed() turns the first failure into the one
 * error "cannot generate certificate". */

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)

#define TRY(call) G_STMT_START {                                                \
    int ret_ = (call);                                                            \
    if (ret_ < 0)                                                                 \
      return ret_;                                                                \
  } G_STMT_END

static int
generate_key (CertificateKeyType type, gnutls_x509_privkey_t *key)
{
  TRY (gnutls_x509_privkey_init (key));
  if (type == CERTIFICATE_KEY_RSA_2048)
    return gnutls_x509_privkey_generate2 (*key, GNUTLS_PK_RSA, 2048, 0, NULL, 0);
  return gnutls_x509_privkey_generate2 (*key, GNUTLS_PK_ECDSA,
                                        GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0);
}

/* A random serial; valid from a day ago (clocks differ) for a year. */
static int
set_serial_and_validity (gnutls_x509_crt_t crt)
{
  guchar serial[16];
  time_t now = time (NULL);

  rc_random_nonce (serial, sizeof serial);
  serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, full 16 bytes */
  TRY (gnutls_x509_crt_set_serial (crt, serial, sizeof serial));
  TRY (gnutls_x509_crt_set_activation_time (crt, now - 24 * 60 * 60));
  return gnutls_x509_crt_set_expiration_time (crt, now + 365 * 24 * 60 * 60);
}

/* @host as common name and DNS name, and localhost, 127.0.0.1 and ::1. */
static int
set_names (gnutls_x509_crt_t crt, const gchar *host)
{
  static const guchar ipv4[4] = { 127, 0, 0, 1 };
  static const guchar ipv6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

  TRY (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, host, strlen (host)));
  TRY (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, host, strlen (host),
                                             GNUTLS_FSAN_APPEND));
  if (!g_str_equal (host, "localhost"))
    TRY (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, "localhost", strlen ("localhost"),
                                               GNUTLS_FSAN_APPEND));
  TRY (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, ipv4, sizeof ipv4,
                                             GNUTLS_FSAN_APPEND));
  return gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, ipv6, sizeof ipv6,
                                               GNUTLS_FSAN_APPEND);
}

/* A TLS server certificate (no CA) for @key, signed with it. */
static int
sign_server_certificate (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, gboolean rsa)
{
  guchar keyid[64];
  size_t keyid_size = sizeof keyid;

  TRY (gnutls_x509_crt_set_basic_constraints (crt, 0, -1));
  TRY (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
                                      (rsa ? GNUTLS_KEY_KEY_ENCIPHERMENT : 0)));
  TRY (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
  TRY (gnutls_x509_crt_set_key (crt, key));
  TRY (gnutls_x509_privkey_get_key_id (key, 0, keyid, &keyid_size));
  TRY (gnutls_x509_crt_set_subject_key_id (crt, keyid, keyid_size));
  return gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0);
}

/* Append the certificate, then the key (PKCS#8), in PEM to @out. */
static int
export_pem (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, GString *out)
{
  gnutls_datum_t pem = { NULL, 0 };

  TRY (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &pem));
  g_string_append_len (out, (const gchar *) pem.data, pem.size);
  gnutls_free (pem.data);
  TRY (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &pem));
  g_string_append_len (out, (const gchar *) pem.data, pem.size);
  gnutls_memset (pem.data, 0, pem.size);
  gnutls_free (pem.data);
  return 0;
}

/* A new key and its self-signed certificate for @host, PEM, into @out. */
static int
self_signed_pem (CertificateKeyType type, const gchar *host, GString *out)
{
  g_auto(gnutls_x509_privkey_t) key = NULL;
  g_auto(gnutls_x509_crt_t) crt = NULL;

  TRY (generate_key (type, &key));
  TRY (gnutls_x509_crt_init (&crt));
  TRY (gnutls_x509_crt_set_version (crt, 3));
  TRY (set_serial_and_validity (crt));
  TRY (set_names (crt, host));
  TRY (sign_server_certificate (crt, key, type == CERTIFICATE_KEY_RSA_2048));
  return export_pem (crt, key, out);
}

#undef TRY

gchar *
certificate_generate_self_signed (const gchar *dir, CertificateKeyType type,
                                  uid_t uid, gid_t gid, GError **error)
{
  g_autofree gchar *abs_dir = g_canonicalize_filename (dir, NULL);
  g_autofree gchar *path = g_build_filename (abs_dir, SELF_SIGNED_NAME, NULL);
  const gchar *host = g_get_host_name ();
  g_autoptr(GString) pem = g_string_new (NULL);
  gboolean ok;
  int ret;

  ret = self_signed_pem (type, host, pem);
  if (ret < 0)
    {
      gnutls_memset (pem->str, 0, pem->len);
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_FAILED,
                   _("%s: cannot generate certificate: %s"), path, gnutls_strerror (ret));
      return NULL;
    }
  ok = write_atomic (path, pem->str, pem->len, uid, gid, TRUE, error);
  gnutls_memset (pem->str, 0, pem->len);
  if (!ok)
    return NULL;

  g_debug ("%s: generated self-signed %s certificate for %s", path,
           type == CERTIFICATE_KEY_RSA_2048 ? "RSA 2048" : "ECDSA P-256", host);
  return g_steal_pointer (&path);
}

gchar *
certificate_ensure (const gchar *dir, CertificateKeyType type,
                    uid_t uid, gid_t gid, GError **error)
{
  g_autoptr(GError) local = NULL;
  gchar *path = certificate_find_last (dir, &local);

  if (path)
    return path;
  if (!g_error_matches (local, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return certificate_generate_self_signed (dir, type, uid, gid, error);
}

/* ------------------------------------------------------------------------
 * Combining */

/* DIR/NAME.cert, NAME being @first's base name without its extension. */
static gchar *
combined_target (const gchar *dir, const gchar *first)
{
  g_autofree gchar *abs_dir = g_canonicalize_filename (dir, NULL);
  g_autofree gchar *base = g_path_get_basename (first);
  gchar *dot = strrchr (base, '.');

  if (dot && dot != base)
    *dot = '\0';
  return g_strdup_printf ("%s/%s%s", abs_dir, base, CERT_SUFFIX);
}

/* The certificates (server first, then the chain in the given order), then
 * the key block as it was given, appended to @out. */
static gboolean
combined_pem (const Certificate *cert, GPtrArray *blocks, const gchar *target,
              GString *out, GError **error)
{
  for (guint i = 0; i < cert->n_certs; i++)
    {
      gnutls_datum_t pem = { NULL, 0 };
      int ret = gnutls_x509_crt_export2 (cert->certs[i], GNUTLS_X509_FMT_PEM, &pem);
      if (ret < 0)
        {
          g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_FAILED,
                       _("%s: cannot export certificate: %s"), target, gnutls_strerror (ret));
          return FALSE;
        }
      g_string_append_len (out, (const gchar *) pem.data, pem.size);
      gnutls_free (pem.data);
    }
  for (guint i = 0; i < blocks->len; i++)
    {
      PemBlock *block = blocks->pdata[i];
      if (block->kind == BLOCK_KEY)
        g_string_append (out, block->text);
    }
  return TRUE;
}

gchar *
certificate_combine (const gchar *dir, const gchar *const *files,
                     uid_t uid, gid_t gid, GError **error)
{
  g_autoptr(GPtrArray) blocks = g_ptr_array_new_with_free_func (pem_block_free);
  g_auto(GStrv) paths = NULL;
  g_autofree gchar *names = NULL;
  g_autofree gchar *target = NULL;
  g_autoptr(Certificate) cert = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean ok;

  g_return_val_if_fail (dir != NULL, NULL);
  if (!files || !files[0])
    {
      g_set_error (error, CERTIFICATE_ERROR, CERTIFICATE_ERROR_NO_FILES, _("no files to combine"));
      return NULL;
    }

  paths = g_new0 (gchar *, g_strv_length ((gchar **) files) + 1);
  for (guint i = 0; files[i]; i++)
    {
      paths[i] = g_canonicalize_filename (files[i], NULL);
      if (!read_pem_file (paths[i], blocks, error))
        return NULL;
    }
  names = g_strjoinv (", ", paths);
  cert = certificate_from_blocks (names, blocks, TRUE, error);
  if (!cert)
    return NULL;

  target = combined_target (dir, paths[0]);
  ok = combined_pem (cert, blocks, target, out, error) &&
       write_atomic (target, out->str, out->len, uid, gid, FALSE, error);
  gnutls_memset (out->str, 0, out->len);
  if (!ok)
    return NULL;
  return g_steal_pointer (&target);
}
