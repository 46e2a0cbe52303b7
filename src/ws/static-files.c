/* static-files.c: the UI's files from the static directory, cached in
 * memory with a content-hash ETag and a gzip copy of text. See
 * static-files.h. */
#include "config.h"

#include "ws/static-files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif
#include <gio/gio.h>
#include <gio/gunixinputstream.h>

static GHashTable *cache;          /* file path → CacheEntry */
static gchar *static_root;         /* realpath of the static dir */
static int static_root_fd = -1;

/* A cached file: the public part (StaticFile) and what validates it. */
typedef struct {
  StaticFile file;
  gint64 mtime;
  goffset size;
  ino_t ino;
} CacheEntry;

static const gchar *
mime_type (const gchar *path)
{
  static const struct { const gchar *ext, *type; } types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".woff2", "font/woff2" },
    { ".woff", "font/woff" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".map", "application/json" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_has_suffix (path, types[i].ext))
      return types[i].type;
  return "application/octet-stream";
}

static GBytes *
gzip_bytes (GBytes *data)
{
  g_autoptr(GZlibCompressor) comp = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (comp));
  gsize len, written;
  gconstpointer bytes = g_bytes_get_data (data, &len);

  if (!g_output_stream_write_all (out, bytes, len, &written, NULL, NULL) ||
      !g_output_stream_close (out, NULL, NULL))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

static void
cache_entry_free (gpointer data)
{
  CacheEntry *e = data;
  g_bytes_unref (e->file.data);
  if (e->file.gz)
    g_bytes_unref (e->file.gz);
  g_free ((gchar *) e->file.etag);
  g_free (e);
}

/* Open a request path to a regular file inside the static root; sets *key
 * to the file's path (the cache key) and *st. Returns the descriptor, or -1.
 * openat2 with RESOLVE_BENEATH lets the kernel refuse any way out (`..`,
 * absolute or outward symlinks) in one call, with no window between check
 * and open. Where it refuses (EXDEV, which includes an absolute symlink that
 * stays inside) or does not exist (ENOSYS), realpath decides. */
static int
static_open (const gchar *path, gchar **key, struct stat *st)
{
  g_autofree gchar *joined = NULL;
  g_autofree gchar *real = NULL;
  gsize rootlen;
  int fd = -1;

  *key = NULL;
  if (!static_root || path[0] != '/')
    return -1;
  /* lws has already decoded %XX once; anything still suspicious is refused */
  if (strstr (path, "..") || strchr (path, '\\') || strstr (path, "//") || strchr (path, '%'))
    return -1;
  for (const gchar *p = path; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return -1;
  joined = g_build_filename (static_root, path + 1, NULL);

#ifdef SYS_openat2
  if (static_root_fd >= 0)
    {
      struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
      };
      fd = syscall (SYS_openat2, static_root_fd, path + 1, &how, sizeof how);
      if (fd < 0 && errno != EXDEV && errno != ENOSYS)
        return -1;
    }
#endif
  if (fd >= 0)
    {
      *key = g_steal_pointer (&joined);
    }
  else
    {
      real = realpath (joined, NULL);
      if (!real)
        return -1;
      rootlen = strlen (static_root);
      if (strncmp (real, static_root, rootlen) != 0 || real[rootlen] != '/')
        return -1;                    /* a symlink out of the tree */
      fd = open (real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
      if (fd < 0)
        return -1;
      *key = g_steal_pointer (&real);
    }
  if (fstat (fd, st) < 0 || !S_ISREG (st->st_mode))
    {
      close (fd);
      g_clear_pointer (key, g_free);
      return -1;
    }
  return fd;
}

/* The cached entry for a request path (validated against the file's inode,
 * size and mtime on every request), or NULL. */
const StaticFile *
static_files_lookup (const gchar *path)
{
  struct stat st;
  CacheEntry *e;
  g_autofree gchar *file = NULL;
  g_autofree gchar *contents = NULL;
  gsize len = 0;
  g_autofree gchar *sum = NULL;
  g_autoptr(GInputStream) in = NULL;
  int fd = static_open (path, &file, &st);

  if (fd < 0)
    return NULL;
  e = g_hash_table_lookup (cache, file);
  if (e && e->mtime == st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec &&
      e->size == st.st_size && e->ino == st.st_ino)
    {
      close (fd);
      return &e->file;
    }
  /* read what was opened (not the path again: no window to swap the file) */
  contents = g_malloc (st.st_size + 1);
  in = g_unix_input_stream_new (fd, TRUE);
  if (!g_input_stream_read_all (in, contents, st.st_size, &len, NULL, NULL) || len != (gsize) st.st_size)
    return NULL;        /* changed under us: the next request tries again */

  e = g_new0 (CacheEntry, 1);
  e->file.data = g_bytes_new_take (g_steal_pointer (&contents), len);
  e->mtime = st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
  e->size = st.st_size;
  e->ino = st.st_ino;
  e->file.content_type = mime_type (file);
  sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, e->file.data);
  e->file.etag = g_strdup_printf ("\"%.32s\"", sum);
  if (len > 256 && (g_str_has_prefix (e->file.content_type, "text/") ||
                    g_str_has_prefix (e->file.content_type, "application/json") ||
                    g_str_has_prefix (e->file.content_type, "image/svg")))
    {
      GBytes *gz = gzip_bytes (e->file.data);
      if (gz && g_bytes_get_size (gz) < len)
        e->file.gz = gz;
      else if (gz)
        g_bytes_unref (gz);
    }
  g_hash_table_replace (cache, g_strdup (file), e);
  return &e->file;
}


void
static_files_init (const gchar *dir)
{
  g_autofree gchar *real = dir ? realpath (dir, NULL) : NULL;
  if (!real)
    g_warning ("static directory %s: %s", dir ? dir : "(none)", g_strerror (errno));
  cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cache_entry_free);
  static_root = g_steal_pointer (&real);
  if (static_root)
    static_root_fd = open (static_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

void
static_files_shutdown (void)
{
  g_clear_pointer (&cache, g_hash_table_unref);
  g_clear_pointer (&static_root, g_free);
  if (static_root_fd >= 0)
    close (static_root_fd);
  static_root_fd = -1;
}
