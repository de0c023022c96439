-- A referrer may delete a draft (never sent to anyone). The row stays as a tombstone so that the
-- append-only referral history keeps its referral; its personal content is erased and it is
-- visible to no one.
ALTER TABLE referral ADD COLUMN deleted_at timestamptz;
ALTER TABLE referral ADD CONSTRAINT referral_deleted_draft_ck
    CHECK (deleted_at IS NULL OR status = 'DRAFT');
