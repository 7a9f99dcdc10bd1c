//! `oauth-server`: the operator's command line.
//!
//! ```text
//! oauth-server serve [--listen ADDR] [--database URL] [--issuer URL] ...
//! oauth-server migrate
//! oauth-server create-user NAME [--admin] [--password-stdin]
//! oauth-server create-app NAME --redirect-uri URI [--scopes "read write"]
//! oauth-server revoke TOKEN
//! oauth-server set-admin NAME true|false
//! oauth-server disable-user NAME
//! oauth-server enable-user NAME
//! oauth-server generate-jwt-key PATH
//! ```
//!
//! Every option has an environment variable (`DATABASE_URL`, `LISTEN`,
//! `ISSUER`, `ACCESS_TOKEN_EXPIRE_SECONDS`, `REQUIRE_PKCE`, `JWT_KEY_FILE`,
//! `JWT_AUDIENCE`, `SCOPE_HIERARCHY`, `THROTTLING_ENABLED`,
//! `THROTTLING_RATES`).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use oauth_server::config::Config;
use oauth_server::flows::{AppRegistration, AuthServer};
use oauth_server::jwt::{KeySet, SigningKey};
use oauth_server::primitives::Store;
use oauth_server::secret::{self, SecretHash};
use oauth_server::store::{PgStore, SqliteStore, redact_url};
use scope_hierarchies::{FunkwhaleScope, MastodonScope};
use scope_ratelimit::{RateLimiter, Rates};
use scope_runtime::Scope;
use scope_runtime::enforce::Enforcer;

#[derive(Parser)]
#[command(
    name = "oauth-server",
    version,
    about = "An OAuth 2 authorization server for Mastodon and Funkwhale clients"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Common {
    /// The database: `sqlite://PATH` (created if missing) or
    /// `postgres://USER@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://oauth-server.db"
    )]
    database: String,
    /// The scope hierarchy to serve.
    #[arg(
        long,
        global = true,
        env = "SCOPE_HIERARCHY",
        value_enum,
        default_value = "mastodon"
    )]
    hierarchy: Hierarchy,
}

