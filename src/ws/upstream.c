/* upstream.c: libcurl multi on the glib main loop; master and registry
 * clients. See upstream.h. */
#include "config.h"

#include "ws/upstream.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <curl/curl.h>
#include <json-glib/json-glib.h>

#define CONNECT_TIMEOUT_S 10
#define FETCH_MAX (16 * 1024 * 1024)
#define TOKEN_CACHE_MAX 1024       /* entries in each of the two token tables */
#define TOKEN_MAX_CHARS 8192       /* a longer token is used, never cached */
#define SCOPE_MAX_CHARS 1024       /* a longer scope is used, never cached */
#define CHALLENGE_MAX_CHARS 4096   /* a longer challenge is not answered */

G_DEFINE_QUARK (upstream-error-quark, upstream_error)

typedef struct {
  gchar *base_url;
  gchar *ca_file;
  gchar *ca_data;
  gchar *ca_tmp_file;       /* ca_data written out when CAINFO_BLOB is not built in */
  gboolean insecure;
} Backend;

typedef struct {
  gchar *token;
  gint64 expires;           /* monotonic µs */
} CachedToken;

/* A libcurl multi handle on the glib loop, with its own connections and
 * limits. Requests use POOL_REQUESTS; long-lived ones (watches) use
 * POOL_WATCHES, so that however many watches are open they never hold the
 * connections every other request needs. */
typedef struct {
  CURLM *multi;
  guint timer;
} Pool;

enum { POOL_REQUESTS, POOL_WATCHES, N_POOLS };

/* The requests of one user (upstream_request_set_owner): at most
 * max_per_owner run at once, the rest wait here in order, so no user takes
 * every connection to the master or the registry. */
typedef struct {
  gchar *key;
  guint running;
  GQueue pending;            /* UpstreamRequest*, set up, not launched */
} Owner;

static struct {
  Pool pools[N_POOLS];
  GHashTable *owners;        /* key → Owner */
  guint max_per_owner;
  Backend backends[2];
  GHashTable *tokens;       /* sha256(basic) + " " + scope → CachedToken */
  GHashTable *scopes;       /* sha256(basic) + " " + path key → scope */
  gboolean blob_supported;
} U;

typedef struct {
  Pool *pool;
  curl_socket_t fd;
  guint source;
} SockInfo;

struct _UpstreamRequest {
  CURL *easy;
  Pool *pool;
  gboolean long_lived;
  gchar *owner_key;
  gboolean holds_slot;      /* counted in its owner's running */
  GList *pending_link;      /* in its owner's pending queue */
  UpstreamBackend backend;
  gchar *method;
  gchar *url;
  gchar *redacted_url;
  GPtrArray *headers;       /* "Name: value" */
  gchar *authorization;
  gchar *registry_basic;
  gchar *scope_key;         /* for the token cache */
  GBytes *body;
  guint timeout;
  struct curl_slist *slist;
  UpstreamCallbacks cb;
  gpointer user_data;
  gchar errbuf[CURL_ERROR_SIZE];

  guint status;
  gchar *reason;
  GHashTable *resp_headers;
  gboolean response_sent;
  gboolean retrying;        /* swallowing a 401 to fetch a registry token */
  GByteArray *held_body;    /* that 401's body, given to the caller if no token comes */
  gboolean retried;
  gboolean paused;
  gboolean cancelled;
  gboolean in_multi;
  guint cancel_idle;
  gint64 started;
  UpstreamRequest *token_req;

  /* upstream_fetch */
  UpstreamFetchFunc fetch_func;
  gpointer fetch_data;
  GDestroyNotify fetch_data_free;   /* frees fetch_data with the request */
  gsize fetch_max;          /* the largest body upstream_fetch buffers */
  GByteArray *fetch_buf;
  guint fetch_status;
  GHashTable *fetch_headers;
};

static void request_free (UpstreamRequest *req);
static void request_launch (UpstreamRequest *req);

/* ---- glib loop integration ---- */

static void check_multi_info (Pool *pool);

static gboolean
on_fd (gint fd, GIOCondition cond, gpointer user_data)
{
  Pool *pool = ((SockInfo *) user_data)->pool;
  int action = 0;
  int running = 0;
  if (cond & G_IO_IN)
    action |= CURL_CSELECT_IN;
  if (cond & G_IO_OUT)
    action |= CURL_CSELECT_OUT;
  if (cond & (G_IO_ERR | G_IO_HUP))
    action |= CURL_CSELECT_ERR;
  /* user_data (SockInfo) may be freed inside; do not touch it after */
  CURLMcode rc = curl_multi_socket_action (pool->multi, fd, action, &running);
  if (rc != CURLM_OK)
    g_warning ("curl_multi_socket_action: %s", curl_multi_strerror (rc));
  check_multi_info (pool);
  return G_SOURCE_CONTINUE;
}

