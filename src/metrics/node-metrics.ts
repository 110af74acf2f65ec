// Prometheus metrics of a node (prom-client): filled in by the metrics work of issue 7.

import type { HttpRoute } from "../ops/http-server.js";
import type { CallObserver } from "../transport/grpc-service.js";
import type { NodeHost } from "../node/node-host.js";
import { nullNodeObserver, type NodeObserver } from "../node/node-observer.js";

export interface NodeMetrics {
  /** Passed to NodeHost.open: the loop's events. */
  observer: NodeObserver;
  /** Told of every finished NodeService call. */
  observeCall: CallObserver;
  /** Gauges read from the host at each scrape. */
  attach(host: NodeHost): void;
  /** "/metrics". */
  routes: Record<string, HttpRoute>;
}

export function createNodeMetrics(nodeId: string): NodeMetrics {
  void nodeId;
  return {
    observer: nullNodeObserver,
    observeCall: () => undefined,
    attach: () => undefined,
    routes: { "/metrics": () => ({ contentType: "text/plain; version=0.0.4", body: "" }) },
  };
}
