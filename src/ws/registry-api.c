/* registry-api.c: see registry-api.h. */
#include "config.h"

#include "ws/registry-api.h"
#include "common/rcjson.h"

#include <string.h>

G_DEFINE_QUARK (registry-api-error-quark, registry_api_error)

const gchar registry_manifest_accept[] =
  "application/vnd.oci.image.index.v1+json, "
  "application/vnd.docker.distribution.manifest.list.v2+json, "
  "application/vnd.oci.image.manifest.v1+json, "
  "application/vnd.docker.distribution.manifest.v2+json";

/* ------------------------------------------------------------------ names */

static gboolean
is_lower_alnum (gchar c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component starting at *P: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*;
 * advances *P past it. */
static gboolean
component_valid (const gchar **p)
{
  const gchar *s = *p;
  if (!is_lower_alnum (*s))
    return FALSE;
  for (;;)
    {
      while (is_lower_alnum (*s))
        s++;
      const gchar *sep = s;
      if (*s == '.')
        s++;
      else if (*s == '_')
        s += s[1] == '_' ? 2 : 1;
      else if (*s == '-')
        while (*s == '-')
          s++;
      if (s == sep)
        break;            /* no separator: the component ends here */
      if (!is_lower_alnum (*s))
        return FALSE;     /* a separator must be followed by alnum */
    }
  *p = s;
  return TRUE;
}

gboolean
registry_repository_valid (const gchar *name)
{
  if (!name || !name[0] || strlen (name) > REGISTRY_REPOSITORY_MAX)
    return FALSE;
  const gchar *p = name;
  for (;;)
    {
      if (!component_valid (&p))
        return FALSE;
      if (*p == '\0')
        return TRUE;
      if (*p != '/')
        return FALSE;
      p++;
    }
}

gboolean
registry_tag_valid (const gchar *tag)
{
  if (!tag || !tag[0])
    return FALSE;
  gsize n = 0;
  for (const gchar *p = tag; *p; p++, n++)
    {
      gboolean word = g_ascii_isalnum (*p) || *p == '_';
      if (!word && (p == tag || (*p != '.' && *p != '-')))
        return FALSE;
    }
  return n <= REGISTRY_TAG_MAX;
}

static gboolean
is_lower_hex (const gchar *s, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
      return FALSE;
  return s[n] == '\0';
}

gboolean
registry_digest_valid (const gchar *digest)
{
  if (!digest || strlen (digest) > 256)
    return FALSE;
  const gchar *colon = strchr (digest, ':');
  if (!colon || colon == digest || !colon[1])
    return FALSE;
  gsize alen = colon - digest;
  const gchar *enc = colon + 1;
  if (alen == 6 && strncmp (digest, "sha256", 6) == 0)
    return strlen (enc) == 64 && is_lower_hex (enc, 64);
  if (alen == 6 && strncmp (digest, "sha512", 6) == 0)
    return strlen (enc) == 128 && is_lower_hex (enc, 128);
  /* algorithm: [a-z0-9]+([+._-][a-z0-9]+)* */
  gboolean need_alnum = TRUE;
  for (const gchar *p = digest; p < colon; p++)
    {
      if (is_lower_alnum (*p))
        need_alnum = FALSE;
      else if (!need_alnum && strchr ("+._-", *p))
        need_alnum = TRUE;
      else
        return FALSE;
    }
  if (need_alnum)
    return FALSE;
  for (const gchar *p = enc; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '=' && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- digests */

gchar *
registry_digest_compute (const gchar *algorithm, gconstpointer data, gsize len)
{
  GChecksumType type;
  if (g_strcmp0 (algorithm, "sha256") == 0)
    type = G_CHECKSUM_SHA256;
  else if (g_strcmp0 (algorithm, "sha512") == 0)
    type = G_CHECKSUM_SHA512;
  else
    return NULL;
  g_autofree gchar *hex = g_compute_checksum_for_data (type, data, len);
  return g_strconcat (algorithm, ":", hex, NULL);
}

gboolean
registry_digest_matches (const gchar *digest, gconstpointer data, gsize len)
{
  if (!digest)
    return FALSE;
  const gchar *colon = strchr (digest, ':');
  if (!colon)
    return FALSE;
  g_autofree gchar *algorithm = g_strndup (digest, colon - digest);
  g_autofree gchar *computed = registry_digest_compute (algorithm, data, len);
  return computed && g_str_equal (computed, digest);
}

/* ------------------------------------------------------------------ paths */

gchar *
registry_path_tags (const gchar *repository, guint page_size)
{
  if (page_size)
    return g_strdup_printf ("/v2/%s/tags/list?n=%u", repository, page_size);
  return g_strdup_printf ("/v2/%s/tags/list", repository);
}

gchar *
registry_path_manifest (const gchar *repository, const gchar *reference)
{
  return g_strdup_printf ("/v2/%s/manifests/%s", repository, reference);
}

gchar *
registry_path_blob (const gchar *repository, const gchar *digest)
{
  return g_strdup_printf ("/v2/%s/blobs/%s", repository, digest);
}

gchar *
registry_path_catalog (guint page_size)
{
  return g_strdup_printf ("/v2/_catalog?n=%u", page_size);
}

/* ------------------------------------------------------------------- Link */

/* Does the parameter list PARAMS (after the <…>) say rel includes "next"?
 * rel="next", rel=next, rel="prev next". */
static gboolean
link_params_say_next (const gchar *params)
{
  g_auto(GStrv) parts = g_strsplit (params, ";", -1);
  for (gchar **p = parts; *p; p++)
    {
      gchar *param = g_strstrip (*p);
      if (g_ascii_strncasecmp (param, "rel", 3) != 0)
        continue;
      gchar *v = param + 3;
      while (*v == ' ')
        v++;
      if (*v != '=')
        continue;
      v++;
      while (*v == ' ')
        v++;
      gsize n = strlen (v);
      if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        {
          v[n - 1] = '\0';
          v++;
        }
      g_auto(GStrv) rels = g_strsplit (v, " ", -1);
      for (gchar **r = rels; *r; r++)
        if (g_ascii_strcasecmp (*r, "next") == 0)
          return TRUE;
    }
  return FALSE;
}

static gint
uri_port (GUri *uri)
{
  gint port = g_uri_get_port (uri);
  if (port > 0)
    return port;
  return g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
}

/* REF resolved against BASE_URL, if it stays on the same origin: its path
 * and query (transfer full). */
static gchar *
link_resolve (const gchar *ref, const gchar *base_url, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GUri) base = g_uri_parse (base_url, G_URI_FLAGS_ENCODED, &local);
  g_autoptr(GUri) uri = base ? g_uri_parse_relative (base, ref, G_URI_FLAGS_ENCODED, &local) : NULL;
  if (!uri)
    {
      g_set_error (error, REGISTRY_API_ERROR, REGISTRY_API_ERROR_BAD_LINK,
                   "Link header: not a URL: %s", local->message);
      return NULL;
    }
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), g_uri_get_scheme (base)) != 0 ||
      g_ascii_strcasecmp (g_uri_get_host (uri) ? g_uri_get_host (uri) : "", g_uri_get_host (base)) != 0 ||
      uri_port (uri) != uri_port (base))
    {
      g_set_error (error, REGISTRY_API_ERROR, REGISTRY_API_ERROR_FOREIGN_LINK,
                   "Link header: the next page is on another host");
      return NULL;
    }
  const gchar *path = g_uri_get_path (uri);
  const gchar *query = g_uri_get_query (uri);
  if (!g_str_has_prefix (path, "/v2/"))
    {
      g_set_error (error, REGISTRY_API_ERROR, REGISTRY_API_ERROR_BAD_LINK,
                   "Link header: the next page is not under /v2/");
      return NULL;
    }
  return query ? g_strconcat (path, "?", query, NULL) : g_strdup (path);
}