static int
socket_cb (CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
  Pool *pool = userp;
  SockInfo *si = socketp;
  if (what == CURL_POLL_REMOVE)
    {
      if (si)
        {
          if (si->source)
            g_source_remove (si->source);
          g_free (si);
        }
      curl_multi_assign (pool->multi, s, NULL);
      return 0;
    }
  if (!si)
    {
      si = g_new0 (SockInfo, 1);
      si->pool = pool;
      si->fd = s;
      curl_multi_assign (pool->multi, s, si);
    }
  else if (si->source)
    {
      g_source_remove (si->source);
      si->source = 0;
    }
  GIOCondition cond = 0;
  if (what & CURL_POLL_IN)
    cond |= G_IO_IN;
  if (what & CURL_POLL_OUT)
    cond |= G_IO_OUT;
  si->source = g_unix_fd_add (s, cond, on_fd, si);
  return 0;
}

static gboolean
on_timeout (gpointer user_data)
{
  Pool *pool = user_data;
  int running = 0;
  pool->timer = 0;
  CURLMcode rc = curl_multi_socket_action (pool->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  if (rc != CURLM_OK)
    g_warning ("curl_multi_socket_action: %s", curl_multi_strerror (rc));
  check_multi_info (pool);
  return G_SOURCE_REMOVE;
}

static int
timer_cb (CURLM *multi, long timeout_ms, void *userp)
{
  Pool *pool = userp;
  if (pool->timer)
    {
      g_source_remove (pool->timer);
      pool->timer = 0;
    }
  if (timeout_ms >= 0)
    pool->timer = g_timeout_add ((guint) timeout_ms, on_timeout, pool);
  return 0;
}

static void
cached_token_free (gpointer p)
{
  CachedToken *t = p;
  if (t)
    {
      rc_secret_free (t->token);
      g_free (t);
    }
}

static void
pool_init (Pool *pool)
{
  pool->multi = curl_multi_init ();
  if (!pool->multi)
    g_error ("curl_multi_init failed");
  curl_multi_setopt (pool->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt (pool->multi, CURLMOPT_SOCKETDATA, pool);
  curl_multi_setopt (pool->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt (pool->multi, CURLMOPT_TIMERDATA, pool);
  curl_multi_setopt (pool->multi, CURLMOPT_MAXCONNECTS, 64L);
}

static void
pool_shutdown (Pool *pool)
{
  if (pool->timer)
    g_source_remove (pool->timer);
  pool->timer = 0;
  if (pool->multi)
    curl_multi_cleanup (pool->multi);
  pool->multi = NULL;
}

static void
ensure_multi (void)
{
  if (U.pools[POOL_REQUESTS].multi)
    return;
  CURLcode grc = curl_global_init (CURL_GLOBAL_DEFAULT);
  if (grc != CURLE_OK)
    g_error ("curl_global_init: %s", curl_easy_strerror (grc));
  for (int i = 0; i < N_POOLS; i++)
    pool_init (&U.pools[i]);
  U.tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cached_token_free);
  U.scopes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  CURL *probe = curl_easy_init ();
  struct curl_blob blob = { (void *) "x", 1, CURL_BLOB_COPY };
  U.blob_supported = probe && curl_easy_setopt (probe, CURLOPT_CAINFO_BLOB, &blob) == CURLE_OK;
  if (probe)
    curl_easy_cleanup (probe);
}

/* ---- configuration ---- */


static void
backend_clear (Backend *b)
{
  g_clear_pointer (&b->base_url, g_free);
  g_clear_pointer (&b->ca_file, g_free);
  g_clear_pointer (&b->ca_data, g_free);
  if (b->ca_tmp_file)
    g_unlink (b->ca_tmp_file);
  g_clear_pointer (&b->ca_tmp_file, g_free);
  b->insecure = FALSE;
}

void
upstream_configure_backend (UpstreamBackend backend, const gchar *base_url,
                            const gchar *ca_file, const gchar *ca_data, gboolean insecure)
{
  ensure_multi ();
  Backend *b = &U.backends[backend];
  backend_clear (b);
  if (!base_url || !base_url[0])
    return;
  b->base_url = rc_strip_trailing_slashes (g_strdup (base_url));
  b->ca_file = g_strdup (ca_file);
  b->ca_data = g_strdup (ca_data);
  b->insecure = insecure;
  if (b->ca_data && !U.blob_supported)
    {
      g_autofree gchar *tmp = g_build_filename (g_get_tmp_dir (), "registry-console-ca.XXXXXX", NULL);
      int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
      gsize len = strlen (b->ca_data);
      if (fd >= 0 && write (fd, b->ca_data, len) == (gssize) len)
        b->ca_tmp_file = g_steal_pointer (&tmp);
      else
        g_warning ("cannot write the CA data to a temporary file: %s", g_strerror (errno));
      if (fd >= 0)
        close (fd);
    }
  if (insecure)
    g_warning ("%s: TLS certificate verification is disabled", b->base_url);
  g_debug ("%s backend: %s", backend == UPSTREAM_MASTER ? "master" : "registry", b->base_url);
}

const gchar *
upstream_get_base_url (UpstreamBackend backend)
{
  return U.backends[backend].base_url;
}

gboolean
upstream_init (const Config *cfg, GError **error)
{
  ensure_multi ();
  /* beyond these, libcurl queues transfers until a connection is free;
   * watches have a pool of their own (their number is bounded per user) */
  U.max_per_owner = cfg->max_upstream_per_user;
  CURLM *requests = U.pools[POOL_REQUESTS].multi;
  curl_multi_setopt (requests, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) cfg->max_upstream_connections);
  curl_multi_setopt (requests, CURLMOPT_MAX_HOST_CONNECTIONS, (long) cfg->max_upstream_per_host);
  curl_multi_setopt (requests, CURLMOPT_MAXCONNECTS, (long) MAX (cfg->max_upstream_connections, 1));
  upstream_configure_backend (UPSTREAM_MASTER, cfg->master_url, cfg->master_ca_file,
                              cfg->master_ca_data, cfg->master_insecure);
  upstream_configure_backend (UPSTREAM_REGISTRY, cfg->registry_url, cfg->registry_ca_file,
                              NULL, cfg->registry_insecure);
  return TRUE;
}

void
upstream_shutdown (void)
{
  gboolean started = U.pools[POOL_REQUESTS].multi != NULL;
  for (int i = 0; i < 2; i++)
    backend_clear (&U.backends[i]);
  g_clear_pointer (&U.tokens, g_hash_table_unref);
  g_clear_pointer (&U.scopes, g_hash_table_unref);
  g_clear_pointer (&U.owners, g_hash_table_unref);
  for (int i = 0; i < N_POOLS; i++)
    pool_shutdown (&U.pools[i]);
  if (started)
    curl_global_cleanup ();
}

/* ---- helpers ---- */

static gchar *
redact_url (const gchar *url)
{
  const gchar *q = strchr (url, '?');
  /* an OAuth access token object is named after the token itself (older
   * masters): its name never goes into a log */
  const gchar *tokens = strstr (url, "/oauthaccesstokens/");
  if (tokens && (!q || tokens < q))
    return g_strdup_printf ("%.*s/oauthaccesstokens/***", (int) (tokens - url), url);
  if (!q)
    return g_strdup (url);
  GString *out = g_string_new_len (url, q - url + 1);
  g_auto(GStrv) parts = g_strsplit (q + 1, "&", -1);
  for (gchar **p = parts; *p; p++)
    {
      if (p != parts)
        g_string_append_c (out, '&');
      gchar *eq = strchr (*p, '=');
      g_autofree gchar *name = eq ? g_strndup (*p, eq - *p) : g_strdup (*p);
      gchar *lower = g_ascii_strdown (name, -1);
      gboolean secret = strstr (lower, "token") || strstr (lower, "password") ||
                        strstr (lower, "secret") || g_str_equal (lower, "code");
      g_free (lower);
      if (secret && eq)
        g_string_append_printf (out, "%s=***", name);
      else
        g_string_append (out, *p);
    }
  return g_string_free (out, FALSE);
}

GHashTable *
upstream_parse_bearer_challenge (const gchar *value)
{
  if (!value)
    return NULL;
  while (*value == ' ')
    value++;
  if (g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return NULL;
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const gchar *p = value + 7;
  while (*p)
    {
      while (*p == ' ' || *p == ',')
        p++;
      const gchar *eq = strchr (p, '=');
      if (!eq)
        break;
      g_autofree gchar *name = g_strstrip (g_strndup (p, eq - p));
      p = eq + 1;
      GString *v = g_string_new (NULL);
      if (*p == '"')
        {
          p++;
          while (*p && *p != '"')
            {
              if (*p == '\\' && p[1])
                p++;
              g_string_append_c (v, *p++);
            }
          if (*p == '"')
            p++;
        }
      else
        {
          while (*p && *p != ',')
            g_string_append_c (v, *p++);
          g_strstrip (v->str);
          v->len = strlen (v->str);
        }
      g_hash_table_replace (params, g_ascii_strdown (name, -1), g_string_free (v, FALSE));
    }
  return params;
}

static GError *
error_from_curl (UpstreamRequest *req, CURLcode rc)
{
  UpstreamError code;
  switch (rc)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      code = UPSTREAM_ERROR_NOT_FOUND;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      code = UPSTREAM_ERROR_TLS;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      code = UPSTREAM_ERROR_TIMEOUT;
      break;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      code = UPSTREAM_ERROR_DISCONNECTED;
      break;
    default:
      code = UPSTREAM_ERROR_FAILED;
      break;
    }
  const gchar *detail = req->errbuf[0] ? req->errbuf : curl_easy_strerror (rc);
  return g_error_new (UPSTREAM_ERROR, code, "%s %s: %s", req->method, req->redacted_url, detail);
}

static gchar *
credential_digest (const gchar *basic)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, basic, -1);
}

