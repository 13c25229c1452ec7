//! The command line: `wheelhouse [serve]`, `wheelhouse migrate`,
//! `wheelhouse user add`. Settings flags apply to every command.

use crate::config::RawSettings;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "wheelhouse", version, about = "Wheelhouse: a Kubernetes incident command center")]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings that may also come from the environment or `wheelhouse.toml`.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Configuration file [default: ./wheelhouse.toml when it exists]
    #[arg(long, env = "WHEELHOUSE_CONFIG", global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Address to serve on [default: 127.0.0.1:3000]
    #[arg(long, env = "WHEELHOUSE_LISTEN", global = true, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Database: sqlite://PATH or postgres://USER@HOST:PORT/DB [default: sqlite://wheelhouse.db]
    #[arg(long, env = "DATABASE_URL", global = true, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Cluster to watch: auto (kube config if found, else the drill cluster), sim, kubeconfig [default: auto]
    #[arg(long, env = "WHEELHOUSE_CLUSTER", global = true, value_name = "MODE")]
    pub cluster: Option<String>,
    /// Kubeconfig file for the cluster [default: in-cluster config, then KUBECONFIG, then ~/.kube/config]
    #[arg(long, env = "WHEELHOUSE_KUBECONFIG", global = true, value_name = "PATH")]
    pub cluster_kubeconfig: Option<String>,
    /// Log format: pretty or json [default: pretty]
    #[arg(long, env = "WHEELHOUSE_LOG_FORMAT", global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Mark the session cookie Secure; set when served over HTTPS [default: false]
    #[arg(long, env = "WHEELHOUSE_SECURE_COOKIES", global = true, value_name = "BOOL")]
    pub secure_cookies: Option<String>,
    /// Directory holding pkg/ with the wasm bundle and stylesheet [default: target/site]
    #[arg(long, env = "WHEELHOUSE_SITE_ROOT", global = true, value_name = "DIR")]
    pub site_root: Option<String>,
    /// The URL people reach Wheelhouse at (https://wheelhouse.example.com): the only origin
    /// forms and API calls made with a session are accepted from, and the base of absolute links
    #[arg(long, env = "WHEELHOUSE_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client [default: none]
    #[arg(long, env = "WHEELHOUSE_TRUSTED_PROXIES", global = true, value_name = "CIDRS")]
    pub trusted_proxies: Option<String>,
    /// Networks inside Wheelhouse's own (loopback, private, link-local) that webhooks may still reach [default: none]
    #[arg(long, env = "WHEELHOUSE_WEBHOOK_ALLOW", global = true, value_name = "CIDRS")]
    pub webhook_allow: Option<String>,
    /// Seconds a component stays in partial or major outage before Wheelhouse raises its own alert [default: 120]
    #[arg(long, env = "WHEELHOUSE_ALERT_DETECTION_AFTER", global = true, value_name = "SECONDS")]
    pub alert_detection_after: Option<String>,
    /// Storm guard: more new alerts than this in a minute attach to one incident [default: 20]
    #[arg(long, env = "WHEELHOUSE_ALERT_STORM_LIMIT", global = true, value_name = "COUNT")]
    pub alert_storm_limit: Option<String>,
    /// Run as one of several replicas on one PostgreSQL database: singleton work goes to the
    /// replica holding a coordination.k8s.io Lease [default: false]
    #[arg(long, env = "WHEELHOUSE_LEADER_ELECTION", global = true, value_name = "BOOL")]
    pub leader_election: Option<String>,
    /// Namespace of the Leases [default: Wheelhouse's own in a cluster, else default]
    #[arg(long, env = "WHEELHOUSE_LEASE_NAMESPACE", global = true, value_name = "NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Name of the leader Lease; replica Leases are named after it [default: wheelhouse-leader]
    #[arg(long, env = "WHEELHOUSE_LEASE_NAME", global = true, value_name = "NAME")]
    pub lease_name: Option<String>,
    /// Seconds a Lease holds without renewal; failover takes about this long [default: 15]
    #[arg(long, env = "WHEELHOUSE_LEASE_DURATION", global = true, value_name = "SECONDS")]
    pub lease_duration: Option<String>,
    /// This process among the replicas, unique among them [default: the pod's name, or host-pid]
    #[arg(long, env = "WHEELHOUSE_REPLICA_ID", global = true, value_name = "ID")]
    pub replica_id: Option<String>,
    /// SMTP server for status-page subscribers: smtp://HOST:PORT or smtps://… [default: none, no subscriptions]
    #[arg(long, env = "WHEELHOUSE_SMTP_URL", global = true, value_name = "URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of subscribers' messages, e.g. status@example.com
    #[arg(long, env = "WHEELHOUSE_MAIL_FROM", global = true, value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// Seconds a public component's status must hold before subscribers hear of it [default: 120]
    #[arg(long, env = "WHEELHOUSE_SUBSCRIBER_HOLD", global = true, value_name = "SECONDS")]
    pub subscriber_hold: Option<String>,
}

