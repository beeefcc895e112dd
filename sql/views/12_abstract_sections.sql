-- Each labelled section of an abstract with its text, cut from articles.abstract by the span
-- the loader stored (abstract_section_spans), so the text is stored once.
CREATE OR REPLACE VIEW v_abstract_sections AS
SELECT s.pmid, s.idx, s.label, s.nlm_category,
       substring(a.abstract, s.text_start + 1, s.text_length) AS text
FROM abstract_section_spans s
JOIN articles a USING (pmid);
