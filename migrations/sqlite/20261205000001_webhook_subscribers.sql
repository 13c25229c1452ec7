-- Webhook subscribers: a subscription reaches an e-mail address or, for a
-- webhook subscriber, a URL that receives each notice as a JSON POST. The
-- address (e-mail or URL) stays unique; a webhook subscriber also gives a
-- contact e-mail, where its confirmation link is sent.
ALTER TABLE subscribers RENAME COLUMN email TO address;
ALTER TABLE subscribers ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
ALTER TABLE subscribers ADD COLUMN contact TEXT;
