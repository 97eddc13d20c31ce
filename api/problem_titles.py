"""Problem titles in Chinese, the language a driver reads by default (English with Accept-Language: en).

`title` is the short text a client may show; `detail` says what exactly was refused and is written for
the integrating developer (English, with the parameter, id or limit involved). Every problem type the
service answers has a Chinese title here (tests/api/test_problem_language.py checks the OpenAPI
document's types and the error table against it)."""

from __future__ import annotations

from pricing.texts import Language

ZH: dict[str, str] = {
    # the request itself
    "invalid-parameter": "请求参数无效",
    "unknown-parameter": "不支持的请求参数",
    "invalid-coordinates": "坐标无效",
    "invalid-search": "搜索条件无效",
    "invalid-route": "路线无效",
    "invalid-opening-hours": "营业时间格式无效",
    "invalid-fill": "加油量或金额无效",
    "invalid-cursor": "翻页游标无效",
    "invalid-quote": "报价凭证无效",
    "invalid-event": "订单事件无效",
    "invalid-idempotency-key": "缺少或无效的幂等键",
    "invalid-http-request": "HTTP 请求格式错误",
    "unreadable-batch": "无法读取的油枪数据批次",
    "unknown-grade": "未知的油品标号",
    "unknown-brand": "未知的品牌",
    "unknown-service": "未知的服务项目",
    "unknown-nozzle": "没有该油位或油枪",
    "nozzle-grade-mismatch": "该油枪加注的是其他油品",
    "body-too-large": "请求内容过大",
    "batch-too-large": "油枪数据批次过大",
    "uri-too-long": "请求地址过长",
    "headers-too-large": "请求头过大",
    "replay-too-large": "需要重放的变更过多",
    # who asks
    "unauthorized": "需要有效的凭证",
    "forbidden": "无权操作该加油站",
    "role-forbidden": "当前岗位无权执行此操作",
    "invalid-driver-token": "登录身份无效或已过期，请重新登录",
    "driver-required": "请先登录",
    "partner-unauthorized": "需要有效的合作方密钥",
    "scope-missing": "该密钥没有此项权限",
    "invalid-signature": "回调签名无效",
    "quote-not-yours": "该报价属于其他用户",
    "rate-limited": "请求过于频繁，请稍后再试",
    "daily-quota-exceeded": "今日调用次数已用完",
    # what is not there
    "not-found": "未找到",
    "method-not-allowed": "不支持该请求方法",
    "http-error": "请求失败",
    "station-not-found": "未找到该加油站",
    "region-not-found": "未找到该地区",
    "tile-not-found": "没有该地图瓦片",
    "position-not-found": "未找到该油位",
    "driver-not-found": "未找到该用户",
    "checkout-not-found": "未找到该订单",
    "reservation-not-found": "未找到该预留",
    "coupon-template-not-found": "未找到该优惠券模板",
    "payment-promotion-not-found": "未找到该支付优惠",
    "poi-id-not-found": "未找到该 POI 编号",
    "subscription-not-found": "未找到该订阅",
    # what cannot be done now
    "price-unavailable": "暂无当前油价",
    "grade-not-sold": "该站不销售此油品",
    "as-of-not-retained": "该时间点的数据已不再保留",
    "coupon-not-applicable": "这些优惠券不适用于本次加油",
    "coupons-unavailable": "优惠券不可用",
    "points-unavailable": "积分不足或不可用",
    "quote-expired": "报价已过期，请重新获取",
    "quote-already-used": "报价已被使用",
    "already-exists": "已存在",
    "reservation-expired": "预留已过期",
    "claim-conflict": "该订单已占用其他油位",
    "open-order-exists": "该油枪已有未完成的订单",
    "order-not-payable": "订单不在待支付状态",
    "order-not-cancellable": "订单已无法取消",
    "invoice-not-yet": "订单完成后才能申请发票",
    "station-closed": "加油站暂停营业",
    "nozzle-offline": "油枪离线",
    "idempotency-conflict": "幂等键已用于其他请求内容",
    "checkout-in-progress": "订单正在处理中",
    "checkout-cancelled": "订单已取消",
    "resync-required": "游标已失效，请重新获取全量快照",
    "poi-id-taken": "该 POI 编号已用于其他加油站",
    # the service
    "order-core-unavailable": "订单系统暂时不可用，请稍后再试",
    "order-core-conflict": "订单系统拒绝：状态冲突",
    "order-core-rejected": "订单系统拒绝了该订单",
    "index-not-ready": "搜索索引尚未就绪",
    "prices-not-ready": "油价正在加载",
    "not-ready": "服务尚未就绪",
    "internal-error": "服务内部错误",
    "basemap-not-installed": "底图尚未安装",
}


def title_in(language: Language, slug: str, english: str) -> str:
    """The title of problem `slug` in `language` (`english` is the handler's own English title)."""
    if language == "en":
        return english
    return ZH.get(slug, english)


def content_language(language: Language) -> str:
    return "en" if language == "en" else "zh-CN"
