-- For each late event (station, position, nozzle, seq): the stored event with the same seq, if any, and
-- the stored events just below and just above it on the same nozzle (the unique index answers each).
SELECT k.position, k.nozzle, k.seq,
       same.state AS same_state, same.ts AS same_ts,
       prev.seq AS prev_seq, prev.state AS prev_state, prev.ts AS prev_ts,
       next.seq AS next_seq, next.state AS next_state, next.ts AS next_ts
FROM unnest(CAST(:positions AS smallint[]), CAST(:nozzles AS smallint[]), CAST(:seqs AS bigint[]))
     AS k(position, nozzle, seq)
LEFT JOIN LATERAL (
    SELECT e.state, e.ts FROM occupancy_events e
    WHERE e.station_id = :station_id AND e.position = k.position AND e.nozzle = k.nozzle AND e.seq = k.seq
) same ON true
LEFT JOIN LATERAL (
    SELECT e.seq, e.state, e.ts FROM occupancy_events e
    WHERE e.station_id = :station_id AND e.position = k.position AND e.nozzle = k.nozzle AND e.seq < k.seq
    ORDER BY e.seq DESC LIMIT 1
) prev ON true
LEFT JOIN LATERAL (
    SELECT e.seq, e.state, e.ts FROM occupancy_events e
    WHERE e.station_id = :station_id AND e.position = k.position AND e.nozzle = k.nozzle AND e.seq > k.seq
    ORDER BY e.seq LIMIT 1
) next ON true
