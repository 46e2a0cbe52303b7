/* channel-openshift-images.c: the "openshift-images" payload (OpenShift
 * mode): an image stream's tags with created time, size, layers and
 * platforms. The stream carries tag → image; the rest is in the Image
 * objects, fetched with bounded concurrency and kept in the shared cache
 * by name (= digest).
 *
 * open {"payload":"openshift-images","namespace":NS,"name":STREAM}
 *   → ready → (this user's GET of the image stream, with the user's token:
 *   403 "access-denied", 404 "not-found") → {"type":"names"} with every
 *   tag → one {"type":"tag"} row per tag as its image completes (members
 *   of a registry-tags row: tag, digest, mediaType, created, size, layers,
 *   os, architecture, platforms; error and status when the image could
 *   not be read; only "tag" for a tag without an image) → "progress"
 *   {"listed","done","requests"} → done → close.
 * An Image in the cache is served only for a digest that the stream this
 * user just read names; an image of several tags is fetched once.
 * (doc/architecture.md, "Registry channels") */
#include "config.h"

#include "ws/channel-registry.h"
#include "ws/openshift-image.h"
#include "ws/registry-api.h"
#include "ws/registry-cache.h"
#include "ws/registry-output.h"
#include "ws/registry-row.h"
#include "common/rcjson.h"

#include <string.h>

#define STREAM_MAX (16 << 20)
#define IMAGE_MAX (4 << 20)
#define NAME_MAX_LEN 253

typedef struct {
  gint refs;
  RcChannel *channel;       /* NULL once closed */
  RegistryClient *client;
  RegistryOutput *output;
  gchar *scope;
  GHashTable *waiting;      /* digest → GPtrArray of tags */
  guint listed;
  guint done;
} Images;

static Images *
images_ref (Images *im)
{
  im->refs++;
  return im;
}

static void
images_unref (gpointer data)
{
  Images *im = data;
  if (--im->refs > 0)
    return;
  g_hash_table_unref (im->waiting);
  registry_client_unref (im->client);
  registry_output_free (im->output);
  g_free (im->scope);
  g_free (im);
}

static gboolean
name_valid (const gchar *name)
{
  if (!name || !name[0] || strlen (name) > NAME_MAX_LEN)
    return FALSE;
  for (const gchar *p = name; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || ((*p == '-' || *p == '.' || *p == '_') && p != name)))
      return FALSE;
  return TRUE;
}

static void
images_progress (Images *im, gboolean force)
{
  JsonObject *p = json_object_new ();
  json_object_set_int_member (p, "listed", im->listed);
  json_object_set_int_member (p, "done", im->done);
  json_object_set_int_member (p, "requests", registry_client_sent (im->client));
  registry_output_progress (im->output, p, force);
}

static void
images_maybe_finish (Images *im)
{
  if (!im->channel || g_hash_table_size (im->waiting) || !registry_output_flush (im->output))
    return;
  images_progress (im, TRUE);
  channel_send_control (im->channel, "done", NULL);
  channel_close (im->channel, NULL);
}

/* Rows for every tag of DIGEST, with IMAGE or ERROR. */
static void
images_emit (Images *im, const gchar *digest, GPtrArray *tags, OpenshiftImage *image,
             const gchar *error, guint status)
{
  for (guint i = 0; i < tags->len; i++)
    openshift_image_append_row (registry_output_rows (im->output), g_ptr_array_index (tags, i), digest,
                                image, error, status);
  im->done += tags->len;
  if (registry_output_commit (im->output) && im->channel)
    {
      images_progress (im, FALSE);
      if (channel_is_congested (im->channel))
        registry_client_pause (im->client);
    }
}

typedef struct {
  Images *images;
  gchar *digest;
} ImageCall;

static void
image_call_free (gpointer data)
{
  ImageCall *ic = data;
  images_unref (ic->images);
  g_free (ic->digest);
  g_free (ic);
}

static void
on_image (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  ImageCall *ic = data;
  Images *im = images_ref (ic->images);
  g_autoptr(GPtrArray) tags = NULL;
  g_autofree gchar *key = NULL;
  g_hash_table_steal_extended (im->waiting, ic->digest, (gpointer *) &key, (gpointer *) &tags);
  g_autofree gchar *text = NULL;
  g_autoptr(OpenshiftImage) image = NULL;
  guint status = 0;
  if (error)
    text = g_strdup (error->message);
  else if (response->status != 200)
    {
      text = g_strdup_printf ("the image %s: %u", ic->digest, response->status);
      status = response->status;
    }
  else
    {
      gsize len = 0;
      const gchar *body = g_bytes_get_data (response->body, &len);
      g_autoptr(GError) local = NULL;
      image = openshift_image_parse (body, len, &local);
      if (!image || !g_str_equal (image->name, ic->digest))
        text = g_strdup_printf ("the image %s: %s", ic->digest, local ? local->message : "another image's object");
      else
        registry_cache_insert (REGISTRY_CACHE_IMAGE, im->scope, ic->digest, image, image->charge,
                               (RegistryCacheRefFunc) openshift_image_ref, (GDestroyNotify) openshift_image_unref);
      if (text)
        g_clear_pointer (&image, openshift_image_unref);
    }
  if (tags && im->channel)
    images_emit (im, ic->digest, tags, image, text, status);
  images_maybe_finish (im);
  images_unref (im);
}

