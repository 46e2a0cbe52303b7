/* rc-bench.c: load client for registry-console and its peers (cockpit-ws,
 * nginx). One epoll loop, non-blocking GnuTLS, a minimal WebSocket client
 * speaking the Cockpit channel protocol (init, open "echo", frames).
 *
 *   rc-bench echo      throughput and latency of the echo channel
 *   rc-bench idle      open N sockets, measure server RSS per socket, check echo
 *   rc-bench connect   new TLS connections per second
 *   rc-bench slowloris handshakes that never finish, while a probe is served
 *   rc-bench probe     repeated HTTPS GETs on new connections (fault tests)
 *
 * Loopback only; no certificate verification (the peers use test certs).
 * Output is "key: value" lines so scripts can pick figures. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

/* ---- options ---------------------------------------------------------- */

static struct {
  const char *host;
  int port;
  int tls;
  const char *path;
  const char *origin;
  const char *protocol;     /* Sec-WebSocket-Protocol */
  const char *cookie;
  size_t size;
  int sockets;
  int window;
  double seconds;
  double hold;
  int concurrency;
  double rate;
  const char *pids;          /* comma separated; RSS of each and descendants */
  double max_latency_ms;
  const char *http_path;     /* probe path */
  int quiet;
} opt = {
  .host = "127.0.0.1", .port = 0, .tls = 1, .path = "/cockpit/socket",
  .protocol = "cockpit1", .size = 1024, .sockets = 1, .window = 16,
  .seconds = 5, .hold = 0, .concurrency = 100, .rate = 200,
  .max_latency_ms = 1000, .http_path = "/ping",
};

static gnutls_certificate_credentials_t xcred;
static int epfd = -1;

static void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("rc-bench: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (2);
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n);
  if (!p && n)
    die ("out of memory");
  return p;
}

/* ---- latency samples -------------------------------------------------- */

typedef struct {
  double *v;
  size_t n, cap;
} Samples;

