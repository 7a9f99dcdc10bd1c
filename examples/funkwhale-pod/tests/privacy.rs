//! Uploads follow their library's `privacy_level`: a viewer sees an upload
//! (its uuid, listen URL, size, duration, and the playability it gives its
//! track, album, artist and playlists) only if the library is `everyone`,
//! `instance` and the viewer is logged in, or the viewer's own.

mod common;

use common::{Pod, expect};
use serde_json::{Value, json};

/// What one upload created: its library, track, album, artist and uuid.
struct Uploaded {
    library: String,
    track: i64,
    album: i64,
    artist: i64,
    uuid: String,
}

/// Alice's library of `privacy` with one upload of `title` lasting
/// `duration` seconds (its own track, album and artist).
async fn upload(pod: &Pod, privacy: &str, title: &str, duration: i64) -> Uploaded {
    let reply = pod
        .send(
            "POST",
            "/api/v1/libraries/",
            "alice",
            json!({"name": format!("{title} library"), "privacy_level": privacy}),
        )
        .await;
    let library = expect(&reply, 201)["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    let reply = pod
        .send(
            "POST",
            "/api/v1/uploads/",
            "alice",
            json!({
                "library": library,
                "import_metadata": {"title": title, "artist": format!("{title} artist"), "album": format!("{title} album")},
                "duration": duration,
                "size": 4_000_000,
                "mimetype": "audio/ogg",
            }),
        )
        .await;
    let body = expect(&reply, 201);
    Uploaded {
        library,
        track: body["track"]["id"].as_i64().expect("track"),
        album: body["track"]["album"]["id"].as_i64().expect("album"),
        artist: body["track"]["artist"]["id"].as_i64().expect("artist"),
        uuid: body["uuid"].as_str().expect("uuid").to_owned(),
    }
}

/// A public playlist of Alice's with `tracks`; returns its id.
async fn playlist(pod: &Pod, name: &str, tracks: &[i64]) -> i64 {
    let reply = pod
        .send(
            "POST",
            "/api/v1/playlists/",
            "alice",
            json!({"name": name, "privacy_level": "everyone"}),
        )
        .await;
    let id = expect(&reply, 201)["id"].as_i64().expect("id");
    let reply = pod
        .send(
            "POST",
            &format!("/api/v1/playlists/{id}/add/"),
            "alice",
            json!({"tracks": tracks}),
        )
        .await;
    expect(&reply, 201);
    id
}

/// The ids of a page of results.
fn ids(page: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    ids.sort_unstable();
    ids
}

async fn private_uploads_are_seen_by_their_owner_only(pod: Pod) {
    pod.anonymous.set(true);
    let public = upload(&pod, "everyone", "Open", 100).await;
    let instance = upload(&pod, "instance", "Local", 50).await;
    let private = upload(&pod, "me", "Secret", 200).await;
    let mixed = playlist(
        &pod,
        "Mixed",
        &[public.track, instance.track, private.track],
    )
    .await;
    let secret_only = playlist(&pod, "Secret only", &[private.track]).await;
    let reply = pod
        .send(
            "POST",
            "/api/v1/favorites/tracks/",
            "alice",
            json!({"track": private.track}),
        )
        .await;
    expect(&reply, 201);

    // (viewer, the uploads it sees, their total duration)
    let cases: [(Option<&str>, Vec<&Uploaded>, i64); 3] = [
        (None, vec![&public], 100),
        (Some("bob"), vec![&public, &instance], 150),
        (Some("alice"), vec![&public, &instance, &private], 350),
    ];
    for (viewer, seen, duration) in cases {
        let who = viewer.unwrap_or("anonymous");
        let sees = |u: &Uploaded| seen.iter().any(|s| s.uuid == u.uuid);
        for u in [&public, &instance, &private] {
            let reply = pod
                .get(&format!("/api/v1/tracks/{}/", u.track), viewer)
                .await;
            let track = expect(&reply, 200);
            let uploads = track["uploads"].as_array().expect("uploads");
            assert_eq!(track["is_playable"], sees(u), "{who}: {track}");
            if sees(u) {
                assert_eq!(uploads.len(), 1, "{who}: {track}");
                assert_eq!(uploads[0]["uuid"], u.uuid.as_str());
                assert_eq!(uploads[0]["size"], 4_000_000);
            } else {
                assert!(uploads.is_empty(), "{who}: {track}");
                assert!(!track.to_string().contains(&u.uuid), "{who}: {track}");
            }
            let album = pod
                .get(&format!("/api/v1/albums/{}/", u.album), viewer)
                .await;
            let album = expect(&album, 200);
            assert_eq!(album["is_playable"], sees(u), "{who}: {album}");
            assert_eq!(album["tracks_count"], 1, "{who}: {album}");
        }
        let mut tracks: Vec<i64> = seen.iter().map(|u| u.track).collect();
        tracks.sort_unstable();
        let listed = pod.get("/api/v1/tracks/?playable=true", viewer).await;
        assert_eq!(ids(expect(&listed, 200)), tracks, "{who}");
        assert_eq!(listed.json["count"], seen.len(), "{who}");
        let unplayable = pod.get("/api/v1/tracks/?playable=false", viewer).await;
        assert_eq!(ids(expect(&unplayable, 200)).len(), 3 - seen.len(), "{who}");
        let mut albums: Vec<i64> = seen.iter().map(|u| u.album).collect();
        albums.sort_unstable();
        let listed = pod.get("/api/v1/albums/?playable=true", viewer).await;
        assert_eq!(ids(expect(&listed, 200)), albums, "{who}");
        let mut artists: Vec<i64> = seen.iter().map(|u| u.artist).collect();
        artists.sort_unstable();
        let listed = pod.get("/api/v1/artists/?playable=true", viewer).await;
        assert_eq!(ids(expect(&listed, 200)), artists, "{who}");

        // Playlists: the entries are counted, the duration and
        // playability are those of the uploads the viewer sees.
        let reply = pod
            .get(&format!("/api/v1/playlists/{mixed}/"), viewer)
            .await;
        let body = expect(&reply, 200);
        assert_eq!(body["tracks_count"], 3, "{who}: {body}");
        assert_eq!(body["duration"], duration, "{who}: {body}");
        assert_eq!(body["is_playable"], true, "{who}: {body}");
        let reply = pod
            .get(&format!("/api/v1/playlists/{secret_only}/"), viewer)
            .await;
        let body = expect(&reply, 200);
        let owner = viewer == Some("alice");
        assert_eq!(body["is_playable"], owner, "{who}: {body}");
        assert_eq!(
            body["duration"],
            if owner { 200 } else { 0 },
            "{who}: {body}"
        );
        let list = pod.get("/api/v1/playlists/", viewer).await;
        let listed = expect(&list, 200)["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|p| p["id"] == mixed)
            .cloned()
            .expect("listed");
        assert_eq!(listed["duration"], duration, "{who}: {listed}");
        let entries = pod
            .get(&format!("/api/v1/playlists/{secret_only}/tracks/"), viewer)
            .await;
        let entries = expect(&entries, 200);
        assert_eq!(
            entries.to_string().contains(&private.uuid),
            owner,
            "{who}: {entries}"
        );

        // Nested tracks elsewhere: the favorites the pod's users see.
        if let Some(viewer) = viewer {
            let favorites = pod.get("/api/v1/favorites/tracks/", Some(viewer)).await;
            let favorites = expect(&favorites, 200);
            assert_eq!(favorites["count"], 1, "{who}: {favorites}");
            assert_eq!(
                favorites.to_string().contains(&private.uuid),
                owner,
                "{who}: {favorites}"
            );
        }
    }
    // A private copy of the public track: its album still has one track,
    // and only Alice sees the copy (and its longer duration).
    let reply = pod
        .send(
            "POST",
            "/api/v1/uploads/",
            "alice",
            json!({"library": private.library, "track": public.track, "duration": 999}),
        )
        .await;
    let copy = expect(&reply, 201)["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    for (viewer, uploads, duration) in [
        (None, 1, 100),
        (Some("bob"), 1, 150),
        (Some("alice"), 2, 1249),
    ] {
        let who = viewer.unwrap_or("anonymous");
        let track = pod
            .get(&format!("/api/v1/tracks/{}/", public.track), viewer)
            .await;
        let track = expect(&track, 200);
        assert_eq!(
            track["uploads"].as_array().expect("uploads").len(),
            uploads,
            "{who}: {track}"
        );
        assert_eq!(
            track.to_string().contains(&copy),
            uploads == 2,
            "{who}: {track}"
        );
        let album = pod
            .get(&format!("/api/v1/albums/{}/", public.album), viewer)
            .await;
        assert_eq!(expect(&album, 200)["tracks_count"], 1, "{who}");
        let mixed = pod
            .get(&format!("/api/v1/playlists/{mixed}/"), viewer)
            .await;
        assert_eq!(expect(&mixed, 200)["duration"], duration, "{who}");
    }
    // NodeInfo is public: its music hours are those anonymous callers may
    // play.
    let nodeinfo = pod.get("/api/v1/instance/nodeinfo/2.0/", None).await;
    let hours = expect(&nodeinfo, 200)["metadata"]["library"]["music"]["hours"]
        .as_f64()
        .expect("hours");
    assert!((hours - 100.0 / 3600.0).abs() < 1e-9, "{hours}");
}

both_engines!(private_uploads_are_seen_by_their_owner_only);
