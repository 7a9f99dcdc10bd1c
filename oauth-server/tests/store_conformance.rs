//! One conformance suite for every `Store`: each test runs against the
//! memory store, against SQLite (a fresh file per test) and against
//! PostgreSQL (a fresh schema per test) when `TEST_DATABASE_URL_PG` names a
//! database, e.g. `postgres://postgres@127.0.0.1:5432/test`. Without it the
//! PostgreSQL tests print `SKIPPED` and pass, unless `REQUIRE_POSTGRES=1`.

mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use oauth_server::policy::ScopePolicy;
use oauth_server::primitives::{
    CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, TokenRecord,
};
use oauth_server::secret::{self, SecretHash};
use oauth_server::store::{
    MemoryStore, PgSettings, PgStore, RevocationFeed, RevocationNotice, SqliteStore,
};
use oauth_server::validator::StoreValidator;
use scope_runtime::token::{BearerToken, TokenError, TokenValidator};

fn new_client(client_id: &str, secret: &str) -> NewClient {
    NewClient {
        client_id: client_id.into(),
        secret_hash: SecretHash::of(secret),
        name: "test app".into(),
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "urn:ietf:wg:oauth:2.0:oob".into(),
        ],
        scopes: "read write".into(),
        website: Some("https://app.example".into()),
        owner: None,
        created_at: 1_700_000_000,
    }
}

fn token(id: &str, access: &str, refresh: Option<&str>, family: &str) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        access_hash: SecretHash::of(access),
        refresh_hash: refresh.map(SecretHash::of),
        client_id: "c1".into(),
        user_id: Some(1),
        scopes: "read".into(),
        created_at: 1_700_000_000,
        expires_at: Some(1_700_036_000),
        family: family.into(),
        code_hash: Some(SecretHash::of("the-code")),
        revoked: false,
    }
}

/// A token issued from the code `code`.
fn token_of(code: &str, id: &str, access: &str) -> TokenRecord {
    TokenRecord {
        code_hash: Some(SecretHash::of(code)),
        ..token(id, access, None, id)
    }
}

fn code(code: &str) -> CodeRecord {
    CodeRecord {
        code_hash: SecretHash::of(code),
        client_id: "c1".into(),
        user_id: 1,
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_given: true,
        scopes: "read".into(),
        challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        challenge_method: Some("S256".into()),
        expires_at: 1_700_000_300,
    }
}

async fn clients_and_users<S: Store>(store: S) {
    let created = store
        .create_client(new_client("c1", "secret"))
        .await
        .expect("create");
    let found = store.client("c1").await.expect("query").expect("found");
    assert_eq!(created, found);
    assert!(found.secret_hash.matches("secret"));
    assert_eq!(found.redirect_uris.len(), 2);
    assert!(store.client("nope").await.expect("query").is_none());
    assert!(matches!(
        store.create_client(new_client("c1", "other")).await,
        Err(StoreError::Conflict(_))
    ));

    let user = store
        .create_user("alice", "$argon2id$...", true)
        .await
        .expect("user");
    assert_eq!(
        store.user_by_name("alice").await.expect("query"),
        Some(user.clone())
    );
    assert_eq!(store.user(user.id).await.expect("query"), Some(user));
    assert!(matches!(
        store.create_user("alice", "x", false).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn codes_are_single_use<S: Store>(store: S) {
    store.insert_code(code("abc")).await.expect("insert");
    assert_eq!(
        store.code(SecretHash::of("abc")).await.expect("code"),
        Some((code("abc"), false))
    );
    let issued = store
        .redeem_code(SecretHash::of("abc"), token_of("abc", "c1", "ca1"))
        .await
        .expect("redeem");
    assert_eq!(issued, Redeemed::Issued);
    assert_eq!(
        store
            .code(SecretHash::of("abc"))
            .await
            .expect("code")
            .map(|c| c.1),
        Some(true)
    );
    // A replay revokes what the code issued and stores nothing.
    let replay = store
        .redeem_code(SecretHash::of("abc"), token_of("abc", "c2", "ca2"))
        .await
        .expect("redeem");
    assert_eq!(replay, Redeemed::Replayed);
    assert!(
        store
            .token_by_access(SecretHash::of("ca1"))
            .await
            .expect("q")
            .expect("first")
            .revoked
    );
    assert!(
        store
            .token_by_access(SecretHash::of("ca2"))
            .await
            .expect("q")
            .is_none()
    );
    assert_eq!(
        store
            .redeem_code(SecretHash::of("zzz"), token_of("zzz", "c3", "ca3"))
            .await
            .expect("redeem"),
        Redeemed::Unknown
    );
}

/// A lookup changes nothing (a refused exchange leaves the code as it
/// was), and a redemption without a lookup is seen by the next lookup.
async fn lookups_see_every_redemption<S: Store>(store: S) {
    store.insert_code(code("look")).await.expect("insert");
    for _ in 0..2 {
        assert_eq!(
            store.code(SecretHash::of("look")).await.expect("code"),
            Some((code("look"), false))
        );
    }
    store.insert_code(code("blind")).await.expect("insert");
    assert_eq!(
        store
            .redeem_code(SecretHash::of("blind"), token_of("blind", "b1", "ba1"))
            .await
            .expect("redeem"),
        Redeemed::Issued
    );
    assert_eq!(
        store.code(SecretHash::of("blind")).await.expect("code"),
        Some((code("blind"), true))
    );
    assert_eq!(
        store.code(SecretHash::of("nope")).await.expect("code"),
        None
    );
}

/// Concurrent writes of every kind (batched together by a group-commit
/// store): fresh codes issue, spent codes replay and revoke, unknown codes
/// change nothing, and new tokens are stored alongside.
async fn mixed_concurrent_writes<S: Store + 'static>(store: S) {
    let store = Arc::new(store);
    for i in 0..16 {
        store
            .insert_code(code(&format!("m{i}")))
            .await
            .expect("insert");
    }
    for i in 0..4 {
        let t = token_of(&format!("m{i}"), &format!("first{i}"), &format!("fa{i}"));
        let r = store.redeem_code(SecretHash::of(&format!("m{i}")), t).await;
        assert_eq!(r.expect("redeem"), Redeemed::Issued);
    }
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let (id, access) = (format!("x{i}"), format!("xa{i}"));
                match i {
                    // Replays of spent codes, fresh codes, unknown codes.
                    0..=19 => {
                        let code = format!("m{i}");
                        let r = store
                            .redeem_code(SecretHash::of(&code), token_of(&code, &id, &access))
                            .await;
                        Some(r.expect("redeem"))
                    }
                    20..=23 => {
                        let code = format!("unknown{i}");
                        let r = store
                            .redeem_code(SecretHash::of(&code), token_of(&code, &id, &access))
                            .await;
                        Some(r.expect("redeem"))
                    }
                    _ => {
                        let t = TokenRecord {
                            code_hash: None,
                            ..token(&id, &access, None, &id)
                        };
                        store.insert_token(t).await.expect("insert");
                        None
                    }
                }
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.expect("join");
        let expected = match i {
            0..=3 => Some(Redeemed::Replayed),
            4..=15 => Some(Redeemed::Issued),
            16..=23 => Some(Redeemed::Unknown),
            _ => None,
        };
        assert_eq!(outcome, expected, "write {i}");
        let stored = store
            .token_by_access(SecretHash::of(&format!("xa{i}")))
            .await
            .expect("q");
        match i {
            4..=15 | 24.. => assert!(!stored.expect("stored").revoked, "write {i}"),
            _ => assert!(stored.is_none(), "write {i}"),
        }
    }
    for i in 0..4 {
        let first = store
            .token_by_access(SecretHash::of(&format!("fa{i}")))
            .await
            .expect("q")
            .expect("first");
        assert!(first.revoked, "the replay of m{i} revoked its token");
    }
}

async fn concurrent_consumers_get_one_fresh_code<S: Store>(store: S) {
    let store = Arc::new(store);
    store.insert_code(code("race")).await.expect("insert");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let t = token_of("race", &format!("r{i}"), &format!("ra{i}"));
                store.redeem_code(SecretHash::of("race"), t).await
            })
        })
        .collect();
    let mut issued = 0;
    for t in tasks {
        if t.await.expect("join").expect("redeem") == Redeemed::Issued {
            issued += 1;
        }
    }
    assert_eq!(issued, 1);
    // Fifteen replays: whatever the code issued is revoked.
    for i in 0..16 {
        if let Some(t) = store
            .token_by_access(SecretHash::of(&format!("ra{i}")))
            .await
            .expect("q")
        {
            assert!(t.revoked, "token {i} survived the replays");
        }
    }
}

