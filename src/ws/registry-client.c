/* registry-client.c: see registry-client.h. A Call is one queued request
 * with its retries and redirects; the client runs at most max_in_flight of
 * them. */
#include "config.h"

#include "ws/registry-client.h"
#include "ws/registry-credential.h"
#include "ws/upstream.h"
#include "common/rcjson.h"
#include "common/rcutil.h"

#include <string.h>

G_DEFINE_QUARK (registry-client-error-quark, registry_client_error)

#define MAX_RETRIES 2
#define MAX_REDIRECTS 3
#define RETRY_AFTER_MAX_S 5
#define BACKOFF_MS 250

struct _RegistryClient {
  gint refs;
  UpstreamBackend backend;
  gchar *basic;             /* registry: a secret */
  gchar *authorization;     /* master: the session's "Bearer …", a secret */
  gchar *user_key;
  gchar *owner;             /* session_get_owner_key: whose requests (MaxUpstreamPerUser) */
  guint max_in_flight;
  guint timeout;
  GQueue queue;             /* Call, waiting */
  GList *running;           /* Call, started */
  guint in_flight;
  guint sent;
  gboolean paused;
  RegistryBudget budget;
};

typedef struct {
  RegistryClient *client;   /* no reference: the client cancels its calls */
  gchar *method;
  gchar *path;
  gchar *url;               /* after a redirect: absolute */
  gboolean foreign;         /* the redirect left the registry's origin */
  gchar *accept;
  gsize max_body;
  RegistryResponseFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  guint attempt;
  guint redirects;
  UpstreamRequest *req;
  guint retry_timer;
  guint status;
  GHashTable *headers;
  GByteArray *body;
  gsize reserved;
  gboolean failed;          /* too large: the request was cancelled */
} Call;

static void call_start (Call *call);
static void client_dispatch (RegistryClient *client);

/* ----------------------------------------------------------------- client */

RegistryClient *
registry_client_new (const gchar *basic, const gchar *user_key, guint max_in_flight)
{
  RegistryClient *client = g_new0 (RegistryClient, 1);
  client->refs = 1;
  client->backend = UPSTREAM_REGISTRY;
  client->basic = g_strdup (basic);
  client->user_key = g_strdup (user_key ? user_key : "");
  client->max_in_flight = MAX (max_in_flight, 1);
  client->timeout = 120;
  g_queue_init (&client->queue);
  return client;
}

RegistryClient *
registry_client_new_for_master (RcSession *session, guint max_in_flight)
{
  g_autofree gchar *key = registry_credential_user_key (session);
  RegistryClient *client = registry_client_new (NULL, key, max_in_flight);
  client->owner = session_get_owner_key (session);
  client->backend = UPSTREAM_MASTER;
  client->authorization = g_strdup (session_get_credential (session));
  return client;
}

RegistryClient *
registry_client_new_for_session (RcSession *session, guint max_in_flight)
{
  g_autoptr(RcSecret) basic = registry_credential_for_session (session);
  g_autofree gchar *key = registry_credential_user_key (session);
  RegistryClient *client = registry_client_new (basic, key, max_in_flight);
  client->owner = session_get_owner_key (session);
  return client;
}

RegistryClient *
registry_client_ref (RegistryClient *client)
{
  client->refs++;
  return client;
}

void
registry_client_unref (RegistryClient *client)
{
  if (!client || --client->refs > 0)
    return;
  registry_client_cancel (client);
  rc_secret_free (client->basic);
  rc_secret_free (client->authorization);
  g_free (client->user_key);
  g_free (client->owner);
  g_free (client);
}

const gchar *
registry_client_get_registry (RegistryClient *client)
{
  return upstream_get_base_url (client->backend);
}

const gchar *
registry_client_get_user_key (RegistryClient *client)
{
  return client->user_key;
}

const gchar *
registry_client_get_owner (RegistryClient *client)
{
  return client->owner ? client->owner : client->user_key;
}

void
registry_client_set_budget (RegistryClient *client, const RegistryBudget *budget)
{
  if (budget)
    client->budget = *budget;
  else
    memset (&client->budget, 0, sizeof client->budget);
}

