/* registry-image.c: see registry-image.h. */
#include "config.h"

#include "ws/registry-image.h"
#include "ws/registry-api.h"
#include "common/rcjson.h"

#include <string.h>

G_DEFINE_QUARK (registry-image-error-quark, registry_image_error)

/* Bounds on one summary, whatever the registry sends (a manifest is at
 * most 4 MiB, but 4 MiB of layers would still be a lot of structure). */
#define MAX_LAYERS 4096
#define MAX_PLATFORMS 512
#define MAX_FIELD 256           /* os, architecture, variant, created */

/* Allocator cost of one block of N bytes: glibc's 8-byte header, rounded
 * to 16, at least 32. */
static gsize
charge_block (gsize n)
{
  gsize total = (n + 8 + 15) & ~(gsize) 15;
  return MAX (total, 32);
}

gsize
registry_charge_string (const gchar *s)
{
  return s ? charge_block (strlen (s) + 1) : 0;
}

static const gchar *const known_types[] = {
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  NULL
};

static void
add_problem (gchar **problem, const gchar *text)
{
  if (!*problem)
    *problem = g_strdup (text);
  else if (!strstr (*problem, text) && strlen (*problem) < 1024)
    {
      gchar *joined = g_strconcat (*problem, "; ", text, NULL);
      g_free (*problem);
      *problem = joined;
    }
}

/* A short string field: NULL when absent, not a string, empty or long. */
static gchar *
short_field (JsonObject *object, const gchar *name)
{
  const gchar *v = NULL;
  if (!object || !rc_json_get_string (object, name, NULL, &v) || !v || !v[0] || strlen (v) > MAX_FIELD)
    return NULL;
  return g_strdup (v);
}

/* ------------------------------------------------------------- manifests */

static void
manifest_set_media_type (RegistryManifest *m, const gchar *type)
{
  for (guint i = 0; known_types[i]; i++)
    if (g_strcmp0 (type, known_types[i]) == 0)
      {
        m->media_type = known_types[i];
        return;
      }
  if (type && type[0] && strlen (type) <= MAX_FIELD)
    {
      m->media_type = g_strdup (type);
      m->media_type_owned = TRUE;
    }
  else
    m->media_type = "";
}

/* {"digest","size"} of a descriptor; FALSE when the digest is unusable. */
static gboolean
descriptor_read (JsonObject *desc, RegistryBlob *blob, gchar **problem, const gchar *what)
{
  const gchar *digest = NULL;
  gint64 size = -1;
  if (!desc || !rc_json_get_string (desc, "digest", NULL, &digest) || !registry_digest_valid (digest))
    {
      g_autofree gchar *text = g_strdup_printf ("%s has no valid digest", what);
      add_problem (problem, text);
      return FALSE;
    }
  if (!rc_json_get_int (desc, "size", -1, &size) || size < 0 || size > REGISTRY_SIZE_MAX)
    {
      g_autofree gchar *text = g_strdup_printf ("%s has no valid size", what);
      add_problem (problem, text);
      size = 0;
    }
  blob->digest = g_strdup (digest);
  blob->size = size;
  return TRUE;
}

static void
manifest_read_image (RegistryManifest *m, JsonObject *root)
{
  JsonObject *config = NULL;
  JsonArray *layers = NULL;
  if (!rc_json_get_object (root, "config", NULL, &config) || !config)
    add_problem (&m->problem, "the manifest has no config");
  else
    descriptor_read (config, &m->config, &m->problem, "the config");
  if (!rc_json_get_array (root, "layers", NULL, &layers) || !layers)
    {
      add_problem (&m->problem, "the manifest has no layers");
      return;
    }
  guint n = json_array_get_length (layers);
  if (n > MAX_LAYERS)
    {
      add_problem (&m->problem, "too many layers: only the first 4096 are counted");
      n = MAX_LAYERS;
    }
  m->layers = g_new0 (RegistryBlob, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (layers, i);
      JsonObject *desc = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      if (descriptor_read (desc, &m->layers[m->n_layers], &m->problem, "a layer"))
        m->n_layers++;
    }
}

