/* channel-http-stream2.c: see channel-http-stream2.h.
 *
 * open {"payload":"http-stream2","method","path","headers","backend","body"?}
 *   → ready; the request starts at once for GET/HEAD, after the client's
 *   "done" for other methods (body from payload frames, or "body" option)
 *   → {"command":"response","status","reason","headers"} → payload frames
 *   (≤ 4 KiB) → {"command":"done"} → close. */
#include "config.h"

#include "ws/channel-http-stream2.h"
#include "ws/registry-credential.h"
#include "ws/socket.h"
#include "ws/upstream.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>

#define CHUNK_SIZE 4096

static guint upstream_timeout_s;
static guint max_watches_per_user;
static GHashTable *watches;       /* backend "\n" user → open watches */

typedef struct {
  gint refs;
  RcChannel *channel;       /* NULL once closed */
  UpstreamRequest *req;
  gchar *method;
  gchar *path;
  UpstreamBackend backend;
  GPtrArray *headers;       /* name, value, name, value … */
  GByteArray *body;
  gboolean started;
  gchar *authorization;
  gchar *registry_basic;
  gchar *watch_key;         /* counted in `watches` while open */
  gchar *owner_key;         /* whose requests these are (session_get_owner_key) */
} Stream;

static Stream *
stream_ref (Stream *s)
{
  s->refs++;
  return s;
}

static void
stream_unref (gpointer p)
{
  Stream *s = p;
  if (--s->refs > 0)
    return;
  g_free (s->method);
  g_free (s->path);
  g_ptr_array_unref (s->headers);
  g_byte_array_unref (s->body);
  rc_secret_free (s->authorization);
  rc_secret_free (s->registry_basic);
  g_free (s->owner_key);
  if (s->watch_key)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (watches, s->watch_key));
      if (n <= 1)
        g_hash_table_remove (watches, s->watch_key);
      else
        g_hash_table_insert (watches, g_strdup (s->watch_key), GUINT_TO_POINTER (n - 1));
      g_free (s->watch_key);
    }
  g_free (s);
}

static gboolean
segment_is_dot (const gchar *seg, gsize len)
{
  /* ".", "..", and their percent-encoded forms */
  g_autofree gchar *raw = g_strndup (seg, len);
  g_autofree gchar *dec = g_uri_unescape_string (raw, NULL);
  if (!dec)
    return TRUE;   /* undecodable: treat as hostile */
  return g_str_equal (dec, ".") || g_str_equal (dec, "..") || strchr (dec, '/') != NULL;
}

#define MAX_PATH_CHARS 8192

