/* registry-tag-queue.h: the tag names of one walk (registry-walk.h): every
 * name listed once, those waiting to be resolved in the registry's order,
 * and in front of them the ones the browser asked for first (the rows on
 * its screen). Every step is O(1) a name: a priority message of k names
 * costs O(k), however many tags wait. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Names one priority message may ask for; the rest is ignored (the browser
 * asks for the rows on screen, a few dozen). */
#define REGISTRY_TAG_QUEUE_PRIORITY_MAX 1000
/* Bytes of priority names kept for tags not listed yet (a later page may
 * list them); names past it are dropped. */
#define REGISTRY_TAG_QUEUE_PRIORITY_BYTES (256 << 10)
/* What one name held costs beside its text: the seen table's entry, its
 * list link and the link table's entry (an estimate, for the budget). */
#define REGISTRY_TAG_QUEUE_NAME_COST 96

typedef struct _RegistryTagQueue RegistryTagQueue;

RegistryTagQueue *registry_tag_queue_new (void);
void registry_tag_queue_free (RegistryTagQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryTagQueue, registry_tag_queue_free)

/* TAG (a valid name) waits at the end, or in front when it was asked for
 * first; FALSE (nothing done) when it was added before. */
gboolean registry_tag_queue_add (RegistryTagQueue *queue, const gchar *tag);
gboolean registry_tag_queue_seen (RegistryTagQueue *queue, const gchar *tag);
/* Ask for TAGS first (at most REGISTRY_TAG_QUEUE_PRIORITY_MAX of them; names
 * that are not valid tags are skipped): those waiting go to the front in
 * this order; those not added yet are kept for when they are, unless
 * COMPLETE (every name is added: none will come). */
void registry_tag_queue_prioritize (RegistryTagQueue *queue, const gchar *const *tags, gboolean complete);
/* The next tag (valid while the queue lives), or NULL when none waits. */
const gchar *registry_tag_queue_pop (RegistryTagQueue *queue);
guint registry_tag_queue_waiting (RegistryTagQueue *queue);
/* Names added so far, and the bytes the queue holds for them (names,
 * table entries, kept priority names: an estimate). */
guint registry_tag_queue_count (RegistryTagQueue *queue);
gsize registry_tag_queue_bytes (RegistryTagQueue *queue);

G_END_DECLS
