/* session.c: sessions, their lifetime, sealed cookies (AES-256-GCM, GnuTLS)
 * and the key file. See session.h. */
#include "config.h"

#include "common/session.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

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
#define SESSION_AD "cockpit-session-2"
#define MAX_COOKIE_CHARS 8192
#define REFRESH_AFTER_S 60
#define REVOKED_MAX 65536
#define REVOKED_PER_OWNER 256

G_DEFINE_QUARK (session-error-quark, session_error)

struct _RcSession {
  gint refs;
  gchar *id;
  gchar *user;
  gchar *backend;
  gchar *credential;
  gint64 issued;
  gint64 active;
};

struct _SessionKey {
  gnutls_aead_cipher_hd_t cipher;
};

static guint idle_timeout_s;
static guint lifetime_s;

/* revoked session ids → Revoked; `revoked_order` oldest first; sessions
 * issued at or before `revoked_floor` are all refused (see revoked_forget) */
static GHashTable *revoked;
static GQueue revoked_order = G_QUEUE_INIT;
static gint64 revoked_floor = -1;

/* ------------------------------------------------------------ lifetime */

void
session_set_lifetime (guint idle_s, guint absolute_s)
{
  idle_timeout_s = idle_s;
  lifetime_s = absolute_s;
}

guint
session_get_idle_timeout (void)
{
  return idle_timeout_s;
}

static RcSession *
session_alloc (const gchar *id, const gchar *user, const gchar *backend, const gchar *credential,
               gint64 issued, gint64 active)
{
  RcSession *s = g_new0 (RcSession, 1);
  s->refs = 1;
  s->id = g_strdup (id);
  s->user = g_strdup (user);
  s->backend = g_strdup (backend);
  s->credential = g_strdup (credential);
  s->issued = issued;
  s->active = active;
  return s;
}

RcSession *
session_new (const gchar *user, const gchar *backend, const gchar *credential, gint64 now)
{
  g_autofree gchar *id = rc_random_hex (16);
  return session_alloc (id, user, backend, credential ? credential : "", now, now);
}

RcSession *
session_ref (RcSession *session)
{
  session->refs++;
  return session;
}

void
session_unref (RcSession *session)
{
  if (!session || --session->refs > 0)
    return;
  g_free (session->id);
  g_free (session->user);
  g_free (session->backend);
  rc_secret_free (session->credential);
  g_free (session);
}

const gchar *session_get_id (const RcSession *s) { return s->id; }
const gchar *session_get_user (const RcSession *s) { return s->user; }
const gchar *session_get_backend (const RcSession *s) { return s->backend; }
const gchar *session_get_credential (const RcSession *s) { return s->credential; }
gint64 session_get_issued (const RcSession *s) { return s->issued; }
gint64 session_get_active (const RcSession *s) { return s->active; }

gchar *
session_get_owner_key (const RcSession *session)
{
  if (!session->credential[0])
    return g_strconcat ("session\n", session->id, NULL);
  return g_strconcat (session->backend, "\n", session->user, NULL);
}

gint64
session_get_expires (const RcSession *session)
{
  gint64 idle_end = idle_timeout_s ? session->active + idle_timeout_s : 0;
  gint64 absolute_end = lifetime_s ? session->issued + lifetime_s : 0;
  if (idle_end && absolute_end)
    return MIN (idle_end, absolute_end);
  return idle_end ? idle_end : absolute_end;
}

static gboolean
over_by_time (const RcSession *session, gint64 now)
{
  gint64 expires = session_get_expires (session);
  return expires != 0 && now > expires;
}

gboolean
session_is_over (const RcSession *session, gint64 now)
{
  return over_by_time (session, now) || session_is_revoked (session);
}

gboolean
session_touch (RcSession *session, gint64 now)
{
  if (session_is_over (session, now))
    return FALSE;
  if (now > session->active)
    session->active = now;
  return TRUE;
}

gboolean
session_refresh_due (const RcSession *session, gint64 now)
{
  if (!idle_timeout_s)
    return FALSE;
  return now - session->active >= MIN (REFRESH_AFTER_S, idle_timeout_s / 4);
}