async fn tokens_rotate_and_revoke<S: Store>(store: S) {
    store
        .insert_token(token("t1", "a1", Some("r1"), "fam"))
        .await
        .expect("insert");
    let t1 = store
        .token_by_access(SecretHash::of("a1"))
        .await
        .expect("q")
        .expect("found");
    assert_eq!(t1, token("t1", "a1", Some("r1"), "fam"));
    assert_eq!(
        store
            .token_by_refresh(SecretHash::of("r1"))
            .await
            .expect("q"),
        Some(t1)
    );

    // Rotation revokes the old token and stores the new one.
    let rotated = store
        .rotate_refresh(SecretHash::of("r1"), token("t2", "a2", Some("r2"), "fam"))
        .await
        .expect("rotate");
    assert_eq!(rotated, Rotated::Done);
    assert!(
        store
            .token_by_access(SecretHash::of("a1"))
            .await
            .expect("q")
            .expect("old")
            .revoked
    );
    assert!(
        !store
            .token_by_access(SecretHash::of("a2"))
            .await
            .expect("q")
            .expect("new")
            .revoked
    );

    // Reusing the old refresh token is detected; nothing is stored.
    let reused = store
        .rotate_refresh(SecretHash::of("r1"), token("t3", "a3", Some("r3"), "fam"))
        .await
        .expect("rotate");
    assert_eq!(
        reused,
        Rotated::Reused {
            family: "fam".into()
        }
    );
    assert!(
        store
            .token_by_access(SecretHash::of("a3"))
            .await
            .expect("q")
            .is_none()
    );
    assert_eq!(
        store
            .rotate_refresh(SecretHash::of("nope"), token("t4", "a4", None, "x"))
            .await
            .expect("rotate"),
        Rotated::Unknown
    );

    assert_eq!(store.revoke_family("fam").await.expect("revoke"), 1);
    assert!(
        store
            .token_by_access(SecretHash::of("a2"))
            .await
            .expect("q")
            .expect("new")
            .revoked
    );

    store
        .insert_token(token("t5", "a5", None, "other"))
        .await
        .expect("insert");
    assert!(store.revoke_token("t5").await.expect("revoke"));
    assert!(
        !store.revoke_token("t5").await.expect("revoke"),
        "idempotent"
    );

    store
        .insert_token(token("t6", "a6", None, "third"))
        .await
        .expect("insert");
    assert_eq!(
        store
            .revoke_by_code(SecretHash::of("the-code"))
            .await
            .expect("revoke"),
        1
    );
}

async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (SqliteStore::connect(&url).await.expect("connect"), dir)
}

/// Whether the PostgreSQL tests must run (`REQUIRE_POSTGRES=1`).
fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A [`PgStore`] in a schema of its own, dropped by [`TestDb::drop_schema`].
struct TestDb {
    store: PgStore,
    url: String,
    schema: String,
    admin: PgConnection,
}

impl TestDb {
    /// A fresh schema for `test` in the database of `TEST_DATABASE_URL_PG`
    /// and a store in it; `None` (after printing why) if there is no
    /// database to test against and `REQUIRE_POSTGRES` is not `1`.
    async fn create(test: &str) -> Option<Self> {
        let url = match std::env::var("TEST_DATABASE_URL_PG") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert!(
                    !postgres_required(),
                    "{test}: REQUIRE_POSTGRES=1 but TEST_DATABASE_URL_PG is not set"
                );
                println!("SKIPPED {test}: TEST_DATABASE_URL_PG is not set");
                return None;
            }
        };
        let connected =
            tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await;
        let mut admin = match connected {
            Ok(Ok(conn)) => conn,
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer within 5 s".to_owned(),
                };
                assert!(
                    !postgres_required(),
                    "{test}: REQUIRE_POSTGRES=1 but the server of TEST_DATABASE_URL_PG is unreachable: {why}"
                );
                println!(
                    "SKIPPED {test}: the server of TEST_DATABASE_URL_PG is unreachable: {why}"
                );
                return None;
            }
        };
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name: String = test
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(24)
            .collect();
        let schema = format!(
            "conformance_{name}_{}_{}_{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut admin)
            .await
            .expect("create schema");
        let options = PgConnectOptions::from_str(&url)
            .expect("TEST_DATABASE_URL_PG")
            .options([("search_path", &schema)]);
        // Bounded: migrations wait for the database-wide migration lock,
        // which another process may hold.
        let store = tokio::time::timeout(TEST_BOUND, PgStore::connect_with(options))
            .await
            .unwrap_or_else(|_| panic!("{test}: no store within {} s", TEST_BOUND.as_secs()))
            .expect("connect");
        Some(Self {
            store,
            url,
            schema,
            admin,
        })
    }

    /// Closes the store and drops its schema.
    async fn drop_schema(mut self) {
        // Bounded: a test that panicked may leave connections checked out
        // (its tasks are gone, not always their connections), and its
        // failure must be reported, not hang the run.
        let bound = std::time::Duration::from_secs(10);
        let _ = tokio::time::timeout(bound, self.store.pool().close()).await;
        let statement = format!("DROP SCHEMA \"{}\" CASCADE", self.schema);
        let drop = sqlx::query(&statement).execute(&mut self.admin);
        match tokio::time::timeout(bound, drop).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("cannot drop schema {}: {e}", self.schema),
            Err(_) => eprintln!("cannot drop schema {}: timed out", self.schema),
        }
    }

    /// `TEST_DATABASE_URL_PG` with this schema as its `search_path`.
    fn url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.url, self.schema
        )
    }
}

/// Runs `test` against the store of a fresh schema, and the URL of that
/// schema, then drops the schema (whether the test passed or not).
async fn with_postgres<F, Fut>(name: &str, test: F)
where
    F: FnOnce(PgStore, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(db) = TestDb::create(name).await else {
        return;
    };
    let task = tokio::spawn(test(db.store.clone(), db.url()));
    let abort = task.abort_handle();
    // Bounded: a test that waits forever must fail with its name, not hang
    // the run (every step of a healthy test takes well under a second).
    let outcome = tokio::time::timeout(TEST_BOUND, task).await;
    if outcome.is_err() {
        abort.abort();
    }
    db.drop_schema().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(e)) => panic!("{name}: {e}"),
        Err(_) => panic!("{name}: did not finish within {} s", TEST_BOUND.as_secs()),
    }
}

/// The longest a PostgreSQL test may take.
const TEST_BOUND: Duration = Duration::from_secs(120);

/// `future`, or a panic naming `step` if it takes longer than 20 s (a
/// step that hangs fails with its name).
async fn within<T>(step: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .unwrap_or_else(|_| panic!("{step}: no answer within 20 s"))
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(oauth_server::store::MemoryStore::new()).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = super::sqlite().await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::with_postgres(concat!("postgres::", stringify!($name)), |store, _| {
                        super::$name(store)
                    })
                    .await;
                }
            )*
        }
    };
}

/// Whether the authorization request named its redirect URI is kept.
async fn codes_remember_whether_the_redirect_uri_was_sent<S: Store>(store: S) {
    let unnamed = CodeRecord {
        redirect_uri_given: false,
        ..code("unnamed")
    };
    store.insert_code(unnamed.clone()).await.expect("insert");
    store.insert_code(code("named")).await.expect("insert");
    let read = |c: &str| {
        let store = &store;
        let hash = SecretHash::of(c);
        async move { store.code(hash).await.expect("code").expect("stored").0 }
    };
    assert_eq!(read("unnamed").await, unnamed);
    assert!(read("named").await.redirect_uri_given);
}

