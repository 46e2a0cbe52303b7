/* static-files.h: the UI's files (the static directory), read once and
 * kept in memory: a content-hash ETag, a gzip copy of text types, the
 * Content-Type. Every lookup re-validates the file (inode, size, mtime), so
 * a changed file is served fresh. A request path never leaves the directory:
 * openat2(RESOLVE_BENEATH) lets the kernel refuse any way out in one call
 * (realpath decides where the kernel cannot). Log domain: cockpit-ws. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GBytes *data;
  GBytes *gz;                 /* NULL when not worth it */
  const gchar *etag;          /* "\"…\"" */
  const gchar *content_type;
} StaticFile;

void static_files_init (const gchar *dir);
void static_files_shutdown (void);

/* The file for a request PATH ("/index.html"; already %-decoded once by
 * lws; anything still suspicious is refused), or NULL (transfer none: valid
 * until the next lookup). */
const StaticFile *static_files_lookup (const gchar *path);

G_END_DECLS
