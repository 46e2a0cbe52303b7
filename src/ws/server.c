/* server.c: listener and connection start-up.
 *
 * With TLS on, each accepted connection waits for its first byte: 0x16 is a
 * TLS handshake (tls.c); anything else is plain HTTP on the TLS port, handed
 * to lws marked so that only /ping is answered and the rest is redirected
 * to https (the OpenShift template's probes use scheme HTTP on 9090). */
#include "config.h"

#include "common/rcconfig.h"
#include "ws/server.h"
#include "ws/tls.h"
#include "ws/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <glib-unix.h>

G_DEFINE_QUARK (server-error-quark, server_error)

#define SD_LISTEN_FDS_START 3

static int listen_fd = -1;
static int spare_fd = -1;     /* released to accept-and-close when out of descriptors */
static guint listen_watch;
static guint16 bound_port;
static gboolean use_tls;
static guint max_startups;
static guint startups;
static guint handshake_timeout_ms = 10000;

typedef struct {
  int fd;
  gchar *peer;
  guint watch;
  guint timeout;
  gint64 started;
  GList *link;
} Pending;

/* accepted, first byte not seen yet; oldest first */
static GQueue pending = G_QUEUE_INIT;

static gchar *
peer_name (const struct sockaddr *sa, socklen_t len)
{
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (getnameinfo (sa, len, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return g_strdup ("unknown peer");
  if (sa->sa_family == AF_INET6)
    return g_strdup_printf ("[%s]:%s", host, port);
  return g_strdup_printf ("%s:%s", host, port);
}

static void
startup_done (gpointer unused)
{
  if (startups > 0)
    startups--;
}

static void
pending_free (Pending *p)
{
  if (p->link)
    g_queue_delete_link (&pending, p->link);
  if (p->watch)
    g_source_remove (p->watch);
  if (p->timeout)
    g_source_remove (p->timeout);
  g_free (p->peer);
  g_free (p);
}

static gboolean
on_pending_timeout (gpointer data)
{
  Pending *p = data;
  p->timeout = 0;
  g_debug ("%s: no data within the handshake timeout, closing", p->peer);
  close (p->fd);
  startup_done (NULL);
  pending_free (p);
  return G_SOURCE_REMOVE;
}

static gboolean
on_first_byte (gint fd, GIOCondition cond, gpointer data)
{
  Pending *p = data;
  unsigned char byte;
  ssize_t n = recv (fd, &byte, 1, MSG_PEEK);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  p->watch = 0;
  if (n <= 0)
    {
      g_debug ("%s: closed before sending anything", p->peer);
      close (fd);
      startup_done (NULL);
    }
  else if (byte == 0x16)
    {
      guint remaining = handshake_timeout_ms;
      tls_connection_start (fd, p->peer, remaining, startup_done, NULL);
    }
  else
    {
      g_debug ("%s: plain HTTP on the TLS port", p->peer);
      startup_done (NULL);
      http_adopt_fd (fd, FALSE, TRUE, p->peer);   /* closes fd on failure */
    }
  pending_free (p);
  return G_SOURCE_REMOVE;
}

static gboolean
on_accept (gint fd, GIOCondition cond, gpointer data)
{
  for (int i = 0; i < 64; i++)
    {
      struct sockaddr_storage addr;
      socklen_t len = sizeof addr;
      g_autofree gchar *peer = NULL;
      int one = 1;
      int client = accept4 (fd, (struct sockaddr *) &addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (client < 0)
        {
          if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0)
            {
              /* Out of descriptors: rather than leave the client hanging in
               * the backlog (and this callback spinning), accept and close it. */
              close (spare_fd);
              client = accept4 (fd, NULL, NULL, SOCK_CLOEXEC);
              if (client >= 0)
                close (client);
              spare_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
              g_message ("out of file descriptors: connection refused");
              continue;
            }
          if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            g_warning ("accept: %s", g_strerror (errno));
          break;
        }
      setsockopt (client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      peer = peer_name ((struct sockaddr *) &addr, len);

      if (use_tls && startups >= max_startups)
        {
          /* Make room by dropping the oldest connection that has not finished
           * starting up: a real client completes its handshake in
           * milliseconds, so slow or stalled ones (slowloris) go first. */
          Pending *oldest = g_queue_peek_head (&pending);
          if (oldest && oldest->started <= tls_oldest_handshake ())
            {
              g_debug ("%s: dropped: sent nothing while others wait (MaxStartups)", oldest->peer);
              close (oldest->fd);
              startup_done (NULL);
              pending_free (oldest);
            }
          else
            {
              tls_drop_oldest_handshake ();
            }
        }
      if (startups >= max_startups)
        {
          g_message ("%s: refused: %u connections are starting up (MaxStartups)", peer, startups);
          close (client);
          continue;
        }
      g_debug ("%s: connection accepted", peer);

      if (!use_tls)
        {
          http_adopt_fd (client, FALSE, FALSE, peer);   /* closes client on failure */
          continue;
        }

      startups++;
      Pending *p = g_new0 (Pending, 1);
      p->fd = client;
      p->peer = g_steal_pointer (&peer);
      p->watch = g_unix_fd_add (client, G_IO_IN | G_IO_HUP | G_IO_ERR, on_first_byte, p);
      p->timeout = g_timeout_add (handshake_timeout_ms, on_pending_timeout, p);
      p->started = g_get_monotonic_time ();
      g_queue_push_tail (&pending, p);
      p->link = pending.tail;
    }
  return G_SOURCE_CONTINUE;
}

static int
inherited_socket (void)
{
  const gchar *pid = g_getenv ("LISTEN_PID");
  const gchar *fds = g_getenv ("LISTEN_FDS");
  if (!pid || !fds || atol (pid) != (long) getpid () || atoi (fds) < 1)
    return -1;
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("LISTEN_FDNAMES");
  fcntl (SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
  return SD_LISTEN_FDS_START;
}

static int
bind_listener (const Config *cfg, GError **error)
{
  struct addrinfo hints = { 0 }, *res = NULL, *ai;
  g_autofree gchar *service = g_strdup_printf ("%u", cfg->port);
  int err, fd = -1, saved = 0;

  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  err = getaddrinfo (cfg->address && cfg->address[0] ? cfg->address : NULL, service, &hints, &res);
  if (err != 0)
    {
      g_set_error (error, SERVER_ERROR, SERVER_ERROR_ADDRESS, "cannot listen on %s port %u: %s",
                   cfg->address ? cfg->address : "", cfg->port, gai_strerror (err));
      return -1;
    }
  /* prefer IPv6 dual-stack for the wildcard address */
  for (int pass = 0; pass < 2 && fd < 0; pass++)
    {
      for (ai = res; ai; ai = ai->ai_next)
        {
          int one = 1, zero = 0;
          if ((pass == 0) != (ai->ai_family == AF_INET6) && !(cfg->address && cfg->address[0]))
            continue;
          fd = socket (ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
          if (fd < 0)
            {
              saved = errno;
              continue;
            }
          setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
          if (ai->ai_family == AF_INET6 && !(cfg->address && cfg->address[0]))
            setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
          if (bind (fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen (fd, 1024) == 0)
            break;
          saved = errno;
          close (fd);
          fd = -1;
          if (saved == EADDRINUSE)
            break;
        }
      if (saved == EADDRINUSE)
        break;
    }
  freeaddrinfo (res);
  if (fd < 0)
    g_set_error (error, SERVER_ERROR, SERVER_ERROR_LISTEN, "cannot listen on port %u: %s", cfg->port, g_strerror (saved));
  return fd;
}

gboolean
server_start (const Config *cfg, GError **error)
{
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  const gchar *t = g_getenv ("RC_HANDSHAKE_TIMEOUT_MS");

  use_tls = !cfg->no_tls;
  max_startups = cfg->max_startups ? cfg->max_startups : 200;
  if (t && atoi (t) > 0)
    handshake_timeout_ms = atoi (t);

  listen_fd = inherited_socket ();
  if (listen_fd >= 0)
    {
      int flags = fcntl (listen_fd, F_GETFL);
      fcntl (listen_fd, F_SETFL, flags | O_NONBLOCK);
      g_message ("using the listening socket from systemd");
    }
  else
    {
      listen_fd = bind_listener (cfg, error);
      if (listen_fd < 0)
        return FALSE;
    }
  if (getsockname (listen_fd, (struct sockaddr *) &addr, &len) == 0)
    bound_port = ntohs (addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &addr)->sin6_port
                                                   : ((struct sockaddr_in *) &addr)->sin_port);
  spare_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  listen_watch = g_unix_fd_add (listen_fd, G_IO_IN, on_accept, NULL);
  g_message ("listening on %s port %u (%s)", cfg->address ? cfg->address : "all addresses",
             bound_port, use_tls ? "https, and http for /ping" : "http");
  return TRUE;
}

void
server_stop (void)
{
  if (listen_watch)
    g_source_remove (listen_watch);
  listen_watch = 0;
  if (listen_fd >= 0)
    close (listen_fd);
  listen_fd = -1;
}
