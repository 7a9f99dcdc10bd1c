//! One conformance suite for every `Store`: each test runs against the
//! memory store and against SQLite (a fresh file per test).

use std::sync::Arc;

use oauth_server::primitives::{
    CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, TokenRecord,
};
use oauth_server::secret::{self, SecretHash};
use oauth_server::store::{MemoryStore, SqliteStore};

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
    };
}

conformance!(
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
