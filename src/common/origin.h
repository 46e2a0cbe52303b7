/* origin.h: the one origin check, for every state-changing request (login,
 * token, logout) and every WebSocket upgrade.
 *
 * Origins are compared in normalized form: lowercase scheme and host, the
 * default port (443 for https, 80 for http) left out, IPv6 hosts in
 * brackets, nothing after the port. So "https://H" with "Host: h:443"
 * matches, and "https://h.evil" or "https://h:444" do not. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SCHEME://HOST[:PORT] of an absolute http(s) URL or origin (transfer full),
 * or NULL when URL is not one (including "null"). */
gchar *origin_normalize (const gchar *url);

/* TRUE when ORIGIN (a request's Origin header) is the console's own origin
 * OWN (scheme://Host as the browser addressed it) or one of ALLOWED
 * (configured URLs: COCKPIT_KUBE_URL, Origins; a path is ignored). */
gboolean origin_allowed (const gchar *origin, const gchar *own, const gchar *const *allowed);

G_END_DECLS
