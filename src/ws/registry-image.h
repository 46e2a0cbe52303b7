/* registry-image.h: what the registry channels keep of an image: a manifest
 * (image or index) and a config blob, parsed into small immutable,
 * reference-counted summaries, and the JSON row of one tag made from them.
 * Pure functions (json-glib only), exported for tests and fuzzing.
 * Log domain: cockpit-wrapper.
 *
 * A summary is derived from content addressed by its digest, so it never
 * changes and may be cached and shared (registry-cache.h). Each knows what
 * it costs in memory (`charge`: the structure, every string, allocator
 * overhead), which is what the cache counts.
 *
 * Parsing never fails on odd content: what cannot be used becomes a
 * `problem` text in the summary (shown in the row), and only input that is
 * not a JSON object at all is an error. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define REGISTRY_IMAGE_ERROR (registry_image_error_quark ())
GQuark registry_image_error_quark (void);
typedef enum {
  REGISTRY_IMAGE_ERROR_NOT_JSON,      /* not a JSON object */
  REGISTRY_IMAGE_ERROR_UNSUPPORTED,   /* schema 1 or an unknown media type */
} RegistryImageError;

typedef struct {
  gchar *digest;
  gint64 size;
} RegistryBlob;

typedef struct {
  gchar *digest;             /* the platform's manifest */
  gint64 size;               /* the size of that manifest (from the index) */
  gchar *os;
  gchar *architecture;
  gchar *variant;            /* may be NULL */
} RegistryPlatform;

typedef struct {
  gint refs;
  gsize charge;
  const gchar *media_type;   /* static for known types, else owned */
  gboolean media_type_owned;
  gboolean is_index;
  RegistryBlob config;       /* image: digest and size; index: NULL, 0 */
  guint n_layers;
  RegistryBlob *layers;
  guint n_platforms;
  RegistryPlatform *platforms;
  gchar *problem;            /* what was odd (a layer without size, …); may be NULL */
} RegistryManifest;

typedef struct {
  gint refs;
  gsize charge;
  gchar *created;            /* RFC 3339 as the image says it; NULL when missing */
  gchar *os;
  gchar *architecture;
  gchar *variant;
  gchar *problem;            /* "config has no \"created\"", …; may be NULL */
} RegistryConfig;

/* Parse a manifest body. CONTENT_TYPE (the response's, may be NULL) is used
 * when the body has no mediaType. Returns (transfer full) the summary, or
 * NULL with ERROR. */
RegistryManifest *registry_manifest_parse (const gchar *data, gsize len, const gchar *content_type,
                                           GError **error);
RegistryManifest *registry_manifest_ref (RegistryManifest *manifest);
void registry_manifest_unref (RegistryManifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryManifest, registry_manifest_unref)
/* Config + layers, compressed, as the manifest states them (at most
 * REGISTRY_SIZE_MAX). */
gint64 registry_manifest_image_size (const RegistryManifest *manifest);

/* The largest size taken from a manifest: the browser reads JSON numbers as
 * doubles, exact up to 2^53. A descriptor's size above it is refused like
 * a missing one (a problem of the manifest, counted 0); sums stop at it. */
#define REGISTRY_SIZE_MAX (G_GINT64_CONSTANT (1) << 53)
/* A + B, each taken as 0..REGISTRY_SIZE_MAX, at most REGISTRY_SIZE_MAX
 * (never a signed overflow). */
gint64 registry_size_add (gint64 a, gint64 b);

/* Parse a config blob; a config that is a JSON object always gives a
 * summary (missing or malformed fields become `problem`). */
RegistryConfig *registry_config_parse (const gchar *data, gsize len, GError **error);
RegistryConfig *registry_config_ref (RegistryConfig *config);
void registry_config_unref (RegistryConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryConfig, registry_config_unref)

/* What a string costs on the heap (allocator overhead included). */
gsize registry_charge_string (const gchar *s);

G_END_DECLS
