/* auth.c: login (OpenShift OAuth implicit grant, or registry basic/token
 * auth), the sealed session cookie, logout. Log domain: cockpit-wrapper.
 * DESIGN.md §4-5.
 *
 * Mode: "openshift" when a master is configured (--master or
 * KUBERNETES_SERVICE_HOST), else "registry" (REGISTRY_URL).
 *
 * Endpoints (paths below UrlRoot; every JSON error is
 * {"problem":P,"message":M} with P one of "authentication-failed",
 * "access-denied", "not-found", "internal-error", "protocol-error"):
 *
 *   GET  /                    index.html with a valid session, else login.html
 *   GET  /cockpit/login/config
 *        → 200 {"mode":"openshift"|"registry","login_title":S|null,
 *               "registry_host":S|null,
 *               openshift only: "authorize_url":URL (complete, with state),
 *               "oauth_provider_url","client_id","redirect_uri","state"}
 *        openshift: also sets the cookie "cockpit-state" (HttpOnly,
 *        SameSite=Lax, 10 min) binding `state` to this browser. Do not fetch
 *        it again between the redirect back and POST /cockpit/login.
 *   POST /cockpit/login       Origin must be the console's own origin
 *        (or COCKPIT_KUBE_URL's, or an Origins entry), else 403.
 *        openshift: "Authorization: Bearer TOKEN" and the state from the
 *          fragment in "X-State: STATE" (or a JSON body {"state":STATE});
 *          the token is checked with GET /apis/user.openshift.io/v1/users/~
 *          (404 → /oapi/v1/users/~).
 *        registry: "Authorization: Basic base64(user:password)", checked by
 *          the registry (GET /v2/, its Bearer token realm when it has one).
 *        → 200 {"user":NAME} + Set-Cookie cockpit=…
 *        → 401 {"problem":"authentication-failed","message":…}
 *        → 403 {"problem":"access-denied",…} (origin or state mismatch)
 *        → 502 {"problem":"not-found"|"internal-error","message":"registry unreachable: …"}
 *   GET  /cockpit/session     → 200 {"user","backend":"master"|"registry",
 *                                    "mode","registry_host","expires"} or 401
 *   POST /cockpit/logout      → 200 {} and the cookie cleared (Max-Age=0)
 *   GET  /cockpit/logout      → 303 to UrlRoot + "/" and the cookie cleared
 *   POST /cockpit/token       (Origin-checked, session required; for the
 *        "docker login" command) → 200 {"user","token"} in openshift mode,
 *        404 {"problem":"not-supported"} in registry mode
 *
 * Session cookie: "cockpit", Path=/, HttpOnly, SameSite=Strict, Secure
 * unless --no-tls; no Max-Age (ends with the browser), idle expiry inside
 * the sealed value, refreshed on requests more than a minute apart.
 * Session key: --session-key-file, default CERT_DIR/session.key, created
 * 0600 on first start. */
#include "config.h"

#include "ws/auth.h"
#include "ws/channel-http-stream2.h"
#include "ws/http.h"
#include "common/session.h"
#include "ws/upstream.h"

#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <json-glib/json-glib.h>

#define STATE_COOKIE "cockpit-state"
#define STATE_LIFETIME_S 600
#define REFRESH_AFTER_S 60
#define CHECK_TIMEOUT_S 30

static struct {
  const Config *cfg;
  SessionKey *key;
  gboolean openshift;
  guint idle_s;
} A;

/* ---- small helpers ---- */

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gchar *
json_problem (const gchar *problem, const gchar *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "problem");
  json_builder_add_string_value (b, problem);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message ? message : "");
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static void
respond_problem (HttpExchange *ex, guint status, const gchar *problem, const gchar *message,
                 const gchar *const *headers)
{
  g_autofree gchar *body = json_problem (problem, message);
  http_exchange_respond_json (ex, status, body, headers);
}

static gchar *
cookie_header (const gchar *name, const gchar *value, const gchar *same_site, gint max_age)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=%s", name,
                          value ? value : "", same_site);
  if (!A.cfg->no_tls)
    g_string_append (s, "; Secure");
  if (max_age >= 0)
    g_string_append_printf (s, "; Max-Age=%d", max_age);
  return g_string_free (s, FALSE);
}

