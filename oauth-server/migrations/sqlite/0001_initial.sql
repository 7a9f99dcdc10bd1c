-- Clients, users, authorization codes and tokens. Secrets are stored only as
-- SHA-256 digests (32-byte BLOBs); passwords as argon2id PHC strings.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    admin         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE clients (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id     TEXT    NOT NULL UNIQUE,
    secret_hash   BLOB    NOT NULL,
    name          TEXT    NOT NULL,
    redirect_uris TEXT    NOT NULL, -- one URI per line
    scopes        TEXT    NOT NULL,
    website       TEXT,
    owner         INTEGER REFERENCES users (id),
    created_at    INTEGER NOT NULL
);

CREATE TABLE codes (
    code_hash        BLOB    PRIMARY KEY,
    client_id        TEXT    NOT NULL,
    user_id          INTEGER NOT NULL,
    redirect_uri     TEXT    NOT NULL,
    scopes           TEXT    NOT NULL,
    challenge        TEXT,
    challenge_method TEXT,
    expires_at       INTEGER NOT NULL,
    used             INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id           TEXT    PRIMARY KEY,
    access_hash  BLOB    NOT NULL UNIQUE,
    refresh_hash BLOB    UNIQUE,
    client_id    TEXT    NOT NULL,
    user_id      INTEGER,
    scopes       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    family       TEXT    NOT NULL,
    code_hash    BLOB,
    revoked      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX tokens_by_family ON tokens (family);
CREATE INDEX tokens_by_code ON tokens (code_hash);
