/* channel-registry-access.h: the "registry-access" payload: what the
 * session's credential may do in one repository of a registry with token
 * auth, as its token service grants it. Log domain: cockpit-wrapper.
 *
 *   open {"payload":"registry-access","repository":"ns/name"}
 *   → ready → one payload frame, then close:
 *     {"known":true,"pull":B,"push":B,"delete":B}   token auth: the grant
 *     {"known":false}                               no token auth (htpasswd,
 *                                                   none), or a token that
 *                                                   is not a readable JWT
 *
 * The server asks the registry's token realm (from the 401 Bearer challenge
 * of GET /v2/) for scope "repository:NAME:pull,push,delete" with the
 * session's credential and reads the JWT's "access" claim. Decoding the
 * payload is enough: the console is the client reading what it was granted;
 * the registry, not this answer, enforces it. The UI uses it to offer only
 * what the user may do. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void channel_registry_access_register (void);

/* The access the token grants to REPOSITORY. */
typedef struct {
  gboolean pull;
  gboolean push;
  gboolean delete;
} RegistryAccess;

/* Read the "access" claim of TOKEN (a JWT: header.payload.signature,
 * base64url; the signature is not checked) for type "repository" and
 * name REPOSITORY ("*" grants every action). FALSE when TOKEN is not a
 * JWT with a JSON payload (an opaque token); a JWT without an entry for
 * REPOSITORY grants nothing (TRUE, all FALSE). Exposed for tests. */
gboolean registry_access_from_token (const gchar *token, const gchar *repository, RegistryAccess *out);

/* Is NAME a repository name of the Distribution spec (lowercase components
 * [a-z0-9]+ joined by ".", "_", "__" or "-"+, separated by "/", at most 255
 * characters)? */
gboolean registry_access_name_valid (const gchar *name);

G_END_DECLS
