/* test-upstream.c: the libcurl-multi client on the glib loop, against a
 * local python HTTP server (tests/upstream-test-server.py). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <signal.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ws/upstream.h"

static GSubprocess *server;
static gchar *base_url;

typedef struct {
  GMainLoop *loop;
  guint status;
  gchar *reason;
  GHashTable *headers;
  GByteArray *body;
  guint chunks;
  gboolean done;
  GError *error;
  gint64 first_chunk_at;
  gint64 done_at;
  gboolean pause_each;
  guint pauses;
  UpstreamRequest *req;
  gboolean cancel_after_first;
} Result;

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->loop, g_main_loop_unref);
  g_clear_pointer (&r->reason, g_free);
  g_clear_pointer (&r->headers, g_hash_table_unref);
  g_clear_pointer (&r->body, g_byte_array_unref);
  g_clear_error (&r->error);
}

static void
on_response (UpstreamRequest *req, guint status, const gchar *reason, GHashTable *headers, gpointer user_data)
{
  Result *r = user_data;
  r->status = status;
  r->reason = g_strdup (reason);
  r->headers = g_hash_table_ref (headers);
  r->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, headers);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (r->headers, g_strdup (k), g_strdup (v));
  g_hash_table_unref (headers);
}

static gboolean
on_resume (gpointer user_data)
{
  Result *r = user_data;
  upstream_request_resume (r->req);
  return G_SOURCE_REMOVE;
}

static gboolean
quit_later (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_data (UpstreamRequest *req, const guint8 *data, gsize len, gpointer user_data)
{
  Result *r = user_data;
  if (!r->chunks++)
    r->first_chunk_at = g_get_monotonic_time ();
  g_byte_array_append (r->body, data, len);
  if (r->cancel_after_first)
    {
      upstream_request_cancel (req);
      g_timeout_add (300, quit_later, r->loop);
      return FALSE;
    }
  if (r->pause_each && r->pauses < 20)
    {
      r->pauses++;
      g_timeout_add (5, on_resume, r);
      return FALSE;
    }
  return TRUE;
}

static void
on_done (UpstreamRequest *req, const GError *error, gpointer user_data)
{
  Result *r = user_data;
  r->done = TRUE;
  r->done_at = g_get_monotonic_time ();
  if (error)
    r->error = g_error_copy (error);
  g_main_loop_quit (r->loop);
}

static const UpstreamCallbacks callbacks = { on_response, on_data, on_done };

static gboolean
on_deadline (gpointer user_data)
{
  fail_msg ("test deadline hit");
  return G_SOURCE_REMOVE;
}

static void
run (Result *r, UpstreamRequest *req)
{
  r->loop = g_main_loop_new (NULL, FALSE);
  r->body = g_byte_array_new ();
  r->req = req;
  upstream_request_start (req, &callbacks, r);
  guint deadline = g_timeout_add_seconds (20, on_deadline, NULL);
  g_main_loop_run (r->loop);
  g_source_remove (deadline);
}

static JsonObject *
parse_object (GByteArray *body)
{
  static JsonParser *parser;
  g_clear_object (&parser);
  parser = json_parser_new ();
  assert_true (json_parser_load_from_data (parser, (const gchar *) body->data, body->len, NULL));
  return json_node_get_object (json_parser_get_root (parser));
}

static int
setup_group (void **state)
{
  g_autofree gchar *srcdir = g_strdup (g_getenv ("top_srcdir"));
  if (!srcdir)
    srcdir = g_strdup (".");
  g_autofree gchar *script = g_build_filename (srcdir, "tests", "upstream-test-server.py", NULL);
  g_autoptr(GError) error = NULL;
  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "python3", script, NULL);
  assert_non_null (server);
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  g_autofree gchar *line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  assert_non_null (line);
  base_url = g_strdup_printf ("http://127.0.0.1:%s", line);
  upstream_configure_backend (UPSTREAM_MASTER, base_url, NULL, NULL, FALSE);
  upstream_configure_backend (UPSTREAM_REGISTRY, base_url, NULL, NULL, FALSE);
  return 0;
}

static int
teardown_group (void **state)
{
  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
  g_clear_object (&server);
  g_free (base_url);
  upstream_shutdown ();
  return 0;
}

static void
test_get_returns_status_headers_and_body (void **state)
{
  Result r = { 0 };
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/hello"));
  assert_null (r.error);
  assert_int_equal (r.status, 200);
  assert_string_equal (r.reason, "OK");
  assert_string_equal (g_hash_table_lookup (r.headers, "content-type"), "text/plain");
  assert_int_equal (r.body->len, 5);
  assert_memory_equal (r.body->data, "hello", 5);
  result_clear (&r);
}

static void
test_post_sends_body_headers_and_authorization (void **state)
{
  Result r = { 0 };
  UpstreamRequest *req = upstream_request_new (UPSTREAM_MASTER, "POST", "/echo?x=1");
  g_autoptr(GBytes) body = g_bytes_new_static ("{\"kind\":\"ImageStream\"}", 22);
  upstream_request_set_body (req, body);
  upstream_request_add_header (req, "Content-Type", "application/json");
  upstream_request_set_authorization (req, "Bearer abc");
  run (&r, req);
  assert_null (r.error);
  assert_int_equal (r.status, 200);
  JsonObject *o = parse_object (r.body);
  assert_string_equal (json_object_get_string_member (o, "method"), "POST");
  assert_string_equal (json_object_get_string_member (o, "path"), "/echo?x=1");
  assert_string_equal (json_object_get_string_member (o, "body"), "{\"kind\":\"ImageStream\"}");
  JsonObject *h = json_object_get_object_member (o, "headers");
  assert_string_equal (json_object_get_string_member (h, "authorization"), "Bearer abc");
  assert_string_equal (json_object_get_string_member (h, "content-type"), "application/json");
  assert_false (json_object_has_member (h, "expect"));
  result_clear (&r);
}

static void
test_delete_and_put_methods (void **state)
{
  const gchar *methods[] = { "DELETE", "PUT", "PATCH", NULL };
  for (int i = 0; methods[i]; i++)
    {
      Result r = { 0 };
      run (&r, upstream_request_new (UPSTREAM_MASTER, methods[i], "/echo"));
      assert_null (r.error);
      JsonObject *o = parse_object (r.body);
      assert_string_equal (json_object_get_string_member (o, "method"), methods[i]);
      result_clear (&r);
    }
}

static void
test_connection_is_reused (void **state)
{
  gint64 ports[2];
  for (int i = 0; i < 2; i++)
    {
      Result r = { 0 };
      run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/echo"));
      assert_null (r.error);
      ports[i] = json_object_get_int_member (parse_object (r.body), "client_port");
      result_clear (&r);
    }
  assert_int_equal (ports[0], ports[1]);
}

static void
test_stream_delivers_chunks_as_they_come (void **state)
{
  Result r = { 0 };
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/stream?n=5"));
  assert_null (r.error);
  assert_int_equal (r.status, 200);
  assert_true (r.chunks >= 4);
  /* the first chunk arrived well before the end (5 × 100 ms) */
  assert_true (r.done_at - r.first_chunk_at > 250 * 1000);
  g_autofree gchar *text = g_strndup ((const gchar *) r.body->data, r.body->len);
  assert_string_equal (text, "chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n");
  result_clear (&r);
}

