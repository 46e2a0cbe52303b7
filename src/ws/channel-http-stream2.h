/* channel-http-stream2.h: the "http-stream2" payload: one HTTP request to the
 * master or the registry with the session's credential, the response streamed
 * back. Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Register the ChannelType. */
void channel_http_stream2_register (void);

/* Exposed for tests and fuzzing: is PATH allowed for BACKEND ("master" or
 * "registry")? */
gboolean channel_http_stream2_path_allowed (const gchar *backend, const gchar *path);

G_END_DECLS
