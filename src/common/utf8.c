/* utf8.c: see utf8.h. */
#include "config.h"

#include "common/utf8.h"

#include <string.h>

static const guint8 replacement[] = { 0xef, 0xbf, 0xbd };   /* U+FFFD */

/* Length of a sequence starting with lead byte C, 0 when C cannot start
 * one (continuation bytes, 0xc0/0xc1 always overlong, 0xf5… out of range). */
static guint
sequence_length (guint8 c)
{
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    return 2;
  if (c >= 0xe0 && c <= 0xef)
    return 3;
  if (c >= 0xf0 && c <= 0xf4)
    return 4;
  return 0;
}

/* How the first AVAIL bytes at P (P[0] a lead byte of a sequence of length
 * N) fare: 1 valid and complete, 0 a valid prefix that needs more bytes,
 * -1 invalid (then *BAD_LEN bytes are to be replaced: the maximal prefix, as
 * in the Unicode "substitution of maximal subparts" practice). */
static int
check_sequence (const guint8 *p, gsize avail, guint n, guint *bad_len)
{
  for (guint i = 1; i < n; i++)
    {
      if (i >= avail)
        return 0;
      guint8 lo = 0x80, hi = 0xbf;
      if (i == 1)
        {
          /* the second byte's range excludes overlong forms, surrogates and
           * code points past U+10FFFF */
          if (p[0] == 0xe0)
            lo = 0xa0;
          else if (p[0] == 0xed)
            hi = 0x9f;
          else if (p[0] == 0xf0)
            lo = 0x90;
          else if (p[0] == 0xf4)
            hi = 0x8f;
        }
      if (p[i] < lo || p[i] > hi)
        {
          *bad_len = i;
          return -1;
        }
    }
  return 1;
}

gboolean
utf8_stream_pending (const Utf8Stream *stream)
{
  return stream->held_len > 0;
}

/* Append the valid UTF-8 of DATA to OUT; keep an incomplete tail in STREAM
 * unless FINAL. */
static void
sanitize (Utf8Stream *stream, const guint8 *data, gsize len, gboolean final, GByteArray *out)
{
  gsize i = 0;
  while (i < len)
    {
      guint n = sequence_length (data[i]);
      guint bad = 1;
      if (n == 1)
        {
          gsize start = i;
          while (i < len && data[i] < 0x80)
            i++;
          g_byte_array_append (out, data + start, i - start);
          continue;
        }
      int state = n ? check_sequence (data + i, len - i, n, &bad) : -1;
      if (state > 0)
        {
          g_byte_array_append (out, data + i, n);
          i += n;
        }
      else if (state == 0 && !final)
        {
          stream->held_len = len - i;
          memcpy (stream->held, data + i, stream->held_len);
          return;
        }
      else
        {
          g_byte_array_append (out, replacement, sizeof replacement);
          i += state == 0 ? len - i : bad;
        }
    }
}

const guint8 *
utf8_stream_piece (Utf8Stream *stream, const guint8 *data, gsize len, gboolean final,
                   gsize *out_len, guint8 **copy)
{
  const gchar *end = NULL;

  *copy = NULL;
  /* the common case: nothing held, the piece valid and complete */
  if (stream->held_len == 0 && g_utf8_validate_len ((const gchar *) data, len, &end))
    {
      *out_len = len;
      return data;
    }

  GByteArray *out = g_byte_array_sized_new (len + 8);
  g_autofree guint8 *joined = NULL;
  if (stream->held_len > 0)
    {
      /* rare: a character was cut at the end of the last piece */
      joined = g_malloc (stream->held_len + len);
      memcpy (joined, stream->held, stream->held_len);
      memcpy (joined + stream->held_len, data, len);
      len += stream->held_len;
      data = joined;
      stream->held_len = 0;
    }
  sanitize (stream, data, len, final, out);
  *out_len = out->len;
  *copy = g_byte_array_free (out, FALSE);
  return *copy;
}
