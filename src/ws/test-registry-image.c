/* test-registry-image.c: manifests and configs parsed into summaries, odd
 * content turned into problems, what a summary is charged. */
#include "config.h"

#include "ws/registry-image.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
                       c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static const gchar oci_image[] =
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D ("c") "\",\"size\":100},"
  "\"layers\":[{\"digest\":\"" D ("1") "\",\"size\":1000},{\"digest\":\"" D ("2") "\",\"size\":2000}]}";

static const gchar docker_list[] =
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
  "\"manifests\":[{\"digest\":\"" D ("a") "\",\"size\":500,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
  "{\"digest\":\"" D ("b") "\",\"size\":501,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}";

static void
test_image_manifest_summary (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RegistryManifest) m = registry_manifest_parse (oci_image, strlen (oci_image), NULL, &error);
  assert_non_null (m);
  assert_false (m->is_index);
  assert_string_equal (m->media_type, "application/vnd.oci.image.manifest.v1+json");
  assert_string_equal (m->config.digest, D ("c"));
  assert_int_equal (m->n_layers, 2);
  assert_int_equal (registry_manifest_image_size (m), 3100);
  assert_null (m->problem);
}

static void
test_index_manifest_platforms (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RegistryManifest) m = registry_manifest_parse (docker_list, strlen (docker_list), NULL, &error);
  assert_non_null (m);
  assert_true (m->is_index);
  assert_int_equal (m->n_platforms, 2);
  assert_string_equal (m->platforms[1].architecture, "arm64");
  assert_string_equal (m->platforms[1].variant, "v8");
  assert_null (m->platforms[0].variant);
  assert_int_equal (m->platforms[0].size, 500);
  assert_null (m->config.digest);
}

static void
test_media_type_from_content_type (void **state)
{
  const gchar body[] = "{\"schemaVersion\":2,\"manifests\":[]}";
  g_autoptr(RegistryManifest) m = registry_manifest_parse (
    body, strlen (body), "application/vnd.oci.image.index.v1+json; charset=utf-8", NULL);
  assert_non_null (m);
  assert_true (m->is_index);
  assert_string_equal (m->media_type, "application/vnd.oci.image.index.v1+json");
}

static void
test_odd_layers_become_problems (void **state)
{
  const gchar body[] =
    "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D ("c") "\"},"
    "\"layers\":[{\"digest\":\"sha256:nothex\",\"size\":1},7,{\"digest\":\"" D ("1") "\",\"size\":-4}]}";
  g_autoptr(RegistryManifest) m = registry_manifest_parse (body, strlen (body), NULL, NULL);
  assert_non_null (m);
  assert_int_equal (m->n_layers, 1);              /* the one with a valid digest */
  assert_int_equal (m->layers[0].size, 0);
  assert_non_null (strstr (m->problem, "a layer has no valid digest"));
  assert_non_null (strstr (m->problem, "a layer has no valid size"));
  assert_non_null (strstr (m->problem, "the config has no valid size"));
}

static void
test_not_json_and_schema1_refused (void **state)
{
  g_autoptr(GError) error = NULL;
  assert_null (registry_manifest_parse ("<html>", 6, NULL, &error));
  assert_true (g_error_matches (error, REGISTRY_IMAGE_ERROR, REGISTRY_IMAGE_ERROR_NOT_JSON));
  g_clear_error (&error);
  const gchar v1[] = "{\"schemaVersion\":1,\"fsLayers\":[]}";
  assert_null (registry_manifest_parse (v1, strlen (v1), NULL, &error));
  assert_true (g_error_matches (error, REGISTRY_IMAGE_ERROR, REGISTRY_IMAGE_ERROR_UNSUPPORTED));
  g_clear_error (&error);
  assert_null (registry_manifest_parse ("[1,2]", 5, NULL, &error));
  assert_true (g_error_matches (error, REGISTRY_IMAGE_ERROR, REGISTRY_IMAGE_ERROR_NOT_JSON));
}

static void
test_config_created_and_platform (void **state)
{
  const gchar body[] = "{\"created\":\"2024-05-06T07:08:09.123Z\",\"os\":\"linux\",\"architecture\":\"arm64\","
                       "\"variant\":\"v8\",\"config\":{}}";
  g_autoptr(RegistryConfig) c = registry_config_parse (body, strlen (body), NULL);
  assert_non_null (c);
  assert_string_equal (c->created, "2024-05-06T07:08:09.123Z");
  assert_string_equal (c->architecture, "arm64");
  assert_string_equal (c->variant, "v8");
  assert_null (c->problem);
}