static gchar *
session_cookie_header (const RcSession *session)
{
  g_autofree gchar *sealed = session_seal (A.key, session, now_s ());
  if (!sealed)
    return NULL;
  gchar *h = cookie_header (SESSION_COOKIE_NAME, sealed, "Strict", -1);
  explicit_bzero (sealed, strlen (sealed));
  return h;
}

static RcSession *
session_from_cookie_header (const gchar *cookie)
{
  g_autofree gchar *value = session_cookie_get (cookie, SESSION_COOKIE_NAME);
  if (!value || !value[0])
    return NULL;
  RcSession *s = session_open (A.key, value, now_s (), NULL);
  explicit_bzero (value, strlen (value));
  if (!s)
    g_debug ("ignoring an invalid or expired session cookie");
  return s;
}

static RcSession *
exchange_session (HttpExchange *ex)
{
  return session_from_cookie_header (http_exchange_get_header (ex, "cookie"));
}

/* A Set-Cookie header to refresh the idle expiry, or NULL when not due. */
static gchar *
maybe_refresh (RcSession *s)
{
  if (!A.idle_s || !s->expires)
    return NULL;
  gint64 last_activity = s->expires - A.idle_s;
  /* refresh at most once a minute, but well before a short timeout ends */
  if (now_s () - last_activity < MIN (REFRESH_AFTER_S, A.idle_s / 4))
    return NULL;
  s->expires = now_s () + A.idle_s;
  return session_cookie_header (s);
}

static gchar *
origin_of_url (const gchar *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host (uri))
    return NULL;
  const gchar *scheme = g_uri_get_scheme (uri);
  gint port = g_uri_get_port (uri);
  gboolean default_port = port < 0 || (g_str_equal (scheme, "https") && port == 443) ||
                          (g_str_equal (scheme, "http") && port == 80);
  g_autofree gchar *lscheme = g_ascii_strdown (scheme, -1);
  g_autofree gchar *lhost = g_ascii_strdown (g_uri_get_host (uri), -1);
  gboolean v6 = strchr (lhost, ':') != NULL;
  if (default_port)
    return g_strdup_printf ("%s://%s%s%s", lscheme, v6 ? "[" : "", lhost, v6 ? "]" : "");
  return g_strdup_printf ("%s://%s%s%s:%d", lscheme, v6 ? "[" : "", lhost, v6 ? "]" : "", port);
}

static gboolean
origin_allowed (HttpExchange *ex)
{
  const gchar *origin = http_exchange_get_header (ex, "origin");
  if (!origin || !origin[0])
    return FALSE;
  g_autofree gchar *norm = origin_of_url (origin);
  if (!norm)
    return FALSE;
  g_autofree gchar *own = http_exchange_dup_origin (ex);
  g_autofree gchar *own_norm = own ? origin_of_url (own) : NULL;
  if (own_norm && g_str_equal (norm, own_norm))
    return TRUE;
  if (A.cfg->kube_url)
    {
      g_autofree gchar *k = origin_of_url (A.cfg->kube_url);
      if (k && g_str_equal (k, norm))
        return TRUE;
    }
  for (gchar **o = A.cfg->origins; o && *o; o++)
    {
      g_autofree gchar *c = origin_of_url (*o);
      if (c && g_str_equal (c, norm))
        return TRUE;
    }
  g_warning ("refusing a login request from foreign origin %s", origin);
  return FALSE;
}

static gboolean
secure_equal (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guchar diff = la != lb;
  for (gsize i = 0; i < MIN (la, lb); i++)
    diff |= (guchar) a[i] ^ (guchar) b[i];
  return diff == 0;
}

static gchar *
random_state (void)
{
  guint8 raw[24];
  int ret = gnutls_rnd (GNUTLS_RND_NONCE, raw, sizeof raw);
  if (ret < 0)
    g_error ("gnutls_rnd: %s", gnutls_strerror (ret));
  gchar *b = g_base64_encode (raw, sizeof raw);
  for (gchar *p = b; *p; p++)
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
  return b;
}

/* ---- GET / ---- */

