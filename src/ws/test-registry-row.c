/* test-registry-row.c: the rows the registry channels send, as the browser
 * parses them (json-glib here): one JSON object a line, always valid UTF-8,
 * unknown members left out. */
#include "config.h"

#include "ws/registry-row.h"
#include "common/rcjson.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
                       c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static JsonObject *
parse_line (GString *out)
{
  assert_true (out->len > 0);
  assert_int_equal (out->str[out->len - 1], '\n');
  assert_null (memchr (out->str, '\n', out->len - 1));
  assert_true (g_utf8_validate (out->str, out->len, NULL));
  g_autoptr(GError) error = NULL;
  JsonObject *o = rc_json_parse_object (out->str, out->len - 1, &error);
  assert_non_null (o);
  return o;
}

static RegistryManifest *
image (const gchar *config, const gchar *layer1, gint64 size1, const gchar *layer2, gint64 size2)
{
  g_autofree gchar *body = g_strdup_printf (
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"%s\",\"size\":10},"
    "\"layers\":[{\"digest\":\"%s\",\"size\":%" G_GINT64_FORMAT "},{\"digest\":\"%s\",\"size\":%" G_GINT64_FORMAT "}]}",
    config, layer1, size1, layer2, size2);
  RegistryManifest *m = registry_manifest_parse (body, strlen (body), NULL, NULL);
  assert_non_null (m);
  return m;
}

static RegistryConfig *
config (const gchar *created, const gchar *arch)
{
  g_autofree gchar *body = created
    ? g_strdup_printf ("{\"created\":\"%s\",\"os\":\"linux\",\"architecture\":\"%s\"}", created, arch)
    : g_strdup_printf ("{\"os\":\"linux\",\"architecture\":\"%s\"}", arch);
  return registry_config_parse (body, strlen (body), NULL);
}

static void
test_image_row_has_created_size_layers (void **state)
{
  g_autoptr(RegistryTagResult) r = registry_tag_result_new ("1.0");
  r->digest = g_strdup (D ("d"));
  r->manifest = image (D ("c"), D ("1"), 1000, D ("2"), 2000);
  r->config = config ("2024-01-02T03:04:05Z", "amd64");
  g_autoptr(GString) out = g_string_new (NULL);
  registry_row_append_tag (out, r, FALSE);
  g_autoptr(JsonObject) o = parse_line (out);
  assert_string_equal (rc_json_string_or (o, "type", NULL), "tag");
  assert_string_equal (rc_json_string_or (o, "tag", NULL), "1.0");
  assert_string_equal (rc_json_string_or (o, "digest", NULL), D ("d"));
  assert_string_equal (rc_json_string_or (o, "created", NULL), "2024-01-02T03:04:05Z");
  assert_int_equal (json_object_get_int_member (o, "size"), 3010);
  assert_int_equal (json_object_get_int_member (o, "layers"), 2);
  assert_string_equal (rc_json_string_or (o, "architecture", NULL), "amd64");
  assert_false (json_object_has_member (o, "error"));
  assert_false (json_object_has_member (o, "warning"));
  assert_false (json_object_has_member (o, "blobs"));
  assert_false (json_object_has_member (o, "blobSizes"));
  assert_false (json_object_has_member (o, "variant"));   /* unknown: left out */
}

/* Two layers of 2^53 bytes (the largest size taken): the row's size stops
 * at 2^53, with and without the blob list (no signed overflow). */
static void
test_huge_layers_size_saturates (void **state)
{
  for (guint blobs = 0; blobs < 2; blobs++)
    {
      g_autoptr(RegistryTagResult) r = registry_tag_result_new ("big");
      r->digest = g_strdup (D ("d"));
      r->manifest = image (D ("c"), D ("1"), REGISTRY_SIZE_MAX, D ("2"), REGISTRY_SIZE_MAX);
      g_autoptr(GString) out = g_string_new (NULL);
      registry_row_append_tag (out, r, blobs);
      g_autoptr(JsonObject) o = parse_line (out);
      assert_int_equal (json_object_get_int_member (o, "size"), REGISTRY_SIZE_MAX);
    }
}

