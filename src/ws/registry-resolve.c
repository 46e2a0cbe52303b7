/* registry-resolve.c: see registry-resolve.h. A Job is one tag under way;
 * a Pending is one manifest or config being fetched, with the jobs
 * waiting for it. */
#include "config.h"

#include "ws/registry-resolve.h"
#include "ws/registry-api.h"
#include "ws/registry-cache.h"
#include "ws/registry-walk.h"

#include <string.h>

/* How much one tag moves the HEAD-or-GET score (an exponential average of
 * "the manifest was cached"). */
#define SCORE_WEIGHT 0.125

struct _RegistryResolver {
  gint refs;
  RegistryClient *client;
  gchar *repository;
  gchar *scope;
  gboolean no_config;
  GHashTable *pending;      /* "m:"/"c:" + digest → Pending (not owned: a request owns it) */
  gdouble head_score;
};

typedef struct {
  gint refs;
  RegistryResolver *resolver;
  RegistryTagResult *result;
  RegistryResolveFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  guint platforms_left;
  guint blobs;              /* layers and configs of the platform manifests taken */
  gboolean finished;
} Job;

/* OBJECT: a RegistryManifest or RegistryConfig (transfer none), or NULL
 * and ERROR with the registry's STATUS (0 when it did not answer). */
typedef void (*NeedFunc) (Job *job, gpointer object, const gchar *error, guint status, guint index);

typedef struct {
  Job *job;
  NeedFunc func;
  guint index;
} Waiter;

typedef struct {
  RegistryResolver *resolver;
  gboolean config;
  gchar *digest;
  gchar *key;
  GArray *waiters;
} Pending;

/* -------------------------------------------------------------- resolver */

RegistryResolver *
registry_resolver_new (RegistryClient *client, const gchar *repository, gboolean no_config)
{
  RegistryResolver *r = g_new0 (RegistryResolver, 1);
  r->refs = 1;
  r->client = registry_client_ref (client);
  r->repository = g_strdup (repository);
  r->scope = g_strdup (registry_client_get_registry (client));
  r->no_config = no_config;
  r->pending = g_hash_table_new (g_str_hash, g_str_equal);
  gpointer walked = registry_cache_lookup (REGISTRY_CACHE_WALKED, r->scope, repository);
  r->head_score = walked ? 1.0 : 0.0;
  return r;
}

RegistryResolver *
registry_resolver_ref (RegistryResolver *r)
{
  r->refs++;
  return r;
}

void
registry_resolver_unref (RegistryResolver *r)
{
  if (!r || --r->refs > 0)
    return;
  g_hash_table_unref (r->pending);
  registry_client_unref (r->client);
  g_free (r->repository);
  g_free (r->scope);
  g_free (r);
}

gboolean
registry_resolver_prefers_head (RegistryResolver *r)
{
  return r->head_score >= 0.5;
}

static void
resolver_score (RegistryResolver *r, gboolean cached)
{
  r->head_score = r->head_score * (1 - SCORE_WEIGHT) + (cached ? SCORE_WEIGHT : 0);
}

/* ------------------------------------------------------------------- jobs */

static Job *
job_ref (Job *job)
{
  job->refs++;
  return job;
}

static void
job_unref (gpointer data)
{
  Job *job = data;
  if (--job->refs > 0)
    return;
  if (job->destroy)
    job->destroy (job->user_data);
  registry_tag_result_free (job->result);
  registry_resolver_unref (job->resolver);
  g_free (job);
}

static void
job_complete (Job *job)
{
  if (job->finished)
    return;
  job->finished = TRUE;
  job->func (g_steal_pointer (&job->result), job->user_data);
}

static void
job_fail (Job *job, const gchar *error, guint status)
{
  if (job->finished)
    return;
  g_free (job->result->error);
  job->result->error = g_strdup (error);
  job->result->status = status;
  job_complete (job);
}

/* ---------------------------------------------------------- needs (dedup) */

