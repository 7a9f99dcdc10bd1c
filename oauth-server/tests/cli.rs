//! The operator binary, run as a process.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oauth-server"));
    c.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    c
}

fn run(args: &[&str], db: &str, stdin: Option<&str>) -> Output {
    let mut child = bin()
        .args(args)
        .arg("--database")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn operator_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("pod.db").display());

    let o = run(&["migrate"], &db, None);
    assert!(o.status.success(), "{}", text(&o));

    let o = run(
        &["create-user", "alice", "--password-stdin"],
        &db,
        Some("a long password\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("created user alice"));
    let o = run(
        &["create-user", "alice", "--password-stdin"],
        &db,
        Some("another password\n"),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    let o = run(
        &["create-user", "bob", "--password-stdin"],
        &db,
        Some("short\n"),
    );
    assert!(!o.status.success());

    // Roles change from the command line.
    let o = run(&["set-admin", "alice", "true"], &db, None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("alice is an administrator"),
        "{}",
        text(&o)
    );
    let o = run(&["set-admin", "alice", "false"], &db, None);
    assert!(text(&o).contains("no longer"), "{}", text(&o));
    let o = run(&["set-admin", "nobody", "true"], &db, None);
    assert!(!o.status.success());
    assert!(text(&o).contains("no user nobody"), "{}", text(&o));

    // Users are disabled and enabled from the command line.
    let disabled = |db: &str| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            use oauth_server::primitives::Store;
            let store = oauth_server::store::SqliteStore::connect(db)
                .await
                .expect("open");
            let user = store
                .user_by_name("alice")
                .await
                .expect("q")
                .expect("alice");
            store.pool().close().await;
            user.disabled
        })
    };
    assert!(!disabled(&db), "users start enabled");
    let o = run(&["disable-user", "alice"], &db, None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("alice is disabled"), "{}", text(&o));
    assert!(disabled(&db));
    let o = run(&["enable-user", "alice"], &db, None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("alice is enabled"), "{}", text(&o));
    assert!(!disabled(&db));
    for command in ["disable-user", "enable-user"] {
        let o = run(&[command, "nobody"], &db, None);
        assert!(!o.status.success(), "{command}");
        assert!(text(&o).contains("no user nobody"), "{}", text(&o));
    }

    let o = run(
        &[
            "create-app",
            "cli app",
            "--redirect-uri",
            "urn:ietf:wg:oauth:2.0:oob",
            "--scopes",
            "read write",
        ],
        &db,
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("client_secret: "));
    let o = run(
        &["create-app", "bad", "--redirect-uri", "relative/path"],
        &db,
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("absolute URI"), "{}", text(&o));
    let o = run(&["revoke", "no-such-token"], &db, None);
    assert!(!o.status.success());
    assert!(text(&o).contains("no such token"));
}

#[test]
fn clear_errors_for_bad_databases_and_ports() {
    let o = run(&["migrate"], "mysql://localhost/nope", None);
    assert!(!o.status.success());
    assert!(text(&o).contains("invalid SQLite URL"), "{}", text(&o));

    // Nothing listens on port 1: a clear error, quickly.
    let o = run(&["migrate"], "postgresql://nobody@127.0.0.1:1/nope", None);
    assert!(!o.status.success());
    assert!(text(&o).contains("PostgreSQL"), "{}", text(&o));

    let o = run(&["migrate"], "sqlite:///proc/no-such-dir/pod.db", None);
    assert!(!o.status.success());
    assert!(text(&o).contains("cannot open"), "{}", text(&o));

    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("pod.db").display());
    let o = run(&["serve", "--listen", &addr], &db, None);
    assert!(!o.status.success());
    assert!(
        text(&o).contains(&format!("cannot listen on {addr}")),
        "{}",
        text(&o)
    );
}

#[tokio::test]
async fn serve_issue_and_revoke() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("pod.db").display());
    let o = run(
        &[
            "create-app",
            "svc",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        &db,
        None,
    );
    let out = text(&o);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .expect("field")
    };
    let (id, secret) = (field("client_id:"), field("client_secret:"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = bin()
        .args(["serve", "--listen", &addr, "--database", &db])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let http = reqwest::Client::new();
    let mut token = None;
    for _ in 0..100 {
        if let Ok(r) = http
            .post(format!("http://{addr}/oauth/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
        {
            let v: serde_json::Value = r.json().await.expect("json");
            token = v["access_token"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = token.expect("the server answered with a token");
    let o = run(&["revoke", &token], &db, None);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = http
        .post(format!("http://{addr}/oauth/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_eq!(v["active"], false);
    let _ = server.kill();
    let _ = server.wait();
}

/// `generate-jwt-key` writes an owner-only PEM once; `serve --jwt-key`
/// refuses a missing file with the command that makes one.
#[test]
fn jwt_keys_are_generated_once_and_required_to_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let key = dir.path().join("jwt.pem");
    let key_arg = key.to_str().expect("utf-8 path");
    let out = run(&["generate-jwt-key", key_arg], &db, None);
    assert!(out.status.success(), "{}", text(&out));
    let pem = std::fs::read_to_string(&key).expect("written");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    oauth_server::jwt::SigningKey::from_pem(&pem).expect("a key the server reads");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
    }
    let again = run(&["generate-jwt-key", key_arg], &db, None);
    assert!(!again.status.success(), "never overwritten");
    assert_eq!(std::fs::read_to_string(&key).expect("kept"), pem);

    let missing = dir.path().join("missing.pem");
    let out = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--jwt-key",
            missing.to_str().expect("utf-8"),
        ],
        &db,
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("generate-jwt-key"), "{}", text(&out));
}