gboolean
channel_http_stream2_path_allowed (const gchar *backend, const gchar *path)
{
  if (!path || path[0] != '/' || strlen (path) > MAX_PATH_CHARS)
    return FALSE;
  for (const gchar *p = path; *p; p++)
    {
      guchar c = (guchar) *p;
      if (c <= 0x20 || c >= 0x7f || c == '#' || c == '\\')
        return FALSE;
    }
  gsize plen = strcspn (path, "?");
  /* every segment: no empty ("//"), no dot segments */
  const gchar *seg = path + 1;
  while (seg < path + plen)
    {
      const gchar *end = memchr (seg, '/', path + plen - seg);
      gsize n = end ? (gsize) (end - seg) : (gsize) (path + plen - seg);
      if (n == 0 && end)
        return FALSE;
      if (n > 0 && segment_is_dot (seg, n))
        return FALSE;
      if (!end)
        break;
      seg = end + 1;
    }
  g_autofree gchar *p = g_strndup (path, plen);
  if (g_strcmp0 (backend, "registry") == 0)
    return g_str_has_prefix (p, "/v2/");
  const gchar *roots[] = { "/api", "/apis", "/oapi", NULL };
  for (int i = 0; roots[i]; i++)
    {
      gsize n = strlen (roots[i]);
      if (strncmp (p, roots[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
        return TRUE;
    }
  return FALSE;
}

static gboolean
header_valid (const gchar *name, const gchar *value)
{
  if (!name[0])
    return FALSE;
  for (const gchar *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("!#$%&'*+-.^_`|~", *p))
      return FALSE;
  for (const gchar *p = value; *p; p++)
    if (*p == '\r' || *p == '\n')
      return FALSE;
  return TRUE;
}

static gboolean
response_header_dropped (const gchar *lower)
{
  static const gchar *const names[] = {
    "connection", "keep-alive", "transfer-encoding", "set-cookie", "proxy-authenticate", "upgrade", NULL
  };
  return g_strv_contains (names, lower);
}

static void
on_response (UpstreamRequest *req, guint status, const gchar *reason,
             GHashTable *headers, gpointer user_data)
{
  Stream *s = user_data;
  if (!s->channel)
    return;
  g_autoptr(JsonObject) fields = json_object_new ();
  json_object_set_int_member (fields, "status", status);
  json_object_set_string_member (fields, "reason", reason ? reason : "");
  JsonObject *h = json_object_new ();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, headers);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!response_header_dropped (k))
      json_object_set_string_member (h, k, v);
  json_object_set_object_member (fields, "headers", h);
  channel_send_control (s->channel, "response", fields);
}

static gboolean
on_data (UpstreamRequest *req, const guint8 *data, gsize len, gpointer user_data)
{
  Stream *s = stream_ref (user_data);
  gsize off = 0;
  while (s->channel && off < len)
    {
      gsize n = MIN (CHUNK_SIZE, len - off);
      channel_send (s->channel, data + off, n);
      off += n;
    }
  gboolean go_on = s->channel && !channel_is_congested (s->channel);
  stream_unref (s);
  return go_on;
}

static const gchar *
problem_for_error (const GError *error)
{
  if (error->domain != UPSTREAM_ERROR)
    return "internal-error";
  switch (error->code)
    {
    case UPSTREAM_ERROR_NOT_FOUND:
      return "not-found";
    case UPSTREAM_ERROR_TIMEOUT:
      return "timeout";
    case UPSTREAM_ERROR_DISCONNECTED:
      return "terminated";
    case UPSTREAM_ERROR_TLS:
    default:
      return "internal-error";
    }
}

static void
on_done (UpstreamRequest *req, const GError *error, gpointer user_data)
{
  Stream *s = stream_ref (user_data);
  s->req = NULL;
  if (s->channel)
    {
      if (error)
        {
          channel_fail (s->channel, problem_for_error (error), "%s", error->message);
        }
      else
        {
          channel_send_control (s->channel, "done", NULL);
          if (s->channel)
            channel_close (s->channel, NULL);
        }
    }
  stream_unref (s);
}

static void
stream_start (Stream *s)
{
  static const UpstreamCallbacks cbs = { on_response, on_data, on_done };
  s->started = TRUE;
  UpstreamRequest *req = upstream_request_new (s->backend, s->method, s->path);
  for (guint i = 0; i + 1 < s->headers->len; i += 2)
    upstream_request_add_header (req, g_ptr_array_index (s->headers, i),
                                 g_ptr_array_index (s->headers, i + 1));
  if (s->authorization)
    upstream_request_set_authorization (req, s->authorization);
  if (s->registry_basic)
    upstream_request_set_registry_auth (req, s->registry_basic);
  if (s->body->len > 0 || (!g_str_equal (s->method, "GET") && !g_str_equal (s->method, "HEAD")))
    {
      g_autoptr(GBytes) body = g_bytes_new (s->body->data, s->body->len);
      upstream_request_set_body (req, body);
    }
  /* a watch runs as long as it needs (their number is bounded); every
   * other request has a deadline */
  upstream_request_set_timeout (req, s->watch_key ? 0 : upstream_timeout_s);
  upstream_request_set_long_lived (req, s->watch_key != NULL);
  upstream_request_set_owner (req, s->owner_key);
  s->req = req;
  g_debug ("http-stream2 %s: %s %s", channel_get_id (s->channel), s->method,
           upstream_request_get_url (req));
  upstream_request_start (req, &cbs, s);
}

/* What the browser's open message asks for, checked. */
typedef struct {
  const gchar *method;
  const gchar *path;
  const gchar *backend;     /* "master" or "registry" */
  JsonObject *headers;      /* may be NULL */
  const gchar *body;        /* may be NULL */
} StreamOptions;

static const gchar *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL };

/* Fill OPTS from the open message; on a bad one, fail the channel and
 * return FALSE. */
