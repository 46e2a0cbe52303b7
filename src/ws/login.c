/* login.c: see login.h. */
#include "config.h"

#include "ws/login.h"
#include "ws/upstream.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>

#define CHECK_TIMEOUT_S 30

/* How long, and how many, registry-verified credentials are remembered. */
#define VERIFIED_TTL_S 300
#define VERIFIED_MAX 10000

typedef struct {
  LoginDoneFunc done;
  gpointer user_data;
  gchar *token;             /* master: the bearer token */
  gchar *basic;             /* registry: "Basic …" */
  gchar *user;              /* registry: from the basic credential */
  gboolean fallback_tried;
} Login;

static Login *
login_new (LoginDoneFunc done, gpointer user_data)
{
  Login *l = g_new0 (Login, 1);
  l->done = done;
  l->user_data = user_data;
  return l;
}

static void
login_free (Login *l)
{
  rc_secret_free (l->token);
  rc_secret_free (l->basic);
  g_free (l->user);
  g_free (l);
}

/* The two ways a check ends; each frees the Login. */
static void
login_succeed (Login *l, const gchar *user, const gchar *backend, const gchar *credential)
{
  l->done (user, backend, credential, 200, NULL, NULL, l->user_data);
  login_free (l);
}

static void
login_fail (Login *l, guint status, const gchar *problem, const gchar *format, ...) G_GNUC_PRINTF (4, 5);

static void
login_fail (Login *l, guint status, const gchar *problem, const gchar *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *message = g_strdup_vprintf (format, args);
  va_end (args);
  l->done (l->user, NULL, NULL, status, problem, message, l->user_data);
  login_free (l);
}

static void
login_unreachable (Login *l, const gchar *what, const GError *error)
{
  login_fail (l, 502, error->code == UPSTREAM_ERROR_NOT_FOUND ? "not-found" : "internal-error",
              "%s unreachable: %s", what, error->message);
}

/* ------------------------------------------------------------ OpenShift */

static void start_user_check (Login *l, const gchar *path);

static void
on_user_checked (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  Login *l = user_data;
  if (error)
    return login_unreachable (l, "master", error);
  if (status == 404 && !l->fallback_tried)
    {
      l->fallback_tried = TRUE;
      start_user_check (l, "/oapi/v1/users/~");
      return;
    }
  if (status == 401 || status == 403)
    return login_fail (l, 401, "authentication-failed", "the master rejected the token");
  if (status != 200)
    return login_fail (l, 502, "internal-error", "the master answered %u to the user check", status);

  gsize len = 0;
  const gchar *data = g_bytes_get_data (body, &len);
  g_autoptr(JsonObject) user = rc_json_parse_object (data, len, NULL);
  const gchar *name = rc_json_string_or (user ? rc_json_object_at (user, "metadata") : NULL, "name", NULL);
  if (!name || !name[0])
    return login_fail (l, 502, "internal-error", "the master's user answer has no metadata.name");
  g_autoptr(RcSecret) cred = g_strconcat ("Bearer ", l->token, NULL);
  login_succeed (l, name, "master", cred);
}

static void
start_user_check (Login *l, const gchar *path)
{
  UpstreamRequest *req = upstream_request_new (UPSTREAM_MASTER, "GET", path);
  g_autoptr(RcSecret) auth = g_strconcat ("Bearer ", l->token, NULL);
  upstream_request_set_authorization (req, auth);
  upstream_request_add_header (req, "Accept", "application/json");
  upstream_request_set_timeout (req, CHECK_TIMEOUT_S);
  upstream_request_set_max_body (req, 1024 * 1024);
  upstream_fetch (req, on_user_checked, l);
}

void
login_check_token (const gchar *token, LoginDoneFunc done, gpointer user_data)
{
  Login *l = login_new (done, user_data);
  l->token = g_strdup (token);
  start_user_check (l, "/apis/user.openshift.io/v1/users/~");
}

/* --------------------------------------- recently verified credentials */

static GHashTable *verified;          /* MAC hex → expiry (monotonic s) */
static guint8 verified_key[32];

static gchar *
credential_mac (const gchar *basic)
{
  if (!verified)
    {
      verified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      rc_random_key (verified_key, sizeof verified_key);
    }
  return g_compute_hmac_for_string (G_CHECKSUM_SHA256, verified_key, sizeof verified_key, basic, -1);
}

static void
credential_remember (const gchar *basic)
{
  gchar *mac = credential_mac (basic);
  if (g_hash_table_size (verified) >= VERIFIED_MAX)
    g_hash_table_remove_all (verified);
  g_hash_table_replace (verified, mac,
                        GSIZE_TO_POINTER ((gsize) (g_get_monotonic_time () / G_USEC_PER_SEC + VERIFIED_TTL_S)));
}

static gboolean
credential_recently_verified (const gchar *basic)
{
  g_autofree gchar *mac = credential_mac (basic);
  gpointer expiry;
  if (!g_hash_table_lookup_extended (verified, mac, NULL, &expiry))
    return FALSE;
  if ((gint64) GPOINTER_TO_SIZE (expiry) < g_get_monotonic_time () / G_USEC_PER_SEC)
    {
      g_hash_table_remove (verified, mac);
      return FALSE;
    }
  return TRUE;
}