/* ---------------------------------------------------------- revocation */

/* A logged-out session, refused until `until`. */
typedef struct {
  gchar *id;
  gchar *owner;
  gint64 issued;
  gint64 until;
} Revoked;

/* What one owner has revoked, oldest first. */
typedef struct {
  GQueue entries;             /* Revoked* */
  gint64 floor;               /* sessions issued at or before: refused */
} OwnerRevocations;

static void
revoked_free (gpointer data)
{
  Revoked *r = data;
  g_free (r->id);
  g_free (r->owner);
  g_free (r);
}

static void
owner_revocations_free (gpointer data)
{
  OwnerRevocations *o = data;
  g_queue_clear (&o->entries);
  g_free (o);
}

static GHashTable *owners_revoked;  /* owner key → OwnerRevocations */

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* The latest a copy of SESSION's cookie could still be valid. */
static gint64
revoked_until (const RcSession *session)
{
  if (lifetime_s)
    return session->issued + lifetime_s;
  if (idle_timeout_s)
    return now_seconds () + idle_timeout_s;   /* it can no longer be refreshed */
  return G_MAXINT64;
}

static OwnerRevocations *
owner_revocations (const gchar *owner)
{
  OwnerRevocations *o;
  if (!owners_revoked)
    owners_revoked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, owner_revocations_free);
  o = g_hash_table_lookup (owners_revoked, owner);
  if (!o)
    {
      o = g_new0 (OwnerRevocations, 1);
      g_queue_init (&o->entries);
      o->floor = -1;
      g_hash_table_insert (owners_revoked, g_strdup (owner), o);
    }
  return o;
}

/* Forget R, but never what it refuses: sessions issued up to R's issue
 * time are refused from now on (for its owner, or, with GLOBAL, for
 * everyone). Refusing too much is safe; forgetting a logout is not. */
static void
revoked_forget (Revoked *r, gboolean global)
{
  OwnerRevocations *o = owner_revocations (r->owner);
  if (r->until >= now_seconds ())
    {
      if (global)
        revoked_floor = MAX (revoked_floor, r->issued);
      else
        o->floor = MAX (o->floor, r->issued);
    }
  g_queue_remove (&o->entries, r);
  g_queue_remove (&revoked_order, r);
  if (g_queue_is_empty (&o->entries) && o->floor < 0)
    g_hash_table_remove (owners_revoked, r->owner);
  g_hash_table_remove (revoked, r->id);     /* frees r */
}

void
session_revoke (const RcSession *session)
{
  g_autofree gchar *owner = session_get_owner_key (session);
  gint64 now = now_seconds ();
  Revoked *r;

  if (!revoked)
    revoked = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, revoked_free);
  if (g_hash_table_contains (revoked, session->id))
    return;
  /* what has run out anyway goes first */
  while ((r = g_queue_peek_head (&revoked_order)) && r->until < now)
    revoked_forget (r, FALSE);

  r = g_new0 (Revoked, 1);
  r->id = g_strdup (session->id);
  r->owner = g_steal_pointer (&owner);
  r->issued = session->issued;
  r->until = revoked_until (session);
  g_hash_table_insert (revoked, r->id, r);
  g_queue_push_tail (&revoked_order, r);
  OwnerRevocations *o = owner_revocations (r->owner);
  g_queue_push_tail (&o->entries, r);

  /* bounded: one owner's many logouts turn into a floor for that owner,
   * a full table into a floor for everyone */
  if (g_queue_get_length (&o->entries) > REVOKED_PER_OWNER)
    revoked_forget (g_queue_peek_head (&o->entries), FALSE);
  if (g_hash_table_size (revoked) > REVOKED_MAX)
    {
      static gboolean warned;
      if (!warned)
        g_warning ("more than %d sessions logged out at once: the oldest logins are refused too", REVOKED_MAX);
      warned = TRUE;
      revoked_forget (g_queue_peek_head (&revoked_order), TRUE);
    }
  if (g_hash_table_size (owners_revoked) > 2 * REVOKED_MAX)   /* owners with a floor and no entry */
    {
      revoked_floor = MAX (revoked_floor, now);
      g_hash_table_remove_all (revoked);
      g_queue_clear (&revoked_order);
      g_hash_table_remove_all (owners_revoked);
    }
}

