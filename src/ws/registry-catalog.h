/* registry-catalog.h: the catalog the server keeps per registry, so that
 * every view after the first lists all repositories at once instead of
 * walking `_catalog` again. Log domain: cockpit-wrapper.
 *
 * A list of names is walked page by page (`_catalog?n=1000`, following
 * `Link`) with the credential of the user whose view needed it, never more
 * than one walk at a time per registry. Views that come while a walk runs
 * follow it: they get the names so far and then each page as it arrives.
 * A complete list is kept and served to later views (after each view's
 * own access check, see channel-registry-catalog.c); when it is older than
 * RegistryCatalogMaxAge, the next view gets it at once and starts a walk in
 * the background whose list replaces it when complete. The names kept are
 * bounded (RegistryCatalogSize): beyond, the list is cut and says so.
 *
 * A RegistryNameList grows while walked and is frozen once finished;
 * holders take references and read names up to its current length. */
#pragma once

#include <glib.h>
#include "common/session.h"

G_BEGIN_DECLS

typedef struct {
  gint refs;
  GPtrArray *names;         /* const gchar *, in the registry's order */
  GStringChunk *chunk;      /* their storage */
  gsize bytes;              /* what the list costs */
  gboolean finished;        /* no more names will come */
  gboolean complete;        /* finished and walked to the end */
  gboolean truncated;       /* finished early: over RegistryCatalogSize */
  gchar *error;             /* finished early: why; may be NULL */
  gint64 finished_at;       /* real time, µs */
  guint pages;
} RegistryNameList;

RegistryNameList *registry_name_list_ref (RegistryNameList *list);
void registry_name_list_unref (RegistryNameList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryNameList, registry_name_list_unref)

/* Settings: names kept per registry (bytes), age (seconds) after which a
 * kept list is walked again. */
void registry_catalog_configure (gsize max_bytes, guint max_age_s);

/* Called when LIST grows (new names at its end) and when it finishes. */
typedef void (*RegistryCatalogFunc) (RegistryNameList *list, gpointer user_data);

/* The list for a view of the registry at REGISTRY (transfer full): the
 * kept one when there is one (and a background walk starts with SESSION's
 * credential when it is stale, or FRESH and older than 10 s), else the one
 * being walked (a walk starts with SESSION's credential if none runs).
 * While the returned list is not finished, FUNC is called as it grows and
 * when it finishes, until registry_catalog_unfollow(*ID). */
RegistryNameList *registry_catalog_view (const gchar *registry, RcSession *session, gboolean fresh,
                                         RegistryCatalogFunc func, gpointer user_data, guint *id);
void registry_catalog_unfollow (const gchar *registry, guint id);

/* Is a walk of REGISTRY running now? */
gboolean registry_catalog_walking (const gchar *registry);
/* Drop everything kept and stop walks (tests, shutdown). */
void registry_catalog_reset (void);

G_END_DECLS
