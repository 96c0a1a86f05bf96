//! Where a fixture keeps each endpoint's answer. The endpoints themselves (paths, the list) are
//! idenfy-core's [`Endpoint`].

pub use idenfy_core::Endpoint;

/// The key that holds `endpoint`'s answer in a fixture (`fullStatus` for `/full-status`);
/// `None` for an endpoint fixtures do not describe.
pub fn fixture_key(endpoint: Endpoint) -> Option<&'static str> {
    match endpoint {
        Endpoint::Status => Some("status"),
        Endpoint::Data => Some("data"),
        Endpoint::Files => Some("files"),
        Endpoint::FullStatus => Some("fullStatus"),
        _ => None,
    }
}

/// The endpoint whose answer a fixture keeps under `key`.
pub fn from_fixture_key(key: &str) -> Option<Endpoint> {
    Endpoint::ALL
        .into_iter()
        .find(|endpoint| fixture_key(*endpoint) == Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lookup_has_its_own_fixture_key() {
        for endpoint in Endpoint::ALL {
            let key = fixture_key(endpoint).unwrap();
            assert_eq!(from_fixture_key(key), Some(endpoint));
        }
        assert_eq!(from_fixture_key("full-status"), None);
        assert_eq!(from_fixture_key("callback"), None);
    }
}
