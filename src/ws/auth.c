/* auth.c: login (OpenShift OAuth implicit grant, or registry basic/token
 * auth), the sealed session cookie, logout. Log domain: cockpit-wrapper.
 * The credentials themselves are checked in login.c.
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
#include "ws/http.h"
#include "ws/login.h"
#include "ws/socket.h"
#include "ws/upstream.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>
#include <json-glib/json-glib.h>

#define STATE_LIFETIME_S 600
#define USED_STATES_MAX 100000
#define LOGOUT_TIMEOUT_S 10

static struct {
  const Config *cfg;
  SessionKey *key;
  gboolean openshift;
  guint logins;               /* credential checks in flight */
  GHashTable *logins_by_address;  /* client address → checks in flight */
  GHashTable *used_states;    /* sha256 of an OAuth state → when it expires */
} A;

/* A login waiting for its credential check. */
typedef struct {
  HttpExchange *ex;
  gchar *address;
  gchar *state;               /* OpenShift: remembered once the login succeeds */
} PendingLogin;

static const gchar *const no_store[] = { "Cache-Control: no-store", NULL };

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* ------------------------------------------------------------- cookies */

/* Over TLS the cookies carry the __Host- prefix: the browser then takes them
 * only from this host, Secure, Path=/ and without Domain, so a page on a
 * sibling host under the same site cannot set (toss) one. Behind a
 * TLS-terminating proxy (--no-tls) the prefix cannot be used. */
static const gchar *
session_cookie_name (void)
{
  return A.cfg->no_tls ? SESSION_COOKIE_NAME : "__Host-" SESSION_COOKIE_NAME;
}

static const gchar *
state_cookie_name (void)
{
  return A.cfg->no_tls ? SESSION_COOKIE_NAME "-state" : "__Host-" SESSION_COOKIE_NAME "-state";
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
  g_autoptr(RcSecret) sealed = session_seal (A.key, session);
  if (!sealed)
    return NULL;
  return cookie_header (session_cookie_name (), sealed, "Strict", -1);
}

RcSession *
auth_session_for_cookie (const gchar *cookie_header, gboolean tls)
{
  guint count = 0;
  g_autoptr(RcSecret) value = session_cookie_get (cookie_header, session_cookie_name (), &count);
  if (!value || !value[0])
    return NULL;
  if (count > 1)
    {
      g_message ("refusing a request with %u session cookies (one was set by another site?)", count);
      return NULL;
    }
  RcSession *s = session_open (A.key, value, now_s ());
  if (!s)
    g_debug ("ignoring an invalid or expired session cookie");
  return s;
}

static RcSession *
exchange_session (HttpExchange *ex)
{
  return auth_session_for_cookie (http_exchange_get_header (ex, "cookie"), http_exchange_is_tls (ex));
}

/* A Set-Cookie header that carries the activity of this request to the
 * browser's copy of the session, or NULL when not due. */
