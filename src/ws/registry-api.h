/* registry-api.h: the shapes of the Distribution v2 API that the registry
 * channels rely on, as pure functions (no I/O; exported for tests and
 * fuzzing): which repository names, tags and digests are valid, the paths
 * of the requests, the `Link: <…>; rel="next"` header of paged answers
 * (tags/list, _catalog), content digests, and JSON text for rows.
 * Log domain: cockpit-wrapper. (doc/architecture.md, "Registry channels") */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define REGISTRY_API_ERROR (registry_api_error_quark ())
GQuark registry_api_error_quark (void);
typedef enum {
  REGISTRY_API_ERROR_BAD_LINK,      /* a Link header that cannot be followed */
  REGISTRY_API_ERROR_FOREIGN_LINK,  /* a next page on another host (credentials stay home) */
} RegistryApiError;

/* Longest names the grammar allows (distribution/reference). */
#define REGISTRY_REPOSITORY_MAX 255
#define REGISTRY_TAG_MAX 128

/* `component(/component)*`, component `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`,
 * at most 255 bytes. */
gboolean registry_repository_valid (const gchar *name);
/* `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` */
gboolean registry_tag_valid (const gchar *tag);
/* `algorithm:encoded`; sha256 must be 64 and sha512 128 lowercase hex
 * digits; other algorithms `[a-z0-9]+([+._-][a-z0-9]+)*` with an encoded
 * part `[A-Za-z0-9=_-]+`, at most 256 bytes in all. */
gboolean registry_digest_valid (const gchar *digest);

/* The digest of DATA in the form "sha256:…" (transfer full). ALGORITHM is
 * "sha256" or "sha512"; anything else gives NULL. */
gchar *registry_digest_compute (const gchar *algorithm, gconstpointer data, gsize len);
/* TRUE when DATA hashes to DIGEST (sha256 or sha512 digests only; other
 * algorithms cannot be checked and give FALSE). */
gboolean registry_digest_matches (const gchar *digest, gconstpointer data, gsize len);

/* Request paths (transfer full); the arguments must be valid (above). */
gchar *registry_path_tags (const gchar *repository, guint page_size);
gchar *registry_path_manifest (const gchar *repository, const gchar *reference);
gchar *registry_path_blob (const gchar *repository, const gchar *digest);
gchar *registry_path_catalog (guint page_size);

/* The next page of a paged answer from its Link header (may be NULL: no
 * next page). BASE_URL is the registry's ("https://host:5000"). Returns the
 * path to request next (transfer full, starts with "/v2/"), or NULL with
 * ERROR unset when there is no rel="next" link, or NULL with ERROR when the
 * link is malformed or points to another origin. */
gchar *registry_link_next (const gchar *link_header, const gchar *base_url, GError **error);

/* The Accept header for manifests: OCI and Docker, images and indexes. */
extern const gchar registry_manifest_accept[];

/* Parse DATA as a JSON object (transfer full) like rc_json_parse_object,
 * but bytes that are not UTF-8 become U+FFFD first (json-glib refuses the
 * whole text otherwise): one odd tag name must not hide a page of good ones.
 * *REPAIRED (may be NULL) says whether that happened. */
JsonObject *registry_json_parse_lenient (const gchar *data, gsize len, gboolean *repaired, GError **error);

/* Append TEXT as a JSON string (quoted, escaped); invalid UTF-8 becomes
 * U+FFFD, so the output is always valid UTF-8. NULL appends null. */
void registry_json_append_string (GString *out, const gchar *text);
/* The same for LEN bytes that may hold anything (NUL included). */
void registry_json_append_bytes (GString *out, const gchar *data, gsize len);

G_END_DECLS
