/* registry-row.c: see registry-row.h. */
#include "config.h"

#include "ws/registry-row.h"
#include "ws/registry-api.h"

#include <string.h>

/* --------------------------------------------------------------- results */

RegistryTagResult *
registry_tag_result_new (const gchar *tag)
{
  RegistryTagResult *r = g_new0 (RegistryTagResult, 1);
  r->tag = g_strdup (tag);
  return r;
}

static void
platform_result_clear (gpointer p)
{
  RegistryPlatformResult *pr = p;
  g_clear_pointer (&pr->manifest, registry_manifest_unref);
  g_clear_pointer (&pr->config, registry_config_unref);
  g_clear_pointer (&pr->error, g_free);
}

void
registry_tag_result_free (RegistryTagResult *r)
{
  if (!r)
    return;
  g_free (r->repository);
  g_free (r->tag);
  g_free (r->digest);
  registry_manifest_unref (r->manifest);
  registry_config_unref (r->config);
  if (r->platforms)
    g_array_unref (r->platforms);
  g_free (r->error);
  g_free (r->warning);
  g_free (r);
}

void
registry_tag_result_init_platforms (RegistryTagResult *r)
{
  g_return_if_fail (r->manifest && r->manifest->is_index && !r->platforms);
  guint n = r->manifest->n_platforms;
  r->platforms = g_array_sized_new (FALSE, TRUE, sizeof (RegistryPlatformResult), n);
  g_array_set_clear_func (r->platforms, platform_result_clear);
  g_array_set_size (r->platforms, n);
  for (guint i = 0; i < n; i++)
    g_array_index (r->platforms, RegistryPlatformResult, i).platform = &r->manifest->platforms[i];
}

RegistryPlatformResult *
registry_tag_result_get_platform (RegistryTagResult *r, guint i)
{
  g_return_val_if_fail (r->platforms && i < r->platforms->len, NULL);
  return &g_array_index (r->platforms, RegistryPlatformResult, i);
}

/* ---------------------------------------------------------------- pieces */

static void
member_string (GString *out, const gchar *name, const gchar *value)
{
  if (!value)
    return;
  g_string_append_printf (out, ",\"%s\":", name);
  registry_json_append_string (out, value);
}

static void
member_int (GString *out, const gchar *name, gint64 value)
{
  g_string_append_printf (out, ",\"%s\":%" G_GINT64_FORMAT, name, value);
}

/* The newer of two RFC 3339 times as the images wrote them (comparing the
 * parsed times; text that does not parse loses). */
static const gchar *
newer_created (const gchar *a, const gchar *b)
{
  if (!a)
    return b;
  if (!b)
    return a;
  g_autoptr(GDateTime) ta = g_date_time_new_from_iso8601 (a, NULL);
  g_autoptr(GDateTime) tb = g_date_time_new_from_iso8601 (b, NULL);
  if (!tb)
    return a;
  if (!ta)
    return b;
  return g_date_time_compare (ta, tb) >= 0 ? a : b;
}

/* Add every blob of M (config and layers) to SEEN (digest → size). */
static void
blobs_collect (GHashTable *seen, const RegistryManifest *m)
{
  if (m->config.digest)
    g_hash_table_insert (seen, m->config.digest, (gpointer) &m->config.size);
  for (guint i = 0; i < m->n_layers; i++)
    g_hash_table_insert (seen, m->layers[i].digest, (gpointer) &m->layers[i].size);
}

static gint64
blobs_total (GHashTable *seen)
{
  gint64 total = 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, seen);
  while (g_hash_table_iter_next (&it, &k, &v))
    total = registry_size_add (total, *(gint64 *) v);
  return total;
}

static void
blobs_append (GString *out, GHashTable *seen)
{
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (seen), (GCompareFunc) strcmp);
  g_string_append (out, ",\"blobs\":[");
  for (GList *l = keys; l; l = l->next)
    {
      if (l != keys)
        g_string_append_c (out, ',');
      registry_json_append_string (out, l->data);
    }
  /* the size of each, in the same order: shared layers counted once need
   * them (doc/architecture.md, "registry-tags") */
  g_string_append (out, "],\"blobSizes\":[");
  for (GList *l = keys; l; l = l->next)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, l != keys ? "," : "",
                            *(const gint64 *) g_hash_table_lookup (seen, l->data));
  g_string_append_c (out, ']');
}

/* The image part of a row or a platform: created, size, layers, os/arch. */
static void
image_members (GString *out, const RegistryManifest *m, const RegistryConfig *c)
{
  if (c)
    member_string (out, "created", c->created);
  member_int (out, "size", registry_manifest_image_size (m));
  member_int (out, "layers", m->n_layers);
  if (c)
    {
      member_string (out, "os", c->os);
      member_string (out, "architecture", c->architecture);
      member_string (out, "variant", c->variant);
    }
  member_string (out, "config", m->config.digest);
}