gboolean
login_basic_recently_verified (const gchar *authorization)
{
  if (!authorization || g_ascii_strncasecmp (authorization, "Basic ", 6) != 0)
    return FALSE;
  g_autoptr(RcSecret) b64 = g_strstrip (g_strdup (authorization + 6));
  g_autoptr(RcSecret) basic = g_strconcat ("Basic ", b64, NULL);
  return credential_recently_verified (basic);
}

void
login_shutdown (void)
{
  g_clear_pointer (&verified, g_hash_table_unref);
}

/* ------------------------------------------------------------- registry */

static void
registry_accepted (Login *l)
{
  credential_remember (l->basic);
  login_succeed (l, l->user, "registry", l->basic);
}

static void
on_registry_token (const gchar *token, gint64 expires_in, guint status, const GError *error,
                   gpointer user_data)
{
  Login *l = user_data;
  if (error)
    return login_unreachable (l, "registry", error);
  if (token)
    return registry_accepted (l);
  if (status == 200)
    return login_fail (l, 502, "internal-error", "the registry's token server answered without a token");
  if (status == 401 || status == 403)
    return login_fail (l, 401, "authentication-failed", "registry rejected the credentials");
  login_fail (l, 502, "internal-error", "the registry's token server answered %u", status);
}

/* A 401 from the registry: a Bearer challenge sends the credential to the
 * token realm; TRUE when that started. */
static gboolean
registry_token_challenge (Login *l, GHashTable *headers)
{
  g_autoptr(GHashTable) ch = upstream_parse_bearer_challenge (headers ? g_hash_table_lookup (headers, "www-authenticate") : NULL);
  if (!ch || !g_hash_table_lookup (ch, "realm"))
    return FALSE;
  /* the login asks for no scope: a token at all means good credentials */
  g_hash_table_remove (ch, "scope");
  upstream_fetch_registry_token (UPSTREAM_REGISTRY, l->basic, ch, on_registry_token, l);
  return TRUE;
}

static void
on_registry_checked_with_credentials (guint status, GHashTable *headers, GBytes *body,
                                      const GError *error, gpointer user_data)
{
  Login *l = user_data;
  if (error)
    return login_unreachable (l, "registry", error);
  if (status == 200)
    return registry_accepted (l);
  if (status == 401)
    {
      if (!registry_token_challenge (l, headers))
        login_fail (l, 401, "authentication-failed", "registry rejected the credentials");
      return;
    }
  login_fail (l, 502, "internal-error", "the registry answered %u to GET /v2/", status);
}

static void
on_registry_probed (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  Login *l = user_data;
  if (error)
    return login_unreachable (l, "registry", error);
  if (status == 200)
    {
      g_autofree gchar *shown = rc_log_escape (l->user, 256);
      g_message ("the registry %s requires no authentication: accepting user %s without a password check",
                 upstream_get_base_url (UPSTREAM_REGISTRY), shown);
      return login_succeed (l, l->user, "registry", "");
    }
  if (status != 401)
    return login_fail (l, 502, "internal-error", "the registry answered %u to GET /v2/", status);
  if (registry_token_challenge (l, headers))
    return;
  UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/");
  upstream_request_set_authorization (req, l->basic);
  upstream_request_set_timeout (req, CHECK_TIMEOUT_S);
  upstream_request_set_max_body (req, 1024 * 1024);
  upstream_fetch (req, on_registry_checked_with_credentials, l);
}

/* The user name from "Basic base64(user:password)", or NULL when the header
 * is malformed or the name empty or not UTF-8. */
static gchar *
basic_user (const gchar *b64)
{
  gsize len = 0;
  g_autofree guchar *dec = g_base64_decode (b64, &len);
  g_autoptr(RcSecret) pair = dec ? g_strndup ((const gchar *) dec, len) : NULL;
  if (dec)
    explicit_bzero (dec, len);
  const gchar *colon = pair ? strchr (pair, ':') : NULL;
  if (!colon || colon == pair || strlen (pair) != len || !g_utf8_validate (pair, colon - pair, NULL))
    return NULL;
  return g_strndup (pair, colon - pair);
}

void
login_check_basic (const gchar *authorization, LoginDoneFunc done, gpointer user_data)
{
  Login *l = login_new (done, user_data);

  if (!upstream_get_base_url (UPSTREAM_REGISTRY))
    return login_fail (l, 502, "internal-error", "neither a master nor a registry is configured");
  if (!authorization || g_ascii_strncasecmp (authorization, "Basic ", 6) != 0)
    return login_fail (l, 401, "authentication-failed", "no user name and password in the login request");
  g_autoptr(RcSecret) b64 = g_strstrip (g_strdup (authorization + 6));
  l->user = basic_user (b64);
  if (!l->user)
    return login_fail (l, 401, "authentication-failed", "the user name is empty or the credentials are malformed");
  l->basic = g_strconcat ("Basic ", b64, NULL);
  if (credential_recently_verified (l->basic))
    {
      g_autofree gchar *shown = rc_log_escape (l->user, 256);
      g_debug ("login of %s: credentials verified by the registry within %d s", shown, VERIFIED_TTL_S);
      return login_succeed (l, l->user, "registry", l->basic);
    }
  UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/");
  upstream_request_set_timeout (req, CHECK_TIMEOUT_S);
  upstream_request_set_max_body (req, 1024 * 1024);
  upstream_fetch (req, on_registry_probed, l);
}
