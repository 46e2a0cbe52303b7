/* origin.c: see origin.h. */
#include "config.h"

#include "common/origin.h"

#include <string.h>

gchar *
origin_normalize (const gchar *url)
{
  g_autoptr(GUri) uri = NULL;
  const gchar *scheme, *host;
  gint port;

  if (!url || !url[0])
    return NULL;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (!uri || !(host = g_uri_get_host (uri)) || !host[0] || g_uri_get_userinfo (uri))
    return NULL;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "https") != 0 && g_ascii_strcasecmp (scheme, "http") != 0)
    return NULL;

  g_autofree gchar *lscheme = g_ascii_strdown (scheme, -1);
  g_autofree gchar *lhost = g_ascii_strdown (host, -1);
  gboolean v6 = strchr (lhost, ':') != NULL;
  port = g_uri_get_port (uri);
  if (port < 0 || (g_str_equal (lscheme, "https") && port == 443) || (g_str_equal (lscheme, "http") && port == 80))
    return g_strdup_printf ("%s://%s%s%s", lscheme, v6 ? "[" : "", lhost, v6 ? "]" : "");
  return g_strdup_printf ("%s://%s%s%s:%d", lscheme, v6 ? "[" : "", lhost, v6 ? "]" : "", port);
}

gboolean
origin_allowed (const gchar *origin, const gchar *own, const gchar *const *allowed)
{
  g_autofree gchar *norm = origin_normalize (origin);
  if (!norm)
    return FALSE;
  /* an Origin header is only ever scheme://host[:port], nothing after it */
  const gchar *authority = strstr (origin, "://");
  if (!authority || strpbrk (authority + 3, "/?#"))
    return FALSE;
  g_autofree gchar *own_norm = origin_normalize (own);
  if (own_norm && g_str_equal (norm, own_norm))
    return TRUE;
  for (guint i = 0; allowed && allowed[i]; i++)
    {
      g_autofree gchar *a = origin_normalize (allowed[i]);
      if (a && g_str_equal (a, norm))
        return TRUE;
    }
  return FALSE;
}