static void
test_config_without_created_says_so (void **state)
{
  const gchar no_created[] = "{\"os\":\"linux\"}";
  g_autoptr(RegistryConfig) none = registry_config_parse (no_created, strlen (no_created), NULL);
  assert_null (none->created);
  assert_string_equal (none->problem, "the config has no \"created\"");
  const gchar odd[] = "{\"created\":12}";
  g_autoptr(RegistryConfig) number = registry_config_parse (odd, strlen (odd), NULL);
  assert_null (number->created);
  assert_string_equal (number->problem, "the config's \"created\" is not a string");
  const gchar bad[] = "{\"created\":\"yesterday\"}";
  g_autoptr(RegistryConfig) text = registry_config_parse (bad, strlen (bad), NULL);
  assert_string_equal (text->created, "yesterday");
  assert_string_equal (text->problem, "the config's \"created\" is not an RFC 3339 time");
}

static void
test_charge_counts_every_string (void **state)
{
  g_autoptr(RegistryManifest) m = registry_manifest_parse (oci_image, strlen (oci_image), NULL, NULL);
  /* three digests of 72 bytes, the structure, the layer array */
  assert_true (m->charge >= 3 * (72 + 8) + sizeof (RegistryManifest) + 2 * sizeof (RegistryBlob));
  assert_true (m->charge < 1024);
  assert_int_equal (registry_charge_string (NULL), 0);
  assert_int_equal (registry_charge_string ("x"), 32);
}

static void
test_too_many_layers_are_cut (void **state)
{
  g_autoptr(GString) body = g_string_new ("{\"config\":{\"digest\":\"" D ("c") "\",\"size\":1},\"layers\":[");
  for (guint i = 0; i < 5000; i++)
    g_string_append_printf (body, "%s{\"digest\":\"" D ("1") "\",\"size\":1}", i ? "," : "");
  g_string_append (body, "]}");
  g_autoptr(RegistryManifest) m = registry_manifest_parse (body->str, body->len, NULL, NULL);
  assert_int_equal (m->n_layers, 4096);
  assert_non_null (strstr (m->problem, "too many layers"));
}

/* Sizes a registry may claim that no sum may overflow with (a UBSan build
 * stops on a signed overflow): above 2^53 a size is unknown (a problem,
 * counted 0); 2^53 itself is kept, and sums stop there. */
static void
test_huge_sizes_do_not_overflow (void **state)
{
  static const gchar *sizes[] = { "9000000000000000000", "9e18", "9223372036854775807" };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree gchar *body = g_strdup_printf (
        "{\"config\":{\"digest\":\"" D ("c") "\",\"size\":%s},\"layers\":["
        "{\"digest\":\"" D ("1") "\",\"size\":%s},{\"digest\":\"" D ("2") "\",\"size\":%s}]}",
        sizes[i], sizes[i], sizes[i]);
      g_autoptr(RegistryManifest) m = registry_manifest_parse (body, strlen (body), NULL, NULL);
      assert_non_null (m);
      assert_int_equal (m->n_layers, 2);
      assert_int_equal (registry_manifest_image_size (m), 0);
      assert_non_null (strstr (m->problem, "no valid size"));
    }
  g_autofree gchar *body = g_strdup_printf (
    "{\"config\":{\"digest\":\"" D ("c") "\",\"size\":%" G_GINT64_FORMAT "},\"layers\":["
    "{\"digest\":\"" D ("1") "\",\"size\":%" G_GINT64_FORMAT "},{\"digest\":\"" D ("2") "\",\"size\":%"
    G_GINT64_FORMAT "}]}", REGISTRY_SIZE_MAX, REGISTRY_SIZE_MAX, REGISTRY_SIZE_MAX);
  g_autoptr(RegistryManifest) m = registry_manifest_parse (body, strlen (body), NULL, NULL);
  assert_null (m->problem);
  assert_int_equal (m->layers[0].size, REGISTRY_SIZE_MAX);
  assert_int_equal (registry_manifest_image_size (m), REGISTRY_SIZE_MAX);
  assert_int_equal (registry_size_add (G_MAXINT64, G_MAXINT64), REGISTRY_SIZE_MAX);
  assert_int_equal (registry_size_add (-5, 7), 7);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_image_manifest_summary),
    cmocka_unit_test (test_index_manifest_platforms),
    cmocka_unit_test (test_media_type_from_content_type),
    cmocka_unit_test (test_odd_layers_become_problems),
    cmocka_unit_test (test_not_json_and_schema1_refused),
    cmocka_unit_test (test_config_created_and_platform),
    cmocka_unit_test (test_config_without_created_says_so),
    cmocka_unit_test (test_charge_counts_every_string),
    cmocka_unit_test (test_too_many_layers_are_cut),
    cmocka_unit_test (test_huge_sizes_do_not_overflow),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