static void
handle_root (HttpExchange *ex, gpointer user_data)
{
  g_autoptr(RcSession) s = exchange_session (ex);
  if (!s)
    {
      const gchar *h[] = { "Cache-Control: no-cache, no-store", NULL };
      http_exchange_respond_static (ex, "login.html", h);
      return;
    }
  g_autofree gchar *refresh = maybe_refresh (s);
  const gchar *h[] = { "Cache-Control: no-cache, no-store", refresh, NULL };
  http_exchange_respond_static (ex, "index.html", h);
}

/* ---- GET /cockpit/login/config ---- */

static gchar *
redirect_uri_for (HttpExchange *ex)
{
  if (A.cfg->kube_url && A.cfg->kube_url[0])
    return g_strdup (A.cfg->kube_url);
  g_autofree gchar *own = http_exchange_dup_origin (ex);
  return g_strconcat (own ? own : "", A.cfg->url_root ? A.cfg->url_root : "", "/", NULL);
}

static void
handle_login_config (HttpExchange *ex, gpointer user_data)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, A.openshift ? "openshift" : "registry");
  json_builder_set_member_name (b, "login_title");
  if (A.cfg->login_title)
    json_builder_add_string_value (b, A.cfg->login_title);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "registry_host");
  if (A.cfg->registry_host)
    json_builder_add_string_value (b, A.cfg->registry_host);
  else
    json_builder_add_null_value (b);

  g_autofree gchar *state_cookie = NULL;
  if (A.openshift)
    {
      const gchar *provider = A.cfg->oauth_provider_url ? A.cfg->oauth_provider_url
                                                         : upstream_get_base_url (UPSTREAM_MASTER);
      const gchar *client_id = A.cfg->oauth_client_id ? A.cfg->oauth_client_id : "cockpit-oauth-client";
      g_autofree gchar *redirect = redirect_uri_for (ex);
      g_autofree gchar *state = random_state ();
      g_autofree gchar *base = g_strdup (provider);
      gsize n = strlen (base);
      while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';
      g_autofree gchar *e_client = g_uri_escape_string (client_id, NULL, FALSE);
      g_autofree gchar *e_redirect = g_uri_escape_string (redirect, NULL, FALSE);
      g_autofree gchar *url = g_strdup_printf ("%s/oauth/authorize?client_id=%s&response_type=token&redirect_uri=%s&state=%s",
                                               base, e_client, e_redirect, state);
      json_builder_set_member_name (b, "authorize_url");
      json_builder_add_string_value (b, url);
      json_builder_set_member_name (b, "oauth_provider_url");
      json_builder_add_string_value (b, base);
      json_builder_set_member_name (b, "client_id");
      json_builder_add_string_value (b, client_id);
      json_builder_set_member_name (b, "redirect_uri");
      json_builder_add_string_value (b, redirect);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, state);
      g_autofree gchar *sealed = session_seal_string (A.key, "state", state, now_s () + STATE_LIFETIME_S);
      state_cookie = cookie_header (STATE_COOKIE, sealed, "Lax", STATE_LIFETIME_S);
    }
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *body = json_to_string (root, FALSE);
  const gchar *h[] = { "Cache-Control: no-store", state_cookie, NULL };
  http_exchange_respond_json (ex, 200, body, h);
}

/* ---- POST /cockpit/login ---- */

typedef struct {
  HttpExchange *ex;
  gchar *token;             /* master: the bearer token */
  gchar *basic;             /* registry: "Basic …" */
  gchar *user;              /* registry: from the basic credential */
  gboolean fallback_tried;
} Login;

static void
login_free (Login *l)
{
  if (l->token)
    explicit_bzero (l->token, strlen (l->token));
  if (l->basic)
    explicit_bzero (l->basic, strlen (l->basic));
  g_free (l->token);
  g_free (l->basic);
  g_free (l->user);
  g_free (l);
}

static void
login_succeed (Login *l, const gchar *user, const gchar *backend, const gchar *credential)
{
  RcSession s = { (gchar *) user, (gchar *) credential, (gchar *) backend,
                  A.idle_s ? now_s () + A.idle_s : 0 };
  g_autofree gchar *cookie = session_cookie_header (&s);
  g_autofree gchar *clear_state = cookie_header (STATE_COOKIE, "", "Lax", 0);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, user);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *body = json_to_string (root, FALSE);
  const gchar *h[] = { "Cache-Control: no-store", cookie, clear_state, NULL };
  g_message ("login of %s succeeded (%s)", user, backend);
  http_exchange_respond_json (l->ex, 200, body, h);
  if (cookie)
    explicit_bzero (cookie, strlen (cookie));
}

