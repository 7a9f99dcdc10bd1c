-- Clients, users, authorization codes and tokens: the SQLite schema
-- (migrations/sqlite/0001_initial.sql) in PostgreSQL types. Secrets are
-- stored only as their SecretHash: a 48-byte BYTEA, the secret's
-- time-ordered selector then its SHA-256. Passwords are argon2id PHC
-- strings. Times are seconds since the Unix epoch (BIGINT).
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT      NOT NULL UNIQUE,
    password_hash TEXT      NOT NULL,
    admin         BOOLEAN   NOT NULL DEFAULT FALSE
);

CREATE TABLE clients (
    id            BIGSERIAL PRIMARY KEY,
    client_id     TEXT      NOT NULL UNIQUE,
    secret_hash   BYTEA     NOT NULL,
    name          TEXT      NOT NULL,
    redirect_uris TEXT      NOT NULL, -- one URI per line
    scopes        TEXT      NOT NULL,
    website       TEXT,
    owner         BIGINT    REFERENCES users (id),
    created_at    BIGINT    NOT NULL
);

CREATE TABLE codes (
    code_hash        BYTEA   PRIMARY KEY,
    client_id        TEXT    NOT NULL,
    user_id          BIGINT  NOT NULL,
    redirect_uri     TEXT    NOT NULL,
    scopes           TEXT    NOT NULL,
    challenge        TEXT,
    challenge_method TEXT,
    expires_at       BIGINT  NOT NULL,
    used             BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE tokens (
    id           TEXT    PRIMARY KEY,
    access_hash  BYTEA   NOT NULL UNIQUE,
    refresh_hash BYTEA   UNIQUE,
    client_id    TEXT    NOT NULL,
    user_id      BIGINT,
    scopes       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    family       TEXT    NOT NULL,
    code_hash    BYTEA,
    revoked      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX tokens_by_family ON tokens (family);
CREATE INDEX tokens_by_code ON tokens (code_hash);
