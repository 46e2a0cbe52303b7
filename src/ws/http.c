/* http.c: libwebsockets on the glib main loop, HTTP routes, static files and
 * the security headers every response carries.
 *
 * lws never listens itself: server.c/tls.c hand it plaintext fds. A request
 * becomes an HttpExchange; handlers (auth.c) answer now or later, static
 * files answer at once from an in-memory cache (content-hash ETag, gzip
 * copy for text). The response is written from the HTTP_WRITEABLE callback,
 * in chunks, so large files never block the loop. */
#include "config.h"

#include "ws/http.h"
#include "ws/static-files.h"
#include "common/origin.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_BODY_DEADLINE_S 10      /* from the headers to the whole body */
#define HTTP_CHUNK (64 * 1024)

static const gchar *security_headers[] = {
  "Content-Security-Policy", "default-src 'self'; connect-src 'self' wss: ws:; script-src 'self'; "
  "style-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
  "frame-ancestors 'self'; form-action 'self'",
  "X-Frame-Options", "sameorigin",
  "X-Content-Type-Options", "nosniff",
  "Referrer-Policy", "no-referrer",
  "Cross-Origin-Resource-Policy", "same-origin",
  NULL
};

/* headers captured at request time, so late handlers can read them */
static const struct { const gchar *name; enum lws_token_indexes token; } known_headers[] = {
  { "host", WSI_TOKEN_HOST },
  { "origin", WSI_TOKEN_ORIGIN },
  { "cookie", WSI_TOKEN_HTTP_COOKIE },
  { "authorization", WSI_TOKEN_HTTP_AUTHORIZATION },
  { "accept-encoding", WSI_TOKEN_HTTP_ACCEPT_ENCODING },
  { "accept-language", WSI_TOKEN_HTTP_ACCEPT_LANGUAGE },
  { "accept", WSI_TOKEN_HTTP_ACCEPT },
  { "if-none-match", WSI_TOKEN_HTTP_IF_NONE_MATCH },
  { "content-type", WSI_TOKEN_HTTP_CONTENT_TYPE },
  { "content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH },
  { "user-agent", WSI_TOKEN_HTTP_USER_AGENT },
  { "referer", WSI_TOKEN_HTTP_REFERER },
};
static const gchar *custom_headers[] = { "x-state", "x-forwarded-proto", "x-requested-with", "sec-fetch-site", NULL };

/* Per connection, as lws opaque user data on the adopted descriptor. */
typedef struct {
  gboolean tls;
  gboolean plain_on_tls_port;
  gboolean adopting;         /* inside lws_adopt_…(): a failure frees it there */
  gchar *peer;
} HttpConnection;

struct _HttpExchange {
  struct lws *wsi;           /* NULL once the connection is gone */
  gchar *method;
  gchar *path;               /* UrlRoot removed */
  gchar *uri;                /* as requested, for redirects and logs */
  gchar *query;
  GHashTable *headers;
  GByteArray *body;
  GBytes *body_bytes;
  gboolean tls;
  gchar *peer;
  gboolean dispatched;
  gboolean responded;
  /* the response */
  guint status;
  gchar *content_type;
  GBytes *resp_body;
  gsize resp_off;
  gchar **resp_headers;
  gboolean head_only;
  gboolean headers_sent;
  guint body_deadline;       /* while a request body is arriving */
};

typedef struct {
  HttpExchange *ex;
} HttpPss;

typedef struct {
  HttpHandlerFunc func;
  gpointer data;
} Handler;


G_DEFINE_QUARK (http-error-quark, http_error)

static struct lws_context *context;
static struct lws_vhost *vhost;
static GMainLoop *lws_loop;
static GHashTable *handlers;       /* path → Handler */
static gchar *url_root;
static gchar **allowed_origins;    /* COCKPIT_KUBE_URL and Origins */

/* ----------------------------------------------------------- connections */

static HttpConnection *
connection_of (struct lws *wsi)
{
  return wsi ? lws_get_opaque_user_data (wsi) : NULL;
}

static void
connection_free (HttpConnection *c)
{
  if (c)
    {
      g_free (c->peer);
      g_free (c);
    }
}

void
http_connection_destroyed (struct lws *wsi)
{
  HttpConnection *c = connection_of (wsi);
  if (c && !c->adopting)
    connection_free (c);
  lws_set_opaque_user_data (wsi, NULL);
}

const gchar *
http_get_peer (struct lws *wsi)
{
  HttpConnection *c = connection_of (wsi);
  return c ? c->peer : "unknown peer";
}

gboolean
http_is_tls (struct lws *wsi)
{
  HttpConnection *c = connection_of (wsi);
  return c ? c->tls : FALSE;
}

gboolean
http_is_plain_on_tls_port (struct lws *wsi)
{
  HttpConnection *c = connection_of (wsi);
  return c ? c->plain_on_tls_port : FALSE;
}

gboolean
http_adopt_fd (int fd, gboolean tls, gboolean plain_on_tls_port, const gchar *peer)
{
  HttpConnection *c = g_new0 (HttpConnection, 1);
  lws_adopt_desc_t desc = { 0 };

  c->tls = tls;
  c->plain_on_tls_port = plain_on_tls_port;
  c->peer = g_strdup (peer);
  desc.vh = vhost;
  desc.type = LWS_ADOPT_HTTP | LWS_ADOPT_SOCKET;
  desc.fd.sockfd = fd;
  desc.opaque = c;
  /* A failure closes the descriptor, and may or may not have gone through
   * WSI_DESTROY: while `adopting`, that leaves C alone and it is freed here. */
  c->adopting = TRUE;
  struct lws *wsi = lws_adopt_descriptor_vhost_via_info (&desc);
  c->adopting = FALSE;
  if (!wsi)
    {
      g_warning ("%s: libwebsockets could not adopt the connection", peer);
      connection_free (c);
      return FALSE;
    }
  return TRUE;
}

/* ----------------------------------------------------------- origin check */

static gboolean
origin_check (const gchar *origin, const gchar *host, gboolean tls, const gchar *peer)
{
  g_autofree gchar *own = host ? g_strdup_printf ("%s://%s", tls ? "https" : "http", host) : NULL;
  if (origin_allowed (origin, own, (const gchar *const *) allowed_origins))
    return TRUE;
  g_autofree gchar *shown = rc_log_escape (origin ? origin : "(none)", 256);
  g_message ("%s: refusing a request from origin %s", peer, shown);
  return FALSE;
}

gboolean
http_origin_allowed (struct lws *wsi)
{
  g_autofree gchar *origin = http_header_dup (wsi, WSI_TOKEN_ORIGIN);
  g_autofree gchar *host = http_header_dup (wsi, WSI_TOKEN_HOST);
  return origin_check (origin, host, http_is_tls (wsi), http_get_peer (wsi));
}

gboolean
http_exchange_origin_allowed (HttpExchange *ex)
{
  return origin_check (http_exchange_get_header (ex, "origin"), http_exchange_get_header (ex, "host"),
                       ex->tls, ex->peer);
}

/* -------------------------------------------------------------- handlers */

void
http_add_handler (const gchar *path, HttpHandlerFunc func, gpointer user_data)
{
  Handler *h = g_new0 (Handler, 1);
  h->func = func;
  h->data = user_data;
  if (!handlers)
    handlers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (handlers, g_strdup (path), h);
}

/* -------------------------------------------------------------- exchange */

static void
exchange_free (HttpExchange *ex)
{
  if (ex->body_deadline)
    g_source_remove (ex->body_deadline);
  g_free (ex->method);
  g_free (ex->path);
  g_free (ex->uri);
  g_free (ex->query);
  g_hash_table_unref (ex->headers);
  if (ex->body)
    g_byte_array_unref (ex->body);
  if (ex->body_bytes)
    g_bytes_unref (ex->body_bytes);
  g_free (ex->peer);
  g_free (ex->content_type);
  if (ex->resp_body)
    g_bytes_unref (ex->resp_body);
  g_strfreev (ex->resp_headers);
  g_free (ex);
}

const gchar *http_exchange_get_method (HttpExchange *ex) { return ex->method; }
const gchar *http_exchange_get_path (HttpExchange *ex) { return ex->path; }
const gchar *http_exchange_get_query (HttpExchange *ex) { return ex->query; }
const gchar *http_exchange_get_peer (HttpExchange *ex) { return ex->peer; }
gboolean http_exchange_is_tls (HttpExchange *ex) { return ex->tls; }

const gchar *
http_exchange_get_header (HttpExchange *ex, const gchar *lowercase_name)
{
  return g_hash_table_lookup (ex->headers, lowercase_name);
}

GBytes *
http_exchange_get_body (HttpExchange *ex)
{
  if (!ex->body_bytes)
    {
      if (ex->body)
        {
          ex->body_bytes = g_byte_array_free_to_bytes (ex->body);
          ex->body = NULL;
        }
      else
        ex->body_bytes = g_bytes_new (NULL, 0);
    }
  return ex->body_bytes;
}

gchar *
http_exchange_dup_origin (HttpExchange *ex)
{
  const gchar *host = http_exchange_get_header (ex, "host");
  return g_strdup_printf ("%s://%s", ex->tls ? "https" : "http", host ? host : "localhost");
}

void
http_exchange_respond (HttpExchange *ex, guint status, const gchar *content_type,
                       GBytes *body, const gchar *const *headers)
{
  if (ex->responded)
    {
      g_critical ("an HTTP exchange was answered twice");
      return;
    }
  ex->responded = TRUE;
  if (!ex->wsi)
    {
      exchange_free (ex);   /* the client went away meanwhile */
      return;
    }
  ex->status = status;
  ex->content_type = g_strdup (content_type);
  ex->resp_body = body ? g_bytes_ref (body) : g_bytes_new (NULL, 0);
  ex->resp_headers = g_strdupv ((gchar **) headers);
  lws_callback_on_writable (ex->wsi);
}

void
http_exchange_respond_json (HttpExchange *ex, guint status, const gchar *json_text,
                            const gchar *const *headers)
{
  g_autoptr(GBytes) body = g_bytes_new (json_text, strlen (json_text));
  const gchar *extra[16];
  guint n = 0;
  extra[n++] = "Cache-Control: no-cache, no-store";
  for (guint i = 0; headers && headers[i] && n < G_N_ELEMENTS (extra) - 1; i++)
    extra[n++] = headers[i];
  extra[n] = NULL;
  http_exchange_respond (ex, status, "application/json", body, extra);
}

void
http_exchange_fail (HttpExchange *ex, guint status, const gchar *problem,
                    const gchar *const *headers, const gchar *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree gchar *body = rc_json_build_text ("problem", problem, "message", message, NULL);
  const gchar *extra[16];
  guint n = 0;
  extra[n++] = "Cache-Control: no-store";
  for (guint i = 0; headers && headers[i] && n < G_N_ELEMENTS (extra) - 1; i++)
    extra[n++] = headers[i];
  extra[n] = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  http_exchange_respond (ex, status, "application/json", bytes, extra);
}

/* ---------------------------------------------------------- static files */

static gboolean
etag_matches (const gchar *if_none_match, const gchar *etag)
{
  g_auto(GStrv) parts = NULL;
  if (!if_none_match)
    return FALSE;
  parts = g_strsplit (if_none_match, ",", -1);
  for (guint i = 0; parts[i]; i++)
    {
      const gchar *p = g_strstrip (parts[i]);
      if (g_str_has_prefix (p, "W/"))
        p += 2;
      if (g_str_equal (p, etag) || g_str_equal (p, "*"))
        return TRUE;
    }
  return FALSE;
}

static gboolean
accepts_gzip (HttpExchange *ex)
{
  const gchar *ae = http_exchange_get_header (ex, "accept-encoding");
  return ae && strstr (ae, "gzip") != NULL;
}

static void
respond_not_found (HttpExchange *ex)
{
  const StaticFile *e = static_files_lookup ("/404.html");
  if (e)
    {
      http_exchange_respond (ex, 404, e->content_type, e->data, NULL);
      return;
    }
  {
    static const gchar page[] =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Not found</title></head>"
      "<body><h1>Not found</h1></body></html>\n";
    g_autoptr(GBytes) body = g_bytes_new_static (page, sizeof page - 1);
    http_exchange_respond (ex, 404, "text/html; charset=utf-8", body, NULL);
  }
}

void
http_exchange_respond_static (HttpExchange *ex, const gchar *relative_path,
                              const gchar *const *headers)
{
  g_autofree gchar *rel = g_strconcat (relative_path[0] == '/' ? "" : "/", relative_path, NULL);
  const StaticFile *e = static_files_lookup (rel);
  const gchar *extra[24];
  guint n = 0;
  g_autofree gchar *etag_line = NULL;

  if (!e)
    {
      respond_not_found (ex);
      return;
    }

  etag_line = g_strdup_printf ("ETag: %s", e->etag);
  extra[n++] = etag_line;
  extra[n++] = "Cache-Control: no-cache";
  for (guint i = 0; headers && headers[i] && n < G_N_ELEMENTS (extra) - 3; i++)
    extra[n++] = headers[i];

  if (etag_matches (http_exchange_get_header (ex, "if-none-match"), e->etag))
    {
      extra[n] = NULL;
      http_exchange_respond (ex, 304, NULL, NULL, extra);
      return;
    }
  if (e->gz)
    extra[n++] = "Vary: Accept-Encoding";
  if (e->gz && accepts_gzip (ex))
    {
      extra[n++] = "Content-Encoding: gzip";
      extra[n] = NULL;
      http_exchange_respond (ex, 200, e->content_type, e->gz, extra);
    }
  else
    {
      extra[n] = NULL;
      http_exchange_respond (ex, 200, e->content_type, e->data, extra);
    }
}

/* ---------------------------------------------------------------- routes */

static void
route_ping (HttpExchange *ex)
{
  static const gchar *cors[] = { "Access-Control-Allow-Origin: *", NULL };
  http_exchange_respond_json (ex, 200, "{\"service\":\"cockpit\"}", cors);
}

static void
dispatch (HttpExchange *ex, HttpConnection *conn)
{
  Handler *h;

  /* lws may report BODY_COMPLETION even for requests without a body */
  if (ex->dispatched)
    return;
  ex->dispatched = TRUE;

  if (conn && conn->plain_on_tls_port)
    {
      if (g_str_equal (ex->path, "/ping"))
        {
          route_ping (ex);
        }
      else
        {
          const gchar *host = http_exchange_get_header (ex, "host");
          g_autofree gchar *location = NULL;
          g_autofree gchar *loc_header = NULL;
          const gchar *headers[2];
          if (!host || strpbrk (host, "/\\ \r\n@"))
            {
              http_exchange_fail (ex, 400, "protocol-error", NULL, "this port speaks https");
              return;
            }
          location = g_strdup_printf ("https://%s%s%s%s", host, ex->uri, ex->query ? "?" : "",
                                      ex->query ? ex->query : "");
          loc_header = g_strdup_printf ("Location: %s", location);
          headers[0] = loc_header;
          headers[1] = NULL;
          g_autoptr(GBytes) moved = g_bytes_new_static ("Moved to https\n", 15);
          http_exchange_respond (ex, 301, "text/plain; charset=utf-8", moved, headers);
        }
      return;
    }

  if (g_str_equal (ex->path, "/ping"))
    {
      route_ping (ex);
      return;
    }

  h = handlers ? g_hash_table_lookup (handlers, ex->path) : NULL;
  if (h)
    {
      h->func (ex, h->data);
      return;
    }

  if (!g_str_equal (ex->method, "GET") && !g_str_equal (ex->method, "HEAD"))
    {
      static const gchar *allow[] = { "Allow: GET, HEAD", NULL };
      http_exchange_fail (ex, 405, "protocol-error", allow, "method not allowed");
      return;
    }
  if (g_str_equal (ex->path, "/") || g_str_equal (ex->path, ""))
    http_exchange_respond_static (ex, "/index.html", NULL);
  else
    http_exchange_respond_static (ex, ex->path, NULL);
}

gchar *
http_header_dup (struct lws *wsi, enum lws_token_indexes token)
{
  int len = lws_hdr_total_length (wsi, token);
  gchar *value;
  if (len <= 0)
    return NULL;
  value = g_malloc (len + 1);
  if (lws_hdr_copy (wsi, value, len + 1, token) < 0)
    {
      g_free (value);
      return NULL;
    }
  return value;
}

static HttpExchange *
exchange_new (struct lws *wsi, const gchar *uri, HttpConnection *conn)
{
  HttpExchange *ex = g_new0 (HttpExchange, 1);
  static const struct { enum lws_token_indexes token; const gchar *method; } methods[] = {
    { WSI_TOKEN_GET_URI, "GET" }, { WSI_TOKEN_POST_URI, "POST" }, { WSI_TOKEN_HEAD_URI, "HEAD" },
    { WSI_TOKEN_PUT_URI, "PUT" }, { WSI_TOKEN_PATCH_URI, "PATCH" }, { WSI_TOKEN_DELETE_URI, "DELETE" },
    { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
  };

  ex->wsi = wsi;
  ex->tls = conn ? conn->tls : FALSE;
  ex->peer = g_strdup (conn ? conn->peer : "unknown peer");
  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (lws_hdr_total_length (wsi, methods[i].token) > 0)
      {
        ex->method = g_strdup (methods[i].method);
        break;
      }
  if (!ex->method)
    ex->method = g_strdup ("GET");
  ex->uri = g_strdup (uri);
  ex->query = http_header_dup (wsi, WSI_TOKEN_HTTP_URI_ARGS);
  ex->headers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (known_headers); i++)
    {
      gchar *v = http_header_dup (wsi, known_headers[i].token);
      if (v)
        g_hash_table_insert (ex->headers, (gpointer) known_headers[i].name, v);
    }
  for (guint i = 0; custom_headers[i]; i++)
    {
      g_autofree gchar *name = g_strconcat (custom_headers[i], ":", NULL);
      int len = lws_hdr_custom_length (wsi, name, strlen (name));
      if (len > 0)
        {
          gchar *v = g_malloc (len + 1);
          if (lws_hdr_custom_copy (wsi, v, len + 1, name, strlen (name)) >= 0)
            g_hash_table_insert (ex->headers, (gpointer) custom_headers[i], v);
          else
            g_free (v);
        }
    }

  if (url_root && url_root[0])
    {
      gsize n = strlen (url_root);
      if (strncmp (uri, url_root, n) == 0 && (uri[n] == '/' || uri[n] == '\0'))
        ex->path = g_strdup (uri[n] ? uri + n : "/");
      else
        ex->path = g_strdup ("/\x01outside-url-root");   /* never matches a route or file */
    }
  else
    {
      ex->path = g_strdup (uri);
    }
  return ex;
}

/* Add one header line "Name: value" to the header block being built. */
static int
add_header_line (struct lws *wsi, const gchar *line, guchar **p, guchar *end)
{
  const gchar *colon = strchr (line, ':');
  if (!colon)
    return 0;
  g_autofree gchar *name = g_strndup (line, colon - line + 1);
  const gchar *value = colon + 1;
  while (*value == ' ')
    value++;
  return lws_add_http_header_by_name (wsi, (const guchar *) name, (const guchar *) value,
                                      strlen (value), p, end);
}

/* The status line and every header: security headers, content type and
 * length, HSTS over TLS, the handler's own. Returns -1 on failure. */
static int
exchange_write_headers (struct lws *wsi, HttpExchange *ex, gsize total, gboolean no_body)
{
  guchar buf[LWS_PRE + 8192];
  guchar *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;

  if (lws_add_http_header_status (wsi, ex->status, &p, end))
    return -1;
  for (guint i = 0; security_headers[i]; i += 2)
    {
      g_autofree gchar *line = g_strdup_printf ("%s: %s", security_headers[i], security_headers[i + 1]);
      if (add_header_line (wsi, line, &p, end))
        return -1;
    }
  if (ex->content_type && !no_body &&
      lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const guchar *) ex->content_type,
                                    strlen (ex->content_type), &p, end))
    return -1;
  if (!no_body && lws_add_http_header_content_length (wsi, total, &p, end))
    return -1;
  if (ex->tls && add_header_line (wsi, "Strict-Transport-Security: max-age=31536000", &p, end))
    return -1;
  for (guint i = 0; ex->resp_headers && ex->resp_headers[i]; i++)
    if (add_header_line (wsi, ex->resp_headers[i], &p, end))
      return -1;
  if (lws_finalize_write_http_header (wsi, start, &p, end))
    return -1;
  return 0;
}

