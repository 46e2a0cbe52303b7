/* test-session.c: sealed session cookies and the session key file. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "common/session.h"

#define NOW 1700000000

static gchar *tmpdir;

/* A session logged in at NOW that ends `idle_s` seconds later (0: never). */
static RcSession *
make_session (guint idle_s)
{
  session_set_lifetime (idle_s, 0);
  return session_new ("alice", "master", "Bearer sha256~secret-token", NOW);
}

static SessionKey *
key_from_byte (guint8 b)
{
  guint8 raw[SESSION_KEY_SIZE];
  memset (raw, b, sizeof raw);
  SessionKey *k = session_key_new_from_bytes (raw, sizeof raw, NULL);
  assert_non_null (k);
  return k;
}

static int
setup (void **state)
{
  tmpdir = g_dir_make_tmp ("test-session-XXXXXX", NULL);
  assert_non_null (tmpdir);
  return 0;
}

static int
teardown (void **state)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  assert_int_equal (system (cmd), 0);
  g_clear_pointer (&tmpdir, g_free);
  return 0;
}

static void
test_seal_open_roundtrip (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *sealed = session_seal (key, s);
  assert_non_null (sealed);
  /* cookie-safe: base64url without padding, and no plaintext inside */
  for (const gchar *p = sealed; *p; p++)
    assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');
  assert_null (strstr (sealed, "alice"));

  g_autoptr(RcSession) o = session_open (key, sealed, NOW + 10);
  assert_non_null (o);
  assert_string_equal (session_get_user (o), "alice");
  assert_string_equal (session_get_credential (o), "Bearer sha256~secret-token");
  assert_string_equal (session_get_backend (o), "master");
  assert_string_equal (session_get_id (o), session_get_id (s));
  assert_int_equal (session_get_expires (o), NOW + 900);
  assert_int_equal (session_get_issued (o), NOW);
}

static void
test_two_seals_differ (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *a = session_seal (key, s);
  g_autofree gchar *b = session_seal (key, s);
  assert_string_not_equal (a, b);
}

static void
test_open_rejects_tampered_byte (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *sealed = session_seal (key, s);
  gsize n = strlen (sealed);
  /* flip every position in turn: nonce, ciphertext and tag */
  for (gsize i = 0; i < n - 1; i++)
    {
      g_autofree gchar *t = g_strdup (sealed);
      t[i] = t[i] == 'A' ? 'B' : 'A';
      g_autoptr(RcSession) o = session_open (key, t, NOW);
      if (o)
        fail_msg ("tampered cookie opened (position %zu)", i);
    }
  /* truncated, extended */
  g_autofree gchar *shorter = g_strndup (sealed, n - 4);
  assert_null (session_open (key, shorter, NOW));
  g_autofree gchar *longer = g_strconcat (sealed, "AAAA", NULL);
  assert_null (session_open (key, longer, NOW));
}

static void
test_open_rejects_wrong_key (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  g_autoptr(SessionKey) other = key_from_byte (2);
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *sealed = session_seal (key, s);
  assert_null (session_open (other, sealed, NOW));
}

static void
test_open_rejects_expired (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *sealed = session_seal (key, s);
  g_autoptr(RcSession) ok = session_open (key, sealed, NOW + 900);
  assert_non_null (ok);
  assert_null (session_open (key, sealed, NOW + 901));
}

static void
test_open_without_expiry_never_expires (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  g_autoptr(RcSession) s = make_session (0);
  g_autofree gchar *sealed = session_seal (key, s);
  g_autoptr(RcSession) o = session_open (key, sealed, NOW + 10 * 365 * 86400);
  assert_non_null (o);
}