static gchar *
maybe_refresh (RcSession *s)
{
  gint64 now = now_s ();
  if (!session_refresh_due (s, now) || !session_touch (s, now))
    return NULL;
  return session_cookie_header (s);
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
      http_exchange_fail (ex, 405, "protocol-error", h, "use POST");
      return FALSE;
    }
  if (!http_exchange_origin_allowed (ex))
    {
      http_exchange_fail (ex, 403, "access-denied", NULL, "%s must come from the console's own origin", what);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------- GET / */

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

/* ----------------------------------------- GET /cockpit/login/config */

static gchar *
redirect_uri_for (HttpExchange *ex)
{
  if (A.cfg->kube_url && A.cfg->kube_url[0])
    return g_strdup (A.cfg->kube_url);
  g_autofree gchar *own = http_exchange_dup_origin (ex);
  return g_strconcat (own ? own : "", A.cfg->url_root ? A.cfg->url_root : "", "/", NULL);
}

/* The OAuth members of the login configuration; returns the state cookie
 * that binds the `state` to this browser. */
static gchar *
add_oauth_config (HttpExchange *ex, JsonObject *config)
{
  const gchar *provider = A.cfg->oauth_provider_url ? A.cfg->oauth_provider_url
                                                     : upstream_get_base_url (UPSTREAM_MASTER);
  const gchar *client_id = A.cfg->oauth_client_id ? A.cfg->oauth_client_id : "cockpit-oauth-client";
  g_autofree gchar *redirect = redirect_uri_for (ex);
  g_autofree gchar *state = rc_random_base64url (24);
  g_autofree gchar *base = rc_strip_trailing_slashes (g_strdup (provider));
  g_autofree gchar *e_client = g_uri_escape_string (client_id, NULL, FALSE);
  g_autofree gchar *e_redirect = g_uri_escape_string (redirect, NULL, FALSE);
  g_autofree gchar *url = g_strdup_printf ("%s/oauth/authorize?client_id=%s&response_type=token&redirect_uri=%s&state=%s",
                                           base, e_client, e_redirect, state);
  json_object_set_string_member (config, "authorize_url", url);
  json_object_set_string_member (config, "oauth_provider_url", base);
  json_object_set_string_member (config, "client_id", client_id);
  json_object_set_string_member (config, "redirect_uri", redirect);
  json_object_set_string_member (config, "state", state);
  g_autofree gchar *sealed = session_seal_string (A.key, "state", state, now_s () + STATE_LIFETIME_S);
  return cookie_header (state_cookie_name (), sealed, "Lax", STATE_LIFETIME_S);
}

static void
set_nullable_string (JsonObject *o, const gchar *name, const gchar *value)
{
  if (value)
    json_object_set_string_member (o, name, value);
  else
    json_object_set_null_member (o, name);
}

static void
handle_login_config (HttpExchange *ex, gpointer user_data)
{
  g_autoptr(JsonObject) config = rc_json_build ("mode", A.openshift ? "openshift" : "registry", NULL);
  g_autofree gchar *state_cookie = NULL;
  set_nullable_string (config, "login_title", A.cfg->login_title);
  set_nullable_string (config, "registry_host", A.cfg->registry_host);
  if (A.openshift)
    state_cookie = add_oauth_config (ex, config);
  g_autofree gchar *body = rc_json_write_object (config);
  const gchar *h[] = { "Cache-Control: no-store", state_cookie, NULL };
  http_exchange_respond_json (ex, 200, body, h);
}

/* ------------------------------------------------ POST /cockpit/login */

/* The client address of a peer "1.2.3.4:5678" or "[::1]:5678". */
static gchar *
peer_address (const gchar *peer)
{
  const gchar *colon = strrchr (peer, ':');
  return colon ? g_strndup (peer, colon - peer) : g_strdup (peer);
}

/* A credential check from this client. With LIMITED, only while there is
 * room (MaxLogins, MaxLoginsPerAddress): the master or registry is not made
 * to check passwords for whoever floods us; NULL when there is none. */
static PendingLogin *
pending_login_new (HttpExchange *ex, gboolean limited)
{
  g_autofree gchar *address = peer_address (http_exchange_get_peer (ex));
  guint here = GPOINTER_TO_UINT (g_hash_table_lookup (A.logins_by_address, address));
  /* behind a TLS-terminating proxy every client has the proxy's address */
  gboolean per_address = A.cfg->max_logins_per_address && !A.cfg->no_tls;
  if (limited && ((A.cfg->max_logins && A.logins >= A.cfg->max_logins) ||
                  (per_address && here >= A.cfg->max_logins_per_address)))
    {
      g_debug ("%s: login refused: %u checks in flight, %u from this address", http_exchange_get_peer (ex),
               A.logins, here);
      return NULL;
    }
  A.logins++;
  g_hash_table_insert (A.logins_by_address, g_strdup (address), GUINT_TO_POINTER (here + 1));
  PendingLogin *p = g_new0 (PendingLogin, 1);
  p->ex = ex;
  p->address = g_steal_pointer (&address);
  return p;
}

static void
pending_login_free (PendingLogin *p)
{
  guint here = GPOINTER_TO_UINT (g_hash_table_lookup (A.logins_by_address, p->address));
  A.logins--;
  if (here <= 1)
    g_hash_table_remove (A.logins_by_address, p->address);
  else
    g_hash_table_insert (A.logins_by_address, g_strdup (p->address), GUINT_TO_POINTER (here - 1));
  g_free (p->address);
  g_free (p->state);
  g_free (p);
}

/* A state is good for one login: the states of successful logins are
 * remembered until they would have expired anyway. Only a login with a
 * valid token records one, so nobody fills the table for free (bounded
 * all the same: when full, the expired ones go, then all; a state is never
 * older than STATE_LIFETIME_S). */
static gchar *
state_digest (const gchar *state)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, state, -1);
}

