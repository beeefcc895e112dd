-- Every claim with its verdict, for the overview table: most human evidence first.
SELECT claim_id, kind, statement, stance, certainty, best_supporting_level, n_human,
       n_human_supports, n_human_contradicts + n_human_no_effect AS n_human_against,
       n_animal + n_in_vitro AS n_preclinical, n_retracted, verdict
FROM v_claim_summary
ORDER BY n_human DESC, claim_id;
