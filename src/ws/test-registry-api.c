/* test-registry-api.c: names, digests, paths, the Link header of paged
 * answers, JSON strings from outside text. */
#include "config.h"

#include "ws/registry-api.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define BASE "http://127.0.0.1:5000"

static void
test_repository_names_follow_the_grammar (void **state)
{
  assert_true (registry_repository_valid ("busybox"));
  assert_true (registry_repository_valid ("demo/hello"));
  assert_true (registry_repository_valid ("org-1/group_2/comp__3.x--y"));
  assert_false (registry_repository_valid (""));
  assert_false (registry_repository_valid ("Demo/hello"));        /* upper case */
  assert_false (registry_repository_valid ("demo//hello"));
  assert_false (registry_repository_valid ("/demo"));
  assert_false (registry_repository_valid ("demo/"));
  assert_false (registry_repository_valid ("demo/.."));
  assert_false (registry_repository_valid ("a_-b"));               /* separators do not mix */
  assert_false (registry_repository_valid ("a___b"));
  assert_false (registry_repository_valid ("demo/hello?x=1"));
  g_autofree gchar *long_name = g_strnfill (256, 'a');
  assert_false (registry_repository_valid (long_name));
  long_name[255] = '\0';
  assert_true (registry_repository_valid (long_name));
}

static void
test_tags_follow_the_grammar (void **state)
{
  assert_true (registry_tag_valid ("latest"));
  assert_true (registry_tag_valid ("v2.0.0-rc1"));
  assert_true (registry_tag_valid ("_x"));
  assert_false (registry_tag_valid (""));
  assert_false (registry_tag_valid (".hidden"));
  assert_false (registry_tag_valid ("-x"));
  assert_false (registry_tag_valid ("a/b"));
  assert_false (registry_tag_valid ("a b"));
  assert_false (registry_tag_valid ("caf\xc3\xa9"));
  g_autofree gchar *t128 = g_strnfill (128, 'x');
  g_autofree gchar *t129 = g_strnfill (129, 'x');
  assert_true (registry_tag_valid (t128));
  assert_false (registry_tag_valid (t129));
}

static void
test_digests_are_checked_by_algorithm (void **state)
{
  g_autofree gchar *hex64 = g_strnfill (64, 'a');
  g_autofree gchar *sha = g_strconcat ("sha256:", hex64, NULL);
  assert_true (registry_digest_valid (sha));
  sha[10] = 'A';
  assert_false (registry_digest_valid (sha));     /* upper-case hex */
  assert_false (registry_digest_valid ("sha256:abc"));
  assert_false (registry_digest_valid ("sha256:"));
  assert_false (registry_digest_valid (":abc"));
  assert_false (registry_digest_valid ("sha256"));
  assert_true (registry_digest_valid ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"));
  assert_false (registry_digest_valid ("sha256:../../etc"));
}

static void
test_digest_matches_only_its_content (void **state)
{
  g_autofree gchar *d = registry_digest_compute ("sha256", "hello", 5);
  assert_string_equal (d, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  assert_true (registry_digest_matches (d, "hello", 5));
  assert_false (registry_digest_matches (d, "hellO", 5));
  assert_false (registry_digest_matches ("md5:5d41402abc4b2a76b9719d911017c592", "hello", 5));
  assert_null (registry_digest_compute ("md5", "x", 1));
}

static void
test_paths_keep_repository_slashes (void **state)
{
  g_autofree gchar *t = registry_path_tags ("a/b", 1000);
  g_autofree gchar *m = registry_path_manifest ("a/b", "latest");
  g_autofree gchar *b = registry_path_blob ("a/b", "sha256:00");
  g_autofree gchar *c = registry_path_catalog (1000);
  assert_string_equal (t, "/v2/a/b/tags/list?n=1000");
  assert_string_equal (m, "/v2/a/b/manifests/latest");
  assert_string_equal (b, "/v2/a/b/blobs/sha256:00");
  assert_string_equal (c, "/v2/_catalog?n=1000");
}

static void
test_link_next_relative (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *next = registry_link_next ("</v2/_catalog?last=b%2Fc&n=1000>; rel=\"next\"", BASE, &error);
  assert_null (error);
  assert_string_equal (next, "/v2/_catalog?last=b%2Fc&n=1000");
}

static void
test_link_next_among_others (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *next = registry_link_next (
    "</v2/x/tags/list?n=2>; rel=\"first\", </v2/x/tags/list?last=b&n=2>; rel=\"prev next\"", BASE, &error);
  assert_null (error);
  assert_string_equal (next, "/v2/x/tags/list?last=b&n=2");
  g_autofree gchar *bare = registry_link_next ("</v2/x/tags/list?last=c>;rel=next", BASE, &error);
  assert_string_equal (bare, "/v2/x/tags/list?last=c");
}

static void
test_link_without_next_ends (void **state)
{
  g_autoptr(GError) error = NULL;
  assert_null (registry_link_next (NULL, BASE, &error));
  assert_null (registry_link_next ("</v2/x/tags/list?n=2>; rel=\"prev\"", BASE, &error));
  assert_null (registry_link_next ("garbage", BASE, &error));
  assert_null (error);
}

static void
test_link_absolute_same_origin (void **state)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *next = registry_link_next ("<http://127.0.0.1:5000/v2/_catalog?last=z>; rel=\"next\"",
                                               BASE, &error);
  assert_null (error);
  assert_string_equal (next, "/v2/_catalog?last=z");
}

static void
test_link_to_another_host_refused (void **state)
{
  const gchar *links[] = {
    "<http://evil.example/v2/_catalog?last=z>; rel=\"next\"",
    "<https://127.0.0.1:5000/v2/_catalog?last=z>; rel=\"next\"",
    "<http://127.0.0.1:5001/v2/_catalog?last=z>; rel=\"next\"",
    "<//evil.example/v2/_catalog>; rel=\"next\"",
  };
  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *next = registry_link_next (links[i], BASE, &error);
      assert_null (next);
      assert_true (g_error_matches (error, REGISTRY_API_ERROR, REGISTRY_API_ERROR_FOREIGN_LINK));
    }
}

