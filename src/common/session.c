/* session.c: sealed session cookies (AES-256-GCM, GnuTLS) and the key file.
 * See session.h. */
#include "config.h"

#include "common/session.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <json-glib/json-glib.h>

#define NONCE_SIZE 12
#define TAG_SIZE 16
#define SESSION_AD "cockpit-session-1"
#define MAX_COOKIE_CHARS 8192

G_DEFINE_QUARK (session-error-quark, session_error)

struct _SessionKey {
  gnutls_aead_cipher_hd_t cipher;
};

RcSession *
rc_session_copy (const RcSession *session)
{
  RcSession *copy = g_new0 (RcSession, 1);
  copy->user = g_strdup (session->user);
  copy->credential = g_strdup (session->credential);
  copy->backend = g_strdup (session->backend);
  copy->expires = session->expires;
  return copy;
}

void
rc_session_free (RcSession *session)
{
  if (!session)
    return;
  g_free (session->user);
  if (session->credential)
    {
      explicit_bzero (session->credential, strlen (session->credential));
      g_free (session->credential);
    }
  g_free (session->backend);
  g_free (session);
}

SessionKey *
session_key_new_from_bytes (const guint8 *bytes, gsize len, GError **error)
{
  if (len != SESSION_KEY_SIZE)
    {
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY,
                   "session key must be %d bytes, not %" G_GSIZE_FORMAT, SESSION_KEY_SIZE, len);
      return NULL;
    }
  gnutls_datum_t datum = { (unsigned char *) bytes, (unsigned int) len };
  SessionKey *key = g_new0 (SessionKey, 1);
  int ret = gnutls_aead_cipher_init (&key->cipher, GNUTLS_CIPHER_AES_256_GCM, &datum);
  if (ret < 0)
    {
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY,
                   "cannot initialize AES-256-GCM: %s", gnutls_strerror (ret));
      g_free (key);
      return NULL;
    }
  return key;
}

void
session_key_free (SessionKey *key)
{
  if (!key)
    return;
  gnutls_aead_cipher_deinit (key->cipher);
  g_free (key);
}

/* Decode the key file's content: raw, hex or base64. */
static gboolean
decode_key (const gchar *data, gsize len, guint8 out[SESSION_KEY_SIZE])
{
  if (len == SESSION_KEY_SIZE)
    {
      memcpy (out, data, SESSION_KEY_SIZE);
      return TRUE;
    }
  g_autofree gchar *text = g_strndup (data, len);
  g_strstrip (text);
  gsize n = strlen (text);
  if (n == SESSION_KEY_SIZE * 2)
    {
      for (gsize i = 0; i < SESSION_KEY_SIZE; i++)
        {
          int hi = g_ascii_xdigit_value (text[2 * i]);
          int lo = g_ascii_xdigit_value (text[2 * i + 1]);
          if (hi < 0 || lo < 0)
            goto try_base64;
          out[i] = (guint8) (hi << 4 | lo);
        }
      return TRUE;
    }
try_base64:
  if (n >= 43 && n <= 44)
    {
      gsize dlen = 0;
      g_autofree guchar *dec = g_base64_decode (text, &dlen);
      if (dec && dlen == SESSION_KEY_SIZE)
        {
          memcpy (out, dec, SESSION_KEY_SIZE);
          explicit_bzero (dec, dlen);
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
create_key_file (const gchar *path, gboolean *won, GError **error)
{
  guint8 raw[SESSION_KEY_SIZE];
  int ret = gnutls_rnd (GNUTLS_RND_KEY, raw, sizeof raw);
  if (ret < 0)
    {
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY, "%s: cannot generate key: %s",
                   path, gnutls_strerror (ret));
      return FALSE;
    }
  gchar hex[SESSION_KEY_SIZE * 2 + 2];
  for (gsize i = 0; i < SESSION_KEY_SIZE; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", raw[i]);
  hex[SESSION_KEY_SIZE * 2] = '\n';
  hex[SESSION_KEY_SIZE * 2 + 1] = '\0';
  explicit_bzero (raw, sizeof raw);

  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *tmp = g_build_filename (dir, ".session.key.XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY, "%s: cannot create: %s",
                   path, g_strerror (e));
      return FALSE;
    }
  gsize len = SESSION_KEY_SIZE * 2 + 1;
  gboolean ok = write (fd, hex, len) == (gssize) len && fsync (fd) == 0;
  int e = errno;
  explicit_bzero (hex, sizeof hex);
  close (fd);
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY, "%s: cannot write: %s",
                   path, g_strerror (e));
      return FALSE;
    }
  /* link() fails with EEXIST if another process got there first: then its
   * key wins and we read that one. */
  *won = TRUE;
  if (link (tmp, path) < 0)
    *won = FALSE;
  if (!*won && errno != EEXIST)
    {
      e = errno;
      g_unlink (tmp);
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY, "%s: cannot create: %s",
                   path, g_strerror (e));
      return FALSE;
    }
  g_unlink (tmp);
  return TRUE;
}

