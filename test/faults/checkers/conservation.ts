// Checker 2: conservation of money at the end of a run, from the state read after healing.
// - Both balances of every account equal the fold of its stored transactions (DESIGN.md §5:
//   settled = the sum of SETTLED amounts; available = that plus the PENDING purchases, whose
//   hold is on the available balance only; pending topups, cancelled and refused transactions
//   count nowhere).
// - Every acknowledged create is stored exactly once, with its amount; a status the client was
//   told is final (settled, cancelled, refused) is the stored one; an acknowledged settle or
//   cancel left the transaction SETTLED or CANCELLED.
// - Nothing is stored that no client issued: every stored transaction is the transaction of a
//   create that was acknowledged or whose outcome is unknown.

import { TransactionStatus } from "../../../src/gen/ledger/v1/ledger_pb.js";
import { accountOf, type FinalAccountState, type FinalState, type History, type HistoryOp } from "../history.js";
import { createKey, type TransactionIdOf } from "./account-histories.js";
import { statusName } from "./account-model.js";
import type { Verdict } from "./verdict.js";

export type ConservationProblemKind = "balance" | "lost" | "duplicate" | "not-issued" | "content" | "missing-account";

export interface ConservationProblem {
  readonly kind: ConservationProblemKind;
  readonly accountId: string;
  readonly message: string;
}

export interface ConservationResult {
  readonly verdict: Verdict;
  readonly problems: readonly ConservationProblem[];
  readonly accountsChecked: number;
  readonly transactionsChecked: number;
}

export interface ConservationOptions {
  /** The id the gateway derives for (accountId, requestId), so unknown creates are named too. */
  readonly transactionIdOf?: TransactionIdOf;
}

/** The balances the stored transactions add up to. */
export function foldBalances(transactions: FinalAccountState["transactions"]): { available: bigint; settled: bigint } {
  let settled = 0n;
  let held = 0n;
  for (const t of transactions) {
    if (t.status === TransactionStatus.SETTLED) settled += t.amount;
    else if (t.status === TransactionStatus.PENDING && t.amount < 0n) held += t.amount;
  }
  return { available: settled + held, settled };
}

/** All creates of one request_id (or one create without a request_id) on one account. */
interface CreateGroup {
  readonly accountId: string;
  readonly ops: { op: HistoryOp; index: number }[];
  ids: Set<string>;
}

export function checkConservation(
  history: History,
  final: FinalState,
  options: ConservationOptions = {},
): ConservationResult {
  const problems: ConservationProblem[] = [];
  const report = (kind: ConservationProblemKind, accountId: string, message: string): void =>
    void problems.push({ kind, accountId, message });
  let transactionsChecked = 0;
  for (const [accountId, state] of final) {
    transactionsChecked += state.transactions.length;
    const folded = foldBalances(state.transactions);
    const { availableBalance, settledBalance } = state.account;
    if (folded.available !== availableBalance || folded.settled !== settledBalance) {
      report(
        "balance",
        accountId,
        `balances available=${availableBalance} settled=${settledBalance}, but its transactions add up to available=${folded.available} settled=${folded.settled}`,
      );
    }
    const seen = new Set<string>();
    for (const t of state.transactions) {
      if (seen.has(t.id)) report("duplicate", accountId, `transaction ${t.id} is stored more than once`);
      seen.add(t.id);
    }
  }
  const groups = createGroups(history, options.transactionIdOf);
  checkAcknowledged(history, final, groups, report);
  checkIssued(final, groups, report);
  return {
    verdict: problems.length === 0 ? "ok" : "illegal",
    problems,
    accountsChecked: final.size,
    transactionsChecked,
  };
}

function createGroups(history: History, transactionIdOf: TransactionIdOf | undefined): Map<string, CreateGroup> {
  const groups = new Map<string, CreateGroup>();
  history.forEach((op, index) => {
    if (op.kind !== "create-transaction") return;
    const accountId = accountOf(op) ?? "";
    const name = `${accountId}/${createKey(op, index)}`;
    let group = groups.get(name);
    if (group === undefined) groups.set(name, (group = { accountId, ops: [], ids: new Set() }));
    group.ops.push({ op, index });
    for (const id of [op.transactionId, op.outcome === "ok" ? op.transaction?.id : undefined])
      if (id !== undefined) group.ids.add(id);
    if (op.requestId && transactionIdOf) group.ids.add(transactionIdOf(accountId, op.requestId));
  });
  return groups;
}

