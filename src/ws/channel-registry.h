/* channel-registry.h: the registry channels ("registry-tags",
 * "registry-catalog", "registry-search", "registry-summary", and in
 * OpenShift mode "openshift-images"): the fan-out
 * to the registry done here, next to it, with bounded concurrency and a
 * shared cache of immutable content, streamed to the browser as batched
 * rows (doc/architecture.md, "Registry channels"). Log domain:
 * cockpit-wrapper.
 *
 * This header also declares what the four channel files share
 * (channel-registry-common.c): the settings, the per-user count of walks,
 * the memory budget of a channel's answers, and the problem code of an
 * error. */
#pragma once

#include <glib.h>
#include "ws/socket.h"
#include "ws/registry-client.h"

G_BEGIN_DECLS

/* cockpit.conf [WebService] (see cockpit.conf(5)). */
typedef struct {
  guint concurrency;          /* RegistryConcurrency: requests at once per channel, 8 */
  gsize cache_size;           /* RegistryCacheSize: bytes, 32M */
  guint tag_memo_time;        /* RegistryTagMemoTime: seconds one user's tag → digest is reused, 120 */
  guint catalog_max_age;      /* RegistryCatalogMaxAge: seconds before a kept catalog is walked again, 300 */
  gsize catalog_size;         /* RegistryCatalogSize: bytes of names kept per registry, 16M */
  guint timeout;              /* UpstreamTimeout: seconds a request may take */
} RegistryChannelConfig;

#define REGISTRY_CHANNEL_CONFIG_DEFAULT { 8, 32 << 20, 120, 300, 16 << 20, 120 }

/* Register the four payloads with these settings (copied). */
void channel_registry_register (const RegistryChannelConfig *config);

/* ---- shared by the channel files ---- */

/* Registry channels a user may have open at once (each walks with
 * `concurrency` requests); more are refused with "too-many". */
#define REGISTRY_WALKS_PER_USER 8

const RegistryChannelConfig *channel_registry_config (void);

/* Checks for an open message: logged in, a registry configured (MASTER:
 * an OpenShift session and a master), the user under
 * REGISTRY_WALKS_PER_USER. On success a client with the session's
 * credential (transfer full) whose answers are charged to CHANNEL's
 * budget, counted as one of the user's walks until
 * channel_registry_release(). On failure the channel has failed: NULL. */
RegistryClient *channel_registry_open_client (RcChannel *channel, gboolean master);
/* The walk of CLIENT is over: cancel its requests, count it off. */
void channel_registry_release (RegistryClient *client);

/* The problem code for an error of a walk or a client. */
const gchar *channel_registry_problem (const GError *error);

/* After walks end, give freed memory back to the system (malloc_trim), at
 * most once a second, when no walk runs. */
void channel_registry_schedule_trim (void);

void channel_registry_tags_register (void);
void channel_registry_catalog_register (void);
void channel_registry_search_register (void);
void channel_registry_summary_register (void);
void channel_openshift_images_register (void);

G_END_DECLS
