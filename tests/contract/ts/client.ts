// A small client of the service written against the types openapi-typescript generates from
// /openapi.json (generated/api.d.ts): the first screen, a station, its effective price, a quote and
// checkout, all through named fields. tests/contract/test_typescript_client.py type-checks it.
import type { components, operations } from "./generated/api";

type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Ok<O extends keyof operations, S extends keyof operations[O]["responses"]> = Json<
  operations[O]["responses"][S]
>;
type RequestBody<O extends keyof operations> = operations[O] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;
type Problem = components["schemas"]["Problem"];

async function call<T>(
  method: "GET" | "POST",
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json()) as Problem;
    const fields = (problem.errors ?? []).map((e) => `${e.in}.${e.name}: ${e.message}`);
    throw new Error(`${problem.status} ${problem.type}: ${problem.detail} ${fields.join("; ")}`);
  }
  return (await response.json()) as T;
}

// `driverToken`: the JWT the mini-program gateway signs for the driver after WeChat login.
export async function firstScreenToCheckout(base: string, driverToken: string): Promise<string> {
  const page = await call<Ok<"nearbyStations", 200>>(
    "GET",
    `${base}/v1/stations/nearby?lat=25.04&lon=102.71&coord=gcj02&grade=92&prices=true`,
  );
  const nearest = page.items[0];
  const metres: number = nearest.distance_m;
  const stationId: number = nearest.id;

  const detail = await call<Ok<"getStation", 200>>("GET", `${base}/v1/stations/${stationId}`);
  const position: number = detail.positions[0].number;
  const nozzle: number | undefined = detail.positions[0].nozzles?.[0]?.number;

  const question: RequestBody<"effectivePrice"> = {
    station_id: stationId,
    grade: "92",
    fill: { by_amount: "300.00" },
  };
  const driverHeaders = { Authorization: `Bearer ${driverToken}` };
  const price = await call<Ok<"effectivePrice", 200>>(
    "POST",
    `${base}/v1/prices/effective`,
    question,
    driverHeaders,
  );
  const payable: string = price.payable;
  const discounts: string[] = price.lines.map((line) => `${line.kind} ${line.amount}`);

  const quote = await call<Ok<"createQuote", 201>>("POST", `${base}/v1/quotes`, question, driverHeaders);
  const order: RequestBody<"createCheckout"> = {
    quote_token: quote.token,
    position,
    nozzle: nozzle ?? 1,
  };
  const checkout = await call<Ok<"createCheckout", 201>>("POST", `${base}/v1/checkout`, order, {
    ...driverHeaders,
    "Idempotency-Key": `chk-${quote.quote_id}`,
  });
  // null until the order is paid: wx.requestPayment first (POST /v1/me/orders/{id}/payment).
  const code: string | null | undefined = checkout.order?.verification_code;
  const payment = await call<Ok<"payMyOrder", 200>>(
    "POST",
    `${base}/v1/me/orders/${checkout.checkout_id}/payment`,
    undefined,
    driverHeaders,
  );
  const signed: string = `${payment.package} ${payment.signType} ${payment.paySign}`;
  const coupons = await call<Ok<"myCoupons", 200>>(
    "GET",
    `${base}/v1/me/coupons?station_id=${stationId}&grade=92&amount=300`,
    undefined,
    driverHeaders,
  );
  const why: (string | null)[] = coupons.items.map((c) => c.reason_text);
  const orders = await call<Ok<"myOrders", 200>>("GET", `${base}/v1/me/orders`, undefined, driverHeaders);
  const status: string | undefined = orders.items[0]?.invoice_request?.status;
  return `${metres} m, ${payable} ${price.currency} (${discounts.join(", ")}), code ${code ?? "pending"}, ${signed}, ${why.join()}, ${status ?? "no invoice"}`;
}
