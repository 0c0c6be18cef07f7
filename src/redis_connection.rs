//! Redis connection settings shared by the broker and the result backend: URLs as kombu and
//! celery-node accept them (`redis://`, `rediss://`, `redis+socket://`, `socket://`), plus
//! celery-node's ioredis-style options object (`password`, `username`, `db`, `tls`,
//! `connectTimeout`).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, ProtocolVersion as Resp, TlsCertificates};
use serde::Deserialize;

use crate::error::{CeleryError, Result};
use crate::url_credentials::{percent_decode, redact_url};

/// How long one command may wait for its reply.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// ioredis' default, which celery-node users already live with.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The subset of ioredis options celery-node users pass in `CELERY_BROKER_OPTIONS` /
/// `CELERY_BACKEND_OPTIONS`. Unknown keys are ignored, as ioredis ignores them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RedisOptions {
    pub password: Option<String>,
    pub username: Option<String>,
    pub db: Option<i64>,
    pub tls: Option<TlsOptions>,
    /// Milliseconds.
    pub connect_timeout: Option<u64>,
    /// Result backend: how long results, saved groups and chord keys live (`result_expires`).
    pub result_expires_secs: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TlsOptions {
    /// PEM text.
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    /// `false` accepts any certificate, as Node's TLS option of that name.
    pub reject_unauthorized: Option<bool>,
    /// Set by the JS layer when the user passed a `checkServerIdentity` function (celery-node
    /// users write `() => null` to skip the host name check).
    pub skip_hostname_check: Option<bool>,
}

/// Everything needed to open connections to one Redis server.
#[derive(Debug, Clone)]
pub struct RedisTarget {
    info: ConnectionInfo,
    certificates: Option<TlsCertificates>,
    connect_timeout: Duration,
    /// The URL with its password removed, for messages.
    pub display_url: String,
}

impl RedisTarget {
    pub fn parse(url: &str, options: &RedisOptions) -> Result<Self> {
        let display_url = redact_url(url);
        let invalid = |reason: &str| CeleryError::InvalidUrl { url: display_url.clone(), reason: reason.to_string() };
        let parsed = url::Url::parse(&with_placeholder_host(url)).map_err(|e| invalid(&e.to_string()))?;
        let query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let query_value = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());

        let (addr, path_db) = match parsed.scheme() {
            "redis" | "rediss" => {
                let host = match parsed.host_str() {
                    Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_string(),
                    _ => "localhost".to_string(),
                };
                let port = parsed.port().unwrap_or(6379);
                let db = parsed.path().trim_start_matches('/');
                let db = if db.is_empty() {
                    None
                } else {
                    Some(db.parse::<i64>().map_err(|_| invalid("the path must be a database number"))?)
                };
                if parsed.scheme() == "rediss" {
                    (tls_addr(host, port, options, &query_value), db)
                } else {
                    (ConnectionAddr::Tcp(host, port), db)
                }
            }
            "redis+socket" | "socket" | "unix" | "redis+unix" => {
                let db = query_value("virtual_host").or_else(|| query_value("db"));
                let db = db
                    .map(|d| d.parse::<i64>().map_err(|_| invalid("virtual_host must be a database number")))
                    .transpose()?;
                (ConnectionAddr::Unix(parsed.path().into()), db)
            }
            other => return Err(CeleryError::UnsupportedScheme(other.to_string())),
        };

        let mut redis_settings =
            addr.clone().into_connection_info().map_err(|e| invalid(&e.to_string()))?.redis_settings().clone();
        let url_password = parsed.password().map(percent_decode);
        let url_username = Some(parsed.username()).filter(|u| !u.is_empty()).map(percent_decode);
        if let Some(password) = options.password.clone().or(url_password) {
            redis_settings = redis_settings.set_password(password);
        }
        if let Some(username) = options.username.clone().or(url_username) {
            redis_settings = redis_settings.set_username(username);
        }
        redis_settings = redis_settings.set_db(options.db.or(path_db).unwrap_or(0));
        let info = addr.into_connection_info().map_err(|e| invalid(&e.to_string()))?.set_redis_settings(redis_settings);

