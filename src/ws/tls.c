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
 * source: backpressure both ways, no threads.
 *
 * On each wake-up conn_pump runs one step per direction, in data-flow order
 * (tls_to_buffer, buffer_to_pair, pair_to_buffer, buffer_to_tls), until a
 * round moves nothing, then polls each side only for what the buffers
 * allow (conn_watch_sides). Endings: close_notify from the browser is a
 * half-close passed on to lws, which gets 5 s to finish its answer; a TCP
 * close without it frees the connection as soon as everything received
 * has reached lws; lws closing its side sends close_notify (gnutls_bye)
 * once everything is sent. Until the handshake is done a connection counts
 * as a startup: it has a timeout, and tls_drop_oldest_handshake drops the
 * oldest for MaxStartups. */
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

/* One direction's bytes in flight: data[off..len) was read from one side
 * and is not yet written to the other. A buffer takes one read (up to
 * TLS_BUFFER bytes) only when it is empty: one that holds anything counts as
 * full, and its source waits. `data` is NULL when idle, the direction's
 * shared scratch buffer while bytes pass straight through, or the
 * connection's own copy of what the other side could not take yet
 * (buffer_keep_pending). */
typedef struct {
  guchar *data;
  gsize len, off;            /* 0, 0 when empty */
  gboolean eof;              /* its source ended */
  gboolean shut;             /* ... and that end was passed on */
} Buffer;

static inline gboolean
buffer_empty (const Buffer *b)
{
  return b->len == 0;
}

/* its source may be read into it: not ended, and nothing waits */
static inline gboolean
buffer_can_read (const Buffer *b)
{
  return !b->eof && buffer_empty (b);
}

static inline gboolean
buffer_can_write (const Buffer *b)
{
  return !buffer_empty (b);
}

/* the source ended and everything read from it was written */
static inline gboolean
buffer_needs_shut (const Buffer *b)
{
  return b->eof && buffer_empty (b) && !b->shut;
}

/* where the next read goes */
static inline guchar *
buffer_space (Buffer *b, guchar *scratch)
{
  if (!b->data)
    b->data = scratch;
  return b->data;
}

static inline void
buffer_filled (Buffer *b, gsize n)
{
  b->len = n;
  b->off = 0;
}

static inline void
buffer_consumed (Buffer *b, gsize n)
{
  b->off += n;
  if (b->off == b->len)
    b->len = b->off = 0;
}

/* After a pump: what is left in the scratch buffer moves to the buffer's
 * own memory, and an empty buffer gives its memory back. */
static void
buffer_keep_pending (Buffer *b, guchar *scratch)
{
  if (buffer_empty (b))
    {
      if (b->data != scratch)
        g_free (b->data);
      b->data = NULL;
      b->off = 0;
    }
  else if (b->data == scratch)
    {
      gsize rest = b->len - b->off;
      b->data = g_malloc (TLS_BUFFER);
      memcpy (b->data, scratch + b->off, rest);
      b->len = rest;
      b->off = 0;
    }
}

static void
buffer_release (Buffer *b, guchar *scratch)
{
  if (b->data != scratch)
    g_free (b->data);
}

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
  Buffer in;                 /* TLS → lws; eof: close_notify or TCP closed */
  Buffer out;                /* lws → TLS; eof: lws closed its side */
  gboolean tls_abrupt;       /* the peer closed TCP, not with close_notify:
                              * it cannot read any more */
  guint linger;
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
  buffer_release (&self->in, scratch_in);
  buffer_release (&self->out, scratch_out);
  g_free (self->peer);
  g_free (self);
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
  g_debug ("%s: closed after the linger time", self->peer);
  conn_free (self);
  return G_SOURCE_REMOVE;
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

/* The socketpair to lws: lws adopts one end, we keep the other. */
static gboolean
conn_open_pair (TlsConn *self)
{
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
    {
      g_warning ("%s: socketpair: %s", self->peer, g_strerror (errno));
      return FALSE;
    }
  if (!http_adopt_fd (sv[1], TRUE, FALSE, self->peer))
    {
      close (sv[0]);
      return FALSE;
    }
  self->pair = sv[0];
  self->pair_tag = g_source_add_unix_fd (self->source, self->pair, G_IO_IN);
  self->pair_events = G_IO_IN;
  return TRUE;
}

