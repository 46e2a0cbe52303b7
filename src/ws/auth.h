/* auth.h: login (OpenShift OAuth implicit grant, or registry basic/token auth),
 * sealed session cookie, logout. Log domain: cockpit-wrapper. DESIGN.md §5. */
#pragma once

#include <glib.h>
#include "common/rcconfig.h"
#include "ws/socket.h"
#include "common/session.h"

G_BEGIN_DECLS


/* Registers /cockpit/login, /cockpit/logout, / (login page vs index) and the
 * socket session hook. */
gboolean auth_init (const Config *cfg, GError **error);
void auth_shutdown (void);

G_END_DECLS
