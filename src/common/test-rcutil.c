/* test-rcutil.c: the small helpers (rcutil.h) and the typed JSON getters
 * (rcjson.h). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "common/rcutil.h"
#include "common/rcjson.h"

static void
test_base64url_roundtrip_every_length (void **state)
{
  guint8 data[64];
  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 37 + 250);   /* includes bytes that give + and / */
  for (gsize n = 1; n <= sizeof data; n++)
    {
      g_autofree gchar *enc = rc_base64url_encode (data, n);
      assert_null (strpbrk (enc, "+/="));
      gsize len = 0;
      g_autofree guint8 *dec = rc_base64url_decode (enc, 0, &len);
      assert_non_null (dec);
      assert_int_equal (len, n);
      assert_memory_equal (dec, data, n);
    }
}

static void
test_base64url_decode_refuses (void **state)
{
  gsize len;
  assert_null (rc_base64url_decode ("", 0, &len));
  assert_null (rc_base64url_decode ("a+b/", 0, &len));     /* plain base64 alphabet */
  assert_null (rc_base64url_decode ("abcde", 0, &len));    /* impossible length */
  assert_null (rc_base64url_decode ("abcdefgh", 4, &len)); /* over the limit */
  g_autofree guint8 *ok = rc_base64url_decode ("YQ==", 0, &len);
  assert_non_null (ok);
  assert_int_equal (len, 1);
}

static void
test_hex (void **state)
{
  const guint8 raw[] = { 0x00, 0xab, 0xff, 0x10 };
  g_autofree gchar *hex = rc_hex_encode (raw, sizeof raw);
  assert_string_equal (hex, "00abff10");
  guint8 back[4];
  assert_true (rc_hex_decode ("00ABff10", back, 4));
  assert_memory_equal (back, raw, 4);
  assert_false (rc_hex_decode ("00abff1", back, 4));
  assert_false (rc_hex_decode ("00abff1g", back, 4));
  assert_false (rc_hex_decode ("00abff1000", back, 4));
}

static void
test_random_values_differ (void **state)
{
  g_autofree gchar *a = rc_random_hex (32);
  g_autofree gchar *b = rc_random_hex (32);
  assert_int_equal (strlen (a), 64);
  assert_string_not_equal (a, b);
  g_autofree gchar *c = rc_random_base64url (24);
  assert_int_equal (strlen (c), 32);
}

static void
test_secret_equal_and_strip (void **state)
{
  assert_true (rc_secret_equal ("abc", "abc"));
  assert_false (rc_secret_equal ("abc", "abd"));
  assert_false (rc_secret_equal ("abc", "abcd"));
  assert_false (rc_secret_equal ("", "a"));
  gchar s[] = "https://x///";
  assert_string_equal (rc_strip_trailing_slashes (s), "https://x");
  gchar t[] = "/";
  assert_string_equal (rc_strip_trailing_slashes (t), "");
}

static void
test_log_escape_forged_lines (void **state)
{
  g_autofree gchar *a = rc_log_escape ("alice\nlogin of admin succeeded", 0);
  assert_string_equal (a, "alice\\nlogin of admin succeeded");
  g_autofree gchar *b = rc_log_escape ("x\r\t\x1b[31m\\", 0);
  assert_string_equal (b, "x\\r\\t\\x1b[31m\\\\");
  g_autofree gchar *c = rc_log_escape ("caf\xc3\xa9 \xff", 0);     /* UTF-8 kept, a stray byte escaped */
  assert_string_equal (c, "caf\xc3\xa9 \\xff");
  g_autofree gchar *d = rc_log_escape ("a\xc2\x85" "b", 0);        /* U+0085 NEXT LINE */
  assert_string_equal (d, "a\\u0085b");
  g_autofree gchar *e = rc_log_escape ("0123456789", 4);
  assert_string_equal (e, "0123…");
  g_autofree gchar *f = rc_log_escape (NULL, 0);
  assert_string_equal (f, "(null)");
}