/* Key for remembering which scope a registry path needs. */
static gchar *
registry_path_key (const gchar *method, const gchar *url)
{
  const gchar *v2 = strstr (url, "/v2/");
  if (!v2)
    return g_strdup ("-");
  const gchar *rest = v2 + 4;
  gboolean write = !g_str_equal (method, "GET") && !g_str_equal (method, "HEAD");
  if (g_str_has_prefix (rest, "_catalog"))
    return g_strdup ("catalog");
  const gchar *markers[] = { "/manifests/", "/blobs/", "/tags/", NULL };
  for (int i = 0; markers[i]; i++)
    {
      const gchar *m = strstr (rest, markers[i]);
      if (m)
        return g_strdup_printf ("repo:%.*s:%s:%s", (int) (m - rest), rest,
                                write ? method : "read", markers[i]);
    }
  return g_strdup_printf ("other:%s", write ? method : "read");
}

/* The key of a token-cache entry: a fixed-size hash of the credential's
 * digest and WHAT (a scope, or a path's scope key), whatever their length. */
static gchar *
token_cache_key (const gchar *digest, const gchar *what)
{
  g_autofree gchar *joined = g_strconcat (digest, "\n", what, NULL);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, joined, -1);
}

static const gchar *
cached_token_lookup (const gchar *digest, const gchar *scope)
{
  g_autofree gchar *k = token_cache_key (digest, scope);
  CachedToken *t = g_hash_table_lookup (U.tokens, k);
  if (!t)
    return NULL;
  if (t->expires < g_get_monotonic_time ())
    {
      g_hash_table_remove (U.tokens, k);
      return NULL;
    }
  return t->token;
}

