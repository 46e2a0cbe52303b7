/* registry-client.h: requests to the registry on one user's behalf, at most
 * N at a time (the channel's share of the registry; libcurl's
 * MaxUpstreamConnectionsPerHost caps what the registry sees from all
 * channels together, on keep-alive connections).
 *
 * A request is buffered whole (up to a limit), retried on 429, 502, 503,
 * 504 and dropped connections (at most twice, after Retry-After or a short
 * back-off, holding its slot so a throttling registry gets fewer requests),
 * and follows redirects of blob downloads (a redirect to another origin,
 * such as object storage, goes without the credential). Requests wait in a
 * queue in order; "urgent" ones go first (the next page of a list, the
 * second step of a tag that is under way). pause() stops starting new
 * requests (the browser is not reading), resume() starts them again.
 * cancel() drops everything: no callback runs after it.
 *
 * The credential is the session's (a registry "Basic …", or the OpenShift
 * token as the integrated registry's password; or for the master's API the
 * token itself); it is held as a secret, wiped when the client goes, and
 * never logged. Log domain: cockpit-wrapper. */
#pragma once

#include <glib.h>
#include "common/session.h"

G_BEGIN_DECLS

#define REGISTRY_CLIENT_ERROR (registry_client_error_quark ())
GQuark registry_client_error_quark (void);
typedef enum {
  REGISTRY_CLIENT_ERROR_TOO_LARGE,   /* the answer is over its limit or the channel's budget */
  REGISTRY_CLIENT_ERROR_UPSTREAM,    /* no answer: connection, TLS, timeout (message says) */
  REGISTRY_CLIENT_ERROR_REDIRECT,    /* too many redirects, or one without Location */
  REGISTRY_CLIENT_ERROR_NO_REGISTRY, /* no registry is configured */
} RegistryClientError;

typedef struct _RegistryClient RegistryClient;

typedef struct {
  guint status;
  GHashTable *headers;      /* lowercase name → value */
  GBytes *body;             /* empty for HEAD */
} RegistryResponse;

/* A finished request: RESPONSE (any status, 4xx and 5xx included) or ERROR
 * when there is no usable answer. Both are valid for the call only. */
typedef void (*RegistryResponseFunc) (RegistryClient *client, const RegistryResponse *response,
                                      const GError *error, gpointer user_data);

/* Memory a client may hold in answers being read: RESERVE returns FALSE
 * when the bytes are over budget (the request then fails TOO_LARGE). */
typedef struct {
  gboolean (*reserve) (gpointer data, gsize len);
  void (*release) (gpointer data, gsize len);
  gpointer data;
} RegistryBudget;

/* A client with the session's credential (transfer full); MAX_IN_FLIGHT ≥ 1. */
RegistryClient *registry_client_new_for_session (RcSession *session, guint max_in_flight);
/* The same for the OpenShift master's API (the session's OAuth token);
 * no redirects are followed. */
RegistryClient *registry_client_new_for_master (RcSession *session, guint max_in_flight);
/* BASIC: "Basic …" or NULL (no credential); USER_KEY names the user in
 * per-user cache entries (registry-credential.h). */
RegistryClient *registry_client_new (const gchar *basic, const gchar *user_key, guint max_in_flight);
RegistryClient *registry_client_ref (RegistryClient *client);
void registry_client_unref (RegistryClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RegistryClient, registry_client_unref)

/* The base URL of the client's backend (the cache's scope), or NULL. */
const gchar *registry_client_get_registry (RegistryClient *client);
const gchar *registry_client_get_user_key (RegistryClient *client);
/* Whose requests these are: the session's owner key (backend and user
 * name, session_get_owner_key: the same for every login of the user),
 * or the user key for a client made with registry_client_new(). Per-user
 * limits count by it; the user key (a hash over the credential) only
 * names the user's cache entries. */
const gchar *registry_client_get_owner (RegistryClient *client);
void registry_client_set_budget (RegistryClient *client, const RegistryBudget *budget);
/* Charge LEN bytes held for this client's answers (the tag names of a
 * walk, say) to its budget: FALSE, nothing charged, when over it; TRUE
 * when the client has no budget. */
gboolean registry_client_reserve (RegistryClient *client, gsize len);
void registry_client_release (RegistryClient *client, gsize len);
void registry_client_set_timeout (RegistryClient *client, guint seconds);

/* Queue a request for PATH ("/v2/…", query included). ACCEPT may be NULL.
 * The body is read up to MAX_BODY bytes. DESTROY (may be NULL) gets
 * USER_DATA when the request is over: after FUNC, or at cancel() without
 * FUNC. */
void registry_client_request (RegistryClient *client, const gchar *method, const gchar *path,
                              const gchar *accept, gsize max_body, gboolean urgent,
                              RegistryResponseFunc func, gpointer user_data, GDestroyNotify destroy);

void registry_client_pause (RegistryClient *client);
void registry_client_resume (RegistryClient *client);
void registry_client_cancel (RegistryClient *client);
/* Requests waiting or under way. */
guint registry_client_pending (RegistryClient *client);
/* Requests sent to the registry so far (retries and redirects included). */
guint registry_client_sent (RegistryClient *client);

/* The error text of an answer: the registry's own errors[0].message when
 * the body has one, else "STATUS REASON" (transfer full). */
gchar *registry_response_describe (const RegistryResponse *response);

G_END_DECLS