#[derive(Clone, Copy, ValueEnum)]
enum Hierarchy {
    Mastodon,
    Funkwhale,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the OAuth endpoints.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Public base URL (defaults to http://LISTEN).
        #[arg(long, env = "ISSUER")]
        issuer: Option<String>,
        /// Lifetime of access tokens, in seconds.
        #[arg(long, env = "ACCESS_TOKEN_EXPIRE_SECONDS", default_value_t = 36_000)]
        access_token_lifetime: u64,
        /// Require PKCE from every client.
        #[arg(long, env = "REQUIRE_PKCE")]
        require_pkce: bool,
        /// Issue access tokens as JWTs (RFC 9068) signed with the ES256 key
        /// in this PEM file (see `generate-jwt-key`); every instance of a
        /// deployment uses the same file. Default: opaque tokens.
        #[arg(long, env = "JWT_KEY_FILE")]
        jwt_key: Option<std::path::PathBuf>,
        /// The `aud` of JWT access tokens (default: the issuer).
        #[arg(long, env = "JWT_AUDIENCE", requires = "jwt_key")]
        jwt_audience: Option<String>,
        /// Rate-limit the endpoints per client address (Funkwhale's
        /// endpoint-specific scopes: `oauth-app` 10/hour, `oauth-token`,
        /// `oauth-authorize`, `oauth-revoke` 100/hour; `oauth-introspect`
        /// unlimited unless overridden).
        #[arg(long, env = "THROTTLING_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
        throttling_enabled: bool,
        /// Rate overrides in Funkwhale's syntax, e.g. `oauth-token=1000/hour`.
        #[arg(long, env = "THROTTLING_RATES")]
        throttling_rates: Option<String>,
        /// The reverse proxies in front of the server, as addresses or CIDR
        /// networks (`127.0.0.1,10.0.0.0/8`): requests from them count
        /// against the client their `X-Forwarded-For` names. Default:
        /// none, the header is ignored.
        #[arg(long, env = "TRUSTED_PROXIES")]
        trusted_proxies: Option<scope_runtime::client_ip::TrustedProxies>,
    },
    /// Write a new ES256 signing key for `--jwt-key` to PATH (PKCS#8 PEM,
    /// readable by the owner only); an existing file is never overwritten.
    GenerateJwtKey {
        /// Where to write the key.
        path: std::path::PathBuf,
    },
    /// Create the database and apply migrations, then exit.
    Migrate,
    /// Create a user who can log in on the consent page.
    CreateUser {
        /// Login name.
        name: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input instead
        /// of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Register an application and print its credentials.
    CreateApp {
        /// The application's name.
        name: String,
        /// Redirect URI (repeat for several; `urn:ietf:wg:oauth:2.0:oob` to show codes).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Scopes the application may ask for.
        #[arg(long, default_value = "read")]
        scopes: String,
    },
    /// Revoke an access or refresh token.
    Revoke {
        /// The token, as the client holds it.
        token: String,
    },
    /// Make a user an administrator (`true`) or not (`false`). A demoted
    /// user's tokens lose the admin-only scopes at their next validation
    /// (at once on PostgreSQL, whose instances are told; after their token
    /// cache's TTL for other processes on one SQLite file).
    SetAdmin {
        /// Login name.
        name: String,
        /// `true` or `false`.
        #[arg(action = clap::ArgAction::Set)]
        admin: bool,
    },
    /// Disable (suspend) a user: they cannot log in, their codes and
    /// refresh tokens are refused, and their tokens stop working at their
    /// next validation (at once on PostgreSQL, whose instances are told;
    /// after their token cache's TTL for other processes on one SQLite
    /// file). Nothing is revoked: `enable-user` makes the unexpired tokens
    /// work again.
    DisableUser {
        /// Login name.
        name: String,
    },
    /// Enable a disabled user again: they can log in, and their unexpired
    /// tokens work again.
    EnableUser {
        /// Login name.
        name: String,
    },
}

/// `disable-user NAME` and `enable-user NAME`.
async fn set_disabled<St: Store>(store: &St, name: &str, disabled: bool) -> ExitCode {
    let user = match store.user_by_name(name).await {
        Ok(Some(user)) => user,
        Ok(None) => return fail(format!("no user {name}")),
        Err(e) => return fail(e),
    };
    match store.set_disabled(user.id, disabled).await {
        Ok(true) => {
            println!(
                "{name} is {}",
                if disabled { "disabled" } else { "enabled" }
            );
            ExitCode::SUCCESS
        }
        // Gone between the two statements: no user to change.
        Ok(false) => fail(format!("no user {name}")),
        Err(e) => fail(e),
    }
}

/// `generate-jwt-key PATH`: a new key, written only if PATH is free, with
/// owner-only permissions on Unix.
fn generate_jwt_key(path: &std::path::Path) -> ExitCode {
    let key = match SigningKey::generate() {
        Ok(key) => key,
        Err(e) => return fail(e),
    };
    let pem = match key.to_pem() {
        Ok(pem) => pem,
        Err(e) => return fail(e),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) => return fail(format!("cannot write {}: {e}", path.display())),
    };
    // The file is ours from here: a failed write (a full disk) removes it
    // rather than leave a truncated key that every later start would refuse.
    let written =
        std::io::Write::write_all(&mut file, pem.as_bytes()).and_then(|()| file.sync_all());
    drop(file);
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    } else if let Some(dir) = path.parent() {
        // The new name too, so that a crash cannot lose a key this command
        // reported as written (best effort: not every platform can).
        let dir = if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        };
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    match written {
        Ok(()) => {
            println!("wrote {} (key id {})", path.display(), key.kid());
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot write {}: {e}", path.display())),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.common.hierarchy {
        Hierarchy::Mastodon => run::<MastodonScope>(cli).await,
        Hierarchy::Funkwhale => run::<FunkwhaleScope>(cli).await,
    }
}

async fn run<S: Scope>(cli: Cli) -> ExitCode {
    if let Command::GenerateJwtKey { path } = &cli.command {
        return generate_jwt_key(path);
    }
    let url = cli.common.database.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match PgStore::connect(url).await {
            Ok(store) => run_with::<S, _>(cli, store).await,
            Err(e) => fail(format!("{e} (check DATABASE_URL)")),
        }
    } else {
        match SqliteStore::connect(url).await {
            Ok(store) => run_with::<S, _>(cli, store).await,
            Err(e) => fail(format!(
                "{e} (check DATABASE_URL and that its directory is writable)"
            )),
        }
    }
}

