// Checker 1: linearizability of every account's state (balances and the status of each of its
// transactions), one account at a time. Reads must see the model state at their linearization
// point; unknown updates may take effect at any time after their invoke, or never. The search
// is bounded: when it runs out of steps or time the account's verdict is "unknown", never "ok".

import { describeOp, type FinalState, type History } from "../history.js";
import { accountModel, type AccountOp } from "./account-model.js";
import { partitionByAccount, type AccountHistory, type TransactionIdOf } from "./account-histories.js";
import { searchLinearization, type TimedOp } from "./search.js";
import { combine, type Verdict } from "./verdict.js";

export interface LinearizabilityOptions {
  /** Search steps one account may take before its verdict is "unknown". */
  readonly stepsPerAccountMax?: number;
  /** Milliseconds one account's search may take before its verdict is "unknown". */
  readonly timeMsPerAccountMax?: number;
  /** Milliseconds for all accounts together; accounts not reached by then are "unknown". */
  readonly timeMsTotalMax?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly clock?: () => number;
  /** The id the gateway derives for (accountId, requestId), so unknown creates are named too. */
  readonly transactionIdOf?: TransactionIdOf;
  /** The state read after healing, checked as a read after every op of the history. */
  readonly finalState?: FinalState;
}

export interface AccountLinearizability {
  readonly accountId: string;
  readonly verdict: Verdict;
  /** Ops of this account that took part (failures that change nothing are left out). */
  readonly ops: number;
  readonly steps: number;
  /** illegal / unknown: why, in a few lines. */
  readonly explanation?: string;
  /** ok: history indices in the order found (indices from history.length on: the final reads). */
  readonly order?: readonly number[];
}

export interface LinearizabilityResult {
  readonly verdict: Verdict;
  readonly accounts: readonly AccountLinearizability[];
  /** History indices of ops no account could be found for (unanswered create-accounts). */
  readonly unplaced: readonly number[];
}

export const linearizabilityDefaults = {
  stepsPerAccountMax: 5_000_000,
  timeMsPerAccountMax: 20_000,
  timeMsTotalMax: 300_000,
} as const;

/** How many ops of the longest linearized prefix an explanation shows. */
const explainPrefixOpsMax = 6;

export function checkLinearizability(history: History, options: LinearizabilityOptions = {}): LinearizabilityResult {
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const totalMs = options.timeMsTotalMax ?? linearizabilityDefaults.timeMsTotalMax;
  const finalStatus =
    options.finalState &&
    new Map(
      [...options.finalState].map(([id, final]) => [id, new Map(final.transactions.map((t) => [t.id, t.status]))]),
    );
  const partition = partitionByAccount(
    withFinalReads(history, options.finalState),
    options.transactionIdOf,
    finalStatus,
  );
  const accounts: AccountLinearizability[] = [];
  for (const account of partition.accounts.values()) {
    const leftMs = totalMs - (clock() - started);
    if (leftMs <= 0) {
      accounts.push({
        accountId: account.accountId,
        verdict: "unknown",
        ops: account.ops.length,
        steps: 0,
        explanation: `not checked: the ${totalMs} ms budget for all accounts ran out`,
      });
      continue;
    }
    accounts.push(
      checkAccount(
        account,
        history,
        options,
        clock,
        Math.min(leftMs, options.timeMsPerAccountMax ?? linearizabilityDefaults.timeMsPerAccountMax),
      ),
    );
  }
  return { verdict: combine(accounts.map((a) => a.verdict)), accounts, unplaced: partition.unplaced };
}

function checkAccount(
  account: AccountHistory,
  history: History,
  options: LinearizabilityOptions,
  clock: () => number,
  timeMsMax: number,
): AccountLinearizability {
  const base = { accountId: account.accountId, ops: account.ops.length };
  if (account.unattributedIds.length > 0) {
    const ids = account.unattributedIds.slice(0, 3).join(", ");
    return {
      ...base,
      verdict: "unknown",
      steps: 0,
      explanation: `transaction ids read back but made by no create known to the checker (${ids}) while some unknown create's id is not known: give transactionIdOf`,
    };
  }
  const timed: TimedOp<AccountOp>[] = account.ops.map((op, i) => ({
    op,
    invokeMs: account.times[i]!.invokeMs,
    returnMs: account.times[i]!.returnMs,
  }));
  const budget = {
    stepsMax: options.stepsPerAccountMax ?? linearizabilityDefaults.stepsPerAccountMax,
    timeMsMax,
    clock,
  };
  const result = searchLinearization(
    accountModel(account.initiallyExists, account.names, account.createdAfter),
    timed,
    budget,
  );
  const describe = (i: number): string => describeAccountOp(account.ops[i]!, history);
  switch (result.kind) {
    case "ok":
      return {
        ...base,
        verdict: "ok",
        steps: result.steps,
        order: result.order.map((i) => account.ops[i]!.historyIndex),
      };
    case "unknown":
      return { ...base, verdict: "unknown", steps: result.steps, explanation: result.reason };
    case "illegal": {
      const shown = result.prefix.slice(-explainPrefixOpsMax).map((i) => `  ${describe(i)}`);
      const lines = [
        `linearized ${result.prefix.length} of ${account.ops.length} ops${result.prefix.length > shown.length ? `, the last ${shown.length}` : ""}:`,
        ...shown,
        `then this op could not be placed: ${describe(result.blocked)}`,
        `  because ${result.why}`,
      ];
      return { ...base, verdict: "illegal", steps: result.steps, explanation: lines.join("\n") };
    }
  }
}

function describeAccountOp(op: AccountOp, history: History): string {
  if (op.historyIndex >= history.length) return `final read (${op.call.type}) after healing`;
  return describeOp(history[op.historyIndex]!, op.historyIndex);
}

/** The final state as two reads (list, then get-account) invoked after every op completed. */
function withFinalReads(history: History, finalState: FinalState | undefined): History {
  if (finalState === undefined) return history;
  let last = 0;
  for (const op of history)
    last = Math.max(
      last,
      op.invokeMs,
      op.completeMs !== undefined && Number.isFinite(op.completeMs) ? op.completeMs : 0,
    );
  const reads = [...finalState].flatMap(([accountId, final]) => [
    {
      client: -1,
      kind: "list" as const,
      accountId,
      invokeMs: last + 1,
      completeMs: last + 2,
      outcome: "ok" as const,
      transactions: final.transactions,
    },
    {
      client: -1,
      kind: "get-account" as const,
      accountId,
      invokeMs: last + 3,
      completeMs: last + 4,
      outcome: "ok" as const,
      account: final.account,
    },
  ]);
  return [...history, ...reads];
}
