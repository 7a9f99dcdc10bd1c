//! `mastodon-pod`: the Mastodon example pod.
//!
//! ```text
//! mastodon-pod [serve] [--listen ADDR] [--database URL] [--demo]
//!     URL: sqlite://PATH (default mastodon-pod.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE
//! mastodon-pod create-user NAME [--admin] [--password-stdin]
//! mastodon-pod docs [DIR] [--check]
//! ```

fn main() -> std::process::ExitCode {
    pod_kit::main::<mastodon_pod::MastodonPod>()
}
