/* rcutil.c: see rcutil.h. */
#include "config.h"

#include "common/rcutil.h"

#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

static void
random_bytes (gnutls_rnd_level_t level, gpointer buf, gsize len)
{
  int ret = gnutls_rnd (level, buf, len);
  if (ret < 0)
    g_error ("cannot get random bytes: %s", gnutls_strerror (ret));
}

void
rc_random_nonce (gpointer buf, gsize len)
{
  random_bytes (GNUTLS_RND_NONCE, buf, len);
}

void
rc_random_key (gpointer buf, gsize len)
{
  random_bytes (GNUTLS_RND_KEY, buf, len);
}

gchar *
rc_random_hex (gsize len)
{
  g_autofree guint8 *raw = g_malloc (len);
  rc_random_nonce (raw, len);
  return rc_hex_encode (raw, len);
}

gchar *
rc_random_base64url (gsize len)
{
  g_autofree guint8 *raw = g_malloc (len);
  rc_random_nonce (raw, len);
  return rc_base64url_encode (raw, len);
}

gchar *
rc_base64url_encode (gconstpointer data, gsize len)
{
  gchar *s = g_base64_encode (data, len);
  gsize n = 0;
  for (gchar *p = s; *p; p++, n++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
    }
  while (n > 0 && s[n - 1] == '=')
    s[--n] = '\0';
  return s;
}

guint8 *
rc_base64url_decode (const gchar *text, gsize max_chars, gsize *out_len)
{
  gsize n = strlen (text);
  while (n > 0 && text[n - 1] == '=')
    n--;
  if (n == 0 || (max_chars && n > max_chars) || n % 4 == 1)
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

gchar *
rc_hex_encode (gconstpointer data, gsize len)
{
  static const gchar digits[] = "0123456789abcdef";
  const guint8 *p = data;
  gchar *out = g_malloc (len * 2 + 1);
  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[p[i] >> 4];
      out[2 * i + 1] = digits[p[i] & 0xf];
    }
  out[len * 2] = '\0';
  return out;
}

gboolean
rc_hex_decode (const gchar *text, guint8 *out, gsize out_len)
{
  if (strlen (text) != out_len * 2)
    return FALSE;
  for (gsize i = 0; i < out_len; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]);
      int lo = g_ascii_xdigit_value (text[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

void
rc_secret_free (gchar *secret)
{
  if (secret)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

void
rc_secret_set (gchar **where, const gchar *value)
{
  rc_secret_free (*where);
  *where = g_strdup (value);
}

gboolean
rc_secret_equal (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guchar diff = la != lb;
  for (gsize i = 0; i < MIN (la, lb); i++)
    diff |= (guchar) a[i] ^ (guchar) b[i];
  return diff == 0;
}

gchar *
rc_strip_trailing_slashes (gchar *s)
{
  gsize n = strlen (s);
  while (n > 0 && s[n - 1] == '/')
    s[--n] = '\0';
  return s;
}

gchar *
rc_log_escape (const gchar *text, gsize max)
{
  if (!text)
    return g_strdup ("(null)");
  gsize len = strlen (text);
  GString *out = g_string_sized_new (MIN (len, max ? max : len) + 8);
  const gchar *p = text, *end = text + len;
  while (p < end)
    {
      if (max && out->len >= max)
        {
          g_string_append (out, "…");
          break;
        }
      guchar c = (guchar) *p;
      if (c >= 0x80)
        {
          gunichar ch = g_utf8_get_char_validated (p, end - p);
          if (ch == (gunichar) -1 || ch == (gunichar) -2 || (ch >= 0x80 && ch < 0xa0) ||
              ch == 0x2028 || ch == 0x2029)
            {
              if (ch == (gunichar) -1 || ch == (gunichar) -2)
                {
                  g_string_append_printf (out, "\\x%02x", c);
                  p++;
                  continue;
                }
              /* C1 controls and line separators: escaped as code points */
              g_string_append_printf (out, "\\u%04x", ch);
              p = g_utf8_next_char (p);
              continue;
            }
          const gchar *next = g_utf8_next_char (p);
          g_string_append_len (out, p, next - p);
          p = next;
          continue;
        }
      switch (c)
        {
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\\': g_string_append (out, "\\\\"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\x%02x", c);
          else
            g_string_append_c (out, c);
        }
      p++;
    }
  return g_string_free (out, FALSE);
}