static gboolean
state_was_used (const gchar *state)
{
  g_autofree gchar *digest = state_digest (state);
  gpointer until;
  return g_hash_table_lookup_extended (A.used_states, digest, NULL, &until) &&
         (gint64) GPOINTER_TO_SIZE (until) >= now_s ();
}

static void
state_remember (const gchar *state)
{
  gint64 now = now_s ();
  gpointer until;
  if (g_hash_table_size (A.used_states) >= USED_STATES_MAX)
    {
      GHashTableIter iter;
      g_hash_table_iter_init (&iter, A.used_states);
      while (g_hash_table_iter_next (&iter, NULL, &until))
        if ((gint64) GPOINTER_TO_SIZE (until) < now)
          g_hash_table_iter_remove (&iter);
      if (g_hash_table_size (A.used_states) >= USED_STATES_MAX)
        g_hash_table_remove_all (A.used_states);
    }
  g_hash_table_replace (A.used_states, state_digest (state), GSIZE_TO_POINTER ((gsize) (now + STATE_LIFETIME_S)));
}

static void
on_login_checked (const gchar *user, const gchar *backend, const gchar *credential,
                  guint status, const gchar *problem, const gchar *message, gpointer user_data)
{
  PendingLogin *p = user_data;
  HttpExchange *ex = p->ex;
  g_autofree gchar *state = g_steal_pointer (&p->state);
  pending_login_free (p);
  if (problem)
    {
      g_autofree gchar *who = user ? rc_log_escape (user, 256) : NULL;
      g_message ("login%s%s failed: %s", who ? " of " : "", who ? who : "", message);
      http_exchange_fail (ex, status, problem, no_store, "%s", message);
      return;
    }
  if (state)
    state_remember (state);
  g_autoptr(RcSession) s = session_new (user, backend, credential, now_s ());
  g_autoptr(RcSecret) cookie = session_cookie_header (s);
  g_autofree gchar *clear_state = cookie_header (state_cookie_name (), "", "Lax", 0);
  g_autofree gchar *body = rc_json_build_text ("user", user, NULL);
  g_autofree gchar *shown = rc_log_escape (user, 256);
  const gchar *h[] = { "Cache-Control: no-store", cookie, clear_state, NULL };
  g_message ("login of %s succeeded (%s)", shown, backend);
  http_exchange_respond_json (ex, 200, body, h);
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
  g_autoptr(JsonObject) o = rc_json_parse_object (data, len, NULL);
  return o ? g_strdup (rc_json_string_or (o, "state", NULL)) : NULL;
}

/* The state the browser brought back matches the one this browser was
 * given (sealed in its state cookie), and was not used before. Returns it
 * (transfer full), or NULL. */
