-- The records behind one claim, best evidence first, a page at a time: $claim_id, $limit
-- (NULL for all), $offset. The page is chosen on the sort keys alone, then its rows are read
-- in full, so a claim with a hundred thousand records still answers in milliseconds.
WITH page AS (
    SELECT pmid
    FROM evidence_links
    WHERE claim_id = $claim_id
    ORDER BY is_retracted, cebm_level NULLS LAST, pub_year DESC NULLS LAST, pmid
    LIMIT $limit OFFSET $offset
)
SELECT e.pmid, a.title, a.journal, e.pub_year, a.doi, e.design, e.population, e.sample_size,
       e.evidence_class, e.cebm_level, e.direction, e.direction_confidence, e.evidence_sentence,
       e.conditions_found, e.is_indirect, e.is_retracted
FROM page
JOIN evidence_links e ON e.claim_id = $claim_id AND e.pmid = page.pmid
JOIN articles a ON a.pmid = page.pmid
ORDER BY e.is_retracted, e.cebm_level NULLS LAST, e.pub_year DESC NULLS LAST, e.pmid;