SessionKey *
session_key_load (const gchar *path, gboolean create, GError **error)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, &data, &len, &local))
    {
      if (!create || !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY, "%s: cannot read session key: %s",
                       path, local->message);
          return NULL;
        }
      gboolean won = FALSE;
      if (!create_key_file (path, &won, error))
        return NULL;
      if (won)
        g_message ("%s: generated a new session key", path);
      g_clear_error (&local);
      if (!g_file_get_contents (path, &data, &len, &local))
        {
          g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY, "%s: cannot read session key: %s",
                       path, local->message);
          return NULL;
        }
    }

  guint8 raw[SESSION_KEY_SIZE];
  gboolean ok = decode_key (data, len, raw);
  explicit_bzero (data, len);
  if (!ok)
    {
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY,
                   "%s: not a session key (want 32 bytes, 64 hex digits or base64 of 32 bytes)", path);
      return NULL;
    }
  SessionKey *key = session_key_new_from_bytes (raw, sizeof raw, error);
  explicit_bzero (raw, sizeof raw);
  if (key)
    g_debug ("session key loaded from %s", path);
  return key;
}

static gchar *
b64url_encode (const guint8 *data, gsize len)
{
  gchar *s = g_base64_encode (data, len);
  gsize n = strlen (s);
  for (gsize i = 0; i < n; i++)
    {
      if (s[i] == '+')
        s[i] = '-';
      else if (s[i] == '/')
        s[i] = '_';
    }
  while (n > 0 && s[n - 1] == '=')
    s[--n] = '\0';
  return s;
}

static guint8 *
b64url_decode (const gchar *text, gsize *out_len)
{
  gsize n = strlen (text);
  if (n == 0 || n > MAX_COOKIE_CHARS || n % 4 == 1)
    return NULL;
  g_autofree gchar *s = g_malloc (n + 4);
  for (gsize i = 0; i < n; i++)
    {
      gchar c = text[i];
      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (!g_ascii_isalnum (c))
        return NULL;
      s[i] = c;
    }
  while (n % 4)
    s[n++] = '=';
  s[n] = '\0';
  return g_base64_decode (s, out_len);
}

static gchar *
seal_bytes (SessionKey *key, const gchar *ad, const gchar *plain, gsize plain_len)
{
  gsize out_len = NONCE_SIZE + plain_len + TAG_SIZE;
  g_autofree guint8 *out = g_malloc (out_len);
  int ret = gnutls_rnd (GNUTLS_RND_NONCE, out, NONCE_SIZE);
  if (ret < 0)
    {
      g_critical ("gnutls_rnd: %s", gnutls_strerror (ret));
      return NULL;
    }
  size_t ct_len = plain_len + TAG_SIZE;
  ret = gnutls_aead_cipher_encrypt (key->cipher, out, NONCE_SIZE, ad, strlen (ad), TAG_SIZE,
                                    plain, plain_len, out + NONCE_SIZE, &ct_len);
  if (ret < 0)
    {
      g_critical ("gnutls_aead_cipher_encrypt: %s", gnutls_strerror (ret));
      return NULL;
    }
  return b64url_encode (out, NONCE_SIZE + ct_len);
}

/* (transfer full) NUL-terminated plaintext, or NULL */
static gchar *
open_bytes (SessionKey *key, const gchar *ad, const gchar *value, gsize *plain_len)
{
  gsize len = 0;
  g_autofree guint8 *raw = b64url_decode (value, &len);
  if (!raw || len < NONCE_SIZE + TAG_SIZE)
    return NULL;
  size_t pt_len = len - NONCE_SIZE - TAG_SIZE;
  gchar *plain = g_malloc (pt_len + 1);
  int ret = gnutls_aead_cipher_decrypt (key->cipher, raw, NONCE_SIZE, ad, strlen (ad), TAG_SIZE,
                                        raw + NONCE_SIZE, len - NONCE_SIZE, plain, &pt_len);
  if (ret < 0)
    {
      g_free (plain);
      return NULL;
    }
  plain[pt_len] = '\0';
  *plain_len = pt_len;
  return plain;
}