static void
test_big_body_arrives_intact (void **state)
{
  Result r = { 0 };
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/big?size=5242880"));
  assert_null (r.error);
  assert_int_equal (r.body->len, 5242880);
  for (guint i = 0; i < r.body->len; i += 4099)
    assert_int_equal (r.body->data[i], i % 256);
  result_clear (&r);
}

static void
test_pause_and_resume_keep_every_byte (void **state)
{
  Result r = { 0 };
  r.pause_each = TRUE;
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/big?size=1048576"));
  assert_null (r.error);
  assert_int_equal (r.pauses, 20);
  assert_int_equal (r.body->len, 1048576);
  for (guint i = 0; i < r.body->len; i += 511)
    assert_int_equal (r.body->data[i], i % 256);
  result_clear (&r);
}

static gint64
stats_watch_open (void)
{
  Result r = { 0 };
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/stats"));
  gint64 n = json_object_get_int_member (parse_object (r.body), "watch_open");
  result_clear (&r);
  return n;
}

static void
test_cancel_aborts_the_transfer (void **state)
{
  Result r = { 0 };
  r.cancel_after_first = TRUE;
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/watch"));
  /* no callback after cancel: on_done never ran, one chunk only */
  assert_false (r.done);
  assert_int_equal (r.chunks, 1);
  /* the server sees the connection go away */
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (stats_watch_open () != 0)
    {
      assert_true (g_get_monotonic_time () < deadline);
      g_usleep (50 * 1000);
    }
  result_clear (&r);
}