impl SettingsArgs {
    pub fn raw(&self) -> RawSettings {
        RawSettings {
            listen: self.listen.clone(),
            database_url: self.database_url.clone(),
            cluster: self.cluster.clone(),
            kubeconfig: self.cluster_kubeconfig.clone(),
            log_format: self.log_format.clone(),
            secure_cookies: self.secure_cookies.clone(),
            site_root: self.site_root.clone(),
            alert_detection_after: self.alert_detection_after.clone(),
            alert_storm_limit: self.alert_storm_limit.clone(),
            public_url: self.public_url.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            webhook_allow: self.webhook_allow.clone(),
            leader_election: self.leader_election.clone(),
            lease_namespace: self.lease_namespace.clone(),
            lease_name: self.lease_name.clone(),
            lease_duration: self.lease_duration.clone(),
            replica_id: self.replica_id.clone(),
            smtp_url: self.smtp_url.clone(),
            mail_from: self.mail_from.clone(),
            subscriber_hold: self.subscriber_hold.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application (the default)
    Serve,
    /// Apply database migrations, then exit
    Migrate,
    /// Manage accounts
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for automation (CI pipelines, chat bots, alert routers)
    #[command(subcommand)]
    Token(TokenCommand),
    /// The built-in drill cluster: a Kubernetes API server for demos, drills and tests
    #[command(subcommand)]
    Drill(DrillCommand),
}

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Serve a drill cluster on its own port (--listen, default 127.0.0.1:6443)
    Serve {
        /// Write a kubeconfig for kubectl and kube clients to this path
        #[arg(long, value_name = "PATH")]
        write_kubeconfig: Option<PathBuf>,
        /// Scenario file (YAML) describing the cluster [default: the built-in scenario]
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
        /// Bearer token clients must present [default: a random one, written to the kubeconfig]
        #[arg(long, env = "WHEELHOUSE_DRILL_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Inject a fault: crashloop, image-pull, oom, event-storm, insufficient-resources
    /// (TARGET NAMESPACE/DEPLOYMENT), no-endpoints (TARGET NAMESPACE/SERVICE),
    /// node-notready, node-pressure (TARGET NODE[:memory|disk|pid]), control-plane (TARGET CHECK, e.g. etcd),
    /// api-down (--seconds N)
    Fault(FaultArgs),
    /// Clear a fault injected with `drill fault`
    Clear(FaultArgs),
}

#[derive(Debug, Args)]
pub struct FaultArgs {
    /// crashloop, image-pull, node-notready, node-pressure, oom, control-plane, event-storm, api-down,
    /// insufficient-resources, no-endpoints
    pub kind: String,
    /// What the fault hits (see `drill fault --help`)
    #[arg(default_value = "")]
    pub target: String,
    /// The kubeconfig `drill serve --write-kubeconfig` wrote
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: PathBuf,
    /// For api-down: how long; for event-storm: how many events
    #[arg(long)]
    pub seconds: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is read from standard input; when standard
    /// input is a terminal or empty, a password is generated and printed once.
    Add {
        /// E-mail address, used to sign in
        #[arg(long)]
        email: String,
        /// admin, responder or viewer
        #[arg(long)]
        role: String,
    },
    /// List every account, with its role and whether it is disabled
    List,
    /// Disable an account: it cannot sign in, and its sessions end at once
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Give an account another role (admin, responder or viewer); its sessions end at once
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Set a new generated password, printed once; the account's sessions end at once
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once; only its hash is stored
    Create {
        /// A name saying who uses it, e.g. ci-pipeline
        #[arg(long)]
        name: String,
        /// admin, responder or viewer
        #[arg(long)]
        role: String,
    },
    /// List tokens (never their secrets)
    List,
    /// Revoke a token by name
    Revoke {
        #[arg(long)]
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::try_parse_from(["wheelhouse", "--listen", "127.0.0.1:0"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.settings.listen.as_deref(), Some("127.0.0.1:0"));
    }

    #[test]
    fn user_add_takes_email_and_role() {
        let cli = Cli::try_parse_from(["wheelhouse", "user", "add", "--email", "a@b.c", "--role", "viewer"])
            .unwrap();
        match cli.command {
            Some(Command::User(UserCommand::Add { email, role })) => {
                assert_eq!(email, "a@b.c");
                assert_eq!(role, "viewer");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