type Report = (kind: ConservationProblemKind, accountId: string, message: string) => void;

function checkAcknowledged(
  history: History,
  final: FinalState,
  groups: Map<string, CreateGroup>,
  report: Report,
): void {
  for (const op of history) {
    if (op.kind === "create-account" && op.outcome === "ok" && op.account && !final.has(op.account.id)) {
      report(
        "missing-account",
        op.account.id,
        `account ${op.account.id} was acknowledged (request ${op.requestId ?? "-"}) but is missing at the end`,
      );
    }
  }
  for (const group of groups.values()) {
    for (const { op, index } of group.ops) {
      if (op.outcome !== "ok" || op.transaction === undefined) continue;
      const told = op.transaction;
      const stored = final.get(group.accountId)?.transactions.filter((t) => t.id === told.id) ?? [];
      if (stored.length === 0) {
        report(
          "lost",
          group.accountId,
          `acknowledged create #${index} (request ${op.requestId ?? "-"}, transaction ${told.id}) is not stored`,
        );
        continue;
      }
      const t = stored[0]!;
      if (t.amount !== op.amount)
        report(
          "content",
          group.accountId,
          `transaction ${t.id} is stored with amount ${t.amount}, created with ${op.amount}`,
        );
      // PENDING may have moved on to SETTLED or CANCELLED since; any other status is final.
      const consistent =
        told.status === TransactionStatus.PENDING
          ? t.status !== TransactionStatus.INSUFFICIENT_FUNDS
          : t.status === told.status;
      if (!consistent)
        report(
          "content",
          group.accountId,
          `transaction ${t.id} is stored ${statusName(t.status)}, but create #${index} was told ${statusName(told.status)}`,
        );
    }
  }
  history.forEach((op, index) => {
    if ((op.kind !== "settle" && op.kind !== "cancel") || op.outcome !== "ok") return;
    const id = op.transactionId ?? op.transaction?.id ?? "";
    const accountId = accountOf(op) ?? "";
    const want = op.kind === "settle" ? TransactionStatus.SETTLED : TransactionStatus.CANCELLED;
    const stored = final.get(accountId)?.transactions.find((t) => t.id === id);
    if (final.has(accountId) && stored?.status !== want) {
      report(
        "lost",
        accountId,
        `acknowledged ${op.kind} #${index} of ${id}, but it is stored ${stored ? statusName(stored.status) : "nowhere"}`,
      );
    }
  });
}

function checkIssued(final: FinalState, groups: Map<string, CreateGroup>, report: Report): void {
  const issuedIds = new Map<string, CreateGroup>();
  const unnamed = new Map<string, CreateGroup[]>();
  for (const group of groups.values()) {
    if (!group.ops.some(({ op }) => op.outcome !== "failed")) continue;
    for (const id of group.ids) issuedIds.set(id, group);
    if (group.ids.size === 0) unnamed.set(group.accountId, [...(unnamed.get(group.accountId) ?? []), group]);
  }
  for (const [accountId, state] of final) {
    const candidates = [...(unnamed.get(accountId) ?? [])];
    for (const t of state.transactions) {
      const group = issuedIds.get(t.id);
      if (group !== undefined) {
        const amounts = new Set(group.ops.map(({ op }) => op.amount));
        if (!amounts.has(t.amount))
          report(
            "content",
            accountId,
            `transaction ${t.id} is stored with amount ${t.amount}, no create of it asked for that`,
          );
        continue;
      }
      // A create whose id nobody knows may explain it, if its amount matches (each one once).
      const match = candidates.findIndex((g) => g.ops.some(({ op }) => op.amount === t.amount));
      if (match >= 0) {
        candidates.splice(match, 1);
        continue;
      }
      report(
        "not-issued",
        accountId,
        `transaction ${t.id} (amount ${t.amount}, ${statusName(t.status)}) is stored, but no acknowledged or unknown create made it`,
      );
    }
  }
}
