-- The title the public sees (status page, feed, Statuspage JSON, public
-- webhooks), set at the first public update; the internal title never is.
ALTER TABLE incidents ADD COLUMN public_title TEXT;
