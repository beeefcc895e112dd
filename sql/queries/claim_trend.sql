-- How one claim's evidence accumulated, year by year: $claim_id.
SELECT * FROM v_claim_trend WHERE claim_id = $claim_id ORDER BY pub_year;
