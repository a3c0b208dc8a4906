-- A sign-in is confirmed in the browser before anything is stored (web/src/oauth.rs): the callback parks what the
-- token exchange found in pending_connections with the SHA-256 of the confirmation form's one-time token.
-- Confirming clears it (the row then waits for the chat's choice when there were several accounts, and is deleted
-- with every unchosen token once the choice is made); cancelling deletes the row, and so does the cleanup sweep
-- once it expired.
ALTER TABLE pending_connections ADD COLUMN confirm_hash TEXT;
CREATE UNIQUE INDEX pending_connections_confirm ON pending_connections (confirm_hash);
