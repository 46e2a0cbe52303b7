/* test-registry-cache.c: the LRU of the registry channels: bounded by the
 * bytes it is charged, least recently used out first, references that
 * outlive eviction, the per-kind and per-registry keys, the SEEN hint. */
#include "config.h"

#include "ws/registry-cache.h"
#include "ws/registry-image.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define REG "http://registry.example:5000"

/* A counted value: how many are alive tells whether eviction freed them. */
static gint alive;

typedef struct {
  gint refs;
  gint id;
} Value;

static Value *
value_new (gint id)
{
  Value *v = g_new0 (Value, 1);
  v->refs = 1;
  v->id = id;
  alive++;
  return v;
}

static gpointer
value_ref (gpointer p)
{
  ((Value *) p)->refs++;
  return p;
}

static void
value_unref (gpointer p)
{
  Value *v = p;
  if (--v->refs == 0)
    {
      alive--;
      g_free (v);
    }
}

static void
put (RegistryCacheKind kind, const gchar *key, gint id, gsize charge)
{
  Value *v = value_new (id);
  registry_cache_insert (kind, REG, key, v, charge, value_ref, value_unref);
  value_unref (v);
}

static gint
get (RegistryCacheKind kind, const gchar *key)
{
  Value *v = registry_cache_lookup (kind, REG, key);
  if (!v)
    return -1;
  gint id = v->id;
  value_unref (v);
  return id;
}

static int
setup (void **state)
{
  registry_cache_set_budget (10000);
  registry_cache_clear ();
  return 0;
}

static int
teardown (void **state)
{
  registry_cache_clear ();
  assert_int_equal (alive, 0);
  return 0;
}

static void
test_lookup_finds_what_was_stored (void **state)
{
  put (REGISTRY_CACHE_MANIFEST, "sha256:a", 1, 100);
  assert_int_equal (get (REGISTRY_CACHE_MANIFEST, "sha256:a"), 1);
  assert_int_equal (get (REGISTRY_CACHE_MANIFEST, "sha256:b"), -1);
  /* kinds and registries do not mix */
  assert_int_equal (get (REGISTRY_CACHE_CONFIG, "sha256:a"), -1);
  assert_null (registry_cache_lookup (REGISTRY_CACHE_MANIFEST, "http://other:5000", "sha256:a"));
  RegistryCacheStats s;
  registry_cache_get_stats (&s);
  assert_int_equal (s.entries, 1);
  assert_int_equal (s.hits, 1);
  assert_int_equal (s.misses, 3);
}

static void
test_budget_evicts_least_recently_used (void **state)
{
  for (gint i = 0; i < 10; i++)
    {
      g_autofree gchar *key = g_strdup_printf ("sha256:%d", i);
      put (REGISTRY_CACHE_MANIFEST, key, i, 1000);
      get (REGISTRY_CACHE_MANIFEST, "sha256:0");      /* keep 0 in use */
    }
  RegistryCacheStats s;
  registry_cache_get_stats (&s);
  assert_true (s.bytes <= 10000);
  assert_true (s.evictions > 0);
  assert_int_equal (get (REGISTRY_CACHE_MANIFEST, "sha256:0"), 0);   /* recently used: kept */
  assert_int_equal (get (REGISTRY_CACHE_MANIFEST, "sha256:1"), -1);  /* oldest unused: gone */
  assert_int_equal (get (REGISTRY_CACHE_MANIFEST, "sha256:9"), 9);
  assert_int_equal (alive, (gint) s.entries);                         /* evicted ones are freed */
}

static void
test_charge_includes_key_and_entry (void **state)
{
  put (REGISTRY_CACHE_CONFIG, "sha256:x", 1, 0);
  RegistryCacheStats s;
  registry_cache_get_stats (&s);
  assert_true (s.bytes >= 100);      /* entry, key and table share, not zero */
}