/// Roles change; sessions live until they expire, at most `max` a user,
/// the newest kept; failed logins count per key within a window.
async fn roles_sessions_and_login_failures<S: Store>(store: S) {
    let alice = store
        .create_user("alice", "x", true)
        .await
        .expect("alice")
        .id;
    let bob = store.create_user("bob", "x", false).await.expect("bob").id;
    assert!(store.set_admin(alice, false).await.expect("demote"));
    assert!(!store.user(alice).await.expect("q").expect("alice").admin);
    assert!(store.set_admin(bob, true).await.expect("promote"));
    assert!(store.user(bob).await.expect("q").expect("bob").admin);
    assert!(!store.set_admin(9999, true).await.expect("nobody"));

    let key = |i: u32| SecretHash::of(&format!("session-{i}"));
    for i in 0..5 {
        store
            .create_session(key(i), alice, 1000 + i64::from(i), 2000, 3)
            .await
            .expect("session");
    }
    // The three newest stay.
    for i in 0..5 {
        let live = store.session(key(i), 1500).await.expect("q");
        assert_eq!(live, (i >= 2).then_some(alice), "session {i}");
    }
    store
        .create_session(key(10), bob, 1000, 2000, 3)
        .await
        .expect("bob's");
    assert_eq!(store.session(key(4), 1999).await.expect("q"), Some(alice));
    assert_eq!(
        store.session(key(4), 2000).await.expect("q"),
        None,
        "expired"
    );
    store.delete_session(key(4)).await.expect("delete");
    assert_eq!(store.session(key(4), 1500).await.expect("q"), None);
    assert_eq!(store.session(key(10), 1500).await.expect("q"), Some(bob));
    // An expired session is dropped when another is created.
    store
        .create_session(key(11), bob, 3000, 4000, 3)
        .await
        .expect("later");
    assert_eq!(store.session(key(10), 1500).await.expect("q"), None);

    let (k1, k2) = ([1u8; 32], [2u8; 32]);
    assert_eq!(store.login_failures(k1, 0).await.expect("q"), 0);
    for n in 1..=3 {
        assert_eq!(
            store
                .record_login_failure(k1, 100, 300)
                .await
                .expect("fail"),
            n
        );
    }
    assert_eq!(
        store
            .record_login_failure(k2, 100, 300)
            .await
            .expect("fail"),
        1
    );
    assert_eq!(store.login_failures(k1, 99).await.expect("q"), 3);
    // The window started at 100: not counted after it.
    assert_eq!(store.login_failures(k1, 100).await.expect("q"), 0);
    store.clear_login_failures(k1).await.expect("clear");
    assert_eq!(store.login_failures(k1, 0).await.expect("q"), 0);
    assert_eq!(store.login_failures(k2, 0).await.expect("q"), 1);
    // A failure after the window ended starts a new one, and drops the
    // rows of ended windows.
    assert_eq!(
        store
            .record_login_failure(k2, 400, 300)
            .await
            .expect("fail"),
        1
    );
    assert_eq!(store.login_failures(k2, 100).await.expect("q"), 1);
}

/// A live token of `user` with the access token `access` (no expiry).
fn live_token(id: &str, access: &str, user: Option<i64>) -> TokenRecord {
    TokenRecord {
        user_id: user,
        expires_at: None,
        code_hash: None,
        ..token(id, access, None, id)
    }
}

/// What the store's validator answers for `access` now.
async fn validate<S: Store>(
    store: &Arc<S>,
    access: &str,
) -> Result<scope_runtime::Principal<scope_hierarchies::MastodonScope>, TokenError> {
    let validator = StoreValidator::new(Arc::clone(store), ScopePolicy::default());
    validator.validate(&BearerToken::new(access)).await
}

/// A disabled user's tokens are refused by the validator while the user is
/// disabled, and accepted again once enabled (nothing is revoked); other
/// users' and apps' tokens are untouched; an unknown user is `false`.
async fn disabled_users_tokens_are_refused<S: Store>(store: S) {
    let store = Arc::new(store);
    assert!(!store.set_disabled(9999, true).await.expect("nobody"));
    assert!(!store.set_disabled(9999, false).await.expect("nobody"));
    let carol = store.create_user("carol", "x", true).await.expect("carol");
    assert!(!carol.disabled, "users start enabled");
    let dave = store
        .create_user("dave", "x", false)
        .await
        .expect("dave")
        .id;
    for t in [
        live_token("tc", "carol-access", Some(carol.id)),
        live_token("td", "dave-access", Some(dave)),
        live_token("ta", "app-access", None),
    ] {
        store.insert_token(t).await.expect("insert");
    }
    for access in ["carol-access", "dave-access", "app-access"] {
        assert!(validate(&store, access).await.is_ok(), "{access}");
    }

    assert!(store.set_disabled(carol.id, true).await.expect("disable"));
    let read = store.user(carol.id).await.expect("q").expect("carol");
    assert!(read.disabled);
    assert!(read.admin, "the role is kept");
    assert!(
        store
            .user_by_name("carol")
            .await
            .expect("q")
            .expect("carol")
            .disabled
    );
    assert!(!store.user(dave).await.expect("q").expect("dave").disabled);
    assert!(
        matches!(
            validate(&store, "carol-access").await,
            Err(TokenError::Invalid)
        ),
        "a disabled user's token"
    );
    assert!(validate(&store, "dave-access").await.is_ok());
    assert!(validate(&store, "app-access").await.is_ok());
    // Disabling is not revocation: the token is as it was.
    let kept = store
        .token_by_access(SecretHash::of("carol-access"))
        .await
        .expect("q")
        .expect("kept");
    assert!(!kept.revoked);
    // Setting the same value again is a change of an existing user.
    assert!(store.set_disabled(carol.id, true).await.expect("again"));

    assert!(store.set_disabled(carol.id, false).await.expect("enable"));
    assert!(
        !store
            .user(carol.id)
            .await
            .expect("q")
            .expect("carol")
            .disabled
    );
    let principal = validate(&store, "carol-access")
        .await
        .expect("enabled again: the token works again");
    assert_eq!(principal.user_id(), Some(carol.id.to_string().as_str()));
}

conformance!(
    codes_remember_whether_the_redirect_uri_was_sent,
    roles_sessions_and_login_failures,
    disabled_users_tokens_are_refused,
    clients_and_users,
    codes_are_single_use,
    lookups_see_every_redemption,
    mixed_concurrent_writes,
    concurrent_consumers_get_one_fresh_code,
    tokens_rotate_and_revoke,
);

#[tokio::test]
async fn sqlite_keeps_no_secret_in_clear_and_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pod.db");
    let url = format!("sqlite://{}", path.display());
    let client_secret = secret::generate().expect("random");
    let access = secret::generate().expect("random");
    let refresh = secret::generate().expect("random");
    {
        let store = SqliteStore::connect(&url).await.expect("connect");
        store
            .create_client(new_client("c1", &client_secret))
            .await
            .expect("client");
        store
            .insert_token(token("t1", &access, Some(&refresh), "fam"))
            .await
            .expect("token");
        store.pool().close().await;
    }
    let mut bytes = std::fs::read(&path).expect("db file");
    if let Ok(wal) = std::fs::read(dir.path().join("pod.db-wal")) {
        bytes.extend(wal);
    }
    for secret in [&client_secret, &access, &refresh] {
        // Only the time-stamp selector may be there, never the random part.
        let random = &secret[secret::SELECTOR_LEN..];
        assert!(
            !bytes.windows(random.len()).any(|w| w == random.as_bytes()),
            "a secret is stored in clear"
        );
    }
    let store = SqliteStore::connect(&url).await.expect("reopen");
    let t = store
        .token_by_access(SecretHash::of(&access))
        .await
        .expect("q")
        .expect("durable");
    assert_eq!(t.id, "t1");
    assert!(
        store
            .client("c1")
            .await
            .expect("q")
            .expect("client")
            .secret_hash
            .matches(&client_secret)
    );
}

#[tokio::test]
async fn sqlite_reports_bad_urls_and_paths() {
    let err = SqliteStore::connect("postgres://nope")
        .await
        .expect_err("not sqlite");
    assert!(err.to_string().contains("invalid SQLite URL"), "{err}");
    let err = SqliteStore::connect("sqlite:///nonexistent-dir/sub/pod.db")
        .await
        .expect_err("no dir");
    assert!(err.to_string().contains("cannot open"), "{err}");
}

#[tokio::test]
async fn memory_store_is_a_store() {
    clients_and_users(MemoryStore::new()).await;
}

/// A failing write does not fail the writes committed with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_isolates_a_failing_write_from_its_batch() {
    let (store, _dir) = sqlite().await;
    store
        .insert_token(token("t0", "dup", None, "f0"))
        .await
        .expect("first");
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                // Every fourth write repeats an existing access hash.
                let access = if i % 4 == 0 {
                    "dup".to_owned()
                } else {
                    format!("ok{i}")
                };
                store
                    .insert_token(token(&format!("t{}", i + 1), &access, None, "f"))
                    .await
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let result = t.await.expect("join");
        if i % 4 == 0 {
            assert!(
                matches!(result, Err(StoreError::Conflict(_))),
                "write {i}: {result:?}"
            );
        } else {
            assert!(
                result.is_ok(),
                "write {i} failed with its batch: {result:?}"
            );
        }
    }
}

