/* test-socket.c: frame and control-message parsing. */
#include "config.h"

#include "common/rcconfig.h"
#include "ws/socket.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

static void
test_frame_splits_channel_and_payload (void **state)
{
  const gchar *ch, *pl;
  gsize chl, pll;
  const gchar frame[] = "4:1\nhello\nworld";
  assert_true (socket_parse_frame (frame, strlen (frame), &ch, &chl, &pl, &pll));
  assert_int_equal (chl, 3);
  assert_memory_equal (ch, "4:1", 3);
  assert_int_equal (pll, 11);
  assert_memory_equal (pl, "hello\nworld", 11);
}

static void
test_frame_control_channel_is_empty (void **state)
{
  const gchar *ch, *pl;
  gsize chl, pll;
  assert_true (socket_parse_frame ("\n{}", 3, &ch, &chl, &pl, &pll));
  assert_int_equal (chl, 0);
  assert_int_equal (pll, 2);
}

static void
test_frame_without_newline_rejected (void **state)
{
  const gchar *ch, *pl;
  gsize chl, pll;
  assert_false (socket_parse_frame ("abc", 3, &ch, &chl, &pl, &pll));
  assert_false (socket_parse_frame ("", 0, &ch, &chl, &pl, &pll));
}

static void
test_frame_channel_with_space_rejected (void **state)
{
  const gchar *ch, *pl;
  gsize chl, pll;
  assert_false (socket_parse_frame ("a b\nx", 5, &ch, &chl, &pl, &pll));
  assert_false (socket_parse_frame ("a\x01\nx", 4, &ch, &chl, &pl, &pll));
}

static void
test_frame_overlong_channel_rejected (void **state)
{
  const gchar *ch, *pl;
  gsize chl, pll;
  g_autofree gchar *big = g_strnfill (1000, 'a');
  g_autofree gchar *frame = g_strconcat (big, "\nx", NULL);
  assert_false (socket_parse_frame (frame, strlen (frame), &ch, &chl, &pl, &pll));
}

static void
test_control_parses_command (void **state)
{
  const gchar *command = NULL;
  g_autoptr(GError) error = NULL;
  const gchar json[] = "{\"command\":\"open\",\"channel\":\"a\",\"payload\":\"echo\"}";
  g_autoptr(JsonObject) o = socket_parse_control (json, strlen (json), &command, &error);
  assert_non_null (o);
  assert_string_equal (command, "open");
  assert_string_equal (json_object_get_string_member (o, "payload"), "echo");
}

static void
test_control_rejects_bad_json (void **state)
{
  const gchar *bad[] = { "{", "[]", "42", "\"x\"", "{\"command\":5}", "{}",
                         "{\"command\":\"open\",\"channel\":7}", "nul", "" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const gchar *command = NULL;
      g_autoptr(GError) error = NULL;
      JsonObject *o = socket_parse_control (bad[i], strlen (bad[i]), &command, &error);
      assert_null (o);
      assert_non_null (error);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_frame_splits_channel_and_payload),
    cmocka_unit_test (test_frame_control_channel_is_empty),
    cmocka_unit_test (test_frame_without_newline_rejected),
    cmocka_unit_test (test_frame_channel_with_space_rejected),
    cmocka_unit_test (test_frame_overlong_channel_rejected),
    cmocka_unit_test (test_control_parses_command),
    cmocka_unit_test (test_control_rejects_bad_json),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
