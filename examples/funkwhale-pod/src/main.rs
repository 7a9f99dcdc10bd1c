//! `funkwhale-pod`: the Funkwhale example pod.
//!
//! ```text
//! funkwhale-pod [serve] [--listen ADDR] [--database URL] [--demo]
//!     URL: sqlite://PATH (default funkwhale-pod.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE
//! funkwhale-pod create-user NAME [--admin] [--password-stdin]
//! funkwhale-pod docs [DIR] [--check]
//! ```

fn main() -> std::process::ExitCode {
    pod_kit::main::<funkwhale_pod::FunkwhalePod>()
}
