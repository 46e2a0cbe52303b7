/* registry-credential.h: what a session presents to the registry, shared by
 * http-stream2 and the registry channels: the Basic credential (a
 * registry's own user and password, or the OpenShift token as the
 * integrated registry's password), and a key that names the user in
 * per-user cache entries without revealing anything. No I/O.
 * Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>
#include "common/session.h"

G_BEGIN_DECLS

/* "Basic …" for the registry (transfer full, a secret: free with
 * rc_secret_free), or NULL when the session has no credential. */
gchar *registry_credential_for_session (RcSession *session);

/* sha256 hex of the backend, user and credential (transfer full): the
 * same user with the same credential gets the same key. */
gchar *registry_credential_user_key (RcSession *session);

G_END_DECLS
