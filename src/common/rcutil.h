/* rcutil.h: small helpers every layer uses: base64url and hex, random bytes,
 * wiping secrets, trimming URLs, comparing secrets, escaping outside text
 * for log lines. No libwebsockets, no libcurl.
 *
 * Random bytes have one failure policy: if GnuTLS cannot produce them the
 * process aborts with a message (g_error). Nothing the console does is safe
 * without them (session keys, nonces, CSRF tokens, OAuth state), and the
 * failure means the system's RNG is broken, not that an input was bad. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fill BUF with LEN random bytes: nonce quality (public values: nonces,
 * tokens) or key quality (secret keys). Aborts when the RNG fails. */
void rc_random_nonce (gpointer buf, gsize len);
void rc_random_key (gpointer buf, gsize len);
/* LEN random bytes as lowercase hex (transfer full, 2*LEN characters). */
gchar *rc_random_hex (gsize len);
/* LEN random bytes as base64url without padding (transfer full). */
gchar *rc_random_base64url (gsize len);

/* Base64url (RFC 4648 §5) without padding; decode accepts input with or
 * without padding, refuses other characters, and returns NULL for input
 * longer than MAX_CHARS characters (0: no limit). */
gchar *rc_base64url_encode (gconstpointer data, gsize len);
guint8 *rc_base64url_decode (const gchar *text, gsize max_chars, gsize *out_len);

/* Lowercase hex of DATA (transfer full). */
gchar *rc_hex_encode (gconstpointer data, gsize len);
/* Decode exactly OUT_LEN bytes from 2*OUT_LEN hex digits; FALSE when TEXT is
 * not exactly that. */
gboolean rc_hex_decode (const gchar *text, guint8 *out, gsize out_len);

/* Overwrite a NUL-terminated secret with zeros, then free it. NULL is fine. */
void rc_secret_free (gchar *secret);
/* Wipe and free *WHERE, then store a copy of VALUE (may be NULL). */
void rc_secret_set (gchar **where, const gchar *value);
/* g_autoptr(RcSecret) s = …: a string wiped when it goes out of scope. */
typedef gchar RcSecret;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcSecret, rc_secret_free)

/* Compare two secrets in time independent of where they differ. */
gboolean rc_secret_equal (const gchar *a, const gchar *b);

/* Remove trailing '/' characters in place; returns S. */
gchar *rc_strip_trailing_slashes (gchar *s);

/* TEXT (outside input: user names, paths, header values) made safe for one
 * log line (transfer full): control characters, backslashes and invalid
 * UTF-8 become \n, \t, \\ and \xNN escapes, and text longer than MAX bytes
 * (0: no limit) is cut with "…". NULL gives "(null)". */
gchar *rc_log_escape (const gchar *text, gsize max);

G_END_DECLS
