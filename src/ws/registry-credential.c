/* registry-credential.c: see registry-credential.h. */
#include "config.h"

#include "ws/registry-credential.h"
#include "common/rcutil.h"

#include <string.h>

gchar *
registry_credential_for_session (RcSession *session)
{
  const gchar *cred = session_get_credential (session);
  if (g_str_has_prefix (cred, "Basic "))
    return g_strdup (cred);
  if (g_str_has_prefix (cred, "Bearer "))
    {
      /* an OpenShift token: the integrated registry takes it as a password */
      g_autoptr(RcSecret) pair = g_strconcat (session_get_user (session), ":", cred + 7, NULL);
      g_autoptr(RcSecret) b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
      return g_strconcat ("Basic ", b64, NULL);
    }
  return NULL;
}

gchar *
registry_credential_user_key (RcSession *session)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  const gchar *parts[] = {
    "registry-console user key\n", session_get_backend (session), "\n",
    session_get_user (session), "\n", session_get_credential (session),
  };
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    g_checksum_update (sum, (const guchar *) parts[i], strlen (parts[i]));
  return g_strdup (g_checksum_get_string (sum));
}
