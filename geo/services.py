"""Station services, as codes. Unknown labels are rejected at ingest, not stored."""

from __future__ import annotations

SERVICES: dict[str, str] = {
    "convenience_store": "便利店",
    "car_wash": "洗车",
    "toilet": "卫生间",
    "ev_charging": "充电桩",
    "e_invoice": "电子发票",
    "atm": "ATM",
    "restaurant": "餐饮",
    "air_pump": "充气",
    "truck_lane": "货车通道",
    "wifi": "WiFi",
    "repair": "汽修",
    "adblue": "车用尿素",
    "lpg": "液化气",
    "pay_at_pump": "自助付款",
    "hotel": "住宿",
}
