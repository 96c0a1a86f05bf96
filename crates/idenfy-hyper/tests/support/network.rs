//! The customer's network, on loopback: a CA of the test's own that issues server
//! certificates, a TLS front that terminates TLS for a plain HTTP server behind it, and an
//! HTTP proxy that opens CONNECT tunnels (counting them, checking `Proxy-Authorization`, able
//! to answer 407 or never to answer). Shared by idenfy-hyper's tests and the command's.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, date_time_ymd};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority of the test's own.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A server certificate and its key.
pub struct ServerCert {
    pub der: CertificateDer<'static>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let certificate = params.self_signed(&key).expect("CA certificate");
        Self {
            pem: certificate.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA's certificate, as a `--ca-cert` file holds it.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A certificate for `names`, valid now.
    pub fn issue(&self, names: &[&str]) -> ServerCert {
        self.issue_valid(names, (2020, 1, 1), (2090, 1, 1))
    }

    /// A certificate for `names` that expired in 2021.
    pub fn issue_expired(&self, names: &[&str]) -> ServerCert {
        self.issue_valid(names, (2020, 1, 1), (2021, 1, 1))
    }

    fn issue_valid(
        &self,
        names: &[&str],
        (from_year, from_month, from_day): (i32, u8, u8),
        (until_year, until_month, until_day): (i32, u8, u8),
    ) -> ServerCert {
        let key = KeyPair::generate().expect("server key");
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("server params");
        params.not_before = date_time_ymd(from_year, from_month, from_day);
        params.not_after = date_time_ymd(until_year, until_month, until_day);
        let certificate = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        ServerCert {
            der: certificate.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// Terminates TLS with `cert` on a loopback port and relays each connection, decrypted, to
/// `backend` (a plain HTTP server). Counts the TLS handshakes begun.
pub struct TlsFront {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
}

impl TlsFront {
    pub async fn start(cert: ServerCert, backend: SocketAddr) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der], PrivateKeyDer::Pkcs8(cert.key))
            .expect("server TLS config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Self { addr, connections }
    }
}

/// A CONNECT's request line and its `Proxy-Authorization`, if any.
pub type Connect = (String, Option<String>);

/// How the test proxy answers a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Opens the tunnel.
    Tunnel,
    /// Answers 407 whatever the credentials.
    Refuse407,
    /// Reads the CONNECT and never answers.
    Silent,
}

/// An HTTP proxy on loopback that opens CONNECT tunnels to `upstream` whatever host they name
/// (the names the client asks for, like `api.test`, resolve nowhere else), as a company's
/// proxy reaches hosts the client cannot resolve.
pub struct TestProxy {
    pub addr: SocketAddr,
    /// The CONNECTs received.
    pub connects: Arc<AtomicUsize>,
    /// Each CONNECT's request line and `Proxy-Authorization` (if any).
    pub seen: Arc<Mutex<Vec<Connect>>>,
}

impl TestProxy {
    /// `required_authorization`: the `Proxy-Authorization` value it wants (`None`: any).
    pub async fn start(
        upstream: SocketAddr,
        mode: ProxyMode,
        required_authorization: Option<String>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (counted, recorded) = (connects.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (counted, recorded) = (counted.clone(), recorded.clone());
                let required = required_authorization.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    while !head.ends_with(b"\r\n\r\n") {
                        let Ok(byte) = client.read_u8().await else {
                            return;
                        };
                        head.push(byte);
                        if head.len() > 16 * 1024 {
                            return;
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let authorization = head.lines().find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("proxy-authorization")
                            .then(|| value.trim().to_owned())
                    });
                    counted.fetch_add(1, Ordering::SeqCst);
                    recorded.lock().unwrap().push((line, authorization.clone()));
                    let authorized = required.is_none() || authorization == required;
                    match mode {
                        ProxyMode::Silent => {
                            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                        }
                        ProxyMode::Refuse407 => {
                            let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n").await;
                        }
                        ProxyMode::Tunnel if !authorized => {
                            let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n").await;
                        }
                        ProxyMode::Tunnel => {
                            let Ok(mut server) = TcpStream::connect(upstream).await else {
                                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                                return;
                            };
                            if client
                                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                                .await
                                .is_err()
                            {
                                return;
                            }
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            connects,
            seen,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }
}