/* ---- curl callbacks ---- */

static size_t
header_cb (char *buffer, size_t size, size_t nitems, void *userdata)
{
  UpstreamRequest *req = userdata;
  size_t len = size * nitems;
  if (req->cancelled)
    return 0;
  g_autofree gchar *line = g_strndup (buffer, len);
  g_strchomp (line);

  if (g_str_has_prefix (line, "HTTP/"))
    {
      g_hash_table_remove_all (req->resp_headers);
      g_clear_pointer (&req->reason, g_free);
      const gchar *sp = strchr (line, ' ');
      req->status = sp ? (guint) g_ascii_strtoull (sp + 1, NULL, 10) : 0;
      const gchar *sp2 = sp ? strchr (sp + 1, ' ') : NULL;
      req->reason = g_strdup (sp2 ? sp2 + 1 : "");
      return len;
    }
  if (line[0] == '\0')
    {
      if (req->status >= 100 && req->status < 200)
        return len;
      /* end of the final headers */
      const gchar *challenge = g_hash_table_lookup (req->resp_headers, "www-authenticate");
      if (req->status == 401 && req->registry_basic && !req->retried &&
          challenge && strlen (challenge) <= CHALLENGE_MAX_CHARS)
        {
          GHashTable *ch = upstream_parse_bearer_challenge (challenge);
          if (ch && g_hash_table_lookup (ch, "realm"))
            req->retrying = TRUE;
          if (ch)
            g_hash_table_unref (ch);
          if (req->retrying)
            return len;
        }
      req->response_sent = TRUE;
      if (req->cb.on_response)
        req->cb.on_response (req, req->status, req->reason, req->resp_headers, req->user_data);
      return req->cancelled ? 0 : len;
    }
  const gchar *colon = strchr (line, ':');
  if (colon)
    {
      g_autofree gchar *name = g_ascii_strdown (line, colon - line);
      const gchar *v = colon + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      const gchar *old = g_hash_table_lookup (req->resp_headers, name);
      gchar *value = old ? g_strconcat (old, ", ", v, NULL) : g_strdup (v);
      g_hash_table_replace (req->resp_headers, g_steal_pointer (&name), value);
    }
  return len;
}

static size_t
write_cb (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  UpstreamRequest *req = userdata;
  size_t len = size * nmemb;
  if (req->cancelled)
    return 0;
  if (req->retrying)
    {
      if (!req->held_body)
        req->held_body = g_byte_array_new ();
      if (req->held_body->len + len <= 64 * 1024)
        g_byte_array_append (req->held_body, (const guint8 *) ptr, len);
      return len;
    }
  if (req->paused)
    return CURL_WRITEFUNC_PAUSE;
  if (req->cb.on_data && len > 0)
    {
      if (!req->cb.on_data (req, (const guint8 *) ptr, len, req->user_data))
        req->paused = TRUE;
    }
  return req->cancelled ? 0 : len;
}

/* ---- request lifetime ---- */

UpstreamRequest *
upstream_request_new_url (UpstreamBackend backend, const gchar *method, const gchar *url)
{
  ensure_multi ();
  UpstreamRequest *req = g_new0 (UpstreamRequest, 1);
  req->backend = backend;
  req->method = g_ascii_strup (method, -1);
  req->url = g_strdup (url);
  req->redacted_url = redact_url (url);
  req->headers = g_ptr_array_new_with_free_func (g_free);
  req->resp_headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return req;
}

UpstreamRequest *
upstream_request_new (UpstreamBackend backend, const gchar *method, const gchar *path)
{
  const gchar *base = U.backends[backend].base_url;
  g_autofree gchar *url = g_strconcat (base ? base : "http://unconfigured.invalid", path, NULL);
  return upstream_request_new_url (backend, method, url);
}

const gchar *
upstream_request_get_url (UpstreamRequest *req)
{
  return req->redacted_url;
}

void
upstream_request_add_header (UpstreamRequest *req, const gchar *name, const gchar *value)
{
  g_ptr_array_add (req->headers, g_strdup_printf ("%s: %s", name, value));
}

void
upstream_request_set_authorization (UpstreamRequest *req, const gchar *authorization)
{
  rc_secret_set (&req->authorization, authorization);
}