static void
login_fail (Login *l, guint status, const gchar *problem, const gchar *message)
{
  g_message ("login%s%s failed: %s", l->user ? " of " : "", l->user ? l->user : "", message);
  const gchar *h[] = { "Cache-Control: no-store", NULL };
  respond_problem (l->ex, status, problem, message, h);
}

static void start_user_check (Login *l, const gchar *path);

static void
on_user_checked (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  Login *l = user_data;
  if (error)
    {
      g_autofree gchar *m = g_strdup_printf ("master unreachable: %s", error->message);
      login_fail (l, 502, error->code == UPSTREAM_ERROR_NOT_FOUND ? "not-found" : "internal-error", m);
      login_free (l);
      return;
    }
  if (status == 404 && !l->fallback_tried)
    {
      l->fallback_tried = TRUE;
      start_user_check (l, "/oapi/v1/users/~");
      return;
    }
  if (status == 401 || status == 403)
    {
      login_fail (l, 401, "authentication-failed", "the master rejected the token");
      login_free (l);
      return;
    }
  if (status != 200)
    {
      g_autofree gchar *m = g_strdup_printf ("the master answered %u to the user check", status);
      login_fail (l, 502, "internal-error", m);
      login_free (l);
      return;
    }
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const gchar *data = g_bytes_get_data (body, &len);
  const gchar *name = NULL;
  if (json_parser_load_from_data (parser, data, len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      JsonNode *md = json_object_get_member (o, "metadata");
      if (md && JSON_NODE_HOLDS_OBJECT (md))
        name = json_object_get_string_member_with_default (json_node_get_object (md), "name", NULL);
    }
  if (!name || !name[0])
    {
      login_fail (l, 502, "internal-error", "the master's user answer has no metadata.name");
      login_free (l);
      return;
    }
  g_autofree gchar *cred = g_strconcat ("Bearer ", l->token, NULL);
  login_succeed (l, name, "master", cred);
  explicit_bzero (cred, strlen (cred));
  login_free (l);
}

static void
start_user_check (Login *l, const gchar *path)
{
  UpstreamRequest *req = upstream_request_new (UPSTREAM_MASTER, "GET", path);
  g_autofree gchar *auth = g_strconcat ("Bearer ", l->token, NULL);
  upstream_request_set_authorization (req, auth);
  upstream_request_add_header (req, "Accept", "application/json");
  upstream_request_set_timeout (req, CHECK_TIMEOUT_S);
  explicit_bzero (auth, strlen (auth));
  upstream_fetch (req, on_user_checked, l);
}

static void
registry_unreachable (Login *l, const GError *error)
{
  g_autofree gchar *m = g_strdup_printf ("registry unreachable: %s", error->message);
  login_fail (l, 502, error->code == UPSTREAM_ERROR_NOT_FOUND ? "not-found" : "internal-error", m);
  login_free (l);
}


/* ---- recently verified registry credentials ----
 * A keyed hash (HMAC-SHA256 under a per-process random key) of credentials
 * the registry accepted in the last VERIFIED_TTL_S seconds. A user logging in
 * again with the same credentials is not queued behind a password-guessing
 * attack that keeps the registry busy hashing bad passwords. Only the MAC is
 * kept, never the credential; a password changed at the registry stops
 * working here within VERIFIED_TTL_S. */
#define VERIFIED_TTL_S 300
#define VERIFIED_MAX 10000
static GHashTable *verified;          /* MAC hex → expiry (monotonic s) */
static guint8 verified_key[32];

static gchar *
credential_mac (const gchar *basic)
{
  if (!verified)
    {
      verified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (gnutls_rnd (GNUTLS_RND_KEY, verified_key, sizeof verified_key) < 0)
        g_error ("gnutls_rnd failed");
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

static void
on_registry_token (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  Login *l = user_data;
  if (error)
    return registry_unreachable (l, error);
  if (status == 200)
    {
      /* a token server answers 200 with a token for good credentials */
      g_autoptr(JsonParser) parser = json_parser_new ();
      gsize len = 0;
      const gchar *data = g_bytes_get_data (body, &len);
      gboolean has_token = FALSE;
      if (json_parser_load_from_data (parser, data, len, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (parser));
          has_token = json_object_has_member (o, "token") || json_object_has_member (o, "access_token");
        }
      if (has_token)
        {
          credential_remember (l->basic);
          login_succeed (l, l->user, "registry", l->basic);
          login_free (l);
          return;
        }
      login_fail (l, 502, "internal-error", "the registry's token server answered without a token");
      login_free (l);
      return;
    }
  if (status == 401 || status == 403)
    login_fail (l, 401, "authentication-failed", "registry rejected the credentials");
  else
    {
      g_autofree gchar *m = g_strdup_printf ("the registry's token server answered %u", status);
      login_fail (l, 502, "internal-error", m);
    }
  login_free (l);
}

static void
fetch_registry_token (Login *l, GHashTable *challenge)
{
  const gchar *realm = g_hash_table_lookup (challenge, "realm");
  const gchar *service = g_hash_table_lookup (challenge, "service");
  GString *url = g_string_new (realm);
  g_string_append_c (url, strchr (realm, '?') ? '&' : '?');
  g_string_append (url, "service=");
  g_string_append_uri_escaped (url, service ? service : "", NULL, FALSE);
  g_string_append (url, "&scope=");
  g_autofree gchar *u = g_string_free (url, FALSE);
  UpstreamRequest *req = upstream_request_new_url (UPSTREAM_REGISTRY, "GET", u);
  upstream_request_set_authorization (req, l->basic);
  upstream_request_set_timeout (req, CHECK_TIMEOUT_S);
  upstream_fetch (req, on_registry_token, l);
}

static void
on_registry_checked_with_credentials (guint status, GHashTable *headers, GBytes *body,
                                      const GError *error, gpointer user_data)
{
  Login *l = user_data;
  if (error)
    return registry_unreachable (l, error);
  if (status == 200)
    {
      credential_remember (l->basic);
      login_succeed (l, l->user, "registry", l->basic);
      login_free (l);
      return;
    }
  if (status == 401)
    {
      g_autoptr(GHashTable) ch = upstream_parse_bearer_challenge (headers ? g_hash_table_lookup (headers, "www-authenticate") : NULL);
      if (ch && g_hash_table_lookup (ch, "realm"))
        return fetch_registry_token (l, ch);
      login_fail (l, 401, "authentication-failed", "registry rejected the credentials");
    }
  else
    {
      g_autofree gchar *m = g_strdup_printf ("the registry answered %u to GET /v2/", status);
      login_fail (l, 502, "internal-error", m);
    }
  login_free (l);
}

static void
on_registry_probed (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  Login *l = user_data;
  if (error)
    return registry_unreachable (l, error);
  if (status == 200)
    {
      g_message ("the registry %s requires no authentication: accepting user %s without a password check",
                 upstream_get_base_url (UPSTREAM_REGISTRY), l->user);
      login_succeed (l, l->user, "registry", "");
      login_free (l);
      return;
    }
  if (status == 401)
    {
      g_autoptr(GHashTable) ch = upstream_parse_bearer_challenge (headers ? g_hash_table_lookup (headers, "www-authenticate") : NULL);
      if (ch && g_hash_table_lookup (ch, "realm"))
        return fetch_registry_token (l, ch);
      UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/");
      upstream_request_set_authorization (req, l->basic);
      upstream_request_set_timeout (req, CHECK_TIMEOUT_S);
      upstream_fetch (req, on_registry_checked_with_credentials, l);
      return;
    }
  g_autofree gchar *m = g_strdup_printf ("the registry answered %u to GET /v2/", status);
  login_fail (l, 502, "internal-error", m);
  login_free (l);
}

static gchar *
state_from_request (HttpExchange *ex)
{
  const gchar *h = http_exchange_get_header (ex, "x-state");
  if (h && h[0])
    return g_strdup (h);
  GBytes *body = http_exchange_get_body (ex);
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;
  if (!data || len == 0)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  return g_strdup (json_object_get_string_member_with_default (o, "state", NULL));
}

/* The checks every state-changing POST endpoint makes first: the method is
 * POST and the request comes from the console's own origin (login CSRF,
 * cross-site requests). Answers and returns FALSE when one fails. */
static gboolean
require_same_origin_post (HttpExchange *ex, const gchar *what)
{
  if (!g_str_equal (http_exchange_get_method (ex), "POST"))
    {
      const gchar *h[] = { "Allow: POST", NULL };
      respond_problem (ex, 405, "protocol-error", "use POST", h);
      return FALSE;
    }
  if (!origin_allowed (ex))
    {
      const gchar *nostore[] = { "Cache-Control: no-store", NULL };
      g_autofree gchar *msg = g_strdup_printf ("%s must come from the console's own origin", what);
      respond_problem (ex, 403, "access-denied", msg, nostore);
      return FALSE;
    }
  return TRUE;
}

static void
handle_login (HttpExchange *ex, gpointer user_data)
{
  if (!require_same_origin_post (ex, "login requests"))
    return;
  const gchar *auth = http_exchange_get_header (ex, "authorization");
  Login *l = g_new0 (Login, 1);
  l->ex = ex;

  if (A.openshift)
    {
      if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 || !auth[7])
        {
          login_fail (l, 401, "authentication-failed", "no bearer token in the login request");
          login_free (l);
          return;
        }
      g_autofree gchar *state = state_from_request (ex);
      g_autofree gchar *sealed = session_cookie_get (http_exchange_get_header (ex, "cookie"), STATE_COOKIE);
      g_autofree gchar *expected = sealed ? session_open_string (A.key, "state", sealed, now_s ()) : NULL;
      if (!state || !expected || !secure_equal (state, expected))
        {
          login_fail (l, 403, "access-denied", "the login state does not match this browser; start the login again");
          login_free (l);
          return;
        }
      l->token = g_strstrip (g_strdup (auth + 7));
      start_user_check (l, "/apis/user.openshift.io/v1/users/~");
      return;
    }

  if (!upstream_get_base_url (UPSTREAM_REGISTRY))
    {
      login_fail (l, 502, "internal-error", "neither a master nor a registry is configured");
      login_free (l);
      return;
    }
  if (!auth || g_ascii_strncasecmp (auth, "Basic ", 6) != 0)
    {
      login_fail (l, 401, "authentication-failed", "no user name and password in the login request");
      login_free (l);
      return;
    }
  gsize len = 0;
  g_autofree gchar *b64 = g_strstrip (g_strdup (auth + 6));
  g_autofree guchar *dec = g_base64_decode (b64, &len);
  g_autofree gchar *pair = dec ? g_strndup ((const gchar *) dec, len) : NULL;
  const gchar *colon = pair ? strchr (pair, ':') : NULL;
  if (!colon || colon == pair || strlen (pair) != len || !g_utf8_validate (pair, colon - pair, NULL))
    {
      if (dec)
        explicit_bzero (dec, len);
      login_fail (l, 401, "authentication-failed", "the user name is empty or the credentials are malformed");
      login_free (l);
      return;
    }
  l->user = g_strndup (pair, colon - pair);
  l->basic = g_strconcat ("Basic ", b64, NULL);
  explicit_bzero (dec, len);
  explicit_bzero (pair, len);
  if (credential_recently_verified (l->basic))
    {
      g_debug ("login of %s: credentials verified by the registry within %d s", l->user, VERIFIED_TTL_S);
      login_succeed (l, l->user, "registry", l->basic);
      login_free (l);
      return;
    }
  UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/");
  upstream_request_set_timeout (req, CHECK_TIMEOUT_S);
  upstream_fetch (req, on_registry_probed, l);
}

/* ---- session info, logout, token ---- */

static void
handle_session (HttpExchange *ex, gpointer user_data)
{
  g_autoptr(RcSession) s = exchange_session (ex);
  const gchar *nostore[] = { "Cache-Control: no-store", NULL };
  if (!s)
    {
      respond_problem (ex, 401, "authentication-failed", "not logged in", nostore);
      return;
    }
  g_autofree gchar *refresh = maybe_refresh (s);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, s->user);
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, s->backend);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, A.openshift ? "openshift" : "registry");
  json_builder_set_member_name (b, "registry_host");
  if (A.cfg->registry_host)
    json_builder_add_string_value (b, A.cfg->registry_host);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "expires");
  json_builder_add_int_value (b, s->expires);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *body = json_to_string (root, FALSE);
  const gchar *h[] = { "Cache-Control: no-store", refresh, NULL };
  http_exchange_respond_json (ex, 200, body, h);
}

