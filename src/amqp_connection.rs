//! AMQP connection settings: URLs as Celery (py-amqp) and celery-node (amqplib) accept them, and
//! celery-node's amqplib-style socket options.
//!
//! URL rules (spec §4.7): `amqp://user:pass@host:5672/vhost`; the vhost is the path after the
//! first `/`, percent-decoded, with `amqp://h//`, `amqp://h/` and `amqp://h` all meaning `/`.
//! `pyamqp://` is an alias of `amqp://`; `amqps://` is TLS on port 5671. Several URLs separated
//! by `;` are tried in order (failover).

use std::time::Duration;

use std::sync::Arc;

use lapin::tcp::{AsyncTcpStream, RustlsConnector};
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{Connection, ConnectionProperties};
use serde::Deserialize;

use crate::error::{CeleryError, Result};
use crate::url_credentials::{percent_decode, redact_url};

/// amqplib's default, which celery-node users live with.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Celery's `broker_heartbeat`.
const DEFAULT_HEARTBEAT_SECONDS: u16 = 120;

/// amqplib socket options (`CELERY_BROKER_OPTIONS`) plus the topology settings Celery workers are
/// configured with. Unknown keys are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AmqpOptions {
    /// PEM text, as amqplib's `ca` / `cert` / `key`.
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    /// The name the server's certificate must carry (and the SNI sent), if not the URL's host.
    pub servername: Option<String>,
    /// `false` accepts any server certificate, as Node's TLS option of that name.
    pub reject_unauthorized: Option<bool>,
    /// Milliseconds (amqplib calls it `timeout`).
    pub timeout: Option<u64>,
    pub connect_timeout: Option<u64>,
    pub heartbeat: Option<u16>,
    /// Arguments every declared queue gets, to match the workers (`x-max-priority`,
    /// `x-queue-type`, `x-expires`, ...).
    pub queue_arguments: Option<serde_json::Map<String, serde_json::Value>>,
    /// Only check that queues exist (the workers own the topology).
    pub passive: Option<bool>,
    /// celery-node's `CELERY_RESULT_EXPIRES` (ms): `x-expires` of its per-task result queues.
    pub result_expires: Option<u64>,
    /// Set by the JS layer when the result backend is `rpc://`.
    pub declare_reply_queue: Option<bool>,
    /// Shown by RabbitMQ (management UI, `rabbitmqctl list_connections`); default `celery-native`.
    pub connection_name: Option<String>,
    /// `x-expires` of the RPC reply queue in ms (Celery: `result_expires` × 1000; default one day).
    pub reply_queue_expires: Option<u64>,
    /// Countdown / ETA messages to a named exchange go through Celery's native delayed delivery
    /// exchanges (quorum queues behind topic exchanges, spec §4.6).
    pub native_delayed_delivery: Option<bool>,
}

/// Whether a URL (or the first of a `;` list) names an AMQP broker.
pub fn is_amqp_url(url: &str) -> bool {
    matches!(url.split("://").next().map(str::to_ascii_lowercase).as_deref(), Some("amqp" | "amqps" | "pyamqp"))
}

#[derive(Debug, Clone)]
pub struct AmqpTarget {
    uris: Vec<AMQPUri>,
    /// How amqps:// URLs are secured; built once, and only when there is an amqps:// URL.
    tls: Option<Arc<TlsSettings>>,
    connect_timeout: Duration,
    connection_name: String,
    pub display_url: String,
}

impl AmqpTarget {
    pub fn parse(urls: &str, options: &AmqpOptions) -> Result<Self> {
        let display_url = urls.split(';').map(redact_url).collect::<Vec<_>>().join(";");
        let uris = urls
            .split(';')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| parse_one(u, options))
            .collect::<Result<Vec<_>>>()?;
        if uris.is_empty() {
            return Err(CeleryError::InvalidUrl { url: display_url, reason: "no URL given".into() });
        }
        let connect_timeout =
            options.connect_timeout.or(options.timeout).map(Duration::from_millis).unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let any_tls = uris.iter().any(|uri| uri.scheme == AMQPScheme::AMQPS);
        let tls = any_tls.then(|| TlsSettings::from_options(options).map(Arc::new)).transpose()?;
        let connection_name = options.connection_name.clone().unwrap_or_else(|| "celery-native".into());
        Ok(Self { uris, tls, connect_timeout, connection_name, display_url })
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Connects to the first URL that answers, each attempt bounded by the connect timeout.
    pub async fn connect(&self) -> Result<Connection> {
        let mut last_error = String::new();
        for uri in &self.uris {
            let properties = ConnectionProperties::default().with_connection_name(self.connection_name.as_str().into());
            let attempt = async {
                match uri.scheme {
                    AMQPScheme::AMQP => Connection::connect_uri(uri.clone(), properties).await,
                    AMQPScheme::AMQPS => self.connect_tls(uri, properties).await,
                }
            };
            // A `connect_timeout` in the URL wins over the option, for that URL.
            let limit = uri.query.connection_timeout.map(Duration::from_millis).unwrap_or(self.connect_timeout);
            match tokio::time::timeout(limit, attempt).await {
                Ok(Ok(connection)) => return Ok(connection),
                Ok(Err(error)) => last_error = error.to_string(),
                Err(_) => last_error = format!("no answer within {limit:?}"),
            }
        }
        Err(CeleryError::BrokerUnreachable { url: self.display_url.clone(), reason: last_error })
    }
}

