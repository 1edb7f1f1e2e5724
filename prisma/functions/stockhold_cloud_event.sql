-- stockhold_cloud_event: the CloudEvents 1.0 structured envelope of a positioned event.
-- `sequence` is the position zero-padded to 20 digits, so it also orders as a string.
--
-- Inputs:      the event's id, source, type, subject, time, position and data.
-- Outcome:     the CloudEvents 1.0 structured JSON (jsonb).
-- Error codes: none.
-- Lock order:  none (pure).
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_cloud_event"(p_id TEXT, p_source TEXT, p_type TEXT, p_subject TEXT, p_time TIMESTAMPTZ,
                                         p_position BIGINT, p_data JSONB) RETURNS JSONB
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'specversion', '1.0', 'id', p_id, 'source', p_source, 'type', p_type, 'subject', p_subject,
    'time', to_char(p_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'sequence', lpad(p_position::text, 20, '0'), 'datacontenttype', 'application/json', 'data', p_data)
$$;
