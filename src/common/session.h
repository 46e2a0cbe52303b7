/* session.h: the sealed session cookie value and the shared session key.
 * Log domain: cockpit-wrapper. DESIGN.md §5.
 *
 * A session is sealed as base64url(nonce[12] ‖ AES-256-GCM(JSON) ‖ tag[16])
 * with the associated data "cockpit-session-1". The JSON holds
 * {"user","credential","backend","expires","issued"}. Any process holding the
 * same 32-byte key opens it, so replicas need no shared store. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RcSession RcSession;
struct _RcSession {
  gchar *user;          /* user name as shown */
  gchar *credential;    /* the value for Authorization: "Bearer …" or "Basic …"; never logged */
  gchar *backend;       /* "master" or "registry" */
  gint64 expires;       /* idle expiry, unix seconds */
};

RcSession *rc_session_copy (const RcSession *session);
void rc_session_free (RcSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcSession, rc_session_free)

#define SESSION_ERROR (session_error_quark ())
GQuark session_error_quark (void);
typedef enum { SESSION_ERROR_KEY } SessionError;

#define SESSION_KEY_SIZE 32

/* The session cookie's name. */
#define SESSION_COOKIE_NAME "cockpit"

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

/* (transfer full) the cookie value for SESSION; `issued` is unix seconds. */
gchar *session_seal (SessionKey *key, const RcSession *session, gint64 issued);
/* Open a cookie value. Returns NULL (no error detail: a bad cookie is just a
 * logged-out user) when it is garbage, tampered, sealed under another key,
 * or when session->expires is non-zero and earlier than `now`.
 * *issued (optional) receives the issue time. */
RcSession *session_open (SessionKey *key, const gchar *value, gint64 now, gint64 *issued);

/* Seal / open an arbitrary short string with an expiry (the OAuth state
 * cookie); the associated data differs from sessions so neither opens as the
 * other. */
gchar *session_seal_string (SessionKey *key, const gchar *purpose, const gchar *text, gint64 expires);
gchar *session_open_string (SessionKey *key, const gchar *purpose, const gchar *value, gint64 now);

/* The value of cookie NAME in a Cookie request header, or NULL. */
gchar *session_cookie_get (const gchar *cookie_header, const gchar *name);

G_END_DECLS
