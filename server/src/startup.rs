//! Building and running the application: storage, accounts, the cluster
//! watch and health engine, live events, router, listener.

use crate::accounts::Accounts;
use crate::accounts::SetupToken;
use crate::actions::Actions;
use crate::cluster::engine::{Board, Engine};
use crate::cluster::watch::{Live, Watchers};
use crate::cluster::{Connected, EmbeddedDrill};
use crate::components::Components;
use crate::config::{DatabaseUrl, Settings};
use crate::coordination::{Coordination, LeaseSettings, while_leading};
use crate::db::Database;
use crate::events::EventHub;
use crate::history::History;
use crate::incident_pages::IncidentPages;
use crate::incidents::Incidents;
use crate::live_pages::LivePages;
use crate::session_store::SqlSessionStore;
use crate::tokens::Tokens;
use crate::web::{AppState, metrics::HttpMetrics, router};
use anyhow::Context;
use app::page_context::ClusterSource;
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

/// How long a session lasts without use.
const SESSION_IDLE: time::Duration = time::Duration::hours(12);

pub struct Application {
    listener: TcpListener,
    router: Router,
    address: SocketAddr,
    setup_link: Option<String>,
    pub cluster: ClusterSource,
    pub db: Database,
    pub accounts: Accounts,
    pub components: Components,
    pub live: Arc<Live>,
    /// The in-process drill cluster, when Wheelhouse runs against one.
    pub drill: Option<EmbeddedDrill>,
    background: BackgroundTasks,
    watchers: Watchers,
    /// Set when shutting down: streams end, and the rest gets [`SHUTDOWN_BOUND`].
    stopping: tokio::sync::watch::Sender<bool>,
    header_read_timeout: Duration,
    /// This process among the replicas: who leads, this replica's epoch.
    pub coordination: Coordination,
    /// Held while serving: a second process on the same SQLite file refuses to start.
    _sqlite_lock: Option<std::fs::File>,
}

/// Once shutting down, requests under way get this long to finish.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(20);

/// The namespace Wheelhouse runs in, when it runs inside a cluster (its
/// service account's), so that its own namespace is protected like `kube-system`.
fn own_namespace() -> Option<String> {
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|ns| ns.trim().to_owned())
        .filter(|ns| !ns.is_empty())
}

