// Serves LedgerService over a LedgerBackend on one gRPC address, with grpc.health.v1 (SERVING
// while taking calls) and server reflection. Used by the standalone server and (with the Raft
// router as the backend) by the cluster gateway.

import { Server } from "@grpc/grpc-js";
import { shutdownGracefully } from "../transport/grpc-server-support.js";
import { assert } from "../base/assert.js";
import { apiKeyInterceptor, openCallsLimiter } from "../security/auth-interceptors.js";
import type { ApiKeyStore } from "../security/key-store.js";
import type { TransportSecurity } from "../security/transport-security.js";
import { LedgerService } from "../gen/ledger/v1/ledger_pb.js";
import { addUnaryService, type CallObserver, type UnaryImpl } from "../transport/grpc-service.js";
import { AdminService } from "../gen/ledger/admin/v1/admin_pb.js";
import { strictServerOptions } from "../transport/strict-decoding.js";
import { openCallsMax } from "./limits.js";
import { grpcMessageBytesMax } from "../transport/limits.js";
import type { LedgerBackend } from "../ledger/backend.js";
import type { Logger } from "../base/logger.js";
import {
  createLedgerService,
  ledgerMethodsCheckingUtf8,
  type BatchItemObserver,
  type LedgerServiceDeps,
} from "./ledger-service.js";
import { HealthReporter } from "../ops/health.js";
import { addLedgerReflection } from "../ops/reflection.js";
import { shutdownGraceMsDefault } from "./limits.js";
export { shutdownGraceMsDefault } from "./limits.js";

export interface LedgerServerOptions {
  backend: LedgerBackend;
  /** TLS on the port (or the explicit --insecure). */
  security: TransportSecurity;
  /** The API keys every call but health and reflection must present; required with TLS
   * (secure means both), absent only with --insecure. */
  apiKeys: ApiKeyStore | undefined;
  host: string;
  /** 0 asks the OS for a free port; the bound one is in the result. */
  port: number;
  logger: Logger;
  deps: LedgerServiceDeps;
  /** Told of every finished call (metrics, request rates). */
  observe?: CallObserver;
  /** Health and reflection calls open at once (openCallsMax by default). */
  openCallsMax?: number;
  /** The cluster's admin API (the gateway's; the standalone server has none). */
  admin?: UnaryImpl<typeof AdminService>;
  /** Told of the outcome of every item of a CreateTransactions call (metrics). */
  observeBatchItem?: BatchItemObserver;
}

export interface LedgerServer {
  /** host:port actually bound (IPv6 hosts in brackets). */
  address: string;
  port: number;
  health: HealthReporter;
  /** Health NOT_SERVING (Watch streams see it, then end), stops accepting calls, lets in-flight
   * ones finish for up to graceMs, then cancels them. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startLedgerServer(options: LedgerServerOptions): Promise<LedgerServer> {
  const { logger, security, apiKeys } = options;
  assert(
    security.mode === "insecure" || apiKeys !== undefined,
    "a TLS ledger server needs API keys: secure means both",
  );
  // Undecodable requests get INVALID_ARGUMENT, on every service (strict-decoding.ts).
  const server = new Server(
    strictServerOptions({
      "grpc.max_receive_message_length": grpcMessageBytesMax,
      "grpc.max_send_message_length": grpcMessageBytesMax,
      // Every call but health and reflection presents an API key whose role allows it.
      // and health and reflection calls, which need none, are bounded in number.
      interceptors: [
        ...(apiKeys === undefined ? [] : [apiKeyInterceptor(apiKeys, logger, options.observe)]),
        openCallsLimiter(options.openCallsMax ?? openCallsMax, logger, options.observe),
      ],
    }),
  );
  const service = createLedgerService(options.backend, options.deps, options.observeBatchItem);
  addUnaryService(
    server,
    LedgerService,
    service,
    (method, error) => logger.error({ method, err: error }, "internal error in a call"),
    options.observe,
    {},
    ledgerMethodsCheckingUtf8,
  );
  if (options.admin !== undefined) {
    addUnaryService(
      server,
      AdminService,
      options.admin,
      (method, error) => logger.error({ method, err: error }, "internal error in an admin call"),
      options.observe,
    );
  }
  const health = new HealthReporter(LedgerService.typeName, logger);
  health.addToServer(server);
  addLedgerReflection(server, { admin: options.admin !== undefined });
  const hostPart = options.host.includes(":") ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${hostPart}:${options.port}`, security.publicServerCredentials(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  health.set(true, "taking calls");
  return {
    address: `${hostPart}:${port}`,
    port,
    health,
    shutdown: (graceMs = shutdownGraceMsDefault) => {
      health.set(false, "shutting down");
      health.endWatches();
      return shutdownGracefully(server, graceMs);
    },
  };
}