impl AmqpTarget {
    /// TLS through our own rustls configuration, so that Node's `rejectUnauthorized` and
    /// `servername` can be honoured (lapin's own TLS setup offers neither).
    async fn connect_tls(&self, uri: &AMQPUri, properties: ConnectionProperties) -> lapin::Result<Connection> {
        let runtime = lapin::runtime::default_runtime()?;
        let tls = self.tls.clone().expect("amqps:// URLs come with TLS settings");
        let server_name = tls.server_name.clone().unwrap_or_else(|| uri.authority.host.clone());
        let reactor = runtime.clone();
        let connect = async move |uri: AMQPUri, _runtime| {
            let address = reactor.to_socket_addrs((uri.authority.host.clone(), uri.authority.port));
            let stream = AsyncTcpStream::connect(&reactor, address).await?;
            Ok(stream.into_rustls(&tls.connector, &server_name).await?)
        };
        Connection::connector(uri.clone(), runtime, connect, properties).await
    }
}

/// The rustls side of amqps://: trusted roots (the `ca` option, else the system's), the client
/// certificate, whether the server is verified at all, and the expected server name.
struct TlsSettings {
    connector: RustlsConnector,
    server_name: Option<String>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings").field("server_name", &self.server_name).finish_non_exhaustive()
    }
}

impl TlsSettings {
    fn from_options(options: &AmqpOptions) -> Result<Self> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let invalid = |name: &str, reason: String| CeleryError::InvalidOption { name: name.into(), reason };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("tls", e.to_string()))?;
        let builder = if options.reject_unauthorized == Some(false) {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider)))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            match &options.ca {
                Some(pem) => {
                    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                        let cert = cert.map_err(|e| invalid("ca", e.to_string()))?;
                        roots.add(cert).map_err(|e| invalid("ca", e.to_string()))?;
                    }
                    if roots.is_empty() {
                        return Err(invalid("ca", "no PEM certificate found".into()));
                    }
                }
                None => {
                    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                }
            }
            builder.with_root_certificates(roots)
        };
        let config = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => {
                let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| invalid("cert", e.to_string()))?;
                let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| invalid("key", e.to_string()))?;
                builder.with_client_auth_cert(chain, key).map_err(|e| invalid("cert", e.to_string()))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(invalid("cert", "cert and key must be given together".into())),
        };
        Ok(Self { connector: RustlsConnector::from(Arc::new(config)), server_name: options.servername.clone() })
    }
}

/// `rejectUnauthorized: false`: any certificate is accepted (signatures are still checked).
#[derive(Debug)]
struct AcceptAnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn parse_one(url: &str, options: &AmqpOptions) -> Result<AMQPUri> {
    let display = redact_url(url);
    let invalid = |reason: String| CeleryError::InvalidUrl { url: display.clone(), reason };
    let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    let scheme = match parsed.scheme() {
        "amqp" | "pyamqp" => AMQPScheme::AMQP,
        "amqps" => AMQPScheme::AMQPS,
        other => return Err(CeleryError::UnsupportedScheme(other.to_string())),
    };
    let default_port = if scheme == AMQPScheme::AMQPS { 5671 } else { 5672 };
    let username =
        Some(parsed.username()).filter(|u| !u.is_empty()).map(percent_decode).unwrap_or_else(|| "guest".into());
    let password = parsed.password().map(percent_decode).unwrap_or_else(|| "guest".into());
    let path = parsed.path();
    let vhost = match path.strip_prefix('/') {
        None | Some("") => "/".to_string(),
        Some(rest) => percent_decode(rest),
    };
    let query_value = |key: &str| parsed.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
    let heartbeat = match query_value("heartbeat") {
        Some(text) => text.parse::<f64>().map_err(|_| invalid("heartbeat must be a number of seconds".into()))? as u16,
        None => options.heartbeat.unwrap_or(DEFAULT_HEARTBEAT_SECONDS),
    };
    // Celery's `connect_timeout` is in seconds; lapin's `connection_timeout` in milliseconds.
    let connection_timeout = match (query_value("connect_timeout"), query_value("connection_timeout")) {
        (Some(seconds), _) => Some(
            (seconds.parse::<f64>().map_err(|_| invalid("connect_timeout must be seconds".into()))? * 1000.0) as u64,
        ),
        (None, Some(ms)) => {
            Some(ms.parse::<u64>().map_err(|_| invalid("connection_timeout must be milliseconds".into()))?)
        }
        _ => None,
    };
    Ok(AMQPUri {
        scheme,
        authority: AMQPAuthority {
            userinfo: AMQPUserInfo { username, password },
            host: parsed
                .host_str()
                .filter(|h| !h.is_empty())
                .unwrap_or("localhost")
                .trim_matches(['[', ']'])
                .to_string(),
            port: parsed.port().unwrap_or(default_port),
        },
        vhost,
        query: AMQPQueryString { heartbeat: Some(heartbeat), connection_timeout, ..AMQPQueryString::default() },
    })
}