/// A stored hash of the wrong length (a corrupt row, or one written before
/// hashes carried the selector) is a backend error, not a panic.
#[tokio::test]
async fn sqlite_reports_a_stored_hash_of_the_wrong_length() {
    let (store, _dir) = sqlite().await;
    sqlx::query(
        "INSERT INTO clients (client_id, secret_hash, name, redirect_uris, scopes, created_at) \
         VALUES ('old', ?, 'old app', 'https://app.example/cb', 'read', 0)",
    )
    .bind([7u8; 32].as_slice())
    .execute(store.pool())
    .await
    .expect("raw insert");
    let err = store.client("old").await.expect_err("32-byte hash");
    assert!(
        matches!(&err, StoreError::Backend(m) if m.contains("secret_hash")),
        "{err:?}"
    );
}

#[tokio::test]
async fn postgres_reports_bad_urls() {
    let err = PgStore::connect("sqlite://pod.db")
        .await
        .expect_err("not postgres");
    assert!(err.to_string().contains("invalid PostgreSQL URL"), "{err}");
    let err = PgStore::connect("postgres://pod:hunter2@[::1/pod")
        .await
        .expect_err("malformed");
    assert!(err.to_string().contains("invalid PostgreSQL URL"), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn postgres_reports_an_unreachable_server_quickly() {
    // Nothing listens on port 1: refused at once.
    let started = Instant::now();
    let err = PgStore::connect("postgresql://pod:hunter2@127.0.0.1:1/pod")
        .await
        .expect_err("nothing listens");
    let message = err.to_string();
    assert!(
        message.contains("cannot connect to PostgreSQL at pod@127.0.0.1:1/pod"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(3), "{message}");

    // A server that accepts and never answers: the connect timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let err = PgStore::connect(&format!("postgres://pod@127.0.0.1:{port}/pod"))
        .await
        .expect_err("silent server");
    assert!(err.to_string().contains("no answer within"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    silent.abort();
}

/// Tokens survive the store (committed before the call returns), a second
/// connect applies no migration twice, and migrations of a pod that this
/// store does not know are tolerated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_reconnecting_next_to_a_pods_migrations() {
    with_postgres(
        "postgres_survives_reconnecting_next_to_a_pods_migrations",
        |_, url| async move {
    let access = secret::generate().expect("random");
    {
        let store = PgStore::connect(&url).await.expect("connect by URL");
        store
            .create_client(new_client("c1", "secret"))
            .await
            .expect("client");
        store
            .insert_token(token("t1", &access, None, "fam"))
            .await
            .expect("token");
        // A pod's own migration, unknown to the store.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (100, 'pod tables', TRUE, decode('00', 'hex'), 0)",
        )
        .execute(store.pool())
        .await
        .expect("pod migration");
        store.pool().close().await;
    }
    let store = PgStore::connect(&url).await.expect("reconnect");
    let t = store
        .token_by_access(SecretHash::of(&access))
        .await
        .expect("q")
        .expect("durable");
    assert_eq!(t.id, "t1");
    assert!(store.client("c1").await.expect("q").is_some());
        },
    )
    .await;
}

/// A stored hash of the wrong length is a backend error, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reports_a_stored_hash_of_the_wrong_length() {
    with_postgres(
        "postgres_reports_a_stored_hash_of_the_wrong_length",
        |store, _| async move {
            sqlx::query(
                "INSERT INTO clients (client_id, secret_hash, name, redirect_uris, scopes, created_at) \
                 VALUES ('old', $1, 'old app', 'https://app.example/cb', 'read', 0)",
            )
            .bind([7u8; 32].as_slice())
            .execute(store.pool())
            .await
            .expect_err("the schema refuses a hash of another length");
            // Without the CHECK (a database altered by hand), reading it
            // is still an error, not a panic.
            sqlx::query("ALTER TABLE clients DROP CONSTRAINT clients_secret_hash_len")
                .execute(store.pool())
                .await
                .expect("drop check");
            sqlx::query(
                "INSERT INTO clients (client_id, secret_hash, name, redirect_uris, scopes, created_at) \
                 VALUES ('old', $1, 'old app', 'https://app.example/cb', 'read', 0)",
            )
            .bind([7u8; 32].as_slice())
            .execute(store.pool())
            .await
            .expect("raw insert");
            let err = store.client("old").await.expect_err("32-byte hash");
            assert!(
                matches!(&err, StoreError::Backend(m) if m.contains("secret_hash")),
                "{err:?}"
            );
        },
    )
    .await;
}

/// Two stores (two pools, as two processes would have) redeeming the same
/// codes and rotating the same refresh tokens at once: one winner each, no
/// errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_stores_race_on_one_database() {
    with_postgres("postgres_two_stores_race_on_one_database", |store, url| async move {
    // The second as if the server defaulted to SERIALIZABLE and to commits
    // that are not durable: the store's sessions override both.
    let url = format!(
        "{}%20-c%20default_transaction_isolation%3Dserializable%20-c%20synchronous_commit%3Doff",
        url
    );
    let other = PgStore::connect(&url).await.expect("second store");
    let settings: (String, String) = sqlx::query_as(
        "SELECT current_setting('default_transaction_isolation'), current_setting('synchronous_commit')",
    )
    .fetch_one(other.pool())
    .await
    .expect("settings");
    assert_eq!(settings, ("read committed".into(), "on".into()));
    let stores = [store, other];
    for i in 0..8 {
        stores[0]
            .insert_code(code(&format!("race{i}")))
            .await
            .expect("insert");
        stores[0]
            .insert_token(TokenRecord {
                code_hash: None,
                ..token(
                    &format!("old{i}"),
                    &format!("oa{i}"),
                    Some(&format!("or{i}")),
                    &format!("f{i}"),
                )
            })
            .await
            .expect("insert");
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        for j in 0..6 {
            let store = stores[j % 2].clone();
            tasks.push(tokio::spawn(async move {
                let c = format!("race{i}");
                let r = store
                    .redeem_code(
                        SecretHash::of(&c),
                        token_of(&c, &format!("r{i}_{j}"), &format!("ra{i}_{j}")),
                    )
                    .await
                    .expect("redeem");
                let new = TokenRecord {
                    code_hash: None,
                    ..token(
                        &format!("n{i}_{j}"),
                        &format!("na{i}_{j}"),
                        Some(&format!("nr{i}_{j}")),
                        &format!("f{i}"),
                    )
                };
                let rot = store
                    .rotate_refresh(SecretHash::of(&format!("or{i}")), new)
                    .await
                    .expect("rotate");
                (i, r, rot)
            }));
        }
    }
    let mut issued = [0; 8];
    let mut rotated = [0; 8];
    for task in tasks {
        let (i, r, rot) = task.await.expect("join");
        match r {
            Redeemed::Issued => issued[i] += 1,
            Redeemed::Replayed => {}
            Redeemed::Unknown => panic!("race{i} unknown"),
        }
        match rot {
            Rotated::Done => rotated[i] += 1,
            Rotated::Reused { family } => assert_eq!(family, format!("f{i}")),
            Rotated::Unknown => panic!("or{i} unknown"),
        }
    }
    assert_eq!(issued, [1; 8], "one redemption of each code wins");
    assert_eq!(rotated, [1; 8], "one rotation of each refresh token wins");
    for i in 0..8 {
        for j in 0..6 {
            if let Some(t) = stores[1]
                .token_by_access(SecretHash::of(&format!("ra{i}_{j}")))
                .await
                .expect("q")
            {
                assert!(t.revoked, "the replays of race{i} revoked its token");
            }
        }
    }
    for store in &stores {
        store.pool().close().await;
    }
    })
    .await;
}

/// The next notice of `feed`, or `None` after `wait`.
async fn notice(feed: &mut RevocationFeed, wait: Duration) -> Option<RevocationNotice> {
    tokio::time::timeout(wait, feed.recv()).await.ok()
}

/// The notice a revocation of `access` sends.
fn revoked(access: &str) -> Option<RevocationNotice> {
    Some(RevocationNotice::AccessToken(
        *SecretHash::of(access).digest(),
    ))
}

/// Every kind of revocation, made through one store, reaches the feed of
/// another (as another process would listen): one notice per token newly
/// revoked, carrying the SHA-256 of its access token, and none for a token
/// that was revoked already.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_revocations_reach_every_listener() {
    with_postgres(
        "postgres_revocations_reach_every_listener",
        |store, url| async move {
            let other = PgStore::connect(&url).await.expect("second store");
            let mut feed = other.revocations().await.expect("listen");
            let wait = Duration::from_secs(5);
            let quiet = Duration::from_millis(300);
            let plain = |id: &str, access: &str, refresh: Option<&str>, family: &str| TokenRecord {
                code_hash: None,
                ..token(id, access, refresh, family)
            };

            // One access token.
            store
                .insert_token(plain("t1", "a1", None, "f1"))
                .await
                .expect("insert");
            assert!(store.revoke_token("t1").await.expect("revoke"));
            assert_eq!(notice(&mut feed, wait).await, revoked("a1"));
            assert!(!store.revoke_token("t1").await.expect("revoke again"));
            assert_eq!(
                notice(&mut feed, quiet).await,
                None,
                "nothing newly revoked"
            );

            // A refresh: the replaced access token.
            store
                .insert_token(plain("t2", "a2", Some("r2"), "f2"))
                .await
                .expect("insert");
            let rotated = store
                .rotate_refresh(SecretHash::of("r2"), plain("t3", "a3", Some("r3"), "f2"))
                .await
                .expect("rotate");
            assert!(matches!(rotated, Rotated::Done));
            assert_eq!(notice(&mut feed, wait).await, revoked("a2"));

            // A family: each live token of it.
            store
                .insert_token(plain("t4", "a4", None, "f2"))
                .await
                .expect("insert");
            assert_eq!(store.revoke_family("f2").await.expect("revoke family"), 2);
            let mut got = vec![notice(&mut feed, wait).await, notice(&mut feed, wait).await];
            let mut want = vec![revoked("a3"), revoked("a4")];
            got.sort_by_key(|n| format!("{n:?}"));
            want.sort_by_key(|n| format!("{n:?}"));
            assert_eq!(got, want);

            // A replayed code: what it issued.
            store.insert_code(code("c5")).await.expect("insert code");
            let first = store
                .redeem_code(SecretHash::of("c5"), token_of("c5", "t5", "a5"))
                .await
                .expect("redeem");
            assert!(matches!(first, Redeemed::Issued));
            let replay = store
                .redeem_code(SecretHash::of("c5"), token_of("c5", "t6", "a6"))
                .await
                .expect("replay");
            assert!(matches!(replay, Redeemed::Replayed));
            assert_eq!(notice(&mut feed, wait).await, revoked("a5"));
            assert_eq!(notice(&mut feed, quiet).await, None);

            // The listening connection dies: the feed says notices may have
            // been missed once it listens again, and hears the next ones.
            // Only this test's listener (its schema's channel): the other
            // tests' feeds run at the same time.
            let killed: i64 = sqlx::query_scalar(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE query LIKE 'LISTEN %' || 'oauth_revocations_' || left(md5(current_schema()), 16) || '%' \
                 AND pid <> pg_backend_pid()",
            )
            .fetch_one(store.pool())
            .await
            .expect("terminate the listener");
            assert!(killed >= 1, "a listening backend");
            assert_eq!(
                notice(&mut feed, wait).await,
                Some(RevocationNotice::Missed)
            );
            let mut listening_again = false;
            for _ in 0..50 {
                match notice(&mut feed, quiet).await {
                    Some(RevocationNotice::Resumed) => listening_again = true,
                    // Deaf a little longer (a reconnection that failed).
                    Some(RevocationNotice::Missed) => {}
                    None if listening_again => break,
                    // Still reconnecting (a cancelled attempt starts over).
                    None => {}
                    other => panic!("{other:?}"),
                }
            }
            assert!(listening_again, "the feed reported listening again");
            store
                .insert_token(plain("t7", "a7", None, "f7"))
                .await
                .expect("insert");
            assert!(store.revoke_token("t7").await.expect("revoke"));
            assert_eq!(notice(&mut feed, wait).await, revoked("a7"));

            // The digest is the key of scope-runtime's validation cache.
            use sha2::Digest;
            let sha: [u8; 32] = sha2::Sha256::digest(b"a1").into();
            assert_eq!(revoked("a1"), Some(RevocationNotice::AccessToken(sha)));
            // The feed holds a connection of the pool: closing waits for it.
            drop(feed);
            within("close the second store", other.pool().close()).await;
        },
    )
    .await;
}

