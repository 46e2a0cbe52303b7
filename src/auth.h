/* auth.h: login (OpenShift OAuth implicit grant, or registry basic/token auth),
 * sealed session cookie, logout. Log domain: cockpit-wrapper. DESIGN.md §5. */
#pragma once

#include <glib.h>
#include "config.h"
#include "socket.h"

G_BEGIN_DECLS

#define AUTH_COOKIE_NAME "cockpit"

struct _RcSession {
  gchar *user;          /* user name as shown */
  gchar *credential;    /* the value for Authorization: "Bearer …" or "Basic …"; never logged */
  gchar *backend;       /* "master" or "registry" */
  gint64 expires;       /* idle expiry, unix seconds */
};

RcSession *rc_session_copy (const RcSession *session);
void rc_session_free (RcSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcSession, rc_session_free)

/* Registers /cockpit/login, /cockpit/logout, / (login page vs index) and the
 * socket session hook. */
gboolean auth_init (const Config *cfg, GError **error);
void auth_shutdown (void);

G_END_DECLS
