-- The address a guest (interpreter, companion) was invited at, so that a moved appointment can send
-- them their new link; NULL when the clinician passed the link on themselves.
ALTER TABLE clinic_participant ADD COLUMN email text
    CHECK (email IS NULL OR (kind = 'guest' AND length(email) <= 254 AND email = lower(email)));
