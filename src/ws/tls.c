/* tls.c: GnuTLS in front of libwebsockets.
 *
 * Each accepted TLS connection gets a GnuTLS session driven by fd readiness
 * on the glib loop. After the handshake a socketpair is made; lws adopts one
 * end (http_adopt_fd) and we pump plaintext both ways:
 *
 *   TCP ⇄ gnutls_record_recv/send ⇄ [buffers] ⇄ socketpair ⇄ lws
 *
 * Each direction has one bounded buffer (TLS_BUFFER bytes). Data is read
 * into a scratch buffer shared by all connections (one thread) and usually
 * passed on at once; only what the other side cannot take yet is copied to
 * a buffer of the connection's own, so idle connections cost little and busy
 * ones do not allocate per record. When a buffer is full we stop reading its
 * source: backpressure both ways, no threads. */
#include "config.h"

#include "common/rcconfig.h"
#include "ws/tls.h"
#include "common/certificate.h"
#include "ws/http.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <gio/gio.h>
#include <gnutls/gnutls.h>

#define TLS_BUFFER (64 * 1024)

static guchar scratch_in[TLS_BUFFER];
static guchar scratch_out[TLS_BUFFER];

/* AEAD ciphers with ECDHE only, TLS 1.2 and 1.3 */
#define TLS_PRIORITY \
  "SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
  "-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:" \
  "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:" \
  "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"

typedef struct {
  gint refs;
  gnutls_certificate_credentials_t creds;
  gchar *path;
} Creds;

typedef struct {
  int tcp;
  int pair;                  /* our end; -1 until the handshake is done */
  gchar *peer;
  gnutls_session_t session;
  Creds *creds;
  GSource *source;
  gpointer tcp_tag;
  gpointer pair_tag;
  GIOCondition tcp_events;   /* what the tags watch now */
  GIOCondition pair_events;
  guint timeout;
  gboolean handshaken;
  gboolean tls_eof;          /* peer sent close_notify or closed */
  gboolean tls_abrupt;       /* ... by closing TCP: it cannot read any more */
  gboolean pair_shut;        /* EOF passed on to lws */
  guint linger;
  gboolean pair_eof;         /* lws closed its side */
  gboolean bye_sent;
  guchar *in;                /* TLS → lws */
  gsize in_len, in_off;
  guchar *out;               /* lws → TLS */
  gsize out_len, out_off;
  GDestroyNotify done;
  gpointer done_data;
  gint64 started;            /* monotonic µs */
  GList *handshake_link;     /* in `handshaking` until the handshake ends */
} TlsConn;

/* connections still in their handshake, oldest first */
static GQueue handshaking = G_QUEUE_INIT;

static void conn_free (TlsConn *self);

static Creds *current_creds;
static gnutls_priority_t priority;
static gnutls_datum_t ticket_key;
static guint n_connections;

static const gnutls_datum_t alpn_http11 = { (unsigned char *) "http/1.1", 8 };

static Creds *
creds_ref (Creds *c)
{
  g_atomic_int_inc (&c->refs);
  return c;
}

static void
creds_unref (Creds *c)
{
  if (c && g_atomic_int_dec_and_test (&c->refs))
    {
      gnutls_certificate_free_credentials (c->creds);
      g_free (c->path);
      g_free (c);
    }
}

gboolean
tls_load_credentials (const gchar *cert_dir, GError **error)
{
  g_autofree gchar *path = NULL;
  g_autoptr(Certificate) cert = NULL;
  gnutls_certificate_credentials_t creds;
  Creds *c;
  int ret;

  if (!priority)
    {
      const char *err_pos = NULL;
      ret = gnutls_priority_init (&priority, TLS_PRIORITY, &err_pos);
      if (ret < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "TLS priority string at \"%s\": %s",
                       err_pos ? err_pos : "", gnutls_strerror (ret));
          return FALSE;
        }
      ret = gnutls_session_ticket_key_generate (&ticket_key);
      if (ret < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "session ticket key: %s", gnutls_strerror (ret));
          return FALSE;
        }
    }

  path = certificate_ensure (cert_dir, CERTIFICATE_KEY_ECDSA_P256, (uid_t) -1, (gid_t) -1, error);
  if (!path)
    return FALSE;
  cert = certificate_load (path, error);
  if (!cert)
    return FALSE;
  creds = certificate_credentials_new (cert, error);
  if (!creds)
    return FALSE;

  c = g_new0 (Creds, 1);
  c->refs = 1;
  c->creds = creds;
  c->path = g_strdup (path);
  creds_unref (current_creds);
  current_creds = c;
  g_message ("using certificate %s", path);
  return TRUE;
}

