/* replay-main.c: run a fuzz target's LLVMFuzzerTestOneInput on files
 * (the regression inputs in tests/fuzz/regressions/TARGET/), built with the
 * normal compiler so `make check` replays every crash ever found.
 *   replay-TARGET FILE|DIR ... */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
replay_file (const gchar *path)
{
  g_autofree gchar *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  g_print ("ok %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  return 0;
}

int
main (int argc, char **argv)
{
  int failed = 0, n = 0;
  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
          const gchar *name;
          while (dir && (name = g_dir_read_name (dir)))
            {
              g_autofree gchar *p = g_build_filename (argv[i], name, NULL);
              failed |= replay_file (p);
              n++;
            }
        }
      else
        {
          failed |= replay_file (argv[i]);
          n++;
        }
    }
  g_print ("%d input(s) replayed\n", n);
  return failed;
}