static void
free_secret (gchar *s)
{
  if (s)
    {
      explicit_bzero (s, strlen (s));
      g_free (s);
    }
}

gchar *
session_seal (SessionKey *key, const RcSession *session, gint64 issued)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, session->user ? session->user : "");
  json_builder_set_member_name (b, "credential");
  json_builder_add_string_value (b, session->credential ? session->credential : "");
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, session->backend ? session->backend : "");
  json_builder_set_member_name (b, "expires");
  json_builder_add_int_value (b, session->expires);
  json_builder_set_member_name (b, "issued");
  json_builder_add_int_value (b, issued);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  gchar *json = json_to_string (root, FALSE);
  gchar *sealed = seal_bytes (key, SESSION_AD, json, strlen (json));
  free_secret (json);
  return sealed;
}

/* a string member, or NULL when absent or of another type (no critical) */
static const gchar *
member_string (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* an integer member, or def when absent or of another type */
static gint64
member_int (JsonObject *o, const gchar *name, gint64 def)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return def;
  return json_node_get_int (n);
}

RcSession *
session_open (SessionKey *key, const gchar *value, gint64 now, gint64 *issued)
{
  if (!key || !value)
    return NULL;
  gsize len = 0;
  gchar *plain = open_bytes (key, SESSION_AD, value, &len);
  if (!plain)
    {
      g_debug ("session cookie does not open (garbage, tampered or another key)");
      return NULL;
    }
  g_autoptr(JsonParser) parser = json_parser_new ();
  gboolean parsed = json_parser_load_from_data (parser, plain, len, NULL);
  free_secret (plain);
  if (!parsed)
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  JsonObject *o = json_node_get_object (root);
  const gchar *user = member_string (o, "user");
  const gchar *cred = member_string (o, "credential");
  const gchar *backend = member_string (o, "backend");
  gint64 expires = member_int (o, "expires", -1);
  if (!user || !cred || !backend || expires < 0)
    return NULL;
  if (expires != 0 && expires < now)
    {
      g_debug ("session of %s expired %" G_GINT64_FORMAT " s ago", user, now - expires);
      return NULL;
    }
  if (issued)
    *issued = member_int (o, "issued", 0);
  RcSession *s = g_new0 (RcSession, 1);
  s->user = g_strdup (user);
  s->credential = g_strdup (cred);
  s->backend = g_strdup (backend);
  s->expires = expires;
  /* the parser's copy of the credential */
  json_object_set_string_member (o, "credential", "");
  return s;
}

gchar *
session_seal_string (SessionKey *key, const gchar *purpose, const gchar *text, gint64 expires)
{
  g_autofree gchar *ad = g_strdup_printf ("cockpit-%s-1", purpose);
  g_autofree gchar *plain = g_strdup_printf ("%" G_GINT64_FORMAT " %s", expires, text);
  return seal_bytes (key, ad, plain, strlen (plain));
}

gchar *
session_open_string (SessionKey *key, const gchar *purpose, const gchar *value, gint64 now)
{
  if (!key || !value)
    return NULL;
  g_autofree gchar *ad = g_strdup_printf ("cockpit-%s-1", purpose);
  gsize len = 0;
  g_autofree gchar *plain = open_bytes (key, ad, value, &len);
  if (!plain)
    return NULL;
  gchar *end = NULL;
  gint64 expires = g_ascii_strtoll (plain, &end, 10);
  if (!end || *end != ' ' || expires < now)
    return NULL;
  return g_strdup (end + 1);
}

gchar *
session_cookie_get (const gchar *cookie_header, const gchar *name)
{
  if (!cookie_header || !name)
    return NULL;
  gsize nlen = strlen (name);
  g_auto(GStrv) parts = g_strsplit (cookie_header, ";", -1);
  for (gchar **p = parts; *p; p++)
    {
      const gchar *c = *p;
      while (*c == ' ' || *c == '\t')
        c++;
      if (strncmp (c, name, nlen) == 0 && c[nlen] == '=')
        {
          g_autofree gchar *v = g_strdup (c + nlen + 1);
          g_strchomp (v);
          gsize vl = strlen (v);
          if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
            return g_strndup (v + 1, vl - 2);
          return g_steal_pointer (&v);
        }
    }
  return NULL;
}