/* Drives the handshake. TRUE once it is done and lws has the socketpair;
 * FALSE while it goes on (TCP watched the way GnuTLS waits) or when it
 * failed (the connection is freed). */
static gboolean
conn_handshake (TlsConn *self)
{
  int ret = gnutls_handshake (self->session);

  if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
    {
      watch (self, self->tcp_tag, &self->tcp_events,
             gnutls_record_get_direction (self->session) ? G_IO_OUT : G_IO_IN);
      return FALSE;
    }
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
  if (!conn_open_pair (self))
    {
      conn_free (self);
      return FALSE;
    }
  return TRUE;
}

/* What one I/O step did. */
typedef enum {
  STEP_WAIT,                 /* nothing moved: nothing to do, or it would block */
  STEP_MOVED,                /* bytes moved, or an end was seen */
  STEP_END,                  /* the connection is finished or broken: free it */
} Step;

/* TLS → buffer. `may_read`: the socket may have data (see conn_pump). */
static Step
tls_to_buffer (TlsConn *self, gboolean *may_read)
{
  Buffer *b = &self->in;
  ssize_t n;

  if (!buffer_can_read (b) || !(*may_read || gnutls_record_check_pending (self->session) > 0))
    return STEP_WAIT;
  n = gnutls_record_recv (self->session, buffer_space (b, scratch_in), TLS_BUFFER);
  if (n > 0)
    {
      buffer_filled (b, n);
      return STEP_MOVED;
    }
  if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
    {
      b->eof = TRUE;
      self->tls_abrupt = n != 0;
      return STEP_MOVED;
    }
  if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
    {
      *may_read = FALSE;
      return STEP_WAIT;
    }
  g_debug ("%s: TLS receive: %s", self->peer, gnutls_strerror (n));
  return STEP_END;
}

/* buffer → lws, then the TLS end once everything before it reached lws. */
static Step
buffer_to_pair (TlsConn *self)
{
  Buffer *b = &self->in;
  Step step = STEP_WAIT;

  if (buffer_can_write (b))
    {
      ssize_t n = send (self->pair, b->data + b->off, b->len - b->off, MSG_NOSIGNAL);
      if (n > 0)
        {
          buffer_consumed (b, n);
          step = STEP_MOVED;
        }
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        return STEP_END;      /* lws went away */
    }
  if (!buffer_needs_shut (b))
    return step;
  /* The browser closed TCP: it cannot read an answer, so close the
   * socketpair outright and lws drops the connection now, instead of
   * waiting out a WebSocket close handshake with a peer that is gone
   * (holding three descriptors). */
  if (self->tls_abrupt)
    {
      g_debug ("%s: TLS peer closed", self->peer);
      return STEP_END;
    }
  /* close_notify is a half-close: pass the EOF on, keep sending the
   * answer, and give lws a few seconds to finish. */
  b->shut = TRUE;
  shutdown (self->pair, SHUT_WR);
  self->linger = g_timeout_add_seconds (5, on_linger_timeout, self);
  return step;
}

/* lws → buffer. `may_read`: the socketpair may have data (see conn_pump). */
static Step
pair_to_buffer (TlsConn *self, gboolean *may_read)
{
  Buffer *b = &self->out;
  ssize_t n;

  if (!buffer_can_read (b) || !*may_read)
    return STEP_WAIT;
  n = recv (self->pair, buffer_space (b, scratch_out), TLS_BUFFER, 0);
  if (n > 0)
    {
      buffer_filled (b, n);
      *may_read = n == TLS_BUFFER;   /* a short read took all there was */
      return STEP_MOVED;
    }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    {
      *may_read = FALSE;
      return STEP_WAIT;
    }
  b->eof = TRUE;              /* lws closed its side, or the socketpair broke */
  /* What is left goes out within a few seconds, or not at all: a client
   * that stopped reading must not hold the connection forever. */
  if (!self->linger)
    self->linger = g_timeout_add_seconds (5, on_linger_timeout, self);
  return STEP_MOVED;
}

/* buffer → TLS; once lws closed and everything is sent, say goodbye (unless
 * the peer has already ended) and finish. */
