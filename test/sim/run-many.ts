// Runs a range of seeds one after another and stops at the first failure.

import { runSimulation, type SimResult } from "./simulation.js";

export interface ManyOptions {
  firstSeed: number;
  runs: number;
  replicas?: 3 | 5;
  chaosSteps: number;
  /** Called after each run (progress reports, verbose summaries). */
  onRun?: (r: SimResult, done: number) => void;
}

export interface ManyResult {
  runs: number;
  elapsedMs: number;
  failure?: SimResult;
}

export function runMany(o: ManyOptions): ManyResult {
  const started = performance.now();
  for (let i = 0; i < o.runs; i++) {
    const seed = (o.firstSeed + i) >>> 0;
    const r = runSimulation(
      o.replicas === undefined
        ? { seed, chaosSteps: o.chaosSteps }
        : { seed, replicas: o.replicas, chaosSteps: o.chaosSteps },
    );
    o.onRun?.(r, i + 1);
    if (r.failure !== undefined) return { runs: i + 1, elapsedMs: performance.now() - started, failure: r };
  }
  return { runs: o.runs, elapsedMs: performance.now() - started };
}

export function runsPerMinute(m: ManyResult): number {
  return m.elapsedMs === 0 ? 0 : Math.round((m.runs * 60_000) / m.elapsedMs);
}