static void
test_json_getters (void **state)
{
  g_autoptr(GError) error = NULL;
  const gchar *text = "{\"s\":\"v\",\"i\":7,\"b\":true,\"o\":{\"x\":{\"y\":1}},\"a\":[1],\"n\":null}";
  g_autoptr(JsonObject) o = rc_json_parse_object (text, strlen (text), &error);
  assert_non_null (o);
  const gchar *s = "unset";
  gint64 i = -1;
  gboolean b = FALSE;
  JsonObject *obj = NULL;
  JsonArray *arr = NULL;

  assert_true (rc_json_get_string (o, "s", NULL, &s));
  assert_string_equal (s, "v");
  assert_true (rc_json_get_string (o, "missing", "def", &s));
  assert_string_equal (s, "def");
  assert_true (rc_json_get_string (o, "n", "def", &s));
  assert_null (s);
  s = "kept";
  assert_false (rc_json_get_string (o, "i", NULL, &s));
  assert_string_equal (s, "kept");

  assert_true (rc_json_get_int (o, "i", 0, &i));
  assert_int_equal (i, 7);
  assert_false (rc_json_get_int (o, "s", 0, &i));
  assert_true (rc_json_get_int (o, "missing", 3, &i));
  assert_int_equal (i, 3);
  assert_true (rc_json_get_bool (o, "b", FALSE, &b));
  assert_true (b);
  assert_false (rc_json_get_bool (o, "i", FALSE, &b));
  assert_true (rc_json_get_object (o, "o", NULL, &obj));
  assert_non_null (obj);
  assert_false (rc_json_get_object (o, "a", NULL, &obj));
  assert_true (rc_json_get_array (o, "a", NULL, &arr));
  assert_int_equal (json_array_get_length (arr), 1);
  assert_non_null (rc_json_object_at (o, "o.x"));
  assert_null (rc_json_object_at (o, "o.x.y"));
  assert_null (rc_json_object_at (o, "s.x"));
  assert_string_equal (rc_json_string_or (o, "i", "d"), "d");
}

static void
test_json_parse_refuses_non_objects (void **state)
{
  const gchar *bad[] = { "[]", "1", "\"x\"", "{", "", "null", NULL };
  for (int i = 0; bad[i]; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) o = rc_json_parse_object (bad[i], strlen (bad[i]), &error);
      assert_null (o);
      assert_non_null (error);
    }
}

/* {"x": ARRAYS nested arrays}: ARRAYS + 1 levels in all. */
static GString *
nested_object (guint arrays)
{
  GString *s = g_string_new ("{\"x\":");
  for (guint i = 0; i < arrays; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < arrays; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  return s;
}

/* Deep nesting is refused before json-glib's recursive parser sees it
 * (200,000 levels overflowed its stack and took the server down); the
 * limit itself parses; brackets inside strings do not count. */
static void
test_json_parse_refuses_deep_nesting (void **state)
{
  GString *s = nested_object (200000);
  g_autoptr(GError) error = NULL;
  JsonObject *o = rc_json_parse_object (s->str, s->len, &error);
  assert_null (o);
  assert_non_null (error);
  assert_non_null (strstr (error->message, "nested deeper"));
  g_string_free (s, TRUE);

  /* RC_JSON_MAX_DEPTH levels in all (the object is one) parse */
  s = nested_object (RC_JSON_MAX_DEPTH - 1);
  g_autoptr(JsonObject) ok = rc_json_parse_object (s->str, s->len, NULL);
  assert_non_null (ok);
  g_string_free (s, TRUE);
  /* one more is refused */
  s = nested_object (RC_JSON_MAX_DEPTH);
  assert_null (rc_json_parse_object (s->str, s->len, NULL));
  g_string_free (s, TRUE);

  /* brackets and escaped quotes inside strings are text */
  s = g_string_new ("{\"label\":\"\\\"");
  for (guint i = 0; i < 1000; i++)
    g_string_append (s, "[{");
  g_string_append (s, "\"}");
  g_autoptr(JsonObject) text = rc_json_parse_object (s->str, s->len, NULL);
  assert_non_null (text);
  assert_int_equal (strlen (json_object_get_string_member (text, "label")), 2001);
  g_string_free (s, TRUE);
}

static void
test_json_build (void **state)
{
  g_autofree gchar *a = rc_json_build_text ("command", "close", "channel", "4", "problem", NULL, NULL);
  assert_string_equal (a, "{\"command\":\"close\",\"channel\":\"4\"}");
  g_autofree gchar *b = rc_json_build_text ("message", "a\"b\n<c>", NULL);
  assert_string_equal (b, "{\"message\":\"a\\\"b\\n<c>\"}");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_base64url_roundtrip_every_length),
    cmocka_unit_test (test_base64url_decode_refuses),
    cmocka_unit_test (test_hex),
    cmocka_unit_test (test_random_values_differ),
    cmocka_unit_test (test_secret_equal_and_strip),
    cmocka_unit_test (test_log_escape_forged_lines),
    cmocka_unit_test (test_json_getters),
    cmocka_unit_test (test_json_parse_refuses_non_objects),
    cmocka_unit_test (test_json_parse_refuses_deep_nesting),
    cmocka_unit_test (test_json_build),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
