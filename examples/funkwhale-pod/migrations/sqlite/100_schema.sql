-- The Funkwhale pod's data. Lives in the same SQLite file as the bundled
-- OAuth server, whose `users` table is the pod's users.
-- Dates are ISO 8601 strings (UTC, milliseconds, `Z`).

CREATE TABLE fw_libraries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid          TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    privacy_level TEXT    NOT NULL DEFAULT 'me',
    creation_date TEXT    NOT NULL
);
CREATE INDEX fw_libraries_user ON fw_libraries (user_id);

CREATE TABLE fw_artists (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    attributed_to     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    creation_date     TEXT    NOT NULL,
    modification_date TEXT    NOT NULL
);

CREATE TABLE fw_albums (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL,
    artist_id     INTEGER NOT NULL REFERENCES fw_artists (id) ON DELETE CASCADE,
    release_date  TEXT,
    attributed_to INTEGER REFERENCES users (id) ON DELETE SET NULL,
    creation_date TEXT    NOT NULL
);
CREATE INDEX fw_albums_artist ON fw_albums (artist_id);

CREATE TABLE fw_tracks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL,
    artist_id     INTEGER NOT NULL REFERENCES fw_artists (id) ON DELETE CASCADE,
    album_id      INTEGER REFERENCES fw_albums (id) ON DELETE SET NULL,
    position      INTEGER,
    disc_number   INTEGER,
    attributed_to INTEGER REFERENCES users (id) ON DELETE SET NULL,
    creation_date TEXT    NOT NULL
);
CREATE INDEX fw_tracks_artist ON fw_tracks (artist_id);
CREATE INDEX fw_tracks_album ON fw_tracks (album_id);

CREATE TABLE fw_uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid          TEXT    NOT NULL UNIQUE,
    library_id    INTEGER NOT NULL REFERENCES fw_libraries (id) ON DELETE CASCADE,
    track_id      INTEGER NOT NULL REFERENCES fw_tracks (id) ON DELETE CASCADE,
    duration      INTEGER,
    size          INTEGER,
    bitrate       INTEGER,
    mimetype      TEXT,
    source        TEXT,
    import_status TEXT    NOT NULL DEFAULT 'finished',
    creation_date TEXT    NOT NULL
);
CREATE INDEX fw_uploads_library ON fw_uploads (library_id);
CREATE INDEX fw_uploads_track ON fw_uploads (track_id);

CREATE TABLE fw_playlists (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    description       TEXT    NOT NULL DEFAULT '',
    privacy_level     TEXT    NOT NULL DEFAULT 'instance',
    creation_date     TEXT    NOT NULL,
    modification_date TEXT    NOT NULL
);
CREATE INDEX fw_playlists_user ON fw_playlists (user_id);

-- `idx` is the 0-based position in the playlist, kept dense.
CREATE TABLE fw_playlist_tracks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    playlist_id   INTEGER NOT NULL REFERENCES fw_playlists (id) ON DELETE CASCADE,
    track_id      INTEGER NOT NULL REFERENCES fw_tracks (id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    creation_date TEXT    NOT NULL
);
CREATE INDEX fw_playlist_tracks_playlist ON fw_playlist_tracks (playlist_id, idx);

CREATE TABLE fw_favorites (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    track_id      INTEGER NOT NULL REFERENCES fw_tracks (id) ON DELETE CASCADE,
    creation_date TEXT    NOT NULL,
    UNIQUE (user_id, track_id)
);

CREATE TABLE fw_listenings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    track_id      INTEGER NOT NULL REFERENCES fw_tracks (id) ON DELETE CASCADE,
    creation_date TEXT    NOT NULL
);
CREATE INDEX fw_listenings_user ON fw_listenings (user_id);

-- `config` is a JSON array of filters ({"type": "artist", "ids": [..]}).
CREATE TABLE fw_radios (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    is_public     INTEGER NOT NULL DEFAULT 1,
    config        TEXT    NOT NULL DEFAULT '[]',
    creation_date TEXT    NOT NULL
);

CREATE TABLE fw_content_filters (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid          TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_artist INTEGER NOT NULL REFERENCES fw_artists (id) ON DELETE CASCADE,
    creation_date TEXT    NOT NULL,
    UNIQUE (user_id, target_artist)
);

-- `approved`: NULL pending, 1 accepted, 0 rejected.
CREATE TABLE fw_library_follows (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid              TEXT    NOT NULL UNIQUE,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    library_id        INTEGER NOT NULL REFERENCES fw_libraries (id) ON DELETE CASCADE,
    approved          INTEGER,
    creation_date     TEXT    NOT NULL,
    modification_date TEXT    NOT NULL,
    UNIQUE (user_id, library_id)
);

-- Notifications: `activity` is a JSON object.
CREATE TABLE fw_inbox_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type          TEXT    NOT NULL DEFAULT 'to',
    activity      TEXT    NOT NULL,
    is_read       INTEGER NOT NULL DEFAULT 0,
    creation_date TEXT    NOT NULL
);
CREATE INDEX fw_inbox_items_user ON fw_inbox_items (user_id);

-- Metadata edits. `is_approved`: NULL pending, 1 approved, 0 rejected.
CREATE TABLE fw_mutations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid           TEXT    NOT NULL UNIQUE,
    type           TEXT    NOT NULL DEFAULT 'update',
    created_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    approved_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    target_type    TEXT    NOT NULL,
    target_id      INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    previous_state TEXT,
    summary        TEXT    NOT NULL DEFAULT '',
    is_approved    INTEGER,
    is_applied     INTEGER,
    creation_date  TEXT    NOT NULL,
    applied_date   TEXT
);
CREATE INDEX fw_mutations_target ON fw_mutations (target_type, target_id);
