-- The evidence ladder, as data: one row per study design the tagger emits.
-- Rules and their reasons: docs/evidence-levels.md. Changing a level here changes every view.
--   cebm_level      Oxford CEBM 2011 level for treatment benefits (1 best .. 5 mechanism-based);
--                   NULL for publications that report no study of their own.
--   grade_start     GRADE starting certainty for a body of evidence led by this design
--                   (4 high, 2 low, 1 very low); NULL when the design is not graded.
--   counts_participants  a primary clinical study whose sample size is added up (syntheses
--                   would count their included trials twice; protocols have not enrolled yet).
CREATE OR REPLACE VIEW v_design_levels AS
SELECT * FROM (VALUES
    ('meta_analysis',        'meta-analysis',          'meta-analyses',           1,    4,    FALSE),
    ('systematic_review',    'systematic review',      'systematic reviews',      1,    4,    FALSE),
    ('rct',                  'RCT',                    'RCTs',                    2,    4,    TRUE),
    ('non_randomized_trial', 'non-randomised trial',   'non-randomised trials',   3,    2,    TRUE),
    ('cohort',               'cohort study',           'cohort studies',          3,    2,    TRUE),
    ('single_arm_trial',     'single-arm trial',       'single-arm trials',       4,    1,    TRUE),
    ('case_control',         'case-control study',     'case-control studies',    4,    1,    TRUE),
    ('cross_sectional',      'cross-sectional study',  'cross-sectional studies', 4,    1,    TRUE),
    ('case_series',          'case series',            'case series',             4,    1,    TRUE),
    ('case_report',          'case report',            'case reports',            4,    1,    TRUE),
    ('lab_experiment',       'laboratory experiment',  'laboratory experiments',  5,    NULL, FALSE),
    ('narrative_review',     'narrative review',       'narrative reviews',       NULL, NULL, FALSE),
    ('guideline',            'guideline',              'guidelines',              NULL, NULL, FALSE),
    ('protocol',             'protocol',               'protocols',               NULL, NULL, FALSE),
    ('opinion',              'opinion piece',          'opinion pieces',          NULL, NULL, FALSE),
    ('other',                'other publication',      'other publications',      NULL, NULL, FALSE)
) AS t(design, design_label, design_plural, cebm_level, grade_start, counts_participants);

-- What each CEBM 2011 level means for a treatment claim, in words a writer can quote.
CREATE OR REPLACE VIEW v_cebm_levels AS
SELECT * FROM (VALUES
    (1, 'systematic review or meta-analysis'),
    (2, 'randomised trial'),
    (3, 'non-randomised controlled or cohort study'),
    (4, 'case series, case-control study or case report'),
    (5, 'mechanism-based reasoning (incl. animal and in-vitro work)')
) AS t(cebm_level, level_label);

-- GRADE certainty as a score: a body starts at 4, 2 or 1 (grade_start) and loses one per
-- reason it is rated down, never below 1.
CREATE OR REPLACE VIEW v_certainty_levels AS
SELECT * FROM (VALUES (4, 'high'), (3, 'moderate'), (2, 'low'), (1, 'very low')) AS t(score, certainty);
