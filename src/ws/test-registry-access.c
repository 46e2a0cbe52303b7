/* test-registry-access.c: reading what a registry token grants (the JWT's
 * "access" claim) and the repository names the channel accepts. The
 * channel itself runs against the real token server in the browser tests
 * (tests/browser/permissions.test.mjs). */
#include "config.h"

#include "common/rcutil.h"
#include "ws/channel-registry-access.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

/* A JWT with CLAIMS (JSON text) as its payload; header and signature as a
 * token server writes them (the signature is not checked). */
static gchar *
jwt (const gchar *claims)
{
  const gchar *header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"ABCD:EFGH\"}";
  g_autofree gchar *h = rc_base64url_encode (header, strlen (header));
  g_autofree gchar *p = rc_base64url_encode (claims, strlen (claims));
  return g_strconcat (h, ".", p, ".c2lnbmF0dXJl", NULL);
}

static void
assert_access (const gchar *claims, const gchar *repo, gboolean pull, gboolean push, gboolean del)
{
  g_autofree gchar *token = jwt (claims);
  RegistryAccess a = { TRUE, TRUE, TRUE };
  assert_true (registry_access_from_token (token, repo, &a));
  assert_int_equal (a.pull, pull);
  assert_int_equal (a.push, push);
  assert_int_equal (a.delete, del);
}

static void
test_granted_actions (void **state)
{
  const gchar *claims =
    "{\"iss\":\"issuer\",\"sub\":\"admin\",\"aud\":\"registry\",\"exp\":1,"
    "\"access\":[{\"type\":\"repository\",\"name\":\"demo/hello\",\"actions\":[\"pull\",\"push\",\"delete\"]}]}";
  assert_access (claims, "demo/hello", TRUE, TRUE, TRUE);
}

static void
test_pull_only (void **state)
{
  /* what the fixture's token server gives "reader" */
  assert_access ("{\"access\":[{\"type\":\"repository\",\"name\":\"demo/hello\",\"actions\":[\"pull\"]}]}",
                 "demo/hello", TRUE, FALSE, FALSE);
  assert_access ("{\"access\":[{\"type\":\"repository\",\"name\":\"demo/hello\",\"actions\":[]}]}",
                 "demo/hello", FALSE, FALSE, FALSE);
}

static void
test_wildcard (void **state)
{
  assert_access ("{\"access\":[{\"type\":\"repository\",\"name\":\"a/b\",\"actions\":[\"*\"]}]}",
                 "a/b", TRUE, TRUE, TRUE);
}

static void
test_only_the_asked_repository_counts (void **state)
{
  /* other repositories, other types, the catalog: not this repository */
  const gchar *claims =
    "{\"access\":[{\"type\":\"repository\",\"name\":\"demo/other\",\"actions\":[\"push\",\"delete\"]},"
    "{\"type\":\"registry\",\"name\":\"catalog\",\"actions\":[\"*\"]},"
    "{\"type\":\"repository(plugin)\",\"name\":\"demo/hello\",\"actions\":[\"delete\"]},"
    "{\"type\":\"repository\",\"name\":\"demo/hello\",\"actions\":[\"pull\"]}]}";
  assert_access (claims, "demo/hello", TRUE, FALSE, FALSE);
  assert_access (claims, "demo/other", FALSE, TRUE, TRUE);
  /* two entries for one repository add up */
  assert_access ("{\"access\":[{\"type\":\"repository\",\"name\":\"x\",\"actions\":[\"pull\"]},"
                 "{\"type\":\"repository\",\"name\":\"x\",\"actions\":[\"push\"]}]}", "x", TRUE, TRUE, FALSE);
  /* no access claim, an empty one, null: nothing granted (an anonymous token) */
  assert_access ("{\"sub\":\"\"}", "x", FALSE, FALSE, FALSE);
  assert_access ("{\"access\":[]}", "x", FALSE, FALSE, FALSE);
  assert_access ("{\"access\":null}", "x", FALSE, FALSE, FALSE);
}

static void
test_odd_entries_are_skipped (void **state)
{
  assert_access ("{\"access\":[1,\"x\",null,{\"type\":\"repository\",\"name\":\"x\"},"
                 "{\"type\":\"repository\",\"name\":\"x\",\"actions\":\"push\"},"
                 "{\"type\":\"repository\",\"name\":\"x\",\"actions\":[7,null,{\"a\":1},\"PUSH\",\"delete\"]}]}",
                 "x", FALSE, FALSE, TRUE);
}

static void
test_not_a_jwt (void **state)
{
  RegistryAccess a;
  /* an opaque token, a JWT whose payload is not JSON or not an object,
   * an "access" that is not a list, wrong part counts, bad base64url */
  g_autofree gchar *not_json = g_strconcat ("eyJhbGciOiJub25lIn0.", "bm90IGpzb24", ".sig", NULL);
  g_autofree gchar *array = jwt ("[1,2]");
  g_autofree gchar *access_object = jwt ("{\"access\":{\"type\":\"repository\"}}");
  const gchar *bad[] = { "opaque-token-1234", "a.b", "a.b.c.d", "..", "a.!!!.c", "", not_json, array,
                         access_object, NULL };
  for (int i = 0; bad[i]; i++)
    assert_false (registry_access_from_token (bad[i], "x", &a));
  assert_false (registry_access_from_token (NULL, "x", &a));
  assert_false (a.pull || a.push || a.delete);
}

static void
test_huge_token_is_refused (void **state)
{
  GString *claims = g_string_new ("{\"access\":[");
  while (claims->len < 100 * 1024)
    g_string_append (claims, "{\"type\":\"repository\",\"name\":\"x\",\"actions\":[\"pull\"]},");
  g_string_append (claims, "{}]}");
  g_autofree gchar *token = jwt (claims->str);
  RegistryAccess a;
  assert_false (registry_access_from_token (token, "x", &a));
  g_string_free (claims, TRUE);
}

static void
test_repository_names (void **state)
{
  const gchar *good[] = { "a", "demo/hello", "library/busybox-like", "a/b/c/d", "a.b", "a_b", "a__b",
                          "a---b", "0", "project-b/app", "x9/y8", NULL };
  const gchar *bad[] = { "", "A", "demo/Hello", "/a", "a/", "a//b", "a..b", "a___b", ".a", "a.", "-a",
                         "a-", "a_", "a b", "a:b", "a@b", "ü", "a/../b", "a\nb", NULL };
  for (int i = 0; good[i]; i++)
    assert_true (registry_access_name_valid (good[i]));
  for (int i = 0; bad[i]; i++)
    assert_false (registry_access_name_valid (bad[i]));
  assert_false (registry_access_name_valid (NULL));
  g_autofree gchar *long_name = g_strnfill (256, 'a');
  assert_false (registry_access_name_valid (long_name));
  long_name[255] = '\0';
  assert_true (registry_access_name_valid (long_name));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_granted_actions),
    cmocka_unit_test (test_pull_only),
    cmocka_unit_test (test_wildcard),
    cmocka_unit_test (test_only_the_asked_repository_counts),
    cmocka_unit_test (test_odd_entries_are_skipped),
    cmocka_unit_test (test_not_a_jwt),
    cmocka_unit_test (test_huge_token_is_refused),
    cmocka_unit_test (test_repository_names),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