static void
test_timeout_is_an_error (void **state)
{
  Result r = { 0 };
  UpstreamRequest *req = upstream_request_new (UPSTREAM_MASTER, "GET", "/hang");
  upstream_request_set_timeout (req, 1);
  gint64 t0 = g_get_monotonic_time ();
  run (&r, req);
  assert_non_null (r.error);
  assert_true (g_error_matches (r.error, UPSTREAM_ERROR, UPSTREAM_ERROR_TIMEOUT));
  assert_true (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC);
  assert_non_null (strstr (r.error->message, "/hang"));
  result_clear (&r);
}

static void
test_refused_connection_is_not_found (void **state)
{
  /* a port that was free a moment ago */
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) a = g_inet_socket_address_new (lo, 0);
  assert_true (g_socket_bind (s, a, TRUE, NULL));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address (s, NULL);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (s, NULL);
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u/x", port);
  Result r = { 0 };
  run (&r, upstream_request_new_url (UPSTREAM_MASTER, "GET", url));
  assert_non_null (r.error);
  assert_true (g_error_matches (r.error, UPSTREAM_ERROR, UPSTREAM_ERROR_NOT_FOUND));
  assert_int_equal (r.status, 0);
  result_clear (&r);
}

static void
test_disconnect_mid_body_is_disconnected (void **state)
{
  Result r = { 0 };
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/drop"));
  assert_int_equal (r.status, 200);
  assert_non_null (r.error);
  assert_true (g_error_matches (r.error, UPSTREAM_ERROR, UPSTREAM_ERROR_DISCONNECTED));
  result_clear (&r);
}

static gint64
token_requests (void)
{
  Result r = { 0 };
  run (&r, upstream_request_new (UPSTREAM_MASTER, "GET", "/stats"));
  gint64 n = json_object_get_int_member (parse_object (r.body), "token_requests");
  result_clear (&r);
  return n;
}

static void
test_registry_token_dance_and_cache (void **state)
{
  gint64 before = token_requests ();
  g_autofree gchar *basic = g_strconcat ("Basic ", "dXNlcjpwYXNz", NULL); /* user:pass */
  for (int i = 0; i < 3; i++)
    {
      Result r = { 0 };
      UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/demo/hello/manifests/1.0");
      upstream_request_set_registry_auth (req, basic);
      run (&r, req);
      assert_null (r.error);
      assert_int_equal (r.status, 200);
      g_autofree gchar *text = g_strndup ((const gchar *) r.body->data, r.body->len);
      assert_string_equal (text, "{\"ok\":true}");
      result_clear (&r);
    }
  /* one token fetch, then the cached token is sent directly */
  assert_int_equal (token_requests () - before, 1);

  /* another repository needs another scope */
  Result r = { 0 };
  UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/other/manifests/1");
  upstream_request_set_registry_auth (req, basic);
  run (&r, req);
  assert_int_equal (r.status, 200);
  assert_int_equal (token_requests () - before, 2);
  result_clear (&r);
}

