-- Every stored secret is a 48-byte SecretHash: the secret's time-ordered
-- selector (16 bytes), then its SHA-256 (32 bytes). (0001's comment, "32-byte
-- BLOBs", predates the selector; an applied migration's text cannot change.)
-- A login-failure key is a bare SHA-256 (32 bytes).
--
-- PostgreSQL's schema refuses a row of another length with CHECKs (its
-- 0002 and 0003); SQLite cannot add a constraint to an existing table
-- without rebuilding it, so these triggers refuse the same rows. Clients
-- are left to the checks both stores share (a start-up scan and a read-time
-- one): a database written before the selector holds 32-byte client hashes,
-- and the store's start-up error tells the operator how to remove them.
CREATE TRIGGER codes_hash_len_insert BEFORE INSERT ON codes
WHEN length(NEW.code_hash) != 48
BEGIN SELECT RAISE(ABORT, 'codes.code_hash is not a 48-byte secret hash'); END;

CREATE TRIGGER codes_hash_len_update BEFORE UPDATE OF code_hash ON codes
WHEN length(NEW.code_hash) != 48
BEGIN SELECT RAISE(ABORT, 'codes.code_hash is not a 48-byte secret hash'); END;

CREATE TRIGGER tokens_hash_len_insert BEFORE INSERT ON tokens
WHEN length(NEW.access_hash) != 48
  OR (NEW.refresh_hash IS NOT NULL AND length(NEW.refresh_hash) != 48)
  OR (NEW.code_hash IS NOT NULL AND length(NEW.code_hash) != 48)
BEGIN SELECT RAISE(ABORT, 'tokens: a hash is not a 48-byte secret hash'); END;

CREATE TRIGGER tokens_hash_len_update BEFORE UPDATE OF access_hash, refresh_hash, code_hash ON tokens
WHEN length(NEW.access_hash) != 48
  OR (NEW.refresh_hash IS NOT NULL AND length(NEW.refresh_hash) != 48)
  OR (NEW.code_hash IS NOT NULL AND length(NEW.code_hash) != 48)
BEGIN SELECT RAISE(ABORT, 'tokens: a hash is not a 48-byte secret hash'); END;

CREATE TRIGGER sessions_key_len_insert BEFORE INSERT ON sessions
WHEN length(NEW.key_hash) != 48
BEGIN SELECT RAISE(ABORT, 'sessions.key_hash is not a 48-byte secret hash'); END;

CREATE TRIGGER login_failures_key_len_insert BEFORE INSERT ON login_failures
WHEN length(NEW.key) != 32
BEGIN SELECT RAISE(ABORT, 'login_failures.key is not 32 bytes'); END;