static Step
buffer_to_tls (TlsConn *self)
{
  Buffer *b = &self->out;
  Step step = STEP_WAIT;

  if (buffer_can_write (b))
    {
      ssize_t n = gnutls_record_send (self->session, b->data + b->off, b->len - b->off);
      if (n > 0)
        {
          buffer_consumed (b, n);
          step = STEP_MOVED;
        }
      else if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
        {
          g_debug ("%s: TLS send: %s", self->peer, gnutls_strerror (n));
          return STEP_END;
        }
    }
  if (!buffer_needs_shut (b))
    return step;
  if (!self->in.eof)
    gnutls_bye (self->session, GNUTLS_SHUT_WR);
  return STEP_END;
}

/* What to poll for: TCP readable while TLS may be read, and the way GnuTLS
 * waits while a record is to be sent; the socketpair writable while bytes
 * wait for lws, readable while lws may be read. */
static void
conn_watch_sides (TlsConn *self)
{
  GIOCondition tcp_events = 0, pair_events = 0;

  if (buffer_can_read (&self->in))
    tcp_events |= G_IO_IN;
  if (buffer_can_write (&self->out))
    tcp_events |= gnutls_record_get_direction (self->session) ? G_IO_OUT : G_IO_IN;
  if (buffer_can_write (&self->in))
    pair_events |= G_IO_OUT;
  if (buffer_can_read (&self->out))
    pair_events |= G_IO_IN;

  watch (self, self->tcp_tag, &self->tcp_events, tcp_events);
  watch (self, self->pair_tag, &self->pair_events, pair_events);
}

/* Adds one step to a round: FALSE once the connection is to be freed. */
static inline gboolean
step_goes_on (Step step, gboolean *moved)
{
  *moved |= step == STEP_MOVED;
  return step != STEP_END;
}

static void
conn_pump (TlsConn *self, GIOCondition tcp_ready, GIOCondition pair_ready)
{
  /* Read a side only when it may have something: poll said so, GnuTLS holds
   * a decrypted record, the last read filled the buffer, or reading had
   * been paused because the buffer was full (then poll was not asked). Poll
   * is level-triggered, so whatever is left wakes us again; this saves a
   * failing recv per side and wake-up. */
  gboolean tls_may_read = (tcp_ready & (G_IO_IN | G_IO_HUP | G_IO_ERR)) || !buffer_empty (&self->in);
  gboolean pair_may_read = (pair_ready & (G_IO_IN | G_IO_HUP | G_IO_ERR)) || !buffer_empty (&self->out);
  gboolean moved;

  if (!self->handshaken)
    {
      if (!conn_handshake (self))
        return;
      tls_may_read = TRUE;    /* data may have come with the handshake */
    }

  do
    {
      moved = FALSE;
      if (!step_goes_on (tls_to_buffer (self, &tls_may_read), &moved) ||
          !step_goes_on (buffer_to_pair (self), &moved) ||
          !step_goes_on (pair_to_buffer (self, &pair_may_read), &moved) ||
          !step_goes_on (buffer_to_tls (self), &moved))
        {
          conn_free (self);
          return;
        }
    }
  while (moved);

  buffer_keep_pending (&self->in, scratch_in);
  buffer_keep_pending (&self->out, scratch_out);
  conn_watch_sides (self);
}

/* The server session on self->tcp with the current settings; 0 or a
 * GnuTLS error code. */
static int
conn_session_init (TlsConn *self)
{
  int ret = gnutls_init (&self->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);

  if (ret == 0)
    ret = gnutls_priority_set (self->session, priority);
  if (ret == 0)
    ret = gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE, self->creds->creds);
  if (ret == 0)
    ret = gnutls_alpn_set_protocols (self->session, &alpn_http11, 1, GNUTLS_ALPN_SERVER_PRECEDENCE);
  if (ret == 0)
    ret = gnutls_session_ticket_enable_server (self->session, &ticket_key);
  if (ret < 0)
    return ret;
  gnutls_certificate_server_set_request (self->session, GNUTLS_CERT_IGNORE);
  gnutls_transport_set_int (self->session, self->tcp);
  gnutls_handshake_set_timeout (self->session, 0);
  return 0;
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

  ret = conn_session_init (self);
  if (ret < 0)
    {
      g_warning ("%s: TLS session setup: %s", peer, gnutls_strerror (ret));
      conn_free (self);
      return;
    }

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
