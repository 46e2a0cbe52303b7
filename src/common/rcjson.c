/* rcjson.c: see rcjson.h. */
#include "config.h"

#include "common/rcjson.h"

#include <stdarg.h>

static gboolean
is_value_of (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

gboolean
rc_json_get_string (JsonObject *object, const gchar *name, const gchar *def, const gchar **out)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node)
    *out = def;
  else if (JSON_NODE_HOLDS_NULL (node))
    *out = NULL;
  else if (is_value_of (node, G_TYPE_STRING))
    *out = json_node_get_string (node);
  else
    return FALSE;
  return TRUE;
}

gboolean
rc_json_get_int (JsonObject *object, const gchar *name, gint64 def, gint64 *out)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node || JSON_NODE_HOLDS_NULL (node))
    *out = def;
  else if (is_value_of (node, G_TYPE_INT64))
    *out = json_node_get_int (node);
  else
    return FALSE;
  return TRUE;
}

gboolean
rc_json_get_bool (JsonObject *object, const gchar *name, gboolean def, gboolean *out)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node || JSON_NODE_HOLDS_NULL (node))
    *out = def;
  else if (is_value_of (node, G_TYPE_BOOLEAN))
    *out = json_node_get_boolean (node);
  else
    return FALSE;
  return TRUE;
}

gboolean
rc_json_get_object (JsonObject *object, const gchar *name, JsonObject *def, JsonObject **out)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node)
    *out = def;
  else if (JSON_NODE_HOLDS_NULL (node))
    *out = NULL;
  else if (JSON_NODE_HOLDS_OBJECT (node))
    *out = json_node_get_object (node);
  else
    return FALSE;
  return TRUE;
}

gboolean
rc_json_get_array (JsonObject *object, const gchar *name, JsonArray *def, JsonArray **out)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node)
    *out = def;
  else if (JSON_NODE_HOLDS_NULL (node))
    *out = NULL;
  else if (JSON_NODE_HOLDS_ARRAY (node))
    *out = json_node_get_array (node);
  else
    return FALSE;
  return TRUE;
}

const gchar *
rc_json_string_or (JsonObject *object, const gchar *name, const gchar *def)
{
  const gchar *value = def;
  if (!object || !rc_json_get_string (object, name, def, &value) || !value)
    return def;
  return value;
}

JsonObject *
rc_json_object_at (JsonObject *object, const gchar *path)
{
  g_auto(GStrv) steps = g_strsplit (path, ".", -1);
  for (gchar **step = steps; object && *step; step++)
    {
      JsonObject *next = NULL;
      if (!rc_json_get_object (object, *step, NULL, &next))
        return NULL;
      object = next;
    }
  return object;
}

/* The deepest nesting of arrays and objects in DATA, counted outside
 * strings, or RC_JSON_MAX_DEPTH + 1 as soon as it goes deeper. json-glib
 * parses recursively: a few hundred KB of "[" would overflow the stack. */
static guint
json_depth (const gchar *data, gsize len)
{
  guint depth = 0, deepest = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++)
    {
      gchar c = data[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > RC_JSON_MAX_DEPTH)
            return depth;
          deepest = MAX (deepest, depth);
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return deepest;
}

JsonObject *
rc_json_parse_object (const gchar *data, gsize len, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (json_depth (data, len) > RC_JSON_MAX_DEPTH)
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "JSON nested deeper than %u levels", RC_JSON_MAX_DEPTH);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA, "not a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

gchar *
rc_json_write_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  return json_to_string (node, FALSE);
}

static JsonObject *
build_valist (const gchar *first_name, va_list args)
{
  JsonObject *object = json_object_new ();
  for (const gchar *name = first_name; name; name = va_arg (args, const gchar *))
    {
      const gchar *value = va_arg (args, const gchar *);
      if (value)
        json_object_set_string_member (object, name, value);
    }
  return object;
}

JsonObject *
rc_json_build (const gchar *first_name, ...)
{
  va_list args;
  va_start (args, first_name);
  JsonObject *object = build_valist (first_name, args);
  va_end (args);
  return object;
}

gchar *
rc_json_build_text (const gchar *first_name, ...)
{
  va_list args;
  va_start (args, first_name);
  g_autoptr(JsonObject) object = build_valist (first_name, args);
  va_end (args);
  return rc_json_write_object (object);
}
