// A cluster node: hosts one Raft replica of every shard that cluster_config.json assigns to
// this node, all driven by one loop over one LevelDB. Composition only: flags, config, logger,
// node host, gRPC server, signals.
//
//   tsx cmd/node.ts --node-id node01 --cluster-config cluster_config.json --data-dir ./data/node01
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when it cannot start (config, data
// dir, port) or the loop fails, 2 for bad flags.

import { Command, InvalidArgumentError } from "commander";
import { createLogger, type LogFormat, type LogLevel } from "../src/base/logger.js";
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
import {
  nodeTickMsDefault,
  raftLogEntriesBeforeCompaction,
  raftLogEntriesBeforeCompactionMax,
  raftLogEntriesBeforeCompactionMin,
} from "../src/node/limits.js";
import { loadClusterConfig, type ClusterConfig } from "../src/cluster/config.js";
import { routeGrpcLogsTo } from "../src/transport/grpc-server-support.js";
import { NodeHost } from "../src/node/node-host.js";
import { startNodeServer, type NodeServer } from "../src/node/node-server.js";
import { createNodeMetrics } from "../src/metrics/node-metrics.js";
import { describeListenError, startOpsHttpServer, type OpsHttpServer } from "../src/ops/http-server.js";
import {
  addSecurityFlags,
  exitOnConflictingSecurityFlags,
  openTransportSecurity,
  type SecurityFlags,
} from "./support/security-flags.js";

interface Flags extends SecurityFlags {
  nodeId: string;
  clusterConfig: string;
  dataDir: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  tickMs: number;
  metricsPort?: number;
  metricsHost: string;
  compactAfterEntries: number;
}

function parseTickMs(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 10 || Number(text) > 10_000)
    throw new InvalidArgumentError("expected milliseconds from 10 to 10000");
  return Number(text);
}

function parseCompactAfterEntries(text: string): number {
  const n = Number(text);
  if (!/^\d{1,8}$/.test(text) || n < raftLogEntriesBeforeCompactionMin || n > raftLogEntriesBeforeCompactionMax) {
    throw new InvalidArgumentError(
      `expected a number of entries from ${raftLogEntriesBeforeCompactionMin} to ${raftLogEntriesBeforeCompactionMax}`,
    );
  }
  return n;
}

function parseFlags(argv: string[]): Flags {
  const program = new Command("node")
    .description("Run one cluster node: a Raft replica of every shard the cluster config places on it.")
    .requiredOption("--node-id <id>", "this node's id in the cluster config", parseNonEmpty)
    .option("--cluster-config <file>", "cluster config file", parseNonEmpty, "cluster_config.json")
    .requiredOption("--data-dir <dir>", "directory of this node's LevelDB database", parseNonEmpty)
    .option("--log-level <level>", logLevelHelp, parseLogLevel, "info" as LogLevel)
    .option("--log-format <format>", logFormatHelp, parseLogFormat, "json" as LogFormat)
    .option(
      "--tick-ms <ms>",
      "Raft tick (heartbeat) interval; elections take 10-20 ticks",
      parseTickMs,
      nodeTickMsDefault,
    )
    .option(
      "--metrics-port <port>",
      "serve Prometheus metrics on http://<metrics-host>:<port>/metrics (off when not given)",
      parsePort,
    )
    .option("--metrics-host <host>", "interface of the metrics port", parseNonEmpty, "127.0.0.1")
    .option(
      "--compact-after-entries <n>",
      "snapshot and compact a replica's log once it holds more entries than this (keeps the newest quarter)",
      parseCompactAfterEntries,
      raftLogEntriesBeforeCompaction,
    );
  addSecurityFlags(program, "<node-id>", false);
  const flags = parseFlagsOrExit<Flags>(program, argv);
  exitOnConflictingSecurityFlags(flags);
  return flags;
}

async function loadConfig(flags: Flags): Promise<{ config: ClusterConfig; address: string }> {
  let config: ClusterConfig;
  try {
    config = await loadClusterConfig(flags.clusterConfig);
  } catch (e) {
    failStartup("node", undefined, e); // the message names the file, the field and the problem
  }
  const node = config.nodes.find((n) => n.id === flags.nodeId);
  if (node === undefined)
    failStartup(
      "node",
      `--node-id ${flags.nodeId}`,
      new Error(`not a node of ${flags.clusterConfig} (nodes: ${config.nodes.map((n) => n.id).join(", ")})`),
    );
  return { config, address: node.address };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const logger = createLogger({ name: flags.nodeId, level: flags.logLevel, pretty: flags.logFormat === "pretty" });
  const lifecycle = stopOnSignals(logger);
  const { config, address } = await loadConfig(flags);
  routeGrpcLogsTo(logger);
  const security = await openTransportSecurity(
    "node",
    flags,
    { role: "node", name: flags.nodeId, fileName: flags.nodeId },
    logger,
  );
  const metrics = createNodeMetrics(flags.nodeId);
  let host: NodeHost;
  const opening = NodeHost.open({
    config,
    nodeId: flags.nodeId,
    security,
    dataDir: flags.dataDir,
    logger,
    observer: metrics.observer,
    compactAfterEntries: flags.compactAfterEntries,
  });
  // A stop while the replicas load (a long log replays) closes the DB once it is open.
  lifecycle.setStop(async () => (await opening.catch(() => undefined))?.close());
  try {
    host = await opening;
  } catch (e) {
    failStartup("node", `cannot open data dir ${flags.dataDir}`, e);
  }
  let server: NodeServer;
  try {
    server = await startNodeServer(host, address, logger, {
      security,
      observe: metrics.observeCall,
      onIdentityMismatch: metrics.observeIdentityMismatch,
    });
  } catch (e) {
    await host.close().catch(() => undefined);
    failStartup("node", `cannot listen on ${address}`, e);
  }
  lifecycle.setStop(() => server.shutdown(0));
  metrics.attach(host);
  let http: OpsHttpServer | undefined;
  if (flags.metricsPort !== undefined) {
    try {
      http = await startOpsHttpServer({
        host: flags.metricsHost,
        port: flags.metricsPort,
        routes: metrics.routes,
        logger,
      });
    } catch (e) {
      await server.shutdown(0).catch(() => undefined);
      failStartup("node", `cannot serve metrics on ${flags.metricsHost}:${flags.metricsPort}`, describeListenError(e));
    }
  }
  host.start(() => process.exit(1), flags.tickMs);
  lifecycle.setStop(async () => {
    // Health NOT_SERVING, leadership handed to other nodes, in-flight calls end, the host closes.
    await server.shutdown();
    await http?.close();
  });
  logger.info(
    {
      nodeId: flags.nodeId,
      address,
      dataDir: flags.dataDir,
      replicas: host.replicas.size,
      metrics: http?.address ?? null,
      security: security.mode,
    },
    "listening",
  );
}

await main();
