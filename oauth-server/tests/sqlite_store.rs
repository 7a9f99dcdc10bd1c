//! SQLite specifics: the group commit's hard paths, with batches forced (a second
//! connection holds the write lock while writes queue up, so they reach the
//! writer as one batch when it lets go), and databases from earlier versions.

use std::time::Duration;

use oauth_server::primitives::{CodeRecord, Redeemed, Store, StoreError, TokenRecord};
use oauth_server::secret::SecretHash;
use oauth_server::store::SqliteStore;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

fn code(code: &str) -> CodeRecord {
    CodeRecord {
        code_hash: SecretHash::of(code),
        client_id: "c1".into(),
        user_id: 1,
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_given: true,
        scopes: "read".into(),
        challenge: None,
        challenge_method: None,
        expires_at: i64::MAX,
    }
}

fn token(id: &str, access: &str, code: Option<&str>) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        access_hash: SecretHash::of(access),
        refresh_hash: None,
        client_id: "c1".into(),
        user_id: Some(1),
        scopes: "read".into(),
        created_at: 1_700_000_000,
        expires_at: None,
        family: id.into(),
        code_hash: code.map(SecretHash::of),
        revoked: false,
    }
}

struct Fixture {
    store: SqliteStore,
    url: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("b.db").display());
    let store = SqliteStore::connect(&url).await.expect("store");
    Fixture {
        store,
        url,
        _dir: dir,
    }
}

/// Holds the database's write lock until dropped with `release`.
async fn lock(url: &str) -> SqliteConnection {
    let mut conn = SqliteConnection::connect(url).await.expect("connect");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .expect("lock");
    conn
}

async fn release(mut conn: SqliteConnection) {
    sqlx::query("COMMIT")
        .execute(&mut conn)
        .await
        .expect("unlock");
}

/// Spawns `f(store)` and gives it time to queue its write, so spawned
/// writes reach the writer in spawn order.
async fn queue<T: Send + 'static, F>(
    store: &SqliteStore,
    f: impl FnOnce(SqliteStore) -> F,
) -> tokio::task::JoinHandle<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
{
    let handle = tokio::spawn(f(store.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    handle
}

#[tokio::test]
async fn a_replay_in_the_same_batch_revokes_the_token_just_issued() {
    let f = fixture().await;
    f.store.insert_code(code("fresh")).await.expect("code");
    f.store.insert_code(code("spent")).await.expect("code");
    let first = f
        .store
        .redeem_code(SecretHash::of("spent"), token("t0", "a0", Some("spent")))
        .await
        .expect("redeem");
    assert_eq!(first, Redeemed::Issued);

    let held = lock(&f.url).await;
    // A first write that waits for the lock, so the next ones batch up.
    let blocker = queue(&f.store, |s| async move {
        s.insert_token(token("t-block", "a-block", None)).await
    })
    .await;
    let win = queue(&f.store, |s| async move {
        s.redeem_code(SecretHash::of("fresh"), token("t1", "a1", Some("fresh")))
            .await
    })
    .await;
    let replay = queue(&f.store, |s| async move {
        s.redeem_code(SecretHash::of("fresh"), token("t2", "a2", Some("fresh")))
            .await
    })
    .await;
    let old_replay = queue(&f.store, |s| async move {
        s.redeem_code(SecretHash::of("spent"), token("t3", "a3", Some("spent")))
            .await
    })
    .await;
    let unknown = queue(&f.store, |s| async move {
        s.redeem_code(SecretHash::of("never"), token("t4", "a4", Some("never")))
            .await
    })
    .await;
    let plain = queue(&f.store, |s| async move {
        s.insert_token(token("t5", "a5", None)).await
    })
    .await;
    release(held).await;

    blocker.await.expect("join").expect("blocker stored");
    assert_eq!(win.await.expect("join").expect("win"), Redeemed::Issued);
    assert_eq!(
        replay.await.expect("join").expect("replay"),
        Redeemed::Replayed
    );
    assert_eq!(
        old_replay.await.expect("join").expect("old"),
        Redeemed::Replayed
    );
    assert_eq!(
        unknown.await.expect("join").expect("unknown"),
        Redeemed::Unknown
    );
    plain.await.expect("join").expect("plain stored");

    let revoked = |access: &'static str| {
        let store = f.store.clone();
        async move {
            store
                .token_by_access(SecretHash::of(access))
                .await
                .expect("lookup")
                .map(|t| t.revoked)
        }
    };
    // The winner's token exists and is revoked by the replay in its batch;
    // the old code's token too; losers stored nothing; the plain token is
    // untouched.
    assert_eq!(revoked("a1").await, Some(true));
    assert_eq!(revoked("a0").await, Some(true));
    assert_eq!(revoked("a2").await, None);
    assert_eq!(revoked("a3").await, None);
    assert_eq!(revoked("a4").await, None);
    assert_eq!(revoked("a5").await, Some(false));
}

#[tokio::test]
async fn a_failing_redemption_fails_alone_and_the_writer_goes_on() {
    let f = fixture().await;
    f.store.insert_code(code("c-a")).await.expect("code");
    f.store.insert_code(code("c-b")).await.expect("code");
    f.store
        .insert_token(token("taken", "a-taken", None))
        .await
        .expect("token");

    let held = lock(&f.url).await;
    let blocker = queue(&f.store, |s| async move {
        s.insert_token(token("t-block", "a-block", None)).await
    })
    .await;
    // Its token reuses an access hash that exists: the script fails.
    let bad = queue(&f.store, |s| async move {
        s.redeem_code(
            SecretHash::of("c-a"),
            token("t-bad", "a-taken", Some("c-a")),
        )
        .await
    })
    .await;
    let good = queue(&f.store, |s| async move {
        s.redeem_code(
            SecretHash::of("c-b"),
            token("t-good", "a-good", Some("c-b")),
        )
        .await
    })
    .await;
    release(held).await;

    blocker.await.expect("join").expect("blocker");
    assert!(matches!(
        bad.await.expect("join"),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(good.await.expect("join").expect("good"), Redeemed::Issued);
    // The failed redemption left its code unspent, and the writer still
    // commits: the code can be redeemed now.
    assert_eq!(
        f.store
            .redeem_code(
                SecretHash::of("c-a"),
                token("t-retry", "a-retry", Some("c-a"))
            )
            .await
            .expect("retry"),
        Redeemed::Issued
    );
}

#[tokio::test]
async fn a_database_with_pre_selector_hashes_is_refused_with_the_remedy() {
    let f = fixture().await;
    sqlx::query(
        "INSERT INTO clients (client_id, secret_hash, name, redirect_uris, scopes, created_at) \
         VALUES ('old', ?, 'old app', 'https://app.example/cb', 'read', 0)",
    )
    .bind([7u8; 32].as_slice())
    .execute(f.store.pool())
    .await
    .expect("raw insert");
    let err = SqliteStore::connect(&f.url)
        .await
        .expect_err("a legacy hash is refused");
    let message = err.to_string();
    assert!(message.contains("1 apps and 0 tokens"), "{message}");
    assert!(message.contains("DELETE FROM clients"), "{message}");
    // Following the remedy opens it again.
    sqlx::query("DELETE FROM clients WHERE length(secret_hash) != 48")
        .execute(f.store.pool())
        .await
        .expect("delete");
    SqliteStore::connect(&f.url).await.expect("reopens");
}