void
upstream_request_set_registry_auth (UpstreamRequest *req, const gchar *basic_authorization)
{
  rc_secret_set (&req->registry_basic, basic_authorization);
}

void
upstream_request_set_body (UpstreamRequest *req, GBytes *body)
{
  g_clear_pointer (&req->body, g_bytes_unref);
  req->body = body ? g_bytes_ref (body) : NULL;
}

void
upstream_request_set_max_body (UpstreamRequest *req, gsize bytes)
{
  req->fetch_max = bytes;
}

void
upstream_request_set_timeout (UpstreamRequest *req, guint seconds)
{
  req->timeout = seconds;
}

static void
owner_free (gpointer data)
{
  Owner *o = data;
  g_queue_clear (&o->pending);
  g_free (o->key);
  g_free (o);
}

static Owner *
owner_lookup (const gchar *key, gboolean create)
{
  Owner *o = U.owners ? g_hash_table_lookup (U.owners, key) : NULL;
  if (!o && create)
    {
      if (!U.owners)
        U.owners = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, owner_free);
      o = g_new0 (Owner, 1);
      o->key = g_strdup (key);
      g_queue_init (&o->pending);
      g_hash_table_insert (U.owners, o->key, o);
    }
  return o;
}

/* TRUE when REQ may start now (and takes a slot); FALSE: it waits. */
static gboolean
owner_admit (UpstreamRequest *req)
{
  if (!req->owner_key || !U.max_per_owner)
    return TRUE;
  Owner *o = owner_lookup (req->owner_key, TRUE);
  if (o->running >= U.max_per_owner)
    {
      g_queue_push_tail (&o->pending, req);
      req->pending_link = o->pending.tail;
      g_debug ("%s %s: waits for one of its owner's %u running requests", req->method, req->redacted_url,
               o->running);
      return FALSE;
    }
  o->running++;
  req->holds_slot = TRUE;
  return TRUE;
}

static void request_launch (UpstreamRequest *req);

/* REQ ends or is dropped: give its slot to the next waiting request. */
static void
owner_release (UpstreamRequest *req)
{
  Owner *o = req->owner_key ? owner_lookup (req->owner_key, FALSE) : NULL;
  UpstreamRequest *next;

  if (!o)
    return;
  if (req->pending_link)
    {
      g_queue_delete_link (&o->pending, req->pending_link);
      req->pending_link = NULL;
    }
  if (req->holds_slot)
    {
      req->holds_slot = FALSE;
      o->running--;
      while (o->running < U.max_per_owner && (next = g_queue_pop_head (&o->pending)))
        {
          next->pending_link = NULL;
          o->running++;
          next->holds_slot = TRUE;
          request_launch (next);
        }
    }
  if (o->running == 0 && g_queue_is_empty (&o->pending))
    g_hash_table_remove (U.owners, o->key);
}

void
upstream_request_set_owner (UpstreamRequest *req, const gchar *key)
{
  g_free (req->owner_key);
  req->owner_key = g_strdup (key);
}

static void
request_free (UpstreamRequest *req)
{
  owner_release (req);
  if (req->easy)
    {
      if (req->in_multi)
        curl_multi_remove_handle (req->pool->multi, req->easy);
      curl_easy_cleanup (req->easy);
    }
  if (req->token_req)
    upstream_request_cancel (req->token_req);
  curl_slist_free_all (req->slist);
  g_free (req->owner_key);
  g_free (req->method);
  g_free (req->url);
  g_free (req->redacted_url);
  if (req->held_body)
    g_byte_array_unref (req->held_body);
  g_ptr_array_unref (req->headers);
  rc_secret_set (&req->authorization, NULL);
  rc_secret_set (&req->registry_basic, NULL);
  g_free (req->scope_key);
  if (req->body)
    g_bytes_unref (req->body);
  g_free (req->reason);
  g_hash_table_unref (req->resp_headers);
  if (req->fetch_buf)
    g_byte_array_unref (req->fetch_buf);
  if (req->fetch_headers)
    g_hash_table_unref (req->fetch_headers);
  if (req->fetch_data_free)
    req->fetch_data_free (req->fetch_data);
  g_free (req);
}