/// Disabling or enabling a user through one store reaches the feed of
/// another (as another process would listen) as a change of grants, and
/// that other store's validator refuses the user's token at once; a
/// change of no user sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_disabling_a_user_reaches_every_listener() {
    with_postgres(
        "postgres_disabling_a_user_reaches_every_listener",
        |store, url| async move {
            let other = Arc::new(
                within("second store", PgStore::connect(&url))
                    .await
                    .expect("second store"),
            );
            let mut feed = within("listen", other.revocations()).await.expect("listen");
            let wait = Duration::from_secs(5);
            let quiet = Duration::from_millis(300);
            let erin = within("create erin", store.create_user("erin", "x", false))
                .await
                .expect("erin")
                .id;
            within(
                "insert erin's token",
                store.insert_token(live_token("te", "erin-access", Some(erin))),
            )
            .await
            .expect("insert");
            assert!(
                within("validate", validate(&other, "erin-access"))
                    .await
                    .is_ok()
            );

            assert!(
                !within("disable nobody", store.set_disabled(9999, true))
                    .await
                    .expect("nobody")
            );
            assert_eq!(notice(&mut feed, quiet).await, None, "no user, no notice");

            assert!(
                within("disable erin", store.set_disabled(erin, true))
                    .await
                    .expect("disable")
            );
            assert_eq!(
                notice(&mut feed, wait).await,
                Some(RevocationNotice::User(erin))
            );
            assert!(matches!(
                within("validate disabled", validate(&other, "erin-access")).await,
                Err(TokenError::Invalid)
            ));

            assert!(
                within("enable erin", store.set_disabled(erin, false))
                    .await
                    .expect("enable")
            );
            assert_eq!(
                notice(&mut feed, wait).await,
                Some(RevocationNotice::User(erin))
            );
            assert!(
                within("validate enabled", validate(&other, "erin-access"))
                    .await
                    .is_ok()
            );
            // The feed holds a connection of the pool: closing waits for it.
            drop(feed);
            within("close the second store", other.pool().close()).await;
        },
    )
    .await;
}

/// A revocation of a family that races rotations of it never leaves a live
/// token behind: rotation and revocation take the family's lock, so the
/// revocation sees every token a rotation committed, or the rotation sees
/// the revocation and fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_family_revocation_wins_over_racing_rotations() {
    with_postgres(
        "postgres_family_revocation_wins_over_racing_rotations",
        |store, url| async move {
            let other = PgStore::connect(&url).await.expect("second store");
            for round in 0..30 {
                let family = format!("race{round}");
                let first = TokenRecord {
                    code_hash: None,
                    ..token(
                        &format!("{family}-0"),
                        &format!("{family}-a0"),
                        Some(&format!("{family}-r0")),
                        &family,
                    )
                };
                store.insert_token(first).await.expect("insert");
                // A chain of rotations on one store while the other revokes
                // the family part-way.
                let rotating = {
                    let store = store.clone();
                    let family = family.clone();
                    tokio::spawn(async move {
                        for step in 1..6 {
                            let new = TokenRecord {
                                code_hash: None,
                                ..token(
                                    &format!("{family}-{step}"),
                                    &format!("{family}-a{step}"),
                                    Some(&format!("{family}-r{step}")),
                                    &family,
                                )
                            };
                            let old = SecretHash::of(&format!("{family}-r{}", step - 1));
                            match store.rotate_refresh(old, new).await.expect("rotate") {
                                Rotated::Done => {}
                                _ => break,
                            }
                        }
                    })
                };
                tokio::time::sleep(Duration::from_millis(round % 7)).await;
                other.revoke_family(&family).await.expect("revoke");
                rotating.await.expect("join");
                let live: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM tokens WHERE family = $1 AND NOT revoked",
                )
                .bind(&family)
                .fetch_one(store.pool())
                .await
                .expect("count");
                assert_eq!(
                    live, 0,
                    "round {round}: a live token survived the revocation"
                );
            }
            within("close the second store", other.pool().close()).await;
        },
    )
    .await;
}

