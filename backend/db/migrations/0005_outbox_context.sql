-- Outgoing messages know which provider they were sent for (so that provider admins can see and
-- resend that provider's failed deliveries), what kind of message they are, and may carry a
-- calendar invitation (an iCalendar text with METHOD REQUEST or CANCEL).
ALTER TABLE outbox_message
    ADD COLUMN provider_id uuid REFERENCES organisation (id),
    ADD COLUMN kind text NOT NULL DEFAULT 'general' CHECK (kind ~ '^[a-z][a-z0-9_.]{0,62}$'),
    ADD COLUMN calendar_ics text CHECK (length(calendar_ics) <= 65536);
CREATE INDEX outbox_message_provider_idx ON outbox_message (provider_id, created_at DESC);
