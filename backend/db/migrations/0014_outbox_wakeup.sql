-- Wake the delivery round of the background jobs (backend.jobs) as soon as messages are queued:
-- one notification per statement that queues messages, sent when its transaction commits. The
-- round's schedule (OHCONNECT_MAIL_POLL_SECONDS) remains for retries and anything missed.
CREATE FUNCTION outbox_message_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ohconnect_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_message_queued AFTER INSERT ON outbox_message
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_message_queued();
