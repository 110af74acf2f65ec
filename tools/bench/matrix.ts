// npm run bench -- --matrix / --accounts-sweep: several runs, each on a fresh cluster (so one
// run's data and warm caches never flatter the next), one JSON line per run on stdout as it
// finishes, then one table of them all on stderr.

import Table from "cli-table3";
import type { BenchOptions } from "./bench-options.js";
import type { BenchReport } from "./report.js";
import { benchMatrixBatchClients, benchMatrixBatchSize, benchMatrixClients } from "./limits.js";

/** The runs --matrix and --accounts-sweep ask for, in the order they run. */
export function plannedRuns(options: BenchOptions): BenchOptions[] {
  const runs: BenchOptions[] = [];
  const base: BenchOptions = { ...options, matrix: false };
  delete base.accountsSweep;
  delete base.batchSize;
  if (options.matrix) {
    for (const clients of benchMatrixClients) runs.push({ ...base, clients });
    runs.push({ ...base, clients: benchMatrixBatchClients, batchSize: benchMatrixBatchSize });
  }
  for (const accounts of options.accountsSweep ?? []) runs.push({ ...base, accounts });
  return runs;
}

export function isMultiRun(options: BenchOptions): boolean {
  return options.matrix || options.accountsSweep !== undefined;
}

const fixed = (x: number | null, digits: number): string => (x === null ? "-" : x.toFixed(digits));

/** One row per run: what it was, what it did, what it cost. */
export function formatMatrixTable(reports: readonly BenchReport[]): string {
  const table = new Table({
    head: ["mode", "accounts", "clients", "tx/s", "p50 ms", "p99 ms", "server CPU us/tx", "max node RSS MiB", "check"],
    // No colour codes: the table often goes to a file or a CI log.
    style: { head: [], border: [] },
  });
  for (const r of reports) {
    const nodeRss = Object.entries(r.peakRssMiB)
      .filter(([name]) => name !== "client" && name !== "gateway")
      .map(([, mib]) => mib ?? 0);
    table.push([
      r.mode === "batched" ? `batched x${r.batchSize}` : "single",
      r.accounts.toLocaleString("en-US"),
      String(r.clients),
      r.opsPerSec.toLocaleString("en-US", { maximumFractionDigits: 0 }),
      fixed(r.latencyMs.p50, 2),
      fixed(r.latencyMs.p99, 2),
      fixed(r.serverCpuUsPerTx, 0),
      nodeRss.length === 0 ? "-" : Math.max(...nodeRss).toFixed(0),
      r.balanceCheck.ok ? "ok" : "FAILED",
    ]);
  }
  return table.toString();
}
