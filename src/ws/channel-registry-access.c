/* channel-registry-access.c: see channel-registry-access.h.
 *
 * open {"payload":"registry-access","repository"} → ready
 *   → GET /v2/ without a credential: 200 (an open registry) or a Basic
 *     challenge (htpasswd) → {"known":false}; a Bearer challenge →
 *   → a token from its realm for "repository:NAME:pull,push,delete" with the
 *     session's credential → its access claim → one payload frame → close.
 * Upstream requests are never cancelled when the channel goes: they end by
 * themselves (each has a deadline) and find the channel gone. */
#include "config.h"

#include "ws/channel-registry-access.h"
#include "ws/socket.h"
#include "ws/upstream.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>

#define PROBE_TIMEOUT_S 30
/* A token is a few KiB; anything much larger is not one we read. */
#define TOKEN_MAX_CHARS (64 * 1024)

typedef struct {
  gint refs;
  RcChannel *channel;       /* NULL once closed */
  gchar *repository;
  gchar *basic;             /* the session's credential as "Basic …", or NULL */
} Access;

static Access *
access_ref (Access *a)
{
  a->refs++;
  return a;
}

static void
access_unref (gpointer p)
{
  Access *a = p;
  if (--a->refs > 0)
    return;
  g_free (a->repository);
  rc_secret_free (a->basic);
  g_free (a);
}

/* ---- reading the token ---- */

static gboolean
component_valid (const gchar *s, gsize n)
{
  /* [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
  if (n == 0 || !(g_ascii_islower (s[0]) || g_ascii_isdigit (s[0])))
    return FALSE;
  gsize i = 0;
  while (i < n)
    {
      while (i < n && (g_ascii_islower (s[i]) || g_ascii_isdigit (s[i])))
        i++;
      if (i == n)
        return TRUE;
      gsize sep = i;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return FALSE;
      if (i == sep || i == n || !(g_ascii_islower (s[i]) || g_ascii_isdigit (s[i])))
        return FALSE;
    }
  return TRUE;
}

gboolean
registry_access_name_valid (const gchar *name)
{
  if (!name || !name[0] || strlen (name) > 255)
    return FALSE;
  const gchar *p = name;
  for (;;)
    {
      const gchar *slash = strchr (p, '/');
      gsize n = slash ? (gsize) (slash - p) : strlen (p);
      if (!component_valid (p, n))
        return FALSE;
      if (!slash)
        return TRUE;
      p = slash + 1;
    }
}

gboolean
registry_access_from_token (const gchar *token, const gchar *repository, RegistryAccess *out)
{
  memset (out, 0, sizeof *out);
  if (!token || !repository)
    return FALSE;
  const gchar *dot1 = strchr (token, '.');
  const gchar *dot2 = dot1 ? strchr (dot1 + 1, '.') : NULL;
  if (!dot1 || !dot2 || strchr (dot2 + 1, '.'))
    return FALSE;
  g_autofree gchar *encoded = g_strndup (dot1 + 1, dot2 - dot1 - 1);
  gsize len = 0;
  g_autofree guint8 *payload = rc_base64url_decode (encoded, TOKEN_MAX_CHARS, &len);
  if (!payload || len == 0)
    return FALSE;
  g_autoptr(JsonObject) claims = rc_json_parse_object ((const gchar *) payload, len, NULL);
  if (!claims)
    return FALSE;
  JsonArray *access = NULL;
  if (!rc_json_get_array (claims, "access", NULL, &access))
    return FALSE;   /* an "access" that is not a list: not a registry token */
  guint n = access ? json_array_get_length (access) : 0;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (access, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      JsonObject *entry = json_node_get_object (node);
      if (g_strcmp0 (rc_json_string_or (entry, "type", NULL), "repository") != 0 ||
          g_strcmp0 (rc_json_string_or (entry, "name", NULL), repository) != 0)
        continue;
      JsonArray *actions = NULL;
      if (!rc_json_get_array (entry, "actions", NULL, &actions) || !actions)
        continue;
      for (guint j = 0; j < json_array_get_length (actions); j++)
        {
          JsonNode *a = json_array_get_element (actions, j);
          if (!JSON_NODE_HOLDS_VALUE (a) || json_node_get_value_type (a) != G_TYPE_STRING)
            continue;
          const gchar *action = json_node_get_string (a);
          gboolean all = g_str_equal (action, "*");
          if (all || g_str_equal (action, "pull"))
            out->pull = TRUE;
          if (all || g_str_equal (action, "push"))
            out->push = TRUE;
          if (all || g_str_equal (action, "delete"))
            out->delete = TRUE;
        }
    }
  return TRUE;
}

/* ---- the answer ---- */