static void
setup_easy (UpstreamRequest *req)
{
  Backend *b = &U.backends[req->backend];
  CURL *e = req->easy;
  curl_easy_setopt (e, CURLOPT_URL, req->url);
  curl_easy_setopt (e, CURLOPT_PRIVATE, req);
  curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, req->errbuf);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, req);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, req);
  curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT_S);
  curl_easy_setopt (e, CURLOPT_TIMEOUT, (long) req->timeout);
  curl_easy_setopt (e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (e, CURLOPT_USERAGENT, "registry-console");

  if (b->insecure)
    {
      curl_easy_setopt (e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  else if (b->ca_data && U.blob_supported)
    {
      struct curl_blob blob = { b->ca_data, strlen (b->ca_data), CURL_BLOB_COPY };
      curl_easy_setopt (e, CURLOPT_CAINFO_BLOB, &blob);
    }
  else if (b->ca_tmp_file)
    curl_easy_setopt (e, CURLOPT_CAINFO, b->ca_tmp_file);
  else if (b->ca_file)
    curl_easy_setopt (e, CURLOPT_CAINFO, b->ca_file);

  if (g_str_equal (req->method, "HEAD"))
    curl_easy_setopt (e, CURLOPT_NOBODY, 1L);
  else if (g_str_equal (req->method, "GET") && !req->body)
    curl_easy_setopt (e, CURLOPT_HTTPGET, 1L);
  else
    {
      if (req->body || g_str_equal (req->method, "POST") || g_str_equal (req->method, "PUT") ||
          g_str_equal (req->method, "PATCH"))
        {
          gsize len = 0;
          const void *data = req->body ? g_bytes_get_data (req->body, &len) : "";
          curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
          curl_easy_setopt (e, CURLOPT_POSTFIELDS, data ? data : "");
        }
      if (!g_str_equal (req->method, "POST"))
        curl_easy_setopt (e, CURLOPT_CUSTOMREQUEST, req->method);
    }
}

static void
build_headers (UpstreamRequest *req)
{
  curl_slist_free_all (req->slist);
  req->slist = NULL;
  req->slist = curl_slist_append (req->slist, "Expect:");
  for (guint i = 0; i < req->headers->len; i++)
    req->slist = curl_slist_append (req->slist, g_ptr_array_index (req->headers, i));

  const gchar *auth = req->authorization;
  if (req->registry_basic)
    {
      auth = req->registry_basic;
      g_autofree gchar *digest = credential_digest (req->registry_basic);
      g_autofree gchar *k = token_cache_key (digest, req->scope_key);
      const gchar *scope = g_hash_table_lookup (U.scopes, k);
      const gchar *token = scope ? cached_token_lookup (digest, scope) : NULL;
      g_autofree gchar *bearer = NULL;
      if (token)
        auth = bearer = g_strconcat ("Bearer ", token, NULL);
      if (req->authorization && req->retried)
        auth = req->authorization;
      if (auth)
        {
          g_autofree gchar *h = g_strconcat ("Authorization: ", auth, NULL);
          req->slist = curl_slist_append (req->slist, h);
          explicit_bzero (h, strlen (h));
        }
    }
  else if (auth)
    {
      g_autofree gchar *h = g_strconcat ("Authorization: ", auth, NULL);
      req->slist = curl_slist_append (req->slist, h);
      explicit_bzero (h, strlen (h));
    }
  curl_easy_setopt (req->easy, CURLOPT_HTTPHEADER, req->slist);
}

static void
request_launch (UpstreamRequest *req)
{
  req->status = 0;
  req->retrying = FALSE;
  req->errbuf[0] = '\0';
  g_hash_table_remove_all (req->resp_headers);
  build_headers (req);
  CURLMcode rc = curl_multi_add_handle (req->pool->multi, req->easy);
  if (rc != CURLM_OK)
    g_critical ("curl_multi_add_handle: %s", curl_multi_strerror (rc));
  req->in_multi = TRUE;
}

void
upstream_request_start (UpstreamRequest *req, const UpstreamCallbacks *callbacks, gpointer user_data)
{
  g_return_if_fail (req->easy == NULL);
  if (callbacks)
    req->cb = *callbacks;
  req->user_data = user_data;
  req->easy = curl_easy_init ();
  if (!req->easy)
    g_error ("curl_easy_init failed");
  req->started = g_get_monotonic_time ();
  req->pool = &U.pools[req->long_lived ? POOL_WATCHES : POOL_REQUESTS];
  if (req->registry_basic)
    req->scope_key = registry_path_key (req->method, req->url);
  setup_easy (req);
  if (req->long_lived || owner_admit (req))
    request_launch (req);
}

void
upstream_request_set_long_lived (UpstreamRequest *req, gboolean long_lived)
{
  req->long_lived = long_lived;
}

static gboolean
on_cancel_idle (gpointer user_data)
{
  UpstreamRequest *req = user_data;
  req->cancel_idle = 0;
  request_free (req);
  return G_SOURCE_REMOVE;
}

void
upstream_request_cancel (UpstreamRequest *req)
{
  if (!req || req->cancelled)
    return;
  req->cancelled = TRUE;
  memset (&req->cb, 0, sizeof req->cb);
  req->fetch_func = NULL;
  if (req->pending_link)
    owner_release (req);     /* never launched: out of the queue now */
  if (req->token_req)
    {
      upstream_request_cancel (req->token_req);
      req->token_req = NULL;
    }
  if (!req->easy)
    {
      request_free (req);
      return;
    }
  g_debug ("%s %s: aborted", req->method, req->redacted_url);
  /* We may be inside one of this request's curl callbacks: free later. */
  req->cancel_idle = g_idle_add (on_cancel_idle, req);
}

void
upstream_request_resume (UpstreamRequest *req)
{
  if (!req || req->cancelled || !req->paused)
    return;
  req->paused = FALSE;
  CURLcode rc = curl_easy_pause (req->easy, CURLPAUSE_CONT);
  if (rc != CURLE_OK)
    g_warning ("curl_easy_pause: %s", curl_easy_strerror (rc));
}

/* ---- registry token dance ---- */

typedef struct {
  UpstreamTokenFunc func;
  gpointer user_data;
  gchar *scope;
} TokenFetch;

static void
token_fetched (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  TokenFetch *tf = user_data;
  g_autoptr(RcSecret) token = NULL;
  gint64 expires_in = 60;

  if (!error && status == 200)
    {
      gsize len = 0;
      const gchar *data = g_bytes_get_data (body, &len);
      g_autoptr(JsonObject) o = rc_json_parse_object (data, len, NULL);
      const gchar *t = o ? rc_json_string_or (o, "token", NULL) : NULL;
      if (!t && o)
        t = rc_json_string_or (o, "access_token", NULL);
      token = g_strdup (t);
      if (o && (!rc_json_get_int (o, "expires_in", 60, &expires_in) || expires_in <= 0))
        expires_in = 60;
      if (o)
        {
          json_object_set_string_member (o, "token", "");
          json_object_set_string_member (o, "access_token", "");
        }
    }
  g_debug ("registry token for scope '%s': %s", tf->scope,
           token ? "issued" : error ? error->message : "refused");
  tf->func (token, expires_in, status, error, tf->user_data);
}

static void
token_fetch_free (gpointer data)
{
  TokenFetch *tf = data;
  g_free (tf->scope);
  g_free (tf);
}

UpstreamRequest *
upstream_fetch_registry_token (UpstreamBackend backend, const gchar *basic, GHashTable *challenge,
                               UpstreamTokenFunc func, gpointer user_data)
{
  const gchar *realm = g_hash_table_lookup (challenge, "realm");
  const gchar *service = g_hash_table_lookup (challenge, "service");
  const gchar *scope = g_hash_table_lookup (challenge, "scope");
  GString *url = g_string_new (realm);
  gchar sep = strchr (realm, '?') ? '&' : '?';
  if (service)
    {
      g_string_append_printf (url, "%cservice=", sep);
      g_string_append_uri_escaped (url, service, NULL, FALSE);
      sep = '&';
    }
  if (scope)
    {
      g_string_append_printf (url, "%cscope=", sep);
      g_string_append_uri_escaped (url, scope, NULL, FALSE);
    }
  TokenFetch *tf = g_new0 (TokenFetch, 1);
  tf->func = func;
  tf->user_data = user_data;
  tf->scope = g_strdup (scope ? scope : "");
  g_autofree gchar *u = g_string_free (url, FALSE);
  UpstreamRequest *treq = upstream_request_new_url (backend, "GET", u);
  if (basic)
    upstream_request_set_authorization (treq, basic);
  upstream_request_set_timeout (treq, 30);
  upstream_request_set_max_body (treq, 64 * 1024);   /* a token answer is small */
  upstream_fetch (treq, token_fetched, tf);
  treq->fetch_data_free = token_fetch_free;   /* also when the fetch is cancelled */
  return treq;
}

static void finish (UpstreamRequest *req, const GError *error);

/* Drop what has expired; when still full, everything (the tables are a
 * cache: the next request fetches a token again). */
static void
token_cache_make_room (void)
{
  GHashTableIter iter;
  CachedToken *t;
  gint64 now = g_get_monotonic_time ();

  if (g_hash_table_size (U.tokens) >= TOKEN_CACHE_MAX)
    {
      g_hash_table_iter_init (&iter, U.tokens);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &t))
        if (t->expires < now)
          g_hash_table_iter_remove (&iter);
    }
  if (g_hash_table_size (U.tokens) >= TOKEN_CACHE_MAX)
    g_hash_table_remove_all (U.tokens);
  if (g_hash_table_size (U.scopes) >= TOKEN_CACHE_MAX)
    g_hash_table_remove_all (U.scopes);
}

