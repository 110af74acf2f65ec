// CLI of the whole-cluster simulator: real NodeHosts, gateway routing and ledger on a simulated
// network, disks and clock, all from one seed.
//   npm run sim:cluster -- --seed 42          replay one seed exactly (with --verbose: its trace)
//   npm run sim:cluster -- --runs 1000        many seeds; reports runs per minute (progress on stderr)
// Exit codes: 0 all runs passed, 1 a run failed (seed, replay command, checks and trace tail
// printed), 2 bad flags (usage printed).

import { integer } from "../sim/cli-args.js";
import { Command, CommanderError, Option } from "commander";
import type { LogLevel } from "./sim-node.js";

const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace"];
import { chaosMsDefault, runClusterSimulation } from "./cluster-simulation.js";
import { describeResult } from "./describe-result.js";

const progressIntervalMs = 5_000;

interface Flags {
  seed?: number;
  runs?: number;
  chaosMs: number;
  verbose?: boolean;
  nodeLogs?: LogLevel;
}

function parseFlags(argv: string[]): Flags | number {
  const program = new Command("sim:cluster")
    .description("Seeded deterministic simulation of the whole cluster (nodes, gateway routing, ledger) under faults")
    .option("--seed <n>", "seed to run (with --runs: the first seed)", integer(0, 2 ** 32 - 1))
    .option("--runs <n>", "number of consecutive seeds to run", integer(1, 1_000_000))
    .option(
      "--chaos-ms <n>",
      "virtual milliseconds of workload under faults per run",
      integer(1, 3_600_000),
      chaosMsDefault,
    )
    .option("--verbose", "print the trace of a single run as it happens, or every run's summary")
    .addOption(new Option("--node-logs <level>", "the nodes' own logs at this level (a single run)").choices(logLevels))
    .allowExcessArguments(false)
    .exitOverride();
  try {
    program.parse(argv, { from: "user" });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
    process.stderr.write(program.helpInformation());
    return 2;
  }
  return program.opts<Flags>();
}

// Every failure in the product must be handled where it happens: in production an unhandled
// rejection kills the process.
process.on("unhandledRejection", (e) => {
  process.stderr.write(`unhandled rejection (a defect): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

async function main(): Promise<number> {
  const f = parseFlags(process.argv.slice(2));
  if (typeof f === "number") return f;
  const first = f.seed ?? (f.runs === undefined ? 1 : Math.floor(Math.random() * 2 ** 31));
  const runs = f.runs ?? 1;
  if (runs === 1) {
    const r = await runClusterSimulation({
      seed: first,
      chaosMs: f.chaosMs,
      ...(f.nodeLogs !== undefined ? { nodeLogLevel: f.nodeLogs } : {}),
      ...(f.verbose ? { onTrace: (line: string) => process.stdout.write(`${line}\n`) } : {}),
    });
    process.stdout.write(`${describeResult(r, f.chaosMs)}\n`);
    return r.passed ? 0 : 1;
  }
  process.stderr.write(`running seeds ${first}..${first + runs - 1}, ${f.chaosMs} virtual ms of chaos each\n`);
  const started = performance.now();
  let lastReport = started;
  let events = 0;
  for (let i = 0; i < runs; i++) {
    const r = await runClusterSimulation({ seed: first + i, chaosMs: f.chaosMs });
    events += r.events;
    if (f.verbose || !r.passed) process.stdout.write(`${describeResult(r, f.chaosMs)}\n`);
    if (!r.passed) return 1;
    const now = performance.now();
    if (now - lastReport >= progressIntervalMs) {
      lastReport = now;
      process.stderr.write(`${i + 1}/${runs} runs passed, ${perMinute(i + 1, now - started)} runs/min\n`);
    }
  }
  const elapsedMs = performance.now() - started;
  process.stdout.write(
    `${runs} runs passed (seeds ${first}..${first + runs - 1}) in ${(elapsedMs / 1000).toFixed(1)} s: ${perMinute(runs, elapsedMs)} runs/min, ${Math.round(events / runs)} events per run\n`,
  );
  return 0;
}

function perMinute(runs: number, elapsedMs: number): string {
  return ((runs * 60_000) / elapsedMs).toFixed(0);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