gint64
tls_oldest_handshake (void)
{
  TlsConn *oldest = g_queue_peek_head (&handshaking);
  return oldest ? oldest->started : G_MAXINT64;
}

void
tls_drop_oldest_handshake (void)
{
  TlsConn *oldest = g_queue_peek_head (&handshaking);
  if (oldest)
    {
      g_debug ("%s: dropped: handshake unfinished after %" G_GINT64_FORMAT " ms while others wait (MaxStartups)",
               oldest->peer, (g_get_monotonic_time () - oldest->started) / 1000);
      conn_free (oldest);
    }
}

guint
tls_connection_count (void)
{
  return n_connections;
}

static void
conn_startup_done (TlsConn *self)
{
  if (self->handshake_link)
    {
      g_queue_delete_link (&handshaking, self->handshake_link);
      self->handshake_link = NULL;
    }
  if (self->done)
    {
      GDestroyNotify done = self->done;
      self->done = NULL;
      done (self->done_data);
    }
  if (self->timeout)
    {
      g_source_remove (self->timeout);
      self->timeout = 0;
    }
}

static void
conn_free (TlsConn *self)
{
  conn_startup_done (self);
  if (self->linger)
    g_source_remove (self->linger);
  if (self->source)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  if (self->session)
    gnutls_deinit (self->session);
  if (self->tcp >= 0)
    close (self->tcp);
  if (self->pair >= 0)
    close (self->pair);
  creds_unref (self->creds);
  g_debug ("%s: connection closed", self->peer);
  if (self->in != scratch_in)
    g_free (self->in);
  if (self->out != scratch_out)
    g_free (self->out);
  g_free (self->peer);
  g_free (self);
  n_connections--;
}

static void conn_pump (TlsConn *self, GIOCondition tcp_ready, GIOCondition pair_ready);

static gboolean
conn_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  TlsConn *self = user_data;
  conn_pump (self, g_source_query_unix_fd (source, self->tcp_tag),
             self->pair_tag ? g_source_query_unix_fd (source, self->pair_tag) : 0);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs conn_source_funcs = { NULL, NULL, conn_dispatch, NULL, NULL, NULL };

