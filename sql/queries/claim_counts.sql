-- One claim's evidence table: human studies by design x direction, best level first, then
-- animal, in-vitro, unclassified and retracted records: $claim_id.
SELECT evidence_class, design, cebm_level, direction, n_records, n_indirect, participants
FROM v_claim_design_direction
WHERE claim_id = $claim_id
ORDER BY CASE evidence_class WHEN 'human' THEN 1 WHEN 'animal' THEN 2 WHEN 'in_vitro' THEN 3
                             WHEN 'unclassified' THEN 4 ELSE 5 END,
         cebm_level NULLS LAST, design NULLS LAST, direction;
