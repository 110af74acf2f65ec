// The benchmark's flags. A bad value or a contradictory combination is a usage error: commander
// prints the problem naming the flag, and the caller exits 2.

import { randomInt } from "node:crypto";
import { Command, InvalidArgumentError, Option } from "commander";
import { addressArg, integerArg } from "../dev/arg-parsers.js";
import { generatedShardsMax } from "../../src/cluster/config.js";
import { defaultSecretsDir } from "../../src/security/tls-files.js";
import { createTransactionsItemsMax } from "../../src/ledger/limits.js";
import {
  benchAccountsDefault,
  benchAccountsMax,
  benchClientsDefault,
  benchClientsMax,
  benchChannelsDefault,
  benchDurationSDefault,
  benchDurationSMax,
  benchNodes,
  benchReplicationFactorDefault,
  benchShardsDefault,
  benchSweepPointsMax,
  benchWarmupSDefault,
  benchWarmupSMax,
} from "./limits.js";

const seedMax = 2 ** 32 - 1;

export interface BenchOptions {
  accounts: number;
  clients: number;
  /** LedgerClient instances (gRPC channels) the clients share round-robin. */
  channels: number;
  durationS: number;
  warmupS: number;
  /** A running gateway to load; absent: the bench starts (and stops) a cluster of its own. */
  gateway?: string;
  /** Seeds the workload's choices (accounts, amounts, settled or pending) per client. */
  seed: number;
  shards: number;
  replicationFactor: number;
  /** Where the own cluster's process logs go; absent: its temp dir (removed at the end). */
  logDir?: string;
  /** Where the own cluster's processes write CPU profiles (node --cpu-prof) as they exit. */
  cpuProfDir?: string;
  /** Batched mode: each request is one CreateTransactions of this many items; absent: one
   * CreateTransaction per request. */
  batchSize?: number;
  /** Without TLS and API keys: the own cluster runs with --insecure, or --gateway is insecure. */
  insecure: boolean;
  /** For --gateway: where its CA certificate and the admin key are (dev CLI conventions). */
  secretsDir: string;
  apiKey?: string;
  /** Run the matrix: 1, 64 and 256 clients and the batched mode (each on a fresh cluster). */
  matrix: boolean;
  /** Account counts to sweep, each a run of --clients clients on a fresh cluster. */
  accountsSweep?: number[];
}

export interface BenchOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

function ownClusterOption(flags: string, description: string): Option {
  return new Option(flags, `${description} (own cluster only)`).conflicts("gateway");
}