static void
answer (Access *a, const RegistryAccess *granted)
{
  if (!a->channel)
    return;
  g_autoptr(JsonObject) o = json_object_new ();
  json_object_set_boolean_member (o, "known", granted != NULL);
  if (granted)
    {
      json_object_set_boolean_member (o, "pull", granted->pull);
      json_object_set_boolean_member (o, "push", granted->push);
      json_object_set_boolean_member (o, "delete", granted->delete);
    }
  g_autofree gchar *text = rc_json_write_object (o);
  g_autofree gchar *repo = rc_log_escape (a->repository, 256);
  g_debug ("registry-access %s: %s: %s", channel_get_id (a->channel), repo, text);
  channel_send (a->channel, text, strlen (text));
  if (a->channel)
    channel_close (a->channel, NULL);
}

static const gchar *
problem_for_error (const GError *error)
{
  if (error->domain == UPSTREAM_ERROR && error->code == UPSTREAM_ERROR_NOT_FOUND)
    return "not-found";
  if (error->domain == UPSTREAM_ERROR && error->code == UPSTREAM_ERROR_TIMEOUT)
    return "timeout";
  return "internal-error";
}

static void
on_token (const gchar *token, gint64 expires_in, guint status, const GError *error, gpointer user_data)
{
  Access *a = user_data;
  if (a->channel)
    {
      RegistryAccess granted;
      if (error)
        channel_fail (a->channel, problem_for_error (error), "token service: %s", error->message);
      else if (!token)
        channel_fail (a->channel, "access-denied", "the registry's token service refused the credential (HTTP %u)", status);
      else if (registry_access_from_token (token, a->repository, &granted))
        answer (a, &granted);
      else
        answer (a, NULL);   /* an opaque token: nothing to read */
    }
  access_unref (a);
}

static void
on_probe (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  Access *a = user_data;
  if (!a->channel)
    {
      access_unref (a);
      return;
    }
  if (error)
    {
      channel_fail (a->channel, problem_for_error (error), "registry: %s", error->message);
      access_unref (a);
      return;
    }
  g_autoptr(GHashTable) challenge = NULL;
  if (status == 401 && headers)
    challenge = upstream_parse_bearer_challenge (g_hash_table_lookup (headers, "www-authenticate"));
  if (status == 200 || (status == 401 && (!challenge || !g_hash_table_lookup (challenge, "realm"))))
    {
      /* no token auth: open, or Basic (htpasswd); the registry decides
       * request by request */
      answer (a, NULL);
      access_unref (a);
      return;
    }
  if (status != 401)
    {
      channel_fail (a->channel, "internal-error", "the registry answered GET /v2/ with HTTP %u", status);
      access_unref (a);
      return;
    }
  g_hash_table_replace (challenge, g_strdup ("scope"),
                        g_strdup_printf ("repository:%s:pull,push,delete", a->repository));
  /* the reference passes to on_token */
  upstream_fetch_registry_token (UPSTREAM_REGISTRY, a->basic, challenge, on_token, a);
}

/* ---- the channel ---- */

/* The session's credential as the registry takes it (as http-stream2). */
static gchar *
registry_basic (RcSession *session)
{
  const gchar *cred = session_get_credential (session);
  if (!cred)
    return NULL;
  if (g_str_has_prefix (cred, "Basic "))
    return g_strdup (cred);
  if (g_str_has_prefix (cred, "Bearer "))
    {
      g_autoptr(RcSecret) pair = g_strconcat (session_get_user (session), ":", cred + 7, NULL);
      g_autoptr(RcSecret) b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
      return g_strconcat ("Basic ", b64, NULL);
    }
  return NULL;
}

static gboolean
access_open (RcChannel *channel, JsonObject *options)
{
  RcSession *session = channel_get_session (channel);
  const gchar *repository = NULL;

  if (!session)
    {
      channel_fail (channel, "authentication-failed", "not logged in");
      return FALSE;
    }
  if (!rc_json_get_string (options, "repository", NULL, &repository) || !repository)
    {
      channel_fail (channel, "protocol-error", "\"repository\" is missing or not a string");
      return FALSE;
    }
  if (!registry_access_name_valid (repository))
    {
      channel_fail (channel, "protocol-error", "\"repository\" is not a repository name");
      return FALSE;
    }
  if (!upstream_get_base_url (UPSTREAM_REGISTRY))
    {
      channel_fail (channel, "not-found", "no registry is configured");
      return FALSE;
    }

  Access *a = g_new0 (Access, 1);
  a->refs = 1;
  a->channel = channel;
  a->repository = g_strdup (repository);
  a->basic = registry_basic (session);
  channel_set_data (channel, a, access_unref);
  channel_ready (channel, NULL);

  UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/");
  upstream_request_set_timeout (req, PROBE_TIMEOUT_S);
  upstream_fetch (req, on_probe, access_ref (a));
  return TRUE;
}

static void
access_closed (RcChannel *channel)
{
  Access *a = channel_get_data (channel);
  if (a)
    a->channel = NULL;
}

static const ChannelType registry_access_type = {
  .payload = "registry-access",
  .open = access_open,
  .closed = access_closed,
};

void
channel_registry_access_register (void)
{
  channel_register_type (&registry_access_type);
}