static gchar *
state_matches (HttpExchange *ex)
{
  g_autofree gchar *state = state_from_request (ex);
  g_autofree gchar *sealed = session_cookie_get (http_exchange_get_header (ex, "cookie"), state_cookie_name (), NULL);
  g_autofree gchar *expected = sealed ? session_open_string (A.key, "state", sealed, now_s ()) : NULL;
  if (!state || !expected || !rc_secret_equal (state, expected))
    return NULL;
  if (state_was_used (state))
    {
      g_message ("%s: refusing a login whose OAuth state was used already", http_exchange_get_peer (ex));
      return NULL;
    }
  return g_steal_pointer (&state);
}

static void
login_refuse_busy (HttpExchange *ex)
{
  const gchar *h[] = { "Cache-Control: no-store", "Retry-After: 1", NULL };
  http_exchange_fail (ex, 429, "too-many", h, "too many logins at once; try again in a moment");
}

static void
handle_login (HttpExchange *ex, gpointer user_data)
{
  if (!require_same_origin_post (ex, "login requests"))
    return;
  const gchar *auth = http_exchange_get_header (ex, "authorization");
  PendingLogin *p = NULL;

  if (!A.openshift)
    {
      /* a returning user with known-good credentials never waits in line */
      if (!(p = pending_login_new (ex, !login_basic_recently_verified (auth))))
        return login_refuse_busy (ex);
      login_check_basic (auth, on_login_checked, p);
      return;
    }
  if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 || !auth[7])
    {
      http_exchange_fail (ex, 401, "authentication-failed", no_store, "no bearer token in the login request");
      return;
    }
  g_autofree gchar *state = state_matches (ex);
  if (!state)
    {
      http_exchange_fail (ex, 403, "access-denied", no_store,
                          "the login state does not match this browser; start the login again");
      return;
    }
  if (!(p = pending_login_new (ex, TRUE)))
    return login_refuse_busy (ex);
  p->state = g_steal_pointer (&state);
  g_autoptr(RcSecret) token = g_strstrip (g_strdup (auth + 7));
  login_check_token (token, on_login_checked, p);
}

/* ---------------------------------------- session info, logout, token */

static void
handle_session (HttpExchange *ex, gpointer user_data)
{
  g_autoptr(RcSession) s = exchange_session (ex);
  if (!s)
    {
      http_exchange_fail (ex, 401, "authentication-failed", NULL, "not logged in");
      return;
    }
  g_autofree gchar *refresh = maybe_refresh (s);
  g_autoptr(JsonObject) info = rc_json_build ("user", session_get_user (s), "backend", session_get_backend (s),
                                              "mode", A.openshift ? "openshift" : "registry", NULL);
  set_nullable_string (info, "registry_host", A.cfg->registry_host);
  json_object_set_int_member (info, "expires", session_get_expires (s));
  g_autofree gchar *body = rc_json_write_object (info);
  const gchar *h[] = { "Cache-Control: no-store", refresh, NULL };
  http_exchange_respond_json (ex, 200, body, h);
}

/* Logout must come from the console itself: a POST from its own origin, or
 * a GET the browser says is not cross-site (Sec-Fetch-Site; a GET carries
 * no Origin). Answers and returns FALSE otherwise. */
static gboolean
logout_allowed (HttpExchange *ex)
{
  if (g_str_equal (http_exchange_get_method (ex), "POST"))
    return require_same_origin_post (ex, "logout requests");
  const gchar *origin = http_exchange_get_header (ex, "origin");
  const gchar *site = http_exchange_get_header (ex, "sec-fetch-site");
  if ((origin && !http_exchange_origin_allowed (ex)) ||
      (site && !g_str_equal (site, "same-origin") && !g_str_equal (site, "none")))
    {
      http_exchange_fail (ex, 403, "access-denied", NULL, "logout requests must come from the console itself");
      return FALSE;
    }
  return TRUE;
}

/* The name of the OAuthAccessToken object of TOKEN: "sha256~" tokens are
 * stored under "sha256~" + base64url(sha256(the rest)); older tokens under
 * their own value. */
