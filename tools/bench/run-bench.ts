// One benchmark run from start to end: the cluster (own or given), the funded accounts, the
// load, the CPU readings at the window's edges, the balance check, the report. Whatever
// happens, the own cluster is stopped and its temp dir removed before this returns or throws.

import { LedgerClient } from "../../src/client/index.js";
import type { DevIo } from "../dev/io.js";
import { writeLine } from "../dev/io.js";
import { startProgress } from "../dev/progress.js";
import { checkBalances } from "./balance-check.js";
import { benchSetupConcurrency } from "./limits.js";
import type { BenchOptions } from "./bench-options.js";
import { runLoad } from "./bench-run.js";
import { launchCluster, type OwnCluster } from "./cluster-launcher.js";
import { cpuDelta, readCpu, readPeakRss } from "./cpu-usage.js";
import { buildReport, type BenchReport } from "./report.js";
import { createFundedAccounts } from "./setup-accounts.js";
import { ledgerClientSecurity } from "../dev/security-options.js";

export async function runBench(options: BenchOptions, io: DevIo, signal: AbortSignal): Promise<BenchReport> {
  const say = (line: string): void => writeLine(io.stderr, line);
  let cluster: OwnCluster | undefined;
  if (options.gateway === undefined) {
    cluster = await launchCluster({
      shards: options.shards,
      replicationFactor: options.replicationFactor,
      insecure: options.insecure,
      say,
      signal,
      ...(options.logDir !== undefined ? { logDir: options.logDir } : {}),
      ...(options.cpuProfDir !== undefined ? { cpuProfDir: options.cpuProfDir } : {}),
    });
  } else {
    say(
      `bench: loading the running gateway at ${options.gateway}; only the client's CPU is measured (server processes are not ours to read)`,
    );
  }
  const gateway = cluster?.gatewayAddress ?? options.gateway!;
  const security = await ledgerClientSecurity(
    cluster?.securityOptions() ?? {
      secretsDir: options.secretsDir,
      insecure: options.insecure,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    },
  );
  const channels = Array.from({ length: Math.min(options.channels, options.clients) }, () =>
    LedgerClient.connect(gateway, security),
  );
  try {
    const client = channels[0]!;
    const accountIds = await createFundedAccounts(client, options.accounts, io.stderr, signal);
    const each =
      options.batchSize === undefined
        ? "one CreateTransaction"
        : `one CreateTransactions of ${options.batchSize} items`;
    say(
      `bench: ${options.clients} clients (${each} per request), ${options.warmupS} s warm-up, then ${options.durationS} s measured (seed ${options.seed})`,
    );
    const pids = cluster?.pids ?? new Map<string, number>();
    let before = new Map<string, number>();
    let cpu = new Map<string, number>();
    let peakRss = new Map<string, number>();
    const run = await runLoad({
      channels,
      clients: options.clients,
      accountIds,
      warmupS: options.warmupS,
      durationS: options.durationS,
      seed: options.seed,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      signal,
      onWindowStart: () => {
        before = readCpu(pids);
        say("bench: measuring");
      },
      onWindowEnd: () => {
        cpu = cpuDelta(before, readCpu(pids));
        peakRss = readPeakRss(pids);
      },
    });
    if (run.interrupted) throw new Error("interrupted");
    if (cluster !== undefined && cluster.crashes.length > 0)
      throw new Error(`processes exited during the run: ${cluster.crashes.join("; ")}`);
    say(`bench: ${run.transactions} transactions in ${run.windowSeconds.toFixed(2)} s; checking balances`);
    const progress = startProgress(accountIds.length, "bench: checking balances", io.stderr);
    const balanceCheck = await checkBalances(client, accountIds, benchSetupConcurrency, () => progress.increment());
    progress.stop();
    return buildReport({
      security: options.insecure ? "insecure" : "tls",
      target: cluster
        ? {
            kind: "own-cluster",
            shards: options.shards,
            replicationFactor: options.replicationFactor,
            nodeIds: cluster.config.nodes.map((n) => n.id),
          }
        : { kind: "gateway" },
      gateway,
      seed: options.seed,
      accounts: options.accounts,
      clients: options.clients,
      channels: channels.length,
      durationS: options.durationS,
      windowSeconds: run.windowSeconds,
      transactions: run.transactions,
      ...(options.batchSize !== undefined ? { batch: { size: options.batchSize, requests: run.requests } } : {}),
      latencyUs: run.latency.summary(),
      errors: run.errors,
      insufficientFunds: run.insufficientFunds,
      cpu,
      peakRss,
      balanceCheck,
    });
  } catch (e) {
    if (cluster !== undefined && e instanceof Error && !signal.aborted) e.message += `\n${cluster.logTails()}`;
    throw e;
  } finally {
    for (const c of channels) c.close();
    if (cluster !== undefined) {
      say("bench: stopping the cluster");
      await cluster.stop();
      say(
        `bench: stopped ${[...cluster.pids].map(([name, pid]) => `${name} pid ${pid}`).join(", ")}; removed ${cluster.dir}`,
      );
    }
  }
}