static gpointer
object_from_answer (Pending *p, const RegistryResponse *response, gchar **error, guint *status)
{
  gsize len = 0;
  const gchar *data = g_bytes_get_data (response->body, &len);
  g_autoptr(GError) local = NULL;
  const gchar *what = p->config ? "the config" : "the manifest";
  if (response->status != 200)
    {
      g_autofree gchar *text = registry_response_describe (response);
      *error = g_strdup_printf ("%s %s: %s", what, p->digest, text);
      *status = response->status;
      return NULL;
    }
  gboolean checked = registry_digest_matches (p->digest, data, len);
  if (!checked && (g_str_has_prefix (p->digest, "sha256:") || g_str_has_prefix (p->digest, "sha512:")))
    {
      *error = g_strdup_printf ("%s %s: the content does not match its digest", what, p->digest);
      return NULL;
    }
  gpointer object;
  if (p->config)
    object = registry_config_parse (data, len, &local);
  else
    {
      const gchar *type = g_hash_table_lookup (response->headers, "content-type");
      object = registry_manifest_parse (data, len, type, &local);
    }
  if (!object)
    {
      *error = g_strdup_printf ("%s %s: %s", what, p->digest, local->message);
      return NULL;
    }
  if (checked && p->config)
    registry_cache_insert (REGISTRY_CACHE_CONFIG, p->resolver->scope, p->digest, object,
                           ((RegistryConfig *) object)->charge, (RegistryCacheRefFunc) registry_config_ref,
                           (GDestroyNotify) registry_config_unref);
  else if (checked)
    registry_cache_insert (REGISTRY_CACHE_MANIFEST, p->resolver->scope, p->digest, object,
                           ((RegistryManifest *) object)->charge, (RegistryCacheRefFunc) registry_manifest_ref,
                           (GDestroyNotify) registry_manifest_unref);
  return object;
}

static void
object_unref (gboolean config, gpointer object)
{
  if (config)
    registry_config_unref (object);
  else
    registry_manifest_unref (object);
}

static void
on_need_answer (RegistryClient *client, const RegistryResponse *response, const GError *error,
                gpointer data)
{
  Pending *p = data;
  g_autofree gchar *text = NULL;
  guint status = 0;
  g_hash_table_remove (p->resolver->pending, p->key);
  gpointer object = NULL;
  if (error)
    text = g_strdup_printf ("%s %s: %s", p->config ? "the config" : "the manifest", p->digest,
                            error->message);
  else
    object = object_from_answer (p, response, &text, &status);
  g_autoptr(GArray) waiters = g_steal_pointer (&p->waiters);
  for (guint i = 0; i < waiters->len; i++)
    {
      Waiter *w = &g_array_index (waiters, Waiter, i);
      w->func (w->job, object, text, status, w->index);
      job_unref (w->job);
    }
  if (object)
    object_unref (p->config, object);
}

static void
pending_free (gpointer data)
{
  Pending *p = data;
  if (g_hash_table_lookup (p->resolver->pending, p->key) == p)
    g_hash_table_remove (p->resolver->pending, p->key);
  if (p->waiters)
    {
      for (guint i = 0; i < p->waiters->len; i++)
        job_unref (g_array_index (p->waiters, Waiter, i).job);
      g_array_unref (p->waiters);
    }
  registry_resolver_unref (p->resolver);
  g_free (p->digest);
  g_free (p->key);
  g_free (p);
}

/* Get the manifest (CONFIG false) or config with DIGEST for JOB: from the
 * cache, from a request already under way, or a new request. */
