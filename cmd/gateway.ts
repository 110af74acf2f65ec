// Cluster gateway: the public LedgerService, stateless, over the cluster's nodes. The same
// service code as the standalone server; only the backend differs (ClusterBackend routes each
// call to its shard's leader). Composition only: flags, logger, config, backend, gRPC server,
// signals.
//
//   tsx cmd/gateway.ts --port 8000 --cluster-config cluster_config.json [--host 127.0.0.1] [--log-level info]
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when it cannot start (config, port),
// 2 for bad flags.

import { Command, CommanderError, InvalidArgumentError } from "commander";
import { createLogger, isLogLevel, logLevels, type LogLevel, type Logger } from "../src/base/logger.js";
import { loadClusterConfig, type ClusterConfig } from "../src/cluster/config.js";
import { ClusterBackend } from "../src/gateway/cluster-backend.js";
import { describeBindError, routeGrpcLogsTo, startLedgerServer, type LedgerServer } from "../src/gateway/grpc-server.js";
import { systemDeps } from "../src/gateway/system-deps.js";
import type { LedgerBackend } from "../src/ledger/backend.js";

interface Flags {
  port: number;
  clusterConfig: string;
  host: string;
  logLevel: LogLevel;
  pretty: boolean;
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) {
    throw new InvalidArgumentError("expected a port number from 0 to 65535 (0 picks a free one)");
  }
  return Number(text);
}

function parseLogLevel(text: string): LogLevel {
  if (!isLogLevel(text)) throw new InvalidArgumentError(`expected one of ${logLevels.join(", ")}`);
  return text;
}

function parseNonEmpty(text: string): string {
  if (text.trim() === "") throw new InvalidArgumentError("must not be empty");
  return text;
}

function parseFlags(argv: string[]): Flags {
  const program = new Command("gateway")
    .description("Serve the ledger API in front of a cluster of nodes.")
    .option("--port <port>", "TCP port to listen on (0 = any free port)", parsePort, 8000)
    .option("--cluster-config <file>", "the cluster's cluster_config.json", parseNonEmpty, "cluster_config.json")
    .option("--host <host>", "interface to listen on", parseNonEmpty, "127.0.0.1")
    .option("--log-level <level>", `one of ${logLevels.join(", ")}`, parseLogLevel, "info" as LogLevel)
    .option("--pretty", "human-readable log lines instead of JSON", false)
    .showHelpAfterError()
    .exitOverride();
  try {
    program.parse(argv);
  } catch (e) {
    // Commander already printed the problem and the usage; --help is the only clean exit.
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
    throw e;
  }
  return program.opts<Flags>();
}

/** Prints one line for the operator and exits: start-up failures are not crashes. */
function fail(what: string | undefined, error: unknown): never {
  const why = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gateway: ${what ? `${what}: ` : ""}${why.split("\n")[0]}\n`);
  process.exit(1);
}

async function loadConfig(path: string): Promise<ClusterConfig> {
  try {
    return await loadClusterConfig(path);
  } catch (e) {
    // The message already names the file, the field and the problem.
    fail(undefined, e);
  }
}

async function listen(flags: Flags, backend: LedgerBackend, logger: Logger): Promise<LedgerServer> {
  try {
    return await startLedgerServer({ backend, host: flags.host, port: flags.port, logger, deps: systemDeps(logger) });
  } catch (e) {
    await backend.close().catch(() => undefined);
    fail(`cannot listen on ${flags.host}:${flags.port}`, describeBindError(e));
  }
}

function stopOnSignals(server: LedgerServer, backend: LedgerBackend, logger: Logger): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    await server.shutdown();
    await backend.close();
    logger.info("stopped");
    process.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      stop(signal).catch((e: unknown) => {
        logger.fatal({ err: e }, "shutdown failed");
        process.exit(1);
      });
    });
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const logger = createLogger({ name: "gateway", level: flags.logLevel, pretty: flags.pretty });
  routeGrpcLogsTo(logger);
  const config = await loadConfig(flags.clusterConfig);
  const backend = new ClusterBackend({ config, logger });
  const server = await listen(flags, backend, logger);
  stopOnSignals(server, backend, logger);
  logger.info(
    { address: server.address, clusterConfig: flags.clusterConfig, configVersion: config.version, nodes: config.nodes.length, shards: config.shards.length },
    "listening",
  );
}

await main();
