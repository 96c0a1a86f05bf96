//! Root certificates added to those the TLS backend trusts: a company's own CA, whose
//! certificates a TLS-inspecting proxy presents, or a private server's.

use std::fmt;

use base64::Engine as _;

use crate::BuildError;

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// The most certificates one bundle may hold: a system bundle has a few hundred, and a file
/// is read whole into memory.
const MAX_CERTIFICATES: usize = 1000;

/// One or more root certificates, read from PEM (`-----BEGIN CERTIFICATE-----` blocks; text
/// around them, as in a system bundle, is ignored), to be trusted beside the backend's own
/// roots ([`ClientBuilder::add_root_certificates`](crate::ClientBuilder::add_root_certificates)).
///
/// ```
/// # let pem = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
/// let roots = idenfy_hyper::RootCertificates::from_pem(pem.as_bytes())?;
/// assert_eq!(roots.len(), 1);
/// # Ok::<(), idenfy_hyper::BuildError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RootCertificates {
    der: Vec<Vec<u8>>,
}

impl RootCertificates {
    /// The certificates of a PEM file's text. Whether each is a certificate the backend can
    /// use is checked when the client is built.
    ///
    /// # Errors
    /// [`BuildError::RootCertificates`] when the text holds no certificate, a block that is not
    /// base64, or one without its end line.
    pub fn from_pem(pem: &[u8]) -> Result<Self, BuildError> {
        let refuse = |reason: &'static str| Err(BuildError::RootCertificates { reason });
        let Ok(text) = std::str::from_utf8(pem) else {
            return refuse("the file is not PEM text");
        };
        let mut der = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            let body = &rest[start + BEGIN.len()..];
            let Some(end) = body.find(END) else {
                return refuse("a certificate has no END CERTIFICATE line");
            };
            let base64: String = body[..end]
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(base64) else {
                return refuse("a certificate's PEM block is not base64");
            };
            if der.len() == MAX_CERTIFICATES {
                return refuse("the file holds more than 1000 certificates");
            }
            der.push(bytes);
            rest = &body[end + END.len()..];
        }
        if der.is_empty() {
            return refuse("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        Ok(Self { der })
    }

    /// These certificates and `other`'s.
    pub fn extend(&mut self, other: RootCertificates) {
        self.der.extend(other.der);
    }

    /// How many certificates there are.
    pub fn len(&self) -> usize {
        self.der.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.der.is_empty()
    }

    /// Each certificate, DER-encoded.
    pub(crate) fn der(&self) -> impl Iterator<Item = &[u8]> {
        self.der.iter().map(Vec::as_slice)
    }
}

impl fmt::Debug for RootCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootCertificates")
            .field("count", &self.der.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_gives_each_of_its_certificates() {
        let pem = format!(
            "# corp root\n{BEGIN}\nAAEC\n{END}\ntext between\n{BEGIN}\nAwQF\nBg==\n{END}\n"
        );
        let roots = RootCertificates::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(
            roots.der().collect::<Vec<_>>(),
            [&[0u8, 1, 2][..], &[3, 4, 5, 6][..]]
        );
    }

    #[test]
    fn a_file_without_certificates_or_with_a_broken_one_is_refused() {
        for pem in [
            String::new(),
            "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n".to_owned(),
            format!("{BEGIN}\nAAEC\n"),
            format!("{BEGIN}\n%%%\n{END}\n"),
        ] {
            assert!(
                matches!(
                    RootCertificates::from_pem(pem.as_bytes()),
                    Err(BuildError::RootCertificates { .. })
                ),
                "{pem}"
            );
        }
    }
}