static gboolean
on_handshake_timeout (gpointer data)
{
  TlsConn *self = data;
  self->timeout = 0;
  g_message ("%s: TLS handshake timed out", self->peer);
  conn_free (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_linger_timeout (gpointer data)
{
  TlsConn *self = data;
  self->linger = 0;
  g_debug ("%s: closed after close_notify", self->peer);
  conn_free (self);
  return G_SOURCE_REMOVE;
}

/* Returns FALSE when the connection is finished and freed. */
static gboolean
conn_handshake (TlsConn *self)
{
  int ret = gnutls_handshake (self->session);
  int sv[2];

  if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
    return TRUE;
  if (ret < 0)
    {
      g_debug ("%s: TLS handshake failed: %s", self->peer, gnutls_strerror (ret));
      conn_free (self);
      return FALSE;
    }

  self->handshaken = TRUE;
  conn_startup_done (self);
  {
    g_autofree gchar *desc = gnutls_session_get_desc (self->session);
    g_debug ("%s: TLS handshake done: %s", self->peer, desc ? desc : "");
  }

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
    {
      g_warning ("%s: socketpair: %s", self->peer, g_strerror (errno));
      conn_free (self);
      return FALSE;
    }
  if (!http_adopt_fd (sv[1], TRUE, FALSE, self->peer))
    {
      close (sv[0]);
      conn_free (self);
      return FALSE;
    }
  self->pair = sv[0];
  self->pair_tag = g_source_add_unix_fd (self->source, self->pair, G_IO_IN);
  self->pair_events = G_IO_IN;
  return TRUE;
}

static void
keep_pending (guchar **buf, gsize *len, gsize *off, guchar *scratch)
{
  if (*len == 0)
    {
      if (*buf != scratch)
        g_free (*buf);
      *buf = NULL;
      *off = 0;
    }
  else if (*buf == scratch)
    {
      gsize rest = *len - *off;
      *buf = g_malloc (TLS_BUFFER);
      memcpy (*buf, scratch + *off, rest);
      *len = rest;
      *off = 0;
    }
}

/* Changing what glib polls wakes the loop up (an eventfd write): only when
 * it changes. */
static void
watch (TlsConn *self, gpointer tag, GIOCondition *current, GIOCondition events)
{
  if (*current != events)
    {
      *current = events;
      g_source_modify_unix_fd (self->source, tag, events);
    }
}

static void
conn_pump (TlsConn *self, GIOCondition tcp_ready, GIOCondition pair_ready)
{
  GIOCondition tcp_events = 0, pair_events = 0;
  gboolean progress;
  /* Read a side only when it may have something: poll said so, GnuTLS holds
   * a decrypted record, the last read filled the buffer, or reading had
   * been paused (then poll was not asked). Poll is level-triggered, so
   * whatever is left wakes us again; this saves a failing recv per side and
   * wake-up. */
  gboolean tls_may_read = (tcp_ready & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0;
  gboolean pair_may_read = (pair_ready & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0;

  if (self->in_len > 0)
    tls_may_read = TRUE;      /* reading TLS was paused: try once lws takes it */
  if (self->out_len > 0)
    pair_may_read = TRUE;     /* likewise reading lws */

  if (!self->handshaken)
    {
      if (!conn_handshake (self))
        return;
      if (!self->handshaken)
        {
          watch (self, self->tcp_tag, &self->tcp_events,
                 gnutls_record_get_direction (self->session) ? G_IO_OUT : G_IO_IN);
          return;
        }
      tls_may_read = TRUE;    /* data may have come with the handshake */
    }

  do
    {
      progress = FALSE;

      /* TLS → buffer */
      if (!self->tls_eof && self->in_len == 0 &&
          (tls_may_read || gnutls_record_check_pending (self->session) > 0))
        {
          ssize_t n;
          if (!self->in)
            self->in = scratch_in;
          n = gnutls_record_recv (self->session, self->in, TLS_BUFFER);
          if (n > 0)
            {
              self->in_len = n;
              self->in_off = 0;
              progress = TRUE;
            }
          else if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
            {
              self->tls_eof = TRUE;
              self->tls_abrupt = n != 0;
              progress = TRUE;
            }
          else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            {
              tls_may_read = FALSE;
            }
          else
            {
              g_debug ("%s: TLS receive: %s", self->peer, gnutls_strerror (n));
              conn_free (self);
              return;
            }
        }

      /* buffer → lws */
      if (self->in_len > self->in_off)
        {
          ssize_t n = send (self->pair, self->in + self->in_off, self->in_len - self->in_off, MSG_NOSIGNAL);
          if (n > 0)
            {
              self->in_off += n;
              if (self->in_off == self->in_len)
                self->in_len = self->in_off = 0;
              progress = TRUE;
            }
          else if (n < 0 && errno != EAGAIN && errno != EINTR)
            {
              conn_free (self);   /* lws went away */
              return;
            }
        }
      /* The browser closed TCP and everything it sent has reached lws: it
       * cannot read an answer, so close the socketpair outright and lws drops
       * the connection now, instead of waiting out a WebSocket close
       * handshake with a peer that is gone (holding three descriptors). */
      if (self->tls_eof && self->tls_abrupt && self->in_len == 0)
        {
          g_debug ("%s: TLS peer closed", self->peer);
          conn_free (self);
          return;
        }
      /* close_notify is a half-close: pass the EOF on, keep sending the
       * answer, and give lws a few seconds to finish. */
      if (self->tls_eof && self->in_len == 0 && !self->pair_shut)
        {
          self->pair_shut = TRUE;
          shutdown (self->pair, SHUT_WR);
          self->linger = g_timeout_add_seconds (5, on_linger_timeout, self);
        }

      /* lws → buffer */
      if (!self->pair_eof && self->out_len == 0 && pair_may_read)
        {
          ssize_t n;
          if (!self->out)
            self->out = scratch_out;
          n = recv (self->pair, self->out, TLS_BUFFER, 0);
          if (n > 0)
            {
              self->out_len = n;
              self->out_off = 0;
              progress = TRUE;
              pair_may_read = n == TLS_BUFFER;   /* a short read took all there was */
            }
          else if (n == 0)
            {
              self->pair_eof = TRUE;
              progress = TRUE;
            }
          else if (errno == EAGAIN || errno == EINTR)
            {
              pair_may_read = FALSE;
            }
          else
            {
              self->pair_eof = TRUE;
              progress = TRUE;
            }
        }

      /* buffer → TLS */
      if (self->out_len > self->out_off)
        {
          ssize_t n = gnutls_record_send (self->session, self->out + self->out_off,
                                          self->out_len - self->out_off);
          if (n > 0)
            {
              self->out_off += n;
              if (self->out_off == self->out_len)
                self->out_len = self->out_off = 0;
              progress = TRUE;
            }
          else if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
            {
              g_debug ("%s: TLS send: %s", self->peer, gnutls_strerror (n));
              conn_free (self);
              return;
            }
        }
    }
  while (progress && !(self->pair_eof && self->out_len == 0));

  /* lws closed and everything is flushed: say goodbye and finish */
  if (self->pair_eof && self->out_len == 0)
    {
      if (!self->bye_sent && !self->tls_eof)
        {
          self->bye_sent = TRUE;
          gnutls_bye (self->session, GNUTLS_SHUT_WR);
        }
      conn_free (self);
      return;
    }

  /* what is left in a scratch buffer moves to the connection's own; idle
   * buffers go back to the allocator */
  keep_pending (&self->in, &self->in_len, &self->in_off, scratch_in);
  keep_pending (&self->out, &self->out_len, &self->out_off, scratch_out);

  if (!self->tls_eof && self->in_len == 0)
    tcp_events |= G_IO_IN;
  if (self->out_len > self->out_off)
    tcp_events |= gnutls_record_get_direction (self->session) ? G_IO_OUT : G_IO_IN;
  if (self->in_len > self->in_off)
    pair_events |= G_IO_OUT;
  if (!self->pair_eof && self->out_len == 0)
    pair_events |= G_IO_IN;

  watch (self, self->tcp_tag, &self->tcp_events, tcp_events);
  watch (self, self->pair_tag, &self->pair_events, pair_events);
}

void
tls_connection_start (int fd, const gchar *peer, guint handshake_timeout_ms,
                      GDestroyNotify done, gpointer done_data)
{
  TlsConn *self;
  int ret;

  if (!current_creds)
    {
      close (fd);
      if (done)
        done (done_data);
      return;
    }

  self = g_new0 (TlsConn, 1);
  self->tcp = fd;
  self->pair = -1;
  self->peer = g_strdup (peer);
  self->creds = creds_ref (current_creds);
  self->done = done;
  self->done_data = done_data;
  n_connections++;

  ret = gnutls_init (&self->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
  if (ret == 0)
    ret = gnutls_priority_set (self->session, priority);
  if (ret == 0)
    ret = gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE, self->creds->creds);
  if (ret == 0)
    ret = gnutls_alpn_set_protocols (self->session, &alpn_http11, 1, GNUTLS_ALPN_SERVER_PRECEDENCE);
  if (ret == 0)
    ret = gnutls_session_ticket_enable_server (self->session, &ticket_key);
  if (ret < 0)
    {
      g_warning ("%s: TLS session setup: %s", peer, gnutls_strerror (ret));
      conn_free (self);
      return;
    }
  gnutls_certificate_server_set_request (self->session, GNUTLS_CERT_IGNORE);
  gnutls_transport_set_int (self->session, fd);
  gnutls_handshake_set_timeout (self->session, 0);

  self->source = g_source_new (&conn_source_funcs, sizeof (GSource));
  g_source_set_callback (self->source, NULL, self, NULL);
  g_source_set_name (self->source, "tls-connection");
  /* A non-recursive source is blocked while it dispatches, which takes its
   * fds out of the poll set and puts them back: four eventfd wake-ups per
   * dispatch. Nothing here runs a nested loop, so let it "recurse". */
  g_source_set_can_recurse (self->source, TRUE);
  self->tcp_tag = g_source_add_unix_fd (self->source, fd, G_IO_IN);
  self->tcp_events = G_IO_IN;
  g_source_attach (self->source, NULL);

  self->started = g_get_monotonic_time ();
  g_queue_push_tail (&handshaking, self);
  self->handshake_link = handshaking.tail;
  if (handshake_timeout_ms)
    self->timeout = g_timeout_add (handshake_timeout_ms, on_handshake_timeout, self);
  g_debug ("%s: TLS connection", peer);
  conn_pump (self, G_IO_IN, 0);
}