/// A revocation waits at most `lock_timeout` for a family another
/// transaction holds, then fails as a backend error (a 503), not a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_waits_are_bounded() {
    with_postgres(
        "postgres_lock_waits_are_bounded",
        |_store, url| async move {
            let options = PgConnectOptions::from_str(&url).expect("url");
            let settings = PgSettings::default().lock_timeout(Duration::from_millis(200));
            let store = PgStore::connect_configured(options, settings)
                .await
                .expect("store");
            let mut holder = store.pool().begin().await.expect("begin");
            sqlx::query("SELECT pg_advisory_xact_lock(1868657766, hashtext('held'))")
                .execute(&mut *holder)
                .await
                .expect("hold the family's lock");
            let started = Instant::now();
            let err = store.revoke_family("held").await.expect_err("lock timeout");
            assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{:?}",
                started.elapsed()
            );
            holder.rollback().await.expect("rollback");
            assert_eq!(store.revoke_family("held").await.expect("free again"), 0);
            store.pool().close().await;
        },
    )
    .await;
}

/// PostgreSQL's `TEXT` holds no NUL: a lookup with one finds nothing and a
/// write with one is the caller's error ([`StoreError::Invalid`], a 400),
/// not the store's (a 503).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nul_characters_are_bad_input() {
    with_postgres(
        "postgres_nul_characters_are_bad_input",
        |store, _| async move {
            assert!(store.client("app\0").await.expect("lookup").is_none());
            assert!(
                store
                    .user_by_name("al\0ice")
                    .await
                    .expect("lookup")
                    .is_none()
            );
            assert!(!store.revoke_token("t\0").await.expect("revoke"));
            assert_eq!(store.revoke_family("f\0").await.expect("revoke"), 0);
            let err = store
                .create_client(NewClient {
                    name: "bad\0name".into(),
                    ..new_client("nul-app", "s")
                })
                .await
                .expect_err("NUL in a name");
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
            let err = store
                .create_user("nul\0user", "hash", false)
                .await
                .expect_err("NUL in a name");
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        },
    )
    .await;
}

/// Spawns one `insert_token` per token, each a task of its own (so that
/// they reach the store concurrently), while a transaction holds `tokens`
/// locked against inserts: the store's writers block on their first
/// batches and the rest queue up behind them. Releases the lock once every
/// task has had time to queue, and returns each task's result.
async fn insert_behind_a_lock(
    store: &PgStore,
    tokens: Vec<TokenRecord>,
) -> Vec<Result<(), StoreError>> {
    insert_behind_a_lock_held(store, tokens, Duration::from_millis(300))
        .await
        .into_iter()
        .map(|(result, _)| result)
        .collect()
}

/// [`insert_behind_a_lock`], holding the lock for `hold`; with each
/// result, how long its caller waited.
async fn insert_behind_a_lock_held(
    store: &PgStore,
    tokens: Vec<TokenRecord>,
    hold: Duration,
) -> Vec<(Result<(), StoreError>, Duration)> {
    let mut lock = store.pool().begin().await.expect("begin");
    sqlx::query("LOCK TABLE tokens IN SHARE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");
    let store = Arc::new(store.clone());
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let started = Instant::now();
                let access = t.access_hash;
                let stored = store.insert_token(t).await;
                let waited = started.elapsed();
                if stored.is_ok() {
                    // Answered after the commit: another connection sees it.
                    assert!(
                        store
                            .token_by_access(access)
                            .await
                            .expect("lookup")
                            .is_some(),
                        "a token was answered before it was committed"
                    );
                }
                (stored, waited)
            })
        })
        .collect();
    // Not a timing assertion: the outcome must be the same however the
    // tokens fall into batches; this only makes large batches likely.
    tokio::time::sleep(hold).await;
    lock.commit().await.expect("unlock");
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("join"));
    }
    results
}

/// Concurrent new tokens share commits: the rows of one `INSERT` share
/// their transaction id (`xmin`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_group_commits_concurrent_tokens() {
    with_postgres(
        "postgres_group_commits_concurrent_tokens",
        |store, _| async move {
            let tokens = (0..40)
                .map(|i| {
                    token(
                        &format!("g{i}"),
                        &format!("group-{i}"),
                        None,
                        &format!("f{i}"),
                    )
                })
                .collect();
            let results = insert_behind_a_lock(&store, tokens).await;
            assert!(results.iter().all(Result::is_ok), "{results:?}");
            for i in 0..40 {
                let found = store
                    .token_by_access(SecretHash::of(&format!("group-{i}")))
                    .await
                    .expect("lookup")
                    .expect("stored");
                assert_eq!(found.id, format!("g{i}"));
            }
            let commits: i64 = sqlx::query_scalar(
                "SELECT count(DISTINCT xmin::text) FROM tokens WHERE id LIKE 'g%'",
            )
            .fetch_one(store.pool())
            .await
            .expect("count");
            // Two writers, each blocked on one batch, then the rest: a
            // handful of commits, not forty.
            assert!(commits <= 8, "40 tokens took {commits} commits");
        },
    )
    .await;
}

/// A row PostgreSQL refuses (a repeated access hash, a NUL in `TEXT`)
/// fails only its own token, not the batch it was committed with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_group_commit_isolates_a_failing_row() {
    with_postgres(
        "postgres_group_commit_isolates_a_failing_row",
        |store, _| async move {
            store
                .insert_token(token("t0", "dup", None, "f0"))
                .await
                .expect("first");
            let tokens = (0..32)
                .map(|i| match i % 8 {
                    3 => token(&format!("t{}", i + 1), "dup", None, "f"),
                    6 => TokenRecord {
                        client_id: "bad\0client".into(),
                        ..token(&format!("t{}", i + 1), &format!("nul{i}"), None, "f")
                    },
                    _ => token(&format!("t{}", i + 1), &format!("ok{i}"), None, "f"),
                })
                .collect();
            let results = insert_behind_a_lock(&store, tokens).await;
            for (i, result) in results.iter().enumerate() {
                match i % 8 {
                    3 => assert!(
                        matches!(result, Err(StoreError::Conflict(_))),
                        "write {i}: {result:?}"
                    ),
                    6 => assert!(
                        matches!(result, Err(StoreError::Invalid(_))),
                        "write {i}: {result:?}"
                    ),
                    _ => assert!(
                        result.is_ok(),
                        "write {i} failed with its batch: {result:?}"
                    ),
                }
            }
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM tokens")
                .fetch_one(store.pool())
                .await
                .expect("count");
            assert_eq!(stored, 1 + 24, "t0 and every good token");
        },
    )
    .await;
}

/// A store connected, and first used to issue a token, on a runtime that
/// is then left idle (a set-up runtime, or one built only to connect)
/// issues tokens on the runtime that serves: the token writers have a
/// runtime and connections of their own, so none waits on a runtime that
/// no longer runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_issues_tokens_on_another_runtime_than_the_one_that_connected() {
    with_postgres(
        "postgres_issues_tokens_on_another_runtime",
        |_, url| async move {
            let (store, idle) = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let store = runtime.block_on(async {
                    let store = PgStore::connect(&url).await.expect("connect");
                    store
                        .insert_token(token("r0", "set-up", None, "f0"))
                        .await
                        .expect("a token issued during set-up");
                    // Long enough for a connection this runtime used
                    // (were the writers on it) to go back to a pool.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    store
                });
                (store, runtime)
            })
            .join()
            .expect("set-up thread");
            // The set-up runtime is alive but nothing drives it any more.
            let stored = tokio::time::timeout(
                Duration::from_secs(10),
                store.insert_token(token("r1", "runtime", None, "f1")),
            )
            .await;
            assert!(matches!(stored, Ok(Ok(()))), "{stored:?}");
            assert!(
                store
                    .token_by_access(SecretHash::of("runtime"))
                    .await
                    .expect("lookup")
                    .is_some()
            );
            store.pool().close().await;
            idle.shutdown_background();
        },
    )
    .await;
}

