/* fuzz-registry.c: what a registry sends to the registry channels, parsed
 * by src/ws/registry-image.c, registry-api.c and turned into rows by
 * registry-row.c, and an OpenShift Image object by openshift-image.c. The
 * first byte picks the input: 0 a manifest (its row), 1 a config (a row
 * with it), 2 a Link header, 3 a tags/list page (its names row), 4 an
 * Image object (its row). Every row must be one line of valid UTF-8 that parses back
 * as a JSON object; a next page must be a /v2/ path on the same registry. */
#include "fuzz-common.h"
#include "ws/registry-api.h"
#include "ws/registry-image.h"
#include "ws/registry-row.h"
#include "ws/openshift-image.h"
#include "common/rcjson.h"
#include <string.h>

static void
check_row (GString *row)
{
  g_assert (row->len > 0 && row->str[row->len - 1] == '\n');
  g_assert (memchr (row->str, '\n', row->len - 1) == NULL);
  g_assert (g_utf8_validate (row->str, row->len, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) o = rc_json_parse_object (row->str, row->len - 1, &error);
  g_assert (o != NULL);
}

static void
fuzz_manifest (const gchar *data, gsize len)
{
  g_autoptr(RegistryManifest) m = registry_manifest_parse (data, len, "application/json", NULL);
  if (!m)
    return;
  g_assert (m->charge > sizeof *m);
  g_assert (m->n_layers <= 4096 && m->n_platforms <= 512);
  g_autoptr(RegistryTagResult) r = registry_tag_result_new ("t");
  r->digest = registry_digest_compute ("sha256", data, len);
  r->manifest = registry_manifest_ref (m);
  if (m->is_index)
    {
      registry_tag_result_init_platforms (r);
      for (guint i = 0; i < m->n_platforms; i++)
        registry_tag_result_get_platform (r, i)->manifest = registry_manifest_ref (m);
    }
  g_autoptr(GString) row = g_string_new (NULL);
  registry_row_append_tag (row, r, TRUE);
  check_row (row);
}

static void
fuzz_config (const gchar *data, gsize len)
{
  g_autoptr(RegistryConfig) c = registry_config_parse (data, len, NULL);
  if (!c)
    return;
  g_assert (c->created || c->problem);
  g_autoptr(RegistryTagResult) r = registry_tag_result_new ("t");
  const gchar m[] = "{\"config\":{\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\","
                    "\"size\":1},\"layers\":[]}";
  r->manifest = registry_manifest_parse (m, strlen (m), NULL, NULL);
  r->config = registry_config_ref (c);
  g_autoptr(GString) row = g_string_new (NULL);
  registry_row_append_tag (row, r, FALSE);
  check_row (row);
}

static void
fuzz_link (const gchar *data, gsize len)
{
  g_autofree gchar *text = g_strndup (data, len);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *next = registry_link_next (text, "https://registry.example:5000", &error);
  g_assert (!(next && error));
  if (next)
    {
      g_assert (g_str_has_prefix (next, "/v2/"));
      for (const gchar *p = next; *p; p++)
        g_assert ((guchar) *p > 0x20 && (guchar) *p < 0x7f);
    }
}

static void
fuzz_tags_page (const gchar *data, gsize len)
{
  g_autoptr(JsonObject) page = registry_json_parse_lenient (data, len, NULL, NULL);
  JsonArray *tags = NULL;
  if (!page || !rc_json_get_array (page, "tags", NULL, &tags) || !tags)
    return;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (tags) && i < 1000; i++)
    {
      JsonNode *node = json_array_get_element (tags, i);
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        {
          const gchar *name = json_node_get_string (node);
          if (registry_tag_valid (name))
            g_assert (strlen (name) <= REGISTRY_TAG_MAX && !strchr (name, '/'));
          g_ptr_array_add (names, (gpointer) name);
        }
    }
  g_autoptr(GString) row = g_string_new (NULL);
  registry_row_append_names (row, (const gchar *const *) names->pdata, names->len);
  check_row (row);
}

static void
fuzz_openshift_image (const gchar *data, gsize len)
{
  g_autoptr(OpenshiftImage) img = openshift_image_parse (data, len, NULL);
  if (!img)
    return;
  g_assert (registry_digest_valid (img->name) && img->charge > sizeof *img);
  g_autoptr(GString) row = g_string_new (NULL);
  openshift_image_append_row (row, "t", img->name, img, NULL, 0);
  check_row (row);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_quiet_logs ();
  if (size < 1)
    return 0;
  const gchar *rest = (const gchar *) data + 1;
  gsize len = size - 1;
  switch (data[0] % 5)
    {
    case 0:
      fuzz_manifest (rest, len);
      break;
    case 1:
      fuzz_config (rest, len);
      break;
    case 2:
      fuzz_link (rest, len);
      break;
    case 3:
      fuzz_tags_page (rest, len);
      break;
    default:
      fuzz_openshift_image (rest, len);
      break;
    }
  return 0;
}
