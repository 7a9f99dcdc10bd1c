//! The pods' command line: `serve` (the default), `create-user`, `docs`.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use oauth_server::primitives::Store;
use scope_runtime::docgen;
use scope_runtime::route::RouteTable;

use crate::{App, DEMO_PASSWORD, DEMO_USER, Pod, Settings};

#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// The database: `sqlite://PATH` (created on first start) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (the database must
    /// exist; the tables are created). The OAuth tables and the pod's share it.
    #[arg(long, global = true, env = "DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Serve,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the OAuth endpoints (the default).
    Serve(Serve),
    /// Create a user who can log in on the consent page.
    CreateUser {
        /// Login name.
        name: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input instead
        /// of prompting for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Write the scope documentation (Markdown, JSON, OpenAPI) generated
    /// from the route table into DIR (default `docs/scopes`); `--check`
    /// fails if the files there differ.
    Docs {
        /// Output directory.
        dir: Option<PathBuf>,
        /// Compare instead of writing.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args)]
struct Serve {
    /// Address to listen on.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Public base URL (default `http://LISTEN`).
    #[arg(long, env = "ISSUER")]
    issuer: Option<String>,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "ACCESS_TOKEN_EXPIRE_SECONDS", default_value_t = 36_000)]
    access_token_lifetime: u64,
    /// The reverse proxies in front of the pod, as addresses or CIDR
    /// networks (`127.0.0.1,10.0.0.0/8`): requests from them count
    /// against the client their `X-Forwarded-For` names. Default: none,
    /// the header is ignored.
    #[arg(long, env = "TRUSTED_PROXIES")]
    trusted_proxies: Option<scope_runtime::client_ip::TrustedProxies>,
    /// Rate limiting on or off.
    #[arg(long, env = "THROTTLING_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    throttling_enabled: bool,
    /// Rate overrides: `anonymous-list=10/hour,authenticated-create=2/minute`.
    #[arg(long, env = "THROTTLING_RATES")]
    throttling_rates: Option<String>,
    /// Refuse anonymous requests on routes whose anonymous access is a
    /// setting (Funkwhale's `API_AUTHENTICATION_REQUIRED`).
    #[arg(long, env = "API_AUTHENTICATION_REQUIRED", default_value_t = false, action = clap::ArgAction::Set)]
    api_authentication_required: bool,
    /// Keep the rate-limit counters in this Redis (`redis://HOST:PORT/DB`),
    /// shared by every instance that uses it; default: in this process.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// The prefix of this pod's keys in that Redis (default `ratelimit:`):
    /// pods sharing one Redis count apart with different prefixes.
    #[arg(long, env = "REDIS_PREFIX", requires = "redis_url")]
    redis_prefix: Option<String>,
    /// How long a validated token is trusted without asking the database,
    /// in seconds. On PostgreSQL revocations evict tokens at once; on
    /// SQLite shared by several processes this bounds how long a token
    /// revoked by another process keeps working here.
    #[arg(long, env = "TOKEN_CACHE_TTL", default_value_t = 60)]
    token_cache_ttl: u64,
    /// Issue access tokens as JWTs (RFC 9068) signed with the ES256 key in
    /// this PEM file (`oauth-server generate-jwt-key PATH` writes one); every
    /// instance uses the same file. Default: opaque tokens.
    #[arg(long, env = "JWT_KEY_FILE")]
    jwt_key: Option<PathBuf>,
    /// Create the user `demo` (password `demo-password`) and demo data.
    #[arg(long)]
    demo: bool,
}

/// `url` without its password and query (which may hold one). Everything
/// before the last `@` is user information, so a password holding `/`, `?`
/// or `@` unencoded is hidden too.
fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (user, host) = match rest.rfind('@') {
        Some(at) => (rest.get(..at), rest.get(at + 1..).unwrap_or_default()),
        None => (None, rest),
    };
    let host = host.split(['?', '#']).next().unwrap_or_default();
    match user {
        Some(user) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => format!("{scheme}://{host}"),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Runs the command line of pod `P`: call it from a synchronous `main`;
/// it starts the Tokio runtime itself, after tuning the allocator while
/// the process still has one thread (see `memory.rs`).
pub fn main<P: Pod>() -> ExitCode {
    // Renamed: a deployment still setting it must not quietly listen on
    // the default address.
    if std::env::var_os("POD_LISTEN").is_some() {
        return fail(
            "POD_LISTEN was renamed LISTEN (as the oauth-server binary reads it): set LISTEN instead",
        );
    }
    // SAFETY: called before the runtime, so no other thread exists yet.
    #[allow(unsafe_code)]
    let pinned = unsafe { crate::memory::release_large_blocks() };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(run::<P>(pinned))
}

async fn run<P: Pod>(pinned: bool) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if !pinned {
        tracing::warn!("glibc refused to pin its mmap threshold; argon2 memory may stay resident");
    }
    let command = Cli::command().name(P::NAME).version(P::VERSION);
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let database = cli
        .database
        .unwrap_or_else(|| format!("sqlite://{}.db", P::NAME));
    match cli.command {
        Some(Command::Docs { dir, check }) => docs::<P>(dir, check),
        Some(Command::CreateUser {
            name,
            admin,
            password_stdin,
        }) => create_user::<P>(&database, name, admin, password_stdin).await,
        Some(Command::Serve(serve)) => serve_pod::<P>(&database, serve).await,
        None => serve_pod::<P>(&database, cli.serve).await,
    }
}

