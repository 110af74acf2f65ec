// What the server commands (node, gateway, standalone) share: flag parsers, parsing with the
// exit codes we promise (2 for bad flags, 0 for --help), one-line start-up failures (exit 1),
// and a graceful stop on SIGTERM/SIGINT.

import { CommanderError, InvalidArgumentError, type Command } from "commander";
import {
  isLogLevel,
  logFormats,
  logLevels,
  type LogFormat,
  type LogLevel,
  type Logger,
} from "../../src/base/logger.js";

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) {
    throw new InvalidArgumentError("expected a port number from 0 to 65535 (0 picks a free one)");
  }
  return Number(text);
}

export function parseLogLevel(text: string): LogLevel {
  if (!isLogLevel(text)) throw new InvalidArgumentError(`expected one of ${logLevels.join(", ")}`);
  return text;
}

export function parseNonEmpty(text: string): string {
  if (text.trim() === "") throw new InvalidArgumentError("must not be empty");
  return text;
}

export const logLevelHelp = `one of ${logLevels.join(", ")}`;

export function parseLogFormat(text: string): LogFormat {
  const format = logFormats.find((f) => f === text);
  if (format === undefined) throw new InvalidArgumentError(`expected one of ${logFormats.join(", ")}`);
  return format;
}

export const logFormatHelp = "json (one JSON object per line, for machines) or pretty (for a terminal)";

/** Parses argv; on a bad flag commander has printed the problem and the usage: exit 2. */
export function parseFlagsOrExit<T>(program: Command, argv: string[]): T {
  program.showHelpAfterError().exitOverride();
  try {
    program.parse(argv);
  } catch (e) {
    // --help is the only clean exit.
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
    throw e;
  }
  return program.opts<T & Record<string, unknown>>();
}

/** Prints one line for the operator and exits 1: start-up failures are not crashes. */
export function failStartup(name: string, what: string | undefined, error: unknown): never {
  // LevelDB puts the useful part ("IO error: lock ...: Resource temporarily unavailable") in the cause.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
  const why = (error instanceof Error ? error.message : String(error)) + cause;
  process.stderr.write(`${name}: ${what ? `${what}: ` : ""}${why.split("\n")[0]}\n`);
  process.exit(1);
}

export interface SignalStop {
  /** What the next SIGTERM/SIGINT runs: each start-up step that opens something replaces it. */
  setStop(stop: () => Promise<void>): void;
}

/**
 * Runs the current stop once on the first SIGTERM or SIGINT, then exits 0 (1 if stopping fails).
 * Install it first thing: a signal during start-up (a long replay, say) then closes what is open
 * and exits 0 instead of dying by the signal. Until `setStop`, a stop has nothing to close.
 */
export function stopOnSignals(logger: Logger, initial: () => Promise<void> = async () => undefined): SignalStop {
  let stop = initial;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (e: unknown) => {
        logger.fatal({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => onSignal(signal));
  return { setStop: (next) => (stop = next) };
}