static void
job_need (Job *job, gboolean config, const gchar *digest, NeedFunc func, guint index)
{
  RegistryResolver *r = job->resolver;
  gpointer object = registry_cache_lookup (config ? REGISTRY_CACHE_CONFIG : REGISTRY_CACHE_MANIFEST,
                                           r->scope, digest);
  if (object)
    {
      func (job, object, NULL, 0, index);
      object_unref (config, object);
      return;
    }
  g_autofree gchar *key = g_strconcat (config ? "c:" : "m:", digest, NULL);
  Pending *p = g_hash_table_lookup (r->pending, key);
  Waiter w = { job_ref (job), func, index };
  if (p)
    {
      g_array_append_val (p->waiters, w);
      return;
    }
  p = g_new0 (Pending, 1);
  p->resolver = registry_resolver_ref (r);
  p->config = config;
  p->digest = g_strdup (digest);
  p->key = g_steal_pointer (&key);
  p->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
  g_array_append_val (p->waiters, w);
  g_hash_table_insert (r->pending, p->key, p);
  g_autofree gchar *path = config ? registry_path_blob (r->repository, digest)
                                  : registry_path_manifest (r->repository, digest);
  registry_client_request (r->client, "GET", path, config ? NULL : registry_manifest_accept,
                           config ? REGISTRY_CONFIG_MAX : REGISTRY_MANIFEST_MAX, TRUE,
                           on_need_answer, p, pending_free);
}

/* -------------------------------------------------------------- platforms */

static void
platform_done (Job *job)
{
  if (--job->platforms_left == 0)
    job_complete (job);
}

static void
on_platform_config (Job *job, gpointer object, const gchar *error, guint status, guint index)
{
  if (job->finished)        /* failed meanwhile (too large): the result went */
    return;
  RegistryPlatformResult *pr = registry_tag_result_get_platform (job->result, index);
  if (object)
    pr->config = registry_config_ref (object);
  else
    pr->error = g_strdup (error);
  platform_done (job);
}

static void
on_platform_manifest (Job *job, gpointer object, const gchar *error, guint status, guint index)
{
  if (job->finished)
    return;
  RegistryPlatformResult *pr = registry_tag_result_get_platform (job->result, index);
  RegistryManifest *m = object;
  if (m && !m->is_index && job->blobs + m->n_layers + 1 > REGISTRY_RESOLVE_MAX_BLOBS)
    {
      g_autofree gchar *text = g_strdup_printf ("the index is too large: its platforms have more than %u "
                                                "layers and configs", REGISTRY_RESOLVE_MAX_BLOBS);
      job_fail (job, text, 0);
      return;
    }
  if (m && !m->is_index)
    job->blobs += m->n_layers + 1;
  if (!m)
    {
      pr->error = g_strdup (error);
      platform_done (job);
      return;
    }
  pr->manifest = registry_manifest_ref (m);
  registry_cache_note_seen (job->resolver->scope, pr->platform->digest, job->resolver->repository);
  if (m->is_index || job->resolver->no_config || !m->config.digest)
    platform_done (job);
  else
    job_need (job, TRUE, m->config.digest, on_platform_config, index);
}

static void
job_resolve_platforms (Job *job)
{
  registry_tag_result_init_platforms (job->result);
  RegistryManifest *m = job->result->manifest;
  job->platforms_left = m->n_platforms;
  if (m->n_platforms == 0)
    {
      job_complete (job);
      return;
    }
  job_ref (job);
  for (guint i = 0; i < m->n_platforms && job->result; i++)
    job_need (job, FALSE, m->platforms[i].digest, on_platform_manifest, i);
  job_unref (job);
}

/* ------------------------------------------------------------ image steps */

static void
on_config (Job *job, gpointer object, const gchar *error, guint status, guint index)
{
  if (object)
    job->result->config = registry_config_ref (object);
  else
    job->result->warning = g_strdup (error);
  job_complete (job);
}

static void
job_have_manifest (Job *job, RegistryManifest *m)
{
  RegistryResolver *r = job->resolver;
  job->result->manifest = registry_manifest_ref (m);
  registry_cache_note_seen (r->scope, job->result->digest, r->repository);
  if (m->is_index)
    job_resolve_platforms (job);
  else if (r->no_config || !m->config.digest)
    job_complete (job);
  else
    job_need (job, TRUE, m->config.digest, on_config, 0);
}

static void
on_manifest (Job *job, gpointer object, const gchar *error, guint status, guint index)
{
  if (object)
    job_have_manifest (job, object);
  else
    job_fail (job, error, status);
}