void
registry_client_set_timeout (RegistryClient *client, guint seconds)
{
  client->timeout = seconds;
}

guint
registry_client_pending (RegistryClient *client)
{
  return client->in_flight + client->queue.length;
}

guint
registry_client_sent (RegistryClient *client)
{
  return client->sent;
}

/* ------------------------------------------------------------------ calls */

gboolean
registry_client_reserve (RegistryClient *client, gsize len)
{
  return !client->budget.reserve || client->budget.reserve (client->budget.data, len);
}

void
registry_client_release (RegistryClient *client, gsize len)
{
  if (client->budget.release && len)
    client->budget.release (client->budget.data, len);
}

static void
call_release_budget (Call *call)
{
  if (call->reserved && call->client->budget.release)
    call->client->budget.release (call->client->budget.data, call->reserved);
  call->reserved = 0;
}

static void
call_reset_answer (Call *call)
{
  call_release_budget (call);
  call->status = 0;
  g_clear_pointer (&call->headers, g_hash_table_unref);
  g_byte_array_set_size (call->body, 0);
  call->failed = FALSE;
}

static void
call_free (Call *call)
{
  if (call->req)
    upstream_request_cancel (call->req);
  if (call->retry_timer)
    g_source_remove (call->retry_timer);
  call_release_budget (call);
  if (call->destroy)
    call->destroy (call->user_data);
  g_free (call->method);
  g_free (call->path);
  g_free (call->url);
  g_free (call->accept);
  if (call->headers)
    g_hash_table_unref (call->headers);
  g_byte_array_unref (call->body);
  g_free (call);
}

/* The call is over: out of the running list, its slot free, FUNC told. */
static void
call_finish (Call *call, const GError *error)
{
  RegistryClient *client = registry_client_ref (call->client);
  client->running = g_list_remove (client->running, call);
  client->in_flight--;
  call->req = NULL;
  g_autoptr(GBytes) body = g_bytes_new (call->body->data, call->body->len);
  RegistryResponse response = { call->status, call->headers, body };
  if (!response.headers)
    response.headers = call->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  call->func (client, error ? NULL : &response, error, call->user_data);
  call_free (call);
  client_dispatch (client);
  registry_client_unref (client);
}

static void
on_response (UpstreamRequest *req, guint status, const gchar *reason, GHashTable *headers, gpointer data)
{
  Call *call = data;
  call->status = status;
  if (call->headers)
    g_hash_table_unref (call->headers);
  call->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, headers);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (call->headers, g_strdup (k), g_strdup (v));
}

static void call_finish_too_large (Call *call);

static gboolean
on_too_large (gpointer data)
{
  Call *call = data;
  call->retry_timer = 0;
  call_finish_too_large (call);
  return G_SOURCE_REMOVE;
}

static gboolean
on_data (UpstreamRequest *req, const guint8 *data, gsize len, gpointer user_data)
{
  Call *call = user_data;
  RegistryBudget *budget = &call->client->budget;
  if (call->failed)
    return TRUE;
  if (call->body->len + len > call->max_body || (budget->reserve && !budget->reserve (budget->data, len)))
    {
      /* stop reading now; report from the main loop, outside libcurl's
       * callback (where no request may be started) */
      call->failed = TRUE;
      upstream_request_cancel (call->req);
      call->req = NULL;
      call->retry_timer = g_idle_add (on_too_large, call);
      return TRUE;
    }
  call->reserved += budget->reserve ? len : 0;
  g_byte_array_append (call->body, data, len);
  return TRUE;
}

static gboolean
status_is_retried (guint status)
{
  return status == 429 || status == 502 || status == 503 || status == 504;
}

static gboolean
on_retry_timer (gpointer data)
{
  Call *call = data;
  call->retry_timer = 0;
  call_reset_answer (call);
  call_start (call);
  return G_SOURCE_REMOVE;
}

