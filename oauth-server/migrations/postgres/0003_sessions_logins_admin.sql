-- Whether the authorization request carried redirect_uri: then the token
-- request must repeat it (RFC 6749 §4.1.3). Codes written without the
-- column (before this migration, or by an instance not yet upgraded during
-- a rolling upgrade; they live 5 minutes) keep the old rule: not required.
ALTER TABLE codes ADD COLUMN redirect_uri_given BOOLEAN NOT NULL DEFAULT FALSE;

-- Consent-page sessions, created only at a successful login (anonymous
-- visitors have no row: their CSRF token is derived from their cookie).
-- key_hash is the 48-byte SecretHash of the cookie value.
CREATE TABLE sessions (
    key_hash   BYTEA   PRIMARY KEY CHECK (octet_length(key_hash) = 48),
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed logins per key: the SHA-256 of (username, client address) or of
-- the address alone; never the username itself.
CREATE TABLE login_failures (
    key          BYTEA   PRIMARY KEY CHECK (octet_length(key) = 32),
    failures     INTEGER NOT NULL,
    window_start BIGINT  NOT NULL
);
CREATE INDEX login_failures_by_window ON login_failures (window_start);
