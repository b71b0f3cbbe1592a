-- DITA journal schema, version 1. Applied by deploy/clickhouse/apply_schema.py.
--
-- Portable subset: runs on Debian's ClickHouse 18.16 and on current servers, so no DateTime64,
-- LowCardinality, Map, TTL or CODEC. Time is DateTime('UTC') seconds plus ts_ms (epoch ms).
-- Money and quantities are Decimal(38, 12) (exact sums; send them as unquoted JSON numbers).
--
-- Idempotent ingestion: every row carries a deterministic row_id derived from the journal
-- (strategy, record kind, sequence, leg, ...). Tables are ReplacingMergeTree ordered by row_id,
-- so a batch that is retried after a timeout collapses to one row per row_id. Background merges
-- do that eventually; readers that need exact counts use FINAL or GROUP BY row_id.
-- A retried row has the same ts, hence the same monthly partition, which is required because
-- ReplacingMergeTree deduplicates within a partition only.
--
-- Statements end with ';' at the end of a line (the applier splits on that).

CREATE DATABASE IF NOT EXISTS dita;

CREATE TABLE IF NOT EXISTS dita.schema_version (
    version UInt32,
    applied_at DateTime('UTC'),
    description String
) ENGINE = ReplacingMergeTree() ORDER BY version;

-- Every kernel state transition of a slot, refusals included (as their own rows).
CREATE TABLE IF NOT EXISTS dita.transitions (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    slot_id String,
    trade_id String,
    from_stage String,
    to_stage String,
    cause String,
    event_id String,
    detail_json String
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- One row per trade entry (position opened or increased).
CREATE TABLE IF NOT EXISTS dita.trade_entries (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    slot_id String,
    trade_id String,
    symbol String,
    side String,
    qty Decimal(38, 12),
    price Decimal(38, 12),
    notional Decimal(38, 12),
    fee Decimal(38, 12),
    client_order_id String,
    venue_order_id String
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- One row per completed trade exit (the slot closes exactly once); totals over its legs.
CREATE TABLE IF NOT EXISTS dita.trade_exits (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    slot_id String,
    trade_id String,
    symbol String,
    side String,
    reason String,
    qty_closed Decimal(38, 12),
    avg_exit_price Decimal(38, 12),
    realized_pnl Decimal(38, 12),
    fees Decimal(38, 12),
    leg_count UInt32
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- One row per exit leg (partial fill of the exit), with that leg's own, isolated deltas:
-- summing leg_realized_pnl over a trade's legs gives trade_exits.realized_pnl.
CREATE TABLE IF NOT EXISTS dita.trade_exit_legs (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    slot_id String,
    trade_id String,
    leg_index UInt32,
    symbol String,
    side String,
    client_order_id String,
    venue_order_id String,
    leg_qty Decimal(38, 12),
    leg_price Decimal(38, 12),
    leg_fee Decimal(38, 12),
    leg_realized_pnl Decimal(38, 12),
    cum_qty_closed Decimal(38, 12),
    remaining_qty Decimal(38, 12)
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- Account / capital snapshots: seed, settlement of closed trades, marks, reconciles.
CREATE TABLE IF NOT EXISTS dita.account_snapshots (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    account_id String,
    currency String,
    source String,
    capital Decimal(38, 12),
    realized_pnl Decimal(38, 12),
    unrealized_pnl Decimal(38, 12),
    equity Decimal(38, 12),
    reserved_margin Decimal(38, 12)
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- Diagnostics (refusals, duplicates, rate limits, ...). retry_after_ms is NULL when unknown.
CREATE TABLE IF NOT EXISTS dita.diagnostics (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    code String,
    severity String,
    slot_id String,
    trade_id String,
    retryable UInt8,
    retry_after_ms Nullable(UInt64),
    message String,
    detail_json String
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- Operator / control-plane changes (halt, resume, limits), with who and why.
CREATE TABLE IF NOT EXISTS dita.control_changes (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    control String,
    old_value String,
    new_value String,
    actor String,
    reason String
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- Venue requests and responses (debug stream; payloads are redacted before they get here).
CREATE TABLE IF NOT EXISTS dita.venue_messages (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    venue String,
    direction String,
    correlation_id String,
    method String,
    endpoint String,
    http_status Int32,
    latency_us UInt64,
    payload String
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

-- Reconciliation with venue truth: what was compared and what the kernel concluded.
CREATE TABLE IF NOT EXISTS dita.reconcile_events (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    slot_id String,
    trade_id String,
    kind String,
    outcome String,
    venue_state_json String,
    kernel_state_json String,
    detail String
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

INSERT INTO dita.schema_version (version, applied_at, description) VALUES (1, now(), 'initial journal schema');