/* Wait for Retry-After (in seconds, capped) or a growing back-off. */
static void
call_retry_later (Call *call)
{
  guint ms = BACKOFF_MS << call->attempt;
  const gchar *after = call->headers ? g_hash_table_lookup (call->headers, "retry-after") : NULL;
  if (after && g_ascii_isdigit (after[0]))
    ms = MIN (g_ascii_strtoull (after, NULL, 10), RETRY_AFTER_MAX_S) * 1000;
  call->attempt++;
  g_debug ("registry: %s %s: %u, retrying in %u ms", call->method, call->path, call->status, ms);
  call->retry_timer = g_timeout_add (ms, on_retry_timer, call);
}

/* A 3xx with a Location: the next URL (transfer full) and whether it is on
 * another origin than the registry. */
static gchar *
call_redirect_target (Call *call, gboolean *foreign)
{
  const gchar *location = g_hash_table_lookup (call->headers, "location");
  const gchar *base = upstream_get_base_url (UPSTREAM_REGISTRY);
  if (!location || !base)
    return NULL;
  g_autofree gchar *current = call->url ? g_strdup (call->url) : g_strconcat (base, call->path, NULL);
  g_autoptr(GUri) from = g_uri_parse (current, G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) to = from ? g_uri_parse_relative (from, location, G_URI_FLAGS_ENCODED, NULL) : NULL;
  g_autoptr(GUri) home = g_uri_parse (base, G_URI_FLAGS_ENCODED, NULL);
  if (!to || !home || (g_strcmp0 (g_uri_get_scheme (to), "https") != 0 &&
                       g_strcmp0 (g_uri_get_scheme (to), "http") != 0))
    return NULL;
  *foreign = call->foreign ||
             g_strcmp0 (g_uri_get_scheme (to), g_uri_get_scheme (home)) != 0 ||
             g_ascii_strcasecmp (g_uri_get_host (to), g_uri_get_host (home)) != 0 ||
             g_uri_get_port (to) != g_uri_get_port (home);
  return g_uri_to_string (to);
}

/* TRUE when the call goes on (a retry or a redirect), FALSE when it is done. */
static gboolean
call_continues (Call *call, const GError *error)
{
  gboolean dropped = error && g_error_matches (error, UPSTREAM_ERROR, UPSTREAM_ERROR_DISCONNECTED);
  if ((dropped || (!error && status_is_retried (call->status))) && call->attempt < MAX_RETRIES)
    {
      call_retry_later (call);
      return TRUE;
    }
  if (error || call->status < 300 || call->status >= 400 || call->status == 304)
    return FALSE;
  gboolean foreign = FALSE;
  g_autofree gchar *next = call->redirects < MAX_REDIRECTS && call->client->backend == UPSTREAM_REGISTRY
                           ? call_redirect_target (call, &foreign) : NULL;
  if (!next)
    return FALSE;
  g_free (call->url);
  call->url = g_steal_pointer (&next);
  call->foreign = foreign;
  call->redirects++;
  call_reset_answer (call);
  call_start (call);
  return TRUE;
}

static void
call_finish_too_large (Call *call)
{
  g_autoptr(GError) big = g_error_new (REGISTRY_CLIENT_ERROR, REGISTRY_CLIENT_ERROR_TOO_LARGE,
                                       "the answer to %s is larger than %" G_GSIZE_FORMAT
                                       " bytes or than this channel's memory budget",
                                       call->path, call->max_body);
  call_finish (call, big);
}

static void
on_done (UpstreamRequest *req, const GError *error, gpointer user_data)
{
  Call *call = user_data;
  call->req = NULL;
  if (call_continues (call, error))
    return;
  if (error)
    {
      g_autoptr(GError) e = g_error_new (REGISTRY_CLIENT_ERROR, REGISTRY_CLIENT_ERROR_UPSTREAM,
                                         "%s", error->message);
      call_finish (call, e);
      return;
    }
  if (call->status >= 300 && call->status < 400 && call->status != 304)
    {
      g_autoptr(GError) e = g_error_new (REGISTRY_CLIENT_ERROR, REGISTRY_CLIENT_ERROR_REDIRECT,
                                         "%s: a redirect that cannot be followed (%u)", call->path,
                                         call->status);
      call_finish (call, e);
      return;
    }
  call_finish (call, NULL);
}

