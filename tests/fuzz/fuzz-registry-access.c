/* fuzz-registry-access.c: what a registry's token service answers, read by
 * the registry-access channel (src/ws/channel-registry-access.c): the JWT's
 * "access" claim, and the repository names the channel accepts.
 *
 * Input: REPOSITORY \n KIND REST
 *   KIND '0': REST is a token as the token service sent it
 *   KIND '1': REST is the JWT's payload (claims JSON); the target wraps it
 *             in a JWT and checks the answer against its own reading: a
 *             token is readable exactly when the claims are a JSON object
 *             whose "access" is absent, null or a list.
 * The channel's socket and upstream calls are never reached here; the
 * stubs below only satisfy the linker. */
#include "fuzz-common.h"
#include "common/rcutil.h"
#include "common/rcjson.h"
#include "ws/channel-registry-access.h"
#include "ws/socket.h"
#include "ws/upstream.h"
#include <string.h>

/* ---- never called: the channel's side --------------------------------- */

#define UNREACHABLE g_error ("%s: not reached in this target", G_STRFUNC)
void channel_register_type (const ChannelType *type) { UNREACHABLE; }
const gchar *channel_get_id (RcChannel *channel) { UNREACHABLE; return NULL; }
RcSession *channel_get_session (RcChannel *channel) { UNREACHABLE; return NULL; }
void channel_set_data (RcChannel *channel, gpointer data, GDestroyNotify destroy) { UNREACHABLE; }
gpointer channel_get_data (RcChannel *channel) { UNREACHABLE; return NULL; }
void channel_ready (RcChannel *channel, JsonObject *extra) { UNREACHABLE; }
void channel_send (RcChannel *channel, const void *data, gsize len) { UNREACHABLE; }
void channel_close (RcChannel *channel, const gchar *problem) { UNREACHABLE; }
void channel_fail (RcChannel *channel, const gchar *problem, const gchar *format, ...) { UNREACHABLE; }
const gchar *session_get_user (const RcSession *session) { UNREACHABLE; return NULL; }
const gchar *session_get_credential (const RcSession *session) { UNREACHABLE; return NULL; }
const gchar *upstream_get_base_url (UpstreamBackend backend) { UNREACHABLE; return NULL; }
UpstreamRequest *upstream_request_new (UpstreamBackend backend, const gchar *method, const gchar *path) { UNREACHABLE; return NULL; }
void upstream_request_set_timeout (UpstreamRequest *req, guint seconds) { UNREACHABLE; }
void upstream_fetch (UpstreamRequest *req, UpstreamFetchFunc func, gpointer user_data) { UNREACHABLE; }
GHashTable *upstream_parse_bearer_challenge (const gchar *www_authenticate) { UNREACHABLE; return NULL; }
UpstreamRequest *upstream_fetch_registry_token (UpstreamBackend backend, const gchar *basic, GHashTable *challenge,
                                                UpstreamTokenFunc func, gpointer user_data) { UNREACHABLE; return NULL; }
GQuark upstream_error_quark (void) { return g_quark_from_static_string ("upstream-error"); }

/* ---- the target ----------------------------------------------------------- */

/* The oracle: may the claims text be read as a registry token's payload? */
static gboolean
claims_readable (const gchar *text, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, len, NULL))
    return FALSE;
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  JsonObject *o = json_node_get_object (root);
  if (!json_object_has_member (o, "access"))
    return TRUE;
  JsonNode *access = json_object_get_member (o, "access");
  return JSON_NODE_HOLDS_NULL (access) || JSON_NODE_HOLDS_ARRAY (access);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const gchar *text = (const gchar *) data;
  const gchar *nl = memchr (text, '\n', size);
  if (!nl || nl + 1 >= text + size)
    return 0;
  g_autofree gchar *repo = g_strndup (text, nl - text);
  gchar kind = nl[1];
  const gchar *rest = nl + 2;
  gsize rest_len = size - (rest - text);

  /* names: never crash; a valid one is short, lowercase, no empty part */
  if (registry_access_name_valid (repo))
    {
      g_assert (strlen (repo) <= 255 && repo[0] != '/' && !strstr (repo, "//"));
      for (const gchar *p = repo; *p; p++)
        g_assert (g_ascii_islower (*p) || g_ascii_isdigit (*p) || strchr ("._-/", *p));
    }

  RegistryAccess a, b;
  if (kind == '0')
    {
      g_autofree gchar *token = g_strndup (rest, rest_len);
      gboolean ok = registry_access_from_token (token, repo, &a);
      /* the same answer twice; nothing granted when unreadable */
      g_assert (ok == registry_access_from_token (token, repo, &b));
      g_assert (memcmp (&a, &b, sizeof a) == 0);
      if (!ok)
        g_assert (!a.pull && !a.push && !a.delete);
    }
  else if (kind == '1' && rest_len < 48 * 1024)
    {
      const gchar *header = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
      g_autofree gchar *h = rc_base64url_encode (header, strlen (header));
      g_autofree gchar *p = rc_base64url_encode (rest, rest_len);
      g_autofree gchar *token = g_strconcat (h, ".", p, ".c2ln", NULL);
      /* the claims with a NUL inside are not JSON text for either reader */
      gboolean readable = !memchr (rest, '\0', rest_len) && rest_len > 0 && claims_readable (rest, rest_len);
      g_assert_cmpint (registry_access_from_token (token, repo, &a), ==, readable);
    }
  return 0;
}
