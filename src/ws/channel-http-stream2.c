/* channel-http-stream2.c: see channel-http-stream2.h.
 *
 * open {"payload":"http-stream2","method","path","headers","backend","body"?}
 *   → ready; the request starts at once for GET/HEAD, after the client's
 *   "done" for other methods (body from payload frames, or "body" option)
 *   → {"command":"response","status","reason","headers"} → payload frames
 *   (≤ 4 KiB) → {"command":"done"} → close. */
#include "config.h"

#include "ws/channel-http-stream2.h"
#include "ws/auth.h"
#include "ws/socket.h"
#include "ws/upstream.h"

#include <string.h>

#define CHUNK_SIZE 4096
#define MAX_REQUEST_BODY (16 * 1024 * 1024)

static guint idle_timeout_s;

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
  gboolean watch;
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
  if (s->authorization)
    explicit_bzero (s->authorization, strlen (s->authorization));
  g_free (s->authorization);
  if (s->registry_basic)
    explicit_bzero (s->registry_basic, strlen (s->registry_basic));
  g_free (s->registry_basic);
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

gboolean
channel_http_stream2_path_allowed (const gchar *backend, const gchar *path)
{
  if (!path || path[0] != '/')
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
header_forbidden (const gchar *lower)
{
  static const gchar *const names[] = {
    "authorization", "cookie", "host", "connection", "keep-alive", "proxy-authorization",
    "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
    "expect", "accept-encoding", "origin", "referer", "x-forwarded-for", NULL
  };
  return g_strv_contains (names, lower) || g_str_has_prefix (lower, "sec-") ||
         g_str_has_prefix (lower, "proxy-");
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
          g_debug ("http-stream2 %s: %s", channel_get_id (s->channel), error->message);
          channel_close (s->channel, problem_for_error (error), error->message);
        }
      else
        {
          channel_send_control (s->channel, "done", NULL);
          if (s->channel)
            channel_close (s->channel, NULL, NULL);
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
  /* watches and big blobs run as long as they need; the connect timeout
   * still applies */
  upstream_request_set_timeout (req, 0);
  s->req = req;
  g_debug ("http-stream2 %s: %s %s", channel_get_id (s->channel), s->method,
           upstream_request_get_url (req));
  upstream_request_start (req, &cbs, s);
}

static gboolean
stream_open (RcChannel *channel, JsonObject *options, const gchar **problem, gchar **message)
{
  RcSession *session = channel_get_session (channel);
  if (!session)
    {
      *problem = "authentication-failed";
      *message = g_strdup ("not logged in");
      return FALSE;
    }
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  if (session->expires && session->expires < now)
    {
      *problem = "authentication-failed";
      *message = g_strdup ("the session has expired");
      return FALSE;
    }
  if (idle_timeout_s)
    session->expires = now + idle_timeout_s;

  JsonNode *n = json_object_get_member (options, "method");
  const gchar *method = "GET";
  if (n)
    {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        goto bad_option;
      method = json_node_get_string (n);
    }
  static const gchar *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL };
  if (!g_strv_contains (methods, method))
    {
      *problem = "protocol-error";
      *message = g_strdup_printf ("unsupported method \"%.16s\"", method);
      return FALSE;
    }
  n = json_object_get_member (options, "path");
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      *problem = "protocol-error";
      *message = g_strdup ("\"path\" is missing");
      return FALSE;
    }
  const gchar *path = json_node_get_string (n);

  const gchar *backend = g_str_equal (session->backend, "registry") ? "registry" : "master";
  n = json_object_get_member (options, "backend");
  if (n)
    {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        goto bad_option;
      backend = json_node_get_string (n);
      if (!g_str_equal (backend, "master") && !g_str_equal (backend, "registry"))
        {
          *problem = "protocol-error";
          *message = g_strdup ("\"backend\" must be \"master\" or \"registry\"");
          return FALSE;
        }
    }
  UpstreamBackend be = g_str_equal (backend, "registry") ? UPSTREAM_REGISTRY : UPSTREAM_MASTER;
  if (!upstream_get_base_url (be))
    {
      *problem = "not-found";
      *message = g_strdup_printf ("no %s is configured", backend);
      return FALSE;
    }
  if (be == UPSTREAM_MASTER && !g_str_equal (session->backend, "master"))
    {
      *problem = "access-denied";
      *message = g_strdup ("this session has no master credential");
      return FALSE;
    }
  if (!channel_http_stream2_path_allowed (backend, path))
    {
      *problem = "access-denied";
      *message = g_strdup_printf ("path not allowed for the %s", backend);
      return FALSE;
    }

  Stream *s = g_new0 (Stream, 1);
  s->refs = 1;
  s->channel = channel;
  s->method = g_strdup (method);
  s->path = g_strdup (path);
  s->backend = be;
  s->headers = g_ptr_array_new_with_free_func (g_free);
  s->body = g_byte_array_new ();
  s->watch = strstr (path, "watch=true") || strstr (path, "watch=1");

  n = json_object_get_member (options, "headers");
  if (n && !JSON_NODE_HOLDS_NULL (n))
    {
      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          stream_unref (s);
          goto bad_option;
        }
      JsonObject *h = json_node_get_object (n);
      g_autoptr(GList) members = json_object_get_members (h);
      for (GList *l = members; l; l = l->next)
        {
          JsonNode *hv = json_object_get_member (h, l->data);
          if (!JSON_NODE_HOLDS_VALUE (hv) || json_node_get_value_type (hv) != G_TYPE_STRING ||
              !header_valid (l->data, json_node_get_string (hv)))
            {
              stream_unref (s);
              *problem = "protocol-error";
              *message = g_strdup ("invalid request header");
              return FALSE;
            }
          g_autofree gchar *lower = g_ascii_strdown (l->data, -1);
          if (header_forbidden (lower))
            continue;
          g_ptr_array_add (s->headers, g_strdup (l->data));
          g_ptr_array_add (s->headers, g_strdup (json_node_get_string (hv)));
        }
    }
  n = json_object_get_member (options, "body");
  if (n && !JSON_NODE_HOLDS_NULL (n))
    {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        {
          stream_unref (s);
          goto bad_option;
        }
      const gchar *b = json_node_get_string (n);
      g_byte_array_append (s->body, (const guint8 *) b, strlen (b));
    }

  /* the credential for this backend */
  const gchar *cred = session->credential;
  if (be == UPSTREAM_MASTER)
    s->authorization = g_strdup (cred);
  else if (cred && g_str_has_prefix (cred, "Basic "))
    s->registry_basic = g_strdup (cred);
  else if (cred && g_str_has_prefix (cred, "Bearer "))
    {
      /* an OpenShift token: the integrated registry takes it as a password */
      g_autofree gchar *pair = g_strconcat (session->user, ":", cred + 7, NULL);
      g_autofree gchar *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
      s->registry_basic = g_strconcat ("Basic ", b64, NULL);
      explicit_bzero (pair, strlen (pair));
    }

  channel_set_data (channel, s, stream_unref);
  channel_ready (channel, NULL);
  if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
    stream_start (s);
  return TRUE;

bad_option:
  *problem = "protocol-error";
  *message = g_strdup ("invalid http-stream2 option type");
  return FALSE;
}

static void
stream_recv (RcChannel *channel, GBytes *payload)
{
  Stream *s = channel_get_data (channel);
  if (!s || s->started)
    return;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (payload, &len);
  if (s->body->len + len > MAX_REQUEST_BODY)
    {
      channel_close (channel, "protocol-error", "request body too large");
      return;
    }
  g_byte_array_append (s->body, data, len);
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
channel_http_stream2_register (guint idle_s)
{
  idle_timeout_s = idle_s;
  channel_register_type (&http_stream2_type);
}
