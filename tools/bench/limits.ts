// Defaults and bounds of npm run bench.

import { assert } from "../../src/base/assert.js";
import { createTransactionsItemsMax } from "../../src/ledger/limits.js";

/** Accounts the run spreads its transactions over; the ceiling is the data-scale point
 * (each account costs a create and a share of a batched topup before the run starts). */
export const benchAccountsDefault = 10_000;
export const benchAccountsMax = 10_000_000;
/** Concurrent clients, each with one request in flight. */
export const benchClientsDefault = 64;
export const benchClientsMax = 4_096;
/** gRPC channels (LedgerClient instances) the clients share; see the README's bench section for
 * the measurement behind the choice. */
export const benchChannelsDefault = 1;
/** Measured window and warm-up, in seconds. */
export const benchDurationSDefault = 10;
export const benchDurationSMax = 3_600;
export const benchWarmupSDefault = 2;
export const benchWarmupSMax = 600;
/** The initial settled topup of every account, in minor units: about 20 purchases deep at the
 * mean purchase of 25, so both outcomes (applied and INSUFFICIENT_FUNDS) occur in a run. */
export const benchInitialTopupUnits = 1_000n;
/** Amounts drawn uniformly from this inclusive range, zero excluded. */
export const benchAmountMinUnits = -50;
export const benchAmountMaxUnits = 100;
/** Setup and balance-check calls in flight: enough to keep a cluster busy, few enough that a
 * slow cluster answers each within the client deadline. */
export const benchSetupConcurrency = 64;
/** How long one setup call is retried (with its request id) while the cluster is busy or
 * electing: a loaded machine can hold a call past its deadline now and then. */
export const benchSetupRetryMs = 60_000;
/** Shards of the bench's own cluster, and the replication factor (3 nodes, so at most 3). */
export const benchShardsDefault = 16;
export const benchNodes = 3;
export const benchReplicationFactorDefault = 3;
/** How long the bench's own cluster may take to start and elect a leader for every shard:
 * several tsx processes starting at once on a busy 2-core machine take tens of seconds. */
export const benchClusterStartMsMax = 90_000;
/** Interval between admin polls while waiting for leaders. */
export const benchLeaderPollMs = 200;
/** A stopped process gets this long after SIGTERM (a node hands off leadership and closes its
 * DB) before SIGKILL. */
export const benchStopGraceMs = 10_000;
/** Latencies are recorded in microseconds up to this value (a minute); longer ones (none can
 * be, with a 5 s client deadline) are clamped so the histogram stays bounded. */
export const benchLatencyUsMax = 60_000_000;
/** Mismatching accounts listed in the report (the count is always complete). */
export const benchMismatchesListedMax = 5;
/** Page size of the balance check's ListTransactions calls (the API's maximum). */
export const benchListPageSize = 1_000;
/** Lines of each process log shown on stderr when the bench's cluster fails. */
export const benchLogTailLines = 20;
/** --matrix: the client counts of its single-transaction runs, and its batched run. */
export const benchMatrixClients = [1, 64, 256] as const;
export const benchMatrixBatchClients = 8;
export const benchMatrixBatchSize = 500;
/** --accounts-sweep: at most this many account counts in one sweep. */
export const benchSweepPointsMax = 8;
/** Topups during setup go out as CreateTransactions of this many items. */
export const benchSetupTopupBatch = 500;
assert(benchSetupTopupBatch <= createTransactionsItemsMax, "a setup topup batch is one CreateTransactions call");