gboolean
session_is_revoked (const RcSession *session)
{
  if (session->issued <= revoked_floor)
    return TRUE;
  if (revoked && g_hash_table_contains (revoked, session->id))
    return TRUE;
  if (owners_revoked)
    {
      g_autofree gchar *owner = session_get_owner_key (session);
      OwnerRevocations *o = g_hash_table_lookup (owners_revoked, owner);
      if (o && session->issued <= o->floor)
        return TRUE;
    }
  return FALSE;
}

guint
session_revoked_count (void)
{
  return revoked ? g_hash_table_size (revoked) : 0;
}

/* ----------------------------------------------------------------- key */

SessionKey *
session_key_new_from_bytes (const guint8 *bytes, gsize len, GError **error)
{
  if (len != SESSION_KEY_SIZE)
    {
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY_SIZE,
                   "session key must be %d bytes, not %" G_GSIZE_FORMAT, SESSION_KEY_SIZE, len);
      return NULL;
    }
  gnutls_datum_t datum = { (unsigned char *) bytes, (unsigned int) len };
  SessionKey *key = g_new0 (SessionKey, 1);
  int ret = gnutls_aead_cipher_init (&key->cipher, GNUTLS_CIPHER_AES_256_GCM, &datum);
  if (ret < 0)
    {
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_CRYPTO,
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
  g_autoptr(RcSecret) text = g_strndup (data, len);
  g_strstrip (text);
  gsize n = strlen (text);
  if (n == SESSION_KEY_SIZE * 2 && rc_hex_decode (text, out, SESSION_KEY_SIZE))
    return TRUE;
  if (n >= 43 && n <= 44)
    {
      gsize dlen = 0;
      g_autofree guchar *dec = g_base64_decode (text, &dlen);
      gboolean ok = dec && dlen == SESSION_KEY_SIZE;
      if (ok)
        memcpy (out, dec, SESSION_KEY_SIZE);
      if (dec)
        explicit_bzero (dec, dlen);
      return ok;
    }
  return FALSE;
}

static gboolean
create_key_file (const gchar *path, gboolean *won, GError **error)
{
  guint8 raw[SESSION_KEY_SIZE];
  rc_random_key (raw, sizeof raw);
  g_autoptr(RcSecret) hex_digits = rc_hex_encode (raw, sizeof raw);
  explicit_bzero (raw, sizeof raw);
  g_autoptr(RcSecret) hex = g_strconcat (hex_digits, "\n", NULL);

  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *tmp = g_build_filename (dir, ".session.key.XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY_FILE, "%s: cannot create: %s",
                   path, g_strerror (e));
      return FALSE;
    }
  gsize len = strlen (hex);
  gboolean ok = write (fd, hex, len) == (gssize) len && fsync (fd) == 0;
  int e = errno;
  close (fd);
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY_FILE, "%s: cannot write: %s",
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
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY_FILE, "%s: cannot create: %s",
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
          g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY_FILE, "%s: cannot read session key: %s",
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
          g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY_FILE, "%s: cannot read session key: %s",
                       path, local->message);
          return NULL;
        }
    }

  guint8 raw[SESSION_KEY_SIZE];
  gboolean ok = decode_key (data, len, raw);
  explicit_bzero (data, len);
  if (!ok)
    {
      g_set_error (error, SESSION_ERROR, SESSION_ERROR_KEY_FILE,
                   "%s: not a session key (want 32 bytes, 64 hex digits or base64 of 32 bytes)", path);
      return NULL;
    }
  SessionKey *key = session_key_new_from_bytes (raw, sizeof raw, error);
  explicit_bzero (raw, sizeof raw);
  if (key)
    g_debug ("session key loaded from %s", path);
  return key;
}

/* ------------------------------------------------------------- sealing */

