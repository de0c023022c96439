-- Delivery state of outgoing messages. A dispatcher claims due messages (status 'sending' with a
-- lease until claimed_until, so that a message whose process died is picked up again), commits,
-- sends outside any transaction, then records the outcome: 'sent'; back to 'pending' with a later
-- next_attempt_at after a transient error; 'failed' with last_error after a permanent error or too
-- many attempts. Failed messages are kept for their provider's admins, who may resend them.
ALTER TABLE outbox_message
    ADD COLUMN status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN claim_id uuid,
    ADD COLUMN last_error text CHECK (length(last_error) <= 1000),
    ADD COLUMN last_attempt_at timestamptz,
    ADD COLUMN failed_at timestamptz,
    ADD COLUMN resent_at timestamptz,
    ADD COLUMN resend_count integer NOT NULL DEFAULT 0;

UPDATE outbox_message SET status = 'sent' WHERE sent_at IS NOT NULL;
UPDATE outbox_message
   SET status = 'failed', failed_at = now(),
       last_error = 'gave up after ' || attempts || ' attempts (before delivery errors were kept)'
 WHERE sent_at IS NULL AND attempts >= 10;

DROP INDEX outbox_message_unsent_idx;
CREATE INDEX outbox_message_due_idx ON outbox_message (next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_message_failed_idx ON outbox_message (provider_id, failed_at DESC)
    WHERE status = 'failed';