fn docs<P: Pod>(dir: Option<PathBuf>, check: bool) -> ExitCode {
    let dir = dir.unwrap_or_else(|| PathBuf::from("docs/scopes"));
    let info = P::openapi_info();
    let routes = <P::Api as RouteTable>::ROUTES;
    if check {
        let stale = docgen::stale_files(&dir, routes, &info);
        if stale.is_empty() {
            println!("{} is up to date", dir.display());
            return ExitCode::SUCCESS;
        }
        for path in stale {
            eprintln!("stale: {}", path.display());
        }
        return fail(format!(
            "the documentation in {} differs from the code; run `{} docs {}`",
            dir.display(),
            P::NAME,
            dir.display()
        ));
    }
    match docgen::write_all(&dir, routes, &info) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot write {}: {e}", dir.display())),
    }
}

async fn create_user<P: Pod>(
    database: &str,
    name: String,
    admin: bool,
    password_stdin: bool,
) -> ExitCode {
    let db = match crate::open::<P>(database).await {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
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
    if password.chars().count() < 8 {
        return fail("the password must have at least 8 characters");
    }
    let hash =
        match tokio::task::spawn_blocking(move || oauth_server::secret::hash_password(&password))
            .await
        {
            Ok(Ok(hash)) => hash,
            Ok(Err(e)) => return fail(e),
            Err(e) => return fail(e),
        };
    match db.store.create_user(&name, &hash, admin).await {
        Ok(user) => {
            println!("created user {} (id {})", user.username, user.id);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot create {name}: {e}")),
    }
}

async fn serve_pod<P: Pod>(database: &str, serve: Serve) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(&serve.listen).await {
        Ok(l) => l,
        Err(e) => {
            return fail(format!(
                "cannot listen on {}: {e} (use --listen or LISTEN)",
                serve.listen
            ));
        }
    };
    let addr = listener
        .local_addr()
        .map_or_else(|_| serve.listen.clone(), |a| a.to_string());
    let issuer = serve
        .issuer
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let mut settings = match Settings::new(issuer.clone())
        .throttling(serve.throttling_enabled, serve.throttling_rates.as_deref())
    {
        Ok(s) => s,
        Err(e) => return fail(format!("THROTTLING_RATES: {e}")),
    };
    settings.access_token_lifetime = Duration::from_secs(serve.access_token_lifetime);
    settings.api_authentication_required = serve.api_authentication_required;
    settings.token_cache_ttl = Duration::from_secs(serve.token_cache_ttl);
    settings.trusted_proxies = serve.trusted_proxies.unwrap_or_default();
    if let Some(url) = serve.redis_url.as_deref().filter(|u| !u.trim().is_empty()) {
        settings = match settings.shared_rate_limits(url) {
            Ok(s) => s,
            Err(e) => return fail(format!("REDIS_URL: {e}")),
        };
        settings.rate_limit_redis_prefix = serve.redis_prefix.clone();
    }
    if let Some(path) = &serve.jwt_key {
        match oauth_server::jwt::SigningKey::from_pem_file(path) {
            Ok(key) => settings.jwt_keys = Some(oauth_server::jwt::KeySet::new(key)),
            Err(e) => return fail(format!("JWT_KEY_FILE: {e}")),
        }
    }
    let shared_counters = settings.rate_limit_redis.is_some();
    let follows_revocations =
        crate::Backend::of_url(database).is_ok_and(|b| matches!(b, crate::Backend::Postgres));
    let db = match crate::open::<P>(database).await {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    if serve.demo {
        match crate::seed_demo::<P>(&db).await {
            Ok(_) => println!("demo user: {DEMO_USER} / {DEMO_PASSWORD}"),
            Err(e) => return fail(e),
        }
    }
    let App {
        router, limiter, ..
    } = crate::app::<P>(db, &settings);
    let routes = <P::Api as RouteTable>::ROUTES.len();
    println!("{} {} listening on {issuer}", P::NAME, P::VERSION);
    println!("address: {addr}");
    println!("database: {}", shown(database));
    println!(
        "rate limiting: {}",
        match (&limiter, shared_counters) {
            (None, _) => "off",
            (Some(_), false) => "on (counters in this process)",
            (Some(_), true) => "on (counters in Redis, shared by every instance)",
        }
    );
    if let Some(keys) = &settings.jwt_keys {
        println!(
            "access tokens: JWTs signed by key {}; keys at {issuer}/.well-known/jwks.json",
            keys.kids().join(", ")
        );
    }
    println!(
        "revocations: {}",
        if follows_revocations {
            "followed across instances (PostgreSQL notices)".to_owned()
        } else {
            format!(
                "made here take effect at once; other processes' after the {} s token cache",
                serve.token_cache_ttl
            )
        }
    );
    println!("{routes} API routes; scope docs: `{} docs`", P::NAME);
    println!(
        "create a user:   echo 'a-long-password' | {} create-user alice --password-stdin",
        P::NAME
    );
    println!(
        "register an app: curl -d client_name=app -d redirect_uris=urn:ietf:wg:oauth:2.0:oob -d 'scopes=read write' {issuer}/api/v1/apps"
    );
    println!(
        "then open {issuer}/oauth/authorize?response_type=code&client_id=CLIENT_ID&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read"
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    match axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
