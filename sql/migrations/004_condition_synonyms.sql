-- The registry's synonyms for each condition ("refractory depression" for TRD …), so the
-- evidence rules can recognise a condition under any of its names.
ALTER TABLE claim_conditions ADD COLUMN IF NOT EXISTS synonyms VARCHAR[];