static void
samples_add (Samples *s, double x)
{
  if (s->n == s->cap)
    {
      s->cap = s->cap ? s->cap * 2 : 4096;
      s->v = xrealloc (s->v, s->cap * sizeof (double));
    }
  s->v[s->n++] = x;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
samples_pct (Samples *s, double p)
{
  if (s->n == 0)
    return NAN;
  size_t i = (size_t) ceil (p / 100.0 * s->n);
  if (i > 0)
    i--;
  if (i >= s->n)
    i = s->n - 1;
  return s->v[i];
}

static void
samples_print (Samples *s, const char *prefix)
{
  qsort (s->v, s->n, sizeof (double), cmp_double);
  printf ("%s_latency_ms: p50 %.3f p90 %.3f p99 %.3f max %.3f (n=%zu)\n", prefix,
          samples_pct (s, 50) * 1e3, samples_pct (s, 90) * 1e3,
          samples_pct (s, 99) * 1e3, samples_pct (s, 100) * 1e3, s->n);
}

/* ---- server memory ---------------------------------------------------- */

static long
rss_kib_of (int pid)
{
  char path[64], line[256];
  long kib = 0;
  snprintf (path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen (path, "r");
  if (!f)
    return 0;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld", &kib) == 1)
      break;
  fclose (f);
  return kib;
}

static int
ppid_of (int pid)
{
  char path[64], buf[512];
  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen (path, "r");
  if (!f)
    return -1;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = 0;
  char *p = strrchr (buf, ')');
  int ppid = -1;
  if (p && sscanf (p + 1, " %*c %d", &ppid) == 1)
    return ppid;
  return -1;
}

/* RSS of pid and all its descendants (cockpit-ws spawns cockpit-bridge) */
static long
rss_tree_kib (int root)
{
  long total = rss_kib_of (root);
  int frontier[4096], nf = 0;
  frontier[nf++] = root;
  for (int i = 0; i < nf; i++)
    {
      DIR *d = opendir ("/proc");
      struct dirent *e;
      if (!d)
        break;
      while ((e = readdir (d)))
        {
          int pid = atoi (e->d_name);
          if (pid > 0 && ppid_of (pid) == frontier[i] && nf < 4096)
            {
              frontier[nf++] = pid;
              total += rss_kib_of (pid);
            }
        }
      closedir (d);
    }
  return total;
}

static long
rss_pids_kib (void)
{
  if (!opt.pids)
    return 0;
  long total = 0;
  char *copy = strdup (opt.pids), *save = NULL;
  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    total += rss_tree_kib (atoi (t));
  free (copy);
  return total;
}

/* ---- connections ------------------------------------------------------ */

typedef enum { ST_CONNECTING, ST_TLS, ST_HTTP, ST_WS, ST_DEAD } State;

typedef struct {
  unsigned char *p;
  size_t len, off, cap;
} Buf;

typedef struct Conn {
  int fd;
  State st;
  gnutls_session_t tls;
  int tls_pending;          /* length of a gnutls_record_send that returned EAGAIN */
  Buf out, in, msg;
  int msg_opcode;
  int ready;                /* echo channel ready */
  int want_out;             /* EPOLLOUT registered */
  double t0;                /* connect start */
  double *sent;             /* FIFO of send timestamps */
  size_t sent_head, sent_n, sent_cap;
  long echoes;
  int checked;              /* idle mode: answered the check */
  char chan[48];            /* echo channel id: channel-seed from init + "e1" */
} Conn;

static struct {
  int connecting, open, ready, dead, failed_handshakes;
  long echoes;
  double echo_bytes;
  int measuring;
  Samples lat;
  char last_error[256];
} st;

static char *payload;

static void
buf_append (Buf *b, const void *data, size_t len)
{
  if (b->len + len > b->cap)
    {
      if (b->off > 0)
        {
          memmove (b->p, b->p + b->off, b->len - b->off);
          b->len -= b->off;
          b->off = 0;
        }
      if (b->len + len > b->cap)
        {
          b->cap = (b->len + len) * 2;
          b->p = xrealloc (b->p, b->cap);
        }
    }
  memcpy (b->p + b->len, data, len);
  b->len += len;
}

static void
conn_set_error (Conn *c, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (st.last_error, sizeof st.last_error, fmt, ap);
  va_end (ap);
  (void) c;
}

static void
conn_update_events (Conn *c)
{
  int want = c->st == ST_CONNECTING || (c->out.len > c->out.off) || c->tls_pending;
  if (c->st == ST_TLS && c->tls)
    want = gnutls_record_get_direction (c->tls) == 1;
  if (want != c->want_out)
    {
      struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
      epoll_ctl (epfd, EPOLL_CTL_MOD, c->fd, &ev);
      c->want_out = want;
    }
}

static void
conn_kill (Conn *c)
{
  if (c->st == ST_DEAD)
    return;
  if (c->st == ST_WS)
    st.open--;
  if (c->ready)
    st.ready--;
  if (c->st == ST_CONNECTING || c->st == ST_TLS || c->st == ST_HTTP)
    st.connecting--;
  st.dead++;
  c->st = ST_DEAD;
  c->ready = 0;
  epoll_ctl (epfd, EPOLL_CTL_DEL, c->fd, NULL);
  if (c->tls)
    gnutls_deinit (c->tls);
  c->tls = NULL;
  close (c->fd);
  c->fd = -1;
  free (c->out.p);
  free (c->in.p);
  free (c->msg.p);
  free (c->sent);
  memset (&c->out, 0, sizeof c->out);
  memset (&c->in, 0, sizeof c->in);
  memset (&c->msg, 0, sizeof c->msg);
  c->sent = NULL;
}

static int
tcp_connect_nb (void)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (opt.port) };
  if (inet_pton (AF_INET, opt.host, &sa.sin_addr) != 1)
    die ("bad address %s (IPv4 literal expected)", opt.host);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static Conn *
conn_new (void)
{
  Conn *c = calloc (1, sizeof (Conn));
  if (!c)
    die ("out of memory");
  c->fd = tcp_connect_nb ();
  c->t0 = now ();
  if (c->fd < 0)
    {
      conn_set_error (c, "connect: %s", strerror (errno));
      c->st = ST_DEAD;
      st.dead++;
      return c;
    }
  c->st = ST_CONNECTING;
  st.connecting++;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
  c->want_out = 1;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
    die ("epoll_ctl: %s", strerror (errno));
  return c;
}

static void
ws_send_frame2 (Conn *c, int opcode, const void *prefix, size_t plen, const void *data, size_t len)
{
  size_t total = plen + len;
  unsigned char h[14];
  size_t hl = 0;
  h[hl++] = 0x80 | opcode;
  if (total < 126)
    h[hl++] = 0x80 | total;
  else if (total < 65536)
    {
      h[hl++] = 0x80 | 126;
      h[hl++] = total >> 8;
      h[hl++] = total & 0xff;
    }
  else
    {
      h[hl++] = 0x80 | 127;
      for (int i = 7; i >= 0; i--)
        h[hl++] = ((uint64_t) total >> (8 * i)) & 0xff;
    }
  uint32_t m = (uint32_t) random ();
  unsigned char mask[4];
  memcpy (mask, &m, 4);
  memcpy (h + hl, mask, 4);
  hl += 4;
  buf_append (&c->out, h, hl);
  size_t start = c->out.len;
  if (plen)
    buf_append (&c->out, prefix, plen);
  buf_append (&c->out, data, len);
  unsigned char *p = c->out.p + start;
  for (size_t i = 0; i < total; i++)
    p[i] ^= mask[i & 3];
}

static void
ws_send_frame (Conn *c, int opcode, const void *data, size_t len)
{
  ws_send_frame2 (c, opcode, NULL, 0, data, len);
}

static void
ws_send_text (Conn *c, const char *s)
{
  ws_send_frame (c, 1, s, strlen (s));
}

static void conn_flush (Conn *c);

static void
conn_send_echo (Conn *c)
{
  if (c->sent_n == c->sent_cap)
    {
      size_t ncap = c->sent_cap ? c->sent_cap * 2 : 16;
      double *n = xrealloc (NULL, ncap * sizeof (double));
      for (size_t i = 0; i < c->sent_n; i++)
        n[i] = c->sent[(c->sent_head + i) % (c->sent_cap ? c->sent_cap : 1)];
      free (c->sent);
      c->sent = n;
      c->sent_cap = ncap;
      c->sent_head = 0;
    }
  c->sent[(c->sent_head + c->sent_n) % c->sent_cap] = now ();
  c->sent_n++;
  char prefix[64];
  int pl = snprintf (prefix, sizeof prefix, "%s\n", c->chan);
  ws_send_frame2 (c, 1, prefix, pl, payload, opt.size);
}

/* value of "key":"value" in a compact or spaced JSON text; 0 if absent */
static int
json_str (const char *json, size_t len, const char *key, char *out, size_t outlen)
{
  char pat[64];
  snprintf (pat, sizeof pat, "\"%s\"", key);
  const char *end = json + len;
  const char *p = memmem (json, len, pat, strlen (pat));
  if (!p)
    return 0;
  p += strlen (pat);
  while (p < end && (*p == ' ' || *p == ':'))
    p++;
  if (p >= end || *p != '"')
    return 0;
  p++;
  size_t i = 0;
  while (p < end && *p != '"' && i + 1 < outlen)
    out[i++] = *p++;
  out[i] = 0;
  return 1;
}

static void
handle_message (Conn *c, const unsigned char *data, size_t len)
{
  if (len > 0 && data[0] == '\n')
    {
      char cmd[32] = "", chan[32] = "", problem[64] = "";
      json_str ((const char *) data + 1, len - 1, "command", cmd, sizeof cmd);
      json_str ((const char *) data + 1, len - 1, "channel", chan, sizeof chan);
      if (strcmp (cmd, "init") == 0)
        {
          char seed[32] = "", open[160];
          json_str ((const char *) data + 1, len - 1, "channel-seed", seed, sizeof seed);
          snprintf (c->chan, sizeof c->chan, "%se%lx", seed, (unsigned long) (uintptr_t) c);
          snprintf (open, sizeof open, "\n{\"command\":\"open\",\"channel\":\"%s\",\"payload\":\"echo\"}", c->chan);
          ws_send_text (c, "\n{\"command\":\"init\",\"version\":1,\"host\":\"localhost\"}");
          ws_send_text (c, open);
        }
      else if (strcmp (cmd, "ready") == 0 && strcmp (chan, c->chan) == 0)
        {
          if (!c->ready)
            {
              c->ready = 1;
              st.ready++;
            }
        }
      else if (strcmp (cmd, "close") == 0 && (chan[0] == 0 || strcmp (chan, c->chan) == 0))
        {
          json_str ((const char *) data + 1, len - 1, "problem", problem, sizeof problem);
          conn_set_error (c, "channel closed: %s", problem[0] ? problem : "(no problem)");
          conn_kill (c);
        }
      return;
    }
  size_t cl = strlen (c->chan);
  if (cl > 0 && len > cl && memcmp (data, c->chan, cl) == 0 && data[cl] == '\n')
    {
      double t = now ();
      if (c->sent_n > 0)
        {
          double t0 = c->sent[c->sent_head];
          c->sent_head = (c->sent_head + 1) % c->sent_cap;
          c->sent_n--;
          if (st.measuring)
            samples_add (&st.lat, t - t0);
        }
      c->echoes++;
      if (st.measuring)
        {
          st.echoes++;
          st.echo_bytes += len - cl - 1;
        }
    }
}

static int
ws_parse (Conn *c)
{
  for (;;)
    {
      unsigned char *p = c->in.p + c->in.off;
      size_t avail = c->in.len - c->in.off;
      if (avail < 2)
        return 0;
      int fin = p[0] & 0x80, opcode = p[0] & 0x0f, masked = p[1] & 0x80;
      uint64_t len = p[1] & 0x7f;
      size_t hl = 2;
      if (len == 126)
        {
          if (avail < 4)
            return 0;
          len = ((uint64_t) p[2] << 8) | p[3];
          hl = 4;
        }
      else if (len == 127)
        {
          if (avail < 10)
            return 0;
          len = 0;
          for (int i = 0; i < 8; i++)
            len = (len << 8) | p[2 + i];
          hl = 10;
        }
      if (masked)
        hl += 4;
      if (avail < hl + len)
        return 0;
      unsigned char *data = p + hl;
      if (masked)
        for (uint64_t i = 0; i < len; i++)
          data[i] ^= p[hl - 4 + (i & 3)];
      c->in.off += hl + len;
      if (opcode == 8)
        {
          conn_set_error (c, "server closed the WebSocket (code %d)",
                          len >= 2 ? (data[0] << 8 | data[1]) : 0);
          conn_kill (c);
          return -1;
        }
      else if (opcode == 9)
        ws_send_frame (c, 10, data, len);
      else if (opcode == 10)
        ;
      else
        {
          if (opcode != 0)
            c->msg_opcode = opcode;
          if (fin && c->msg.len == 0)
            handle_message (c, data, len);
          else
            {
              buf_append (&c->msg, data, len);
              if (fin)
                {
                  handle_message (c, c->msg.p, c->msg.len);
                  c->msg.len = c->msg.off = 0;
                }
            }
          if (c->st == ST_DEAD)
            return -1;
        }
    }
}

static void
conn_start_http (Conn *c)
{
  char req[1024];
  unsigned char key[16];
  char key64[32];
  for (int i = 0; i < 16; i++)
    key[i] = random () & 0xff;
  gnutls_datum_t kd = { key, 16 }, enc;
  gnutls_base64_encode2 (&kd, &enc);
  snprintf (key64, sizeof key64, "%.*s", (int) enc.size, enc.data);
  gnutls_free (enc.data);
  char origin[256];
  if (opt.origin)
    snprintf (origin, sizeof origin, "%s", opt.origin);
  else
    snprintf (origin, sizeof origin, "%s://%s:%d", opt.tls ? "https" : "http", opt.host, opt.port);
  int n = snprintf (req, sizeof req,
                    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Protocol: %s\r\nOrigin: %s\r\n%s%s%s\r\n",
                    opt.path, opt.host, opt.port, key64, opt.protocol, origin,
                    opt.cookie ? "Cookie: " : "", opt.cookie ? opt.cookie : "", opt.cookie ? "\r\n" : "");
  buf_append (&c->out, req, n);
  c->st = ST_HTTP;
}

static void
conn_flush (Conn *c)
{
  while (c->st != ST_DEAD && (c->out.len > c->out.off || c->tls_pending))
    {
      ssize_t n;
      if (c->tls)
        {
          size_t len = c->tls_pending ? (size_t) c->tls_pending : c->out.len - c->out.off;
          if (len > 16384)
            len = 16384;
          n = gnutls_record_send (c->tls, c->out.p + c->out.off, len);
          if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            {
              c->tls_pending = len;
              break;
            }
          c->tls_pending = 0;
          if (n < 0)
            {
              conn_set_error (c, "TLS send: %s", gnutls_strerror (n));
              conn_kill (c);
              return;
            }
        }
      else
        {
          n = send (c->fd, c->out.p + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
          if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
          if (n < 0)
            {
              conn_set_error (c, "send: %s", strerror (errno));
              conn_kill (c);
              return;
            }
        }
      c->out.off += n;
      if (c->out.off == c->out.len)
        c->out.off = c->out.len = 0;
    }
  if (c->st != ST_DEAD)
    conn_update_events (c);
}

static void
conn_tls_step (Conn *c)
{
  int r = gnutls_handshake (c->tls);
  if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
    {
      conn_update_events (c);
      return;
    }
  if (r < 0)
    {
      conn_set_error (c, "TLS handshake: %s", gnutls_strerror (r));
      st.failed_handshakes++;
      conn_kill (c);
      return;
    }
  conn_start_http (c);
  conn_flush (c);
}

static void
conn_connected (Conn *c)
{
  int err = 0;
  socklen_t l = sizeof err;
  getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
  if (err)
    {
      conn_set_error (c, "connect: %s", strerror (err));
      conn_kill (c);
      return;
    }
  if (opt.tls)
    {
      int r = gnutls_init (&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
      if (r < 0)
        die ("gnutls_init: %s", gnutls_strerror (r));
      gnutls_set_default_priority (c->tls);
      gnutls_credentials_set (c->tls, GNUTLS_CRD_CERTIFICATE, xcred);
      gnutls_transport_set_int (c->tls, c->fd);
      c->st = ST_TLS;
      conn_tls_step (c);
    }
  else
    {
      conn_start_http (c);
      conn_flush (c);
    }
}

static void
conn_read (Conn *c)
{
  unsigned char tmp[65536];
  for (;;)
    {
      ssize_t n;
      if (c->tls)
        {
          n = gnutls_record_recv (c->tls, tmp, sizeof tmp);
          if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            break;
          if (n < 0)
            {
              conn_set_error (c, "TLS recv: %s", gnutls_strerror (n));
              conn_kill (c);
              return;
            }
        }
      else
        {
          n = recv (c->fd, tmp, sizeof tmp, 0);
          if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
          if (n < 0)
            {
              conn_set_error (c, "recv: %s", strerror (errno));
              conn_kill (c);
              return;
            }
        }
      if (n == 0)
        {
          conn_set_error (c, "server closed the connection");
          conn_kill (c);
          return;
        }
      buf_append (&c->in, tmp, n);
      if (c->st == ST_HTTP)
        {
          unsigned char *p = c->in.p + c->in.off;
          unsigned char *e = memmem (p, c->in.len - c->in.off, "\r\n\r\n", 4);
          if (!e)
            continue;
          if (memcmp (p, "HTTP/1.1 101", 12) != 0)
            {
              char *nl = memchr (p, '\r', e - p);
              conn_set_error (c, "upgrade refused: %.*s", (int) (nl ? nl - (char *) p : 40), p);
              conn_kill (c);
              return;
            }
          c->in.off += (e - p) + 4;
          c->st = ST_WS;
          st.connecting--;
          st.open++;
        }
      if (c->st == ST_WS && ws_parse (c) < 0)
        return;
      if (c->in.off == c->in.len)
        c->in.off = c->in.len = 0;
      if (!c->tls && (size_t) n < sizeof tmp)
        break;
    }
  conn_flush (c);
}

static void
conn_event (Conn *c, uint32_t events)
{
  if (c->st == ST_DEAD)
    return;
  if (c->st == ST_CONNECTING)
    {
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        conn_connected (c);
      return;
    }
  if (c->st == ST_TLS)
    {
      conn_tls_step (c);
      if (c->st != ST_HTTP)
        return;
    }
  if (events & EPOLLOUT)
    conn_flush (c);
  if (c->st != ST_DEAD && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
    conn_read (c);
}

static void
loop_once (int timeout_ms)
{
  struct epoll_event evs[256];
  int n = epoll_wait (epfd, evs, 256, timeout_ms);
  for (int i = 0; i < n; i++)
    conn_event (evs[i].data.ptr, evs[i].events);
}

/* Open `count` sockets with at most opt.concurrency handshakes in flight,
 * until all are ready or the deadline passes. */
static Conn **
open_sockets (int count, double deadline)
{
  Conn **cs = calloc (count, sizeof (Conn *));
  int started = 0;
  while (now () < deadline)
    {
      while (started < count && st.connecting + (st.open - st.ready) < opt.concurrency)
        cs[started++] = conn_new ();
      if (st.ready + st.dead >= count && started == count)
        break;
      loop_once (10);
    }
  for (int i = started; i < count; i++)
    {
      cs[i] = calloc (1, sizeof (Conn));
      cs[i]->st = ST_DEAD;
    }
  return cs;
}

static void
setup_payload (void)
{
  payload = malloc (opt.size + 1);
  for (size_t i = 0; i < opt.size; i++)
    payload[i] = 'a' + (i % 26);
  payload[opt.size] = 0;
}

/* ---- modes ------------------------------------------------------------ */

static int
mode_echo (void)
{
  setup_payload ();
  Conn **cs = open_sockets (opt.sockets, now () + 30);
  if (st.ready < opt.sockets)
    die ("only %d of %d sockets ready: %s", st.ready, opt.sockets, st.last_error);
  for (int i = 0; i < opt.sockets; i++)
    {
      for (int w = 0; w < opt.window; w++)
        conn_send_echo (cs[i]);
      conn_flush (cs[i]);
    }
  /* warm up briefly, then measure */
  double t_start = now () + 0.5, t_end = t_start + opt.seconds;
  while (now () < t_end)
    {
      if (!st.measuring && now () >= t_start)
        st.measuring = 1;
      struct epoll_event evs[256];
      int n = epoll_wait (epfd, evs, 256, 50);
      for (int i = 0; i < n; i++)
        {
          Conn *c = evs[i].data.ptr;
          long before = c->echoes;
          conn_event (c, evs[i].events);
          if (c->st == ST_DEAD)
            die ("socket died during the run: %s", st.last_error);
          for (long k = before; k < c->echoes; k++)
            conn_send_echo (c);
          conn_flush (c);
        }
    }
  double secs = now () - t_start;
  printf ("sockets: %d\nmessage_size: %zu\nwindow: %d\n", opt.sockets, opt.size, opt.window);
  printf ("echo_msgs_per_s: %.0f\n", st.echoes / secs);
  printf ("echo_MB_per_s: %.1f\n", st.echo_bytes / secs / 1e6);
  samples_print (&st.lat, "echo");
  return 0;
}

static int
mode_idle (void)
{
  opt.size = 16;
  setup_payload ();
  long rss0 = rss_pids_kib ();
  double t0 = now ();
  Conn **cs = open_sockets (opt.sockets, now () + opt.seconds);
  double t_open = now () - t0;
  int ready = st.ready;
  printf ("sockets_requested: %d\nsockets_ready: %d\nopen_seconds: %.2f\n", opt.sockets, ready, t_open);
  if (ready < opt.sockets)
    printf ("last_error: %s\n", st.last_error);
  /* let the server settle, then measure */
  double settle = now () + 1;
  while (now () < settle)
    loop_once (50);
  long rss1 = rss_pids_kib ();
  if (opt.pids)
    printf ("server_rss_kib: before %ld after %ld\nrss_per_socket_kib: %.1f\n",
            rss0, rss1, ready ? (double) (rss1 - rss0) / ready : 0.0);
  /* every ready socket answers an echo */
  int answered = 0, checks = 0;
  double hold_end = now () + opt.hold;
  do
    {
      for (int i = 0; i < opt.sockets; i++)
        if (cs[i]->ready)
          {
            cs[i]->checked = 0;
            cs[i]->echoes = 0;
            conn_send_echo (cs[i]);
            conn_flush (cs[i]);
          }
      double deadline = now () + 30;
      answered = 0;
      while (now () < deadline)
        {
          loop_once (20);
          answered = 0;
          for (int i = 0; i < opt.sockets; i++)
            if (cs[i]->ready && cs[i]->echoes > 0)
              answered++;
          if (answered >= st.ready)
            break;
        }
      checks++;
      printf ("check %d: %d of %d held sockets answered echo (%.2f s)\n", checks, answered, st.ready,
              now () - (deadline - 30));
      fflush (stdout);
      double next = now () + 5;
      while (now () < next && now () < hold_end)
        loop_once (50);
    }
  while (now () < hold_end);
  printf ("sockets_held: %d\nsockets_answering: %d\n", st.ready, answered);
  return (ready == opt.sockets && answered == opt.sockets) ? 0 : 1;
}

static int
mode_connect (void)
{
  /* full TLS handshake, then close; opt.concurrency in flight */
  long done = 0, failed = 0;
  double t_end = now () + opt.seconds;
  typedef struct { int fd; gnutls_session_t s; int connected; } H;
  H *hs = calloc (opt.concurrency, sizeof (H));
  int efd = epoll_create1 (EPOLL_CLOEXEC);
  Samples lat = { 0 };
  double *t0s = calloc (opt.concurrency, sizeof (double));
  for (int i = 0; i < opt.concurrency; i++)
    hs[i].fd = -1;
  double start = now ();
  while (now () < t_end)
    {
      for (int i = 0; i < opt.concurrency; i++)
        if (hs[i].fd < 0)
          {
            hs[i].fd = tcp_connect_nb ();
            if (hs[i].fd < 0)
              {
                failed++;
                continue;
              }
            hs[i].connected = 0;
            t0s[i] = now ();
            gnutls_init (&hs[i].s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
            gnutls_set_default_priority (hs[i].s);
            gnutls_credentials_set (hs[i].s, GNUTLS_CRD_CERTIFICATE, xcred);
            gnutls_transport_set_int (hs[i].s, hs[i].fd);
            struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = i };
            epoll_ctl (efd, EPOLL_CTL_ADD, hs[i].fd, &ev);
          }
      struct epoll_event evs[256];
      int n = epoll_wait (efd, evs, 256, 20);
      for (int k = 0; k < n; k++)
        {
          H *h = &hs[evs[k].data.u32];
          if (h->fd < 0)
            continue;
          int r = gnutls_handshake (h->s);
          if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            {
              struct epoll_event ev = { .events = gnutls_record_get_direction (h->s) ? EPOLLOUT : EPOLLIN,
                                        .data.u32 = evs[k].data.u32 };
              epoll_ctl (efd, EPOLL_CTL_MOD, h->fd, &ev);
              continue;
            }
          if (r < 0)
            {
              failed++;
              snprintf (st.last_error, sizeof st.last_error, "handshake: %s", gnutls_strerror (r));
            }
          else
            {
              done++;
              samples_add (&lat, now () - t0s[evs[k].data.u32]);
              gnutls_bye (h->s, GNUTLS_SHUT_WR);
            }
          epoll_ctl (efd, EPOLL_CTL_DEL, h->fd, NULL);
          gnutls_deinit (h->s);
          close (h->fd);
          h->fd = -1;
        }
    }
  double secs = now () - start;
  printf ("concurrency: %d\ntls_connections_per_s: %.0f\nfailed: %ld\n", opt.concurrency, done / secs, failed);
  if (failed)
    printf ("last_error: %s\n", st.last_error);
  samples_print (&lat, "handshake");
  return 0;
}

/* Blocking HTTPS (or HTTP) GET on a new connection, with a timeout.
 * Returns the status or -1; the SHA-256 of the server certificate in fpr. */
static int
http_get_once (const char *path, double timeout, unsigned char fpr[32], char *err, size_t errlen)
{
  double t_start = now ();
  int fd = tcp_connect_nb ();
  if (fd < 0)
    {
      snprintf (err, errlen, "socket: %s", strerror (errno));
      return -1;
    }
  struct pollfd pfd = { fd, POLLOUT, 0 };
  if (poll (&pfd, 1, (int) (timeout * 1000)) != 1)
    {
      snprintf (err, errlen, "connect timed out");
      close (fd);
      return -1;
    }
  int soerr = 0;
  socklen_t l = sizeof soerr;
  getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
  if (soerr)
    {
      snprintf (err, errlen, "connect: %s", strerror (soerr));
      close (fd);
      return -1;
    }
  int flags = fcntl (fd, F_GETFL);
  fcntl (fd, F_SETFL, flags & ~O_NONBLOCK);
  struct timeval tv = { (time_t) timeout, (suseconds_t) ((timeout - (time_t) timeout) * 1e6) };
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  gnutls_session_t s = NULL;
  int status = -1;
  if (opt.tls)
    {
      gnutls_init (&s, GNUTLS_CLIENT);
      gnutls_set_default_priority (s);
      gnutls_credentials_set (s, GNUTLS_CRD_CERTIFICATE, xcred);
      gnutls_transport_set_int (s, fd);
      gnutls_handshake_set_timeout (s, (unsigned) (timeout * 1000));
      int r;
      do
        r = gnutls_handshake (s);
      while (r < 0 && !gnutls_error_is_fatal (r));
      if (r < 0)
        {
          snprintf (err, errlen, "handshake: %s", gnutls_strerror (r));
          goto out;
        }
      unsigned int n = 0;
      const gnutls_datum_t *certs = gnutls_certificate_get_peers (s, &n);
      if (fpr && certs && n > 0)
        gnutls_hash_fast (GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, fpr);
    }
  char req[512];
  int rl = snprintf (req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
                     path, opt.host, opt.port);
  ssize_t w = s ? gnutls_record_send (s, req, rl) : send (fd, req, rl, MSG_NOSIGNAL);
  if (w != rl)
    {
      snprintf (err, errlen, "send failed");
      goto out;
    }
  char resp[4096];
  size_t got = 0;
  int retries = 0;
  for (;;)
    {
      ssize_t n = s ? gnutls_record_recv (s, resp + got, sizeof resp - 1 - got)
                    : recv (fd, resp + got, sizeof resp - 1 - got, 0);
      if (n == GNUTLS_E_PREMATURE_TERMINATION || n == 0)
        break;
      /* a TLS 1.3 session ticket was processed: read on (SO_RCVTIMEO bounds it) */
      if (s && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) && ++retries < 100 &&
          now () < t_start + timeout)
        continue;
      if (n < 0)
        {
          if (got > 12)
            break;
          snprintf (err, errlen, "recv: %s", s ? gnutls_strerror (n) : strerror (errno));
          goto out;
        }
      got += n;
      resp[got] = 0;
      if (strstr (resp, "\r\n\r\n") || got >= sizeof resp - 1)
        break;
    }
  resp[got] = 0;
  if (sscanf (resp, "HTTP/1.%*d %d", &status) != 1)
    {
      snprintf (err, errlen, "no HTTP status in %zu bytes", got);
      status = -1;
    }
out:
  if (s)
    gnutls_deinit (s);
  close (fd);
  return status;
}

typedef struct {
  volatile int stop;
  long ok, failed;
  Samples lat;
  unsigned char fprs[8][32];
  int n_fprs;
  char err[256];
  int concurrency;
  pthread_mutex_t lock;
} Probe;

static void *
probe_thread (void *data)
{
  Probe *p = data;
  while (!p->stop)
    {
      unsigned char fpr[32] = { 0 };
      char err[256] = "";
      double t0 = now ();
      int status = http_get_once (opt.http_path, 10, fpr, err, sizeof err);
      double dt = now () - t0;
      pthread_mutex_lock (&p->lock);
      if (status == 200)
        {
          p->ok++;
          samples_add (&p->lat, dt);
          int known = 0;
          for (int i = 0; i < p->n_fprs; i++)
            known |= memcmp (p->fprs[i], fpr, 32) == 0;
          if (!known && p->n_fprs < 8)
            memcpy (p->fprs[p->n_fprs++], fpr, 32);
        }
      else
        {
          p->failed++;
          if (status > 0)
            snprintf (p->err, sizeof p->err, "status %d", status);
          else
            snprintf (p->err, sizeof p->err, "%s", err);
        }
      pthread_mutex_unlock (&p->lock);
      if (p->concurrency == 1)
        usleep (50000);
    }
  return NULL;
}

static void
probe_report (Probe *p, const char *prefix)
{
  printf ("%s_requests_ok: %ld\n%s_requests_failed: %ld\n", prefix, p->ok, prefix, p->failed);
  if (p->failed)
    printf ("%s_last_error: %s\n", prefix, p->err);
  printf ("%s_distinct_certificates: %d\n", prefix, p->n_fprs);
  samples_print (&p->lat, prefix);
}

static int
mode_probe (void)
{
  Probe p = { .concurrency = opt.concurrency };
  pthread_mutex_init (&p.lock, NULL);
  pthread_t th[64];
  int n = opt.concurrency > 64 ? 64 : opt.concurrency;
  for (int i = 0; i < n; i++)
    pthread_create (&th[i], NULL, probe_thread, &p);
  double end = now () + opt.seconds;
  while (now () < end)
    usleep (20000);
  p.stop = 1;
  for (int i = 0; i < n; i++)
    pthread_join (th[i], NULL);
  probe_report (&p, "probe");
  return p.failed || p.ok == 0 ? 1 : 0;
}

static int
mode_slowloris (void)
{
  /* baseline */
  Probe base = { .concurrency = 1 };
  pthread_mutex_init (&base.lock, NULL);
  pthread_t th;
  pthread_create (&th, NULL, probe_thread, &base);
  double t = now () + 2;
  while (now () < t)
    usleep (20000);
  base.stop = 1;
  pthread_join (th, NULL);
  probe_report (&base, "baseline");

  Probe p = { .concurrency = 1 };
  pthread_mutex_init (&p.lock, NULL);
  pthread_create (&th, NULL, probe_thread, &p);
  /* slow clients: TCP connect, then the first 5 bytes of a TLS record
   * (or half an HTTP request line without TLS), then nothing */
  int efd = epoll_create1 (EPOLL_CLOEXEC);
  long opened = 0, dropped = 0, refused = 0;
  int open_now = 0, max_open = 0;
  double start = now (), end = start + opt.seconds;
  while (now () < end)
    {
      long due = (long) ((now () - start) * opt.rate);
      while (opened + refused < due)
        {
          int fd = tcp_connect_nb ();
          if (fd < 0)
            {
              refused++;
              continue;
            }
          struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.fd = fd };
          epoll_ctl (efd, EPOLL_CTL_ADD, fd, &ev);
          opened++;
          open_now++;
          if (open_now > max_open)
            max_open = open_now;
        }
      struct epoll_event evs[256];
      int n = epoll_wait (efd, evs, 256, 5);
      for (int i = 0; i < n; i++)
        {
          int fd = evs[i].data.fd;
          if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            {
              epoll_ctl (efd, EPOLL_CTL_DEL, fd, NULL);
              close (fd);
              dropped++;
              open_now--;
            }
          else if (evs[i].events & EPOLLOUT)
            {
              static const unsigned char tls_start[] = { 0x16, 0x03, 0x01, 0x02, 0x00 };
              static const char http_start[] = "GET /ping HT";
              if (opt.tls)
                send (fd, tls_start, sizeof tls_start, MSG_NOSIGNAL);
              else
                send (fd, http_start, sizeof http_start - 1, MSG_NOSIGNAL);
              struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
              epoll_ctl (efd, EPOLL_CTL_MOD, fd, &ev);
            }
        }
    }
  p.stop = 1;
  pthread_join (th, NULL);
  printf ("slow_clients_opened: %ld\nslow_clients_dropped_by_server: %ld\nslow_clients_max_open: %d\n"
          "slow_clients_connect_failed: %ld\n", opened, dropped, max_open, refused);
  probe_report (&p, "probe");
  double p99 = samples_pct (&p.lat, 99);
  int ok = p.failed == 0 && p.ok > 0 && p99 * 1e3 <= opt.max_latency_ms;
  printf ("result: %s (probe p99 %.1f ms, limit %.0f ms, %ld failed)\n", ok ? "ok" : "FAILED",
          p99 * 1e3, opt.max_latency_ms, p.failed);
  return ok ? 0 : 1;
}

/* Start argv (the server), poll a TCP connect to the port every 0.5 ms and
 * print the time until it accepts; then a full TLS handshake (or HTTP GET)
 * must succeed. The child is killed afterwards. */
static int
mode_startup (char **argv)
{
  double t0 = now ();
  pid_t pid = fork ();
  if (pid < 0)
    die ("fork: %s", strerror (errno));
  if (pid == 0)
    {
      int devnull = open ("/dev/null", O_WRONLY);
      dup2 (devnull, 1);
      dup2 (devnull, 2);
      execvp (argv[0], argv);
      _exit (127);
    }
  double t_listen = -1;
  while (now () - t0 < 10)
    {
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (opt.port) };
      inet_pton (AF_INET, opt.host, &sa.sin_addr);
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect (fd, (struct sockaddr *) &sa, sizeof sa) == 0)
        {
          close (fd);
          t_listen = now () - t0;
          break;
        }
      close (fd);
      usleep (500);
    }
  char err[256] = "";
  int status = t_listen >= 0 ? http_get_once (opt.http_path, 5, NULL, err, sizeof err) : -1;
  double t_served = now () - t0;
  kill (pid, SIGTERM);
  int ws;
  waitpid (pid, &ws, 0);
  if (t_listen < 0)
    {
      printf ("startup: not listening after 10 s\n");
      return 1;
    }
  printf ("startup_listen_ms: %.1f\nstartup_first_response_ms: %.1f (HTTP %d%s%s)\n",
          t_listen * 1e3, t_served * 1e3, status, err[0] ? ", " : "", err);
  return status > 0 ? 0 : 1;
}

