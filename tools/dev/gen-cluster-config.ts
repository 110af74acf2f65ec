// `dev gen-cluster-config`: writes a cluster config generated and validated by
// src/cluster/config.ts. The file is written to a temporary name and renamed into place, so a
// reader never sees half a config.

import { rename, rm, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { isLedgerError } from "../../src/base/errors.js";
import {
  formatClusterConfig,
  generateClusterConfig,
  generatedNodesMax,
  generatedShardsMax,
} from "../../src/cluster/config.js";
import { hostArg, integerArg } from "./arg-parsers.js";
import { CliFailure, writeLine, type DevIo } from "./io.js";

interface GenOptions {
  nodes: number;
  shards: number;
  replicationFactor: number;
  basePort: number;
  host: string;
  out: string;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    throw new CliFailure(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export function registerGenClusterConfig(program: Command, io: DevIo): void {
  program
    .command("gen-cluster-config")
    .description("write a cluster config: equal key ranges, replicas round-robin over the nodes")
    .option("--nodes <n>", `number of nodes (1..${generatedNodesMax})`, integerArg(1, generatedNodesMax), 3)
    .option("--shards <n>", `number of shards (1..${generatedShardsMax})`, integerArg(1, generatedShardsMax), 16)
    .option("--replication-factor <n>", "replicas per shard (at most --nodes)", integerArg(1, generatedNodesMax), 3)
    .option(
      "--base-port <port>",
      "port of the first node; node i listens on base-port + i",
      integerArg(1, 65_535),
      7000,
    )
    .option("--host <host>", "host of every node address", hostArg, "127.0.0.1")
    .option("--out <file>", "where to write the config", "cluster_config.json")
    .action(async (options: GenOptions, command: Command) => {
      let text: string;
      try {
        text = formatClusterConfig(generateClusterConfig(options));
      } catch (e) {
        // A combination of flags that cannot make a valid config is a usage error.
        if (isLedgerError(e) && e.code === "INVALID_ARGUMENT") return command.error(`error: ${e.message}`);
        throw e;
      }
      await writeAtomically(options.out, text);
      writeLine(
        io.stdout,
        `wrote ${options.out}: ${options.nodes} nodes, ${options.shards} shards, ${options.replicationFactor} replicas each`,
      );
    });
}