static void
job_have_digest (Job *job, const gchar *digest)
{
  g_free (job->result->digest);
  job->result->digest = g_strdup (digest);
  g_autoptr(RegistryManifest) m = registry_cache_lookup (REGISTRY_CACHE_MANIFEST, job->resolver->scope, digest);
  resolver_score (job->resolver, m != NULL);
  if (m)
    job_have_manifest (job, m);
  else
    job_need (job, FALSE, digest, on_manifest, 0);
}

/* ------------------------------------------------------------ by the tag */

static void job_get_by_tag (Job *job);

static void
on_get_by_tag (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  Job *job = data;
  if (error || response->status != 200)
    {
      g_autofree gchar *text = error ? g_strdup (error->message) : registry_response_describe (response);
      job_fail (job, text, error ? 0 : response->status);
      return;
    }
  gsize len = 0;
  const gchar *body = g_bytes_get_data (response->body, &len);
  const gchar *said = g_hash_table_lookup (response->headers, "docker-content-digest");
  g_autofree gchar *digest = NULL;
  if (said && registry_digest_valid (said))
    digest = g_strdup (said);
  else
    digest = registry_digest_compute ("sha256", body, len);
  job->result->digest = g_strdup (digest);
  gboolean checked = registry_digest_matches (digest, body, len);
  if (!checked && (g_str_has_prefix (digest, "sha256:") || g_str_has_prefix (digest, "sha512:")))
    {
      job_fail (job, "the manifest does not match its digest", 0);
      return;
    }
  RegistryResolver *r = job->resolver;
  g_autoptr(RegistryManifest) cached = registry_cache_lookup (REGISTRY_CACHE_MANIFEST, r->scope, digest);
  resolver_score (r, cached != NULL);
  if (cached)
    {
      job_have_manifest (job, cached);
      return;
    }
  g_autoptr(GError) local = NULL;
  g_autoptr(RegistryManifest) m = registry_manifest_parse (body, len, g_hash_table_lookup (response->headers,
                                                                                          "content-type"),
                                                           &local);
  if (!m)
    {
      job_fail (job, local->message, 0);
      return;
    }
  if (checked)
    registry_cache_insert (REGISTRY_CACHE_MANIFEST, r->scope, digest, m, m->charge,
                           (RegistryCacheRefFunc) registry_manifest_ref, (GDestroyNotify) registry_manifest_unref);
  job_have_manifest (job, m);
}

static void
on_head_by_tag (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  Job *job = data;
  if (error || response->status != 200)
    {
      g_autofree gchar *text = error ? g_strdup (error->message) : registry_response_describe (response);
      job_fail (job, text, error ? 0 : response->status);
      return;
    }
  const gchar *digest = g_hash_table_lookup (response->headers, "docker-content-digest");
  if (digest && registry_digest_valid (digest))
    job_have_digest (job, digest);
  else
    job_get_by_tag (job);     /* a registry that does not say: read the manifest */
}

static void
job_request_by_tag (Job *job, const gchar *method, RegistryResponseFunc func, gboolean urgent)
{
  RegistryResolver *r = job->resolver;
  g_autofree gchar *path = registry_path_manifest (r->repository, job->result->tag);
  registry_client_request (r->client, method, path, registry_manifest_accept, REGISTRY_MANIFEST_MAX,
                           urgent, func, job_ref (job), job_unref);
}

static void
job_get_by_tag (Job *job)
{
  job_request_by_tag (job, "GET", on_get_by_tag, TRUE);
}

void
registry_resolver_resolve (RegistryResolver *r, const gchar *tag, const gchar *digest,
                           RegistryResolveFunc func, gpointer user_data, GDestroyNotify destroy)
{
  Job *job = g_new0 (Job, 1);
  job->refs = 1;
  job->resolver = registry_resolver_ref (r);
  job->result = registry_tag_result_new (tag);
  job->func = func;
  job->user_data = user_data;
  job->destroy = destroy;
  if (digest)
    job_have_digest (job, digest);
  else if (registry_resolver_prefers_head (r))
    job_request_by_tag (job, "HEAD", on_head_by_tag, FALSE);
  else
    job_request_by_tag (job, "GET", on_get_by_tag, FALSE);
  job_unref (job);
}
