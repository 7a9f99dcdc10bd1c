//! `mastodon-pod`: the Mastodon example pod.
//!
//! ```text
//! mastodon-pod [serve] [--listen ADDR] [--database URL] [--demo]
//! mastodon-pod create-user NAME [--admin] [--password-stdin]
//! mastodon-pod docs [DIR] [--check]
//! ```

fn main() -> std::process::ExitCode {
    pod_kit::main::<mastodon_pod::MastodonPod>()
}
