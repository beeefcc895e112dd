-- Core curated tables. One row per PubMed record in `articles`; child tables are keyed by pmid
-- and replaced whole when a newer version of the record arrives.

CREATE TABLE IF NOT EXISTS articles (
    pmid               BIGINT PRIMARY KEY,
    pmid_version       INTEGER,
    title              VARCHAR,
    abstract           VARCHAR,
    journal            VARCHAR,
    journal_iso        VARCHAR,
    pub_year           INTEGER,
    pub_month          INTEGER,
    pub_date_raw       VARCHAR,
    electronic_date    DATE,
    entrez_date        DATE,
    date_revised       DATE,
    languages          VARCHAR[],
    doi                VARCHAR,
    pmc                VARCHAR,
    indexing_method    VARCHAR,
    citation_status    VARCHAR,
    publication_status VARCHAR,
    keywords           VARCHAR[],
    is_retracted       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS authors (
    pmid            BIGINT NOT NULL,
    position        INTEGER NOT NULL,
    last_name       VARCHAR,
    fore_name       VARCHAR,
    initials        VARCHAR,
    collective_name VARCHAR,
    affiliations    VARCHAR[]
);

CREATE TABLE IF NOT EXISTS abstract_sections (
    pmid         BIGINT NOT NULL,
    idx          INTEGER NOT NULL,
    label        VARCHAR,
    nlm_category VARCHAR,
    text         VARCHAR
);

CREATE TABLE IF NOT EXISTS publication_types (
    pmid BIGINT NOT NULL,
    ui   VARCHAR,
    name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS mesh_headings (
    pmid          BIGINT NOT NULL,
    position      INTEGER NOT NULL,
    descriptor_ui VARCHAR,
    descriptor    VARCHAR NOT NULL,
    major         BOOLEAN NOT NULL,
    qualifiers    STRUCT(ui VARCHAR, name VARCHAR, major BOOLEAN)[]
);

CREATE TABLE IF NOT EXISTS chemicals (
    pmid            BIGINT NOT NULL,
    ui              VARCHAR,
    name            VARCHAR,
    registry_number VARCHAR
);

CREATE TABLE IF NOT EXISTS comments_corrections (
    pmid       BIGINT NOT NULL,
    ref_type   VARCHAR NOT NULL,
    ref_pmid   BIGINT,
    ref_source VARCHAR
);

-- PMIDs NLM withdrew (DeleteCitation). Their rows leave the curated tables; this keeps the trace.
CREATE TABLE IF NOT EXISTS deleted_citations (
    pmid        BIGINT PRIMARY KEY,
    raw_sha256  VARCHAR
);

-- Which ingestion query (a claim id, or a broad query id) matched which record, per PubMed.
CREATE TABLE IF NOT EXISTS queries (
    query_id VARCHAR PRIMARY KEY,
    query    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS query_articles (
    query_id   VARCHAR NOT NULL,
    pmid       BIGINT NOT NULL,
    PRIMARY KEY (query_id, pmid)
);

-- Where each record came from: the raw response body it was last loaded from.
CREATE TABLE IF NOT EXISTS article_sources (
    pmid       BIGINT PRIMARY KEY,
    raw_sha256 VARCHAR NOT NULL
);

-- Mirror of data/raw/manifest.jsonl (the archive is the source of truth; this is for SQL).
CREATE TABLE IF NOT EXISTS raw_manifest (
    seq         BIGINT PRIMARY KEY,
    sha256      VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,
    endpoint    VARCHAR NOT NULL,
    query_id    VARCHAR,
    window_type VARCHAR,
    window_from DATE,
    window_to   DATE,
    params      JSON,
    fetched_at  TIMESTAMP,
    bytes       BIGINT,
    run_id      VARCHAR
);

CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id            VARCHAR PRIMARY KEY,
    kind              VARCHAR NOT NULL,      -- refresh | rebuild | snapshot
    started_at        TIMESTAMP NOT NULL,
    ended_at          TIMESTAMP,
    status            VARCHAR NOT NULL,      -- running | ok | failed
    records_fetched   BIGINT DEFAULT 0,
    records_loaded    BIGINT DEFAULT 0,
    records_deleted   BIGINT DEFAULT 0,
    records_quarantined BIGINT DEFAULT 0,
    requests_made     BIGINT DEFAULT 0,
    counts_per_query  JSON,
    error             VARCHAR
);

-- Per query and window type (crdt: new records, mdat: modified records) the date through which
-- everything has been fetched. A window that fails leaves it where it was.
CREATE TABLE IF NOT EXISTS watermarks (
    query_id    VARCHAR NOT NULL,
    window_type VARCHAR NOT NULL,
    through     DATE NOT NULL,
    updated_run VARCHAR,
    PRIMARY KEY (query_id, window_type)
);

CREATE TABLE IF NOT EXISTS quarantine (
    raw_sha256 VARCHAR,
    pmid       BIGINT,
    stage      VARCHAR NOT NULL,             -- parse | store | tag
    reason     VARCHAR NOT NULL,
    raw        VARCHAR
);