static void
platform_append (GString *out, const RegistryPlatformResult *pr)
{
  const RegistryPlatform *p = pr->platform;
  g_string_append (out, "{\"digest\":");
  registry_json_append_string (out, p->digest);
  member_string (out, "os", p->os);
  member_string (out, "architecture", p->architecture);
  member_string (out, "variant", p->variant);
  if (pr->manifest && !pr->manifest->is_index)
    {
      if (pr->config)
        member_string (out, "created", pr->config->created);
      member_int (out, "size", registry_manifest_image_size (pr->manifest));
      member_int (out, "layers", pr->manifest->n_layers);
    }
  member_string (out, "error", pr->error);
  g_string_append_c (out, '}');
}

/* An index: its platforms, and what they add up to (newest created,
 * distinct blobs counted once). */
static void
index_members (GString *out, const RegistryTagResult *r, GHashTable *seen)
{
  const gchar *created = NULL;
  g_autoptr(GHashTable) layers = g_hash_table_new (g_str_hash, g_str_equal);
  if (r->platforms)
    for (guint i = 0; i < r->platforms->len; i++)
      {
        const RegistryPlatformResult *pr = &g_array_index (r->platforms, RegistryPlatformResult, i);
        if (pr->config)
          created = newer_created (created, pr->config->created);
        if (pr->manifest && !pr->manifest->is_index)
          {
            blobs_collect (seen, pr->manifest);
            for (guint j = 0; j < pr->manifest->n_layers; j++)
              g_hash_table_add (layers, pr->manifest->layers[j].digest);
          }
      }
  member_string (out, "created", created);
  if (g_hash_table_size (seen))
    {
      member_int (out, "size", blobs_total (seen));
      member_int (out, "layers", g_hash_table_size (layers));
    }
  g_string_append (out, ",\"platforms\":[");
  if (r->platforms)
    for (guint i = 0; i < r->platforms->len; i++)
      {
        if (i)
          g_string_append_c (out, ',');
        platform_append (out, &g_array_index (r->platforms, RegistryPlatformResult, i));
      }
  g_string_append_c (out, ']');
}

/* "warning": what was odd in the manifest, the config or a platform. */
static void
warning_member (GString *out, const RegistryTagResult *r)
{
  g_autoptr(GString) w = g_string_new (NULL);
  const gchar *parts[] = {
    r->manifest ? r->manifest->problem : NULL,
    r->config ? r->config->problem : NULL,
    r->warning,
  };
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i])
      g_string_append_printf (w, "%s%s", w->len ? "; " : "", parts[i]);
  if (r->platforms)
    for (guint i = 0; i < r->platforms->len; i++)
      {
        const RegistryPlatformResult *pr = &g_array_index (r->platforms, RegistryPlatformResult, i);
        if (pr->config && pr->config->problem && w->len < 1024)
          g_string_append_printf (w, "%s%s: %s", w->len ? "; " : "",
                                  pr->platform->digest, pr->config->problem);
      }
  if (w->len)
    member_string (out, "warning", w->str);
}

/* ------------------------------------------------------------------- rows */

void
registry_row_append_tag (GString *out, const RegistryTagResult *r, gboolean with_blobs)
{
  g_string_append (out, "{\"type\":\"tag\"");
  member_string (out, "repository", r->repository);
  member_string (out, "tag", r->tag);
  member_string (out, "digest", r->digest);
  member_string (out, "match", r->match);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  if (r->manifest)
    {
      member_string (out, "mediaType", r->manifest->media_type[0] ? r->manifest->media_type : NULL);
      if (r->manifest->is_index)
        index_members (out, r, seen);
      else
        {
          image_members (out, r->manifest, r->config);
          blobs_collect (seen, r->manifest);
        }
      warning_member (out, r);
      if (with_blobs)
        blobs_append (out, seen);
    }
  member_string (out, "error", r->error);
  if (r->status)
    member_int (out, "status", r->status);
  g_string_append (out, "}\n");
}

void
registry_row_append_names (GString *out, const gchar *const *names, guint n)
{
  g_string_append (out, "{\"type\":\"names\",\"names\":[");
  for (guint i = 0; i < n; i++)
    {
      if (i)
        g_string_append_c (out, ',');
      registry_json_append_string (out, names[i]);
    }
  g_string_append (out, "]}\n");
}

void
registry_row_append_error (GString *out, const gchar *message, guint status)
{
  g_string_append (out, "{\"type\":\"error\",\"error\":");
  registry_json_append_string (out, message);
  if (status)
    member_int (out, "status", status);
  g_string_append (out, "}\n");
}
