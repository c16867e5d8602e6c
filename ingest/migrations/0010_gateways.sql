-- The cloud's registry of gateways (docs/security.md, "Gateway identity"): which Ed25519 keys
-- may sign events for which feedlot. One row per (gateway, key, feedlot); written only by
-- `ingest gateways enroll|rotate|revoke`, read by the consumer, which refuses (dead-letters)
-- any event whose gateway, key and feedlot have no active row here.
-- Read with FINAL: the latest set_at_ms per (gateway_id, key_id, feedlot_id) wins.
CREATE TABLE IF NOT EXISTS gateways
(
    gateway_id String,
    -- The key's id: the first 8 bytes of SHA-256 of the public key, lowercase hex.
    key_id String,
    -- A feedlot this key may write.
    feedlot_id String,
    -- The Ed25519 public key, standard base64 of its 32 bytes.
    public_key String,
    -- 'active' or 'revoked'.
    status String,
    -- When the row was enrolled, ms since the epoch UTC.
    valid_from_ms UInt64,
    -- 0: no end. Otherwise the key is refused for messages that reached Kafka after this
    -- (ms since the epoch UTC): the end of a rotation's overlap.
    valid_until_ms UInt64,
    -- Who set the row (the operator's name or the tool).
    set_by String,
    -- When the row was set, ms since the epoch UTC.
    set_at_ms UInt64
)
ENGINE = ReplacingMergeTree(set_at_ms)
ORDER BY (gateway_id, key_id, feedlot_id);
