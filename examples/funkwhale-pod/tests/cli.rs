//! The command line operators and scripts rely on, run as a process.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_funkwhale-pod");

fn database(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("pod.db").display())
}

fn create_user(db: &str, name: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["create-user", name, "--password-stdin", "--database", db])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

#[test]
fn create_user_reads_the_password_from_stdin_and_refuses_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = database(&dir);
    let out = create_user(&db, "carol", "a long enough password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user carol"));
    // The password is not in the database in clear.
    let bytes = std::fs::read(dir.path().join("pod.db")).expect("db");
    assert!(!bytes.windows(22).any(|w| w == b"a long enough password"));
    let again = create_user(&db, "carol", "another long password");
    assert!(!again.status.success());
    let short = create_user(&db, "dave", "short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"));
}

#[test]
fn docs_check_passes_on_the_checked_in_docs_and_fails_elsewhere() {
    let checked_in = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scopes");
    let out = Command::new(BIN)
        .args(["docs", checked_in, "--check"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["docs", &dir.path().display().to_string(), "--check"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let out = Command::new(BIN)
        .args(["docs", &dir.path().display().to_string()])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(dir.path().join("openapi.json").exists());
}

#[test]
fn bad_settings_are_clear_errors() {
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "postgres://nowhere/x",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database", "sqlite::memory:"])
        .env("THROTTLING_RATES", "anonymous-list=ten/hour")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("THROTTLING_RATES"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(BIN)
        .args(["--listen", &addr, "--database", "sqlite::memory:"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}
