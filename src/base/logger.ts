// The one logger factory. JSON lines on stdout by default (machines and tests read them);
// `pretty` gives a short human line for a terminal. Money and ids are `bigint`: pino would
// print them as bare JSON numbers, which every JSON.parse above 2^53 silently rounds, so they
// are written as decimal strings instead. That holds for the fields of a log call and the base
// bindings; pino resets the bindings formatter for child loggers, so keep bigints out of
// `child({...})` bindings (format them first).

import { pino, type Logger, type LevelWithSilent, type DestinationStream } from "pino";
import { default as pinoPretty } from "pino-pretty";

export type { Logger };

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const logFormats = ["json", "pretty"] as const;
export type LogFormat = (typeof logFormats)[number];
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  name: string;
  level?: LogLevel;
  pretty?: boolean;
  /** Where lines go; stdout when omitted. Tests pass a collecting stream. */
  destination?: DestinationStream;
}

export function isLogLevel(text: string): text is LogLevel {
  return (logLevels as readonly string[]).includes(text);
}

export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ?? (options.pretty ? prettyStdout() : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      name: options.name,
      level: (options.level ?? "info") satisfies LevelWithSilent,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        // Levels as words: easier to grep, and what the pretty printer shows anyway.
        level: (label) => ({ level: label }),
        log: (object) => bigintsToStrings(object) as Record<string, unknown>,
        bindings: (bindings) => bigintsToStrings(bindings) as Record<string, unknown>,
      },
    },
    destination,
  );
}

/** A copy of `value` with every bigint turned into its decimal string; the input is untouched. */
export function bigintsToStrings(value: unknown, depth = 0): unknown {
  // Log objects are small and shallow; the bound stops a cyclic object from looping forever.
  if (depth > bigintWalkDepthMax) return value;
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error || value instanceof Uint8Array || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((v) => bigintsToStrings(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = bigintsToStrings(v, depth + 1);
  return out;
}

/** Nesting depth up to which log fields are scanned for bigints. */
const bigintWalkDepthMax = 8;

/**
 * pino-pretty, synchronous so lines keep their order with the process's other output and none
 * is lost at exit: `HH:MM:ss.l LEVEL (name): msg` and the fields below it.
 */
function prettyStdout(): DestinationStream {
  return pinoPretty({
    sync: true,
    colorize: process.stdout.isTTY === true,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname",
    singleLine: true,
  });
}
