// Prometheus metrics of the gateway: its LedgerService calls (latency and count by method and
// status code), the items of its CreateTransactions calls by outcome, and the standard process
// metrics. The gateway is stateless: the cluster's own
// state is on the nodes' /metrics.

import { Counter } from "prom-client";
import type { BatchItemObserver } from "../gateway/ledger-service.js";
import type { HttpRoute } from "../ops/http-server.js";
import type { CallObserver } from "../transport/grpc-service.js";
import { callMetrics } from "./call-metrics.js";
import { metricsRoutes, newMetricsRegistry } from "./metrics-registry.js";

export interface GatewayMetrics {
  /** Told of every finished LedgerService call. */
  observeCall: CallObserver;
  /** Told of every item of a CreateTransactions call. */
  observeBatchItem: BatchItemObserver;
  /** "/metrics". */
  routes: Record<string, HttpRoute>;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = newMetricsRegistry();
  // A CreateTransactions call answers OK whatever its items' outcomes, so the call counter
  // alone would hide items that failed.
  const items = new Counter({
    name: "ledger_gateway_batch_items_total",
    help: 'Items of CreateTransactions calls answered, by outcome ("OK" when created, else the item\'s error code).',
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const byCode = new Map<string, Counter.Internal>();
  return {
    observeCall: callMetrics(registry, "LedgerService"),
    observeBatchItem: (code) => {
      let child = byCode.get(code);
      if (child === undefined) byCode.set(code, (child = items.labels(code)));
      child.inc();
    },
    routes: metricsRoutes(registry),
  };
}