static void
handle_logout (HttpExchange *ex, gpointer user_data)
{
  g_autoptr(RcSession) s = exchange_session (ex);
  if (s)
    g_message ("logout of %s", s->user);
  g_autofree gchar *clear = cookie_header (SESSION_COOKIE_NAME, "", "Strict", 0);
  if (g_str_equal (http_exchange_get_method (ex), "POST"))
    {
      const gchar *h[] = { "Cache-Control: no-store", clear, NULL };
      http_exchange_respond_json (ex, 200, "{}", h);
      return;
    }
  g_autofree gchar *location = g_strdup_printf ("Location: %s/", A.cfg->url_root ? A.cfg->url_root : "");
  const gchar *h[] = { "Cache-Control: no-store", clear, location, NULL };
  g_autoptr(GBytes) body = g_bytes_new_static ("", 0);
  http_exchange_respond (ex, 303, "text/plain", body, h);
}

static void
handle_token (HttpExchange *ex, gpointer user_data)
{
  const gchar *nostore[] = { "Cache-Control: no-store", NULL };
  if (!require_same_origin_post (ex, "requests"))
    return;
  g_autoptr(RcSession) s = exchange_session (ex);
  if (!s)
    {
      respond_problem (ex, 401, "authentication-failed", "not logged in", nostore);
      return;
    }
  if (!g_str_has_prefix (s->credential, "Bearer "))
    {
      respond_problem (ex, 404, "not-supported", "this session has no token", nostore);
      return;
    }
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, s->user);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, s->credential + 7);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *body = json_to_string (root, FALSE);
  http_exchange_respond_json (ex, 200, body, nostore);
  explicit_bzero (body, strlen (body));
}