static void
platform_read (RegistryPlatform *p, JsonObject *desc)
{
  JsonObject *platform = NULL;
  if (!rc_json_get_object (desc, "platform", NULL, &platform))
    platform = NULL;
  p->os = short_field (platform, "os");
  p->architecture = short_field (platform, "architecture");
  p->variant = short_field (platform, "variant");
}

static void
manifest_read_index (RegistryManifest *m, JsonObject *root)
{
  JsonArray *manifests = NULL;
  if (!rc_json_get_array (root, "manifests", NULL, &manifests) || !manifests)
    {
      add_problem (&m->problem, "the index has no manifests");
      return;
    }
  guint n = json_array_get_length (manifests);
  if (n > MAX_PLATFORMS)
    {
      add_problem (&m->problem, "too many manifests: only the first 512 are shown");
      n = MAX_PLATFORMS;
    }
  m->platforms = g_new0 (RegistryPlatform, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (manifests, i);
      JsonObject *desc = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      RegistryPlatform *p = &m->platforms[m->n_platforms];
      RegistryBlob blob = { NULL, 0 };
      if (!descriptor_read (desc, &blob, &m->problem, "a manifest of the index"))
        continue;
      p->digest = blob.digest;
      p->size = blob.size;
      platform_read (p, desc);
      m->n_platforms++;
    }
}

static gsize
manifest_charge (const RegistryManifest *m)
{
  gsize c = charge_block (sizeof *m) + registry_charge_string (m->problem) +
            registry_charge_string (m->config.digest);
  if (m->media_type_owned)
    c += registry_charge_string (m->media_type);
  if (m->layers)
    c += charge_block (sizeof (RegistryBlob) * MAX (m->n_layers, 1));
  for (guint i = 0; i < m->n_layers; i++)
    c += registry_charge_string (m->layers[i].digest);
  if (m->platforms)
    c += charge_block (sizeof (RegistryPlatform) * MAX (m->n_platforms, 1));
  for (guint i = 0; i < m->n_platforms; i++)
    c += registry_charge_string (m->platforms[i].digest) + registry_charge_string (m->platforms[i].os) +
         registry_charge_string (m->platforms[i].architecture) +
         registry_charge_string (m->platforms[i].variant);
  return c;
}

/* The media type the manifest says, else the response's Content-Type. */
static gchar *
manifest_type_of (JsonObject *root, const gchar *content_type)
{
  const gchar *type = NULL;
  if (rc_json_get_string (root, "mediaType", NULL, &type) && type && type[0])
    return g_strdup (type);
  if (!content_type)
    return NULL;
  gsize n = strcspn (content_type, ";");
  return g_strstrip (g_strndup (content_type, n));
}

RegistryManifest *
registry_manifest_parse (const gchar *data, gsize len, const gchar *content_type, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonObject) root = rc_json_parse_object (data, len, &local);
  if (!root)
    {
      g_set_error (error, REGISTRY_IMAGE_ERROR, REGISTRY_IMAGE_ERROR_NOT_JSON,
                   "the manifest is not a JSON object: %s", local->message);
      return NULL;
    }
  gint64 schema = 2;
  if (rc_json_get_int (root, "schemaVersion", 2, &schema) && schema == 1)
    {
      g_set_error (error, REGISTRY_IMAGE_ERROR, REGISTRY_IMAGE_ERROR_UNSUPPORTED,
                   "schema 1 manifests are not supported");
      return NULL;
    }
  g_autofree gchar *type = manifest_type_of (root, content_type);
  gboolean index = g_strcmp0 (type, known_types[0]) == 0 || g_strcmp0 (type, known_types[1]) == 0 ||
                   (!g_strv_contains (known_types, type ? type : "") &&
                    json_object_has_member (root, "manifests"));
  if (!index && !json_object_has_member (root, "config") && !json_object_has_member (root, "layers"))
    {
      g_set_error (error, REGISTRY_IMAGE_ERROR, REGISTRY_IMAGE_ERROR_UNSUPPORTED,
                   "not an image manifest or index");
      return NULL;
    }

  RegistryManifest *m = g_new0 (RegistryManifest, 1);
  m->refs = 1;
  m->is_index = index;
  manifest_set_media_type (m, type);
  if (index)
    manifest_read_index (m, root);
  else
    manifest_read_image (m, root);
  m->charge = manifest_charge (m);
  return m;
}

