/* registry-resolve.h: one tag of one repository resolved to a
 * RegistryTagResult with one user's client: the digest (given, or HEAD/GET
 * of the manifest by tag), the manifest and config summaries from the cache
 * or fetched by digest (checked against the digest, then cached), an
 * index's platforms likewise. Requests for the same digest under way are
 * shared by the tags that need it. Log domain: cockpit-wrapper.
 *
 * The caller must have checked this user's access to the repository
 * (registry-walk.h) before asking: the resolver trusts that digests named
 * by the registry to this client may be served from the cache. */
#pragma once

#include <glib.h>
#include "ws/registry-client.h"
#include "ws/registry-row.h"

G_BEGIN_DECLS

typedef struct _RegistryResolver RegistryResolver;

/* Layers and configs one tag may hold over its platforms' manifests (an
 * index may name 512 platforms of 4,096 layers each: hundreds of MB held
 * until the row is written). Past it the tag fails: "the index is too
 * large", with the platforms read so far. */
#define REGISTRY_RESOLVE_MAX_BLOBS 16384

/* NO_CONFIG: manifests only (no created time, one request less a tag). */
RegistryResolver *registry_resolver_new (RegistryClient *client, const gchar *repository, gboolean no_config);
RegistryResolver *registry_resolver_ref (RegistryResolver *resolver);
void registry_resolver_unref (RegistryResolver *resolver);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryResolver, registry_resolver_unref)

/* RESULT (transfer full) is the tag resolved as far as it went. */
typedef void (*RegistryResolveFunc) (RegistryTagResult *result, gpointer user_data);

/* Resolve TAG. DIGEST: what this user's memo says it points to, or NULL.
 * FUNC is called once, maybe before this returns (everything cached), or
 * never when the client is cancelled; DESTROY (may be NULL) gets
 * USER_DATA either way. */
void registry_resolver_resolve (RegistryResolver *resolver, const gchar *tag, const gchar *digest,
                                RegistryResolveFunc func, gpointer user_data, GDestroyNotify destroy);

/* Whether the manifest of the tags resolved so far was in the cache, in
 * the last few (decides HEAD or GET by tag); starts from the hint that the
 * repository was walked lately. */
gboolean registry_resolver_prefers_head (RegistryResolver *resolver);

G_END_DECLS
