//! One test (at least) per scope family: real rows through the real
//! router, and the scope each family's routes need.

mod common;

use common::{Pod, expect};
use serde_json::{Value, json};

/// A library with one uploaded track; returns (library uuid, track id).
async fn library_with_track(pod: &Pod, token: &str, privacy: &str, title: &str) -> (String, i64) {
    let reply = pod
        .send(
            "POST",
            "/api/v1/libraries/",
            token,
            json!({"name": format!("{title} library"), "privacy_level": privacy}),
        )
        .await;
    let uuid = expect(&reply, 201)["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    let reply = pod
        .send(
            "POST",
            "/api/v1/uploads/",
            token,
            json!({
                "library": uuid,
                "import_metadata": {"title": title, "artist": format!("{title} artist"), "album": format!("{title} album"), "position": 1},
                "duration": 200,
                "size": 4_000_000,
                "mimetype": "audio/ogg",
            }),
        )
        .await;
    let track = expect(&reply, 201)["track"]["id"]
        .as_i64()
        .expect("track id");
    (uuid, track)
}

async fn profile_needs_read_profile_and_a_user_token(pod: Pod) {
    let me = pod.get("/api/v1/users/me/", Some("alice")).await;
    let body = expect(&me, 200);
    assert_eq!(body["username"], "alice");
    assert_eq!(body["id"], pod.alice);
    expect(&pod.get("/api/v1/users/me/", None).await, 401);
    pod.token("alice-playlists", pod.alice, "read:playlists")
        .await;
    expect(
        &pod.get("/api/v1/users/me/", Some("alice-playlists")).await,
        403,
    );
    pod.token("alice-profile", pod.alice, "read:profile").await;
    expect(
        &pod.get("/api/v1/users/me/", Some("alice-profile")).await,
        200,
    );
    // An app token (client credentials) speaks for no user.
    expect(&pod.get("/api/v1/users/me/", Some("app")).await, 403);
    // Unknown token.
    expect(&pod.get("/api/v1/users/me/", Some("nope")).await, 401);
}

async fn instance_endpoints_are_public_and_report_the_anonymous_policy(pod: Pod) {
    let nodeinfo = pod.get("/api/v1/instance/nodeinfo/2.0/", None).await;
    let body = expect(&nodeinfo, 200);
    assert_eq!(body["version"], "2.0");
    assert_eq!(body["software"]["name"], "funkwhale");
    assert_eq!(body["usage"]["users"]["total"], 2);
    let settings = pod.get("/api/v1/instance/settings/", None).await;
    let auth = |v: &Value| {
        v.as_array()
            .expect("list")
            .iter()
            .find(|p| p["identifier"] == "common__api_authentication_required")
            .expect("preference")["value"]
            .clone()
    };
    assert_eq!(auth(expect(&settings, 200)), json!(true));
    pod.anonymous.set(true);
    let settings = pod.get("/api/v1/instance/settings/", None).await;
    assert_eq!(auth(expect(&settings, 200)), json!(false));
}

async fn libraries_uploads_and_music_browse(pod: Pod) {
    let (uuid, track) = library_with_track(&pod, "alice", "everyone", "Ping").await;
    // Numbers past realistic bounds (their sums must fit a BIGINT): 400.
    for (field, value) in [
        ("duration", 10_000_001_i64),
        ("size", (1_i64 << 40) + 1),
        ("bitrate", i64::MAX),
    ] {
        let mut upload = json!({"library": uuid, "track": track});
        upload[field] = json!(value);
        let reply = pod.send("POST", "/api/v1/uploads/", "alice", upload).await;
        assert!(expect(&reply, 400)[field][0].is_string(), "{field}");
    }
    let reply = pod
        .send(
            "POST",
            "/api/v1/uploads/",
            "alice",
            json!({"library": uuid, "track": track, "duration": 10_000_000, "size": 1_i64 << 40, "bitrate": 10_000_000}),
        )
        .await;
    let upload = expect(&reply, 201)["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    expect(&pod.get("/api/v1/instance/nodeinfo/2.0/", None).await, 200);
    expect(
        &pod.delete(&format!("/api/v1/uploads/{upload}/"), "alice")
            .await,
        204,
    );

    let library = pod
        .get(&format!("/api/v1/libraries/{uuid}/"), Some("alice"))
        .await;
    let body = expect(&library, 200);
    assert_eq!(body["name"], "Ping library");
    assert_eq!(body["uploads_count"], 1);
    assert_eq!(body["size"], 4_000_000);
    assert_eq!(body["actor"]["username"], "alice");

    let tracks = pod.get("/api/v1/tracks/", Some("bob")).await;
    let body = expect(&tracks, 200);
    assert_eq!(body["count"], 1);
    let t = &body["results"][0];
    assert_eq!(t["id"], track);
    assert_eq!(t["title"], "Ping");
    assert_eq!(t["artist"]["name"], "Ping artist");
    assert_eq!(t["album"]["title"], "Ping album");
    assert_eq!(t["position"], 1);
    assert_eq!(t["is_playable"], true);
    assert_eq!(t["uploads"][0]["duration"], 200);

    let one = pod
        .get(&format!("/api/v1/tracks/{track}/"), Some("bob"))
        .await;
    assert_eq!(expect(&one, 200)["title"], "Ping");
    let albums = pod.get("/api/v1/albums/", Some("alice")).await;
    assert_eq!(expect(&albums, 200)["results"][0]["tracks_count"], 1);
    let album_id = albums.json["results"][0]["id"].as_i64().expect("id");
    expect(
        &pod.get(&format!("/api/v1/albums/{album_id}/"), Some("alice"))
            .await,
        200,
    );
    let artists = pod.get("/api/v1/artists/?q=Ping", Some("alice")).await;
    let body = expect(&artists, 200);
    assert_eq!(body["count"], 1);
    let artist_id = body["results"][0]["id"].as_i64().expect("id");
    expect(
        &pod.get(&format!("/api/v1/artists/{artist_id}/"), Some("alice"))
            .await,
        200,
    );
    expect(&pod.get("/api/v1/artists/999/", Some("alice")).await, 404);

    // Uploads are the owner's: bob sees none of alice's.
    let uploads = pod.get("/api/v1/uploads/", Some("alice")).await;
    let body = expect(&uploads, 200);
    assert_eq!(body["count"], 1);
    let upload = body["results"][0]["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    assert_eq!(body["results"][0]["library"], uuid);
    assert_eq!(
        expect(&pod.get("/api/v1/uploads/", Some("bob")).await, 200)["count"],
        0
    );
    expect(
        &pod.get(&format!("/api/v1/uploads/{upload}/"), Some("bob"))
            .await,
        404,
    );
    expect(
        &pod.delete(&format!("/api/v1/uploads/{upload}/"), "bob")
            .await,
        404,
    );
    expect(
        &pod.get(&format!("/api/v1/uploads/{upload}/"), Some("alice"))
            .await,
        200,
    );

    // An upload into someone else's library is refused.
    let reply = pod
        .send(
            "POST",
            "/api/v1/uploads/",
            "bob",
            json!({"library": uuid, "track": track}),
        )
        .await;
    assert!(expect(&reply, 400)["library"].is_array());

    // write:libraries is needed to write, read:libraries to read.
    let reply = pod
        .send(
            "POST",
            "/api/v1/libraries/",
            "alice-read",
            json!({"name": "x"}),
        )
        .await;
    expect(&reply, 403);
    pod.token("alice-playlists", pod.alice, "read:playlists")
        .await;
    expect(
        &pod.get("/api/v1/tracks/", Some("alice-playlists")).await,
        403,
    );

    // Delete: the upload, then the library.
    expect(
        &pod.delete(&format!("/api/v1/uploads/{upload}/"), "alice")
            .await,
        204,
    );
    expect(
        &pod.get(&format!("/api/v1/uploads/{upload}/"), Some("alice"))
            .await,
        404,
    );
    expect(
        &pod.delete(&format!("/api/v1/libraries/{uuid}/"), "bob")
            .await,
        404,
    );
    expect(
        &pod.delete(&format!("/api/v1/libraries/{uuid}/"), "alice")
            .await,
        204,
    );
    expect(
        &pod.get(&format!("/api/v1/libraries/{uuid}/"), Some("alice"))
            .await,
        404,
    );
}

async fn favorites_create_list_remove(pod: Pod) {
    let (_, track) = library_with_track(&pod, "alice", "everyone", "Fav").await;
    let reply = pod
        .send(
            "POST",
            "/api/v1/favorites/tracks/",
            "alice",
            json!({"track": track}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["track"], track);
    let favorite = body["id"].as_i64().expect("id");
    // Twice is the same favorite.
    let again = pod
        .send(
            "POST",
            "/api/v1/favorites/tracks/",
            "alice",
            json!({"track": track}),
        )
        .await;
    assert_eq!(expect(&again, 201)["id"], favorite);

    let list = pod
        .get("/api/v1/favorites/tracks/?scope=me", Some("alice"))
        .await;
    let body = expect(&list, 200);
    assert_eq!(body["count"], 1);
    assert_eq!(body["results"][0]["track"]["id"], track);
    assert_eq!(body["results"][0]["user"]["username"], "alice");
    let all = pod
        .get("/api/v1/favorites/tracks/all/", Some("alice"))
        .await;
    assert_eq!(
        expect(&all, 200)["results"],
        json!([{"id": favorite, "track": track}])
    );
    // Bob sees alice's favorites in the pod-wide list, but has none himself.
    assert_eq!(
        expect(
            &pod.get("/api/v1/favorites/tracks/", Some("bob")).await,
            200
        )["count"],
        1
    );
    assert_eq!(
        expect(
            &pod.get("/api/v1/favorites/tracks/?scope=me", Some("bob"))
                .await,
            200
        )["count"],
        0
    );
    // Bob cannot delete alice's favorite.
    expect(
        &pod.delete(&format!("/api/v1/favorites/tracks/{favorite}/"), "bob")
            .await,
        404,
    );

    // remove/ by track, then nothing is left to remove.
    let reply = pod
        .send(
            "POST",
            "/api/v1/favorites/tracks/remove/",
            "alice",
            json!({"track": track}),
        )
        .await;
    expect(&reply, 204);
    let reply = pod
        .send(
            "DELETE",
            "/api/v1/favorites/tracks/remove/",
            "alice",
            json!({"track": track}),
        )
        .await;
    expect(&reply, 404);
    assert_eq!(
        expect(
            &pod.get("/api/v1/favorites/tracks/all/", Some("alice"))
                .await,
            200
        )["count"],
        0
    );

    // Delete by id.
    let reply = pod
        .send(
            "POST",
            "/api/v1/favorites/tracks/",
            "alice",
            json!({"track": track}),
        )
        .await;
    let id = expect(&reply, 201)["id"].as_i64().expect("id");
    expect(
        &pod.delete(&format!("/api/v1/favorites/tracks/{id}/"), "alice")
            .await,
        204,
    );

    // Unknown track: a field error.
    let reply = pod
        .send(
            "POST",
            "/api/v1/favorites/tracks/",
            "alice",
            json!({"track": 9999}),
        )
        .await;
    assert!(
        expect(&reply, 400)["track"][0]
            .as_str()
            .expect("msg")
            .contains("9999")
    );
    // read-only token cannot favorite.
    let reply = pod
        .send(
            "POST",
            "/api/v1/favorites/tracks/",
            "alice-read",
            json!({"track": track}),
        )
        .await;
    expect(&reply, 403);
}

async fn anonymous_access_follows_the_setting(pod: Pod) {
    let (_, track) = library_with_track(&pod, "alice", "everyone", "Anon").await;
    pod.send(
        "POST",
        "/api/v1/favorites/tracks/",
        "alice",
        json!({"track": track}),
    )
    .await;
    // Denied by default (Funkwhale's api_authentication_required).
    expect(&pod.get("/api/v1/tracks/", None).await, 401);
    expect(&pod.get("/api/v1/playlists/", None).await, 401);
    pod.anonymous.set(true);
    assert_eq!(
        expect(&pod.get("/api/v1/tracks/", None).await, 200)["count"],
        1
    );
    // Favorites are visible to the pod's users, not to anonymous callers.
    assert_eq!(
        expect(&pod.get("/api/v1/favorites/tracks/", None).await, 200)["count"],
        0
    );
    // Writes always need a token; personal data too.
    let reply = pod
        .raw(
            "POST",
            "/api/v1/playlists/",
            None,
            Some("application/json"),
            r#"{"name":"x"}"#,
        )
        .await;
    expect(&reply, 401);
    expect(
        &pod.get("/api/v1/moderation/content-filters/", None).await,
        401,
    );
    expect(&pod.get("/api/v1/users/me/", None).await, 401);
}

async fn listenings_record_and_list(pod: Pod) {
    let (_, track) = library_with_track(&pod, "alice", "everyone", "Listen").await;
    let reply = pod
        .send(
            "POST",
            "/api/v1/history/listenings/",
            "alice",
            json!({"track": track}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["track"], track);
    let id = body["id"].as_i64().expect("id");
    pod.send(
        "POST",
        "/api/v1/history/listenings/",
        "alice",
        json!({"track": track}),
    )
    .await;
    let list = pod
        .get("/api/v1/history/listenings/?scope=me", Some("alice"))
        .await;
    let body = expect(&list, 200);
    assert_eq!(body["count"], 2);
    assert_eq!(body["results"][1]["id"], id);
    let one = pod
        .get(&format!("/api/v1/history/listenings/{id}/"), Some("alice"))
        .await;
    assert_eq!(expect(&one, 200)["track"]["title"], "Listen");
    pod.token("alice-fav", pod.alice, "read:favorites write:favorites")
        .await;
    let reply = pod
        .send(
            "POST",
            "/api/v1/history/listenings/",
            "alice-fav",
            json!({"track": track}),
        )
        .await;
    expect(&reply, 403);
    expect(
        &pod.get("/api/v1/history/listenings/", Some("alice-fav"))
            .await,
        403,
    );
}

async fn library_follows_and_notifications(pod: Pod) {
    let (public, _) = library_with_track(&pod, "alice", "everyone", "Open").await;
    let (instance, _) = library_with_track(&pod, "alice", "instance", "Closed").await;

    // A public library accepts at once.
    let reply = pod
        .send(
            "POST",
            "/api/v1/federation/follows/library/",
            "bob",
            json!({"target": public}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["approved"], true);
    assert_eq!(body["target"]["uuid"], public);
    let open_follow = body["uuid"].as_str().expect("uuid").to_owned();
    // Twice: refused.
    let reply = pod
        .send(
            "POST",
            "/api/v1/federation/follows/library/",
            "bob",
            json!({"target": public}),
        )
        .await;
    expect(&reply, 400);
    // One's own library: refused.
    let reply = pod
        .send(
            "POST",
            "/api/v1/federation/follows/library/",
            "alice",
            json!({"target": public}),
        )
        .await;
    expect(&reply, 400);

    // Another waits for its owner.
    let reply = pod
        .send(
            "POST",
            "/api/v1/federation/follows/library/",
            "bob",
            json!({"target": instance}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["approved"], Value::Null);
    let pending = body["uuid"].as_str().expect("uuid").to_owned();

    let all = pod
        .get("/api/v1/federation/follows/library/all/", Some("bob"))
        .await;
    assert_eq!(expect(&all, 200)["count"], 2);
    let list = pod
        .get(
            "/api/v1/federation/follows/library/?approved=true",
            Some("bob"),
        )
        .await;
    assert_eq!(expect(&list, 200)["count"], 1);
    // Follows are their follower's: alice cannot read bob's.
    expect(
        &pod.get(
            &format!("/api/v1/federation/follows/library/{pending}/"),
            Some("alice"),
        )
        .await,
        404,
    );
    expect(
        &pod.get(
            &format!("/api/v1/federation/follows/library/{pending}/"),
            Some("bob"),
        )
        .await,
        200,
    );
    // The library owner sees the follows of her library.
    let follows = pod
        .get(
            &format!("/api/v1/libraries/{instance}/follows/"),
            Some("alice"),
        )
        .await;
    assert_eq!(expect(&follows, 200)["count"], 1);
    expect(
        &pod.get(
            &format!("/api/v1/libraries/{instance}/follows/"),
            Some("bob"),
        )
        .await,
        404,
    );

    // Only the owner decides.
    expect(
        &pod.send(
            "POST",
            &format!("/api/v1/federation/follows/library/{pending}/accept/"),
            "bob",
            json!({}),
        )
        .await,
        404,
    );
    expect(
        &pod.send(
            "POST",
            &format!("/api/v1/federation/follows/library/{pending}/accept/"),
            "alice",
            json!({}),
        )
        .await,
        204,
    );
    let follow = pod
        .get(
            &format!("/api/v1/federation/follows/library/{pending}/"),
            Some("bob"),
        )
        .await;
    assert_eq!(expect(&follow, 200)["approved"], true);

    // Notifications: alice was told of two follows, bob of one acceptance.
    let inbox = pod.get("/api/v1/federation/inbox/", Some("alice")).await;
    let body = expect(&inbox, 200);
    assert_eq!(body["count"], 2);
    assert_eq!(body["results"][0]["activity"]["type"], "Follow");
    assert_eq!(body["results"][0]["is_read"], false);
    let item = body["results"][0]["id"].as_i64().expect("id");
    let bob_inbox = pod.get("/api/v1/federation/inbox/", Some("bob")).await;
    let body = expect(&bob_inbox, 200);
    assert_eq!(body["count"], 1);
    assert_eq!(body["results"][0]["activity"]["type"], "Accept");
    // Items are their user's.
    expect(
        &pod.get(&format!("/api/v1/federation/inbox/{item}/"), Some("bob"))
            .await,
        404,
    );
    let reply = pod
        .send(
            "PATCH",
            &format!("/api/v1/federation/inbox/{item}/"),
            "bob",
            json!({"is_read": true}),
        )
        .await;
    expect(&reply, 404);
    let reply = pod
        .send(
            "PATCH",
            &format!("/api/v1/federation/inbox/{item}/"),
            "alice",
            json!({"is_read": true}),
        )
        .await;
    assert_eq!(expect(&reply, 200)["is_read"], true);
    let unread = pod
        .get("/api/v1/federation/inbox/?is_read=false", Some("alice"))
        .await;
    assert_eq!(expect(&unread, 200)["count"], 1);
    let reply = pod
        .send(
            "POST",
            "/api/v1/federation/inbox/action/",
            "alice",
            json!({"action": "read", "objects": "all"}),
        )
        .await;
    assert_eq!(expect(&reply, 200)["updated"], 1);
    let unread = pod
        .get("/api/v1/federation/inbox/?is_read=false", Some("alice"))
        .await;
    assert_eq!(expect(&unread, 200)["count"], 0);
    let reply = pod
        .send(
            "POST",
            "/api/v1/federation/inbox/action/",
            "alice",
            json!({"action": "explode", "objects": "all"}),
        )
        .await;
    assert!(expect(&reply, 400)["action"].is_array());
    // read:notifications is needed.
    pod.token("alice-follows", pod.alice, "read:follows write:follows")
        .await;
    expect(
        &pod.get("/api/v1/federation/inbox/", Some("alice-follows"))
            .await,
        403,
    );

    // Reject, then unfollow.
    expect(
        &pod.send(
            "POST",
            &format!("/api/v1/federation/follows/library/{open_follow}/reject/"),
            "alice",
            json!({}),
        )
        .await,
        204,
    );
    let follow = pod
        .get(
            &format!("/api/v1/federation/follows/library/{open_follow}/"),
            Some("bob"),
        )
        .await;
    assert_eq!(expect(&follow, 200)["approved"], false);
    expect(
        &pod.delete(
            &format!("/api/v1/federation/follows/library/{open_follow}/"),
            "alice",
        )
        .await,
        404,
    );
    expect(
        &pod.delete(
            &format!("/api/v1/federation/follows/library/{open_follow}/"),
            "bob",
        )
        .await,
        204,
    );
    let all = pod
        .get("/api/v1/federation/follows/library/all/", Some("bob"))
        .await;
    assert_eq!(expect(&all, 200)["count"], 1);
}

async fn playlists_crud_and_track_operations(pod: Pod) {
    let (_, a) = library_with_track(&pod, "alice", "everyone", "A").await;
    let (_, b) = library_with_track(&pod, "alice", "everyone", "B").await;
    let (_, c) = library_with_track(&pod, "alice", "everyone", "C").await;

    let reply = pod
        .send(
            "POST",
            "/api/v1/playlists/",
            "alice",
            json!({"name": "Mix", "privacy_level": "instance"}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["name"], "Mix");
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["tracks_count"], 0);
    let id = body["id"].as_i64().expect("id");
    let base = format!("/api/v1/playlists/{id}/");

    let reply = pod
        .send(
            "POST",
            &format!("{base}add/"),
            "alice",
            json!({"tracks": [a, b, c]}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["count"], 3);
    assert_eq!(body["results"][2]["index"], 2);
    let playlist = pod.get(&base, Some("alice")).await;
    let body = expect(&playlist, 200);
    assert_eq!(body["tracks_count"], 3);
    assert_eq!(body["duration"], 600);
    assert_eq!(body["is_playable"], true);

    // Duplicates when refused.
    let reply = pod
        .send(
            "POST",
            &format!("{base}add/"),
            "alice",
            json!({"tracks": [a], "allow_duplicates": false}),
        )
        .await;
    expect(&reply, 400);

    let order = |v: &Value| -> Vec<i64> {
        v["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|e| e["track"]["id"].as_i64().expect("id"))
            .collect()
    };
    // Move c to the front: c a b.
    let reply = pod
        .send(
            "POST",
            &format!("{base}move/"),
            "alice",
            json!({"from": 2, "to": 0}),
        )
        .await;
    expect(&reply, 204);
    let tracks = pod.get(&format!("{base}tracks/"), Some("alice")).await;
    assert_eq!(order(expect(&tracks, 200)), vec![c, a, b]);
    // Remove index 1 (a): c b.
    let reply = pod
        .send(
            "POST",
            &format!("{base}remove/"),
            "alice",
            json!({"index": 1}),
        )
        .await;
    expect(&reply, 204);
    let tracks = pod.get(&format!("{base}tracks/"), Some("alice")).await;
    let body = expect(&tracks, 200);
    assert_eq!(order(body), vec![c, b]);
    assert_eq!(body["results"][1]["index"], 1);
    let reply = pod
        .send(
            "DELETE",
            &format!("{base}remove/"),
            "alice",
            json!({"index": 7}),
        )
        .await;
    expect(&reply, 404);

    // Update: PATCH partial, PUT full.
    let reply = pod
        .send("PATCH", &base, "alice", json!({"privacy_level": "me"}))
        .await;
    let body = expect(&reply, 200);
    assert_eq!(body["privacy_level"], "me");
    assert_eq!(body["name"], "Mix");
    let reply = pod
        .send("PUT", &base, "alice", json!({"privacy_level": "me"}))
        .await;
    assert_eq!(
        expect(&reply, 400)["name"],
        json!(["This field is required."])
    );
    let reply = pod
        .send(
            "PUT",
            &base,
            "alice",
            json!({"name": "Mix 2", "privacy_level": "everyone"}),
        )
        .await;
    assert_eq!(expect(&reply, 200)["name"], "Mix 2");

    // Clear, then delete.
    expect(&pod.delete(&format!("{base}clear/"), "alice").await, 204);
    let playlist = pod.get(&base, Some("alice")).await;
    assert_eq!(expect(&playlist, 200)["tracks_count"], 0);
    expect(&pod.delete(&base, "alice").await, 204);
    expect(&pod.get(&base, Some("alice")).await, 404);

    // write:playlists is needed.
    let reply = pod
        .send(
            "POST",
            "/api/v1/playlists/",
            "alice-read",
            json!({"name": "x"}),
        )
        .await;
    expect(&reply, 403);
}

async fn radios_select_tracks_by_artist(pod: Pod) {
    let (_, one) = library_with_track(&pod, "alice", "everyone", "One").await;
    library_with_track(&pod, "alice", "everyone", "Two").await;
    let artist = expect(
        &pod.get(&format!("/api/v1/tracks/{one}/"), Some("alice"))
            .await,
        200,
    )["artist"]["id"]
        .as_i64()
        .expect("artist");

    let reply = pod
        .send(
            "POST",
            "/api/v1/radios/radios/",
            "alice",
            json!({"name": "Only one", "is_public": false, "config": [{"type": "artist", "ids": [artist]}]}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["is_public"], false);
    let id = body["id"].as_i64().expect("id");
    let tracks = pod
        .get(
            &format!("/api/v1/radios/radios/{id}/tracks/"),
            Some("alice"),
        )
        .await;
    let body = expect(&tracks, 200);
    assert_eq!(body["count"], 1);
    assert_eq!(body["results"][0]["id"], one);
    // Negated: every other track.
    let reply = pod
        .send(
            "PATCH",
            &format!("/api/v1/radios/radios/{id}/"),
            "alice",
            json!({"config": [{"type": "artist", "ids": [artist], "not": true}]}),
        )
        .await;
    expect(&reply, 200);
    let tracks = pod
        .get(
            &format!("/api/v1/radios/radios/{id}/tracks/"),
            Some("alice"),
        )
        .await;
    assert_eq!(expect(&tracks, 200)["results"][0]["title"], "Two");
    // Empty `ids`: nothing; negated, everything.
    for (not, count) in [(false, 0), (true, 2)] {
        let reply = pod
            .send(
                "PATCH",
                &format!("/api/v1/radios/radios/{id}/"),
                "alice",
                json!({"config": [{"type": "artist", "ids": [], "not": not}]}),
            )
            .await;
        expect(&reply, 200);
        let tracks = pod
            .get(
                &format!("/api/v1/radios/radios/{id}/tracks/"),
                Some("alice"),
            )
            .await;
        assert_eq!(expect(&tracks, 200)["count"], count, "not: {not}");
    }
    let reply = pod
        .send(
            "POST",
            "/api/v1/radios/radios/validate/",
            "alice",
            json!({"filters": [{"type": "artist", "ids": []}]}),
        )
        .await;
    assert_eq!(expect(&reply, 200)["filters"][0]["candidates"]["count"], 0);

    // A private radio is its owner's.
    expect(
        &pod.get(&format!("/api/v1/radios/radios/{id}/"), Some("bob"))
            .await,
        404,
    );
    assert_eq!(
        expect(&pod.get("/api/v1/radios/radios/", Some("bob")).await, 200)["count"],
        0
    );
    assert_eq!(
        expect(&pod.get("/api/v1/radios/radios/", Some("alice")).await, 200)["count"],
        1
    );

    // Bad configs.
    let reply = pod
        .send(
            "POST",
            "/api/v1/radios/radios/",
            "alice",
            json!({"name": "x", "config": [{"type": "weather"}]}),
        )
        .await;
    assert!(expect(&reply, 400)["config"].is_array());
    let reply = pod
        .send(
            "POST",
            "/api/v1/radios/radios/",
            "alice",
            json!({"name": "x", "config": "all"}),
        )
        .await;
    expect(&reply, 400);
    let reply = pod
        .send(
            "POST",
            "/api/v1/radios/radios/validate/",
            "alice",
            json!({"filters": [{"type": "artist", "ids": [artist]}, {"type": "nope"}]}),
        )
        .await;
    let body = expect(&reply, 200);
    assert_eq!(body["filters"][0]["candidates"]["count"], 1);
    assert!(
        !body["filters"][1]["errors"]
            .as_array()
            .expect("errors")
            .is_empty()
    );
    expect(
        &pod.get("/api/v1/radios/radios/filters/", Some("alice"))
            .await,
        200,
    );

    expect(
        &pod.delete(&format!("/api/v1/radios/radios/{id}/"), "bob")
            .await,
        404,
    );
    expect(
        &pod.delete(&format!("/api/v1/radios/radios/{id}/"), "alice")
            .await,
        204,
    );
    pod.token("alice-playlists", pod.alice, "read:playlists")
        .await;
    expect(
        &pod.get("/api/v1/radios/radios/", Some("alice-playlists"))
            .await,
        403,
    );
}

async fn content_filters_hide_artists_for_their_owner(pod: Pod) {
    let (_, track) = library_with_track(&pod, "alice", "everyone", "Loud").await;
    library_with_track(&pod, "alice", "everyone", "Quiet").await;
    let artist = expect(
        &pod.get(&format!("/api/v1/tracks/{track}/"), Some("alice"))
            .await,
        200,
    )["artist"]["id"]
        .as_i64()
        .expect("artist");

    let reply = pod
        .send(
            "POST",
            "/api/v1/moderation/content-filters/",
            "alice",
            json!({"target": {"type": "artist", "id": artist}}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["target"]["name"], "Loud artist");
    let uuid = body["uuid"].as_str().expect("uuid").to_owned();
    let again = pod
        .send(
            "POST",
            "/api/v1/moderation/content-filters/",
            "alice",
            json!({"target": {"type": "artist", "id": artist}}),
        )
        .await;
    expect(&again, 400);

    // Hidden from alice's lists, not from bob's.
    assert_eq!(
        expect(&pod.get("/api/v1/tracks/", Some("alice")).await, 200)["count"],
        1
    );
    assert_eq!(
        expect(&pod.get("/api/v1/artists/", Some("alice")).await, 200)["count"],
        1
    );
    assert_eq!(
        expect(&pod.get("/api/v1/albums/", Some("alice")).await, 200)["count"],
        1
    );
    assert_eq!(
        expect(&pod.get("/api/v1/tracks/", Some("bob")).await, 200)["count"],
        2
    );

    let list = pod
        .get("/api/v1/moderation/content-filters/", Some("alice"))
        .await;
    assert_eq!(expect(&list, 200)["count"], 1);
    assert_eq!(
        expect(
            &pod.get("/api/v1/moderation/content-filters/", Some("bob"))
                .await,
            200
        )["count"],
        0
    );
    expect(
        &pod.get(
            &format!("/api/v1/moderation/content-filters/{uuid}/"),
            Some("bob"),
        )
        .await,
        404,
    );
    expect(
        &pod.delete(
            &format!("/api/v1/moderation/content-filters/{uuid}/"),
            "bob",
        )
        .await,
        404,
    );
    expect(
        &pod.get(
            &format!("/api/v1/moderation/content-filters/{uuid}/"),
            Some("alice"),
        )
        .await,
        200,
    );
    expect(
        &pod.delete(
            &format!("/api/v1/moderation/content-filters/{uuid}/"),
            "alice",
        )
        .await,
        204,
    );
    assert_eq!(
        expect(&pod.get("/api/v1/tracks/", Some("alice")).await, 200)["count"],
        2
    );

    let reply = pod
        .send(
            "POST",
            "/api/v1/moderation/content-filters/",
            "alice",
            json!({"target": {"type": "artist", "id": 999}}),
        )
        .await;
    expect(&reply, 400);
    let reply = pod
        .send(
            "POST",
            "/api/v1/moderation/content-filters/",
            "alice-read",
            json!({"target": {"type": "artist", "id": artist}}),
        )
        .await;
    expect(&reply, 403);
}

async fn edits_are_suggested_then_approved_by_the_owner(pod: Pod) {
    let (_, track) = library_with_track(&pod, "alice", "everyone", "Typo").await;

    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/tracks/{track}/mutations/"),
            "bob",
            json!({"type": "update", "payload": {"title": "Fixed"}, "summary": "spelling"}),
        )
        .await;
    let body = expect(&reply, 201);
    assert_eq!(body["is_approved"], Value::Null);
    assert_eq!(body["created_by"]["username"], "bob");
    assert_eq!(
        body["target"],
        json!({"type": "track", "id": track, "repr": "Typo"})
    );
    let uuid = body["uuid"].as_str().expect("uuid").to_owned();

    // Bob may not approve his edit of alice's track, nor apply it directly.
    expect(
        &pod.send(
            "POST",
            &format!("/api/v1/mutations/{uuid}/approve/"),
            "bob",
            json!({}),
        )
        .await,
        403,
    );
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/tracks/{track}/mutations/"),
            "bob",
            json!({"type": "update", "payload": {"title": "Mine"}, "is_approved": true}),
        )
        .await;
    expect(&reply, 403);

    let listed = pod
        .get(&format!("/api/v1/tracks/{track}/mutations/"), Some("alice"))
        .await;
    assert_eq!(expect(&listed, 200)["count"], 1);
    let mine = pod.get("/api/v1/mutations/", Some("alice")).await;
    assert_eq!(expect(&mine, 200)["count"], 1);
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/mutations/{uuid}/approve/"),
            "alice",
            json!({}),
        )
        .await;
    let body = expect(&reply, 200);
    assert_eq!(body["is_approved"], true);
    assert_eq!(body["is_applied"], true);
    assert_eq!(body["previous_state"]["title"]["value"], "Typo");
    let t = pod
        .get(&format!("/api/v1/tracks/{track}/"), Some("bob"))
        .await;
    assert_eq!(expect(&t, 200)["title"], "Fixed");
    // Decided once.
    expect(
        &pod.send(
            "POST",
            &format!("/api/v1/mutations/{uuid}/reject/"),
            "alice",
            json!({}),
        )
        .await,
        400,
    );
    // Applied edits cannot be withdrawn.
    expect(
        &pod.delete(&format!("/api/v1/mutations/{uuid}/"), "bob")
            .await,
        400,
    );

    // Alice's own edit of her album applies at once.
    let album = t.json["album"]["id"].as_i64().expect("album");
    let reply = pod
        .send("POST", &format!("/api/v1/albums/{album}/mutations/"), "alice", json!({"type": "update", "payload": {"release_date": "2020-02-02"}, "is_approved": true}))
        .await;
    assert_eq!(expect(&reply, 201)["is_applied"], true);
    let a = pod
        .get(&format!("/api/v1/albums/{album}/"), Some("alice"))
        .await;
    assert_eq!(expect(&a, 200)["release_date"], "2020-02-02");

    // A rejected and a withdrawn edit.
    let artist = t.json["artist"]["id"].as_i64().expect("artist");
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/artists/{artist}/mutations/"),
            "bob",
            json!({"type": "update", "payload": {"name": "Other"}}),
        )
        .await;
    let rejected = expect(&reply, 201)["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/mutations/{rejected}/reject/"),
            "alice",
            json!({}),
        )
        .await;
    assert_eq!(expect(&reply, 200)["is_approved"], false);
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/artists/{artist}/mutations/"),
            "bob",
            json!({"type": "update", "payload": {"name": "Again"}}),
        )
        .await;
    let withdrawn = expect(&reply, 201)["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    expect(
        &pod.delete(&format!("/api/v1/mutations/{withdrawn}/"), "alice")
            .await,
        403,
    );
    expect(
        &pod.delete(&format!("/api/v1/mutations/{withdrawn}/"), "bob")
            .await,
        204,
    );
    expect(
        &pod.get(&format!("/api/v1/mutations/{withdrawn}/"), Some("bob"))
            .await,
        404,
    );
    let artist_json = pod
        .get(&format!("/api/v1/artists/{artist}/"), Some("alice"))
        .await;
    assert_eq!(expect(&artist_json, 200)["name"], "Typo artist");

    // Bad payloads.
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/tracks/{track}/mutations/"),
            "bob",
            json!({"type": "update", "payload": {"colour": "red"}}),
        )
        .await;
    assert!(expect(&reply, 400)["payload"].is_array());
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/tracks/{track}/mutations/"),
            "bob",
            json!({"payload": {"title": "x"}}),
        )
        .await;
    assert_eq!(
        expect(&reply, 400)["type"],
        json!(["This field is required."])
    );
    // write:edits is needed.
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/tracks/{track}/mutations/"),
            "alice-read",
            json!({"type": "update", "payload": {"title": "x"}}),
        )
        .await;
    expect(&reply, 403);
}

/// Concurrent adds to one playlist each get their own index (the playlist
/// row lock serializes them on PostgreSQL).
async fn concurrent_playlist_adds_get_distinct_indexes(pod: Pod) {
    let (_, track) = library_with_track(&pod, "alice", "everyone", "A").await;
    let reply = pod
        .send(
            "POST",
            "/api/v1/playlists/",
            "alice",
            json!({"name": "Race"}),
        )
        .await;
    let id = expect(&reply, 201)["id"].as_i64().expect("id");
    let path = format!("/api/v1/playlists/{id}/add/");
    let add = || pod.send("POST", &path, "alice", json!({"tracks": [track]}));
    let replies = tokio::join!(add(), add(), add(), add(), add(), add(), add(), add());
    for reply in [
        replies.0, replies.1, replies.2, replies.3, replies.4, replies.5, replies.6, replies.7,
    ] {
        expect(&reply, 201);
    }
    let indexes: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(idx AS BIGINT) FROM fw_playlist_tracks WHERE playlist_id = $1 ORDER BY idx",
    )
    .bind(id)
    .fetch_all(&pod.db)
    .await
    .expect("indexes");
    assert_eq!(indexes, (0..8).collect::<Vec<i64>>());
}

both_engines!(
    profile_needs_read_profile_and_a_user_token,
    instance_endpoints_are_public_and_report_the_anonymous_policy,
    libraries_uploads_and_music_browse,
    favorites_create_list_remove,
    anonymous_access_follows_the_setting,
    listenings_record_and_list,
    library_follows_and_notifications,
    playlists_crud_and_track_operations,
    concurrent_playlist_adds_get_distinct_indexes,
    radios_select_tracks_by_artist,
    content_filters_hide_artists_for_their_owner,
    edits_are_suggested_then_approved_by_the_owner,
);
