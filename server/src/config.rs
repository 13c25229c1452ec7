//! Typed configuration: defaults, then an optional `wheelhouse.toml`, then
//! environment variables, then flags (clap reads the last two). Every value is
//! parsed here, once; a bad one is reported naming the setting and the form it
//! expects.

use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The settings Wheelhouse runs with, all valid.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: DatabaseUrl,
    pub cluster: ClusterMode,
    /// A kubeconfig file to use instead of the usual search (in-cluster, `KUBECONFIG`, `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    pub log_format: LogFormat,
    /// Mark the session cookie `Secure` (set when Wheelhouse is served over HTTPS;
    /// implied by an `https` public URL).
    pub secure_cookies: bool,
    /// The address people and monitors reach Wheelhouse at: the origin that
    /// state-changing requests must come from, and the base of every absolute
    /// link Wheelhouse writes. `None`: requests must come from the host they
    /// name, and links use the listen address.
    pub public_url: Option<PublicUrl>,
    /// Proxies whose `X-Forwarded-For` names the client (for the sign-in throttle and logs).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Networks inside Wheelhouse's own (loopback, private, link-local) that webhooks may still reach.
    pub webhook_allow: Vec<ipnet::IpNet>,
    /// Where cargo-leptos put the site: `pkg/` with the wasm bundle and stylesheet.
    pub site_root: PathBuf,
    /// How long a component stays in partial or major outage before Wheelhouse raises its own alert.
    pub alert_detection_after: std::time::Duration,
    /// The storm guard: more new alerts than this in a minute attach to one incident.
    pub alert_storm_limit: u32,
    /// How long a client may take to send a request's headers before the
    /// connection is closed (a client trickling headers cannot hold it open).
    pub header_read_timeout: std::time::Duration,
    /// Several replicas on one PostgreSQL database: leader election through
    /// Leases. `None`: this process is alone on its database.
    pub leader_election: Option<LeaderElection>,
    /// This process among the replicas (default: the pod's name, or host and process id).
    pub replica_id: Option<String>,
    /// E-mail for status-page subscribers: the SMTP server and the sender.
    /// `None`: no subscriptions are offered.
    pub mail: Option<MailSettings>,
}

/// Where subscribers' messages go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtps://…`, with credentials when needed (never logged).
    pub smtp_url: String,
    pub from: String,
    /// How long a public component's status must hold before subscribers
    /// hear of it (a flapping component sends one message).
    pub hold: std::time::Duration,
}

/// Leader election as configured; the namespace defaults to Wheelhouse's own in a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderElection {
    pub namespace: Option<String>,
    pub lease_name: String,
    pub lease_duration: std::time::Duration,
}

/// Settings as typed by a person, before parsing. Each source fills what it knows.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub cluster: Option<String>,
    pub kubeconfig: Option<String>,
    pub log_format: Option<String>,
    pub secure_cookies: Option<String>,
    pub site_root: Option<String>,
    pub alert_detection_after: Option<String>,
    pub alert_storm_limit: Option<String>,
    pub public_url: Option<String>,
    pub trusted_proxies: Option<String>,
    pub webhook_allow: Option<String>,
    pub leader_election: Option<String>,
    pub lease_namespace: Option<String>,
    pub lease_name: Option<String>,
    pub lease_duration: Option<String>,
    pub replica_id: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub subscriber_hold: Option<String>,
}

impl RawSettings {
    /// Values from `self` win; gaps are filled from `lower`.
    pub fn over(self, lower: RawSettings) -> RawSettings {
        RawSettings {
            listen: self.listen.or(lower.listen),
            database_url: self.database_url.or(lower.database_url),
            cluster: self.cluster.or(lower.cluster),
            kubeconfig: self.kubeconfig.or(lower.kubeconfig),
            log_format: self.log_format.or(lower.log_format),
            secure_cookies: self.secure_cookies.or(lower.secure_cookies),
            site_root: self.site_root.or(lower.site_root),
            alert_detection_after: self.alert_detection_after.or(lower.alert_detection_after),
            alert_storm_limit: self.alert_storm_limit.or(lower.alert_storm_limit),
            public_url: self.public_url.or(lower.public_url),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            webhook_allow: self.webhook_allow.or(lower.webhook_allow),
            leader_election: self.leader_election.or(lower.leader_election),
            lease_namespace: self.lease_namespace.or(lower.lease_namespace),
            lease_name: self.lease_name.or(lower.lease_name),
            lease_duration: self.lease_duration.or(lower.lease_duration),
            replica_id: self.replica_id.or(lower.replica_id),
            smtp_url: self.smtp_url.or(lower.smtp_url),
            mail_from: self.mail_from.or(lower.mail_from),
            subscriber_hold: self.subscriber_hold.or(lower.subscriber_hold),
        }
    }
}

