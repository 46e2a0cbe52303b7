/* fuzz-config.c: cockpit.conf reader (config_load_file). Every input is
 * accepted or rejected with a CONFIG_ERROR naming the key; values that are
 * accepted are within their documented ranges. */
#include <errno.h>
#include "fuzz-common.h"
#include "common/rcconfig.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree gchar *path = NULL;
  g_autoptr(GError) error = NULL;
  fuzz_quiet_logs ();
  int fd = fuzz_memfd (data, size, &path);
  g_autoptr(Config) cfg = config_new_defaults ();
  gboolean ok = config_load_file (cfg, path, &error);
  g_assert (ok == (error == NULL));
  if (ok)
    {
      g_assert (cfg->url_root != NULL);
      g_assert (cfg->url_root[0] == '\0' || (cfg->url_root[0] == '/' && !g_str_has_suffix (cfg->url_root, "/")));
      for (gchar **o = cfg->origins; o && *o; o++)
        g_assert (**o != '\0');
    }
  close (fd);
  return 0;
}
