// The gateway's live status page, served on its --metrics-port next to /metrics:
//   GET /            the page (status-page/page-html.ts), which refreshes itself from
//   GET /status.json nodes up or down, every shard's leader and replicas (gathered from the
//                    nodes' admin API, cached briefly), and the gateway's request rates.
// Composition only: the parts live in cluster-status.ts, request-rates.ts and status-page/.

import type { TransportSecurity } from "../security/transport-security.js";
import type { NodeAdminClients } from "./node-admin.js";
import type { Logger } from "../base/logger.js";
import {
  requestRateMethodsMax,
  requestRateWindowSeconds,
  statusPageRefreshMs,
  statusNodeCallTimeoutMs,
} from "./limits.js";
import type { ClusterConfig } from "../cluster/config.js";
import type { HttpRoute } from "../ops/http-server.js";
import type { CallObserver } from "../transport/grpc-service.js";
import type { ClusterStatus } from "./cluster-status.js";
import { RequestRates, type RequestRatesSnapshot } from "./request-rates.js";
import { NodeStates } from "./status-page/node-states.js";
import { statusPageHtml } from "./status-page/page-html.js";

export interface StatusPage {
  /** Told of every finished LedgerService call (request rates). */
  observeCall: CallObserver;
  /** "/" (the page) and "/status.json" (what it shows). */
  routes: Record<string, HttpRoute>;
  close(): void;
}

/** The body of /status.json. */
export interface StatusDocument extends ClusterStatus {
  /** "tls" (mutual TLS inside the cluster, API keys on the public API) or "insecure" (--insecure). */
  security: TransportSecurity["mode"];
  /** When this answer was made (ISO 8601); gatheredAt may be up to statusCacheMs older. */
  servedAt: string;
  requests: RequestRatesSnapshot;
}

export interface StatusPageOptions {
  config: ClusterConfig;
  logger: Logger;
  /** Shown on the page: an insecure cluster gets a warning. */
  securityMode: TransportSecurity["mode"];
  /** The gateway's admin channels to the nodes (the page does not close them). */
  admin: NodeAdminClients;
}

export function createStatusPage(options: StatusPageOptions): StatusPage {
  // Rates are counted on the monotonic clock: a wall clock stepped back would file calls under
  // seconds already counted (or skip seconds when stepped forward).
  const rates = new RequestRates(requestRateWindowSeconds, requestRateMethodsMax, performance.now());
  const nodes = new NodeStates({ config: options.config, logger: options.logger, admin: options.admin });
  let closed = false;
  // A page refresh must outlast the slowest node call and the gathering around it.
  const page = statusPageHtml({ refreshMs: statusPageRefreshMs, fetchTimeoutMs: statusNodeCallTimeoutMs * 3 });
  return {
    observeCall: (method, code) => rates.observe(method, code, performance.now()),
    routes: {
      "/": () => ({ contentType: "text/html; charset=utf-8", body: page }),
      "/status.json": async () => {
        if (closed)
          return { status: 503, contentType: "text/plain; charset=utf-8", body: "the gateway is shutting down\n" };
        const cluster = await nodes.current();
        const document: StatusDocument = {
          ...cluster,
          security: options.securityMode,
          servedAt: new Date().toISOString(),
          requests: rates.snapshot(performance.now()),
        };
        return { contentType: "application/json; charset=utf-8", body: `${JSON.stringify(document, null, 1)}\n` };
      },
    },
    close: () => {
      // The HTTP server closes after this: a page asking meanwhile is told why, not given a 500.
      closed = true;
      nodes.close();
    },
  };
}