/// A setting that could not be used. Its message is one line naming the
/// setting, the form expected and what was given.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("invalid {setting}: expected {expected}, got '{got}'")]
    Invalid { setting: &'static str, expected: &'static str, got: String },
    #[error("cannot read the configuration file {path}: {reason}")]
    File { path: String, reason: String },
}

/// A number of seconds from 1 to 86400 (`120` or `120s`); `default` when not given.
fn seconds(
    raw: Option<&str>,
    default: std::time::Duration,
    setting: &'static str,
) -> Result<std::time::Duration, ConfigError> {
    let Some(raw) = raw.map(str::trim) else { return Ok(default) };
    raw.strip_suffix('s')
        .unwrap_or(raw)
        .parse::<u64>()
        .ok()
        .filter(|s| (1..=86_400).contains(s))
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| ConfigError::Invalid {
            setting,
            expected: "seconds from 1 to 86400, such as 120 or 120s",
            got: raw.to_owned(),
        })
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://wheelhouse.db";
pub const DEFAULT_CONFIG_FILE: &str = "wheelhouse.toml";
pub const DEFAULT_SITE_ROOT: &str = "target/site";
pub const DEFAULT_ALERT_DETECTION_AFTER: std::time::Duration = std::time::Duration::from_secs(120);
/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
pub const DEFAULT_ALERT_STORM_LIMIT: u32 = 20;
pub const DEFAULT_LEASE_NAME: &str = "wheelhouse-leader";
pub const DEFAULT_LEASE_DURATION: std::time::Duration = std::time::Duration::from_secs(15);

impl Settings {
    /// Resolves settings from flags and environment (`given`) over the file.
    /// `explicit_file` is the `--config` path; without it `wheelhouse.toml` is
    /// read if it exists.
    pub fn load(given: RawSettings, explicit_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let file = match explicit_file {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => read_file(Path::new(DEFAULT_CONFIG_FILE))?,
            None => RawSettings::default(),
        };
        Settings::resolve(given.over(file))
    }

