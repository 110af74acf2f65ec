// `npm run test:faults -- --minutes 10`: a longer randomized fault run against real processes,
// then the checkers; prints a summary (operations by outcome, faults injected, checker results)
// and exits 1 if any checker failed, 0 otherwise (an undecided linearizability check is reported
// as unknown, not as a pass).

import { Command, InvalidArgumentError } from "commander";
import { cleanUpEverything } from "../support/cleanup.js";
import { runFaults } from "./fault-run.js";
import { judgeRun, formatSummary } from "./verdict.js";

function boundedInt(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max)
      throw new InvalidArgumentError(`${name}: expected an integer from ${min} to ${max}`);
    return n;
  };
}

function positiveMinutes(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0 || n > 24 * 60)
    throw new InvalidArgumentError("expected minutes, more than 0 and at most 1440");
  return n;
}

interface Flags {
  minutes: number;
  seed: number;
  shards: number;
  clients: number;
  accounts: number;
  compactAfterEntries: number;
}

const program = new Command("test:faults")
  .description(
    "Randomized fault run against a real 3-node cluster, checked for linearizability, conservation, no overdraft and replica convergence.",
  )
  .option("--minutes <m>", "how long faults are injected", positiveMinutes, 10)
  .option(
    "--seed <n>",
    "seed of the workload and the fault schedule (random if not given)",
    boundedInt("--seed", 0, 2 ** 31 - 1),
  )
  .option("--shards <n>", "shards of the test cluster", boundedInt("--shards", 1, 64), 4)
  .option("--clients <n>", "concurrent clients", boundedInt("--clients", 1, 256), 8)
  .option("--accounts <n>", "accounts the clients share", boundedInt("--accounts", 1, 10_000), 40)
  .option(
    "--compact-after-entries <n>",
    "the nodes' log compaction threshold (small, so snapshots travel)",
    boundedInt("--compact-after-entries", 100, 10_000_000),
    500,
  )
  .showHelpAfterError();

async function main(): Promise<number> {
  program.parse(process.argv);
  const flags = program.opts<Flags>();
  const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
  const start = Date.now();
  const log = (line: string): void => console.log(`[${((Date.now() - start) / 1000).toFixed(1).padStart(6)}s] ${line}`);
  log(
    `fault run: ${flags.minutes} min, seed ${seed}, ${flags.shards} shards, ${flags.clients} clients, ${flags.accounts} accounts`,
  );
  const stopOnSignal = (): void => {
    log("interrupted: stopping the cluster");
    void cleanUpEverything().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    const result = await runFaults({
      durationMs: flags.minutes * 60_000,
      seed,
      shards: flags.shards,
      clients: flags.clients,
      accounts: flags.accounts,
      compactAfterEntries: flags.compactAfterEntries,
      calmMsMax: 3_000,
      log,
    });
    const verdict = judgeRun(result);
    console.log(formatSummary(result, verdict, seed));
    return verdict.passed ? 0 : 1;
  } finally {
    await cleanUpEverything();
  }
}

process.exit(await main());
