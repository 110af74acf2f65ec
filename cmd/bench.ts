// The benchmark (issue 6): loads the ledger with concurrent clients, one CreateTransaction per
// request, and prints one JSON line of results on stdout (progress on stderr). Without
// --gateway it starts a cluster of its own (3 nodes + gateway, temp dirs) and stops it at the
// end, also on failure and on Ctrl-C.
//
//   tsx cmd/bench.ts [--accounts 10000] [--clients 64] [--duration-s 10] [--warmup-s 2] [--gateway host:port] [--seed N] [--batch-size N]
//   tsx cmd/bench.ts --matrix [--accounts-sweep 10000,100000]   (several runs, each on a fresh cluster)
//
// Exit codes: 0 done and the balance check passed; 1 the check failed, the run failed or was
// interrupted; 2 bad flags.

import { CommanderError } from "commander";
import { isLedgerError } from "../src/base/errors.js";
import { processIo, writeLine } from "../tools/dev/io.js";
import { parseBenchOptions, type BenchOptions } from "../tools/bench/bench-options.js";
import { runBench } from "../tools/bench/run-bench.js";
import { formatReport, type BenchReport } from "../tools/bench/report.js";
import { formatMatrixTable, isMultiRun, plannedRuns } from "../tools/bench/matrix.js";

const exitOk = 0;
const exitFailure = 1;
const exitUsage = 2;

function parse(): BenchOptions | number {
  try {
    return parseBenchOptions(process.argv, {
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? exitOk : exitUsage;
    throw e;
  }
}

async function main(): Promise<number> {
  const options = parse();
  if (typeof options === "number") return options;
  const interrupt = new AbortController();
  // First Ctrl-C: stop the load, stop the cluster, exit 1. A second one: the exit hook of the
  // cluster launcher SIGKILLs whatever still runs.
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      writeLine(process.stderr, `bench: ${signal}: stopping`);
      interrupt.abort();
    } else {
      process.exit(exitFailure);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const runs = isMultiRun(options) ? plannedRuns(options) : [options];
    const reports: BenchReport[] = [];
    for (const [i, run] of runs.entries()) {
      if (runs.length > 1) writeLine(process.stderr, `bench: run ${i + 1} of ${runs.length}`);
      const report = await runBench(run, processIo, interrupt.signal);
      writeLine(process.stdout, formatReport(report));
      reports.push(report);
    }
    if (runs.length > 1) writeLine(process.stderr, formatMatrixTable(reports));
    const failed = reports.filter((r) => !r.balanceCheck.ok);
    for (const report of failed)
      writeLine(
        process.stderr,
        `bench: balance check FAILED for ${report.balanceCheck.mismatchCount} of ${report.balanceCheck.accounts} accounts`,
      );
    return failed.length > 0 ? exitFailure : exitOk;
  } catch (e) {
    const text = isLedgerError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    writeLine(process.stderr, `bench: failed: ${text}`);
    return exitFailure;
  }
}

process.exitCode = await main();