static void
call_start (Call *call)
{
  static const UpstreamCallbacks callbacks = { on_response, on_data, on_done };
  RegistryClient *client = call->client;
  UpstreamRequest *req = call->url ? upstream_request_new_url (client->backend, call->method, call->url)
                                   : upstream_request_new (client->backend, call->method, call->path);
  if (call->accept)
    upstream_request_add_header (req, "Accept", call->accept);
  if (client->basic && !call->foreign)
    upstream_request_set_registry_auth (req, client->basic);
  if (client->authorization)
    upstream_request_set_authorization (req, client->authorization);
  upstream_request_set_timeout (req, client->timeout);
  /* MaxUpstreamPerUser: the user, whichever login (an OpenShift login is
   * a new token, thus a new user_key) */
  upstream_request_set_owner (req, registry_client_get_owner (client));
  call->req = req;
  client->sent++;
  upstream_request_start (req, &callbacks, call);
}

static void
client_dispatch (RegistryClient *client)
{
  while (!client->paused && client->in_flight < client->max_in_flight && client->queue.length)
    {
      Call *call = g_queue_pop_head (&client->queue);
      client->running = g_list_prepend (client->running, call);
      client->in_flight++;
      if (!upstream_get_base_url (client->backend))
        {
          g_autoptr(GError) e = g_error_new (REGISTRY_CLIENT_ERROR, REGISTRY_CLIENT_ERROR_NO_REGISTRY,
                                             "no %s is configured",
                                             client->backend == UPSTREAM_MASTER ? "master" : "registry");
          call_finish (call, e);
          return;   /* call_finish dispatched again */
        }
      call_start (call);
    }
}

void
registry_client_request (RegistryClient *client, const gchar *method, const gchar *path,
                         const gchar *accept, gsize max_body, gboolean urgent,
                         RegistryResponseFunc func, gpointer user_data, GDestroyNotify destroy)
{
  Call *call = g_new0 (Call, 1);
  call->client = client;
  call->method = g_strdup (method);
  call->path = g_strdup (path);
  call->accept = g_strdup (accept);
  call->max_body = max_body;
  call->func = func;
  call->user_data = user_data;
  call->destroy = destroy;
  call->body = g_byte_array_new ();
  if (urgent)
    g_queue_push_head (&client->queue, call);
  else
    g_queue_push_tail (&client->queue, call);
  client_dispatch (client);
}

void
registry_client_pause (RegistryClient *client)
{
  client->paused = TRUE;
}

void
registry_client_resume (RegistryClient *client)
{
  if (!client->paused)
    return;
  client->paused = FALSE;
  client_dispatch (client);
}

void
registry_client_cancel (RegistryClient *client)
{
  Call *call;
  while ((call = g_queue_pop_head (&client->queue)))
    call_free (call);
  GList *running = g_steal_pointer (&client->running);
  for (GList *l = running; l; l = l->next)
    call_free (l->data);
  g_list_free (running);
  client->in_flight = 0;
}

/* --------------------------------------------------------------- answers */

gchar *
registry_response_describe (const RegistryResponse *response)
{
  gsize len = 0;
  const gchar *data = response->body ? g_bytes_get_data (response->body, &len) : NULL;
  g_autoptr(JsonObject) o = data && len ? rc_json_parse_object (data, len, NULL) : NULL;
  JsonArray *errors = NULL;
  if (o && rc_json_get_array (o, "errors", NULL, &errors) && errors && json_array_get_length (errors) > 0)
    {
      JsonNode *first = json_array_get_element (errors, 0);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (first) ? json_node_get_object (first) : NULL;
      const gchar *message = e ? rc_json_string_or (e, "message", NULL) : NULL;
      const gchar *code = e ? rc_json_string_or (e, "code", NULL) : NULL;
      if (message || code)
        return g_strdup_printf ("%u %s", response->status, message ? message : code);
    }
  return g_strdup_printf ("%u", response->status);
}
