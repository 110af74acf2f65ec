// Loading a cluster config: JSON text -> field checks (config-parse.ts) -> cross-field checks
// (config-check.ts). Every failure is INVALID_ARGUMENT with one line naming the source, the
// field path and the problem.

import { readFile } from "node:fs/promises";
import { LedgerError } from "../base/errors.js";
import type { ClusterConfig } from "./config-types.js";
import { parseConfigShape } from "./config-parse.js";
import { checkConfigConsistency } from "./config-check.js";

/** The prefix of every config error message when no file name is known. */
export const configErrorPrefix = "cluster config";

/**
 * Validates a parsed JSON value as a cluster config: field types, bounds, ids, addresses,
 * coverage of the key space, replica placement. Throws INVALID_ARGUMENT whose one-line message
 * names the field path and the problem, prefixed with `source`.
 */
export function parseClusterConfig(json: unknown, source: string = configErrorPrefix): ClusterConfig {
  const fail = (problem: string): never => {
    throw new LedgerError("INVALID_ARGUMENT", `${source}: ${problem}`);
  };
  const config = parseConfigShape(json, fail);
  checkConfigConsistency(config, fail);
  return config;
}

/** Reads, parses and validates a cluster config file; errors name the file. */
export async function loadClusterConfig(path: string): Promise<ClusterConfig> {
  const source = `${configErrorPrefix} ${path}`;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new LedgerError("INVALID_ARGUMENT", `${source}: cannot read the file (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LedgerError("INVALID_ARGUMENT", `${source}: not valid JSON: ${(e as Error).message}`);
  }
  return parseClusterConfig(json, source);
}
