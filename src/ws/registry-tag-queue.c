/* registry-tag-queue.c: see registry-tag-queue.h. */
#include "config.h"

#include "ws/registry-tag-queue.h"
#include "ws/registry-api.h"

#include <string.h>

struct _RegistryTagQueue {
  GHashTable *seen;         /* every name added (owned keys) */
  GQueue front;             /* names asked for first (data: keys of seen) */
  GQueue waiting;           /* the other names, in the order added */
  GHashTable *links;        /* name → its GList in front or waiting */
  GHashTable *in_front;     /* names in front (keys not owned) */
  GHashTable *priority;     /* names asked for, not added yet (owned) */
  gsize priority_bytes;
  gsize bytes;
};

RegistryTagQueue *
registry_tag_queue_new (void)
{
  RegistryTagQueue *q = g_new0 (RegistryTagQueue, 1);
  q->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  q->links = g_hash_table_new (g_str_hash, g_str_equal);
  q->in_front = g_hash_table_new (g_str_hash, g_str_equal);
  q->priority = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&q->front);
  g_queue_init (&q->waiting);
  return q;
}

void
registry_tag_queue_free (RegistryTagQueue *q)
{
  if (!q)
    return;
  g_queue_clear (&q->front);
  g_queue_clear (&q->waiting);
  g_hash_table_unref (q->links);
  g_hash_table_unref (q->in_front);
  g_hash_table_unref (q->priority);
  g_hash_table_unref (q->seen);
  g_free (q);
}

static gsize
name_cost (const gchar *tag)
{
  return strlen (tag) + 1 + REGISTRY_TAG_QUEUE_NAME_COST;
}

/* LINK (waiting) goes to the end of the front. */
static void
move_to_front (RegistryTagQueue *q, GList *link)
{
  if (!g_hash_table_add (q->in_front, link->data))
    return;
  g_queue_unlink (&q->waiting, link);
  g_queue_push_tail_link (&q->front, link);
}

gboolean
registry_tag_queue_add (RegistryTagQueue *q, const gchar *tag)
{
  if (g_hash_table_contains (q->seen, tag))
    return FALSE;
  gchar *name = g_strdup (tag);
  g_hash_table_add (q->seen, name);
  q->bytes += name_cost (name);
  g_queue_push_tail (&q->waiting, name);
  GList *link = q->waiting.tail;
  g_hash_table_insert (q->links, name, link);
  gchar *asked = NULL;
  if (g_hash_table_steal_extended (q->priority, tag, (gpointer *) &asked, NULL))
    {
      q->priority_bytes -= name_cost (asked);
      g_free (asked);
      move_to_front (q, link);
    }
  return TRUE;
}

gboolean
registry_tag_queue_seen (RegistryTagQueue *q, const gchar *tag)
{
  return g_hash_table_contains (q->seen, tag);
}

void
registry_tag_queue_prioritize (RegistryTagQueue *q, const gchar *const *tags, gboolean complete)
{
  for (guint i = 0; tags && tags[i] && i < REGISTRY_TAG_QUEUE_PRIORITY_MAX; i++)
    {
      if (!registry_tag_valid (tags[i]))
        continue;
      GList *link = g_hash_table_lookup (q->links, tags[i]);
      if (link)
        move_to_front (q, link);
      else if (!complete && !g_hash_table_contains (q->seen, tags[i]) &&
               q->priority_bytes + name_cost (tags[i]) <= REGISTRY_TAG_QUEUE_PRIORITY_BYTES &&
               g_hash_table_add (q->priority, g_strdup (tags[i])))
        q->priority_bytes += name_cost (tags[i]);
    }
}

const gchar *
registry_tag_queue_pop (RegistryTagQueue *q)
{
  GList *link = g_queue_pop_head_link (&q->front);
  if (!link)
    link = g_queue_pop_head_link (&q->waiting);
  if (!link)
    return NULL;
  const gchar *tag = link->data;
  g_list_free_1 (link);
  g_hash_table_remove (q->links, tag);
  g_hash_table_remove (q->in_front, tag);
  return tag;
}

guint
registry_tag_queue_waiting (RegistryTagQueue *q)
{
  return q->front.length + q->waiting.length;
}

guint
registry_tag_queue_count (RegistryTagQueue *q)
{
  return g_hash_table_size (q->seen);
}

gsize
registry_tag_queue_bytes (RegistryTagQueue *q)
{
  return q->bytes + q->priority_bytes;
}
