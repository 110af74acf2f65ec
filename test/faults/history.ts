// The recorded history a fault run hands to the checkers: one record per client call through the
// public API, with its invoke and completion times and what the client learned. The shapes are
// structural on purpose: the workload's records (and the generated Account / Transaction
// messages) fit them as they are, and tests can write small histories by hand.

import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";

export type OpKind =
  | "create-account"
  | "create-transaction"
  | "settle"
  | "cancel"
  | "get-account"
  | "get-transaction"
  | "list";

/**
 * ok: the call returned (its value is in account / transaction / transactions).
 * failed: the ledger definitely did not apply it; `code` says why (a refusal such as NOT_FOUND or
 *   FAILED_PRECONDITION is checked against the model like an answer; other codes just mean
 *   "not applied").
 * unknown: no answer (timeout, lost connection, an open outcome): it may have taken effect at
 *   any time after its invoke, even after its completion time, or never.
 */
export type Outcome = "ok" | "failed" | "unknown";

/** The parts of ledger.v1.Account the checkers read. */
export interface AccountValue {
  readonly id: string;
  readonly availableBalance: bigint;
  readonly settledBalance: bigint;
}

/** The parts of ledger.v1.Transaction the checkers read. */
export interface TransactionValue {
  readonly id: string;
  readonly amount: bigint;
  readonly status: TransactionStatus;
}

export interface HistoryOp {
  /** The client (process) that made the call; one client has one call in flight at a time. */
  readonly client: number;
  readonly kind: OpKind;
  /**
   * The account the call is about. create-account: the account's id if known before the call
   * (it is derived from the request_id), else "" and the id is taken from the reply.
   * settle / cancel / get-transaction: may be "" (the first 16 characters of transactionId).
   */
  readonly accountId: string;
  /** create-transaction. */
  readonly amount?: bigint;
  readonly settled?: boolean;
  /** Empty or absent means none (the call is then not idempotent). */
  readonly description?: string;
  /** create-account, create-transaction. */
  readonly requestId?: string;
  /**
   * settle / cancel / get-transaction: the transaction. create-transaction: the id the
   * request_id maps to, if the runner knows it (so an unknown create's id is known too).
   */
  readonly transactionId?: string;
  /** list: the page size asked for; a reply of exactly this many may be a prefix. */
  readonly pageSize?: number;
  /** Milliseconds on one monotonic clock. */
  readonly invokeMs: number;
  /** Absent (or not finite) for an unknown outcome whose call never completed. */
  readonly completeMs?: number;
  readonly outcome: Outcome;
  /** The error code when not ok. */
  readonly code?: string;
  /** ok create-account / get-account. */
  readonly account?: AccountValue;
  /** ok create-transaction / settle / cancel / get-transaction. */
  readonly transaction?: TransactionValue;
  /** ok list: the page, in creation order. */
  readonly transactions?: readonly TransactionValue[];
}

export type History = readonly HistoryOp[];

/** One account as read after healing: its balances and every stored transaction in creation order. */
export interface FinalAccountState {
  readonly account: AccountValue;
  readonly transactions: readonly TransactionValue[];
}

/** accountId -> final state. */
export type FinalState = ReadonlyMap<string, FinalAccountState>;

/** One replica's position after healing. */
export interface ReplicaPosition {
  readonly node: string;
  readonly appliedIndex: bigint;
  readonly stateHash: string;
}

/** shardId -> the replicas of that shard. */
export type ReplicaPositions = ReadonlyMap<string, readonly ReplicaPosition[]>;

/** Length of an account id in hex; a transaction id starts with its account's id. */
export const accountIdChars = 16;

/** The account an op is about, or undefined if the history does not say. */
export function accountOf(op: HistoryOp): string | undefined {
  if (op.accountId !== "") return op.accountId;
  if (op.kind === "create-account") return op.account?.id;
  const txId = op.transactionId ?? op.transaction?.id;
  return txId !== undefined && txId.length > accountIdChars ? txId.slice(0, accountIdChars) : undefined;
}

export function describeOp(op: HistoryOp, index: number): string {
  const parts = [`#${index} c${op.client} ${op.kind}`];
  if (op.kind === "create-transaction") parts.push(`${op.amount}${op.settled ? " settled" : " pending"}`);
  if (op.requestId) parts.push(`req=${op.requestId}`);
  if (op.transactionId && op.kind !== "create-transaction") parts.push(`tx=${shortId(op.transactionId)}`);
  const end = op.completeMs !== undefined && Number.isFinite(op.completeMs) ? op.completeMs : "?";
  parts.push(`[${op.invokeMs}..${end}]`);
  parts.push(op.outcome === "ok" ? `-> ${describeValue(op)}` : `-> ${op.outcome}${op.code ? ` ${op.code}` : ""}`);
  return parts.join(" ");
}

function describeValue(op: HistoryOp): string {
  if (op.account) return `available=${op.account.availableBalance} settled=${op.account.settledBalance}`;
  if (op.transaction)
    return `tx=${shortId(op.transaction.id)} ${op.transaction.amount} ${statusText(op.transaction.status)}`;
  if (op.transactions)
    return `[${op.transactions.map((t) => `${shortId(t.id)}:${t.amount}:${statusText(t.status)}`).join(", ")}]`;
  return "ok";
}

function statusText(status: TransactionStatus): string {
  return TransactionStatus[status] ?? `status ${status}`;
}

/** The per-account part of a transaction id (its last 16 characters) keeps messages short. */
export function shortId(id: string): string {
  return id.length > accountIdChars ? `…${id.slice(-6)}` : id;
}
