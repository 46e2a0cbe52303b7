/* session.h: a logged-in session, its lifetime, its sealed cookie value, and
 * the shared session key.
 *
 * A session is sealed as base64url(nonce[12] ‖ AES-256-GCM(JSON) ‖ tag[16])
 * with the associated data "cockpit-session-2". The JSON holds
 * {"id","user","credential","backend","issued","active"} (times in unix
 * seconds). Any process holding the same 32-byte key opens it, so replicas
 * need no shared store (doc/architecture.md, "Sessions").
 *
 * Lifetime, owned here and nowhere else: a session ends `idle` seconds after
 * its last activity, and `lifetime` seconds after login whatever happens
 * (session_set_lifetime; either may be 0 for "no such limit"). Activity is
 * recorded with session_touch(). A session ends at the first second past its
 * expiry: it is valid while now <= session_get_expires(). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SESSION_ERROR (session_error_quark ())
GQuark session_error_quark (void);
typedef enum {
  SESSION_ERROR_KEY_SIZE,       /* a key of the wrong length */
  SESSION_ERROR_KEY_FILE,       /* the key file cannot be read, created or parsed */
  SESSION_ERROR_CRYPTO,         /* GnuTLS refused the key */
} SessionError;

#define SESSION_KEY_SIZE 32

/* The session cookie's name. */
#define SESSION_COOKIE_NAME "cockpit"

/* ---- the session ---- */

typedef struct _RcSession RcSession;

/* For every session of this process: seconds of inactivity after which a
 * session ends, and seconds after login after which it ends anyway; 0 means
 * no such limit. Set once at start (tests may set it again). */
void session_set_lifetime (guint idle_s, guint lifetime_s);
guint session_get_idle_timeout (void);

/* A new session logged in at NOW (transfer full). CREDENTIAL is the value for
 * an Authorization header ("Bearer …", "Basic …", or "" for a registry
 * without authentication); it is wiped when the session is freed. */
RcSession *session_new (const gchar *user, const gchar *backend, const gchar *credential, gint64 now);
RcSession *session_ref (RcSession *session);
void session_unref (RcSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcSession, session_unref)

const gchar *session_get_id (const RcSession *session);          /* random, 32 hex digits */
const gchar *session_get_user (const RcSession *session);
const gchar *session_get_backend (const RcSession *session);     /* "master" or "registry" */
const gchar *session_get_credential (const RcSession *session);  /* never log it */
gint64 session_get_issued (const RcSession *session);
/* Whom the session's resources count against (transfer full): its user of
 * its backend; or, when the login was not checked (a registry without
 * authentication accepts any name), the session itself. */
gchar *session_get_owner_key (const RcSession *session);
gint64 session_get_active (const RcSession *session);

/* When the session ends (unix seconds): the earlier of the idle and the
 * absolute limit; 0 when neither applies. */
gint64 session_get_expires (const RcSession *session);
/* TRUE when the session has ended by time (or was revoked here). */
gboolean session_is_over (const RcSession *session, gint64 now);
/* Record activity at NOW. FALSE (and nothing changes) when the session is
 * already over. */
gboolean session_touch (RcSession *session, gint64 now);
/* TRUE when the browser's sealed copy should be sealed again so that it
 * carries recent activity: the copy's activity is older than a minute, or
 * than a quarter of a short idle timeout. */
gboolean session_refresh_due (const RcSession *session, gint64 now);

/* Logout: this process refuses the session from now on (session_open and
 * session_is_over), until its absolute end. The memory for this is bounded
 * (the oldest revocations are forgotten first; a session without an
 * absolute end is remembered for a day). Other replicas do not learn of it:
 * in OpenShift mode the token is deleted at the master instead. */
void session_revoke (const RcSession *session);
gboolean session_is_revoked (const RcSession *session);
/* How many revocations are remembered now (for tests and limits). */
guint session_revoked_count (void);

/* ---- the key ---- */

typedef struct _SessionKey SessionKey;

/* Read the key from PATH: 32 raw bytes, or 64 hex digits, or base64 of 32
 * bytes (surrounding white space ignored). When the file does not exist and
 * `create` is TRUE, generate one (mode 0600) atomically: a temp file in the
 * same directory linked into place, so racing processes end with one key. */
SessionKey *session_key_load (const gchar *path, gboolean create, GError **error);
/* A key from raw bytes (tests, or a key handed over by other means). */
SessionKey *session_key_new_from_bytes (const guint8 *bytes, gsize len, GError **error);
void session_key_free (SessionKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SessionKey, session_key_free)

/* ---- sealing ---- */

/* (transfer full) the cookie value for SESSION. */
gchar *session_seal (SessionKey *key, const RcSession *session);
/* Open a cookie value (transfer full). Returns NULL (no error detail: a bad
 * cookie is just a logged-out user) when it is garbage, tampered, sealed
 * under another key, over at NOW, or revoked. */
RcSession *session_open (SessionKey *key, const gchar *value, gint64 now);

/* Seal / open an arbitrary short string with an expiry (the OAuth state
 * cookie); the associated data differs from sessions so neither opens as the
 * other. */
gchar *session_seal_string (SessionKey *key, const gchar *purpose, const gchar *text, gint64 expires);
gchar *session_open_string (SessionKey *key, const gchar *purpose, const gchar *value, gint64 now);

/* The value of cookie NAME in a Cookie request header (transfer full), or
 * NULL. *COUNT (optional) receives how many cookies of that name the header
 * carries: a request with more than one is to be treated as logged out
 * (another site under the same domain may have set one). */
gchar *session_cookie_get (const gchar *cookie_header, const gchar *name, guint *count);

G_END_DECLS
