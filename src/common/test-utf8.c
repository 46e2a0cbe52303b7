/* test-utf8.c: text cut into pieces at every offset comes out whole; only
 * truly invalid bytes become U+FFFD. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "common/utf8.h"

/* Feed TEXT in pieces cut at the offsets in CUTS (ascending, then -1). */
static gchar *
feed (const gchar *text, gsize len, const gssize *cuts)
{
  Utf8Stream stream = UTF8_STREAM_INIT;
  GString *out = g_string_new (NULL);
  gsize start = 0;
  for (guint i = 0;; i++)
    {
      gsize end = cuts[i] < 0 ? len : (gsize) cuts[i];
      gboolean final = cuts[i] < 0;
      gsize n = 0;
      g_autofree guint8 *copy = NULL;
      const guint8 *piece = utf8_stream_piece (&stream, (const guint8 *) text + start, end - start, final, &n, &copy);
      assert_true (g_utf8_validate ((const gchar *) piece, n, NULL));
      g_string_append_len (out, (const gchar *) piece, n);
      start = end;
      if (final)
        break;
    }
  assert_false (utf8_stream_pending (&stream));
  return g_string_free (out, FALSE);
}

static void
test_every_split_offset_keeps_every_character (void **state)
{
  /* 1-, 2-, 3- and 4-byte characters side by side */
  const gchar *text = "a\xc3\xa9" "\xe2\x82\xac" "\xf0\x9f\x90\xb3" "z\xc3\xa9\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac";
  gsize len = strlen (text);
  for (gsize a = 0; a <= len; a++)
    for (gsize b = a; b <= len; b++)
      {
        gssize cuts[] = { (gssize) a, (gssize) b, -1 };
        g_autofree gchar *out = feed (text, len, cuts);
        assert_string_equal (out, text);
      }
}

static void
test_long_label_in_four_kib_pieces (void **state)
{
  /* the bug that failed Chromium's socket: 20,000 × "é" cut every 4096 bytes */
  GString *label = g_string_new (NULL);
  for (int i = 0; i < 20000; i++)
    g_string_append (label, "\xc3\xa9");
  GArray *cuts = g_array_new (FALSE, FALSE, sizeof (gssize));
  for (gssize c = 4095; c < (gssize) label->len; c += 4096)
    g_array_append_val (cuts, c);
  gssize end = -1;
  g_array_append_val (cuts, end);
  g_autofree gchar *out = feed (label->str, label->len, (gssize *) cuts->data);
  assert_string_equal (out, label->str);
  g_array_unref (cuts);
  g_string_free (label, TRUE);
}

static void
test_invalid_bytes_become_replacement (void **state)
{
  static const struct { const gchar *in, *out; } cases[] = {
    { "a\xff" "b", "a\xef\xbf\xbd" "b" },                    /* never valid */
    { "a\x80" "b", "a\xef\xbf\xbd" "b" },                    /* stray continuation */
    { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },              /* overlong '/' */
    { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
    { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
    { "\xe2\x82" "x", "\xef\xbf\xbd" "x" },                  /* cut short inside */
    { "ok\xc3", "ok\xef\xbf\xbd" },                          /* cut short at the end of the stream */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gssize cuts[] = { -1 };
      g_autofree gchar *out = feed (cases[i].in, strlen (cases[i].in), cuts);
      assert_string_equal (out, cases[i].out);
      /* the same cut at every offset gives the same text */
      for (gsize a = 0; a <= strlen (cases[i].in); a++)
        {
          gssize cuts2[] = { (gssize) a, -1 };
          g_autofree gchar *out2 = feed (cases[i].in, strlen (cases[i].in), cuts2);
          assert_string_equal (out2, cases[i].out);
        }
    }
}

static void
test_valid_piece_is_not_copied (void **state)
{
  Utf8Stream stream = UTF8_STREAM_INIT;
  const gchar *text = "plain \xc3\xa9 text";
  gsize n = 0;
  g_autofree guint8 *copy = NULL;
  const guint8 *out = utf8_stream_piece (&stream, (const guint8 *) text, strlen (text), FALSE, &n, &copy);
  assert_ptr_equal (out, text);
  assert_null (copy);
  assert_int_equal (n, strlen (text));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_every_split_offset_keeps_every_character),
    cmocka_unit_test (test_long_label_in_four_kib_pieces),
    cmocka_unit_test (test_invalid_bytes_become_replacement),
    cmocka_unit_test (test_valid_piece_is_not_copied),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
