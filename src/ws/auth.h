/* auth.h: sessions over HTTP: the login endpoints (OpenShift OAuth implicit
 * grant, or the registry's own credentials), the sealed session cookie,
 * session info, logout, the token for "docker login". Log domain:
 * cockpit-wrapper. The endpoints are listed in auth.c and in
 * doc/architecture.md. */
#pragma once

#include <glib.h>
#include "common/rcconfig.h"
#include "common/session.h"

G_BEGIN_DECLS

/* Load (or create) the session key, set the session lifetime, and add the
 * routes: /, /cockpit/login/config, /cockpit/login, /cockpit/session,
 * /cockpit/logout, /cockpit/token. Needs upstream_init() first (the mode
 * depends on which backends are configured). */
gboolean auth_init (const Config *cfg, GError **error);
void auth_shutdown (void);

/* The session of a request's Cookie header (transfer full), or NULL when
 * there is none, it is over, or the header carries more than one session
 * cookie. For the WebSocket upgrade (socket_set_session_func). */
RcSession *auth_session_for_cookie (const gchar *cookie_header, gboolean tls);

G_END_DECLS