static void
test_index_row_counts_shared_layers_once (void **state)
{
  const gchar body[] =
    "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
    "{\"digest\":\"" D ("a") "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"digest\":\"" D ("b") "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
    "{\"digest\":\"" D ("e") "\",\"size\":1,\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}}]}";
  g_autoptr(RegistryTagResult) r = registry_tag_result_new ("multi");
  r->digest = g_strdup (D ("f"));
  r->manifest = registry_manifest_parse (body, strlen (body), NULL, NULL);
  registry_tag_result_init_platforms (r);
  RegistryPlatformResult *amd = registry_tag_result_get_platform (r, 0);
  RegistryPlatformResult *arm = registry_tag_result_get_platform (r, 1);
  RegistryPlatformResult *win = registry_tag_result_get_platform (r, 2);
  amd->manifest = image (D ("3"), D ("1"), 1000, D ("2"), 2000);
  amd->config = config ("2024-01-01T00:00:00Z", "amd64");
  arm->manifest = image (D ("4"), D ("1"), 1000, D ("5"), 500);   /* layer 1 shared */
  arm->config = config ("2025-01-01T00:00:00+01:00", "arm64");
  win->error = g_strdup ("404 manifest unknown");

  g_autoptr(GString) out = g_string_new (NULL);
  registry_row_append_tag (out, r, TRUE);
  g_autoptr(JsonObject) o = parse_line (out);
  assert_string_equal (rc_json_string_or (o, "created", NULL), "2025-01-01T00:00:00+01:00");
  assert_int_equal (json_object_get_int_member (o, "size"), 10 + 1000 + 2000 + 10 + 500);
  assert_int_equal (json_object_get_int_member (o, "layers"), 3);
  JsonArray *platforms = json_object_get_array_member (o, "platforms");
  assert_int_equal (json_array_get_length (platforms), 3);
  JsonObject *p1 = json_array_get_object_element (platforms, 1);
  assert_string_equal (rc_json_string_or (p1, "variant", NULL), "v8");
  assert_int_equal (json_object_get_int_member (p1, "size"), 1510);
  JsonObject *p2 = json_array_get_object_element (platforms, 2);
  assert_string_equal (rc_json_string_or (p2, "error", NULL), "404 manifest unknown");
  assert_false (json_object_has_member (p2, "size"));
  JsonArray *blobs = json_object_get_array_member (o, "blobs");
  assert_int_equal (json_array_get_length (blobs), 5);   /* 2 configs, 3 distinct layers */
  /* each blob's size in the same order; together the index's size */
  JsonArray *sizes = json_object_get_array_member (o, "blobSizes");
  assert_int_equal (json_array_get_length (sizes), 5);
  gint64 total = 0;
  for (guint i = 0; i < 5; i++)
    total += json_array_get_int_element (sizes, i);
  assert_int_equal (total, json_object_get_int_member (o, "size"));
}

static void
test_failed_tag_row_has_error_and_status (void **state)
{
  g_autoptr(RegistryTagResult) r = registry_tag_result_new ("gone");
  r->error = g_strdup ("404 manifest unknown");
  r->status = 404;
  g_autoptr(GString) out = g_string_new (NULL);
  registry_row_append_tag (out, r, TRUE);
  g_autoptr(JsonObject) o = parse_line (out);
  assert_string_equal (rc_json_string_or (o, "error", NULL), "404 manifest unknown");
  assert_int_equal (json_object_get_int_member (o, "status"), 404);
  assert_false (json_object_has_member (o, "digest"));
  assert_false (json_object_has_member (o, "size"));
}

static void
test_row_warns_about_odd_config (void **state)
{
  g_autoptr(RegistryTagResult) r = registry_tag_result_new ("x");
  r->digest = g_strdup (D ("d"));
  r->manifest = image (D ("c"), D ("1"), 1, D ("2"), 2);
  r->config = config (NULL, "amd64");
  g_autoptr(GString) out = g_string_new (NULL);
  registry_row_append_tag (out, r, FALSE);
  g_autoptr(JsonObject) o = parse_line (out);
  assert_false (json_object_has_member (o, "created"));
  assert_string_equal (rc_json_string_or (o, "warning", NULL), "the config has no \"created\"");
}

static void
test_hostile_text_stays_one_valid_line (void **state)
{
  g_autoptr(RegistryTagResult) r = registry_tag_result_new ("a\nb\xff\"}{");
  r->error = g_strdup ("bad \x01 \xc3");
  g_autoptr(GString) out = g_string_new (NULL);
  registry_row_append_tag (out, r, FALSE);
  g_autoptr(JsonObject) o = parse_line (out);
  assert_string_equal (rc_json_string_or (o, "tag", NULL), "a\nb\xef\xbf\xbd\"}{");
}

static void
test_names_and_error_rows (void **state)
{
  const gchar *names[] = { "1.0", "latest" };
  g_autoptr(GString) out = g_string_new (NULL);
  registry_row_append_names (out, names, 2);
  g_autoptr(JsonObject) o = parse_line (out);
  assert_string_equal (rc_json_string_or (o, "type", NULL), "names");
  JsonArray *a = json_object_get_array_member (o, "names");
  assert_int_equal (json_array_get_length (a), 2);
  assert_string_equal (json_array_get_string_element (a, 1), "latest");
  g_string_truncate (out, 0);
  registry_row_append_error (out, "tags/list, page 2: 500", 500);
  g_autoptr(JsonObject) e = parse_line (out);
  assert_string_equal (rc_json_string_or (e, "type", NULL), "error");
  assert_int_equal (json_object_get_int_member (e, "status"), 500);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_image_row_has_created_size_layers),
    cmocka_unit_test (test_index_row_counts_shared_layers_once),
    cmocka_unit_test (test_huge_layers_size_saturates),
    cmocka_unit_test (test_failed_tag_row_has_error_and_status),
    cmocka_unit_test (test_row_warns_about_odd_config),
    cmocka_unit_test (test_hostile_text_stays_one_valid_line),
    cmocka_unit_test (test_names_and_error_rows),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
