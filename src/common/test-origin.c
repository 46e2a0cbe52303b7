/* test-origin.c: the one origin check (login, token, logout, WebSocket). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/origin.h"

static void
test_origin_own_matches_scheme_and_host (void **state)
{
  assert_true (origin_allowed ("https://h:9090", "https://h:9090", NULL));
  assert_false (origin_allowed ("http://h:9090", "https://h:9090", NULL));
  assert_true (origin_allowed ("http://h:9090", "http://h:9090", NULL));
  assert_false (origin_allowed ("https://evil.example", "https://h:9090", NULL));
  assert_false (origin_allowed (NULL, "https://h:9090", NULL));
  assert_false (origin_allowed ("", "https://h:9090", NULL));
  assert_false (origin_allowed ("null", "https://h:9090", NULL));
  assert_false (origin_allowed ("https://h:9090.evil", "https://h:9090", NULL));
  assert_false (origin_allowed ("https://h:9090/", "https://h:9090", NULL));
  assert_false (origin_allowed ("https://user@h:9090", "https://h:9090", NULL));
}

static void
test_origin_default_port_and_case (void **state)
{
  /* the browser leaves out :443; a proxy may put it into Host */
  assert_true (origin_allowed ("https://h", "https://h:443", NULL));
  assert_true (origin_allowed ("https://h:443", "https://h", NULL));
  assert_true (origin_allowed ("http://h", "http://h:80", NULL));
  assert_false (origin_allowed ("http://h", "http://h:443", NULL));
  assert_true (origin_allowed ("HTTPS://H.Example", "https://h.example", NULL));
  assert_true (origin_allowed ("https://[::1]:9090", "https://[::1]:9090", NULL));
  assert_false (origin_allowed ("https://[::2]:9090", "https://[::1]:9090", NULL));
}

static void
test_origin_configured_list (void **state)
{
  const gchar *allowed[] = { "https://console.apps.example.com/", "https://other:8443", NULL };
  assert_true (origin_allowed ("https://console.apps.example.com", "https://internal:9090", allowed));
  assert_true (origin_allowed ("https://console.apps.example.com:443", "https://internal:9090", allowed));
  assert_true (origin_allowed ("https://other:8443", "https://internal:9090", allowed));
  assert_false (origin_allowed ("https://console.apps.example.co", "https://internal:9090", allowed));
  assert_false (origin_allowed ("https://other:84433", "https://internal:9090", allowed));
  assert_false (origin_allowed ("http://other:8443", "https://internal:9090", allowed));
  assert_false (origin_allowed ("https://other:8443", NULL, NULL));
}

static void
test_normalize (void **state)
{
  g_autofree gchar *a = origin_normalize ("https://Example.COM:443/path?q");
  assert_string_equal (a, "https://example.com");
  g_autofree gchar *b = origin_normalize ("http://x:8080");
  assert_string_equal (b, "http://x:8080");
  assert_null (origin_normalize ("ftp://x"));
  assert_null (origin_normalize ("x"));
  assert_null (origin_normalize ("null"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_origin_own_matches_scheme_and_host),
    cmocka_unit_test (test_origin_default_port_and_case),
    cmocka_unit_test (test_origin_configured_list),
    cmocka_unit_test (test_normalize),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
