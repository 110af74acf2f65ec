// CLI of the deterministic Raft simulator.
//   npm run sim -- --seed 42              replay one seed exactly
//   npm run sim -- --runs 100000          many seeds, reports runs per minute (progress on stderr)
// Exit codes: 0 all runs passed, 1 a run failed (seed, replay command and trace tail printed),
// 2 bad flags (usage printed).

import { integer } from "./cli-args.js";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { describeFailure, describePass, replayCommand } from "./report.js";
import { runMany, runsPerMinute } from "./run-many.js";
import { runSimulation } from "./simulation.js";

/** Chaos steps per run unless --steps says otherwise. */
export const chaosStepsDefault = 1000;
/** Long runs report progress on stderr this often. */
const progressIntervalMs = 2_000;

function replicaCount(v: string): 3 | 5 {
  if (v === "3") return 3;
  if (v === "5") return 5;
  throw new InvalidArgumentError(`expected 3 or 5, got "${v}"`);
}

interface Flags {
  seed?: number;
  runs?: number;
  replicas?: 3 | 5;
  steps: number;
  verbose?: boolean;
}

function parseFlags(argv: string[]): Flags | number {
  const program = new Command("sim")
    .description("Seeded deterministic simulation of a Raft group under crashes, partitions and a faulty network")
    .option("--seed <n>", "seed to run (with --runs: the first seed)", integer(0, 2 ** 32 - 1))
    .option("--runs <n>", "number of consecutive seeds to run", integer(1, 1_000_000_000))
    .option("--replicas <n>", "replicas per group, 3 or 5 (default: drawn from each seed)", replicaCount)
    .option("--steps <n>", "chaos steps per run before the heal", integer(1, 10_000_000), chaosStepsDefault)
    .option("--verbose", "print every trace line (one run) or every run's summary (many runs)")
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

function runOne(seed: number, f: Flags): number {
  const onTrace = f.verbose ? (line: string) => process.stdout.write(`${line}\n`) : undefined;
  const base = { seed, chaosSteps: f.steps, ...(onTrace ? { onTrace } : {}) };
  const r = runSimulation(f.replicas === undefined ? base : { ...base, replicas: f.replicas });
  if (r.failure !== undefined) {
    process.stdout.write(`${describeFailure(r, replayCommand(r, f.steps, f.replicas !== undefined))}\n`);
    return 1;
  }
  process.stdout.write(`${describePass(r)}\n`);
  return 0;
}

function runRange(firstSeed: number, f: Flags): number {
  const runs = f.runs!;
  process.stderr.write(`running seeds ${firstSeed}..${firstSeed + runs - 1}, ${f.steps} chaos steps each\n`);
  let lastReport = performance.now();
  const started = lastReport;
  const m = runMany({
    firstSeed,
    runs,
    chaosSteps: f.steps,
    ...(f.replicas !== undefined ? { replicas: f.replicas } : {}),
    onRun: (r, done) => {
      if (f.verbose && r.failure === undefined) process.stdout.write(`${describePass(r)}\n`);
      const now = performance.now();
      if (now - lastReport >= progressIntervalMs) {
        lastReport = now;
        const rate = Math.round((done * 60_000) / (now - started));
        process.stderr.write(`  ${done}/${runs} runs, ${rate} runs/min\n`);
      }
    },
  });
  if (m.failure !== undefined) {
    process.stdout.write(
      `${describeFailure(m.failure, replayCommand(m.failure, f.steps, f.replicas !== undefined))}\n`,
    );
    process.stdout.write(`${m.runs - 1} runs passed before it\n`);
    return 1;
  }
  process.stdout.write(
    `${m.runs} runs passed in ${(m.elapsedMs / 1000).toFixed(1)} s: ${runsPerMinute(m)} runs per minute (one core; seeds ${firstSeed}..${firstSeed + m.runs - 1})\n`,
  );
  return 0;
}

function main(argv: string[]): number {
  const f = parseFlags(argv);
  if (typeof f === "number") return f;
  // Without --seed, pick one from the clock and print it: the run is still replayable.
  const seed = f.seed ?? Date.now() % 2 ** 31;
  if (f.runs === undefined) return runOne(seed, f);
  return runRange(seed, f);
}

process.exitCode = main(process.argv.slice(2));
