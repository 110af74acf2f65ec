// One fault run: a proxied 3-node cluster, the workload through the gateway, the nemesis
// striking one fault at a time for the run's duration; then heal everything, read the final
// state, and hand the history and the final state to the checkers.

import { seededPrng } from "../../src/base/prng.js";
import { LedgerClient, type Account, type Transaction } from "../../src/client/index.js";
import { startCluster, type TestCluster } from "../support/cluster-processes.js";
import { untilAnswered } from "../support/until-answered.js";
import { Nemesis, type FaultKind, type FaultTimings, defaultFaultTimings } from "./nemesis.js";
import { Workload, type RecordedOp } from "./workload.js";

export interface FaultRunOptions {
  durationMs: number;
  seed: number;
  shards: number;
  clients: number;
  accounts: number;
  /** Nodes compact their logs past this many entries, so snapshots travel during the run. */
  compactAfterEntries: number;
  /** Quiet time between two faults, at most (at least a tenth of it). */
  calmMsMax: number;
  timings?: FaultTimings;
  log: (line: string) => void;
}

export interface FinalAccount {
  account: Account;
  /** Every stored transaction, in creation order. */
  transactions: Transaction[];
}

export interface FaultRunResult {
  history: RecordedOp[];
  accounts: Map<string, FinalAccount>;
  /** Per shard, each live replica's applied index and state hash, after healing. */
  replicas: Map<string, { node: string; appliedIndex: bigint; stateHash: string }[]>;
  converged: boolean;
  convergenceError?: string;
  faults: Record<FaultKind, number>;
  faultLog: string[];
  crashes: string[];
  durationMs: number;
}

/** Calls made after healing retry open outcomes for this long. */
const finalReadsMs = 60_000;
/** Between two reads of every replica's position when the last one straddled a new entry. */
const replicaRereadMs = 200;

export async function runFaults(options: FaultRunOptions): Promise<FaultRunResult> {
  const started = Date.now();
  const random = seededPrng(options.seed);
  const cluster = await startCluster({
    shards: options.shards,
    proxies: true,
    nodeArgs: ["--compact-after-entries", String(options.compactAfterEntries)],
  });
  try {
    await cluster.waitForLeaders(60_000);
    const security = cluster.clientSecurity();
    const workload = new Workload({
      connect: () => LedgerClient.connect(cluster.gatewayAddress, { deadlineMs: 3_000, ...security }),
      clients: options.clients,
      accounts: options.accounts,
      random,
      callTimeoutMs: 3_000,
      listPageSize: 1_000,
    });
    await workload.start(`run${options.seed}`);
    options.log(`workload started: ${options.clients} clients over ${options.accounts} accounts`);
    const faultLog: string[] = [];
    const nemesis = new Nemesis(cluster, random, options.timings ?? defaultFaultTimings, (line) => {
      faultLog.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
      options.log(line);
    });
    const until = started + options.durationMs;
    try {
      while (Date.now() < until) {
        await nemesis.strike();
        const calm = options.calmMsMax / 10 + random.intBelow(Math.ceil((options.calmMsMax * 9) / 10));
        await new Promise((resolve) => setTimeout(resolve, Math.min(calm, Math.max(0, until - Date.now()))));
      }
    } finally {
      nemesis.healAll();
    }
    await workload.stop();
    options.log(`workload stopped: ${JSON.stringify(workload.counts())}; healing and reading the final state`);
    await cluster.waitForLeaders(60_000);
    const accounts = await readFinalState(cluster, workload.accountIds);
    let converged = true;
    let convergenceError: string | undefined;
    try {
      await cluster.waitForConvergence(cluster.shardIds, 60_000);
    } catch (e) {
      converged = false;
      convergenceError = (e as Error).message.split("\n").slice(0, 2).join(" ");
    }
    const replicas = await replicaHashes(cluster);
    return {
      history: workload.history,
      accounts,
      replicas,
      converged,
      convergenceError,
      faults: nemesis.counts(),
      faultLog,
      crashes: [...cluster.crashes],
      durationMs: Date.now() - started,
    };
  } finally {
    await cluster.stop();
  }
}

/** Every account's balances and stored transactions, read through the gateway after healing. */
async function readFinalState(cluster: TestCluster, accountIds: string[]): Promise<Map<string, FinalAccount>> {
  const client = cluster.gatewayClient(10_000);
  const accounts = new Map<string, FinalAccount>();
  for (const id of accountIds) {
    const final = await untilAnswered(async () => {
      const transactions: Transaction[] = [];
      for await (const t of client.transactions(id, { pageSize: 1_000 })) transactions.push(t);
      const account = await client.getAccount(id);
      // The two reads are one state only if nothing changed between them: nothing does now.
      return { account, transactions };
    }, finalReadsMs);
    accounts.set(id, final);
  }
  return accounts;
}

/**
 * Every live replica's applied index and state hash, for the convergence checker. The nodes are
 * read one after another while the cluster keeps running, and leader balancing may commit a new
 * leader's empty entry between two reads (a fault run once saw 15575, 15575 and 15576 with one
 * hash). So a read whose replicas differ is taken again, until finalReadsMs: a real divergence
 * persists and is reported, a read that straddled a new entry is not.
 */
async function replicaHashes(cluster: TestCluster): Promise<FaultRunResult["replicas"]> {
  const until = Date.now() + finalReadsMs;
  for (;;) {
    const byShard = await readReplicaHashes(cluster);
    const agree = [...byShard.values()].every((list) =>
      list.every((p) => p.appliedIndex === list[0]?.appliedIndex && p.stateHash === list[0]?.stateHash),
    );
    if (agree || Date.now() >= until) return byShard;
    await new Promise((resolve) => setTimeout(resolve, replicaRereadMs));
  }
}

async function readReplicaHashes(cluster: TestCluster): Promise<FaultRunResult["replicas"]> {
  const byShard: FaultRunResult["replicas"] = new Map();
  for (const node of cluster.liveNodeIds) {
    for (const r of await untilAnswered(() => cluster.replicaStates(node, true), finalReadsMs)) {
      const list = byShard.get(r.shardId) ?? [];
      list.push({ node, appliedIndex: r.appliedIndex, stateHash: Buffer.from(r.stateHash).toString("hex") });
      byShard.set(r.shardId, list);
    }
  }
  return byShard;
}