static gboolean
stream_parse_options (RcChannel *channel, JsonObject *options, RcSession *session, StreamOptions *opts)
{
  const gchar *own = g_str_equal (session_get_backend (session), "registry") ? "registry" : "master";

  if (!rc_json_get_string (options, "method", "GET", &opts->method) || !opts->method ||
      !rc_json_get_string (options, "backend", own, &opts->backend) || !opts->backend ||
      !rc_json_get_object (options, "headers", NULL, &opts->headers) ||
      !rc_json_get_string (options, "body", NULL, &opts->body))
    {
      channel_fail (channel, "protocol-error", "invalid http-stream2 option type");
      return FALSE;
    }
  if (!rc_json_get_string (options, "path", NULL, &opts->path) || !opts->path)
    {
      channel_fail (channel, "protocol-error", "\"path\" is missing");
      return FALSE;
    }
  if (!g_strv_contains (methods, opts->method))
    {
      channel_fail (channel, "protocol-error", "unsupported method \"%.16s\"", opts->method);
      return FALSE;
    }
  if (!g_str_equal (opts->backend, "master") && !g_str_equal (opts->backend, "registry"))
    {
      channel_fail (channel, "protocol-error", "\"backend\" must be \"master\" or \"registry\"");
      return FALSE;
    }
  return TRUE;
}

/* May this session reach this backend and path? Fails the channel if not. */
static gboolean
stream_check_access (RcChannel *channel, RcSession *session, const StreamOptions *opts,
                     UpstreamBackend backend)
{
  if (!upstream_get_base_url (backend))
    {
      channel_fail (channel, "not-found", "no %s is configured", opts->backend);
      return FALSE;
    }
  if (backend == UPSTREAM_MASTER && !g_str_equal (session_get_backend (session), "master"))
    {
      channel_fail (channel, "access-denied", "this session has no master credential");
      return FALSE;
    }
  if (!channel_http_stream2_path_allowed (opts->backend, opts->path))
    {
      channel_fail (channel, "access-denied", "path not allowed for the %s", opts->backend);
      return FALSE;
    }
  return TRUE;
}

/* The request headers the browser may set (everything else is dropped:
 * credentials, hop-by-hop headers, and anything a proxy or the master might
 * trust, such as Forwarded or Impersonate-User). Fails the channel on a
 * malformed header. */
static gboolean
stream_add_headers (RcChannel *channel, Stream *s, JsonObject *headers)
{
  static const gchar *const allowed[] = {
    "accept", "accept-language", "content-type", "if-match", "if-none-match",
    "if-modified-since", "if-unmodified-since", NULL
  };
  g_autoptr(GList) members = headers ? json_object_get_members (headers) : NULL;

  for (GList *l = members; l; l = l->next)
    {
      const gchar *value = NULL;
      if (!rc_json_get_string (headers, l->data, NULL, &value) || !value || !header_valid (l->data, value))
        {
          channel_fail (channel, "protocol-error", "invalid request header");
          return FALSE;
        }
      g_autofree gchar *lower = g_ascii_strdown (l->data, -1);
      if (!g_strv_contains (allowed, lower))
        {
          g_autofree gchar *shown = rc_log_escape (l->data, 64);
          g_debug ("http-stream2 %s: dropping request header %s", channel_get_id (channel), shown);
          continue;
        }
      g_ptr_array_add (s->headers, g_strdup (l->data));
      g_ptr_array_add (s->headers, g_strdup (value));
    }
  return TRUE;
}

/* A watch as the Kubernetes API server sees one: a `watch` parameter with
 * any value but "0" or "false", or the older /watch/ path segment. */
static gboolean
path_is_watch (const gchar *path)
{
  gsize plen = strcspn (path, "?");
  g_autofree gchar *bare = g_strndup (path, plen);
  if (strstr (bare, "/watch/") || g_str_has_suffix (bare, "/watch"))
    return TRUE;
  if (!path[plen])
    return FALSE;
  g_auto(GStrv) params = g_strsplit (path + plen + 1, "&", -1);
  for (gchar **p = params; *p; p++)
    {
      g_autofree gchar *name = g_uri_unescape_segment (*p, strchr (*p, '=') ? strchr (*p, '=') : NULL, NULL);
      if (!name || !g_str_equal (name, "watch"))
        continue;
      const gchar *eq = strchr (*p, '=');
      g_autofree gchar *value = eq ? g_uri_unescape_string (eq + 1, NULL) : g_strdup ("");
      if (!value || (g_ascii_strcasecmp (value, "0") != 0 && g_ascii_strcasecmp (value, "false") != 0))
        return TRUE;
    }
  return FALSE;
}