    /// Parses every value, falling back to the defaults.
    pub fn resolve(raw: RawSettings) -> Result<Settings, ConfigError> {
        let listen = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen = listen.trim().parse().map_err(|_| ConfigError::Invalid {
            setting: "--listen / WHEELHOUSE_LISTEN",
            expected: "an address and port such as 127.0.0.1:3000",
            got: listen.to_owned(),
        })?;
        let database = DatabaseUrl::parse(raw.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL))?;
        let cluster = match raw.cluster.as_deref().map(str::trim) {
            None | Some("auto") => ClusterMode::Auto,
            Some("sim") => ClusterMode::Sim,
            Some("kubeconfig") => ClusterMode::Kubeconfig,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    setting: "--cluster / WHEELHOUSE_CLUSTER",
                    expected: "one of auto, sim, kubeconfig",
                    got: other.to_owned(),
                });
            }
        };
        let log_format = match raw.log_format.as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    setting: "--log-format / WHEELHOUSE_LOG_FORMAT",
                    expected: "one of pretty, json",
                    got: other.to_owned(),
                });
            }
        };
        let secure_cookies = match raw.secure_cookies.as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    setting: "--secure-cookies / WHEELHOUSE_SECURE_COOKIES",
                    expected: "true or false",
                    got: other.to_owned(),
                });
            }
        };
        let site_root = PathBuf::from(raw.site_root.as_deref().unwrap_or(DEFAULT_SITE_ROOT));
        let kubeconfig =
            raw.kubeconfig.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from);
        if let Some(path) = kubeconfig.as_ref().filter(|p| !p.is_file()) {
            return Err(ConfigError::Invalid {
                setting: "--cluster-kubeconfig / WHEELHOUSE_KUBECONFIG",
                expected: "the path of a readable kubeconfig file",
                got: path.display().to_string(),
            });
        }
        let alert_detection_after = seconds(
            raw.alert_detection_after.as_deref(),
            DEFAULT_ALERT_DETECTION_AFTER,
            "--alert-detection-after / WHEELHOUSE_ALERT_DETECTION_AFTER",
        )?;
        let subscriber_hold = seconds(
            raw.subscriber_hold.as_deref(),
            std::time::Duration::from_millis(domain::subscriber::COMPONENT_QUIET_MS.unsigned_abs()),
            "--subscriber-hold / WHEELHOUSE_SUBSCRIBER_HOLD",
        )?;
        let alert_storm_limit = match raw.alert_storm_limit.as_deref().map(str::trim) {
            None => DEFAULT_ALERT_STORM_LIMIT,
            Some(raw) => raw.parse::<u32>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
                ConfigError::Invalid {
                    setting: "--alert-storm-limit / WHEELHOUSE_ALERT_STORM_LIMIT",
                    expected: "a number of new alerts per minute from 1 to 100000",
                    got: raw.to_owned(),
                }
            })?,
        };
        let public_url = match raw.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(raw) => Some(PublicUrl::parse(raw)?),
        };
        let secure_cookies = secure_cookies || public_url.as_ref().is_some_and(PublicUrl::is_https);
        let trusted_proxies = parse_networks(
            "--trusted-proxies / WHEELHOUSE_TRUSTED_PROXIES",
            raw.trusted_proxies.as_deref().unwrap_or(""),
        )?;
        let webhook_allow = parse_networks(
            "--webhook-allow / WHEELHOUSE_WEBHOOK_ALLOW",
            raw.webhook_allow.as_deref().unwrap_or(""),
        )?;
        let leader_election = leader_election(&raw, &database)?;
        let replica_id = match raw.replica_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
            None => None,
            Some(id) if id.len() <= 200 && id.chars().all(|c| c.is_ascii_graphic()) => Some(id.to_owned()),
            Some(id) => {
                return Err(ConfigError::Invalid {
                    setting: "--replica-id / WHEELHOUSE_REPLICA_ID",
                    expected: "up to 200 printable characters without spaces, unique among the replicas",
                    got: id.to_owned(),
                });
            }
        };
        let mail = match (
            raw.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty()),
            raw.mail_from.as_deref().map(str::trim).filter(|f| !f.is_empty()),
        ) {
            (None, _) => None,
            (Some(url), _) if !(url.starts_with("smtp://") || url.starts_with("smtps://")) => {
                return Err(ConfigError::Invalid {
                    setting: "--smtp-url / WHEELHOUSE_SMTP_URL",
                    expected: "smtp://HOST:PORT or smtps://HOST:PORT (with USER:PASSWORD@ when needed)",
                    got: DatabaseUrl::redact(url),
                });
            }
            (Some(_), None) => {
                return Err(ConfigError::Invalid {
                    setting: "--mail-from / WHEELHOUSE_MAIL_FROM",
                    expected: "the sender of subscribers' messages, such as status@example.com (needed with --smtp-url)",
                    got: String::new(),
                });
            }
            (Some(url), Some(from)) if from.contains('@') => {
                Some(MailSettings { smtp_url: url.to_owned(), from: from.to_owned(), hold: subscriber_hold })
            }
            (Some(_), Some(from)) => {
                return Err(ConfigError::Invalid {
                    setting: "--mail-from / WHEELHOUSE_MAIL_FROM",
                    expected: "an address such as status@example.com or \"Status <status@example.com>\"",
                    got: from.to_owned(),
                });
            }
        };
        Ok(Settings {
            mail,
            leader_election,
            replica_id,
            webhook_allow,
            trusted_proxies,
            public_url,
            listen,
            database,
            cluster,
            kubeconfig,
            log_format,
            secure_cookies,
            site_root,
            alert_detection_after,
            alert_storm_limit,
            header_read_timeout: HEADER_READ_TIMEOUT,
        })
    }
}

