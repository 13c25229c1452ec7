//! The `wheelhouse` binary.

use anyhow::Context;
use app::domain::account::{Email, NewPassword};
use app::domain::role::Role;
use clap::Parser;
use server::accounts::{Accounts, generate_secret};
use server::cli::{Cli, Command, DrillCommand, FaultArgs, TokenCommand, UserCommand};
use server::config::Settings;
use server::db::Database;
use server::startup::Application;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen_given = cli.settings.listen.is_some();
    let settings = match Settings::load(cli.settings.raw(), cli.settings.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("wheelhouse: {error}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("wheelhouse: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings, listen_given)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wheelhouse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings, listen_given: bool) -> anyhow::Result<()> {
    match command {
        Command::Drill(DrillCommand::Serve { write_kubeconfig, scenario, token }) => {
            let listen = if listen_given { settings.listen } else { ([127, 0, 0, 1], 6443).into() };
            drill_serve(listen, write_kubeconfig, scenario, token).await
        }
        Command::Drill(DrillCommand::Fault(args)) => drill_fault(args, http::Method::POST).await,
        Command::Drill(DrillCommand::Clear(args)) => drill_fault(args, http::Method::DELETE).await,
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let db = Database::connect(&settings.database).await?;
            db.migrate().await?;
            println!("database {} is up to date", settings.database);
            Ok(())
        }
        Command::User(command) => manage_user(settings, command).await,
        Command::Token(command) => token(settings, command).await,
    }
}

async fn token(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    use server::tokens::Tokens;
    let db = Database::connect(&settings.database).await?;
    db.migrate().await?;
    let tokens = Tokens::new(db);
    match command {
        TokenCommand::Create { name, role } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let (token, secret) = tokens.create(&name, role, "cli").await?;
            println!("created the token '{}' with the role {}", token.name, token.role);
            println!("token (shown once): {secret}");
        }
        TokenCommand::List => {
            for token in tokens.list().await? {
                let state = if token.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{}\tcreated by {}", token.name, token.role, state, token.created_by);
            }
        }
        TokenCommand::Revoke { name } => {
            let found = tokens.list().await?.into_iter().find(|t| t.name == name.trim());
            let token = found.ok_or_else(|| anyhow::anyhow!("there is no token named '{}'", name.trim()))?;
            tokens.revoke(token.id).await?;
            println!("revoked the token '{}'", token.name);
        }
    }
    Ok(())
}

async fn manage_user(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    if let UserCommand::Add { email, role } = &command {
        return add_user(settings, email, role).await;
    }
    let db = Database::connect(&settings.database).await?;
    db.migrate().await?;
    let accounts = Accounts::new(db);
    match command {
        UserCommand::Add { .. } => {}
        UserCommand::List => {
            for (user, disabled) in accounts.list_all().await? {
                let state = if disabled.is_some() { "disabled" } else { "active" };
                println!("{}\t{}\t{state}", user.email, user.role);
            }
        }
        UserCommand::Disable { email } => {
            let user = accounts.set_disabled(&email, true).await?;
            println!("disabled {}; their sessions have ended", user.email);
        }
        UserCommand::Enable { email } => {
            let user = accounts.set_disabled(&email, false).await?;
            println!("enabled {}", user.email);
        }
        UserCommand::SetRole { email, role } => {
            let role = Role::parse_for_account(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let user = accounts.set_role(&email, role).await?;
            println!("{} is now {}; their sessions have ended", user.email, user.role);
        }
        UserCommand::ResetPassword { email } => {
            let (user, password) = accounts.reset_password(&email).await?;
            println!("new password for {} (shown once): {password}", user.email);
            println!("their sessions have ended");
        }
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings.clone()).await?;
    tracing::info!(
        http.address = %app.address(),
        db.url = %settings.database,
        cluster.source = ?app.cluster,
        "Wheelhouse is serving on http://{}",
        app.address()
    );
    if let Some(link) = app.setup_link() {
        tracing::warn!(
            "No account exists yet. Create the first administrator at {link} (the link works once)."
        );
    }
    app.run_until_stopped().await.context("the server stopped with an error")
}

async fn add_user(settings: Settings, email: &str, role: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let role = Role::parse_for_account(role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let stdin = std::io::stdin();
    let mut typed = String::new();
    if !stdin.is_terminal() {
        stdin.lock().read_to_string(&mut typed).context("cannot read the password from standard input")?;
    }
    let typed = typed.trim_end_matches(['\r', '\n']);
    let (password, generated) =
        if typed.is_empty() { (generate_secret(12), true) } else { (typed.to_owned(), false) };
    let password = NewPassword::parse(&password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let db = Database::connect(&settings.database).await?;
    db.migrate().await?;
    let user = Accounts::new(db).create_user(&email, &password, role).await?;
    println!("added {} with the role {}", user.email, user.role);
    if generated {
        println!("password (shown once): {}", password.expose());
    }
    Ok(())
}

async fn drill_serve(
    listen: std::net::SocketAddr,
    kubeconfig: Option<std::path::PathBuf>,
    scenario: Option<std::path::PathBuf>,
    token: Option<String>,
) -> anyhow::Result<()> {
    use server::drill::scenario::Scenario;
    use server::drill::serve::{DrillServer, write_kubeconfig};
    let scenario = match scenario {
        Some(path) => {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            Scenario::parse(&text).with_context(|| format!("--scenario {}", path.display()))?
        }
        None => Scenario::default_scenario(),
    };
    let token = token.unwrap_or_else(|| generate_secret(24));
    let server = DrillServer::bind(listen, &scenario, token).await?;
    if let Some(path) = &kubeconfig {
        write_kubeconfig(path, &server.kubeconfig())?;
        tracing::info!(kubeconfig.path = %path.display(), "kubeconfig written");
    }
    tracing::info!(
        http.address = %server.address,
        scenario.name = %scenario.name,
        "drill cluster serving on {}",
        server.url()
    );
    server.run().await.context("the drill cluster stopped with an error")
}

/// Sends a fault to a running drill cluster through its API, with the
/// kubeconfig's server, certificate authority and token.
async fn drill_fault(args: FaultArgs, method: http::Method) -> anyhow::Result<()> {
    use server::drill::fault_injection::{FaultKind, FaultRequest};
    let kind: FaultKind = args.kind.parse()?;
    let kubeconfig = kube::config::Kubeconfig::read_from(&args.kubeconfig)
        .with_context(|| format!("--kubeconfig {}", args.kubeconfig.display()))?;
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
            .await
            .context("the kubeconfig cannot be used")?;
    let client = kube::Client::try_from(config)?;
    let body = serde_json::to_vec(&FaultRequest { kind, target: args.target, seconds: args.seconds })?;
    let request = http::Request::builder()
        .method(method)
        .uri("/drill/v1/faults")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)?;
    let answer: serde_json::Value =
        client.request(request).await.context("the drill cluster refused the fault")?;
    println!("{}", answer["message"].as_str().unwrap_or_default());
    Ok(())
}
