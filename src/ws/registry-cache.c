/* registry-cache.c: see registry-cache.h. A hash table for lookups and a
 * doubly linked list for recency, the entry embedding its list node. */
#include "config.h"

#include "ws/registry-cache.h"
#include "ws/registry-image.h"

#include <string.h>

#define SEEN_MAX 64
/* An entry's share of the hash table (key, value and hash slots in a table
 * kept at most half full). */
#define TABLE_SLOT_CHARGE 48
/* The entry itself with its allocator overhead. */
#define ENTRY_CHARGE 64

typedef struct {
  GList link;               /* in C.recency; link.data is the entry */
  gchar *key;
  gpointer value;
  gsize charge;
  RegistryCacheRefFunc ref;
  GDestroyNotify unref;
} Entry;

static struct {
  GHashTable *entries;      /* key → Entry */
  GQueue recency;           /* head: most recent */
  gsize budget;
  gsize bytes;
  guint64 hits, misses, evictions;
  gboolean budget_set;
} C;

static void
ensure_table (void)
{
  if (!C.entries)
    C.entries = g_hash_table_new (g_str_hash, g_str_equal);
  if (!C.budget_set)
    {
      C.budget = REGISTRY_CACHE_SIZE_DEFAULT;
      C.budget_set = TRUE;
    }
}

static gchar *
make_key (RegistryCacheKind kind, const gchar *scope, const gchar *key)
{
  return g_strdup_printf ("%c%s\n%s", "MCTSWI"[kind], scope ? scope : "", key);
}

static void
entry_drop (Entry *e)
{
  g_queue_unlink (&C.recency, &e->link);
  g_hash_table_remove (C.entries, e->key);
  C.bytes -= e->charge;
  if (e->unref)
    e->unref (e->value);
  g_free (e->key);
  g_free (e);
}

static void
evict_to (gsize limit)
{
  while (C.bytes > limit && C.recency.tail)
    {
      entry_drop (C.recency.tail->data);
      C.evictions++;
    }
}

void
registry_cache_set_budget (gsize bytes)
{
  ensure_table ();
  C.budget = bytes;
  C.budget_set = TRUE;
  evict_to (C.budget);
}

gpointer
registry_cache_lookup (RegistryCacheKind kind, const gchar *scope, const gchar *key)
{
  ensure_table ();
  g_autofree gchar *k = make_key (kind, scope, key);
  Entry *e = g_hash_table_lookup (C.entries, k);
  if (!e)
    {
      C.misses++;
      return NULL;
    }
  C.hits++;
  g_queue_unlink (&C.recency, &e->link);
  g_queue_push_head_link (&C.recency, &e->link);
  return e->ref ? e->ref (e->value) : e->value;
}

void
registry_cache_insert (RegistryCacheKind kind, const gchar *scope, const gchar *key,
                       gpointer value, gsize charge, RegistryCacheRefFunc ref, GDestroyNotify unref)
{
  ensure_table ();
  g_autofree gchar *k = make_key (kind, scope, key);
  Entry *old = g_hash_table_lookup (C.entries, k);
  if (old)
    entry_drop (old);
  gsize total = charge + registry_charge_string (k) + ENTRY_CHARGE + TABLE_SLOT_CHARGE;
  if (total > C.budget)
    return;
  Entry *e = g_new0 (Entry, 1);
  e->link.data = e;
  e->key = g_steal_pointer (&k);
  e->value = ref ? ref (value) : value;
  e->charge = total;
  e->ref = ref;
  e->unref = unref;
  g_hash_table_insert (C.entries, e->key, e);
  g_queue_push_head_link (&C.recency, &e->link);
  C.bytes += total;
  evict_to (C.budget);
}

void
registry_cache_remove (RegistryCacheKind kind, const gchar *scope, const gchar *key)
{
  ensure_table ();
  g_autofree gchar *k = make_key (kind, scope, key);
  Entry *e = g_hash_table_lookup (C.entries, k);
  if (e)
    entry_drop (e);
}

void
registry_cache_clear (void)
{
  ensure_table ();
  evict_to (0);
  C.hits = C.misses = C.evictions = 0;
}

void
registry_cache_foreach (RegistryCacheKind kind, const gchar *scope, RegistryCacheFunc func,
                        gpointer user_data)
{
  ensure_table ();
  g_autofree gchar *prefix = make_key (kind, scope, "");
  gsize n = strlen (prefix);
  for (GList *l = C.recency.head; l; l = l->next)
    {
      Entry *e = l->data;
      if (strncmp (e->key, prefix, n) == 0)
        func (e->key + n, e->value, user_data);
    }
}

void
registry_cache_get_stats (RegistryCacheStats *stats)
{
  ensure_table ();
  stats->budget = C.budget;
  stats->bytes = C.bytes;
  stats->entries = g_hash_table_size (C.entries);
  stats->hits = C.hits;
  stats->misses = C.misses;
  stats->evictions = C.evictions;
}

/* ------------------------------------------------------------------- SEEN */

static gsize
strv_charge (gchar **v)
{
  gsize c = 32 + 8 * (g_strv_length (v) + 1);
  for (gchar **p = v; *p; p++)
    c += registry_charge_string (*p);
  return c;
}

void
registry_cache_note_seen (const gchar *scope, const gchar *digest, const gchar *repository)
{
  g_auto(GStrv) old = registry_cache_lookup (REGISTRY_CACHE_SEEN, scope, digest);
  if (old && g_strv_contains ((const gchar *const *) old, repository))
    return;
  g_autoptr(GPtrArray) repos = g_ptr_array_new ();
  g_ptr_array_add (repos, g_strdup (repository));
  for (guint i = 0; old && old[i] && repos->len < SEEN_MAX; i++)
    g_ptr_array_add (repos, g_strdup (old[i]));
  g_ptr_array_add (repos, NULL);
  g_auto(GStrv) v = (gchar **) g_ptr_array_steal (repos, NULL);
  registry_cache_insert (REGISTRY_CACHE_SEEN, scope, digest, v, strv_charge (v),
                         (RegistryCacheRefFunc) g_strdupv, (GDestroyNotify) g_strfreev);
}

gchar **
registry_cache_seen_in (const gchar *scope, const gchar *digest)
{
  gchar **v = registry_cache_lookup (REGISTRY_CACHE_SEEN, scope, digest);
  return v ? v : g_new0 (gchar *, 1);
}