/// Leader election needs a database the replicas share: PostgreSQL.
fn leader_election(raw: &RawSettings, database: &DatabaseUrl) -> Result<Option<LeaderElection>, ConfigError> {
    match raw.leader_election.as_deref().map(str::trim) {
        None | Some("false" | "off") => return Ok(None),
        Some("true" | "lease") => {}
        Some(other) => {
            return Err(ConfigError::Invalid {
                setting: "--leader-election / WHEELHOUSE_LEADER_ELECTION",
                expected: "true or false",
                got: other.to_owned(),
            });
        }
    }
    if let DatabaseUrl::Sqlite { .. } = database {
        return Err(ConfigError::Invalid {
            setting: "--leader-election / WHEELHOUSE_LEADER_ELECTION",
            expected: "false with SQLite (one process per file); several replicas need a postgres:// database",
            got: "true".to_owned(),
        });
    }
    let lease_duration = match raw.lease_duration.as_deref().map(str::trim) {
        None => DEFAULT_LEASE_DURATION,
        Some(given) => given
            .strip_suffix('s')
            .unwrap_or(given)
            .parse::<u64>()
            .ok()
            .filter(|s| (2..=300).contains(s))
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| ConfigError::Invalid {
                setting: "--lease-duration / WHEELHOUSE_LEASE_DURATION",
                expected: "seconds from 2 to 300, such as 15 or 15s",
                got: given.to_owned(),
            })?,
    };
    let name_setting = |setting: &'static str, given: Option<&str>| -> Result<Option<String>, ConfigError> {
        match given.map(str::trim).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(name) if is_dns_label(name) => Ok(Some(name.to_owned())),
            Some(name) => Err(ConfigError::Invalid {
                setting,
                expected: "a Kubernetes name: lower-case letters, digits and '-', at most 63",
                got: name.to_owned(),
            }),
        }
    };
    Ok(Some(LeaderElection {
        namespace: name_setting(
            "--lease-namespace / WHEELHOUSE_LEASE_NAMESPACE",
            raw.lease_namespace.as_deref(),
        )?,
        lease_name: name_setting("--lease-name / WHEELHOUSE_LEASE_NAME", raw.lease_name.as_deref())?
            .unwrap_or_else(|| DEFAULT_LEASE_NAME.to_owned()),
        lease_duration,
    }))
}

fn is_dns_label(name: &str) -> bool {
    name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn read_file(path: &Path) -> Result<RawSettings, ConfigError> {
    let file_error = |reason: String| ConfigError::File { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| file_error(e.message().to_owned()))?;
    // Accept plain TOML values (`secure_cookies = true`) as well as strings.
    let table: toml::Table = table
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                toml::Value::String(s) => toml::Value::String(s),
                other => toml::Value::String(other.to_string()),
            };
            (k, v)
        })
        .collect();
    table.try_into().map_err(|e: toml::de::Error| file_error(e.message().to_owned()))
}

/// `10.0.0.0/8, 192.168.1.5`: networks (a bare address is one host).
fn parse_networks(setting: &'static str, raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    setting,
                    expected: "comma-separated addresses or networks, such as 10.0.0.0/8, 192.168.1.5",
                    got: part.to_owned(),
                })
        })
        .collect()
}

/// The origin Wheelhouse is reached at: `https://wheelhouse.example.com`
/// (scheme, host and port; no path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
}

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<PublicUrl, ConfigError> {
        let invalid = || ConfigError::Invalid {
            setting: "--public-url / WHEELHOUSE_PUBLIC_URL",
            expected: "http:// or https:// and a host, with no path, such as https://wheelhouse.example.com",
            got: raw.to_owned(),
        };
        let uri: http::Uri = raw.trim_end_matches('/').parse().map_err(|_| invalid())?;
        let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https")).ok_or_else(invalid)?;
        let authority = uri.authority().filter(|a| !a.host().is_empty()).ok_or_else(invalid)?;
        if authority.as_str().contains('@') || !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(invalid());
        }
        Ok(PublicUrl { origin: format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()) })
    }

    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn is_https(&self) -> bool {
        self.origin.starts_with("https://")
    }
}

