// The gateway's live status page ("/" and "/status.json" on its --metrics-port): filled in by
// the status page work of issue 7.

import type { Logger } from "../base/logger.js";
import type { ClusterConfig } from "../cluster/config.js";
import type { HttpRoute } from "../ops/http-server.js";
import type { CallObserver } from "../transport/grpc-service.js";

export interface StatusPage {
  /** Told of every finished LedgerService call (request rates). */
  observeCall: CallObserver;
  /** "/" (the page) and "/status.json" (what it shows). */
  routes: Record<string, HttpRoute>;
  close(): void;
}

export function createStatusPage(options: { config: ClusterConfig; logger: Logger }): StatusPage {
  void options;
  return { observeCall: () => undefined, routes: {}, close: () => undefined };
}
