/* certificate.h: find, load, validate, generate and combine the server's
 * .cert files (doc/architecture.md, "Certificates"). Shared by
 * registry-console and remotectl. Log domain: cockpit-ws. */
#pragma once

#include <glib.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

G_BEGIN_DECLS

#define CERTIFICATE_ERROR (certificate_error_quark ())
GQuark certificate_error_quark (void);

typedef enum {
  CERTIFICATE_ERROR_NOT_FOUND,      /* no *.cert in the directory */
  CERTIFICATE_ERROR_UNREADABLE,     /* open/read failed (errno text in message) */
  CERTIFICATE_ERROR_NO_PEM,         /* not a PEM file at all */
  CERTIFICATE_ERROR_TRUNCATED,      /* BEGIN without END, or bad base64 */
  CERTIFICATE_ERROR_NO_CERTIFICATE,
  CERTIFICATE_ERROR_NO_KEY,
  CERTIFICATE_ERROR_ENCRYPTED_KEY,
  CERTIFICATE_ERROR_TWO_KEYS,
  CERTIFICATE_ERROR_MISMATCH,       /* key does not match the first certificate */
  CERTIFICATE_ERROR_INVALID,        /* a block that GnuTLS cannot parse */
  CERTIFICATE_ERROR_FAILED,         /* a GnuTLS call failed (its error in the message) */
  CERTIFICATE_ERROR_UNWRITABLE,     /* creating, writing, syncing or chown of the directory
                                       or file failed (errno text in message) */
  CERTIFICATE_ERROR_NO_FILES,       /* certificate_combine() without files */
} CertificateError;

typedef enum {
  CERTIFICATE_KEY_ECDSA_P256,
  CERTIFICATE_KEY_RSA_2048,
} CertificateKeyType;

typedef struct {
  gchar *path;                      /* absolute path of the loaded file */
  gnutls_x509_crt_t *certs;         /* server first, then chain */
  guint n_certs;
  gnutls_x509_privkey_t key;
  gchar *validity_warning;          /* "expired on …" / "not valid before …", or NULL */
} Certificate;

/* The last regular file whose name ends in ".cert" in byte-wise order.
 * Returns (transfer full) absolute path; NULL with CERTIFICATE_ERROR_NOT_FOUND
 * when there is none, or UNREADABLE when the directory cannot be read. */
gchar *certificate_find_last (const gchar *dir, GError **error);

/* Parse and validate one .cert file; every error message starts with the path. */
Certificate *certificate_load (const gchar *path, GError **error);
void certificate_free (Certificate *cert);

/* Like certificate_load() on @length bytes of @data already in memory (for
 * fuzzing and callers that read the file themselves); errors start with
 * @name, which also becomes cert->path. */
Certificate *certificate_parse (const gchar *name, const gchar *data, gsize length, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Certificate, certificate_free)

/* find_last + load. */
Certificate *certificate_load_dir (const gchar *dir, GError **error);

/* GnuTLS server credentials holding the chain and key. (transfer full) */
gnutls_certificate_credentials_t certificate_credentials_new (const Certificate *cert, GError **error);

/* Write DIR/0-self-signed.cert atomically (mode 0640; owner uid/gid unless -1).
 * Safe against concurrent callers. Returns (transfer full) its path. */
gchar *certificate_generate_self_signed (const gchar *dir, CertificateKeyType type,
                                         uid_t uid, gid_t gid, GError **error);

/* Path of the certificate the server would use, creating the self-signed one
 * when the directory holds none (remotectl certificate --ensure; server start). */
gchar *certificate_ensure (const gchar *dir, CertificateKeyType type,
                           uid_t uid, gid_t gid, GError **error);

/* Combine PEM files (certificate, chain, key in any order) into one validated
 * DIR/NAME.cert, NAME from the first file's base name minus its extension. */
gchar *certificate_combine (const gchar *dir, const gchar *const *files,
                            uid_t uid, gid_t gid, GError **error);

G_END_DECLS
