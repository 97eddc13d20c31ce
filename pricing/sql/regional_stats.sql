-- min/avg/max per grade of one tier's prices in force at :as_of, for stations of a province and/or city.
SELECT sp.grade, sp.currency, count(*) AS stations, min(sp.price), avg(sp.price), max(sp.price)
FROM station_prices sp
JOIN stations s ON s.id = sp.station_id
WHERE sp.tier = :tier
  AND sp.effective_from <= :as_of AND (sp.effective_to IS NULL OR sp.effective_to > :as_of)
  AND (CAST(:province AS text) IS NULL OR s.province = :province)
  AND (CAST(:city AS text) IS NULL OR s.city = :city)
  AND (:include_stale OR sp.confirmed_at >= :fresh_since)
GROUP BY sp.grade, sp.currency
ORDER BY sp.grade, sp.currency