/* ---- socket hook ---- */

static RcSession *
socket_session (const gchar *cookie)
{
  return session_from_cookie_header (cookie);
}

static void
socket_session_free (gpointer p)
{
  rc_session_free (p);
}

static gint64
socket_session_expires (RcSession *session)
{
  return session->expires;
}

/* ---- init ---- */

gboolean
auth_init (const Config *cfg, GError **error)
{
  A.cfg = cfg;
  A.idle_s = cfg->idle_timeout * 60;
  g_autofree gchar *key_path = cfg->session_key_file ? g_strdup (cfg->session_key_file)
                                                     : g_build_filename (cfg->cert_dir, "session.key", NULL);
  A.key = session_key_load (key_path, TRUE, error);
  if (!A.key)
    return FALSE;
  if (!upstream_init (cfg, error))
    return FALSE;
  A.openshift = upstream_get_base_url (UPSTREAM_MASTER) != NULL;
  if (A.openshift)
    g_message ("login through the OpenShift master %s", upstream_get_base_url (UPSTREAM_MASTER));
  else if (upstream_get_base_url (UPSTREAM_REGISTRY))
    g_message ("login checked by the registry %s", upstream_get_base_url (UPSTREAM_REGISTRY));
  else
    g_warning ("neither a master (--master, KUBERNETES_SERVICE_HOST) nor a registry (REGISTRY_URL) is configured; nobody can log in");

  http_add_handler ("/", handle_root, NULL);
  http_add_handler ("/cockpit/login/config", handle_login_config, NULL);
  http_add_handler ("/cockpit/login", handle_login, NULL);
  http_add_handler ("/cockpit/session", handle_session, NULL);
  http_add_handler ("/cockpit/logout", handle_logout, NULL);
  http_add_handler ("/cockpit/token", handle_token, NULL);
  socket_set_session_func (socket_session, socket_session_free);
  socket_set_session_expires_func (socket_session_expires);
  channel_http_stream2_register (A.idle_s);
  return TRUE;
}

void
auth_shutdown (void)
{
  g_clear_pointer (&verified, g_hash_table_unref);
  socket_set_session_func (NULL, NULL);
  socket_set_session_expires_func (NULL);
  upstream_shutdown ();
  g_clear_pointer (&A.key, session_key_free);
  A.cfg = NULL;
}