async fn run_with<S: Scope, St: Store>(cli: Cli, store: St) -> ExitCode {
    match cli.command {
        Command::Migrate => {
            println!("database {} is up to date", cli.common.database);
            ExitCode::SUCCESS
        }
        Command::Serve {
            listen,
            issuer,
            access_token_lifetime,
            require_pkce,
            jwt_key,
            jwt_audience,
            throttling_enabled,
            throttling_rates,
            trusted_proxies,
        } => {
            let issuer = issuer.unwrap_or_else(|| format!("http://{listen}"));
            let mut config = Config::new(issuer.clone())
                .access_token_lifetime(Duration::from_secs(access_token_lifetime))
                .require_pkce(require_pkce);
            if let Some(path) = &jwt_key {
                match SigningKey::from_pem_file(path) {
                    Ok(key) => {
                        println!("access tokens: JWTs signed by key {}", key.kid());
                        config = config.jwt_access_tokens(KeySet::new(key));
                    }
                    Err(e) => {
                        return fail(format!(
                            "JWT_KEY_FILE: {e} (create one with `oauth-server generate-jwt-key {}`)",
                            path.display()
                        ));
                    }
                }
                if let Some(audience) = jwt_audience {
                    config = config.jwt_audience(audience);
                }
            }
            if S::HIERARCHY == "FunkwhaleScope" {
                // Instance scopes need staff permissions in Funkwhale.
                config = config.admin_scope_prefixes(["read:instance:", "write:instance:"]);
            }
            let server = AuthServer::<S, _>::new(store, config);
            let listener = match tokio::net::TcpListener::bind(&listen).await {
                Ok(l) => l,
                Err(e) => return fail(format!("cannot listen on {listen}: {e}")),
            };
            println!(
                "oauth-server ({}) listening on {listen}, issuer {issuer}",
                S::HIERARCHY
            );
            println!("database: {}", redact_url(&cli.common.database));
            let mut enforcer = Enforcer::new(server.validator());
            if throttling_enabled {
                let rates = match Rates::funkwhale()
                    .with_overrides(throttling_rates.as_deref().unwrap_or(""))
                {
                    Ok(rates) => rates,
                    Err(e) => return fail(format!("THROTTLING_RATES: {e}")),
                };
                enforcer = enforcer.guard(RateLimiter::new(rates));
            }
            let mut app: axum::Router = oauth_server::http::router_with(server, &enforcer);
            if let Some(proxies) = trusted_proxies.filter(|p| !p.is_empty()) {
                app = app.layer(axum::Extension(proxies));
            }
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            // The peer address keys the rate limits of anonymous requests.
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            match axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Command::CreateUser {
            name,
            admin,
            password_stdin,
        } => {
            let password = if password_stdin || !std::io::stdin().is_terminal() {
                let mut line = String::new();
                if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
                    return fail(format!("cannot read the password: {e}"));
                }
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                match rpassword::prompt_password(format!("Password for {name}: ")) {
                    Ok(p) => p,
                    Err(e) => return fail(format!("cannot read the password: {e}")),
                }
            };
            if password.len() < 8 {
                return fail("the password must have at least 8 characters");
            }
            let hash =
                match tokio::task::spawn_blocking(move || secret::hash_password(&password)).await {
                    Ok(Ok(hash)) => hash,
                    Ok(Err(e)) => return fail(e),
                    Err(e) => return fail(e),
                };
            match store.create_user(&name, &hash, admin).await {
                Ok(user) => {
                    println!("created user {} (id {})", user.username, user.id);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::CreateApp {
            name,
            redirect_uris,
            scopes,
        } => {
            let server = AuthServer::<S, _>::new(store, Config::default());
            let app = AppRegistration {
                client_name: name,
                redirect_uris,
                scopes: Some(scopes),
                website: None,
            };
            match server.register_app(app, None).await {
                Ok(app) => {
                    println!("client_id:     {}", app.record.client_id);
                    println!("client_secret: {}", app.client_secret);
                    println!("scopes:        {}", app.record.scopes);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.description),
            }
        }
        Command::GenerateJwtKey { path } => generate_jwt_key(&path),
        Command::SetAdmin { name, admin } => {
            let user = match store.user_by_name(&name).await {
                Ok(Some(user)) => user,
                Ok(None) => return fail(format!("no user {name}")),
                Err(e) => return fail(e),
            };
            match store.set_admin(user.id, admin).await {
                Ok(_) => {
                    println!(
                        "{name} is {}an administrator",
                        if admin { "" } else { "no longer " }
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::DisableUser { name } => set_disabled(&store, &name, true).await,
        Command::EnableUser { name } => set_disabled(&store, &name, false).await,
        Command::Revoke { token } => {
            let hash = SecretHash::of(token.trim());
            let found = match store.token_by_access(hash).await {
                Ok(Some(t)) => Some((t, false)),
                Ok(None) => match store.token_by_refresh(hash).await {
                    Ok(t) => t.map(|t| (t, true)),
                    Err(e) => return fail(e),
                },
                Err(e) => return fail(e),
            };
            let result = match &found {
                Some((t, true)) => store.revoke_family(&t.family).await.map(|n| n > 0),
                Some((t, false)) => store.revoke_token(&t.id).await,
                None => return fail("no such token"),
            };
            match result {
                Ok(_) => {
                    println!("revoked");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
