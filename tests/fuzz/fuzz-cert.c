/* fuzz-cert.c: the .cert loader (certificate_load) on arbitrary file
 * contents: PEM blocks, base64, keys, chains. Any input must give a
 * Certificate or a GError, never a crash, leak or hang. */
#include <errno.h>
#include "fuzz-common.h"
#include "common/certificate.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree gchar *path = NULL;
  g_autoptr(GError) error = NULL;
  fuzz_quiet_logs ();
  int fd = fuzz_memfd (data, size, &path);
  Certificate *cert = certificate_load (path, &error);
  g_assert ((cert == NULL) != (error == NULL));
  if (cert)
    {
      g_assert (cert->n_certs > 0);
      g_assert (cert->key != NULL);
      certificate_free (cert);
    }
  else
    {
      g_assert (error->domain == CERTIFICATE_ERROR);
      g_assert (g_str_has_prefix (error->message, path));
    }
  close (fd);
  return 0;
}
