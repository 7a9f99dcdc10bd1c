-- Every stored secret is a 48-byte SecretHash (selector, then SHA-256): a
-- row of another length is a bug in whatever wrote it, refused at once
-- rather than found at read time. And a client's owner is looked up when a
-- user is listed or removed.
ALTER TABLE clients ADD CONSTRAINT clients_secret_hash_len CHECK (octet_length(secret_hash) = 48);
ALTER TABLE codes ADD CONSTRAINT codes_code_hash_len CHECK (octet_length(code_hash) = 48);
ALTER TABLE tokens ADD CONSTRAINT tokens_access_hash_len CHECK (octet_length(access_hash) = 48);
ALTER TABLE tokens ADD CONSTRAINT tokens_refresh_hash_len CHECK (refresh_hash IS NULL OR octet_length(refresh_hash) = 48);
ALTER TABLE tokens ADD CONSTRAINT tokens_code_hash_len CHECK (code_hash IS NULL OR octet_length(code_hash) = 48);
CREATE INDEX clients_by_owner ON clients (owner);
