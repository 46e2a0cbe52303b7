/* fuzz-cookie.c: the session cookie opener (src/common/session.c).
 * The first input byte picks what the rest is:
 *   0  a Cookie request header: session_cookie_get + session_open
 *   1  a plaintext sealed here with the same key and the documented format
 *      (nonce ‖ AES-256-GCM ‖ tag, base64url, AD "cockpit-session-1"), so the
 *      fuzzer reaches the JSON reader behind the tag check; a session that
 *      opens must survive session_seal + session_open unchanged
 *   2  a sealed-string value (OAuth state) for session_open_string */
#include "fuzz-common.h"
#include "common/session.h"
#include <string.h>
#include <gnutls/crypto.h>

static const guint8 key_bytes[SESSION_KEY_SIZE] = {
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};
static SessionKey *key;
static gnutls_aead_cipher_hd_t cipher;

static gchar *
seal_raw (const guint8 *plain, gsize len)
{
  static const char ad[] = "cockpit-session-1";
  g_autofree guint8 *out = g_malloc0 (12 + len + 16);
  size_t ct_len = len + 16;
  int r = gnutls_aead_cipher_encrypt (cipher, out, 12, ad, strlen (ad), 16, plain, len, out + 12, &ct_len);
  g_assert (r == 0);
  gchar *b64 = g_base64_encode (out, 12 + ct_len);
  for (gchar *p = b64; *p; p++)
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
    else if (*p == '=')
      *p = '\0';
  return b64;
}

static void
check_session (RcSession *s, gint64 issued)
{
  g_assert (s->user && s->credential && s->backend);
  g_assert (s->expires >= 0);
  /* json-glib accepts invalid escapes such as "\6" and yields strings that
   * are not UTF-8; those cannot round-trip through a JSON generator. Only a
   * holder of the session key can produce them, so only check valid text. */
  if (!g_utf8_validate (s->user, -1, NULL) || !g_utf8_validate (s->credential, -1, NULL) ||
      !g_utf8_validate (s->backend, -1, NULL))
    return;
  g_autofree gchar *again = session_seal (key, s, issued);
  g_assert (again);
  gint64 issued2 = 0;
  g_autoptr(RcSession) t = session_open (key, again, 0, &issued2);
  g_assert (t);
  g_assert_cmpstr (t->user, ==, s->user);
  g_assert_cmpstr (t->credential, ==, s->credential);
  g_assert_cmpstr (t->backend, ==, s->backend);
  g_assert_cmpint (t->expires, ==, s->expires);
  g_assert_cmpint (issued2, ==, issued);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_quiet_logs ();
  if (!key)
    {
      key = session_key_new_from_bytes (key_bytes, sizeof key_bytes, NULL);
      gnutls_datum_t d = { (unsigned char *) key_bytes, sizeof key_bytes };
      g_assert (key && gnutls_aead_cipher_init (&cipher, GNUTLS_CIPHER_AES_256_GCM, &d) == 0);
    }
  if (size < 1)
    return 0;
  g_autofree gchar *text = g_strndup ((const gchar *) data + 1, size - 1);
  gint64 issued = 0;
  switch (data[0] % 3)
    {
    case 0:
      {
        g_autofree gchar *value = session_cookie_get (text, SESSION_COOKIE_NAME);
        if (value)
          {
            g_autoptr(RcSession) s = session_open (key, value, 1000, &issued);
            if (s)
              check_session (s, issued);
          }
        break;
      }
    case 1:
      {
        g_autofree gchar *sealed = seal_raw (data + 1, size - 1);
        g_autoptr(RcSession) s = session_open (key, sealed, 1000, &issued);
        if (s)
          check_session (s, issued);
        break;
      }
    default:
      {
        g_autofree gchar *plain = session_open_string (key, "state", text, 1000);
        (void) plain;
        break;
      }
    }
  return 0;
}
