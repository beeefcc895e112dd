-- One claim's row of v_claim_summary: $claim_id.
SELECT * FROM v_claim_summary WHERE claim_id = $claim_id;