/* TAG points to DIGEST: a row from the cache, or wait for the image. */
static void
images_want (Images *im, const gchar *tag, const gchar *digest)
{
  GPtrArray *tags = g_hash_table_lookup (im->waiting, digest);
  if (tags)
    {
      g_ptr_array_add (tags, g_strdup (tag));
      return;
    }
  g_autoptr(OpenshiftImage) cached = registry_cache_lookup (REGISTRY_CACHE_IMAGE, im->scope, digest);
  if (cached)
    {
      openshift_image_append_row (registry_output_rows (im->output), tag, digest, cached, NULL, 0);
      im->done++;
      return;
    }
  tags = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (tags, g_strdup (tag));
  g_hash_table_insert (im->waiting, g_strdup (digest), tags);
  ImageCall *ic = g_new0 (ImageCall, 1);
  ic->images = images_ref (im);
  ic->digest = g_strdup (digest);
  g_autofree gchar *path = g_strconcat ("/apis/image.openshift.io/v1/images/", digest, NULL);
  registry_client_request (im->client, "GET", path, "application/json", IMAGE_MAX, FALSE, on_image, ic,
                           image_call_free);
}

/* The stream's status.tags: names first, then each tag's image. */
static void
images_take_stream (Images *im, JsonObject *stream)
{
  JsonObject *status = rc_json_object_at (stream, "status");
  JsonArray *tags = NULL;
  if (!status || !rc_json_get_array (status, "tags", NULL, &tags) || !tags)
    tags = NULL;
  guint n = tags ? json_array_get_length (tags) : 0;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GPtrArray) digests = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (tags, i);
      JsonObject *t = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const gchar *tag = t ? rc_json_string_or (t, "tag", NULL) : NULL;
      JsonArray *items = NULL;
      if (!tag || !rc_json_get_array (t, "items", NULL, &items))
        continue;
      JsonNode *first = items && json_array_get_length (items) ? json_array_get_element (items, 0) : NULL;
      JsonObject *item = first && JSON_NODE_HOLDS_OBJECT (first) ? json_node_get_object (first) : NULL;
      const gchar *image = item ? rc_json_string_or (item, "image", NULL) : NULL;
      g_ptr_array_add (names, (gpointer) tag);
      g_ptr_array_add (digests, (gpointer) (registry_digest_valid (image) ? image : NULL));
    }
  im->listed = names->len;
  registry_row_append_names (registry_output_rows (im->output), (const gchar *const *) names->pdata, names->len);
  for (guint i = 0; i < names->len; i++)
    {
      const gchar *digest = g_ptr_array_index (digests, i);
      if (digest)
        images_want (im, g_ptr_array_index (names, i), digest);
      else
        {
          openshift_image_append_row (registry_output_rows (im->output), g_ptr_array_index (names, i),
                                      NULL, NULL, NULL, 0);
          im->done++;
        }
    }
  if (registry_output_flush (im->output))
    images_progress (im, TRUE);
}

static void
on_stream (RegistryClient *client, const RegistryResponse *response, const GError *error, gpointer data)
{
  Images *im = images_ref (data);
  if (im->channel && (error || response->status != 200))
    {
      guint status = error ? 0 : response->status;
      channel_fail (im->channel, status == 401 ? "authentication-failed" : status == 403 ? "access-denied"
                    : status == 404 ? "not-found" : "internal-error", "the image stream: %s",
                    error ? error->message : "the master refused");
    }
  else if (im->channel)
    {
      gsize len = 0;
      const gchar *body = g_bytes_get_data (response->body, &len);
      g_autoptr(JsonObject) stream = registry_json_parse_lenient (body, len, NULL, NULL);
      if (!stream)
        channel_fail (im->channel, "internal-error", "the image stream is not JSON");
      else
        {
          images_take_stream (im, stream);
          images_maybe_finish (im);
        }
    }
  images_unref (im);
}

static gboolean
images_open (RcChannel *channel, JsonObject *options)
{
  const gchar *ns = NULL, *name = NULL;
  if (!rc_json_get_string (options, "namespace", NULL, &ns) || !rc_json_get_string (options, "name", NULL, &name) ||
      !name_valid (ns) || !name_valid (name))
    {
      channel_fail (channel, "protocol-error", "openshift-images wants \"namespace\" and \"name\" of an image stream");
      return FALSE;
    }
  RegistryClient *client = channel_registry_open_client (channel, TRUE);
  if (!client)
    return FALSE;
  Images *im = g_new0 (Images, 1);
  im->refs = 1;
  im->channel = channel;
  im->client = client;
  im->output = registry_output_new (channel);
  im->scope = g_strdup (registry_client_get_registry (client));
  im->waiting = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  channel_set_data (channel, im, images_unref);
  channel_ready (channel, NULL);
  g_autofree gchar *path = g_strdup_printf ("/apis/image.openshift.io/v1/namespaces/%s/imagestreams/%s", ns, name);
  registry_client_request (client, "GET", path, "application/json", STREAM_MAX, TRUE, on_stream,
                           images_ref (im), images_unref);
  return TRUE;
}

static void
images_closed (RcChannel *channel)
{
  Images *im = channel_get_data (channel);
  if (!im)
    return;
  im->channel = NULL;
  registry_output_detach (im->output);
  channel_registry_release (im->client);
}

static void
images_resume (RcChannel *channel)
{
  Images *im = channel_get_data (channel);
  if (im)
    registry_client_resume (im->client);
}

static const ChannelType openshift_images_type = {
  .payload = "openshift-images",
  .open = images_open,
  .closed = images_closed,
  .resume = images_resume,
};

void
channel_openshift_images_register (void)
{
  channel_register_type (&openshift_images_type);
}