/// Celery's default `result_expires` in milliseconds: the RPC reply queue's `x-expires` (a 32-bit
/// `I`, as py-amqp writes an int that fits).
pub const REPLY_QUEUE_EXPIRES_MS: u64 = 86_400_000;

/// Declares a client's RPC reply queue exactly as Celery 5.7 does (spec §5.5): durable,
/// auto-delete, `x-expires` one day. Both the publisher (before the first task, so no reply can
/// be dropped) and the RPC backend's consumer declare it.
/// A queue's `x-expires` as py-amqp writes an int: 32-bit when it fits, else 64-bit (RabbitMQ
/// takes either; a `result_expires` of a month does not fit 32 bits).
pub fn x_expires(ms: u64) -> lapin::types::AMQPValue {
    use lapin::types::AMQPValue;
    match i32::try_from(ms) {
        Ok(small) => AMQPValue::LongInt(small),
        Err(_) => AMQPValue::LongLongInt(i64::try_from(ms).unwrap_or(i64::MAX)),
    }
}

impl AmqpOptions {
    /// The RPC reply queue's `x-expires` (default one day).
    pub fn reply_queue_expires_ms(&self) -> u64 {
        self.reply_queue_expires.unwrap_or(REPLY_QUEUE_EXPIRES_MS)
    }
}

pub async fn declare_reply_queue(channel: &lapin::Channel, name: &str, expires_ms: u64) -> lapin::Result<()> {
    use lapin::options::QueueDeclareOptions;
    use lapin::types::FieldTable;
    let mut arguments = FieldTable::default();
    arguments.insert("x-expires".into(), x_expires(expires_ms));
    let options = QueueDeclareOptions { durable: true, auto_delete: true, ..QueueDeclareOptions::default() };
    channel.queue_declare(name.into(), options, arguments).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vhost(url: &str) -> String {
        parse_one(url, &AmqpOptions::default()).unwrap().vhost
    }

    #[test]
    fn vhosts_follow_py_amqp() {
        assert_eq!(vhost("amqp://h//"), "/");
        assert_eq!(vhost("amqp://h/"), "/");
        assert_eq!(vhost("amqp://h"), "/");
        assert_eq!(vhost("amqp://h/prod"), "prod");
        assert_eq!(vhost("amqp://h/%2f"), "/");
        assert_eq!(vhost("amqp://h/a%2Fb"), "a/b");
    }

    #[test]
    fn defaults_credentials_ports_and_heartbeat() {
        let uri = parse_one("amqp://", &AmqpOptions::default()).unwrap();
        assert_eq!(uri.authority.host, "localhost");
        assert_eq!(uri.authority.port, 5672);
        assert_eq!(uri.authority.userinfo.username, "guest");
        assert_eq!(uri.query.heartbeat, Some(120));
        let uri =
            parse_one("amqps://u:p%40ss@rabbit/v?heartbeat=30&connect_timeout=4", &AmqpOptions::default()).unwrap();
        assert_eq!(uri.scheme, AMQPScheme::AMQPS);
        assert_eq!(uri.authority.port, 5671);
        assert_eq!(uri.authority.userinfo.password, "p@ss");
        assert_eq!(uri.query.heartbeat, Some(30));
        assert_eq!(uri.query.connection_timeout, Some(4000));
        assert_eq!(parse_one("pyamqp://h", &AmqpOptions::default()).unwrap().scheme, AMQPScheme::AMQP);
    }

    #[test]
    fn failover_lists_and_redaction() {
        let target = AmqpTarget::parse("amqp://a:secret@h1//;amqp://a:secret@h2//", &AmqpOptions::default()).unwrap();
        assert_eq!(target.uris.len(), 2);
        assert_eq!(target.display_url, "amqp://a:***@h1//;amqp://a:***@h2//");
        assert_eq!(
            AmqpTarget::parse("redis://h", &AmqpOptions::default()).unwrap_err().to_string(),
            "Unsupported type: redis"
        );
    }
}