/* Remember TOKEN for this credential and SCOPE, and which scope the
 * request's path needs. Entries have a fixed-size key and a bounded value,
 * so the tables hold at most TOKEN_CACHE_MAX × (TOKEN_MAX_CHARS +
 * SCOPE_MAX_CHARS) bytes whatever the registry or a user sends. */
static void
token_cache_insert (UpstreamRequest *req, const gchar *scope, const gchar *token, gint64 expires_in)
{
  g_autofree gchar *digest = credential_digest (req->registry_basic);

  if (strlen (token) > TOKEN_MAX_CHARS || strlen (scope) > SCOPE_MAX_CHARS)
    return;
  token_cache_make_room ();
  CachedToken *t = g_new0 (CachedToken, 1);
  t->token = g_strdup (token);
  /* refresh a little early; a token server's lifetime is taken between a
   * second and a day */
  expires_in = CLAMP (expires_in, 1, 86400);
  t->expires = g_get_monotonic_time () + MAX (expires_in - 10, 1) * G_USEC_PER_SEC;
  g_hash_table_insert (U.tokens, token_cache_key (digest, scope), t);
  g_hash_table_insert (U.scopes, token_cache_key (digest, req->scope_key), g_strdup (scope));
}

/* The token for a request that met a Bearer challenge: cache it and retry,
 * or hand the registry's 401 to the caller. */
