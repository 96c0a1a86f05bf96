//! The TLS backend chosen by cargo features.

use hyper_util::client::legacy::connect::HttpConnector;

#[cfg(not(any(feature = "native-tls", feature = "rustls")))]
compile_error!(
    "idenfy-hyper needs a TLS backend: enable the `native-tls` feature (the default) or the `rustls` feature"
);

/// The connector: TCP, then TLS for `https://` URLs.
#[cfg(feature = "native-tls")]
pub(crate) type Connector = hyper_tls::HttpsConnector<HttpConnector>;

/// The connector: TCP, then TLS for `https://` URLs.
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

#[cfg(feature = "native-tls")]
pub(crate) fn connector(http: HttpConnector) -> Result<Connector, crate::BuildError> {
    let tls =
        hyper_tls::native_tls::TlsConnector::new().map_err(|error| crate::BuildError::Tls {
            reason: error.to_string(),
        })?;
    Ok(hyper_tls::HttpsConnector::from((http, tls.into())))
}

#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) fn connector(http: HttpConnector) -> Result<Connector, crate::BuildError> {
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}
