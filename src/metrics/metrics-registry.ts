// One Prometheus registry per process (not prom-client's global one, so a test can hold several
// nodes' metrics at once), with prom-client's standard process and Node.js runtime metrics under
// their usual names (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, ...), and the
// /metrics route that renders it in the text exposition format.

import { collectDefaultMetrics, Registry } from "prom-client";
import type { HttpRoute } from "../ops/http-server.js";

export function newMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** "/metrics": collects every metric (scrape-time gauges read the node here) and renders them. */
export function metricsRoutes(registry: Registry): Record<string, HttpRoute> {
  return {
    "/metrics": async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