/* The next chunk of the body; TRUE when it was the last. Returns -1 on
 * failure, 0 when more is to come, 1 when the body is complete. */
static int
exchange_write_body (struct lws *wsi, HttpExchange *ex, gsize total)
{
  gsize len = MIN (HTTP_CHUNK, total - ex->resp_off);
  gboolean last = ex->resp_off + len == total;
  g_autofree guchar *buf = g_malloc (LWS_PRE + len);

  memcpy (buf + LWS_PRE, (const guchar *) g_bytes_get_data (ex->resp_body, NULL) + ex->resp_off, len);
  if (lws_write (wsi, buf + LWS_PRE, len, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
    return -1;
  ex->resp_off += len;
  return last ? 1 : 0;
}

/* Write the pending response: headers first, then the body in chunks.
 * Returns -1 when lws should close the connection. */
static int
exchange_write (struct lws *wsi, HttpPss *pss)
{
  HttpExchange *ex = pss->ex;
  gsize total;

  if (!ex || !ex->responded)
    return 0;
  total = g_bytes_get_size (ex->resp_body);

  if (!ex->headers_sent)
    {
      gboolean no_body = ex->status == 304 || ex->status == 204;
      if (exchange_write_headers (wsi, ex, total, no_body) < 0)
        return -1;
      ex->headers_sent = TRUE;
      g_debug ("%s: %s %s %u", ex->peer, ex->method, ex->uri, ex->status);
      if (no_body || ex->head_only)
        ex->resp_off = total;
    }

  if (ex->resp_off < total)
    {
      int done = exchange_write_body (wsi, ex, total);
      if (done < 0)
        return -1;
      if (!done)
        {
          lws_callback_on_writable (wsi);
          return 0;
        }
    }

  /* done with this request */
  pss->ex = NULL;
  exchange_free (ex);
  if (lws_http_transaction_completed (wsi))
    return -1;
  return 0;
}

static gboolean
on_body_deadline (gpointer data)
{
  HttpExchange *ex = data;
  ex->body_deadline = 0;
  if (ex->wsi && !ex->dispatched)
    {
      g_message ("%s: request body not complete within %d s: closing", ex->peer, HTTP_BODY_DEADLINE_S);
      lws_set_timeout (ex->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
  return G_SOURCE_REMOVE;
}

/* A new request (LWS_CALLBACK_HTTP): dispatch it now, or once its body
 * has arrived. */
static int
http_request (struct lws *wsi, HttpPss *pss, const gchar *uri)
{
  HttpConnection *conn = connection_of (wsi);
  g_autofree gchar *clen = NULL;
  guint64 content_length = 0;
  HttpExchange *ex;

  http_unblock_current_source ();
  if (pss->ex)
    {
      /* should not happen: lws serializes requests */
      pss->ex->wsi = NULL;
      if (pss->ex->responded || !pss->ex->dispatched)
        exchange_free (pss->ex);
      pss->ex = NULL;
    }
  ex = exchange_new (wsi, uri ? uri : "/", conn);
  pss->ex = ex;
  ex->head_only = g_str_equal (ex->method, "HEAD");

  clen = http_header_dup (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (clen)
    content_length = g_ascii_strtoull (clen, NULL, 10);
  if (content_length > HTTP_MAX_BODY)
    {
      http_exchange_fail (ex, 413, "too-large", NULL, "request body too large");
      return 0;
    }
  if (content_length > 0 && !g_str_equal (ex->method, "GET") && !g_str_equal (ex->method, "HEAD"))
    {
      /* grown as it arrives; lws re-arms its own timeout at every byte, so
       * a body that trickles in has a deadline of its own */
      ex->body = g_byte_array_new ();
      ex->body_deadline = g_timeout_add_seconds (HTTP_BODY_DEADLINE_S, on_body_deadline, ex);
      return 0;   /* dispatch at LWS_CALLBACK_HTTP_BODY_COMPLETION */
    }
  dispatch (ex, conn);
  return 0;
}

/* Only /cockpit/socket upgrades, never on the plain-HTTP side of the TLS
 * port. Returns non-zero to refuse. */
static int
http_confirm_upgrade (struct lws *wsi)
{
  HttpConnection *conn = connection_of (wsi);
  g_autofree gchar *expected = g_strconcat (url_root ? url_root : "", "/cockpit/socket", NULL);
  char uri[256] = "";

  if (conn && conn->plain_on_tls_port)
    return 1;
  if (lws_hdr_copy (wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || !g_str_equal (uri, expected))
    {
      g_autofree gchar *shown = rc_log_escape (uri, 256);
      g_debug ("%s: WebSocket upgrade refused on %s", conn ? conn->peer : "", shown);
      lws_return_http_status (wsi, HTTP_STATUS_NOT_FOUND, NULL);
      return 1;
    }
  return 0;
}

static int
http_callback (struct lws *wsi, enum lws_callback_reasons reason,
               void *user, void *in, size_t len)
{
  HttpPss *pss = user;

  switch (reason)
    {
    case LWS_CALLBACK_HTTP:
      return http_request (wsi, pss, in);

    case LWS_CALLBACK_HTTP_BODY:
      if (pss->ex && pss->ex->body)
        {
          if (pss->ex->body->len + len > HTTP_MAX_BODY)
            return -1;
          g_byte_array_append (pss->ex->body, in, len);
        }
      return 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (pss->ex && pss->ex->body_deadline)
        {
          g_source_remove (pss->ex->body_deadline);
          pss->ex->body_deadline = 0;
        }
      if (pss->ex && !pss->ex->responded)
        dispatch (pss->ex, connection_of (wsi));
      return 0;

    case LWS_CALLBACK_HTTP_WRITEABLE:
      return exchange_write (wsi, pss);

    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:   /* upgraded to a WebSocket: the exchange is over */
      if (pss && pss->ex)
        {
          /* answered, or never handed to a handler (its body did not
           * arrive): nobody else holds it; otherwise the handler's answer
           * frees it */
          pss->ex->wsi = NULL;
          if (pss->ex->responded || !pss->ex->dispatched)
            exchange_free (pss->ex);
          pss->ex = NULL;
        }
      return 0;

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      return http_confirm_upgrade (wsi);

    case LWS_CALLBACK_WSI_DESTROY:
      http_connection_destroyed (wsi);
      return 0;

    default:
      return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

/* ------------------------------------------------------------------ init */

const struct lws_protocols http_lws_protocol = {
  .name = "http",
  .callback = http_callback,
  .per_session_data_size = sizeof (HttpPss),
};

static void
lws_log_to_glib (int level, const char *line)
{
  g_autofree gchar *copy = g_strchomp (g_strdup (line));
  if (level & LLL_ERR)
    g_message ("libwebsockets: %s", copy);
  else
    g_debug ("libwebsockets: %s", copy);
}

gboolean
http_init (const Config *cfg, const struct lws_protocols *protocols, GError **error)
{
  struct lws_context_creation_info info;
  void *foreign_loops[1];

  url_root = g_strdup (cfg->url_root ? cfg->url_root : "");
  {
    /* the console's own public URL (its route) is always an allowed origin */
    GPtrArray *origins = g_ptr_array_new ();
    if (cfg->kube_url)
      g_ptr_array_add (origins, g_strdup (cfg->kube_url));
    for (guint i = 0; cfg->origins && cfg->origins[i]; i++)
      g_ptr_array_add (origins, g_strdup (cfg->origins[i]));
    g_ptr_array_add (origins, NULL);
    allowed_origins = (gchar **) g_ptr_array_free (origins, FALSE);
  }

  static_files_init (cfg->static_dir);

  lws_set_log_level (LLL_ERR | LLL_WARN, lws_log_to_glib);

  lws_loop = g_main_loop_new (NULL, FALSE);
  foreign_loops[0] = lws_loop;

  memset (&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.foreign_loops = foreign_loops;
  info.count_threads = 1;
  info.fd_limit_per_thread = 0;
  info.timeout_secs = 30;
  /* an idle keep-alive connection costs a descriptor (three over TLS):
   * browsers come back within seconds or open a new one */
  info.keepalive_timeout = 15;
  info.max_http_header_data = 8192;
  info.max_http_header_pool = 1024;
  info.pt_serv_buf_size = 32 * 1024;

  context = lws_create_context (&info);
  if (!context)
    {
      g_set_error (error, HTTP_ERROR, HTTP_ERROR_LWS,
                   "cannot create the libwebsockets context (is libwebsockets-evlib-glib installed?)");
      return FALSE;
    }
  info.vhost_name = "registry-console";
  vhost = lws_create_vhost (context, &info);
  if (!vhost)
    {
      g_set_error (error, HTTP_ERROR, HTTP_ERROR_LWS, "cannot create the libwebsockets vhost");
      return FALSE;
    }
  return TRUE;
}

void
http_shutdown (void)
{
  if (context)
    lws_context_destroy (context);
  context = NULL;
  vhost = NULL;
  g_clear_pointer (&lws_loop, g_main_loop_unref);
  g_clear_pointer (&allowed_origins, g_strfreev);
  g_clear_pointer (&handlers, g_hash_table_unref);
  static_files_shutdown ();
  g_clear_pointer (&url_root, g_free);
}