/* A watch (no deadline) counts against the user's MaxWatchesPerUser. */
static gboolean
stream_count_watch (RcChannel *channel, Stream *s, RcSession *session)
{
  if (!path_is_watch (s->path))
    return TRUE;
  g_autofree gchar *key = session_get_owner_key (session);
  if (!watches)
    watches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (watches, key));
  if (max_watches_per_user && n >= max_watches_per_user)
    {
      channel_fail (channel, "too-many", "too many open watches for this user (%u)", n);
      return FALSE;
    }
  g_hash_table_insert (watches, g_strdup (key), GUINT_TO_POINTER (n + 1));
  s->watch_key = g_steal_pointer (&key);
  return TRUE;
}

/* The session's credential in the form this backend takes. */
static void
stream_set_credential (Stream *s, RcSession *session)
{
  if (s->backend == UPSTREAM_MASTER)
    s->authorization = g_strdup (session_get_credential (session));
  else
    s->registry_basic = registry_credential_for_session (session);
}

/* Keep request body bytes until "done", charged to the socket's budget. */
static gboolean
stream_add_body (RcChannel *channel, Stream *s, const guint8 *data, gsize len)
{
  if (!channel_reserve (channel, len))
    {
      channel_fail (channel, "too-large", "request body too large");
      return FALSE;
    }
  g_byte_array_append (s->body, data, len);
  return TRUE;
}

static gboolean
stream_open (RcChannel *channel, JsonObject *options)
{
  RcSession *session = channel_get_session (channel);
  StreamOptions opts = { NULL };

  if (!session)
    {
      channel_fail (channel, "authentication-failed", "not logged in");
      return FALSE;
    }
  if (!stream_parse_options (channel, options, session, &opts))
    return FALSE;
  UpstreamBackend backend = g_str_equal (opts.backend, "registry") ? UPSTREAM_REGISTRY : UPSTREAM_MASTER;
  if (!stream_check_access (channel, session, &opts, backend))
    return FALSE;

  Stream *s = g_new0 (Stream, 1);
  s->refs = 1;
  s->channel = channel;
  s->method = g_strdup (opts.method);
  s->path = g_strdup (opts.path);
  s->backend = backend;
  s->headers = g_ptr_array_new_with_free_func (g_free);
  s->body = g_byte_array_new ();
  channel_set_data (channel, s, stream_unref);
  if (!stream_add_headers (channel, s, opts.headers) || !stream_count_watch (channel, s, session))
    return FALSE;
  if (opts.body && !stream_add_body (channel, s, (const guint8 *) opts.body, strlen (opts.body)))
    return FALSE;
  stream_set_credential (s, session);
  s->owner_key = session_get_owner_key (session);

  channel_ready (channel, NULL);
  if (g_str_equal (opts.method, "GET") || g_str_equal (opts.method, "HEAD"))
    stream_start (s);
  return TRUE;
}

static void
stream_recv (RcChannel *channel, GBytes *payload)
{
  Stream *s = channel_get_data (channel);
  if (!s || s->started)
    return;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (payload, &len);
  stream_add_body (channel, s, data, len);
}

static void
stream_control (RcChannel *channel, const gchar *command, JsonObject *message)
{
  Stream *s = channel_get_data (channel);
  if (!s)
    return;
  if (g_str_equal (command, "done"))
    {
      if (!s->started)
        stream_start (s);
    }
}

static void
stream_closed (RcChannel *channel)
{
  Stream *s = channel_get_data (channel);
  if (!s)
    return;
  s->channel = NULL;
  if (s->req)
    {
      UpstreamRequest *req = s->req;
      s->req = NULL;
      upstream_request_cancel (req);
    }
}

static void
stream_resume (RcChannel *channel)
{
  Stream *s = channel_get_data (channel);
  if (s && s->req)
    upstream_request_resume (s->req);
}

static const ChannelType http_stream2_type = {
  .payload = "http-stream2",
  .open = stream_open,
  .recv = stream_recv,
  .control = stream_control,
  .closed = stream_closed,
  .resume = stream_resume,
};

void
channel_http_stream2_register (guint timeout_s, guint max_watches)
{
  upstream_timeout_s = timeout_s;
  max_watches_per_user = max_watches;
  channel_register_type (&http_stream2_type);
}
