/* fuzz-socket.c: /cockpit/socket (src/ws/socket.c with the echo and null
 * channels) driven through its lws protocol callback, the way
 * libwebsockets calls it, with the lws functions it uses replaced by the
 * stand-ins below. Covers the upgrade filter (Origin, Host), frame parsing,
 * control JSON, the channel table, fragment reassembly, flow control and
 * closing. Everything the server writes must itself be a well-formed frame.
 *
 * Input: ORIGIN-SELECTOR byte, then messages, each
 *   flags (bit0 final, bit1 first, bit2 binary, bit3 drain the output queue
 *   now, bit4 peer closes) · length (1 byte, ×4 when bit5) · data */
#include "fuzz-common.h"
#include "ws/socket.h"
#include "ws/http.h"
#include "common/origin.h"
#include <string.h>

typedef struct {
  const gchar *origin, *host, *cookie;
  gboolean first, final, binary;
  gboolean want_write;
  gint rx_paused;
  gsize written;
  guint close_reason;
} FakeWsi;

#define WSI(w) ((FakeWsi *) (gpointer) (w))

static const gchar *
header_of (FakeWsi *w, enum lws_token_indexes h)
{
  switch ((int) h)
    {
    case WSI_TOKEN_ORIGIN: return w->origin;
    case WSI_TOKEN_HOST: return w->host;
    case WSI_TOKEN_HTTP_COOKIE: return w->cookie;
    default: return NULL;
    }
}

int lws_hdr_total_length (struct lws *wsi, enum lws_token_indexes h)
{
  const gchar *v = header_of (WSI (wsi), h);
  return v ? (int) strlen (v) : 0;
}
int lws_hdr_copy (struct lws *wsi, char *dest, int len, enum lws_token_indexes h)
{
  const gchar *v = header_of (WSI (wsi), h);
  if (!v || (int) strlen (v) + 1 > len)
    return -1;
  strcpy (dest, v);
  return (int) strlen (v);
}
const char *lws_get_peer_simple (struct lws *wsi, char *name, size_t namelen)
{
  g_strlcpy (name, "fuzz-peer", namelen);
  return name;
}
/* http.c stand-in (the origin check itself is the real one) */
static const gchar *const allowed[] = { "https://console.example:8443/", NULL };
const gchar *http_get_peer (struct lws *wsi) { return "fuzz-peer"; }
gboolean http_is_tls (struct lws *wsi) { return FALSE; }
gboolean http_is_plain_on_tls_port (struct lws *wsi) { return FALSE; }
void http_connection_destroyed (struct lws *wsi) { }
gboolean
http_origin_allowed (struct lws *wsi)
{
  g_autofree gchar *own = g_strdup_printf ("http://%s", WSI (wsi)->host);
  return origin_allowed (WSI (wsi)->origin, own, allowed);
}
gchar *http_header_dup (struct lws *wsi, enum lws_token_indexes token)
{
  const gchar *v = header_of (WSI (wsi), token);
  return v ? g_strdup (v) : NULL;
}
lws_sockfd_type lws_get_socket_fd (struct lws *wsi) { return -1; }
int lws_return_http_status (struct lws *wsi, unsigned int code, const char *html_body) { return 0; }
int lws_callback_on_writable (struct lws *wsi) { WSI (wsi)->want_write = TRUE; return 1; }
int lws_rx_flow_control (struct lws *wsi, int enable) { WSI (wsi)->rx_paused = !enable; return 0; }
int lws_send_pipe_choked (struct lws *wsi) { return WSI (wsi)->written % 3 == 0; }   /* now and then */
void lws_close_reason (struct lws *wsi, enum lws_close_status status, unsigned char *buf, size_t len)
{
  WSI (wsi)->close_reason = status;
}
int lws_is_final_fragment (struct lws *wsi) { return WSI (wsi)->final; }
int lws_is_first_fragment (struct lws *wsi) { return WSI (wsi)->first; }
int lws_frame_is_binary (struct lws *wsi) { return WSI (wsi)->binary; }