export function buildBenchProgram(output: BenchOutput): Command {
  return new Command("bench")
    .description(
      "Load the ledger with concurrent clients, one CreateTransaction per request (or with --batch-size, one CreateTransactions of that many); print one JSON line of results",
    )
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr })
    .showHelpAfterError()
    .exitOverride()
    .option(
      "--accounts <n>",
      `accounts created (and topped up) before the run (1..${benchAccountsMax})`,
      integerArg(1, benchAccountsMax),
      benchAccountsDefault,
    )
    .option(
      "--clients <n>",
      `concurrent clients, one request in flight each (1..${benchClientsMax})`,
      integerArg(1, benchClientsMax),
      benchClientsDefault,
    )
    .option(
      "--channels <n>",
      `gRPC channels (LedgerClient instances) the clients share round-robin (1..${benchClientsMax}; at most --clients are used)`,
      integerArg(1, benchClientsMax),
      benchChannelsDefault,
    )
    .option(
      "--duration-s <s>",
      `measured seconds (1..${benchDurationSMax})`,
      integerArg(1, benchDurationSMax),
      benchDurationSDefault,
    )
    .option(
      "--warmup-s <s>",
      `unmeasured seconds of load before the measured window (0..${benchWarmupSMax})`,
      integerArg(0, benchWarmupSMax),
      benchWarmupSDefault,
    )
    .option(
      "--gateway <host:port>",
      "load this running gateway instead of starting a cluster (then only the client's CPU is measured)",
      addressArg,
    )
    .option(
      "--batch-size <n>",
      `batched mode: each request is one CreateTransactions of this many random items (1..${createTransactionsItemsMax})`,
      integerArg(1, createTransactionsItemsMax),
    )
    .option(
      "--seed <n>",
      `seed of the workload's random choices (0..${seedMax}; random when not given)`,
      integerArg(0, seedMax),
    )
    .addOption(
      ownClusterOption("--shards <n>", `shards (1..${generatedShardsMax})`)
        .argParser(integerArg(1, generatedShardsMax))
        .default(benchShardsDefault),
    )
    .addOption(
      ownClusterOption("--replication-factor <n>", `replicas per shard (1..${benchNodes})`)
        .argParser(integerArg(1, benchNodes))
        .default(benchReplicationFactorDefault),
    )
    .addOption(
      ownClusterOption("--log-dir <dir>", "keep the processes' logs in this existing directory").argParser(nonEmpty),
    )
    .addOption(
      ownClusterOption(
        "--cpu-prof-dir <dir>",
        "write a V8 CPU profile of every server process into this existing directory (node --cpu-prof)",
      ).argParser(nonEmpty),
    )
    .addOption(
      new Option(
        "--insecure",
        "no TLS and no API keys: the own cluster runs with --insecure (to measure what security costs), or --gateway runs with it",
      ).default(false),
    )
    .addOption(
      new Option(
        "--matrix",
        "run 1, 64 and 256 clients and the batched mode (8 clients x 500), each on a fresh cluster: one JSON line per run, then a table on stderr",
      )
        .default(false)
        .conflicts(["gateway", "batchSize"]),
    )
    .addOption(
      new Option(
        "--accounts-sweep <list>",
        `comma-separated account counts (each 1..${benchAccountsMax}, at most ${benchSweepPointsMax}): one run of --clients clients per count, each on a fresh cluster`,
      )
        .argParser(accountsList)
        .conflicts(["gateway", "batchSize"]),
    )
    .option(
      "--secrets-dir <dir>",
      "with --gateway: where the cluster's CA certificate and admin key are",
      nonEmpty,
      defaultSecretsDir,
    )
    .option(
      "--api-key <key>",
      `with --gateway: the API key to send (default: $LEDGER_API_KEY, else <secrets-dir>/admin.api-key)`,
      nonEmpty,
    );
}

function accountsList(text: string): number[] {
  const parts = text.split(",");
  if (parts.length > benchSweepPointsMax) throw new InvalidArgumentError(`at most ${benchSweepPointsMax} counts`);
  const parse = integerArg(1, benchAccountsMax);
  return parts.map((part) => {
    try {
      return parse(part.trim());
    } catch (e) {
      throw new InvalidArgumentError(`"${part}": ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

function nonEmpty(text: string): string {
  if (text.trim() === "") throw new InvalidArgumentError("must not be empty");
  return text;
}

/** Parses process.argv-style arguments; throws commander's CommanderError on bad usage (after
 * printing it) and on --help. */
export function parseBenchOptions(argv: readonly string[], output: BenchOutput): BenchOptions {
  const program = buildBenchProgram(output);
  program.parse([...argv]);
  const o = program.opts<Omit<BenchOptions, "seed"> & { seed?: number }>();
  const sweep = o.accountsSweep;
  return {
    accounts: o.accounts,
    clients: o.clients,
    channels: o.channels,
    durationS: o.durationS,
    warmupS: o.warmupS,
    seed: o.seed ?? randomInt(0, seedMax),
    shards: o.shards,
    replicationFactor: o.replicationFactor,
    ...(o.gateway !== undefined ? { gateway: o.gateway } : {}),
    ...(o.logDir !== undefined ? { logDir: o.logDir } : {}),
    ...(o.cpuProfDir !== undefined ? { cpuProfDir: o.cpuProfDir } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    insecure: o.insecure,
    secretsDir: o.secretsDir,
    ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}),
    matrix: o.matrix,
    ...(sweep !== undefined ? { accountsSweep: sweep } : {}),
  };
}
