-- When each account last signed up, logged in or changed something (the writer
-- records it at most every few minutes per account and process): "accounts active
-- over 1 and 7 days" is then two index range counts, cheap at any number of accounts.
-- Existing accounts start from their last log-in; new ones from their sign-up.
ALTER TABLE accounts ADD COLUMN last_seen_at timestamptz;
ALTER TABLE accounts ALTER COLUMN last_seen_at SET DEFAULT now();
UPDATE accounts SET last_seen_at = last_login_at WHERE last_login_at IS NOT NULL;
CREATE INDEX accounts_last_seen_at_idx ON accounts (last_seen_at);
