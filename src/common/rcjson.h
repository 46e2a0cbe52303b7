/* rcjson.h: typed JSON getters with defaults, parsing a JSON object, and
 * building the small objects of the control protocol (the model is Cockpit's
 * cockpitjson.h).
 *
 * Getters: a member that is absent gives DEF and TRUE; JSON null gives NULL
 * (string, object, array) or DEF (number, boolean) and TRUE; a member of
 * another type gives FALSE and leaves *OUT alone. So one `if (!get…)` is the
 * whole type check:
 *
 *   const gchar *path;
 *   if (!rc_json_get_string (options, "path", NULL, &path) || !path)
 *     return fail ("\"path\" is missing or not a string");
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gboolean rc_json_get_string (JsonObject *object, const gchar *name, const gchar *def, const gchar **out);
gboolean rc_json_get_int (JsonObject *object, const gchar *name, gint64 def, gint64 *out);
gboolean rc_json_get_bool (JsonObject *object, const gchar *name, gboolean def, gboolean *out);
gboolean rc_json_get_object (JsonObject *object, const gchar *name, JsonObject *def, JsonObject **out);
gboolean rc_json_get_array (JsonObject *object, const gchar *name, JsonArray *def, JsonArray **out);
/* A string member or DEF, whatever the member holds (for reading fields
 * where a wrong type is just "not there"). */
const gchar *rc_json_string_or (JsonObject *object, const gchar *name, const gchar *def);
/* The object at a dotted PATH ("metadata", "status.dockerImageMetadata"),
 * or NULL when a step is missing or not an object. */
JsonObject *rc_json_object_at (JsonObject *object, const gchar *path);

/* Arrays and objects nested deeper than this are refused before parsing
 * (manifests, configs and control messages need a handful of levels). */
#define RC_JSON_MAX_DEPTH 128

/* Parse DATA as one JSON object (transfer full), or NULL with ERROR
 * (JSON_PARSER_ERROR) when it is not JSON, not an object, or nested deeper
 * than RC_JSON_MAX_DEPTH. */
JsonObject *rc_json_parse_object (const gchar *data, gsize len, GError **error);

/* Compact JSON text of OBJECT (transfer full). */
gchar *rc_json_write_object (JsonObject *object);

/* An object of string members from NAME, VALUE pairs ending with NULL; a
 * NULL value leaves its member out (transfer full):
 *   rc_json_build ("command", "close", "channel", id, "problem", problem, NULL) */
JsonObject *rc_json_build (const gchar *first_name, ...) G_GNUC_NULL_TERMINATED;
/* The same, written out as text (transfer full). */
gchar *rc_json_build_text (const gchar *first_name, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
