/* login.h: checking login credentials with the master or the registry.
 * Log domain: cockpit-wrapper.
 *
 * OpenShift: a bearer token is checked with GET
 * /apis/user.openshift.io/v1/users/~ (404 → /oapi/v1/users/~); the user
 * name is the answer's metadata.name.
 * Registry: "Basic base64(user:password)" is checked by the registry itself:
 * GET /v2/ without credentials; 200 means no authentication at all; a Basic
 * challenge is answered with the credential; a Bearer challenge sends the
 * credential to the token realm. Credentials the registry accepted are
 * remembered for a few minutes as a keyed hash (never the credential), so a
 * returning user is not queued behind a password-guessing attack. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The outcome of a check, exactly once. On success USER, BACKEND ("master"
 * or "registry") and CREDENTIAL (the Authorization value the session keeps)
 * are set and PROBLEM is NULL; on failure STATUS is the HTTP status to answer
 * (401, 403, 502), PROBLEM a Cockpit problem code, MESSAGE says why and USER
 * is the name tried, when known (outside input: escape it to log it). The
 * strings are valid during the call only. */
typedef void (*LoginDoneFunc) (const gchar *user, const gchar *backend, const gchar *credential,
                               guint status, const gchar *problem, const gchar *message,
                               gpointer user_data);

/* TOKEN: the OAuth access token (without "Bearer "). */
void login_check_token (const gchar *token, LoginDoneFunc done, gpointer user_data);
/* AUTHORIZATION: the request's "Basic …" header value. */
void login_check_basic (const gchar *authorization, LoginDoneFunc done, gpointer user_data);

/* TRUE when the registry accepted this "Basic …" credential a few minutes
 * ago: checking it again costs nothing. */
gboolean login_basic_recently_verified (const gchar *authorization);

/* Forget remembered credentials (shutdown, tests). */
void login_shutdown (void);

G_END_DECLS
