/* registry-cache.h: one process-wide cache for the registry channels, a
 * least-recently-used list bounded by bytes (cockpit.conf
 * `RegistryCacheSize`, default 32M).
 *
 * What it holds, by kind:
 * - MANIFEST, CONFIG: summaries of content fetched by digest
 *   (registry-image.h). Content-addressed, so immutable and shared between
 *   users; keyed by (registry, digest) and checked against the digest before
 *   it is stored. Sharing is safe because a channel looks an entry up only
 *   for a digest that the registry itself named to this user, with this
 *   user's credential, in the repository being shown (the manifest of a tag
 *   of a repository whose tags/list just answered, a config or platform that
 *   manifest names); see doc/architecture.md, "Registry channels".
 * - TAGS: one user's short-lived memo of tag → digest for one repository
 *   (key: the user's key, then the repository). Never used for another user:
 *   tags move.
 * - SEEN: digest → the repositories where some walk met it (a hint that
 *   orders a digest search; every hit is then checked with the searching
 *   user's own requests).
 * - WALKED: repository → that its manifests were fetched lately (a hint:
 *   a walk then asks for tags with HEAD, expecting the rest in the cache).
 * - IMAGE: OpenShift Image objects by name (= digest), scope the master
 *   (openshift-image.h), served like MANIFEST: only for digests that an
 *   image stream this user just read names.
 *
 * Every entry is charged what it costs: the value's own `charge`, the key,
 * the entry and its share of the table. An entry larger than the whole
 * budget is not kept. Single-threaded (the glib main loop).
 * Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  REGISTRY_CACHE_MANIFEST,
  REGISTRY_CACHE_CONFIG,
  REGISTRY_CACHE_TAGS,
  REGISTRY_CACHE_SEEN,
  REGISTRY_CACHE_WALKED,
  REGISTRY_CACHE_IMAGE,
} RegistryCacheKind;

#define REGISTRY_CACHE_SIZE_DEFAULT (32 << 20)

/* Takes a reference on a value (returns it). */
typedef gpointer (*RegistryCacheRefFunc) (gpointer value);

/* The budget in bytes; 0 keeps nothing. Shrinking evicts at once. */
void registry_cache_set_budget (gsize bytes);

/* The value stored under (KIND, SCOPE, KEY) with a new reference (transfer
 * full), and it becomes the most recently used; or NULL. */
gpointer registry_cache_lookup (RegistryCacheKind kind, const gchar *scope, const gchar *key);
/* Store VALUE (the cache takes a reference with REF and drops it with
 * UNREF) charged CHARGE bytes, replacing what was there; then evict the
 * least recently used entries until the budget holds. */
void registry_cache_insert (RegistryCacheKind kind, const gchar *scope, const gchar *key,
                            gpointer value, gsize charge, RegistryCacheRefFunc ref, GDestroyNotify unref);
void registry_cache_remove (RegistryCacheKind kind, const gchar *scope, const gchar *key);
void registry_cache_clear (void);

/* Call FUNC for every entry of KIND under SCOPE, most recent first; FUNC
 * must not change the cache. */
typedef void (*RegistryCacheFunc) (const gchar *key, gpointer value, gpointer user_data);
void registry_cache_foreach (RegistryCacheKind kind, const gchar *scope, RegistryCacheFunc func,
                             gpointer user_data);

typedef struct {
  gsize budget;
  gsize bytes;                /* charged now */
  guint entries;
  guint64 hits;
  guint64 misses;
  guint64 evictions;
} RegistryCacheStats;
void registry_cache_get_stats (RegistryCacheStats *stats);

/* ---- the SEEN hint, on top of the above ---- */

/* Record that DIGEST was met in REPOSITORY (at most 64 repositories a
 * digest are remembered, the most recent). */
void registry_cache_note_seen (const gchar *scope, const gchar *digest, const gchar *repository);
/* The repositories where DIGEST was met (transfer full, NULL-terminated,
 * maybe empty). */
gchar **registry_cache_seen_in (const gchar *scope, const gchar *digest);

G_END_DECLS
