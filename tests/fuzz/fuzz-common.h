/* fuzz-common.h: helpers shared by the libFuzzer targets. */
#pragma once

#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The input as a file without touching the disk: a memfd, addressed as
 * /proc/self/fd/N. Returns the fd (close it after use) and the path. */
static inline int
fuzz_memfd (const uint8_t *data, size_t size, gchar **path)
{
  int fd = memfd_create ("fuzz-input", MFD_CLOEXEC);
  if (fd < 0)
    g_error ("memfd_create: %s", g_strerror (errno));
  size_t off = 0;
  while (off < size)
    {
      ssize_t n = write (fd, data + off, size - off);
      if (n <= 0)
        g_error ("write to memfd: %s", g_strerror (errno));
      off += n;
    }
  *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  return fd;
}

static inline GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      /* abort (SIGABRT, which libFuzzer reports with the input), not glib's
       * G_BREAKPOINT (SIGTRAP, which it does not) */
      g_log_writer_default (level, fields, n_fields, user_data);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

/* Quiet the warnings that bad input is expected to cause; criticals (our
 * own bugs) stay fatal so the fuzzer reports them. */
static inline void
fuzz_quiet_logs (void)
{
  static gboolean done;
  if (done)
    return;
  done = TRUE;
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}
