//! Email delivery over SMTP with TLS (see below).