static gchar *
oauth_token_name (const gchar *token)
{
  if (!g_str_has_prefix (token, "sha256~"))
    return g_strdup (token);
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) token + 7, strlen (token) - 7);
  g_checksum_get_digest (sum, digest, &len);
  g_autofree gchar *b64 = rc_base64url_encode (digest, len);
  return g_strconcat ("sha256~", b64, NULL);
}

static void
logout_respond (HttpExchange *ex)
{
  g_autofree gchar *clear = cookie_header (session_cookie_name (), "", "Strict", 0);
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
on_token_deleted (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  HttpExchange *ex = user_data;
  if (error)
    g_warning ("logout: the master did not delete the OAuth token: %s", error->message);
  else if (status != 200 && status != 202 && status != 204 && status != 404)
    g_warning ("logout: the master answered %u when deleting the OAuth token", status);
  else
    g_debug ("logout: OAuth token deleted at the master (%u)", status);
  logout_respond (ex);
}

/* Logout ends the session for real: this process refuses the cookie from
 * now on and closes the session's sockets; in OpenShift mode the OAuth
 * token is deleted at the master, as `oc logout` does, so the cookie is
 * dead on every replica. */
static void
handle_logout (HttpExchange *ex, gpointer user_data)
{
  if (!logout_allowed (ex))
    return;
  g_autoptr(RcSession) s = exchange_session (ex);
  if (!s)
    return logout_respond (ex);

  g_autofree gchar *shown = rc_log_escape (session_get_user (s), 256);
  g_message ("logout of %s", shown);
  session_revoke (s);
  socket_close_session (session_get_id (s));
  const gchar *cred = session_get_credential (s);
  if (!g_str_equal (session_get_backend (s), "master") || !g_str_has_prefix (cred, "Bearer "))
    return logout_respond (ex);

  g_autofree gchar *name = oauth_token_name (cred + 7);
  g_autofree gchar *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree gchar *path = g_strconcat ("/apis/oauth.openshift.io/v1/oauthaccesstokens/", escaped, NULL);
  UpstreamRequest *req = upstream_request_new (UPSTREAM_MASTER, "DELETE", path);
  upstream_request_set_authorization (req, cred);
  upstream_request_add_header (req, "Accept", "application/json");
  upstream_request_set_timeout (req, LOGOUT_TIMEOUT_S);
  upstream_fetch (req, on_token_deleted, ex);
}

static void
handle_token (HttpExchange *ex, gpointer user_data)
{
  if (!require_same_origin_post (ex, "requests"))
    return;
  g_autoptr(RcSession) s = exchange_session (ex);
  if (!s)
    {
      http_exchange_fail (ex, 401, "authentication-failed", NULL, "not logged in");
      return;
    }
  const gchar *cred = session_get_credential (s);
  if (!g_str_has_prefix (cred, "Bearer "))
    {
      http_exchange_fail (ex, 404, "not-supported", NULL, "this session has no token");
      return;
    }
  g_autoptr(RcSecret) body = rc_json_build_text ("user", session_get_user (s), "token", cred + 7, NULL);
  http_exchange_respond_json (ex, 200, body, no_store);
}

/* ---------------------------------------------------------------- init */

gboolean
auth_init (const Config *cfg, GError **error)
{
  A.cfg = cfg;
  session_set_lifetime (cfg->idle_timeout * 60, cfg->session_lifetime * 60);
  g_autofree gchar *key_path = cfg->session_key_file ? g_strdup (cfg->session_key_file)
                                                     : g_build_filename (cfg->cert_dir, "session.key", NULL);
  A.key = session_key_load (key_path, TRUE, error);
  if (!A.key)
    return FALSE;
  A.logins_by_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  A.used_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
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
  return TRUE;
}

void
auth_shutdown (void)
{
  login_shutdown ();
  g_clear_pointer (&A.logins_by_address, g_hash_table_unref);
  g_clear_pointer (&A.used_states, g_hash_table_unref);
  g_clear_pointer (&A.key, session_key_free);
  A.cfg = NULL;
}
