-- The Mastodon pod's tables. Accounts are the OAuth server's `users`.

CREATE TABLE profiles (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    display_name TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL DEFAULT '',
    locked       INTEGER NOT NULL DEFAULT 0,
    bot          INTEGER NOT NULL DEFAULT 0,
    discoverable INTEGER NOT NULL DEFAULT 1,
    privacy      TEXT    NOT NULL DEFAULT 'public',
    sensitive    INTEGER NOT NULL DEFAULT 0,
    language     TEXT,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Every account has a profile: the existing ones and each new user.
INSERT INTO profiles (user_id) SELECT id FROM users;
CREATE TRIGGER users_profile AFTER INSERT ON users
BEGIN
    INSERT OR IGNORE INTO profiles (user_id) VALUES (NEW.id);
END;

CREATE TABLE statuses (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    text                   TEXT    NOT NULL DEFAULT '',
    content                TEXT    NOT NULL DEFAULT '',
    spoiler_text           TEXT    NOT NULL DEFAULT '',
    sensitive              INTEGER NOT NULL DEFAULT 0,
    visibility             TEXT    NOT NULL DEFAULT 'public'
        CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
    language               TEXT,
    in_reply_to_id         INTEGER REFERENCES statuses(id) ON DELETE SET NULL,
    in_reply_to_account_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    reblog_of_id           INTEGER REFERENCES statuses(id) ON DELETE CASCADE,
    created_at             TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX statuses_account ON statuses (account_id, id);
CREATE INDEX statuses_reply ON statuses (in_reply_to_id);
CREATE UNIQUE INDEX statuses_reblog_once ON statuses (reblog_of_id, account_id)
    WHERE reblog_of_id IS NOT NULL;

CREATE TABLE mentions (
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id);

CREATE TABLE status_tags (
    status_id INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    name      TEXT    NOT NULL,
    PRIMARY KEY (status_id, name)
);
CREATE INDEX status_tags_name ON status_tags (name);

CREATE TABLE favourites (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id);

CREATE TABLE status_mutes (
    account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, status_id)
);

CREATE TABLE pins (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (account_id, status_id)
);

CREATE TABLE follows (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    show_reblogs      INTEGER NOT NULL DEFAULT 1,
    notify            INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id);

CREATE TABLE follow_requests (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    show_reblogs      INTEGER NOT NULL DEFAULT 1,
    notify            INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);

CREATE TABLE blocks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);

CREATE TABLE mutes (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    target_account_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hide_notifications INTEGER NOT NULL DEFAULT 1,
    expires_at         TEXT,
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);

CREATE TABLE domain_blocks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    domain     TEXT    NOT NULL,
    UNIQUE (account_id, domain)
);

CREATE TABLE lists (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title          TEXT    NOT NULL,
    replies_policy TEXT    NOT NULL DEFAULT 'list'
        CHECK (replies_policy IN ('followed', 'list', 'none')),
    exclusive      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE list_accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id    INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE (list_id, account_id)
);

CREATE TABLE filters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    phrase       TEXT    NOT NULL,
    context      TEXT    NOT NULL, -- comma-separated: home,notifications,public,thread,account
    irreversible INTEGER NOT NULL DEFAULT 0,
    whole_word   INTEGER NOT NULL DEFAULT 1,
    expires_at   TEXT
);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    from_account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type            TEXT    NOT NULL,
    status_id       INTEGER REFERENCES statuses(id) ON DELETE CASCADE,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX notifications_account ON notifications (account_id, id);

CREATE TABLE reports (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    comment           TEXT    NOT NULL DEFAULT '',
    forward           INTEGER NOT NULL DEFAULT 0,
    category          TEXT    NOT NULL DEFAULT 'other',
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE report_statuses (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    status_id INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    PRIMARY KEY (report_id, status_id)
);

CREATE TABLE media_attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status_id    INTEGER REFERENCES statuses(id) ON DELETE SET NULL,
    type         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    file_name    TEXT    NOT NULL DEFAULT '',
    size         INTEGER NOT NULL,
    description  TEXT,
    focus_x      REAL    NOT NULL DEFAULT 0,
    focus_y      REAL    NOT NULL DEFAULT 0,
    data         BLOB    NOT NULL,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX media_status ON media_attachments (status_id);

-- Users whose demo data exists (seed_demo is idempotent).
CREATE TABLE demo_seeds (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE
);