/// When every write fails (here: the table is locked past the lock
/// timeout), every queued caller gets an error at the first failure rather
/// than one lock timeout per batch in turn, none hangs, and the writers go
/// on once the database is usable again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_group_commit_fails_every_caller_then_recovers() {
    with_postgres(
        "postgres_group_commit_fails_then_recovers",
        |_store, url| async move {
            let options = PgConnectOptions::from_str(&url).expect("url");
            let lock_timeout = Duration::from_secs(1);
            let settings = PgSettings::default().lock_timeout(lock_timeout);
            let store = PgStore::connect_configured(options, settings)
                .await
                .expect("store");
            // 200 tokens are four batches or more: answered one lock
            // timeout per round of batches, the last would wait 3 s.
            let tokens = (0..200)
                .map(|i| token(&format!("x{i}"), &format!("locked-{i}"), None, "f"))
                .collect();
            let results = tokio::time::timeout(
                Duration::from_secs(60),
                insert_behind_a_lock_held(&store, tokens, Duration::from_secs(5)),
            )
            .await
            .expect("every caller answered");
            for (result, waited) in &results {
                assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
                assert!(
                    *waited < lock_timeout * 2 + lock_timeout / 2,
                    "a caller waited {waited:?}: queued tokens waited out a timeout per batch"
                );
            }
            store
                .insert_token(token("y", "after", None, "f"))
                .await
                .expect("the writers go on");
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM tokens")
                .fetch_one(store.pool())
                .await
                .expect("count");
            assert_eq!(stored, 1, "nothing of the failed batches was stored");
            store.pool().close().await;
        },
    )
    .await;
}

/// A revocation that PostgreSQL aborts to break a deadlock runs again
/// instead of failing: here a transaction holds one of the family's rows
/// while the revocation holds the other, then asks for the revocation's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_revocation_survives_a_deadlock() {
    with_postgres(
        "postgres_revocation_survives_a_deadlock",
        |store, _| async move {
            // PostgreSQL aborts whichever waiter checks for the deadlock
            // first: the revocation, which waited first, unless this test
            // was slow to ask for a (over `deadlock_timeout`, 1 s). Then
            // this transaction is the one aborted: try again.
            for attempt in 0..3 {
                if revocation_meets_a_deadlock(&store, attempt).await {
                    return;
                }
            }
            panic!("the revocation was never the deadlock's victim");
        },
    )
    .await;
}

/// One try of [`postgres_revocation_survives_a_deadlock`]: `false` if this
/// side, not the revocation, was aborted.
async fn revocation_meets_a_deadlock(store: &PgStore, attempt: usize) -> bool {
    let family = format!("fam{attempt}");
    let (a, b) = (format!("a{attempt}"), format!("b{attempt}"));
    for id in [&a, &b] {
        store
            .insert_token(token(id, &format!("deadlock-{id}"), None, &family))
            .await
            .expect("token");
    }
    let mut other = store.pool().begin().await.expect("begin");
    let other_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *other)
        .await
        .expect("pid");
    sqlx::query("UPDATE tokens SET scopes = scopes WHERE id = $1")
        .bind(&b)
        .execute(&mut *other)
        .await
        .expect("hold b");
    let revoking = {
        let (store, family) = (store.clone(), family.clone());
        tokio::spawn(async move { store.revoke_family(&family).await })
    };
    // Wait until the revocation waits for b (having updated a), that is,
    // until a backend is blocked by this transaction.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        )
        .bind(other_pid)
        .fetch_one(store.pool())
        .await
        .expect("pg_locks");
        if waiting > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the revocation never waited for b"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Now ask for a: a cycle.
    let took_a = sqlx::query("UPDATE tokens SET scopes = scopes WHERE id = $1")
        .bind(&a)
        .execute(&mut *other)
        .await;
    match took_a {
        Ok(_) => other.commit().await.expect("commit"),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("40P01") => {
            other.rollback().await.expect("rollback");
            revoking
                .await
                .expect("join")
                .expect("revoked once b was free");
            return false;
        }
        Err(e) => panic!("take a: {e}"),
    }
    let revoked = revoking.await.expect("join");
    assert!(matches!(revoked, Ok(2)), "{revoked:?}");
    for id in [&a, &b] {
        let t = store
            .token_by_access(SecretHash::of(&format!("deadlock-{id}")))
            .await
            .expect("lookup")
            .expect("stored");
        assert!(t.revoked, "{id} revoked");
    }
    true
}

/// A SQLite store opened, and first used, on a runtime that is then left
/// idle and at last shut down keeps issuing tokens on the runtime that
/// serves: its writer has a thread and a runtime of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_issues_tokens_on_another_runtime_than_the_one_that_opened() {
    for memory in [false, true] {
        let (store, dir, idle) = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let (store, dir) = runtime.block_on(async {
                let (store, dir) = if memory {
                    let store = SqliteStore::connect("sqlite::memory:")
                        .await
                        .expect("memory");
                    (store, None)
                } else {
                    let (store, dir) = sqlite().await;
                    (store, Some(dir))
                };
                store
                    .insert_token(token("r0", "set-up", None, "f0"))
                    .await
                    .expect("a token issued during set-up");
                (store, dir)
            });
            (store, dir, runtime)
        })
        .join()
        .expect("set-up thread");
        // Alive but idle first, then gone.
        issue_within_10_s(&store, &format!("idle-{memory}")).await;
        tokio::task::spawn_blocking(move || drop(idle))
            .await
            .expect("shut the set-up runtime down");
        issue_within_10_s(&store, &format!("gone-{memory}")).await;
        drop(dir);
    }
}

/// Issues a token whose id and access token are `access`, and checks it is
/// stored, failing (not hanging) if that takes over 10 s.
async fn issue_within_10_s<S: Store>(store: &S, access: &str) {
    let stored = tokio::time::timeout(
        Duration::from_secs(10),
        store.insert_token(token(access, access, None, "f1")),
    )
    .await;
    assert!(matches!(stored, Ok(Ok(()))), "{access}: {stored:?}");
    assert!(
        store
            .token_by_access(SecretHash::of(access))
            .await
            .expect("lookup")
            .is_some(),
        "{access} stored"
    );
}

/// A TCP proxy to `target` that stops forwarding, for good, the first
/// time a client sends `INSERT INTO tokens` once `armed`: a server that
/// goes silent in the middle of a statement without closing its
/// connections.
async fn silencing_proxy(
    target: std::net::SocketAddr,
) -> (u16, Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::AtomicBool;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        armed: Arc<AtomicBool>,
        silent: Arc<AtomicBool>,
    ) {
        let mut buf = vec![0; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if armed.load(Ordering::Relaxed)
                && buf[..n].windows(18).any(|w| w == b"INSERT INTO tokens")
            {
                silent.store(true, Ordering::Relaxed);
            }
            if silent.load(Ordering::Relaxed) {
                // Hold the connection open, forward nothing more.
                std::future::pending::<()>().await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let armed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&armed);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                continue;
            };
            // Each connection goes silent on its own.
            let silent = Arc::new(AtomicBool::new(false));
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pump(
                client_read,
                server_write,
                Arc::clone(&flag),
                Arc::clone(&silent),
            ));
            tokio::spawn(pump(
                server_read,
                client_write,
                Arc::new(AtomicBool::new(false)),
                silent,
            ));
        }
    });
    (port, armed)
}

/// A server that goes silent in the middle of a batch without closing the
/// connection (a hung host, a dropped route) fails the batch after the
/// statement timeout and the pool's wait, rather than hold every queued
/// caller until the kernel gives up on the socket; the writers then go on
/// with a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_group_commit_gives_up_on_a_silent_server() {
    with_postgres(
        "postgres_group_commit_gives_up_on_a_silent_server",
        |_store, url| async move {
            let options = PgConnectOptions::from_str(&url).expect("url");
            let target = format!("{}:{}", options.get_host(), options.get_port());
            let target = tokio::net::lookup_host(target)
                .await
                .expect("resolve")
                .next()
                .expect("an address");
            let (port, armed) = silencing_proxy(target).await;
            let settings = PgSettings::default().statement_timeout(Duration::from_secs(1));
            let store = PgStore::connect_configured(options.host("127.0.0.1").port(port), settings)
                .await
                .expect("store through the proxy");
            armed.store(true, Ordering::Relaxed);
            let silent = tokio::time::timeout(
                Duration::from_secs(30),
                store.insert_token(token("s1", "silent", None, "f")),
            )
            .await
            .expect("an answer, not a hang");
            assert!(matches!(silent, Err(StoreError::Backend(_))), "{silent:?}");
            armed.store(false, Ordering::Relaxed);
            store
                .insert_token(token("s2", "after", None, "f"))
                .await
                .expect("the writers go on with a new connection");
            store.pool().close().await;
        },
    )
    .await;
}

