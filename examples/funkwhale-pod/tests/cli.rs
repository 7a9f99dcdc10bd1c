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

/// `--database postgres://...` for `create-user` and `serve --demo`: the
/// users, the OAuth tables and the pod's tables in one PostgreSQL schema.
#[tokio::test]
async fn create_user_and_serve_on_postgres() {
    let Some(schema) = pod_kit::testing::PgSchema::create("cli_on_postgres").await else {
        return;
    };
    let url = schema.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let first = create_user(&url, "carol", "a long enough password");
        let again = create_user(&url, "carol", "another long password");
        (first, again)
    })
    .await
    .expect("join");
    assert!(
        out.0.status.success(),
        "{}",
        String::from_utf8_lossy(&out.0.stderr)
    );
    assert!(!out.1.status.success(), "a duplicate user is refused");

    let url = schema.url.clone();
    let body = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, BufReader, Read};
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--demo",
                "--database",
                &url,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut base = None;
        let mut shown = None;
        for line in lines.by_ref() {
            let line = line.expect("line");
            if let Some(rest) = line.split(" listening on ").nth(1) {
                base = Some(rest.trim().to_owned());
            }
            if let Some(db) = line.strip_prefix("database: ") {
                shown = Some(db.to_owned());
                break;
            }
        }
        let base = base.expect("listening line");
        let addr = base.trim_start_matches("http://").to_owned();
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream
            .write_all(
                format!(
                    "GET /api/v1/libraries/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        let _ = child.kill();
        let _ = child.wait();
        (response, shown)
    })
    .await
    .expect("join");
    let (response, shown) = body;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Demo library"), "{response}");
    assert!(
        shown
            .as_deref()
            .is_some_and(|s| s.starts_with("postgres://") && !s.contains('?')),
        "{shown:?}"
    );
}

#[test]
fn unsupported_or_in_memory_databases_are_clear_errors() {
    let out = Command::new(BIN)
        .args([
            "create-user",
            "x",
            "--password-stdin",
            "--database",
            "mysql://u:secret@h/db",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
    let out = Command::new(BIN)
        .args([
            "create-user",
            "x",
            "--password-stdin",
            "--database",
            "sqlite::memory:",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("in-memory"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