/* ---- main ------------------------------------------------------------- */

static void
usage (void)
{
  fprintf (stderr,
           "usage: rc-bench MODE --port P [options]\n"
           "modes: echo idle connect slowloris probe startup\n"
           "  rc-bench startup --port P [--no-tls] -- SERVER ARGS...\n"
           "  --host ADDR (127.0.0.1)  --no-tls  --path /cockpit/socket  --origin O\n"
           "  --protocol cockpit1  --cookie 'name=value'\n"
           "  --size BYTES  --sockets N  --window W  --seconds S  --hold S\n"
           "  --concurrency C  --rate R  --pids PID[,PID]  --max-latency-ms MS\n"
           "  --http-path /ping\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  static const struct option longopts[] = {
    { "host", 1, 0, 'H' }, { "port", 1, 0, 'p' }, { "no-tls", 0, 0, 'T' },
    { "path", 1, 0, 'P' }, { "origin", 1, 0, 'o' }, { "protocol", 1, 0, 'r' },
    { "cookie", 1, 0, 'k' }, { "size", 1, 0, 's' }, { "sockets", 1, 0, 'n' },
    { "window", 1, 0, 'w' }, { "seconds", 1, 0, 't' }, { "hold", 1, 0, 'h' },
    { "concurrency", 1, 0, 'c' }, { "rate", 1, 0, 'R' }, { "pids", 1, 0, 'i' },
    { "max-latency-ms", 1, 0, 'm' }, { "http-path", 1, 0, 'g' }, { 0 },
  };
  if (argc < 2)
    usage ();
  const char *mode = argv[1];
  optind = 2;
  int ch;
  while ((ch = getopt_long (argc, argv, "", longopts, NULL)) != -1)
    switch (ch)
      {
      case 'H': opt.host = optarg; break;
      case 'p': opt.port = atoi (optarg); break;
      case 'T': opt.tls = 0; break;
      case 'P': opt.path = optarg; break;
      case 'o': opt.origin = optarg; break;
      case 'r': opt.protocol = optarg; break;
      case 'k': opt.cookie = optarg; break;
      case 's': opt.size = strtoul (optarg, NULL, 10); break;
      case 'n': opt.sockets = atoi (optarg); break;
      case 'w': opt.window = atoi (optarg); break;
      case 't': opt.seconds = atof (optarg); break;
      case 'h': opt.hold = atof (optarg); break;
      case 'c': opt.concurrency = atoi (optarg); break;
      case 'R': opt.rate = atof (optarg); break;
      case 'i': opt.pids = optarg; break;
      case 'm': opt.max_latency_ms = atof (optarg); break;
      case 'g': opt.http_path = optarg; break;
      default: usage ();
      }
  if (opt.port <= 0)
    usage ();
  if (opt.window < 1)
    opt.window = 1;
  if (opt.concurrency < 1)
    opt.concurrency = 1;

  signal (SIGPIPE, SIG_IGN);
  /* as many descriptors as the hard limit allows */
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  srandom (getpid () ^ (unsigned) time (NULL));
  int r = gnutls_global_init ();
  if (r < 0)
    die ("gnutls_global_init: %s", gnutls_strerror (r));
  r = gnutls_certificate_allocate_credentials (&xcred);
  if (r < 0)
    die ("gnutls_certificate_allocate_credentials: %s", gnutls_strerror (r));
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    die ("epoll_create1: %s", strerror (errno));
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (strcmp (mode, "echo") == 0)
    return mode_echo ();
  if (strcmp (mode, "idle") == 0)
    return mode_idle ();
  if (strcmp (mode, "connect") == 0)
    return mode_connect ();
  if (strcmp (mode, "slowloris") == 0)
    return mode_slowloris ();
  if (strcmp (mode, "probe") == 0)
    return mode_probe ();
  if (strcmp (mode, "startup") == 0)
    {
      if (optind >= argc)
        usage ();
      return mode_startup (argv + optind);
    }
  usage ();
  return 2;
}
