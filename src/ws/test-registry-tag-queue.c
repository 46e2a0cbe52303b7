/* test-registry-tag-queue.c: the tags of a walk: the order they are resolved
 * in, the names asked for first, what a priority message may make the
 * server keep, and what one costs as the front grows. */
#include "config.h"

#include "ws/registry-tag-queue.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

static void
assert_pops (RegistryTagQueue *q, const gchar *const *expect)
{
  for (guint i = 0; expect[i]; i++)
    assert_string_equal (registry_tag_queue_pop (q), expect[i]);
  assert_null (registry_tag_queue_pop (q));
  assert_int_equal (registry_tag_queue_waiting (q), 0);
}

static void
test_order_and_front (void **state)
{
  g_autoptr(RegistryTagQueue) q = registry_tag_queue_new ();
  const gchar *names[] = { "a", "b", "c", "d", "e" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    assert_true (registry_tag_queue_add (q, names[i]));
  assert_false (registry_tag_queue_add (q, "c"));
  assert_int_equal (registry_tag_queue_count (q), 5);
  const gchar *first[] = { "d", "b", "d", NULL };
  registry_tag_queue_prioritize (q, first, FALSE);
  assert_string_equal (registry_tag_queue_pop (q), "d");
  /* asked again after it started: nothing moves */
  registry_tag_queue_prioritize (q, (const gchar *[]) { "d", "e", NULL }, FALSE);
  assert_pops (q, (const gchar *[]) { "b", "e", "a", "c", NULL });
  assert_true (registry_tag_queue_seen (q, "a"));
}

static void
test_asked_before_listed (void **state)
{
  g_autoptr(RegistryTagQueue) q = registry_tag_queue_new ();
  registry_tag_queue_add (q, "a");
  registry_tag_queue_prioritize (q, (const gchar *[]) { "later", NULL }, FALSE);
  assert_true (registry_tag_queue_bytes (q) > 0);
  registry_tag_queue_add (q, "b");
  registry_tag_queue_add (q, "later");
  assert_pops (q, (const gchar *[]) { "later", "a", "b", NULL });

  /* once every name is listed, a name not among them is not kept */
  g_autoptr(RegistryTagQueue) done = registry_tag_queue_new ();
  registry_tag_queue_add (done, "a");
  gsize before = registry_tag_queue_bytes (done);
  registry_tag_queue_prioritize (done, (const gchar *[]) { "other", NULL }, TRUE);
  assert_int_equal (registry_tag_queue_bytes (done), before);
}

static void
test_priority_keeps_bounded_bytes (void **state)
{
  g_autoptr(RegistryTagQueue) q = registry_tag_queue_new ();
  /* a name that cannot be a tag (8 MB, or with a slash) is never kept */
  g_autofree gchar *huge = g_strnfill (8 << 20, 'x');
  for (guint i = 0; i < 10; i++)
    registry_tag_queue_prioritize (q, (const gchar *[]) { huge, "a/b", "", NULL }, FALSE);
  assert_int_equal (registry_tag_queue_bytes (q), 0);
  registry_tag_queue_add (q, "a");
  assert_pops (q, (const gchar *[]) { "a", NULL });

  /* valid names not listed yet: up to the byte limit, however many messages */
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (guint m = 0; m < 200; m++)
    {
      g_ptr_array_set_size (names, 0);
      for (guint i = 0; i < REGISTRY_TAG_QUEUE_PRIORITY_MAX * 2; i++)
        g_ptr_array_add (names, g_strdup_printf ("m%u-%0120u", m, i));
      g_ptr_array_add (names, NULL);
      registry_tag_queue_prioritize (q, (const gchar *const *) names->pdata, FALSE);
    }
  gsize held = registry_tag_queue_bytes (q) - (2 + REGISTRY_TAG_QUEUE_NAME_COST);
  assert_true (held <= REGISTRY_TAG_QUEUE_PRIORITY_BYTES);
  assert_true (held > REGISTRY_TAG_QUEUE_PRIORITY_BYTES / 2);
  /* a message counts its first REGISTRY_TAG_QUEUE_PRIORITY_MAX names only */
  g_autoptr(RegistryTagQueue) r = registry_tag_queue_new ();
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < REGISTRY_TAG_QUEUE_PRIORITY_MAX + 1; i++)
    {
      g_ptr_array_add (many, g_strdup_printf ("t%05u", i));
      registry_tag_queue_add (r, many->pdata[i]);
    }
  g_ptr_array_add (many, NULL);
  /* asked for in reverse: the last name is past the limit and stays behind */
  g_autoptr(GPtrArray) reversed = g_ptr_array_new ();
  for (guint i = REGISTRY_TAG_QUEUE_PRIORITY_MAX + 1; i-- > 0; )
    g_ptr_array_add (reversed, many->pdata[i]);
  g_ptr_array_add (reversed, NULL);
  registry_tag_queue_prioritize (r, (const gchar *const *) reversed->pdata, FALSE);
  assert_string_equal (registry_tag_queue_pop (r), many->pdata[REGISTRY_TAG_QUEUE_PRIORITY_MAX]);
}

/* 50 priority messages of 1,000 names among 200,000 waiting: the front
 * keeps the order asked (each message's names after the earlier ones', a
 * name asked again staying where it is), then the rest in the registry's
 * order. (Its cost: registry_tag_queue_prioritize has no loop over the
 * queue, only hash lookups and O(1) moves of links; bench, not tests,
 * measures speed.) */
static void
test_many_priority_messages_keep_their_order (void **state)
{
  enum { N = 200000, K = 1000, MESSAGES = 50 };
  g_autoptr(RegistryTagQueue) q = registry_tag_queue_new ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < N; i++)
    {
      g_ptr_array_add (names, g_strdup_printf ("t%06u", i));
      registry_tag_queue_add (q, names->pdata[i]);
    }
  for (guint m = 0; m < MESSAGES; m++)
    {
      /* the rows on screen: from the middle of the list, scrolling up, each
       * message overlapping the last one by half */
      const gchar *batch[K + 1];
      for (guint i = 0; i < K; i++)
        batch[i] = names->pdata[N / 2 - m * (K / 2) + i];
      batch[K] = NULL;
      registry_tag_queue_prioritize (q, batch, FALSE);
    }
  /* first message: its 1,000 names; each later one adds the 500 new ones */
  for (guint i = 0; i < K; i++)
    assert_string_equal (registry_tag_queue_pop (q), names->pdata[N / 2 + i]);
  for (guint m = 1; m < MESSAGES; m++)
    for (guint i = 0; i < K / 2; i++)
      assert_string_equal (registry_tag_queue_pop (q), names->pdata[N / 2 - m * (K / 2) + i]);
  guint asked_lo = N / 2 - (MESSAGES - 1) * (K / 2), asked_hi = N / 2 + K;
  for (guint i = 0; i < N; i++)
    if (i < asked_lo || i >= asked_hi)
      assert_string_equal (registry_tag_queue_pop (q), names->pdata[i]);
  assert_null (registry_tag_queue_pop (q));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_order_and_front),
    cmocka_unit_test (test_asked_before_listed),
    cmocka_unit_test (test_priority_keeps_bounded_bytes),
    cmocka_unit_test (test_many_priority_messages_keep_their_order),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
