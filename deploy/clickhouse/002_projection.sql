-- DITA journal schema, version 2: what the kernel-outcome projection (src/sink/projection)
-- needs beyond version 1. Same portable subset as 001 (runs on 18.16 and current servers).
-- Plain ADD COLUMN (18.16 has no ADD COLUMN IF NOT EXISTS): the applier runs this file once,
-- recorded in dita.schema_version. Columns added here are sent by the writer in every row.

-- Isolated per-leg deltas: what this exit fill sold for, the share of the entry cost it
-- closed, and its share of the trade's entry fees, so that summing leg_realized_pnl over a
-- trade's legs gives exactly trade_exits.realized_pnl (entry fees included).
ALTER TABLE dita.trade_exit_legs ADD COLUMN leg_proceeds Decimal(38, 12);
ALTER TABLE dita.trade_exit_legs ADD COLUMN leg_cost_share Decimal(38, 12);
ALTER TABLE dita.trade_exit_legs ADD COLUMN leg_entry_fee_share Decimal(38, 12);

-- The kernel account's drawdown bookkeeping and closed-trade counter.
ALTER TABLE dita.account_snapshots ADD COLUMN peak_capital Decimal(38, 12);
ALTER TABLE dita.account_snapshots ADD COLUMN drawdown Decimal(38, 12);
ALTER TABLE dita.account_snapshots ADD COLUMN max_drawdown Decimal(38, 12);
ALTER TABLE dita.account_snapshots ADD COLUMN trade_seq UInt64;

-- DEBUG mode only: one row per kernel input with its canonical input and outcome JSON (the
-- journal's own encoding), so the whole timeline can be rebuilt by replaying these rows.
CREATE TABLE IF NOT EXISTS dita.kernel_inputs (
    row_id String,
    strategy String,
    seq UInt64,
    ts DateTime('UTC'),
    ts_ms UInt64,
    input_kind String,
    slot_id String,
    input_json String,
    outcome_json String
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY row_id;

INSERT INTO dita.schema_version (version, applied_at, description) VALUES (2, now(), 'projection: leg deltas, account drawdown, kernel_inputs');