static gchar *
seal_bytes (SessionKey *key, const gchar *ad, const gchar *plain, gsize plain_len)
{
  gsize out_len = NONCE_SIZE + plain_len + TAG_SIZE;
  g_autofree guint8 *out = g_malloc (out_len);
  size_t ct_len = plain_len + TAG_SIZE;
  int ret;

  rc_random_nonce (out, NONCE_SIZE);
  ret = gnutls_aead_cipher_encrypt (key->cipher, out, NONCE_SIZE, ad, strlen (ad), TAG_SIZE,
                                    plain, plain_len, out + NONCE_SIZE, &ct_len);
  if (ret < 0)
    {
      g_critical ("gnutls_aead_cipher_encrypt: %s", gnutls_strerror (ret));
      return NULL;
    }
  return rc_base64url_encode (out, NONCE_SIZE + ct_len);
}

/* (transfer full) NUL-terminated plaintext, or NULL */
static gchar *
open_bytes (SessionKey *key, const gchar *ad, const gchar *value, gsize *plain_len)
{
  gsize len = 0;
  g_autofree guint8 *raw = rc_base64url_decode (value, MAX_COOKIE_CHARS, &len);
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

gchar *
session_seal (SessionKey *key, const RcSession *session)
{
  g_autoptr(JsonObject) o = rc_json_build ("id", session->id, "user", session->user,
                                           "credential", session->credential,
                                           "backend", session->backend, NULL);
  json_object_set_int_member (o, "issued", session->issued);
  json_object_set_int_member (o, "active", session->active);
  g_autoptr(RcSecret) json = rc_json_write_object (o);
  json_object_set_string_member (o, "credential", "");
  return seal_bytes (key, SESSION_AD, json, strlen (json));
}

RcSession *
session_open (SessionKey *key, const gchar *value, gint64 now)
{
  const gchar *id, *user, *cred, *backend;
  gint64 issued, active;
  g_autoptr(RcSession) session = NULL;
  gsize len = 0;

  if (!key || !value)
    return NULL;
  g_autoptr(RcSecret) plain = open_bytes (key, SESSION_AD, value, &len);
  if (!plain)
    {
      g_debug ("session cookie does not open (garbage, tampered or another key)");
      return NULL;
    }
  g_autoptr(JsonObject) o = rc_json_parse_object (plain, len, NULL);
  if (!o ||
      !rc_json_get_string (o, "id", NULL, &id) || !id ||
      !rc_json_get_string (o, "user", NULL, &user) || !user ||
      !rc_json_get_string (o, "credential", NULL, &cred) || !cred ||
      !rc_json_get_string (o, "backend", NULL, &backend) || !backend ||
      !rc_json_get_int (o, "issued", -1, &issued) || issued < 0 ||
      !rc_json_get_int (o, "active", -1, &active) || active < issued)
    return NULL;
  session = session_alloc (id, user, backend, cred, issued, active);
  /* the parser's copy of the credential */
  json_object_set_string_member (o, "credential", "");
  if (over_by_time (session, now))
    {
      g_debug ("session %.8s… is over since %" G_GINT64_FORMAT " s", id, now - session_get_expires (session));
      return NULL;
    }
  if (session_is_revoked (session))
    {
      g_debug ("session %.8s… was logged out", id);
      return NULL;
    }
  return g_steal_pointer (&session);
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
session_cookie_get (const gchar *cookie_header, const gchar *name, guint *count)
{
  gchar *found = NULL;
  guint n = 0;

  if (count)
    *count = 0;
  if (!cookie_header || !name)
    return NULL;
  gsize nlen = strlen (name);
  g_auto(GStrv) parts = g_strsplit (cookie_header, ";", -1);
  for (gchar **p = parts; *p; p++)
    {
      const gchar *c = *p;
      while (*c == ' ' || *c == '\t')
        c++;
      if (strncmp (c, name, nlen) != 0 || c[nlen] != '=')
        continue;
      if (n++ > 0)
        continue;
      g_autofree gchar *v = g_strdup (c + nlen + 1);
      g_strchomp (v);
      gsize vl = strlen (v);
      if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
        found = g_strndup (v + 1, vl - 2);
      else
        found = g_steal_pointer (&v);
    }
  for (gchar **p = parts; *p; p++)
    explicit_bzero (*p, strlen (*p));
  if (count)
    *count = n;
  return found;
}
