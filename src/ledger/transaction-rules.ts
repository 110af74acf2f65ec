// CreateTransaction, SettleTransaction and CancelTransaction (DESIGN.md §5). Each either
// refuses with a CoreError and no writes, or returns the new records as writes. Records from
// the view are never mutated: changed records are fresh clones.

import { assert } from "../base/assert.js";
import type {
  AccountRecord,
  CancelTransaction,
  CreateTransaction,
  SettleTransaction,
  TransactionRecord,
} from "../gen/ledger/core/v1/core_pb.js";
import { TransactionStatus } from "../gen/ledger/v1/ledger_pb.js";
import { cancelEffect, createEffect, settleEffect, type Balances } from "./balance-rules.js";
import { formatAccountId, formatTransactionId } from "./ids.js";
import { isInt64, isUint64 } from "./int64.js";
import { failedPrecondition, notFound, outOfRange, transactionOutcome } from "./results.js";
import type { ApplyOutcome, LedgerView, LedgerWrite } from "./view.js";

export function createTransaction(view: LedgerView, command: CreateTransaction, timestamp: bigint): ApplyOutcome {
  assert(command.amount !== 0n, "CreateTransaction with amount 0 reached the core (the service validates it)");
  assert(isInt64(command.amount), `CreateTransaction amount out of int64 range: ${command.amount}`);
  const account = view.getAccount(command.accountId);
  if (account === undefined) return notFound(`account ${formatAccountId(command.accountId)} not found`);
  const existing = view.getTransaction(command.accountId, command.localId);
  if (existing !== undefined) return replayOfCreate(existing, command);

  const effect = createEffect(balancesOf(account), command.amount, command.settled);
  if (!fitsInt64(effect.balances)) return overflow(account, command.amount);
  const seq = account.transactionCount + 1n;
  assert(isUint64(seq), `transaction count of account ${formatAccountId(account.id)} overflows uint64`);
  // A literal with every field (the type requires them all), not the reflective create().
  const transaction: TransactionRecord = {
    $typeName: "ledger.core.v1.TransactionRecord",
    accountId: command.accountId,
    localId: command.localId,
    seq,
    amount: command.amount,
    description: command.description,
    status: effect.status,
    createdSettled: command.settled,
    requestId: command.requestId,
    createdAt: timestamp,
    updatedAt: timestamp,
    finishedBy: 0n,
  };
  const updated = withBalances(account, effect.balances, timestamp);
  updated.transactionCount = seq;
  return transactionOutcome(transaction, [
    { kind: "transaction", record: transaction },
    { kind: "creationIndex", accountId: command.accountId, seq, localId: command.localId },
    { kind: "account", record: updated },
  ]);
}

export function settleTransaction(view: LedgerView, command: SettleTransaction, timestamp: bigint): ApplyOutcome {
  return finishPending(view, command, timestamp, TransactionStatus.SETTLED, settleEffect);
}

export function cancelTransaction(view: LedgerView, command: CancelTransaction, timestamp: bigint): ApplyOutcome {
  return finishPending(view, command, timestamp, TransactionStatus.CANCELLED, cancelEffect);
}

/** A create whose id exists: a retry (same content) gets the record's current state and
 * changes nothing; anything else is refused. */
function replayOfCreate(existing: TransactionRecord, command: CreateTransaction): ApplyOutcome {
  const sameContent =
    existing.amount === command.amount &&
    existing.description === command.description &&
    existing.createdSettled === command.settled &&
    existing.requestId === command.requestId;
  if (sameContent) return transactionOutcome(existing, []);
  const id = formatTransactionId(existing);
  if (command.requestId !== "") {
    return failedPrecondition(
      `request_id "${command.requestId}" was already used with different content (transaction ${id})`,
    );
  }
  return failedPrecondition(`transaction ${id} already exists with different content`);
}

function finishPending(
  view: LedgerView,
  command: SettleTransaction | CancelTransaction,
  timestamp: bigint,
  status: TransactionStatus,
  effect: (before: Balances, amount: bigint) => Balances,
): ApplyOutcome {
  const account = view.getAccount(command.accountId);
  if (account === undefined) return notFound(`account ${formatAccountId(command.accountId)} not found`);
  const existing = view.getTransaction(command.accountId, command.localId);
  const id = formatTransactionId(command);
  if (existing === undefined) return notFound(`transaction ${id} not found`);
  // A retry of the call that finished it (its first attempt was applied, its answer lost) gets
  // the record as that attempt left it; any other call is refused below.
  if (command.attemptId !== 0n && existing.finishedBy === command.attemptId && existing.status === status)
    return transactionOutcome(existing, []);
  if (existing.status !== TransactionStatus.PENDING) {
    const verb = status === TransactionStatus.SETTLED ? "settled" : "cancelled";
    return failedPrecondition(
      `transaction ${id} is ${statusName(existing.status)}; only a PENDING transaction can be ${verb}`,
    );
  }
  const before = balancesOf(account);
  const after = effect(before, existing.amount);
  if (!fitsInt64(after)) return overflow(account, existing.amount);
  const transaction: TransactionRecord = { ...existing, status, updatedAt: timestamp, finishedBy: command.attemptId };
  const writes: LedgerWrite[] = [{ kind: "transaction", record: transaction }];
  // The account record is rewritten (and its updated_at moves) only when a balance moves.
  if (after.available !== before.available || after.settled !== before.settled) {
    writes.push({ kind: "account", record: withBalances(account, after, timestamp) });
  }
  return transactionOutcome(transaction, writes);
}

function balancesOf(account: AccountRecord): Balances {
  return { available: account.availableBalance, settled: account.settledBalance };
}

function withBalances(account: AccountRecord, balances: Balances, timestamp: bigint): AccountRecord {
  // A spread, not protobuf's reflective clone(): the record's fields are all scalars, so a
  // shallow copy is a full one, at a small part of clone()'s cost on the apply path.
  return { ...account, availableBalance: balances.available, settledBalance: balances.settled, updatedAt: timestamp };
}

function fitsInt64(balances: Balances): boolean {
  return isInt64(balances.available) && isInt64(balances.settled);
}

function overflow(account: AccountRecord, amount: bigint): ApplyOutcome {
  return outOfRange(
    `amount ${amount} would take a balance of account ${formatAccountId(account.id)} outside the signed 64-bit range`,
  );
}

function statusName(status: TransactionStatus): string {
  return TransactionStatus[status] ?? `status ${status}`;
}
