/* fuzz-http-stream2.c: the http-stream2 channel (src/ws/channel-http-stream2.c)
 * between a hostile browser and a hostile upstream, in memory.
 *
 * The C side does not parse manifests (the UI does), so the "registry
 * manifest/config JSON reader" target is this one: what the registry or
 * master answers (status line, headers, body in chunks) goes through the
 * channel's response path here, after the browser's open options.
 *
 * Input: OPTIONS-JSON \0 STATUS REASON \n HEADER: VALUE \n ... \n\n BODY
 * with BODY split into chunks at \1 bytes. The first byte picks the
 * session's backend (master / registry). socket.c and upstream.c are
 * replaced by the stubs below, which keep their contracts (socket.h,
 * upstream.h): closed() exactly once, no callback after cancel, on_done once. */
#include "fuzz-common.h"
#include "ws/socket.h"
#include "ws/upstream.h"
#include "ws/channel-http-stream2.h"
#include <string.h>

/* ---- socket.c stand-in ---------------------------------------------------- */

struct _RcChannel {
  const ChannelType *type;
  RcSession *session;
  gpointer data;
  GDestroyNotify destroy;
  gboolean closed, ready, failed;
  gsize queued;
  gsize reserved;
  gsize sent_bytes;
  guint controls;
};

static const ChannelType *registered;

void channel_register_type (const ChannelType *type) { registered = type; }
const ChannelType *channel_lookup_type (const gchar *payload)
{
  return registered && g_str_equal (payload, registered->payload) ? registered : NULL;
}
const gchar *channel_get_id (RcChannel *channel) { return "4"; }
RcSession *channel_get_session (RcChannel *channel) { return channel->session; }
void channel_set_data (RcChannel *channel, gpointer data, GDestroyNotify destroy)
{
  channel->data = data;
  channel->destroy = destroy;
}
gpointer channel_get_data (RcChannel *channel) { return channel->data; }
void channel_ready (RcChannel *channel, JsonObject *extra)
{
  g_assert (!channel->closed && !channel->ready);
  channel->ready = TRUE;
}
void channel_send (RcChannel *channel, const void *data, gsize len)
{
  g_assert (!channel->closed);
  g_assert (len == 0 || data != NULL);
  channel->queued += len;
  channel->sent_bytes += len;
}
void channel_send_control (RcChannel *channel, const gchar *command, JsonObject *fields)
{
  g_assert (!channel->closed);
  g_assert (command && *command);
  if (fields)
    {
      /* must serialize: what the browser would get */
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (node, fields);
      g_autofree gchar *text = json_to_string (node, FALSE);
      g_assert (text);
    }
  channel->controls++;
}
static void
channel_finish (RcChannel *channel)
{
  if (channel->closed)
    return;
  channel->closed = TRUE;
  if (channel->type->closed)
    channel->type->closed (channel);
  if (channel->destroy)
    channel->destroy (channel->data);
  channel->destroy = NULL;
  channel->data = NULL;
}
void channel_close (RcChannel *channel, const gchar *problem)
{
  channel_finish (channel);
}
void channel_fail (RcChannel *channel, const gchar *problem, const gchar *format, ...)
{
  g_assert (problem && *problem);
  g_assert (!channel->closed);
  channel->failed = TRUE;
  channel_finish (channel);
}
gboolean channel_is_congested (RcChannel *channel) { return channel->queued > 65536; }
gboolean channel_reserve (RcChannel *channel, gsize len)
{
  if (channel->reserved + len > 1024 * 1024)
    return FALSE;
  channel->reserved += len;
  return TRUE;
}
void channel_release (RcChannel *channel, gsize len) { channel->reserved -= MIN (len, channel->reserved); }

/* ---- upstream.c stand-in ------------------------------------------------- */

struct _UpstreamRequest {
  gchar *method, *path, *url;
  GPtrArray *headers;
  gchar *authorization, *registry_auth;
  GBytes *body;
  const UpstreamCallbacks *cbs;
  gpointer user_data;
  gboolean started, cancelled, paused, done;
};

static UpstreamRequest *current;

GQuark upstream_error_quark (void) { return g_quark_from_static_string ("upstream-error-quark"); }
const gchar *upstream_get_base_url (UpstreamBackend backend) { return "http://127.0.0.1:9"; }
UpstreamRequest *
upstream_request_new (UpstreamBackend backend, const gchar *method, const gchar *path)
{
  g_assert (current == NULL);
  g_assert (method && path);
  UpstreamRequest *req = g_new0 (UpstreamRequest, 1);
  req->method = g_strdup (method);
  req->path = g_strdup (path);
  req->url = g_strconcat ("http://127.0.0.1:9", path, NULL);
  req->headers = g_ptr_array_new_with_free_func (g_free);
  current = req;
  return req;
}
void upstream_request_set_long_lived (UpstreamRequest *req, gboolean long_lived) { }
void upstream_request_set_owner (UpstreamRequest *req, const gchar *key) { g_assert (key && *key); }
void upstream_request_add_header (UpstreamRequest *req, const gchar *name, const gchar *value)
{
  g_assert (!strpbrk (name, "\r\n:") && !strpbrk (value, "\r\n"));
  g_ptr_array_add (req->headers, g_strdup_printf ("%s: %s", name, value));
}
void upstream_request_set_authorization (UpstreamRequest *req, const gchar *a)
{
  g_free (req->authorization);
  req->authorization = g_strdup (a);
}
void upstream_request_set_registry_auth (UpstreamRequest *req, const gchar *a)
{
  g_free (req->registry_auth);
  req->registry_auth = g_strdup (a);
}
void upstream_request_set_body (UpstreamRequest *req, GBytes *body)
{
  g_clear_pointer (&req->body, g_bytes_unref);
  req->body = g_bytes_ref (body);
}
void upstream_request_set_timeout (UpstreamRequest *req, guint seconds) { }
void upstream_request_start (UpstreamRequest *req, const UpstreamCallbacks *cbs, gpointer user_data)
{
  g_assert (!req->started);
  req->started = TRUE;
  req->cbs = cbs;
  req->user_data = user_data;
}
void upstream_request_resume (UpstreamRequest *req) { req->paused = FALSE; }
static void
request_free (UpstreamRequest *req)
{
  g_free (req->method);
  g_free (req->path);
  g_free (req->url);
  g_ptr_array_unref (req->headers);
  g_free (req->authorization);
  g_free (req->registry_auth);
  g_clear_pointer (&req->body, g_bytes_unref);
  if (current == req)
    current = NULL;
  g_free (req);
}
void upstream_request_cancel (UpstreamRequest *req)
{
  g_assert (!req->done);
  req->cancelled = TRUE;
}
const gchar *upstream_request_get_url (UpstreamRequest *req) { return req->url; }

