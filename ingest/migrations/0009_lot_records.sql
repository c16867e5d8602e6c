-- Lot- and pen-level records (wire kinds `lot_death` and `lot_treatment`, docs/clickhouse.md):
-- they share `deaths` and `treatments` with the per-animal records, with an empty `eid`.

-- How many head the row is: 1 for one animal (every row before this column), the count of a
-- lot-level death.
ALTER TABLE deaths ADD COLUMN head_count UInt32 DEFAULT 1 AFTER pen_id;

-- The lot and pen treated by a lot-level treatment (empty for one animal's), and how many head
-- it covered (1 for one animal). `dose` is per head; `cost_minor` is the row's whole cost.
ALTER TABLE treatments ADD COLUMN lot_id String AFTER currency;
ALTER TABLE treatments ADD COLUMN pen_id String AFTER lot_id;
ALTER TABLE treatments ADD COLUMN head_count UInt32 DEFAULT 1 AFTER pen_id;