        let certificates = read_certificates(options, &query_value)?;
        let connect_timeout = options.connect_timeout.map(Duration::from_millis).unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        Ok(Self { info, certificates, connect_timeout, display_url })
    }

    pub fn db(&self) -> i64 {
        self.info.redis_settings().db()
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    fn client(&self, resp: Resp) -> Result<redis::Client> {
        let redis_settings = self.info.redis_settings().clone().set_protocol(resp);
        let info = self.info.clone().set_redis_settings(redis_settings);
        let client = match &self.certificates {
            Some(certs) => redis::Client::build_with_tls(info, certs.clone()),
            None => redis::Client::open(info),
        };
        client.map_err(|e| CeleryError::InvalidUrl { url: self.display_url.clone(), reason: e.to_string() })
    }

    /// A reconnecting connection. It fails fast (within the connect timeout) when the server
    /// cannot be reached at all; later drops are repaired by the manager on the next command.
    pub async fn connect(
        &self,
        push_sender: Option<tokio::sync::mpsc::UnboundedSender<redis::PushInfo>>,
    ) -> redis::RedisResult<ConnectionManager> {
        self.connect_with(push_sender, true).await
    }

    /// A reconnecting RESP3 connection whose owner subscribes again itself after a
    /// `Disconnection` push: the manager keeps no copy of the channel names.
    pub async fn connect_subscriber(
        &self,
        push_sender: tokio::sync::mpsc::UnboundedSender<redis::PushInfo>,
    ) -> redis::RedisResult<ConnectionManager> {
        self.connect_with(Some(push_sender), false).await
    }

    async fn connect_with(
        &self,
        push_sender: Option<tokio::sync::mpsc::UnboundedSender<redis::PushInfo>>,
        resubscribe: bool,
    ) -> redis::RedisResult<ConnectionManager> {
        let resp = if push_sender.is_some() { Resp::RESP3 } else { Resp::RESP2 };
        let client = self
            .client(resp)
            .map_err(|e| redis::RedisError::from((redis::ErrorKind::Client, "invalid configuration", e.to_string())))?;
        let mut config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            // redis-rs' default (500 ms) fails replies that merely queue behind a large pipeline
            // or tens of thousands of pending reads; a lost server is noticed by the socket.
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        if let Some(sender) = push_sender {
            config = config.set_push_sender(sender);
            if resubscribe {
                config = config.set_automatic_resubscription();
            }
        }
        ConnectionManager::new_with_config(client, config).await
    }
}

/// `redis+socket://:secret@/path` has credentials but no host, which URL parsers refuse; a
/// placeholder host (ignored for sockets) makes it parseable.
fn with_placeholder_host(url: &str) -> String {
    let is_socket = ["redis+socket://", "socket://", "unix://", "redis+unix://"].iter().any(|p| url.starts_with(p));
    if is_socket {
        url.replacen("@/", "@localhost/", 1)
    } else {
        url.to_string()
    }
}

fn tls_addr(
    host: String,
    port: u16,
    options: &RedisOptions,
    query_value: &dyn Fn(&str) -> Option<String>,
) -> ConnectionAddr {
    let tls = options.tls.clone().unwrap_or_default();
    // Certificates are verified unless `ssl_cert_reqs=none` (kombu's query key, spec §8) or
    // `rejectUnauthorized: false` (Node's) says otherwise. kombu alone skips verification when
    // nothing is given; we follow celery-node (ioredis), which verifies.
    let cert_reqs = query_value("ssl_cert_reqs").map(|v| v.to_ascii_lowercase());
    let verify_by_query = !matches!(cert_reqs.as_deref(), Some("none" | "cert_none"));
    let verify = tls.reject_unauthorized.unwrap_or(verify_by_query);
    let check_hostname = !tls.skip_hostname_check.unwrap_or(false)
        && !matches!(query_value("ssl_check_hostname").as_deref(), Some("false" | "False" | "0"));
    let mut addr = ConnectionAddr::TcpTls { host, port, insecure: !verify, tls_params: None };
    if verify && !check_hostname {
        addr.set_danger_accept_invalid_hostnames(true);
    }
    addr
}

