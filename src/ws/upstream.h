/* upstream.h: HTTP client for the master API and the registry: libcurl multi
 * driven by the glib main loop (socket + timer callbacks; never
 * curl_easy_perform on the loop). Log domain: cockpit-wrapper.
 *
 * A request streams: on_response once the status and headers are final,
 * on_data for each body chunk (return FALSE to pause the transfer until
 * upstream_request_resume()), on_done once at the end with NULL or an error.
 * upstream_request_cancel() aborts it; no callback runs after that.
 *
 * Registry requests (upstream_request_set_registry_auth) do the Distribution
 * token dance: a 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
 * fetches a token from the realm with the basic credential, caches it per
 * (credential, scope) until it expires, and retries once. */
#pragma once

#include <glib.h>
#include "common/rcconfig.h"

G_BEGIN_DECLS

#define UPSTREAM_ERROR (upstream_error_quark ())
GQuark upstream_error_quark (void);
typedef enum {
  UPSTREAM_ERROR_NOT_FOUND,     /* DNS failure, connection refused */
  UPSTREAM_ERROR_TLS,           /* certificate or handshake failure */
  UPSTREAM_ERROR_TIMEOUT,
  UPSTREAM_ERROR_DISCONNECTED,  /* the peer went away mid-response */
  UPSTREAM_ERROR_TOO_LARGE,     /* a buffered response over its limit */
  UPSTREAM_ERROR_FAILED,        /* anything else libcurl reports */
} UpstreamError;

typedef enum {
  UPSTREAM_MASTER,
  UPSTREAM_REGISTRY,
} UpstreamBackend;

typedef struct _UpstreamRequest UpstreamRequest;

typedef struct {
  /* headers: lowercase name → value (transfer none, valid for the call) */
  void (*on_response) (UpstreamRequest *req, guint status, const gchar *reason,
                       GHashTable *headers, gpointer user_data);
  gboolean (*on_data) (UpstreamRequest *req, const guint8 *data, gsize len, gpointer user_data);
  /* error NULL on success; the request is freed after this returns */
  void (*on_done) (UpstreamRequest *req, const GError *error, gpointer user_data);
} UpstreamCallbacks;

/* Backends from the config (URLs, CA, insecure); starts libcurl. Call once;
 * upstream_configure_backend() is for tests. */
gboolean upstream_init (const Config *cfg, GError **error);
void upstream_shutdown (void);
/* base_url NULL removes the backend. ca_file / ca_data may be NULL. */
void upstream_configure_backend (UpstreamBackend backend, const gchar *base_url,
                                 const gchar *ca_file, const gchar *ca_data, gboolean insecure);
const gchar *upstream_get_base_url (UpstreamBackend backend);

/* path includes the query. */
UpstreamRequest *upstream_request_new (UpstreamBackend backend, const gchar *method, const gchar *path);
/* An absolute URL with the CA settings of BACKEND (token realms). */
UpstreamRequest *upstream_request_new_url (UpstreamBackend backend, const gchar *method, const gchar *url);
void upstream_request_add_header (UpstreamRequest *req, const gchar *name, const gchar *value);
/* The Authorization value ("Bearer …" / "Basic …"); copied, never logged. */
void upstream_request_set_authorization (UpstreamRequest *req, const gchar *authorization);
/* Basic credential for the registry token dance (see above). */
void upstream_request_set_registry_auth (UpstreamRequest *req, const gchar *basic_authorization);
void upstream_request_set_body (UpstreamRequest *req, GBytes *body);
/* 0 = none (watches). Connect timeout is always 10 s. */
void upstream_request_set_timeout (UpstreamRequest *req, guint seconds);
/* Whose request this is (a user's key, session_get_owner_key): at most
 * MaxUpstreamPerUser requests of one owner run at once, the rest wait in
 * order. Long-lived requests are not counted. */
void upstream_request_set_owner (UpstreamRequest *req, const gchar *key);
/* A request that stays open (a watch): it runs on connections of its own,
 * outside MaxUpstreamConnections, so open watches never hold the
 * connections other requests need. Its number must be bounded by the
 * caller. */
void upstream_request_set_long_lived (UpstreamRequest *req, gboolean long_lived);
void upstream_request_start (UpstreamRequest *req, const UpstreamCallbacks *callbacks, gpointer user_data);
void upstream_request_resume (UpstreamRequest *req);
void upstream_request_cancel (UpstreamRequest *req);
const gchar *upstream_request_get_url (UpstreamRequest *req);  /* query redacted */

/* Convenience: buffer the whole response (up to 16 MiB, or what
 * upstream_request_set_max_body() says; more fails the request). */
void upstream_request_set_max_body (UpstreamRequest *req, gsize bytes);
typedef void (*UpstreamFetchFunc) (guint status, GHashTable *headers, GBytes *body,
                                   const GError *error, gpointer user_data);
void upstream_fetch (UpstreamRequest *req, UpstreamFetchFunc func, gpointer user_data);

/* A registry token from the realm of a Bearer CHALLENGE (parsed with
 * upstream_parse_bearer_challenge), asked with the BASIC credential ("Basic
 * …", or NULL for an anonymous token). FUNC gets the token (NULL when
 * refused; then STATUS is the token server's answer or ERROR says why) and
 * its lifetime in seconds. Returns the request, for upstream_request_cancel. */
typedef void (*UpstreamTokenFunc) (const gchar *token, gint64 expires_in, guint status,
                                   const GError *error, gpointer user_data);
UpstreamRequest *upstream_fetch_registry_token (UpstreamBackend backend, const gchar *basic,
                                                GHashTable *challenge, UpstreamTokenFunc func,
                                                gpointer user_data);

/* Parse `Bearer realm="…",service="…",scope="…"` into a table of lowercase
 * parameter names; NULL when the header is not a Bearer challenge. */
GHashTable *upstream_parse_bearer_challenge (const gchar *www_authenticate);

G_END_DECLS
