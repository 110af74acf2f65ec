// Cluster gateway: the public LedgerService, stateless, over the cluster's nodes. The same
// service code as the standalone server; only the backend differs (ClusterBackend routes each
// call to its shard's leader). Composition only: flags, logger, config, backend, gRPC server,
// signals.
//
//   tsx cmd/gateway.ts --port 8000 --cluster-config cluster_config.json [--host 127.0.0.1] [--log-level info]
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when it cannot start (config, port),
// 2 for bad flags.

import { Command } from "commander";
import { createLogger, type LogFormat, type LogLevel, type Logger } from "../src/base/logger.js";
import {
  failStartup,
  logFormatHelp,
  logLevelHelp,
  parseFlagsOrExit,
  parseLogFormat,
  parseLogLevel,
  parseNonEmpty,
  parsePort,
  stopOnSignals,
} from "./support/server-cli.js";
import { loadClusterConfig, type ClusterConfig } from "../src/cluster/config.js";
import { ClusterBackend } from "../src/gateway/cluster-backend.js";
import { startLedgerServer, type LedgerServer } from "../src/gateway/grpc-server.js";
import { systemDeps } from "../src/gateway/system-deps.js";
import { describeBindError, routeGrpcLogsTo } from "../src/transport/grpc-server-support.js";
import type { BatchItemObserver } from "../src/gateway/ledger-service.js";
import type { LedgerBackend } from "../src/ledger/backend.js";
import { createGatewayMetrics } from "../src/metrics/gateway-metrics.js";
import { createStatusPage } from "../src/gateway/status-page.js";
import { describeListenError, startOpsHttpServer, type HttpRoute, type OpsHttpServer } from "../src/ops/http-server.js";
import type { CallObserver, UnaryImpl } from "../src/transport/grpc-service.js";
import type { AdminService } from "../src/gen/ledger/admin/v1/admin_pb.js";
import { createAdminService } from "../src/gateway/admin-service.js";
import { NodeAdminClients } from "../src/gateway/node-admin.js";
import { statusNodeCallTimeoutMs } from "../src/gateway/limits.js";
import type { ApiKeyStore } from "../src/security/key-store.js";
import type { TransportSecurity } from "../src/security/transport-security.js";
import {
  addSecurityFlags,
  exitOnConflictingSecurityFlags,
  openApiKeyStore,
  openTransportSecurity,
  type SecurityFlags,
} from "./support/security-flags.js";

interface Flags extends SecurityFlags {
  port: number;
  clusterConfig: string;
  host: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  metricsPort?: number;
}

function parseFlags(argv: string[]): Flags {
  const program = new Command("gateway")
    .description("Serve the ledger API in front of a cluster of nodes.")
    .option("--port <port>", "TCP port to listen on (0 = any free port)", parsePort, 8000)
    .option("--cluster-config <file>", "the cluster's cluster_config.json", parseNonEmpty, "cluster_config.json")
    .option("--host <host>", "interface to listen on", parseNonEmpty, "127.0.0.1")
    .option("--log-level <level>", logLevelHelp, parseLogLevel, "info" as LogLevel)
    .option("--log-format <format>", logFormatHelp, parseLogFormat, "json" as LogFormat)
    .option(
      "--metrics-port <port>",
      "serve Prometheus metrics (/metrics) and the live status page (/) on this HTTP port of --host (off when not given)",
      parsePort,
    );
  addSecurityFlags(program, "gateway", true);
  const flags = parseFlagsOrExit<Flags>(program, argv);
  exitOnConflictingSecurityFlags(flags);
  return flags;
}

async function loadConfig(path: string): Promise<ClusterConfig> {
  try {
    return await loadClusterConfig(path);
  } catch (e) {
    // The message already names the file, the field and the problem.
    failStartup("gateway", undefined, e);
  }
}

interface Secured {
  security: TransportSecurity;
  apiKeys: ApiKeyStore | undefined;
  admin: UnaryImpl<typeof AdminService>;
}

async function listen(
  flags: Flags,
  backend: LedgerBackend,
  logger: Logger,
  secured: Secured,
  observe: CallObserver,
  observeBatchItem: BatchItemObserver,
): Promise<LedgerServer> {
  try {
    return await startLedgerServer({
      backend,
      ...secured,
      host: flags.host,
      port: flags.port,
      logger,
      deps: systemDeps(logger),
      observe,
      observeBatchItem,
    });
  } catch (e) {
    await backend.close().catch(() => undefined);
    failStartup("gateway", `cannot listen on ${flags.host}:${flags.port}`, describeBindError(e));
  }
}

/** The HTTP port for metrics and the status page, when asked for; a failure to bind stops the gateway. */
async function serveHttp(
  flags: Flags,
  routes: Record<string, HttpRoute>,
  logger: Logger,
  undo: () => Promise<void>,
): Promise<OpsHttpServer | undefined> {
  if (flags.metricsPort === undefined) return undefined;
  try {
    return await startOpsHttpServer({ host: flags.host, port: flags.metricsPort, routes, logger });
  } catch (e) {
    await undo().catch(() => undefined);
    failStartup("gateway", `cannot serve metrics on ${flags.host}:${flags.metricsPort}`, describeListenError(e));
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const logger = createLogger({ name: "gateway", level: flags.logLevel, pretty: flags.logFormat === "pretty" });
  const lifecycle = stopOnSignals(logger);
  routeGrpcLogsTo(logger);
  const config = await loadConfig(flags.clusterConfig);
  // One certificate for both sides: a client of the nodes (role gateway) and the public API's server.
  const security = await openTransportSecurity("gateway", flags, { role: "gateway", fileName: "gateway" }, logger);
  const apiKeys = await openApiKeyStore("gateway", flags, logger);
  const backend = new ClusterBackend({ config, logger, security });
  lifecycle.setStop(() => backend.close());
  const metrics = createGatewayMetrics();
  const admin = new NodeAdminClients(
    config,
    (nodeId) => security.channelTo({ role: "node", name: nodeId }),
    statusNodeCallTimeoutMs,
  );
  const status = createStatusPage({ config, logger, securityMode: security.mode, admin });
  const server = await listen(
    flags,
    backend,
    logger,
    { security, apiKeys, admin: createAdminService(config, admin) },
    (method, code, seconds) => {
      metrics.observeCall(method, code, seconds);
      status.observeCall(method, code, seconds);
    },
    metrics.observeBatchItem,
  );
  const http = await serveHttp(flags, { ...metrics.routes, ...status.routes }, logger, async () => {
    await server.shutdown(0);
    await backend.close();
  });
  lifecycle.setStop(async () => {
    await server.shutdown();
    await backend.close();
    status.close();
    admin.close();
    await http?.close();
    apiKeys?.close();
    security.close();
  });
  logger.info(
    {
      address: server.address,
      http: http?.address ?? null,
      security: security.mode,
      clusterConfig: flags.clusterConfig,
      configVersion: config.version,
      nodes: config.nodes.length,
      shards: config.shards.length,
    },
    "listening",
  );
}

await main();
