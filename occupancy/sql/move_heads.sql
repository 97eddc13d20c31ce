-- Each nozzle's highest-seq event, moved forward only.
INSERT INTO nozzle_heads (station_id, position, nozzle, seq, state, ts)
SELECT :station_id, u.position, u.nozzle, u.seq, u.state, u.ts
FROM unnest(CAST(:positions AS smallint[]), CAST(:nozzles AS smallint[]), CAST(:seqs AS bigint[]),
            CAST(:states AS text[]), CAST(:ts AS timestamptz[])) AS u(position, nozzle, seq, state, ts)
ON CONFLICT (station_id, position, nozzle) DO UPDATE
SET seq = excluded.seq, state = excluded.state, ts = excluded.ts
WHERE nozzle_heads.seq < excluded.seq
