/* fuzz-upstream.c: what a registry says in `WWW-Authenticate` (the Bearer
 * challenge that starts the Distribution token dance), parsed by
 * upstream_parse_bearer_challenge() in src/ws/upstream.c. */
#include "fuzz-common.h"
#include "ws/upstream.h"
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_quiet_logs ();
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  GHashTable *params = upstream_parse_bearer_challenge (text);
  if (!params)
    return 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, params);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      /* names are lower case, values are strings that fit in the input */
      g_assert (k && v);
      for (const gchar *p = k; *p; p++)
        g_assert (!g_ascii_isupper (*p));
      g_assert (strlen (v) <= size);
    }
  g_hash_table_unref (params);
  return 0;
}
