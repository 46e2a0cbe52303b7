/* channel-http-stream2.h: the "http-stream2" payload: one HTTP request to the
 * master or the registry with the session's credential, the response streamed
 * back. Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Register the ChannelType. Requests other than watches end after
 * TIMEOUT_S seconds (0: no deadline); one user may hold MAX_WATCHES watches
 * (0: no limit). A request body counts against the socket's budget. */
void channel_http_stream2_register (guint timeout_s, guint max_watches);

/* Exposed for tests and fuzzing: is PATH allowed for BACKEND ("master" or
 * "registry")? */
gboolean channel_http_stream2_path_allowed (const gchar *backend, const gchar *path);

G_END_DECLS