gchar *
registry_link_next (const gchar *link_header, const gchar *base_url, GError **error)
{
  if (!link_header)
    return NULL;
  for (const guchar *c = (const guchar *) link_header; *c; c++)
    if (*c < 0x20 || *c >= 0x7f)
      {
        g_set_error (error, REGISTRY_API_ERROR, REGISTRY_API_ERROR_BAD_LINK,
                     "Link header: control or non-ASCII characters");
        return NULL;
      }
  const gchar *p = link_header;
  while ((p = strchr (p, '<')))
    {
      const gchar *close = strchr (p, '>');
      if (!close)
        break;
      /* the parameters run to the next "<" (a comma before it ends them) */
      const gchar *next = strchr (close, '<');
      g_autofree gchar *params = next ? g_strndup (close + 1, next - close - 1) : g_strdup (close + 1);
      gchar *comma = strrchr (params, ',');
      if (next && comma)
        *comma = '\0';
      if (link_params_say_next (params))
        {
          g_autofree gchar *ref = g_strndup (p + 1, close - p - 1);
          return link_resolve (g_strstrip (ref), base_url, error);
        }
      p = close + 1;
    }
  return NULL;
}

/* ------------------------------------------------------------------- JSON */

static void
append_valid (GString *out, const gchar *s, gsize len)
{
  static const gchar hex[] = "0123456789abcdef";
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) s[i];
      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f)
            {
              g_string_append (out, "\\u00");
              g_string_append_c (out, hex[c >> 4]);
              g_string_append_c (out, hex[c & 15]);
            }
          else
            g_string_append_c (out, (gchar) c);
        }
    }
}

/* A piece without NUL bytes, made valid UTF-8. */
static void
append_piece (GString *out, const gchar *data, gsize len)
{
  if (g_utf8_validate_len (data, len, NULL))
    append_valid (out, data, len);
  else
    {
      g_autofree gchar *valid = g_utf8_make_valid (data, len);
      append_valid (out, valid, strlen (valid));
    }
}

void
registry_json_append_bytes (GString *out, const gchar *data, gsize len)
{
  g_string_append_c (out, '"');
  while (len > 0)
    {
      const gchar *nul = memchr (data, '\0', len);
      gsize n = nul ? (gsize) (nul - data) : len;
      append_piece (out, data, n);
      if (!nul)
        break;
      g_string_append (out, "\\u0000");
      data += n + 1;
      len -= n + 1;
    }
  g_string_append_c (out, '"');
}

void
registry_json_append_string (GString *out, const gchar *text)
{
  if (!text)
    g_string_append (out, "null");
  else
    registry_json_append_bytes (out, text, strlen (text));
}

JsonObject *
registry_json_parse_lenient (const gchar *data, gsize len, gboolean *repaired, GError **error)
{
  if (repaired)
    *repaired = FALSE;
  if (g_utf8_validate_len (data, len, NULL))
    return rc_json_parse_object (data, len, error);
  if (repaired)
    *repaired = TRUE;
  g_autofree gchar *valid = g_utf8_make_valid (data, len);
  return rc_json_parse_object (valid, strlen (valid), error);
}
