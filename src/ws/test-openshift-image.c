/* test-openshift-image.c: OpenShift Image objects into summaries and rows. */
#include "config.h"

#include "ws/openshift-image.h"
#include "common/rcjson.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static JsonObject *
row_of (const OpenshiftImage *img, const gchar *error, guint status)
{
  g_autoptr(GString) out = g_string_new (NULL);
  openshift_image_append_row (out, "1.0", D, img, error, status);
  assert_int_equal (out->str[out->len - 1], '\n');
  JsonObject *o = rc_json_parse_object (out->str, out->len - 1, NULL);
  assert_non_null (o);
  return o;
}

static void
test_image_object_gives_size_created_layers (void **state)
{
  const gchar body[] = "{\"kind\":\"Image\",\"metadata\":{\"name\":\"" D "\"},"
    "\"dockerImageManifestMediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"dockerImageMetadata\":{\"Created\":\"2024-02-03T04:05:06Z\",\"Size\":4321,\"Architecture\":\"amd64\"},"
    "\"dockerImageLayers\":[{\"name\":\"" D "\",\"size\":1},{\"name\":\"" D "\",\"size\":2}]}";
  g_autoptr(OpenshiftImage) img = openshift_image_parse (body, strlen (body), NULL);
  assert_non_null (img);
  g_autoptr(JsonObject) o = row_of (img, NULL, 0);
  assert_string_equal (rc_json_string_or (o, "created", NULL), "2024-02-03T04:05:06Z");
  assert_int_equal (json_object_get_int_member (o, "size"), 4321);
  assert_int_equal (json_object_get_int_member (o, "layers"), 2);
  assert_string_equal (rc_json_string_or (o, "architecture", NULL), "amd64");
  assert_string_equal (rc_json_string_or (o, "digest", NULL), D);
}

static void
test_index_image_has_platforms_and_no_zero_size (void **state)
{
  const gchar body[] = "{\"metadata\":{\"name\":\"" D "\"},\"dockerImageMetadata\":{\"Size\":0},"
    "\"dockerImageLayers\":[],\"dockerImageManifests\":[{\"digest\":\"" D "\",\"os\":\"linux\","
    "\"architecture\":\"arm64\",\"variant\":\"v8\"},{\"digest\":\"bad\"}]}";
  g_autoptr(OpenshiftImage) img = openshift_image_parse (body, strlen (body), NULL);
  assert_int_equal (img->n_platforms, 1);
  g_autoptr(JsonObject) o = row_of (img, NULL, 0);
  assert_false (json_object_has_member (o, "size"));
  JsonArray *p = json_object_get_array_member (o, "platforms");
  assert_string_equal (rc_json_string_or (json_array_get_object_element (p, 0), "variant", NULL), "v8");
}

static void
test_not_an_image_refused_and_error_rows (void **state)
{
  g_autoptr(GError) error = NULL;
  assert_null (openshift_image_parse ("{\"metadata\":{\"name\":\"x\"}}", 26, &error));
  assert_true (g_error_matches (error, OPENSHIFT_IMAGE_ERROR, OPENSHIFT_IMAGE_ERROR_INVALID));
  g_autoptr(JsonObject) o = row_of (NULL, "the image: 403", 403);
  assert_int_equal (json_object_get_int_member (o, "status"), 403);
  assert_false (json_object_has_member (o, "size"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_image_object_gives_size_created_layers),
    cmocka_unit_test (test_index_image_has_platforms_and_no_zero_size),
    cmocka_unit_test (test_not_an_image_refused_and_error_rows),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
