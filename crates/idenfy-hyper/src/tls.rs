//! The TLS backend chosen by cargo features, and what it trusts.
//!
//! native-tls trusts the operating system's store (OpenSSL's default paths on Linux, which
//! `SSL_CERT_FILE` and `SSL_CERT_DIR` override), rustls the Mozilla roots compiled into
//! webpki-roots; both also trust the [`RootCertificates`] the builder adds. rustls does not read
//! the system store: its build is the one chosen for running where there is no system library
//! and often no certificate store (a minimal container), and what it trusts is then the same
//! on every machine, whatever a machine's store holds; a company's own CA is named explicitly.

use crate::RootCertificates;
use crate::proxy::ProxyConnector;

#[cfg(not(any(feature = "native-tls", feature = "rustls")))]
compile_error!(
    "idenfy-hyper needs a TLS backend: enable the `native-tls` feature (the default) or the `rustls` feature"
);

/// The connector: TCP (or a tunnel through a proxy), then TLS for `https://` URLs.
#[cfg(feature = "native-tls")]
pub(crate) type Connector = hyper_tls::HttpsConnector<ProxyConnector>;

/// The connector: TCP (or a tunnel through a proxy), then TLS for `https://` URLs.
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) type Connector = hyper_rustls::HttpsConnector<ProxyConnector>;

#[cfg(feature = "native-tls")]
pub(crate) fn connector(
    inner: ProxyConnector,
    roots: &RootCertificates,
) -> Result<Connector, crate::BuildError> {
    use hyper_tls::native_tls::{Certificate, TlsConnector};
    let tls_error = |error: hyper_tls::native_tls::Error| crate::BuildError::Tls {
        reason: error.to_string(),
    };
    let mut builder = TlsConnector::builder();
    for der in roots.der() {
        builder.add_root_certificate(Certificate::from_der(der).map_err(tls_error)?);
    }
    let tls = builder.build().map_err(tls_error)?;
    Ok(hyper_tls::HttpsConnector::from((inner, tls.into())))
}

#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) fn connector(
    inner: ProxyConnector,
    roots: &RootCertificates,
) -> Result<Connector, crate::BuildError> {
    use std::sync::Arc;
    let mut store = rustls::RootCertStore::empty();
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in roots.der() {
        store
            .add(rustls::pki_types::CertificateDer::from(der.to_vec()))
            .map_err(|error| crate::BuildError::Tls {
                reason: format!("a root certificate was refused: {error}"),
            })?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| crate::BuildError::Tls {
        reason: error.to_string(),
    })?
    .with_root_certificates(store)
    .with_no_client_auth();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(inner))
}
