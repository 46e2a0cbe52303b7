/* openshift-image.c: see openshift-image.h. */
#include "config.h"

#include "ws/openshift-image.h"
#include "ws/registry-api.h"
#include "ws/registry-image.h"
#include "common/rcjson.h"

#include <string.h>

G_DEFINE_QUARK (openshift-image-error-quark, openshift_image_error)

#define MAX_PLATFORMS 512
#define MAX_FIELD 256

static gchar *
field (JsonObject *o, const gchar *name)
{
  const gchar *v = NULL;
  if (!o || !rc_json_get_string (o, name, NULL, &v) || !v || !v[0] || strlen (v) > MAX_FIELD)
    return NULL;
  return g_strdup (v);
}

static void
image_read_platforms (OpenshiftImage *img, JsonObject *root)
{
  JsonArray *manifests = NULL;
  if (!rc_json_get_array (root, "dockerImageManifests", NULL, &manifests) || !manifests)
    return;
  guint n = MIN (json_array_get_length (manifests), MAX_PLATFORMS);
  img->platforms = g_new0 (OpenshiftPlatform, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (manifests, i);
      JsonObject *m = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      g_autofree gchar *digest = field (m, "digest");
      if (!registry_digest_valid (digest))
        continue;
      OpenshiftPlatform *p = &img->platforms[img->n_platforms++];
      p->digest = g_steal_pointer (&digest);
      p->os = field (m, "os");
      p->architecture = field (m, "architecture");
      p->variant = field (m, "variant");
    }
}

static gsize
image_charge (const OpenshiftImage *img)
{
  gsize c = 64 + sizeof *img + registry_charge_string (img->name) + registry_charge_string (img->media_type) +
            registry_charge_string (img->created) + registry_charge_string (img->os) +
            registry_charge_string (img->architecture);
  if (img->platforms)
    c += 32 + sizeof (OpenshiftPlatform) * MAX (img->n_platforms, 1);
  for (guint i = 0; i < img->n_platforms; i++)
    c += registry_charge_string (img->platforms[i].digest) + registry_charge_string (img->platforms[i].os) +
         registry_charge_string (img->platforms[i].architecture) +
         registry_charge_string (img->platforms[i].variant);
  return c;
}

OpenshiftImage *
openshift_image_parse (const gchar *data, gsize len, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonObject) root = registry_json_parse_lenient (data, len, NULL, &local);
  JsonObject *meta = root ? rc_json_object_at (root, "metadata") : NULL;
  g_autofree gchar *name = field (meta, "name");
  if (!root || !registry_digest_valid (name))
    {
      g_set_error (error, OPENSHIFT_IMAGE_ERROR, OPENSHIFT_IMAGE_ERROR_INVALID,
                   "not an Image object%s%s", local ? ": " : "", local ? local->message : "");
      return NULL;
    }
  OpenshiftImage *img = g_new0 (OpenshiftImage, 1);
  img->refs = 1;
  img->name = g_steal_pointer (&name);
  img->media_type = field (root, "dockerImageManifestMediaType");
  JsonObject *docker = rc_json_object_at (root, "dockerImageMetadata");
  img->created = field (docker, "Created");
  img->os = field (docker, "Os");
  img->architecture = field (docker, "Architecture");
  if (!docker || !rc_json_get_int (docker, "Size", -1, &img->size) || img->size < 0)
    img->size = -1;
  JsonArray *layers = NULL;
  img->n_layers = rc_json_get_array (root, "dockerImageLayers", NULL, &layers) && layers
                  ? (gint) json_array_get_length (layers) : -1;
  image_read_platforms (img, root);
  img->charge = image_charge (img);
  return img;
}

OpenshiftImage *
openshift_image_ref (OpenshiftImage *img)
{
  img->refs++;
  return img;
}

void
openshift_image_unref (OpenshiftImage *img)
{
  if (!img || --img->refs > 0)
    return;
  for (guint i = 0; i < img->n_platforms; i++)
    {
      g_free (img->platforms[i].digest);
      g_free (img->platforms[i].os);
      g_free (img->platforms[i].architecture);
      g_free (img->platforms[i].variant);
    }
  g_free (img->platforms);
  g_free (img->name);
  g_free (img->media_type);
  g_free (img->created);
  g_free (img->os);
  g_free (img->architecture);
  g_free (img);
}

static void
member (GString *out, const gchar *name, const gchar *value)
{
  if (!value)
    return;
  g_string_append_printf (out, ",\"%s\":", name);
  registry_json_append_string (out, value);
}

void
openshift_image_append_row (GString *out, const gchar *tag, const gchar *digest,
                            const OpenshiftImage *img, const gchar *error, guint status)
{
  g_string_append (out, "{\"type\":\"tag\"");
  member (out, "tag", tag);
  member (out, "digest", digest);
  if (img)
    {
      member (out, "mediaType", img->media_type);
      member (out, "created", img->created);
      /* an index's Size is 0 in OpenShift: unknown, not empty */
      if (img->size > 0 || (img->size == 0 && !img->n_platforms))
        g_string_append_printf (out, ",\"size\":%" G_GINT64_FORMAT, img->size);
      if (img->n_layers >= 0 && !img->n_platforms)
        g_string_append_printf (out, ",\"layers\":%d", img->n_layers);
      member (out, "os", img->os);
      member (out, "architecture", img->architecture);
      if (img->n_platforms)
        {
          g_string_append (out, ",\"platforms\":[");
          for (guint i = 0; i < img->n_platforms; i++)
            {
              g_string_append (out, i ? ",{\"digest\":" : "{\"digest\":");
              registry_json_append_string (out, img->platforms[i].digest);
              member (out, "os", img->platforms[i].os);
              member (out, "architecture", img->platforms[i].architecture);
              member (out, "variant", img->platforms[i].variant);
              g_string_append_c (out, '}');
            }
          g_string_append_c (out, ']');
        }
    }
  member (out, "error", error);
  if (status)
    g_string_append_printf (out, ",\"status\":%u", status);
  g_string_append (out, "}\n");
}
