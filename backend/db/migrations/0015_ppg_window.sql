-- The PPG window behind a heart-rate estimate is read as the stored runs joined end to end
-- (backend.readings.queries.STREAM_FOR_BATCH). Joining whole arrays costs PostgreSQL about a third
-- of unnesting every sample and aggregating them again in order.
CREATE AGGREGATE array_cat_agg(anycompatiblearray) (SFUNC = array_cat, STYPE = anycompatiblearray);
