// Standalone server: the public LedgerService over the in-process engine, one process, no
// replication. Composition only: flags, logger, backend, gRPC server, signals.
//
//   tsx cmd/standalone.ts --port 8000 --data-dir ./data/standalone [--host 127.0.0.1] [--log-level info]
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when it cannot start (data dir,
// port), 2 for bad flags.

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
import { LocalLedgerBackend } from "../src/standalone/local-backend.js";
import { startLedgerServer, type LedgerServer } from "../src/gateway/grpc-server.js";
import { systemDeps } from "../src/gateway/system-deps.js";
import { describeBindError, routeGrpcLogsTo } from "../src/transport/grpc-server-support.js";
import type { LedgerBackend } from "../src/ledger/backend.js";
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
  dataDir: string;
  host: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

function parseFlags(argv: string[]): Flags {
  const program = new Command("standalone")
    .description("Serve the ledger API from one process (no replication).")
    .option("--port <port>", "TCP port to listen on (0 = any free port)", parsePort, 8000)
    .option("--data-dir <dir>", "directory of the LevelDB database", parseNonEmpty, "./data/standalone")
    .option("--host <host>", "interface to listen on", parseNonEmpty, "127.0.0.1")
    .option("--log-level <level>", logLevelHelp, parseLogLevel, "info" as LogLevel)
    .option("--log-format <format>", logFormatHelp, parseLogFormat, "json" as LogFormat);
  addSecurityFlags(program, "gateway", true);
  const flags = parseFlagsOrExit<Flags>(program, argv);
  exitOnConflictingSecurityFlags(flags);
  return flags;
}

async function openBackend(dataDir: string, logger: Logger): Promise<LedgerBackend> {
  try {
    return await LocalLedgerBackend.open({ dataDir, logger });
  } catch (e) {
    failStartup("standalone", `cannot open data dir ${dataDir}`, e);
  }
}

async function listen(
  flags: Flags,
  backend: LedgerBackend,
  logger: Logger,
  security: TransportSecurity,
  apiKeys: ApiKeyStore | undefined,
): Promise<LedgerServer> {
  try {
    return await startLedgerServer({
      backend,
      security,
      apiKeys,
      host: flags.host,
      port: flags.port,
      logger,
      deps: systemDeps(logger),
    });
  } catch (e) {
    await backend.close().catch(() => undefined);
    failStartup("standalone", `cannot listen on ${flags.host}:${flags.port}`, describeBindError(e));
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const logger = createLogger({ name: "standalone", level: flags.logLevel, pretty: flags.logFormat === "pretty" });
  const lifecycle = stopOnSignals(logger);
  routeGrpcLogsTo(logger);
  // The public port serves with the gateway's certificate: it is the same API.
  const security = await openTransportSecurity("standalone", flags, { role: "gateway", fileName: "gateway" }, logger);
  const apiKeys = await openApiKeyStore("standalone", flags, logger);
  const backend = await openBackend(flags.dataDir, logger);
  lifecycle.setStop(() => backend.close());
  const server = await listen(flags, backend, logger, security, apiKeys);
  lifecycle.setStop(async () => {
    await server.shutdown();
    await backend.close();
    apiKeys?.close();
    security.close();
  });
  logger.info({ address: server.address, dataDir: flags.dataDir, security: security.mode }, "listening");
}

await main();
