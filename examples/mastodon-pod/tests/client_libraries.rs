//! Existing client libraries, unmodified, against the pod over a socket.
//!
//! Mastodon.py (`pip install Mastodon.py`) registers an app, exchanges the
//! code (with the extra parameters it sends), reads the instance version and
//! uses the API: `tests/clients/mastodon_py.py`. Where Python or Mastodon.py
//! is missing the test says SKIPPED by name; `.ci/run` installs it and sets
//! `REQUIRE_MASTODON_PY=1`, which turns a missing library into a failure.

use mastodon_pod::MastodonPod;
use pod_kit::testing::{PASSWORD, TestPod, USER};

fn mastodon_py_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import mastodon"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn mastodon_py_works_unmodified() {
    if !mastodon_py_available() {
        assert!(
            std::env::var_os("REQUIRE_MASTODON_PY").is_none(),
            "REQUIRE_MASTODON_PY is set but Mastodon.py cannot be imported"
        );
        eprintln!("SKIPPED mastodon_py_works_unmodified: Mastodon.py is not installed");
        return;
    }
    let pod = TestPod::start::<MastodonPod>(|s| s).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/mastodon_py.py");
    let base = pod.base.clone();
    // A second account, whose statuses reach the first one's list stream.
    let client = pod_kit::testing::TestClient::<MastodonPod>::new(
        pod.database(),
        &pod_kit::Settings::new(&base),
    );
    let friend = client.create_user("friend").await;
    let friends_token = client.user_token(friend, "read write").await;
    let output = tokio::process::Command::new("python3")
        .args([script, &base, USER, PASSWORD, &friends_token])
        .output()
        .await
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(": ok"), "{stdout}");
    println!("{stdout}");
}