int
lws_write (struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp)
{
  /* what the browser gets is always "CHANNEL\nPAYLOAD"; control frames parse */
  const gchar *channel, *payload;
  gsize channel_len, payload_len;
  g_assert (socket_parse_frame ((const gchar *) buf, len, &channel, &channel_len, &payload, &payload_len));
  if (channel_len == 0)
    {
      const gchar *command = NULL;
      g_autoptr(GError) error = NULL;
      JsonObject *o = socket_parse_control (payload, payload_len, &command, &error);
      g_assert_no_error (error);
      g_assert (o && command);
      json_object_unref (o);
    }
  WSI (wsi)->written += len;
  return (int) len;
}

/* drain the output queue like lws would; FALSE when the socket closed */
static gboolean
drain (FakeWsi *w, void *pss)
{
  for (int i = 0; i < 10000 && w->want_write; i++)
    {
      w->want_write = FALSE;
      if (socket_lws_protocol.callback ((struct lws *) w, LWS_CALLBACK_SERVER_WRITEABLE, pss, NULL, 0) < 0)
        return FALSE;
    }
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gboolean initialized;
  fuzz_quiet_logs ();
  if (!initialized)
    {
      channel_echo_register ();
      channel_null_register ();
      initialized = TRUE;
    }
  if (size < 1)
    return 0;

  static const gchar *const origins[] = {
    "http://127.0.0.1:9090", "https://console.example:8443", "HTTP://127.0.0.1:9090",
    "https://evil.example", "null", "", "http://127.0.0.1:9090.evil.example", NULL,
  };
  FakeWsi w = { .host = "127.0.0.1:9090", .origin = origins[data[0] % G_N_ELEMENTS (origins)] };
  g_autofree void *pss = g_malloc0 (socket_lws_protocol.per_session_data_size);
  const struct lws_protocols *p = &socket_lws_protocol;
  struct lws *wsi = (struct lws *) &w;

  gboolean allowed_origin = p->callback (wsi, LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, pss, NULL, 0) == 0;
  if (data[0] % G_N_ELEMENTS (origins) <= 2)
    g_assert (allowed_origin);
  else
    g_assert (!allowed_origin);
  if (!allowed_origin)
    {
      p->callback (wsi, LWS_CALLBACK_WSI_DESTROY, pss, NULL, 0);
      return 0;
    }
  p->callback (wsi, LWS_CALLBACK_ESTABLISHED, pss, NULL, 0);
  g_assert_cmpuint (socket_count (), ==, 1);
  gboolean open = drain (&w, pss);
  g_assert (!open || w.written > 0);   /* init went out */

  size_t off = 1;
  while (open && off + 2 <= size)
    {
      guint8 flags = data[off];
      gsize len = data[off + 1] * ((flags & 0x20) ? 4 : 1);
      off += 2;
      len = MIN (len, size - off);
      w.final = flags & 1;
      w.first = (flags >> 1) & 1;
      w.binary = (flags >> 2) & 1;
      if (flags & 0x10)
        {
          p->callback (wsi, LWS_CALLBACK_WS_PEER_INITIATED_CLOSE, pss, NULL, 0);
          break;
        }
      /* lws does not deliver while reception is paused */
      if (w.rx_paused && !(flags & 0x08))
        {
          off += len;
          continue;
        }
      /* exact size, so ASan sees overreads; never NULL (lws passes its buffer) */
      gchar *copy = g_malloc (MAX (len, 1));
      memcpy (copy, data + off, len);
      int r = p->callback (wsi, LWS_CALLBACK_RECEIVE, pss, copy, len);
      g_free (copy);
      off += len;
      if (r < 0)
        break;
      if (flags & 0x08 || w.rx_paused)
        open = drain (&w, pss);
    }
  if (open)
    drain (&w, pss);
  p->callback (wsi, LWS_CALLBACK_CLOSED, pss, NULL, 0);
  p->callback (wsi, LWS_CALLBACK_WSI_DESTROY, pss, NULL, 0);
  g_assert_cmpuint (socket_count (), ==, 0);
  return 0;
}