/// Tasks that live as long as the application; dropping this stops them.
struct BackgroundTasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for BackgroundTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl Application {
    /// Connects and migrates the database, binds the listener (port 0 picks a
    /// free one) and, when no account exists, issues the one-time setup link.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let cluster = crate::cluster::resolve(settings.cluster, settings.kubeconfig.is_some())?;
        let db = Database::connect(&settings.database).await?;
        let sqlite_lock = crate::db::lock_sqlite_file(&settings.database)?;
        db.migrate().await?;
        let accounts = Accounts::new(db.clone());
        let components = Components::new(db.clone());
        let listen_url = match &settings.database {
            DatabaseUrl::Postgres { .. } => Some(settings.database.connect_url()),
            DatabaseUrl::Sqlite { .. } => None,
        };
        let events = EventHub::start(db.clone(), listen_url).await.context("cannot start the live events")?;
        let Connected { client, drill } = crate::cluster::connect(cluster, &settings).await?;
        if drill.is_some() {
            let suggestions = crate::drill::scenario::Scenario::default_scenario().suggested_components();
            let added =
                components.seed_once(&suggestions).await.context("cannot add the suggested components")?;
            if added > 0 {
                tracing::info!(components = added, "added the drill scenario's service components");
            }
        }
        let replica = settings.replica_id.clone().unwrap_or_else(crate::coordination::default_replica_id);
        let coordination = match &settings.leader_election {
            None => Coordination::solo(replica),
            Some(election) => {
                let lease = LeaseSettings {
                    namespace: election
                        .namespace
                        .clone()
                        .or_else(own_namespace)
                        .unwrap_or_else(|| "default".into()),
                    name: election.lease_name.clone(),
                    duration: election.lease_duration,
                };
                tracing::info!(
                    replica = %replica,
                    lease.namespace = %lease.namespace,
                    lease.name = %lease.name,
                    lease.duration_seconds = lease.duration.as_secs(),
                    "leader election on: singleton work runs on the replica holding the lease"
                );
                Coordination::with_leases(client.clone(), replica, lease)
            }
        };
        let live = Live::new(crate::db::now_millis());
        let actuator: Arc<dyn crate::services::ports::ClusterActuator> =
            Arc::new(crate::actions::actuator::Actuator::new(client.clone()));
        let evidence_source: Arc<dyn crate::services::ports::EvidenceSource> =
            Arc::new(crate::evidence::capture::KubeEvidence { client: client.clone(), live: live.clone() });
        let watchers = crate::cluster::watch::spawn(client, live.clone());
        let board = Arc::new(RwLock::new(Board::default()));
        let history = History::new(db.clone());
        let maintenance = crate::maintenance::MaintenanceStore::new(db.clone(), events.clone());
        let overlay = Arc::new(crate::maintenance::Overlay::default());
        let maintenance_changed = Arc::new(tokio::sync::Notify::new());
        let engine = Engine {
            live: live.clone(),
            components: components.clone(),
            history: history.clone(),
            hub: events.clone(),
            board: board.clone(),
            coordination: coordination.clone(),
            maintenance: overlay.clone(),
        };
        let mut background = BackgroundTasks(vec![
            tokio::spawn(coordination.clone().run()),
            tokio::spawn(engine.run()),
            while_leading(&coordination, "pruning", {
                let (history, events, accounts) = (history.clone(), events.clone(), accounts.clone());
                move || prune(history.clone(), events.clone(), accounts.clone())
            }),
        ]);
        let pages: Arc<dyn app::live::LiveBackend> =
            Arc::new(LivePages { live: live.clone(), board, components: components.clone() });
        let incidents = Incidents::new(db.clone(), events.clone());
        let webhooks = crate::webhooks::Webhooks::new(db.clone(), settings.webhook_allow.clone());
        background.0.push(while_leading(&coordination, "webhook delivery", {
            let webhooks = webhooks.clone();
            move || webhooks.clone().run_outbox()
        }));
        let tokens = Tokens::new(db.clone());
        let actions = Actions::new(
            db.clone(),
            events.clone(),
            incidents.clone(),
            actuator.clone(),
            live.clone(),
            components.clone(),
            app::domain::action::SafetyPolicy::new(own_namespace().as_deref()),
            coordination.clone(),
        );
        if coordination.elects() {
            background.0.push(while_leading(&coordination, "recovery of interrupted actions", {
                let (actions, coordination) = (actions.clone(), coordination.clone());
                move || recover_actions_while_leading(actions.clone(), coordination.clone())
            }));
        } else {
            // Alone: whatever an earlier process left running is over, before anything is served.
            recover_actions(&actions, &coordination).await.context("cannot check for interrupted actions")?;
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let address = listener.local_addr()?;
        let public_base = settings
            .public_url
            .as_ref()
            .map_or_else(|| format!("http://{address}"), |url| url.origin().to_owned());
        let status_page = crate::status_page::start(
            crate::status_page::Sources {
                live: pages.clone(),
                incidents: incidents.clone(),
                maintenance: maintenance.clone(),
                history: history.clone(),
                base_url: public_base.clone(),
                drill: cluster == ClusterSource::Drill,
                subscribe: settings.mail.is_some(),
            },
            &events,
        )
        .await;
        let mailer = match &settings.mail {
            Some(mail) => Some(
                crate::subscribers::mail::Mailer::new(mail, public_base.clone())
                    .context("cannot set up e-mail for subscribers")?,
            ),
            None => None,
        };
        let setup_link = match accounts
            .issue_setup_token(coordination.replica(), coordination.elects())
            .await
            .context("cannot issue the setup token")?
        {
            SetupToken::Issued(token) => Some(format!("http://{address}/setup?token={token}")),
            SetupToken::IssuedBy(replica) => {
                tracing::info!(
                    issued_by = %replica,
                    "no account exists yet: the one-time setup link is in the log of the replica that issued it"
                );
                None
            }
            SetupToken::NotNeeded => None,
        };

        let leptos = LeptosOptions::builder()
            .output_name(app::OUTPUT_NAME)
            .site_root(settings.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(address)
            .build();
        let store = SqlSessionStore::new(db.clone());
        background.0.push(while_leading(&coordination, "session expiry", {
            let store = store.clone();
            move || delete_expired_sessions(store.clone())
        }));
        let sessions = SessionManagerLayer::new(store)
            // Over HTTPS the `__Host-` prefix pins the cookie to this host and path, Secure.
            .with_name(if settings.secure_cookies { "__Host-wheelhouse.sid" } else { "wheelhouse.sid" })
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(settings.secure_cookies)
            .with_expiry(Expiry::OnInactivity(SESSION_IDLE));
        let templates = crate::updates::Templates::new(db.clone());
        let services = crate::services::Services {
            incidents: Arc::new(incidents.clone()),
            actions: Arc::new(actions.clone()),
            templates: templates.clone(),
            notifier: Arc::new(webhooks.clone()),
            accounts: accounts.clone(),
            components: components.clone(),
            tokens: tokens.clone(),
            webhooks: webhooks.clone(),
            live: pages.clone(),
            clock: Arc::new(crate::services::ports::SystemClock),
            history: history.clone(),
            alerts: crate::alerts::Alerts::new(db.clone(), events.clone()),
            cluster: live.clone(),
            alert_settings: crate::services::AlertSettings {
                storm: app::domain::alert::StormGuard { per_minute: settings.alert_storm_limit },
                detection_after_ms: i64::try_from(settings.alert_detection_after.as_millis())
                    .unwrap_or(i64::MAX),
            },
            alert_routing: Arc::new(tokio::sync::Mutex::new(())),
            evidence: crate::evidence::EvidenceStore::new(db.clone(), events.clone()),
            evidence_source,
            playbooks: crate::playbooks::Playbooks::new(db.clone()),
            reviews: crate::reviews::Reviews::new(db.clone()),
            insights: crate::insights::InsightsStore::new(db.clone()),
            maintenance: maintenance.clone(),
            maintenance_changed: maintenance_changed.clone(),
            actuator,
            safety: Arc::new(actions.policy().clone()),
            subscribers: crate::subscribers::Subscribers::new(db.clone()),
            mailer,
        };
        background.0.push(tokio::spawn(overlay.clone().keep(maintenance.clone(), maintenance_changed)));
        if let Some(mailer) = services.mailer.clone() {
            background.0.push(while_leading(&coordination, "subscriber mail", {
                let (subscribers, webhooks) = (services.subscribers.clone(), services.webhooks.clone());
                move || crate::subscribers::mail::run(subscribers.clone(), mailer.clone(), webhooks.clone())
            }));
            background.0.push(while_leading(&coordination, "subscriber component notices", {
                let services = services.clone();
                move || crate::services::subscribers::run_component_notices(services.clone())
            }));
        }
        background.0.push(while_leading(&coordination, "maintenance schedule", {
            let services = services.clone();
            move || crate::maintenance::run_schedule(services.clone())
        }));
        let alert_pages = Arc::new(crate::alert_pages::AlertPages { services: services.clone() });
        let incident_pages = Arc::new(IncidentPages {
            incidents: incidents.clone(),
            accounts: accounts.clone(),
            tokens: tokens.clone(),
            actions: actions.clone(),
            components: components.clone(),
            templates: crate::updates::Templates::new(db.clone()),
            webhooks: webhooks.clone(),
            live_state: live.clone(),
            live: pages.clone(),
            services: services.clone(),
        });
        let (stopping, stop) = tokio::sync::watch::channel(false);
        background.0.push(while_leading(&coordination, "own detection", {
            let services = services.clone();
            move || crate::alerts::detection::run(services.clone())
        }));
        let state = AppState::new(crate::web::AppStateFields {
            leptos,
            db: db.clone(),
            accounts: accounts.clone(),
            components: components.clone(),
            cluster,
            metrics: Arc::new(HttpMetrics::default()),
            events,
            history: history.clone(),
            incidents,
            tokens,
            actions,
            templates,
            status_page,
            services,
            webhooks: webhooks.clone(),
            incident_pages,
            live: pages,
            alert_pages,
            public_origin: settings.public_url.as_ref().map(|url| url.origin().to_owned()),
            trusted_proxies: Arc::new(settings.trusted_proxies.clone()),
            stop,
        });
        Ok(Application {
            listener,
            router: router(state, sessions),
            address,
            setup_link,
            cluster,
            db,
            accounts,
            components,
            live,
            drill,
            background,
            watchers,
            stopping,
            header_read_timeout: settings.header_read_timeout,
            coordination,
            _sqlite_lock: sqlite_lock,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The one-time link that creates the first administrator, while no account exists.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests under way.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // The cluster watch, engine and drill cluster run as long as the server does.
        let Application {
            listener,
            router,
            background,
            watchers,
            drill,
            stopping,
            header_read_timeout,
            coordination,
            _sqlite_lock,
            ..
        } = self;
        let mut stopped = stopping.subscribe();
        let serving = crate::web::serve::serve(listener, router, header_read_timeout, stopping.subscribe());
        // Live event streams and the listener end at the signal; other requests finish within the bound.
        let signal = tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stopping.send(true);
            // Another replica takes over now rather than when the lease expires.
            coordination.release().await;
            // The sender stays until the server is done: receivers read a dropped one as "stop".
            std::future::pending::<()>().await;
        });
        let bound = async move {
            let _ = stopped.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(SHUTDOWN_BOUND).await;
        };
        let served = tokio::select! {
            served = serving => served,
            () = bound => {
                tracing::warn!(bound.seconds = SHUTDOWN_BOUND.as_secs(), "stopping with requests still open after the bound");
                Ok(())
            }
        };
        signal.abort();
        drop((background, watchers, drill, _sqlite_lock));
        served
    }
}

/// Once an hour: drops history past its retention and replayable events
/// past theirs; every minute, sign-in attempts that left the throttle's window.
async fn prune(history: History, events: Arc<EventHub>, accounts: Accounts) {
    let mut interval = tokio::time::interval(crate::accounts::throttle::WINDOW);
    let mut rounds: u64 = 0;
    loop {
        interval.tick().await;
        if let Err(error) = accounts.throttle.sweep(crate::db::now_millis()).await {
            tracing::warn!(error = &error as &dyn std::error::Error, "could not sweep old sign-in attempts");
        }
        rounds += 1;
        if rounds % 60 != 1 {
            continue;
        }
        if let Err(error) = history.prune(crate::db::now_millis()).await {
            tracing::warn!(error = &error as &dyn std::error::Error, "could not prune the status history");
        }
        if let Err(error) = events.prune().await {
            tracing::warn!(error = &error as &dyn std::error::Error, "could not prune old live events");
        }
    }
}

/// Marks failed the actions whose runner is gone: alone, any left by an
/// earlier process; among replicas, those whose replica's lease expired or
/// was taken by a later process.
async fn recover_actions(actions: &Actions, coordination: &Coordination) -> anyhow::Result<usize> {
    let replicas = coordination.replicas().await?;
    let now = crate::db::now_millis();
    let recovered = actions
        .recover_interrupted(|runner, epoch| {
            crate::coordination::claim::owner_gone(runner.and_then(|r| replicas.get(r)), epoch, now)
        })
        .await?;
    if recovered > 0 {
        tracing::warn!(
            actions = recovered,
            "actions left running by a process that is gone were marked failed"
        );
    }
    Ok(recovered)
}

/// The leader looks for actions of departed replicas every few seconds.
async fn recover_actions_while_leading(actions: Actions, coordination: Coordination) {
    let mut interval = tokio::time::interval(Duration::from_secs(2));
    loop {
        interval.tick().await;
        if let Err(error) = recover_actions(&actions, &coordination).await {
            tracing::warn!(error = format!("{error:#}"), "cannot check for interrupted actions");
        }
    }
}

async fn delete_expired_sessions(store: SqlSessionStore) {
    let mut interval = tokio::time::interval(Duration::from_secs(3600));
    loop {
        interval.tick().await;
        if let Err(error) = store.delete_expired().await {
            tracing::warn!(error = %error, "could not delete expired sessions");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests under way");
}
