/* registry-output.h: what a registry channel sends, batched: rows (lines of
 * JSON, registry-row.h) gather in a buffer that goes out as one payload
 * frame of whole lines when it passes 16 KiB, or 25 ms after its first row
 * (so the first rows show at once and a fast walk does not send a frame
 * per row); progress goes as a "progress" control message at most every
 * 250 ms. Rows are always sent before a control message that follows them.
 * Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "ws/socket.h"

G_BEGIN_DECLS

#define REGISTRY_FRAME_SIZE (16 * 1024)

typedef struct _RegistryOutput RegistryOutput;

/* For CHANNEL (transfer none). The channel's closed() hook must call
 * registry_output_detach(); the owner keeps the output alive (a reference
 * on its own state) across the calls below, since sending can close the
 * channel (the browser is not reading: "too-large"). */
RegistryOutput *registry_output_new (RcChannel *channel);
void registry_output_detach (RegistryOutput *output);
void registry_output_free (RegistryOutput *output);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryOutput, registry_output_free)

/* The buffer to append whole rows to; call registry_output_commit() after. */
GString *registry_output_rows (RegistryOutput *output);
/* Send when the buffer is full, else arm the timer. FALSE when the channel
 * is gone (now or before). */
gboolean registry_output_commit (RegistryOutput *output);
/* Send the buffered rows now. FALSE as above. */
gboolean registry_output_flush (RegistryOutput *output);

/* {"command":"progress", …FIELDS}: sent when 250 ms passed since the last
 * one, or FORCE. Takes FIELDS (transfer full). */
void registry_output_progress (RegistryOutput *output, JsonObject *fields, gboolean force);

/* Rows sent so far, frames sent so far. */
guint registry_output_get_rows (RegistryOutput *output);
guint registry_output_get_frames (RegistryOutput *output);

G_END_DECLS
