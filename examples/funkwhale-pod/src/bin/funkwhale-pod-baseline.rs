//! The bare-axum baseline of `bench/pod-load.sh`: the pod's profile
//! handler over the pod's database, without the framework.
//!
//! `funkwhale-pod-baseline DATABASE_URL LISTEN USER_ID`

use funkwhale_pod::{AppState, FunkwhalePod};
use scope_runtime::Principal;
use scope_runtime::ScopeSet;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(database), Some(listen), Some(user)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: funkwhale-pod-baseline DATABASE_URL LISTEN USER_ID");
        std::process::exit(2);
    };
    // The pod's own start-up: the same pool, settings and engine.
    let db = pod_kit::open::<FunkwhalePod>(&database).await?;
    let principal = Principal::user(user, "baseline", ScopeSet::parse("read")?);
    let app = funkwhale_pod::baseline::router(AppState::new(db.pool), principal);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("baseline on {listen}");
    axum::serve(listener, app).await?;
    Ok(())
}