static void
test_link_outside_v2_or_with_controls_refused (void **state)
{
  g_autoptr(GError) error = NULL;
  assert_null (registry_link_next ("</admin?x>; rel=\"next\"", BASE, &error));
  assert_true (g_error_matches (error, REGISTRY_API_ERROR, REGISTRY_API_ERROR_BAD_LINK));
  g_clear_error (&error);
  assert_null (registry_link_next ("</v2/x\r\nHost: y>; rel=\"next\"", BASE, &error));
  assert_true (g_error_matches (error, REGISTRY_API_ERROR, REGISTRY_API_ERROR_BAD_LINK));
}

static void
test_json_strings_escape_and_repair (void **state)
{
  g_autoptr(GString) out = g_string_new (NULL);
  registry_json_append_string (out, "a\"b\\c\n\x01");
  assert_string_equal (out->str, "\"a\\\"b\\\\c\\n\\u0001\"");
  g_string_truncate (out, 0);
  registry_json_append_string (out, "caf\xc3\xa9 \xff!");
  assert_string_equal (out->str, "\"caf\xc3\xa9 \xef\xbf\xbd!\"");
  g_string_truncate (out, 0);
  registry_json_append_bytes (out, "a\0b\xc3", 4);
  assert_string_equal (out->str, "\"a\\u0000b\xef\xbf\xbd\"");
  g_string_truncate (out, 0);
  registry_json_append_string (out, NULL);
  assert_string_equal (out->str, "null");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_repository_names_follow_the_grammar),
    cmocka_unit_test (test_tags_follow_the_grammar),
    cmocka_unit_test (test_digests_are_checked_by_algorithm),
    cmocka_unit_test (test_digest_matches_only_its_content),
    cmocka_unit_test (test_paths_keep_repository_slashes),
    cmocka_unit_test (test_link_next_relative),
    cmocka_unit_test (test_link_next_among_others),
    cmocka_unit_test (test_link_without_next_ends),
    cmocka_unit_test (test_link_absolute_same_origin),
    cmocka_unit_test (test_link_to_another_host_refused),
    cmocka_unit_test (test_link_outside_v2_or_with_controls_refused),
    cmocka_unit_test (test_json_strings_escape_and_repair),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
