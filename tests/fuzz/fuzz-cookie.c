/* fuzz-cookie.c: the session cookie opener (src/common/session.c).
 * The first input byte picks what the rest is:
 *   0  a Cookie request header: session_cookie_get + session_open
 *   1  a plaintext sealed here with the same key and the documented format
 *      (nonce ‖ AES-256-GCM ‖ tag, base64url, AD "cockpit-session-2"), so the
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
  static const char ad[] = "cockpit-session-2";
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
check_session (RcSession *s)
{
  g_assert (session_get_user (s) && session_get_credential (s) && session_get_backend (s));
  g_assert (session_get_issued (s) >= 0 && session_get_active (s) >= session_get_issued (s));
  /* json-glib accepts invalid escapes such as "\6" and yields strings that
   * are not UTF-8; those cannot round-trip through a JSON generator. Only a
   * holder of the session key can produce them, so only check valid text. */
  if (!g_utf8_validate (session_get_user (s), -1, NULL) || !g_utf8_validate (session_get_credential (s), -1, NULL) ||
      !g_utf8_validate (session_get_backend (s), -1, NULL) || !g_utf8_validate (session_get_id (s), -1, NULL))
    return;
  g_autofree gchar *again = session_seal (key, s);
  g_assert (again);
  g_autoptr(RcSession) t = session_open (key, again, 0);
  g_assert (t);
  g_assert_cmpstr (session_get_id (t), ==, session_get_id (s));
  g_assert_cmpstr (session_get_user (t), ==, session_get_user (s));
  g_assert_cmpstr (session_get_credential (t), ==, session_get_credential (s));
  g_assert_cmpstr (session_get_backend (t), ==, session_get_backend (s));
  g_assert_cmpint (session_get_active (t), ==, session_get_active (s));
  g_assert_cmpint (session_get_issued (t), ==, session_get_issued (s));
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
  session_set_lifetime (900, 0);
  switch (data[0] % 3)
    {
    case 0:
      {
        guint count = 0;
        g_autofree gchar *value = session_cookie_get (text, SESSION_COOKIE_NAME, &count);
        g_assert ((value != NULL) == (count > 0));
        if (value)
          {
            g_autoptr(RcSession) s = session_open (key, value, 1000);
            if (s)
              check_session (s);
          }
        break;
      }
    case 1:
      {
        g_autofree gchar *sealed = seal_raw (data + 1, size - 1);
        g_autoptr(RcSession) s = session_open (key, sealed, 1000);
        if (s)
          check_session (s);
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