static void
test_registry_bad_credentials_pass_the_401_through (void **state)
{
  Result r = { 0 };
  UpstreamRequest *req = upstream_request_new (UPSTREAM_REGISTRY, "GET", "/v2/demo/hello/manifests/1.0");
  upstream_request_set_registry_auth (req, "Basic dXNlcjp3cm9uZw=="); /* user:wrong */
  run (&r, req);
  assert_null (r.error);
  assert_int_equal (r.status, 401);
  assert_non_null (strstr (g_hash_table_lookup (r.headers, "www-authenticate"), "Bearer realm="));
  g_autofree gchar *text = g_strndup ((const gchar *) r.body->data, r.body->len);
  assert_non_null (strstr (text, "UNAUTHORIZED"));
  result_clear (&r);
}

static void
fetched (guint status, GHashTable *headers, GBytes *body, const GError *error, gpointer user_data)
{
  Result *r = user_data;
  r->status = status;
  g_byte_array_append (r->body, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_main_loop_quit (r->loop);
}

static void
test_fetch_buffers_the_body (void **state)
{
  Result r = { 0 };
  r.loop = g_main_loop_new (NULL, FALSE);
  r.body = g_byte_array_new ();
  upstream_fetch (upstream_request_new (UPSTREAM_MASTER, "GET", "/stream?n=3"), fetched, &r);
  g_main_loop_run (r.loop);
  assert_int_equal (r.status, 200);
  assert_int_equal (r.body->len, 24);
  result_clear (&r);
}

static void
test_url_in_logs_is_redacted (void **state)
{
  UpstreamRequest *req = upstream_request_new (UPSTREAM_MASTER, "GET", "/x?watch=true&access_token=SECRET&password=P");
  const gchar *u = upstream_request_get_url (req);
  assert_null (strstr (u, "SECRET"));
  assert_null (strstr (u, "=P"));
  assert_non_null (strstr (u, "watch=true"));
  upstream_request_cancel (req);
}

static void
test_bearer_challenge_parser (void **state)
{
  g_autoptr(GHashTable) c = upstream_parse_bearer_challenge (
      "Bearer realm=\"https://auth.example/token\",service=\"registry\",scope=\"repository:a/b:pull,push\"");
  assert_non_null (c);
  assert_string_equal (g_hash_table_lookup (c, "realm"), "https://auth.example/token");
  assert_string_equal (g_hash_table_lookup (c, "service"), "registry");
  assert_string_equal (g_hash_table_lookup (c, "scope"), "repository:a/b:pull,push");
  assert_null (upstream_parse_bearer_challenge ("Basic realm=\"x\""));
  assert_null (upstream_parse_bearer_challenge (NULL));
}

int
main (void)
{
  signal (SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_get_returns_status_headers_and_body),
    cmocka_unit_test (test_post_sends_body_headers_and_authorization),
    cmocka_unit_test (test_delete_and_put_methods),
    cmocka_unit_test (test_connection_is_reused),
    cmocka_unit_test (test_stream_delivers_chunks_as_they_come),
    cmocka_unit_test (test_big_body_arrives_intact),
    cmocka_unit_test (test_pause_and_resume_keep_every_byte),
    cmocka_unit_test (test_cancel_aborts_the_transfer),
    cmocka_unit_test (test_timeout_is_an_error),
    cmocka_unit_test (test_refused_connection_is_not_found),
    cmocka_unit_test (test_disconnect_mid_body_is_disconnected),
    cmocka_unit_test (test_registry_token_dance_and_cache),
    cmocka_unit_test (test_registry_bad_credentials_pass_the_401_through),
    cmocka_unit_test (test_fetch_buffers_the_body),
    cmocka_unit_test (test_url_in_logs_is_redacted),
    cmocka_unit_test (test_bearer_challenge_parser),
  };
  return cmocka_run_group_tests (tests, setup_group, teardown_group);
}
