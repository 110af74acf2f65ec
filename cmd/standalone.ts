// Standalone server: the public LedgerService over the in-process engine, one process, no
// replication. Composition only: flags, logger, backend, gRPC server, signals.
//
//   tsx cmd/standalone.ts --port 8000 --data-dir ./data/standalone [--host 127.0.0.1] [--log-level info]
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when it cannot start (data dir,
// port), 2 for bad flags.

import { Command, CommanderError, InvalidArgumentError } from "commander";
import { createLogger, isLogLevel, logLevels, type LogLevel, type Logger } from "../src/base/logger.js";
import { LocalLedgerBackend } from "../src/node/local-backend.js";
import { describeBindError, routeGrpcLogsTo, startLedgerServer, type LedgerServer } from "../src/gateway/grpc-server.js";
import { systemDeps } from "../src/gateway/system-deps.js";
import type { LedgerBackend } from "../src/ledger/backend.js";

interface Flags {
  port: number;
  dataDir: string;
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
  const program = new Command("standalone")
    .description("Serve the ledger API from one process (no replication).")
    .option("--port <port>", "TCP port to listen on (0 = any free port)", parsePort, 8000)
    .option("--data-dir <dir>", "directory of the LevelDB database", parseNonEmpty, "./data/standalone")
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
function fail(what: string, error: unknown): never {
  // LevelDB puts the useful part ("IO error: lock ...: Resource temporarily unavailable") in the cause.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
  const why = (error instanceof Error ? error.message : String(error)) + cause;
  process.stderr.write(`standalone: ${what}: ${why.split("\n")[0]}\n`);
  process.exit(1);
}

async function openBackend(dataDir: string, logger: Logger): Promise<LedgerBackend> {
  try {
    return await LocalLedgerBackend.open({ dataDir, logger });
  } catch (e) {
    fail(`cannot open data dir ${dataDir}`, e);
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
  const logger = createLogger({ name: "standalone", level: flags.logLevel, pretty: flags.pretty });
  routeGrpcLogsTo(logger);
  const backend = await openBackend(flags.dataDir, logger);
  const server = await listen(flags, backend, logger);
  stopOnSignals(server, backend, logger);
  logger.info({ address: server.address, dataDir: flags.dataDir }, "listening");
}

await main();