RegistryManifest *
registry_manifest_ref (RegistryManifest *manifest)
{
  manifest->refs++;
  return manifest;
}

void
registry_manifest_unref (RegistryManifest *m)
{
  if (!m || --m->refs > 0)
    return;
  if (m->media_type_owned)
    g_free ((gchar *) m->media_type);
  g_free (m->config.digest);
  for (guint i = 0; i < m->n_layers; i++)
    g_free (m->layers[i].digest);
  g_free (m->layers);
  for (guint i = 0; i < m->n_platforms; i++)
    {
      g_free (m->platforms[i].digest);
      g_free (m->platforms[i].os);
      g_free (m->platforms[i].architecture);
      g_free (m->platforms[i].variant);
    }
  g_free (m->platforms);
  g_free (m->problem);
  g_free (m);
}

gint64
registry_size_add (gint64 a, gint64 b)
{
  a = CLAMP (a, 0, REGISTRY_SIZE_MAX);
  b = CLAMP (b, 0, REGISTRY_SIZE_MAX);
  return MIN (a + b, REGISTRY_SIZE_MAX);
}

gint64
registry_manifest_image_size (const RegistryManifest *m)
{
  gint64 size = registry_size_add (m->config.size, 0);
  for (guint i = 0; i < m->n_layers; i++)
    size = registry_size_add (size, m->layers[i].size);
  return size;
}

/* --------------------------------------------------------------- configs */

RegistryConfig *
registry_config_parse (const gchar *data, gsize len, GError **error)
{
  g_autoptr(GError) local = NULL;
  gboolean repaired = FALSE;
  g_autoptr(JsonObject) root = registry_json_parse_lenient (data, len, &repaired, &local);
  if (!root)
    {
      g_set_error (error, REGISTRY_IMAGE_ERROR, REGISTRY_IMAGE_ERROR_NOT_JSON,
                   "the config is not a JSON object: %s", local->message);
      return NULL;
    }
  RegistryConfig *c = g_new0 (RegistryConfig, 1);
  c->refs = 1;
  const gchar *created = NULL;
  if (!rc_json_get_string (root, "created", NULL, &created))
    add_problem (&c->problem, "the config's \"created\" is not a string");
  else if (!created || !created[0])
    add_problem (&c->problem, "the config has no \"created\"");
  else if (strlen (created) > MAX_FIELD)
    add_problem (&c->problem, "the config's \"created\" is too long");
  else
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_iso8601 (created, NULL);
      if (!when)
        add_problem (&c->problem, "the config's \"created\" is not an RFC 3339 time");
      c->created = g_strdup (created);
    }
  if (repaired)
    add_problem (&c->problem, "the config is not valid UTF-8");
  c->os = short_field (root, "os");
  c->architecture = short_field (root, "architecture");
  c->variant = short_field (root, "variant");
  c->charge = charge_block (sizeof *c) + registry_charge_string (c->created) +
              registry_charge_string (c->os) + registry_charge_string (c->architecture) +
              registry_charge_string (c->variant) + registry_charge_string (c->problem);
  return c;
}

RegistryConfig *
registry_config_ref (RegistryConfig *config)
{
  config->refs++;
  return config;
}

void
registry_config_unref (RegistryConfig *c)
{
  if (!c || --c->refs > 0)
    return;
  g_free (c->created);
  g_free (c->os);
  g_free (c->architecture);
  g_free (c->variant);
  g_free (c->problem);
  g_free (c);
}
