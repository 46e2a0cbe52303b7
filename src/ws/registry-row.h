/* registry-row.h: the rows the registry channels send, as JSON text: one
 * object per line (NDJSON), always valid UTF-8 whatever the registry sent.
 * Pure functions, exported for tests and fuzzing. The shapes are the
 * protocol (doc/architecture.md, "Registry channels"); members whose value
 * is unknown are left out, never sent as empty strings.
 *
 *   {"type":"names","names":[…]}               tag or repository names
 *   {"type":"tag","tag":…,"digest":…,…}        one resolved tag
 *   {"type":"error","error":…[,"status":N]}    a part of the walk failed
 *
 * Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>
#include "ws/registry-image.h"

G_BEGIN_DECLS

/* One platform of an index, resolved as far as it went. */
typedef struct {
  const RegistryPlatform *platform;   /* points into the index's manifest */
  RegistryManifest *manifest;         /* may be NULL (then error says why) */
  RegistryConfig *config;             /* may be NULL */
  gchar *error;                       /* may be NULL */
} RegistryPlatformResult;

/* One tag, resolved as far as it went. */
typedef struct {
  gchar *repository;            /* search results: where; else NULL */
  gchar *tag;
  gchar *digest;                /* NULL when not even the digest is known */
  RegistryManifest *manifest;   /* may be NULL */
  RegistryConfig *config;       /* may be NULL */
  GArray *platforms;            /* of RegistryPlatformResult, indexes only; may be NULL */
  gchar *error;                 /* the tag failed: why; may be NULL */
  gchar *warning;               /* something on the way failed (the config, …); may be NULL */
  guint status;                 /* the registry's HTTP status when it failed, else 0 */
  const gchar *match;           /* search: what matched ("tag", "manifest", "platform",
                                 * "config", "layer"), static; else NULL */
} RegistryTagResult;

RegistryTagResult *registry_tag_result_new (const gchar *tag);
void registry_tag_result_free (RegistryTagResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryTagResult, registry_tag_result_free)
/* Give RESULT (whose manifest is an index) one empty platform result per
 * platform of that index, to be filled in (manifest, config, error). */
void registry_tag_result_init_platforms (RegistryTagResult *result);
RegistryPlatformResult *registry_tag_result_get_platform (RegistryTagResult *result, guint i);

/* Append the row of RESULT: {"type":"tag", …} and "\n". WITH_BLOBS adds
 * "blobs": the digests of its config and layers (of every platform for an
 * index), and "blobSizes": their sizes in the same order, for sizes with
 * shared layers counted once. */
void registry_row_append_tag (GString *out, const RegistryTagResult *result, gboolean with_blobs);

/* Append {"type":"names","names":[…]} and "\n" for N names (invalid UTF-8
 * becomes U+FFFD). */
void registry_row_append_names (GString *out, const gchar *const *names, guint n);

/* Append {"type":"error","error":MESSAGE[,"status":STATUS]} and "\n". */
void registry_row_append_error (GString *out, const gchar *message, guint status);

G_END_DECLS