static void
on_token (const gchar *token, gint64 expires_in, guint status, const GError *error, gpointer user_data)
{
  UpstreamRequest *req = user_data;
  req->token_req = NULL;

  if (token)
    {
      g_autoptr(GHashTable) ch = upstream_parse_bearer_challenge (g_hash_table_lookup (req->resp_headers, "www-authenticate"));
      const gchar *scope = ch && g_hash_table_lookup (ch, "scope") ? g_hash_table_lookup (ch, "scope") : "";
      token_cache_insert (req, scope, token, expires_in);

      req->retried = TRUE;
      g_autoptr(RcSecret) bearer = g_strconcat ("Bearer ", token, NULL);
      rc_secret_set (&req->authorization, bearer);
      request_launch (req);
      return;
    }
  /* hand the registry's 401 to the caller */
  req->retrying = FALSE;
  req->response_sent = TRUE;
  if (req->cb.on_response)
    req->cb.on_response (req, req->status, req->reason, req->resp_headers, req->user_data);
  if (!req->cancelled && req->held_body && req->held_body->len && req->cb.on_data)
    req->cb.on_data (req, req->held_body->data, req->held_body->len, req->user_data);
  if (!req->cancelled)
    finish (req, NULL);
}

static void
start_token_fetch (UpstreamRequest *req)
{
  g_autoptr(GHashTable) ch = upstream_parse_bearer_challenge (g_hash_table_lookup (req->resp_headers, "www-authenticate"));
  req->token_req = upstream_fetch_registry_token (req->backend, req->registry_basic, ch, on_token, req);
}

/* ---- completion ---- */

static void
finish (UpstreamRequest *req, const GError *error)
{
  gdouble ms = (g_get_monotonic_time () - req->started) / 1000.0;
  if (error)
    g_debug ("%s %s: %s (%.1f ms)", req->method, req->redacted_url, error->message, ms);
  else
    g_debug ("%s %s → %u (%.1f ms)", req->method, req->redacted_url, req->status, ms);
  if (req->cb.on_done)
    req->cb.on_done (req, error, req->user_data);
  if (!req->cancelled)
    request_free (req);
}

static void
check_multi_info (Pool *pool)
{
  CURLMsg *msg;
  int left = 0;
  while ((msg = curl_multi_info_read (pool->multi, &left)))
    {
      if (msg->msg != CURLMSG_DONE)
        continue;
      CURL *easy = msg->easy_handle;
      CURLcode result = msg->data.result;
      UpstreamRequest *req = NULL;
      curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **) &req);
      curl_multi_remove_handle (pool->multi, easy);
      req->in_multi = FALSE;
      if (req->cancelled)
        continue;   /* the idle frees it */

      if (result == CURLE_OK && req->retrying)
        {
          start_token_fetch (req);
          continue;
        }
      g_autoptr(GError) error = NULL;
      if (result != CURLE_OK)
        error = error_from_curl (req, result);
      else if (!req->response_sent)
        {
          req->response_sent = TRUE;
          if (req->cb.on_response)
            req->cb.on_response (req, req->status, req->reason ? req->reason : "",
                                 req->resp_headers, req->user_data);
          if (req->cancelled)
            continue;
        }
      finish (req, error);
    }
}

/* ---- buffered fetch ---- */

static void
fetch_on_response (UpstreamRequest *req, guint status, const gchar *reason,
                   GHashTable *headers, gpointer user_data)
{
  req->fetch_status = status;
  if (req->fetch_headers)
    g_hash_table_unref (req->fetch_headers);
  req->fetch_headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, headers);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (req->fetch_headers, g_strdup (k), g_strdup (v));
}

static gboolean
fetch_on_data (UpstreamRequest *req, const guint8 *data, gsize len, gpointer user_data)
{
  if (req->fetch_buf->len + len > req->fetch_max)
    {
      UpstreamFetchFunc func = req->fetch_func;
      gpointer fd = req->fetch_data;
      g_autoptr(GError) error = g_error_new (UPSTREAM_ERROR, UPSTREAM_ERROR_TOO_LARGE,
                                             "%s %s: response larger than %" G_GSIZE_FORMAT " bytes",
                                             req->method, req->redacted_url, req->fetch_max);
      upstream_request_cancel (req);
      if (func)
        func (0, NULL, NULL, error, fd);
      return TRUE;
    }
  g_byte_array_append (req->fetch_buf, data, len);
  return TRUE;
}

static void
fetch_on_done (UpstreamRequest *req, const GError *error, gpointer user_data)
{
  if (!req->fetch_func)
    return;
  g_autoptr(GBytes) body = g_bytes_new (req->fetch_buf->data, req->fetch_buf->len);
  req->fetch_func (req->fetch_status, req->fetch_headers, body, error, req->fetch_data);
}

void
upstream_fetch (UpstreamRequest *req, UpstreamFetchFunc func, gpointer user_data)
{
  static const UpstreamCallbacks cbs = { fetch_on_response, fetch_on_data, fetch_on_done };
  req->fetch_func = func;
  req->fetch_data = user_data;
  if (!req->fetch_max)
    req->fetch_max = FETCH_MAX;
  req->fetch_buf = g_byte_array_new ();
  upstream_request_start (req, &cbs, NULL);
}
