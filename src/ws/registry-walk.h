/* registry-walk.h: one repository walked for one user: its tags (tags/list,
 * every page of it by `Link`), then each tag resolved to a row: digest,
 * manifest, config (and for an index each platform's manifest and config).
 * Log domain: cockpit-wrapper.
 *
 * Access and the cache (registry-cache.h): nothing is taken from the cache
 * before this user's own tags/list of the repository has answered 200.
 * After that, a tag's digest comes from this user's own memo (unless FRESH)
 * or from the registry with this user's credential (HEAD when the
 * repository was walked lately, so the rest is likely cached; GET
 * otherwise, which brings the manifest along); manifests and configs are
 * then looked up by the digests the registry named, and fetched (checked
 * against their digest, then cached) when missing. Two tags of one image
 * fetch it once.
 *
 * Results come as callbacks in completion order; a tag that fails is a
 * result with `error` (a 404 of a tag deleted mid-walk, a 500 after the
 * retries, a manifest that is not JSON), and the walk goes on. Only the
 * first tags/list failing ends the walk with an error: ACCESS_DENIED on
 * 401/403, NOT_FOUND on 404, FAILED otherwise.
 *
 * At most max_active tags are under way at once (the client's queue bounds
 * the requests); pause() stops starting tags and reading further pages of
 * tags/list (for a congested channel).
 * cancel() makes the walk silent; the requests it queued end with the
 * client (registry_client_cancel) or run out unseen. */
#pragma once

#include <glib.h>
#include "ws/registry-client.h"
#include "ws/registry-row.h"

G_BEGIN_DECLS

#define REGISTRY_WALK_ERROR (registry_walk_error_quark ())
GQuark registry_walk_error_quark (void);
typedef enum {
  REGISTRY_WALK_ERROR_ACCESS_DENIED,  /* tags/list said 401 or 403 */
  REGISTRY_WALK_ERROR_NOT_FOUND,      /* no such repository */
  REGISTRY_WALK_ERROR_FAILED,         /* any other failure of the first tags/list */
} RegistryWalkError;

typedef enum {
  REGISTRY_WALK_FRESH = 1 << 0,       /* do not use this user's tag memo */
  REGISTRY_WALK_NO_CONFIG = 1 << 1,   /* manifests only (no created time): digest search */
} RegistryWalkFlags;

/* Largest bodies read: a manifest (the registry's own limit), a config,
 * a page of tags/list. */
#define REGISTRY_MANIFEST_MAX (4 << 20)
#define REGISTRY_CONFIG_MAX (4 << 20)
#define REGISTRY_LIST_MAX (16 << 20)
/* Names asked for a page of tags/list or _catalog. */
#define REGISTRY_PAGE_SIZE 1000
/* Tags one walk takes from tags/list; past it (or past the channel's
 * memory budget, which the names are charged to) the listing ends and
 * the walk is "truncated": a problem says so, the tags listed are walked. */
#define REGISTRY_WALK_MAX_TAGS 100000

typedef struct _RegistryWalk RegistryWalk;

typedef struct {
  /* A page of tag names (valid ones; invalid names come as failed results). */
  void (*names) (RegistryWalk *walk, const gchar *const *names, guint n, gpointer user_data);
  /* Resolve this tag? NULL: every tag. */
  gboolean (*want) (RegistryWalk *walk, const gchar *tag, gpointer user_data);
  /* A tag, resolved or failed (transfer none, valid for the call). */
  void (*tag) (RegistryWalk *walk, const RegistryTagResult *result, gpointer user_data);
  /* A later page of tags/list failed: the walk goes on with what it has. */
  void (*problem) (RegistryWalk *walk, const gchar *message, guint status, gpointer user_data);
  /* The end: NULL, or why the walk could not start. */
  void (*done) (RegistryWalk *walk, const GError *error, gpointer user_data);
} RegistryWalkCallbacks;

/* A walk of REPOSITORY (valid) with CLIENT's credential (transfer full). */
RegistryWalk *registry_walk_new (RegistryClient *client, const gchar *repository, RegistryWalkFlags flags);
RegistryWalk *registry_walk_ref (RegistryWalk *walk);
void registry_walk_unref (RegistryWalk *walk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryWalk, registry_walk_unref)

/* Only these tags (after a one-name tags/list as the access check): a
 * subset is resolved even if the list does not name it. */
void registry_walk_set_tags (RegistryWalk *walk, const gchar *const *tags);
/* How long this user's tag memo is good for (seconds; 0: no memo). */
void registry_walk_set_memo_time (RegistryWalk *walk, guint seconds);
/* Tags under way at once (default 16). */
void registry_walk_set_max_active (RegistryWalk *walk, guint n);

void registry_walk_start (RegistryWalk *walk, const RegistryWalkCallbacks *callbacks, gpointer user_data);
/* Resolve these tags next, when they are still waiting. */
void registry_walk_prioritize (RegistryWalk *walk, const gchar *const *tags);
void registry_walk_pause (RegistryWalk *walk);
void registry_walk_resume (RegistryWalk *walk);
void registry_walk_cancel (RegistryWalk *walk);

const gchar *registry_walk_get_repository (RegistryWalk *walk);
/* Tags listed so far, and tags resolved or failed so far. */
guint registry_walk_get_listed (RegistryWalk *walk);
guint registry_walk_get_finished (RegistryWalk *walk);
gboolean registry_walk_is_listed (RegistryWalk *walk);   /* tags/list read to the end */
gboolean registry_walk_is_truncated (RegistryWalk *walk);   /* … or cut at REGISTRY_WALK_MAX_TAGS */

G_END_DECLS