/* ---- the target ------------------------------------------------------------ */

static void
drive_response (RcChannel *ch, const gchar *resp, gsize len)
{
  UpstreamRequest *req = current;
  if (!req || !req->started || req->cancelled)
    return;
  /* status line and headers */
  const gchar *end = resp + len;
  const gchar *hdr_end = g_strstr_len (resp, len, "\n\n");
  g_autofree gchar *head = g_strndup (resp, hdr_end ? (gsize) (hdr_end - resp) : len);
  const gchar *body = hdr_end ? hdr_end + 2 : end;
  g_auto(GStrv) lines = g_strsplit (head, "\n", 200);
  guint status = lines[0] ? (guint) g_ascii_strtoull (lines[0], NULL, 10) : 200;
  const gchar *reason = lines[0] ? strchr (lines[0], ' ') : NULL;
  g_autoptr(GHashTable) headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 1; lines[0] && lines[i]; i++)
    {
      gchar *colon = strchr (lines[i], ':');
      if (!colon)
        continue;
      g_hash_table_replace (headers, g_ascii_strdown (lines[i], colon - lines[i]), g_strdup (g_strchug (colon + 1)));
    }
  req->cbs->on_response (req, status, reason ? reason + 1 : "", headers, req->user_data);
  /* body chunks */
  while (body < end && !req->cancelled)
    {
      const gchar *next = memchr (body, '\1', end - body);
      gsize n = next ? (gsize) (next - body) : (gsize) (end - body);
      if (!req->cbs->on_data (req, (const guint8 *) body, n, req->user_data))
        {
          req->paused = TRUE;
          /* the browser reads: queue drains, the channel resumes */
          ch->queued = 0;
          if (!ch->closed && ch->type->resume)
            ch->type->resume (ch);
        }
      body = next ? next + 1 : end;
    }
  if (!req->cancelled)
    {
      g_autoptr(GError) error = NULL;
      if (len % 7 == 3)
        error = g_error_new (UPSTREAM_ERROR, UPSTREAM_ERROR_DISCONNECTED, "connection reset by fuzzer");
      req->done = TRUE;
      req->cbs->on_done (req, error, req->user_data);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_quiet_logs ();
  if (!registered)
    channel_http_stream2_register (120, 4);
  if (size < 1)
    return 0;
  g_autoptr(RcSession) session = session_new ("admin", (data[0] & 1) ? "master" : "registry",
                                              (data[0] & 1) ? "Bearer sha256~fuzz-token" : "Basic YWRtaW46c2VjcmV0",
                                              g_get_real_time () / G_USEC_PER_SEC);
  const gchar *opts = (const gchar *) data + 1;
  gsize rest = size - 1;
  const gchar *nul = memchr (opts, '\0', rest);
  gsize opts_len = nul ? (gsize) (nul - opts) : rest;
  const gchar *resp = nul ? nul + 1 : NULL;
  gsize resp_len = nul ? rest - opts_len - 1 : 0;

  g_autoptr(JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, opts, opts_len, NULL))
    return 0;
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return 0;

  RcChannel ch = { .type = registered, .session = session };
  gboolean ok = registered->open (&ch, json_node_get_object (root));
  if (!ok)
    {
      g_assert (ch.failed && ch.closed);
      g_assert (!ch.ready);
      g_assert (current == NULL || !current->started);
      if (current)
        request_free (current);
      return 0;
    }
  g_assert (!ch.closed);
  if (current == NULL || !current->started)
    {
      /* a request with a body: payload frames, then "done" */
      if (resp_len > 0 && registered->recv)
        {
          g_autoptr(GBytes) b = g_bytes_new (resp, MIN (resp_len, 64));
          registered->recv (&ch, b);
        }
      if (!ch.closed && registered->control)
        {
          g_autoptr(JsonObject) msg = json_object_new ();
          json_object_set_string_member (msg, "command", "done");
          json_object_set_string_member (msg, "channel", "4");
          registered->control (&ch, "done", msg);
        }
    }
  if (resp && !ch.closed)
    drive_response (&ch, resp, resp_len);
  /* the browser goes away (or the channel already closed itself) */
  channel_finish (&ch);
  if (current)
    request_free (current);
  return 0;
}