fn read_certificates(
    options: &RedisOptions,
    query_value: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<TlsCertificates>> {
    let tls = options.tls.clone().unwrap_or_default();
    let read_file = |key: &str| -> Result<Option<String>> {
        query_value(key)
            .map(|path| {
                std::fs::read_to_string(&path)
                    .map_err(|e| CeleryError::InvalidOption { name: key.to_string(), reason: format!("{path}: {e}") })
            })
            .transpose()
    };
    let ca = tls.ca.or(read_file("ssl_ca_certs")?);
    let cert = tls.cert.or(read_file("ssl_certfile")?);
    let key = tls.key.or(read_file("ssl_keyfile")?);
    if ca.is_none() && cert.is_none() {
        return Ok(None);
    }
    let client_tls = match (cert, key) {
        (Some(cert), Some(key)) => {
            Some(redis::ClientTlsConfig { client_cert: cert.into_bytes(), client_key: key.into_bytes() })
        }
        (None, None) => None,
        _ => {
            return Err(CeleryError::InvalidOption {
                name: "tls".into(),
                reason: "cert and key must be given together".into(),
            })
        }
    };
    Ok(Some(TlsCertificates { client_tls, root_cert: ca.map(String::into_bytes) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_port_db_and_credentials() {
        let target = RedisTarget::parse("redis://user:p%40ss@example.com:6380/3", &RedisOptions::default()).unwrap();
        assert_eq!(target.db(), 3);
        assert_eq!(target.info.addr(), &ConnectionAddr::Tcp("example.com".into(), 6380));
        assert_eq!(target.info.redis_settings().password(), Some("p@ss"));
        assert_eq!(target.info.redis_settings().username(), Some("user"));
        assert_eq!(target.display_url, "redis://user:***@example.com:6380/3");
    }

    #[test]
    fn defaults_like_ioredis_and_options_win_over_the_url() {
        let options = RedisOptions { db: Some(5), password: Some("opt".into()), ..Default::default() };
        let target = RedisTarget::parse("redis://", &options).unwrap();
        assert_eq!(target.info.addr(), &ConnectionAddr::Tcp("localhost".into(), 6379));
        assert_eq!(target.db(), 5);
        let target = RedisTarget::parse("redis://:url@h/1", &options).unwrap();
        assert_eq!(target.info.redis_settings().password(), Some("opt"));
    }

    #[test]
    fn unix_sockets_take_the_db_from_virtual_host() {
        let target =
            RedisTarget::parse("redis+socket:///tmp/redis.sock?virtual_host=2", &RedisOptions::default()).unwrap();
        assert_eq!(target.info.addr(), &ConnectionAddr::Unix("/tmp/redis.sock".into()));
        assert_eq!(target.db(), 2);
        let target = RedisTarget::parse("socket://:pw@/tmp/r.sock?virtual_host=4", &RedisOptions::default()).unwrap();
        assert_eq!(target.info.addr(), &ConnectionAddr::Unix("/tmp/r.sock".into()));
        assert_eq!(target.info.redis_settings().password(), Some("pw"));
        assert_eq!(target.db(), 4);
    }

    #[test]
    fn unknown_schemes_are_named_as_celery_node_names_them() {
        let err = RedisTarget::parse("http://h", &RedisOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "Unsupported type: http");
        assert_eq!(err.code(), "ERR_CELERY_UNSUPPORTED_SCHEME");
    }
}
