// Helpers every gRPC server process shares (node, gateway, standalone): grpc-js's own logs into
// ours, bind errors in a line, and a graceful stop with a bound.

import { type Server, setLogger, setLogVerbosity, logVerbosity } from "@grpc/grpc-js";
import type { Logger } from "../base/logger.js";

/**
 * Sends grpc-js's own diagnostics (it writes them to stderr by default) into our log as warn
 * lines, so stderr carries only what the process itself has to say. Process-wide.
 */
export function routeGrpcLogsTo(logger: Logger): void {
  const write = (...args: unknown[]): void => logger.warn({ source: "grpc-js" }, args.map(String).join(" "));
  setLogger({ error: write, info: write, debug: write });
  setLogVerbosity(logVerbosity.ERROR);
}

/** The useful part of a grpc-js bind failure ("listen EADDRINUSE: address already in use ..."). */
export function describeBindError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /listen (E[A-Z]+: [^\]]+)/.exec(message)?.[1] ?? message;
}

export function shutdownGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
