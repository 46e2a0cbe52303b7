/* openshift-image.h: what the openshift-images channel keeps of an
 * OpenShift Image object (image.openshift.io/v1, named by its manifest
 * digest): media type, created, size, layers, platform, an index's
 * platforms. A pure parser into an immutable, reference-counted summary
 * charged what it costs (registry-cache.h), and the row of a tag made
 * from it (the members of a registry-tags row, doc/architecture.md,
 * "Registry channels"). Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OPENSHIFT_IMAGE_ERROR (openshift_image_error_quark ())
GQuark openshift_image_error_quark (void);
typedef enum {
  OPENSHIFT_IMAGE_ERROR_INVALID,   /* not an Image object */
} OpenshiftImageError;

typedef struct {
  gchar *digest;
  gchar *os;
  gchar *architecture;
  gchar *variant;
} OpenshiftPlatform;

typedef struct {
  gint refs;
  gsize charge;
  gchar *name;              /* the digest */
  gchar *media_type;
  gchar *created;           /* dockerImageMetadata.Created, may be NULL */
  gint64 size;              /* dockerImageMetadata.Size, -1 when unknown */
  gint n_layers;            /* -1 when unknown */
  gchar *os;
  gchar *architecture;
  guint n_platforms;
  OpenshiftPlatform *platforms;
} OpenshiftImage;

/* Parse an Image object (transfer full), or NULL with ERROR. */
OpenshiftImage *openshift_image_parse (const gchar *data, gsize len, GError **error);
OpenshiftImage *openshift_image_ref (OpenshiftImage *image);
void openshift_image_unref (OpenshiftImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpenshiftImage, openshift_image_unref)

/* Append {"type":"tag","tag":TAG,"digest",…} and "\n" for IMAGE (may be
 * NULL: then only the tag, DIGEST, and ERROR/STATUS when given). */
void openshift_image_append_row (GString *out, const gchar *tag, const gchar *digest,
                                 const OpenshiftImage *image, const gchar *error, guint status);

G_END_DECLS