/// Several instances on one PostgreSQL database are a configuration
/// change: a user who logs in on one instance consents on another with the
/// same cookie (the session is in the store), and failed logins count
/// across instances (so are their limits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions_and_login_limits_span_instances() {
    with_postgres("postgres_sessions_span_instances", |store, url| async move {
        let second = PgStore::connect(&url).await.expect("second instance");
        let a = common::start_with(store, |c| c).await;
        let b = common::serve(second, |c| c, None).await;
        let app = a.register("read", common::REDIRECT).await;
        let authorize = |base: &str| {
            format!(
                "{base}/oauth/authorize?response_type=code&client_id={}&scope=read&redirect_uri={}",
                app.client_id,
                form_urlencoded::byte_serialize(common::REDIRECT.as_bytes()).collect::<String>()
            )
        };
        // Log in on A (it answers with a code and a session cookie).
        let (_, html, cookie) = a.open(&authorize(&a.base), None).await;
        let r = a
            .submit(
                &html,
                &cookie.expect("cookie"),
                &[
                    ("username", common::USER),
                    ("password", common::PASSWORD),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let session = common::set_cookie(&r).expect("session cookie");
        // B knows the session: no password asked, the consent goes through.
        let (status, html, _) = b.open(&authorize(&b.base), Some(&session)).await;
        assert_eq!(status, 200);
        assert!(!html.contains("name=\"password\""), "logged in on B: {html}");
        let r = b.submit(&html, &session, &[("decision", "approve")]).await;
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
        // Failures on A and on B count together.
        let stranger = common::client_from("127.0.0.2");
        let mut statuses = Vec::new();
        for pod in [&a, &b, &a, &b, &a, &b] {
            statuses.push(
                pod.login_from(&stranger, &authorize(&pod.base), common::USER, "wrong")
                    .await,
            );
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    })
    .await;
}

/// The same bad input gets the same answer from both SQL engines: a
/// repeated unique value is a [`StoreError::Conflict`], text no engine can
/// hold (a NUL character) a [`StoreError::Invalid`] and a lookup by such a
/// key finds nothing, a write refused this way changes nothing, and what
/// does not exist is reported as such, not as an error. (The memory store,
/// a test double, checks uniqueness of clients and users only.)
async fn bad_input_gets_one_answer<S: Store>(store: S) {
    fn conflict<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
        assert!(
            matches!(result, Err(StoreError::Conflict(_))),
            "{what}: {result:?}"
        );
    }
    fn invalid<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
        assert!(
            matches!(result, Err(StoreError::Invalid(_))),
            "{what}: {result:?}"
        );
    }

    // Repeated unique values.
    store
        .create_client(new_client("dup-app", "s1"))
        .await
        .expect("first client");
    conflict(
        "a repeated client id",
        store.create_client(new_client("dup-app", "s2")).await,
    );
    store
        .create_user("dup", "hash", false)
        .await
        .expect("first user");
    conflict(
        "a repeated username",
        store.create_user("dup", "hash", false).await,
    );
    store
        .insert_token(token("t1", "acc1", Some("ref1"), "f1"))
        .await
        .expect("first token");
    conflict(
        "a repeated access hash",
        store.insert_token(token("t2", "acc1", None, "f2")).await,
    );
    conflict(
        "a repeated token id",
        store.insert_token(token("t1", "acc2", None, "f2")).await,
    );

    // A redemption whose token repeats an access hash leaves the code
    // unspent; a rotation whose new token does leaves the old one live.
    store.insert_code(code("c1")).await.expect("code");
    conflict(
        "a redemption storing a repeated access hash",
        store
            .redeem_code(SecretHash::of("c1"), token_of("c1", "t3", "acc1"))
            .await,
    );
    let (_, spent) = store
        .code(SecretHash::of("c1"))
        .await
        .expect("lookup")
        .expect("the code");
    assert!(!spent, "a failed redemption spent its code");
    assert_eq!(
        store
            .redeem_code(SecretHash::of("c1"), token_of("c1", "t3", "acc3"))
            .await
            .expect("redeem"),
        Redeemed::Issued
    );
    conflict(
        "a rotation storing a repeated access hash",
        store
            .rotate_refresh(
                SecretHash::of("ref1"),
                token("t4", "acc3", Some("ref4"), "f1"),
            )
            .await,
    );
    let old = store
        .token_by_refresh(SecretHash::of("ref1"))
        .await
        .expect("lookup")
        .expect("the old token");
    assert!(!old.revoked, "a failed rotation revoked the old token");

    // Text holding a NUL: refused on every write, found nowhere.
    invalid(
        "a NUL in a client's name",
        store
            .create_client(NewClient {
                name: "bad\0name".into(),
                ..new_client("nul-app", "s")
            })
            .await,
    );
    invalid(
        "a NUL in a username",
        store.create_user("nul\0user", "hash", false).await,
    );
    invalid(
        "a NUL in a code's redirect URI",
        store
            .insert_code(CodeRecord {
                redirect_uri: "https://app.example/\0".into(),
                ..code("c2")
            })
            .await,
    );
    let nul_token = TokenRecord {
        client_id: "bad\0client".into(),
        ..token("t5", "acc5", Some("ref5"), "f5")
    };
    invalid(
        "a NUL in a token",
        store.insert_token(nul_token.clone()).await,
    );
    store.insert_code(code("c3")).await.expect("code");
    invalid(
        "a NUL in a redeemed token",
        store
            .redeem_code(SecretHash::of("c3"), nul_token.clone())
            .await,
    );
    invalid(
        "a NUL in a rotated token",
        store
            .rotate_refresh(SecretHash::of("ref1"), nul_token)
            .await,
    );
    assert!(store.client("dup-app\0").await.expect("lookup").is_none());
    assert!(store.user_by_name("dup\0").await.expect("lookup").is_none());
    assert!(!store.revoke_token("t1\0").await.expect("revoke"));
    assert_eq!(store.revoke_family("f1\0").await.expect("revoke"), 0);

    // What does not exist.
    assert_eq!(
        store
            .redeem_code(SecretHash::of("no-code"), token_of("no-code", "t6", "acc6"))
            .await
            .expect("redeem"),
        Redeemed::Unknown
    );
    assert_eq!(
        store
            .rotate_refresh(
                SecretHash::of("no-refresh"),
                token("t7", "acc7", Some("ref7"), "f7"),
            )
            .await
            .expect("rotate"),
        Rotated::Unknown
    );
    assert!(!store.revoke_token("no-token").await.expect("revoke"));
    assert_eq!(
        store
            .revoke_by_code(SecretHash::of("no-code"))
            .await
            .expect("revoke"),
        0
    );
    assert!(!store.set_admin(999, true).await.expect("set admin"));
    assert!(!store.set_disabled(999, true).await.expect("set disabled"));
}

/// [`bad_input_gets_one_answer`] on each SQL engine.
mod bad_input {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_answers_bad_input_as_postgres_does() {
        let (store, _dir) = super::sqlite().await;
        super::bad_input_gets_one_answer(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_answers_bad_input_as_sqlite_does() {
        super::with_postgres("bad_input::postgres", |store, _| {
            super::bad_input_gets_one_answer(store)
        })
        .await;
    }
}

/// A token with a hash of another length, written past the store.
const RAW_SHORT_TOKEN: &str = "INSERT INTO tokens (id, access_hash, client_id, scopes, created_at, family) \
     VALUES ('short', $1, 'c1', 'read', 0, 'f')";

/// Both schemas refuse a token hash of another length at once
/// (PostgreSQL's CHECKs; SQLite's triggers of its migration 0003).
mod hash_lengths {
    #[tokio::test]
    async fn sqlite_refuses_a_token_hash_of_the_wrong_length() {
        let (store, _dir) = super::sqlite().await;
        sqlx::query(super::RAW_SHORT_TOKEN)
            .bind([7u8; 32].as_slice())
            .execute(store.pool())
            .await
            .expect_err("a 32-byte access hash");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_refuses_a_token_hash_of_the_wrong_length() {
        super::with_postgres("hash_lengths::postgres", |store, _| async move {
            sqlx::query(super::RAW_SHORT_TOKEN)
                .bind([7u8; 32].as_slice())
                .execute(store.pool())
                .await
                .expect_err("a 32-byte access hash");
        })
        .await;
    }
}
