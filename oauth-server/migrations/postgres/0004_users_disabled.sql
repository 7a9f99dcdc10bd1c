-- Whether the user is disabled (suspended): while it is, the user cannot
-- log in, no grant of theirs is exchanged or refreshed, and every token of
-- theirs is refused at validation and introspection. Tokens are kept:
-- enabling the user again makes the unexpired ones work again.
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