static void
test_open_rejects_garbage (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  const gchar *bad[] = { "", "x", "====", "not base64 at all!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "a.b.c", "%00%00", NULL };
  for (int i = 0; bad[i]; i++)
    assert_null (session_open (key, bad[i], NOW));
  g_autofree gchar *huge = g_strnfill (100000, 'A');
  assert_null (session_open (key, huge, NOW));
  assert_null (session_open (key, NULL, NOW));
}

static void
test_other_replica_with_same_key_file_opens (void **state)
{
  g_autofree gchar *path = g_build_filename (tmpdir, "session.key", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SessionKey) replica1 = session_key_load (path, TRUE, &error);
  assert_null (error);
  g_autoptr(SessionKey) replica2 = session_key_load (path, FALSE, &error);
  assert_null (error);
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *sealed = session_seal (replica1, s);
  g_autoptr(RcSession) o = session_open (replica2, sealed, NOW);
  assert_non_null (o);
  assert_string_equal (session_get_user (o), "alice");
}

static void
test_key_file_created_private (void **state)
{
  g_autofree gchar *path = g_build_filename (tmpdir, "new.key", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SessionKey) k = session_key_load (path, TRUE, &error);
  assert_null (error);
  assert_non_null (k);
  struct stat st;
  assert_int_equal (g_stat (path, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  /* no temporary files left behind */
  g_autoptr(GDir) d = g_dir_open (tmpdir, 0, NULL);
  const gchar *name;
  while ((name = g_dir_read_name (d)))
    assert_false (g_str_has_prefix (name, ".session.key."));
}

static void
test_key_file_missing_without_create_is_error (void **state)
{
  g_autofree gchar *path = g_build_filename (tmpdir, "absent.key", NULL);
  g_autoptr(GError) error = NULL;
  assert_null (session_key_load (path, FALSE, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, path));
}

static void
test_key_file_formats (void **state)
{
  g_autofree gchar *hex = g_build_filename (tmpdir, "hex.key", NULL);
  g_autofree gchar *b64 = g_build_filename (tmpdir, "b64.key", NULL);
  g_autofree gchar *raw = g_build_filename (tmpdir, "raw.key", NULL);
  g_autofree gchar *bad = g_build_filename (tmpdir, "bad.key", NULL);
  guint8 bytes[SESSION_KEY_SIZE];
  for (int i = 0; i < SESSION_KEY_SIZE; i++)
    bytes[i] = (guint8) (i * 7 + 3);
  GString *h = g_string_new (NULL);
  for (int i = 0; i < SESSION_KEY_SIZE; i++)
    g_string_append_printf (h, "%02X", bytes[i]);
  g_string_append (h, "\n");
  assert_true (g_file_set_contents (hex, h->str, -1, NULL));
  g_string_free (h, TRUE);
  g_autofree gchar *enc = g_base64_encode (bytes, sizeof bytes);
  assert_true (g_file_set_contents (b64, enc, -1, NULL));
  assert_true (g_file_set_contents (raw, (const gchar *) bytes, sizeof bytes, NULL));
  assert_true (g_file_set_contents (bad, "too short\n", -1, NULL));

  g_autoptr(SessionKey) k1 = session_key_load (hex, FALSE, NULL);
  g_autoptr(SessionKey) k2 = session_key_load (b64, FALSE, NULL);
  g_autoptr(SessionKey) k3 = session_key_load (raw, FALSE, NULL);
  assert_non_null (k1);
  assert_non_null (k2);
  assert_non_null (k3);
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *sealed = session_seal (k1, s);
  g_autoptr(RcSession) o2 = session_open (k2, sealed, NOW);
  g_autoptr(RcSession) o3 = session_open (k3, sealed, NOW);
  assert_non_null (o2);
  assert_non_null (o3);

  g_autoptr(GError) error = NULL;
  assert_null (session_key_load (bad, TRUE, &error));
  assert_non_null (strstr (error->message, bad));
  assert_non_null (strstr (error->message, "not a session key"));
}

static void
test_key_creation_race_ends_with_one_key (void **state)
{
  g_autofree gchar *path = g_build_filename (tmpdir, "race.key", NULL);
  const int n = 8;
  pid_t pids[8];
  gchar *outs[8] = { NULL };
  for (int i = 0; i < n; i++)
    outs[i] = g_strdup_printf ("%s/out-%d", tmpdir, i);
  for (int i = 0; i < n; i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        {
          SessionKey *k = session_key_load (path, TRUE, NULL);
          if (!k)
            _exit (2);
          RcSession *s = make_session (900);
          gchar *sealed = session_seal (k, s);
          _exit (g_file_set_contents (outs[i], sealed, -1, NULL) ? 0 : 3);
        }
    }
  for (int i = 0; i < n; i++)
    {
      int status = 0;
      assert_int_equal (waitpid (pids[i], &status, 0), pids[i]);
      assert_true (WIFEXITED (status));
      assert_int_equal (WEXITSTATUS (status), 0);
    }
  g_autoptr(SessionKey) k = session_key_load (path, FALSE, NULL);
  assert_non_null (k);
  for (int i = 0; i < n; i++)
    {
      g_autofree gchar *sealed = NULL;
      assert_true (g_file_get_contents (outs[i], &sealed, NULL, NULL));
      g_autoptr(RcSession) o = session_open (k, sealed, NOW);
      if (!o)
        fail_msg ("process %d sealed with a different key", i);
    }
  for (int i = 0; i < n; i++)
    g_free (outs[i]);
}

static void
test_state_string_roundtrip_and_purpose (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  g_autofree gchar *sealed = session_seal_string (key, "state", "nonce-123", NOW + 600);
  g_autofree gchar *back = session_open_string (key, "state", sealed, NOW);
  assert_string_equal (back, "nonce-123");
  assert_null (session_open_string (key, "state", sealed, NOW + 601));
  assert_null (session_open_string (key, "other", sealed, NOW));
  /* a state cookie never opens as a session, nor the reverse */
  assert_null (session_open (key, sealed, NOW));
  g_autoptr(RcSession) s = make_session (900);
  g_autofree gchar *sess = session_seal (key, s);
  assert_null (session_open_string (key, "state", sess, NOW));
}

static void
test_cookie_get (void **state)
{
  g_autofree gchar *a = session_cookie_get ("a=1; cockpit=xyz; b=2", "cockpit", NULL);
  assert_string_equal (a, "xyz");
  g_autofree gchar *b = session_cookie_get ("cockpit-state=s; cockpit=\"q\"", "cockpit", NULL);
  assert_string_equal (b, "q");
  g_autofree gchar *c = session_cookie_get ("cockpit-state=s", "cockpit", NULL);
  assert_null (c);
  assert_null (session_cookie_get (NULL, "cockpit", NULL));
  g_autofree gchar *d = session_cookie_get ("xcockpit=1;cockpit=2", "cockpit", NULL);
  assert_string_equal (d, "2");
}

static void
test_absolute_lifetime_ends_an_active_session (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  session_set_lifetime (900, 12 * 3600);
  g_autoptr(RcSession) s = session_new ("alice", "master", "Bearer t", NOW);
  /* busy all day: every ten minutes some activity */
  for (gint64 t = NOW; t <= NOW + 12 * 3600; t += 600)
    assert_true (session_touch (s, t));
  g_autofree gchar *sealed = session_seal (key, s);
  g_autoptr(RcSession) still = session_open (key, sealed, NOW + 12 * 3600);
  assert_non_null (still);
  assert_int_equal (session_get_expires (s), NOW + 12 * 3600);
  assert_null (session_open (key, sealed, NOW + 12 * 3600 + 1));
  assert_false (session_touch (s, NOW + 12 * 3600 + 1));
  assert_true (session_is_over (s, NOW + 12 * 3600 + 1));
}

static void
test_no_idle_timeout_still_has_an_end (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  session_set_lifetime (0, 3600);
  g_autoptr(RcSession) s = session_new ("alice", "master", "Bearer t", NOW);
  g_autofree gchar *sealed = session_seal (key, s);
  g_autoptr(RcSession) o = session_open (key, sealed, NOW + 3600);
  assert_non_null (o);
  assert_null (session_open (key, sealed, NOW + 3601));
}

static void
test_touch_moves_the_idle_end (void **state)
{
  session_set_lifetime (60, 0);
  g_autoptr(RcSession) s = session_new ("alice", "registry", "Basic x", NOW);
  assert_int_equal (session_get_expires (s), NOW + 60);
  assert_false (session_refresh_due (s, NOW + 14));
  assert_true (session_refresh_due (s, NOW + 15));  /* a quarter of a short timeout */
  assert_true (session_touch (s, NOW + 50));
  assert_int_equal (session_get_expires (s), NOW + 110);
  assert_true (session_is_over (s, NOW + 111));
  assert_false (session_touch (s, NOW + 111));
  session_set_lifetime (3600, 0);
  assert_false (session_refresh_due (s, NOW + 50 + 59));
  assert_true (session_refresh_due (s, NOW + 50 + 60));  /* at most once a minute */
}

static void
test_revoked_session_does_not_open (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  session_set_lifetime (900, 3600);
  g_autoptr(RcSession) s = session_new ("alice", "registry", "Basic x", NOW);
  g_autoptr(RcSession) other = session_new ("alice", "registry", "Basic x", NOW);
  g_autofree gchar *sealed = session_seal (key, s);
  g_autofree gchar *sealed_other = session_seal (key, other);
  guint before = session_revoked_count ();
  session_revoke (s);
  session_revoke (s);
  assert_int_equal (session_revoked_count (), before + 1);
  assert_null (session_open (key, sealed, NOW + 1));
  assert_true (session_is_over (s, NOW + 1));
  /* the same user's other login is not affected */
  g_autoptr(RcSession) o = session_open (key, sealed_other, NOW + 1);
  assert_non_null (o);
}

static void
test_revocations_are_bounded (void **state)
{
  session_set_lifetime (900, 3600);
  for (guint i = 0; i < 70000; i++)
    {
      g_autoptr(RcSession) s = session_new ("u", "registry", "", g_get_real_time () / G_USEC_PER_SEC);
      session_revoke (s);
    }
  assert_true (session_revoked_count () <= 65536);
  assert_true (session_revoked_count () >= 65000);
}

static void
test_many_logouts_of_one_user_forget_no_logout (void **state)
{
  g_autoptr(SessionKey) key = key_from_byte (1);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  session_set_lifetime (900, 3600);
  /* a stolen copy of the first session's cookie */
  g_autoptr(RcSession) first = session_new ("mallory", "registry", "Basic bWFsbG9yeTp4", now - 5);
  g_autofree gchar *stolen = session_seal (key, first);
  session_revoke (first);
  /* then thousands of login+logout cycles of the same user */
  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(RcSession) s = session_new ("mallory", "registry", "Basic bWFsbG9yeTp4", now);
      session_revoke (s);
    }
  assert_null (session_open (key, stolen, now + 1));
  /* another user's session is not refused by that */
  g_autoptr(RcSession) other = session_new ("alice", "registry", "Basic YWxpY2U6eA==", now - 5);
  g_autofree gchar *sealed = session_seal (key, other);
  g_autoptr(RcSession) o = session_open (key, sealed, now + 1);
  assert_non_null (o);
}

static void
test_cookie_get_counts_duplicates (void **state)
{
  guint n = 0;
  g_autofree gchar *a = session_cookie_get ("cockpit=mine; other=1; cockpit=tossed", "cockpit", &n);
  assert_int_equal (n, 2);
  assert_string_equal (a, "mine");
  g_autofree gchar *b = session_cookie_get ("other=1; cockpit=only", "cockpit", &n);
  assert_int_equal (n, 1);
  g_autofree gchar *c = session_cookie_get ("other=1", "cockpit", &n);
  assert_int_equal (n, 0);
  assert_null (c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_seal_open_roundtrip),
    cmocka_unit_test (test_two_seals_differ),
    cmocka_unit_test (test_open_rejects_tampered_byte),
    cmocka_unit_test (test_open_rejects_wrong_key),
    cmocka_unit_test (test_open_rejects_expired),
    cmocka_unit_test (test_open_without_expiry_never_expires),
    cmocka_unit_test (test_open_rejects_garbage),
    cmocka_unit_test_setup_teardown (test_other_replica_with_same_key_file_opens, setup, teardown),
    cmocka_unit_test_setup_teardown (test_key_file_created_private, setup, teardown),
    cmocka_unit_test_setup_teardown (test_key_file_missing_without_create_is_error, setup, teardown),
    cmocka_unit_test_setup_teardown (test_key_file_formats, setup, teardown),
    cmocka_unit_test_setup_teardown (test_key_creation_race_ends_with_one_key, setup, teardown),
    cmocka_unit_test (test_state_string_roundtrip_and_purpose),
    cmocka_unit_test (test_cookie_get),
    cmocka_unit_test (test_absolute_lifetime_ends_an_active_session),
    cmocka_unit_test (test_no_idle_timeout_still_has_an_end),
    cmocka_unit_test (test_touch_moves_the_idle_end),
    cmocka_unit_test (test_revoked_session_does_not_open),
    cmocka_unit_test (test_many_logouts_of_one_user_forget_no_logout),
    /* last: fills the table, after which every earlier login is refused */
    cmocka_unit_test (test_revocations_are_bounded),
    cmocka_unit_test (test_cookie_get_counts_duplicates),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
