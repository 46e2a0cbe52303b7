/* utf8.h: text that arrives in pieces, made valid UTF-8 piece by piece
 * without corrupting a character cut in two.
 *
 * A browser fails a whole WebSocket on one text frame that is not valid
 * UTF-8, and upstream bodies arrive cut at arbitrary bytes (curl's buffers,
 * our 4 KiB frames). So every text channel passes its data through a
 * Utf8Stream: a sequence that is incomplete at the end of a piece is held
 * back (at most 3 bytes) and sent with the next piece; bytes that can never
 * be valid (stray continuation bytes, overlong forms, surrogates, bytes
 * that cannot start a character) become U+FFFD; what is still held back
 * when the stream ends becomes U+FFFD. Valid input passes through unchanged
 * and, when nothing is held back, without a copy. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint8 held[4];
  guint8 held_len;
} Utf8Stream;

#define UTF8_STREAM_INIT { { 0 }, 0 }

/* The valid UTF-8 to send for the next piece DATA (LEN bytes). Returns
 * either DATA itself (*OUT_LEN = LEN, *COPY = NULL) or a new buffer in
 * *COPY (transfer full, also returned). FINAL: the stream ends with this
 * piece. */
const guint8 *utf8_stream_piece (Utf8Stream *stream, const guint8 *data, gsize len, gboolean final,
                                 gsize *out_len, guint8 **copy);

/* TRUE when bytes are held back. */
gboolean utf8_stream_pending (const Utf8Stream *stream);

G_END_DECLS