static void
test_too_big_is_not_kept (void **state)
{
  put (REGISTRY_CACHE_MANIFEST, "sha256:small", 1, 100);
  put (REGISTRY_CACHE_MANIFEST, "sha256:huge", 2, 20000);
  assert_int_equal (get (REGISTRY_CACHE_MANIFEST, "sha256:huge"), -1);
  assert_int_equal (get (REGISTRY_CACHE_MANIFEST, "sha256:small"), 1);   /* not pushed out by it */
}

static void
test_reference_outlives_eviction (void **state)
{
  put (REGISTRY_CACHE_MANIFEST, "sha256:a", 7, 100);
  Value *held = registry_cache_lookup (REGISTRY_CACHE_MANIFEST, REG, "sha256:a");
  registry_cache_clear ();
  assert_int_equal (held->id, 7);
  assert_int_equal (alive, 1);
  value_unref (held);
}

static void
test_replace_drops_the_old_value (void **state)
{
  put (REGISTRY_CACHE_TAGS, "user\nrepo", 1, 100);
  put (REGISTRY_CACHE_TAGS, "user\nrepo", 2, 100);
  assert_int_equal (get (REGISTRY_CACHE_TAGS, "user\nrepo"), 2);
  assert_int_equal (alive, 1);
}

static void
test_shrinking_budget_evicts_at_once (void **state)
{
  for (gint i = 0; i < 5; i++)
    {
      g_autofree gchar *key = g_strdup_printf ("k%d", i);
      put (REGISTRY_CACHE_CONFIG, key, i, 1000);
    }
  registry_cache_set_budget (0);
  RegistryCacheStats s;
  registry_cache_get_stats (&s);
  assert_int_equal (s.entries, 0);
  assert_int_equal (s.bytes, 0);
  assert_int_equal (alive, 0);
  registry_cache_set_budget (10000);
}

static void
collect (const gchar *key, gpointer value, gpointer data)
{
  g_ptr_array_add (data, g_strdup (key));
}

static void
test_foreach_one_kind_most_recent_first (void **state)
{
  put (REGISTRY_CACHE_MANIFEST, "m1", 1, 10);
  put (REGISTRY_CACHE_CONFIG, "c1", 2, 10);
  put (REGISTRY_CACHE_MANIFEST, "m2", 3, 10);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  registry_cache_foreach (REGISTRY_CACHE_MANIFEST, REG, collect, keys);
  assert_int_equal (keys->len, 2);
  assert_string_equal (g_ptr_array_index (keys, 0), "m2");
  assert_string_equal (g_ptr_array_index (keys, 1), "m1");
}

static void
test_seen_remembers_repositories (void **state)
{
  registry_cache_note_seen (REG, "sha256:a", "demo/hello");
  registry_cache_note_seen (REG, "sha256:a", "demo/tools");
  registry_cache_note_seen (REG, "sha256:a", "demo/hello");
  g_auto(GStrv) in = registry_cache_seen_in (REG, "sha256:a");
  assert_int_equal (g_strv_length (in), 2);
  assert_string_equal (in[0], "demo/tools");
  g_auto(GStrv) none = registry_cache_seen_in (REG, "sha256:b");
  assert_int_equal (g_strv_length (none), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_lookup_finds_what_was_stored, setup, teardown),
    cmocka_unit_test_setup_teardown (test_budget_evicts_least_recently_used, setup, teardown),
    cmocka_unit_test_setup_teardown (test_charge_includes_key_and_entry, setup, teardown),
    cmocka_unit_test_setup_teardown (test_too_big_is_not_kept, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reference_outlives_eviction, setup, teardown),
    cmocka_unit_test_setup_teardown (test_replace_drops_the_old_value, setup, teardown),
    cmocka_unit_test_setup_teardown (test_shrinking_budget_evicts_at_once, setup, teardown),
    cmocka_unit_test_setup_teardown (test_foreach_one_kind_most_recent_first, setup, teardown),
    cmocka_unit_test_setup_teardown (test_seen_remembers_repositories, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
