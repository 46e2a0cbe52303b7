/* channel-http-stream2.h: the "http-stream2" payload: one HTTP request to the
 * master or the registry with the session's credential, the response streamed
 * back. Log domain: cockpit-wrapper. DESIGN.md §5. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Register the ChannelType. idle_timeout_s: a channel opened on a session
 * idle for longer is refused with "authentication-failed"; opening one
 * refreshes the session's idle expiry. 0 disables. */
void channel_http_stream2_register (guint idle_timeout_s);

/* Exposed for tests and fuzzing: is PATH allowed for BACKEND ("master" or
 * "registry")? */
gboolean channel_http_stream2_path_allowed (const gchar *backend, const gchar *path);

G_END_DECLS
