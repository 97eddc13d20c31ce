-- One statement per batch; the caller holds the station's advisory lock and has removed duplicates (a
-- repeated seq with any ts: the conflict target must hold the partition key ts, so it is only a backstop).
INSERT INTO occupancy_events (station_id, position, nozzle, seq, state, ts)
SELECT :station_id, u.position, u.nozzle, u.seq, u.state, u.ts
FROM unnest(CAST(:positions AS smallint[]), CAST(:nozzles AS smallint[]), CAST(:seqs AS bigint[]),
            CAST(:states AS text[]), CAST(:ts AS timestamptz[])) AS u(position, nozzle, seq, state, ts)
ON CONFLICT (station_id, position, nozzle, seq, ts) DO NOTHING
RETURNING id, position, nozzle, seq