/// Where the data lives. Its `Debug` and `Display` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file, created if missing.
    Sqlite {
        path: String,
    },
    Postgres {
        url: String,
    },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, ConfigError> {
        let raw = raw.trim();
        let invalid = || ConfigError::Invalid {
            setting: "--database-url / DATABASE_URL",
            expected: "sqlite://PATH or postgres://USER@HOST:PORT/DATABASE",
            got: DatabaseUrl::redact(raw),
        };
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let rest = raw.split_once("://").map(|(_, r)| r).unwrap_or_default();
            if rest.is_empty() || rest.starts_with('/') && rest.len() == 1 {
                return Err(invalid());
            }
            return Ok(DatabaseUrl::Postgres { url: raw.to_owned() });
        }
        let path = if let Some(rest) = raw.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = raw.strip_prefix("sqlite:") {
            rest
        } else if raw.contains("://") {
            return Err(invalid());
        } else {
            raw
        };
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(invalid());
        }
        Ok(DatabaseUrl::Sqlite { path: path.to_owned() })
    }

    /// The URL sqlx connects with. SQLite files are created if missing.
    pub fn connect_url(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{path}?mode=rwc"),
            DatabaseUrl::Postgres { url } => url.clone(),
        }
    }

    pub(crate) fn redact(url: &str) -> String {
        match url.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split(':').next().unwrap_or_default();
                    if userinfo.contains(':') {
                        format!("{scheme}://{user}:***@{host}")
                    } else {
                        url.to_owned()
                    }
                }
                None => url.to_owned(),
            },
            None => url.to_owned(),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{path}"),
            DatabaseUrl::Postgres { url } => f.write_str(&DatabaseUrl::redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Which cluster to watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterMode {
    /// A kube config if one is found, otherwise the drill cluster.
    Auto,
    /// Always the built-in drill cluster.
    Sim,
    /// In-cluster config or the kube config; never the drill cluster.
    Kubeconfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawSettings {
        RawSettings::default()
    }

    #[test]
    fn defaults_listen_on_loopback_with_a_sqlite_file() {
        let s = Settings::resolve(raw()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(s.database, DatabaseUrl::Sqlite { path: "wheelhouse.db".into() });
        assert_eq!(s.cluster, ClusterMode::Auto);
        assert_eq!(s.log_format, LogFormat::Pretty);
        assert!(!s.secure_cookies);
    }

    #[test]
    fn a_public_url_is_an_origin_and_https_makes_cookies_secure() {
        let s = Settings::resolve(RawSettings {
            public_url: Some("https://Wheelhouse.Example.com/".into()),
            ..raw()
        })
        .unwrap();
        assert_eq!(s.public_url.as_ref().map(PublicUrl::origin), Some("https://wheelhouse.example.com"));
        assert!(s.secure_cookies, "an https public URL marks the cookie Secure");
        let s = Settings::resolve(RawSettings { public_url: Some("http://10.0.0.5:3000".into()), ..raw() })
            .unwrap();
        assert!(!s.secure_cookies);
        for bad in
            ["wheelhouse.example.com", "ftp://x", "https://x/wheelhouse", "https://u@x", "https://x?y=1"]
        {
            let err = Settings::resolve(RawSettings { public_url: Some(bad.into()), ..raw() }).unwrap_err();
            assert!(err.to_string().contains("--public-url"), "{bad}: {err}");
        }
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses() {
        let s = Settings::resolve(RawSettings {
            trusted_proxies: Some("10.0.0.0/8, 192.168.1.5".into()),
            ..raw()
        })
        .unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        assert!(s.trusted_proxies[1].contains(&"192.168.1.5".parse::<std::net::IpAddr>().unwrap()));
        let err = Settings::resolve(RawSettings { trusted_proxies: Some("10.0.0.0/33".into()), ..raw() })
            .unwrap_err();
        assert!(err.to_string().contains("--trusted-proxies"), "{err}");
    }

    #[test]
    fn leader_election_needs_postgresql_and_takes_a_lease_duration_and_names() {
        let err =
            Settings::resolve(RawSettings { leader_election: Some("true".into()), ..raw() }).unwrap_err();
        assert!(err.to_string().contains("postgres://"), "SQLite is one process per file: {err}");
        let pg = || RawSettings {
            database_url: Some("postgres://wheelhouse@db:5432/wheelhouse".into()),
            leader_election: Some("true".into()),
            ..raw()
        };
        let s = Settings::resolve(pg()).unwrap();
        let election = s.leader_election.unwrap();
        assert_eq!(election.lease_name, DEFAULT_LEASE_NAME);
        assert_eq!(election.lease_duration, DEFAULT_LEASE_DURATION);
        assert_eq!(election.namespace, None, "Wheelhouse's own namespace, found at start");
        let s = Settings::resolve(RawSettings { lease_duration: Some("3s".into()), ..pg() }).unwrap();
        assert_eq!(s.leader_election.unwrap().lease_duration, std::time::Duration::from_secs(3));
        for (bad, setting) in [
            (RawSettings { lease_duration: Some("1".into()), ..pg() }, "--lease-duration"),
            (RawSettings { lease_name: Some("Leader!".into()), ..pg() }, "--lease-name"),
            (RawSettings { lease_namespace: Some("-x".into()), ..pg() }, "--lease-namespace"),
            (RawSettings { replica_id: Some("two words".into()), ..pg() }, "--replica-id"),
            (RawSettings { leader_election: Some("maybe".into()), ..pg() }, "--leader-election"),
        ] {
            let err = Settings::resolve(bad).unwrap_err();
            assert!(err.to_string().contains(setting), "{err}");
        }
        assert!(Settings::resolve(raw()).unwrap().leader_election.is_none(), "off by default");
    }

    #[test]
    fn a_bad_listen_address_names_the_setting_and_the_form() {
        let err = Settings::resolve(RawSettings { listen: Some("localhost".into()), ..raw() }).unwrap_err();
        let line = err.to_string();
        assert!(line.contains("--listen / WHEELHOUSE_LISTEN"), "{line}");
        assert!(line.contains("127.0.0.1:3000"), "{line}");
        assert!(line.contains("'localhost'"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn an_unknown_cluster_mode_lists_the_accepted_ones() {
        let err = Settings::resolve(RawSettings { cluster: Some("minikube".into()), ..raw() }).unwrap_err();
        assert!(err.to_string().contains("one of auto, sim, kubeconfig"));
    }

    #[test]
    fn an_unknown_log_format_is_refused() {
        let err = Settings::resolve(RawSettings { log_format: Some("xml".into()), ..raw() }).unwrap_err();
        assert!(err.to_string().contains("--log-format / WHEELHOUSE_LOG_FORMAT"));
    }

    #[test]
    fn database_urls_of_both_backends_parse() {
        assert_eq!(
            DatabaseUrl::parse("postgres://wh@127.0.0.1:5432/wh").unwrap(),
            DatabaseUrl::Postgres { url: "postgres://wh@127.0.0.1:5432/wh".into() }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/wh.db").unwrap(),
            DatabaseUrl::Sqlite { path: "/var/lib/wh.db".into() }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:data/wh.db?mode=rwc").unwrap(),
            DatabaseUrl::Sqlite { path: "data/wh.db".into() }
        );
        assert_eq!(DatabaseUrl::parse("wh.db").unwrap(), DatabaseUrl::Sqlite { path: "wh.db".into() });
    }

    #[test]
    fn an_unsupported_database_is_refused_without_showing_its_password() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/wh").unwrap_err().to_string();
        assert!(err.contains("--database-url / DATABASE_URL"), "{err}");
        assert!(err.contains("postgres://"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_postgres_password_never_appears_in_debug_or_display() {
        let url = DatabaseUrl::parse("postgres://wh:hunter2@db:5432/wh").unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.to_string(), "postgres://wh:***@db:5432/wh");
    }

    #[test]
    fn flags_and_environment_win_over_the_file() {
        let file = RawSettings { listen: Some("0.0.0.0:80".into()), cluster: Some("sim".into()), ..raw() };
        let given = RawSettings { listen: Some("127.0.0.1:4000".into()), ..raw() };
        let s = Settings::resolve(given.over(file)).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:4000");
        assert_eq!(s.cluster, ClusterMode::Sim);
    }

    #[test]
    fn a_config_file_with_an_unknown_key_is_refused() {
        let dir = std::env::temp_dir().join(format!("wh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wheelhouse.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:4000\"\nlisten_port = 3\n").unwrap();
        let err = Settings::load(raw(), Some(&path)).unwrap_err().to_string();
        assert!(err.contains("listen_port"), "{err}");
        std::fs::write(&path, "listen = \"127.0.0.1:4000\"\nsecure_cookies = true\n").unwrap();
        let s = Settings::load(raw(), Some(&path)).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:4000");
        assert!(s.secure_cookies);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_explicit_config_file_is_an_error() {
        let err = Settings::load(raw(), Some(Path::new("/nonexistent/wheelhouse.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::File { .. }));
    }
}
