// The sequential specification of one account, for the linearizability search: its balances and
// its transactions (status, in creation order), changed by the ledger's own balance rules
// (src/ledger/balance-rules.ts) and answering every call the way the core and the store do
// (DESIGN.md §5): refusals are checked like answers. Amounts stay far from the int64 limits in
// fault runs, so overflow (OUT_OF_RANGE) is not modelled.

import { cancelEffect, createEffect, settleEffect } from "../../../src/ledger/balance-rules.js";
import { TransactionStatus } from "../../../src/gen/ledger/v1/ledger_pb.js";
import type { AccountValue, TransactionValue } from "../history.js";
import type { SearchModel } from "./search.js";

/** One transaction as the model knows it. `key` names the transaction within the account
 * (one key per request_id); `creator` is the op whose content it was created with. */
export interface ModelTransaction {
  readonly key: number;
  readonly creator: number;
  readonly amount: bigint;
  readonly settled: boolean;
  readonly requestId: string;
  readonly description: string;
  readonly status: TransactionStatus;
}

export interface AccountState {
  readonly exists: boolean;
  readonly requestId: string;
  readonly available: bigint;
  readonly settled: bigint;
  /** In creation order. */
  readonly transactions: readonly ModelTransaction[];
}

/** What the client saw: a value, a refusal code, or nothing (unknown outcome). */
export type Observed =
  | {
      readonly kind: "ok";
      readonly account?: AccountValue;
      readonly transaction?: TransactionValue;
      readonly transactions?: readonly TransactionValue[];
    }
  | { readonly kind: "refused"; readonly code: string }
  | { readonly kind: "unknown" };

export type AccountCall =
  | { readonly type: "create-account"; readonly requestId: string }
  | {
      readonly type: "create-transaction";
      readonly key: number;
      readonly creator: number;
      readonly amount: bigint;
      readonly settled: boolean;
      readonly requestId: string;
      readonly description: string;
    }
  | { readonly type: "settle" | "cancel"; readonly key: number | undefined }
  | { readonly type: "get-account" }
  | { readonly type: "get-transaction"; readonly key: number | undefined }
  | { readonly type: "list"; readonly pageSize: number | undefined };

export interface AccountOp {
  readonly call: AccountCall;
  readonly observed: Observed;
  /** Index in the whole history, for messages. */
  readonly historyIndex: number;
}

/** Resolves transaction ids seen in replies to keys, and keys to the id the model expects. */
export interface TransactionNames {
  keyOf(id: string): number | undefined;
  idOf(key: number): string | undefined;
}

type Answer =
  | { readonly kind: "refused"; readonly code: string }
  | { readonly kind: "account" }
  | { readonly kind: "transaction"; readonly tx: ModelTransaction }
  | { readonly kind: "list" };

/** `createdAfter`: key -> keys that must exist before it is created (from the lists read). */
export function accountModel(
  initiallyExists: boolean,
  names: TransactionNames,
  createdAfter: ReadonlyMap<number, ReadonlySet<number>> = new Map(),
): SearchModel<AccountState, AccountOp> {
  const init: AccountState = { exists: initiallyExists, requestId: "", available: 0n, settled: 0n, transactions: [] };
  return {
    init,
    step: (state, op) => {
      const early =
        op.call.type === "create-transaction" ? createdTooEarly(state, op.call.key, createdAfter) : undefined;
      if (early !== undefined) return { ok: false, why: early };
      const { next, answer } = apply(state, op.call);
      // An unknown call that would change nothing here is the same as one that never happened,
      // which the search covers anyway: placing it would only multiply equivalent orders.
      if (op.observed.kind === "unknown" && next === state)
        return { ok: false, why: "an unknown call with no effect here" };
      const why = mismatch(next, op, answer, names);
      return why === undefined ? { ok: true, state: next } : { ok: false, why };
    },
    hash: (s) =>
      `${s.exists ? 1 : 0}${s.requestId}|${s.available}|${s.settled}|${s.transactions.map((t) => `${t.key}.${t.creator}.${t.status}`).join(",")}`,
  };
}

function apply(state: AccountState, call: AccountCall): { next: AccountState; answer: Answer } {
  const refuse = (code: string): { next: AccountState; answer: Answer } => ({
    next: state,
    answer: { kind: "refused", code },
  });
  switch (call.type) {
    case "create-account":
      if (!state.exists)
        return { next: { ...state, exists: true, requestId: call.requestId }, answer: { kind: "account" } };
      return state.requestId === call.requestId
        ? { next: state, answer: { kind: "account" } }
        : refuse("ALREADY_EXISTS");
    case "get-account":
      return state.exists ? { next: state, answer: { kind: "account" } } : refuse("NOT_FOUND");
    case "list":
      return state.exists ? { next: state, answer: { kind: "list" } } : refuse("NOT_FOUND");
    case "get-transaction": {
      const tx = find(state, call.key);
      return tx === undefined ? refuse("NOT_FOUND") : { next: state, answer: { kind: "transaction", tx } };
    }
    case "create-transaction":
      return create(state, call, refuse);
    case "settle":
    case "cancel":
      return finish(state, call.type, call.key, refuse);
  }
}

function create(
  state: AccountState,
  call: Extract<AccountCall, { type: "create-transaction" }>,
  refuse: (code: string) => { next: AccountState; answer: Answer },
): { next: AccountState; answer: Answer } {
  if (!state.exists) return refuse("NOT_FOUND");
  const existing = find(state, call.key);
  if (existing !== undefined) {
    // A retry gets the record as it is now; the same request_id with other content is refused.
    const same =
      existing.amount === call.amount &&
      existing.settled === call.settled &&
      existing.requestId === call.requestId &&
      existing.description === call.description;
    return same ? { next: state, answer: { kind: "transaction", tx: existing } } : refuse("FAILED_PRECONDITION");
  }
  const effect = createEffect({ available: state.available, settled: state.settled }, call.amount, call.settled);
  const tx: ModelTransaction = {
    key: call.key,
    creator: call.creator,
    amount: call.amount,
    settled: call.settled,
    requestId: call.requestId,
    description: call.description,
    status: effect.status,
  };
  const next = {
    ...state,
    available: effect.balances.available,
    settled: effect.balances.settled,
    transactions: [...state.transactions, tx],
  };
  return { next, answer: { kind: "transaction", tx } };
}

function finish(
  state: AccountState,
  verb: "settle" | "cancel",
  key: number | undefined,
  refuse: (code: string) => { next: AccountState; answer: Answer },
): { next: AccountState; answer: Answer } {
  if (!state.exists) return refuse("NOT_FOUND");
  const existing = find(state, key);
  if (existing === undefined) return refuse("NOT_FOUND");
  if (existing.status !== TransactionStatus.PENDING) return refuse("FAILED_PRECONDITION");
  const balances = (verb === "settle" ? settleEffect : cancelEffect)(
    { available: state.available, settled: state.settled },
    existing.amount,
  );
  const tx = { ...existing, status: verb === "settle" ? TransactionStatus.SETTLED : TransactionStatus.CANCELLED };
  const transactions = state.transactions.map((t) => (t.key === key ? tx : t));
  return {
    next: { ...state, available: balances.available, settled: balances.settled, transactions },
    answer: { kind: "transaction", tx },
  };
}

/** Why creating `key` now contradicts the creation order the lists show (undefined: it does not). */
function createdTooEarly(
  state: AccountState,
  key: number,
  createdAfter: ReadonlyMap<number, ReadonlySet<number>>,
): string | undefined {
  const before = createdAfter.get(key);
  if (before === undefined || find(state, key) !== undefined) return undefined;
  for (const k of before)
    if (find(state, k) === undefined)
      return "a list read shows another transaction, not created yet here, created before it";
  return undefined;
}

function find(state: AccountState, key: number | undefined): ModelTransaction | undefined {
  return key === undefined ? undefined : state.transactions.find((t) => t.key === key);
}

/** Why what the client saw is not what the model answers (undefined: it is). */
function mismatch(state: AccountState, op: AccountOp, answer: Answer, names: TransactionNames): string | undefined {
  const seen = op.observed;
  if (seen.kind === "unknown") return undefined;
  if (answer.kind === "refused") {
    return seen.kind === "refused" && seen.code === answer.code
      ? undefined
      : `the model refuses it with ${answer.code}, the client saw ${describeObserved(seen)}`;
  }
  if (seen.kind === "refused") return `the model answers it, the client saw ${seen.code}`;
  switch (answer.kind) {
    case "account": {
      const a = seen.account;
      if (a === undefined) return "the reply carries no account";
      if (a.availableBalance !== state.available || a.settledBalance !== state.settled) {
        return `the model has available=${state.available} settled=${state.settled}, the client read available=${a.availableBalance} settled=${a.settledBalance}`;
      }
      return undefined;
    }
    case "transaction":
      return seen.transaction === undefined
        ? "the reply carries no transaction"
        : transactionMismatch(answer.tx, seen.transaction, names);
    case "list":
      return listMismatch(
        state,
        op.call.type === "list" ? op.call.pageSize : undefined,
        seen.transactions ?? [],
        names,
      );
  }
}

function transactionMismatch(tx: ModelTransaction, got: TransactionValue, names: TransactionNames): string | undefined {
  const expectedId = names.idOf(tx.key);
  if (expectedId !== undefined && got.id !== expectedId)
    return `the reply names transaction ${got.id}, the model ${expectedId}`;
  if (got.amount !== tx.amount) return `transaction ${got.id}: amount ${got.amount}, the model ${tx.amount}`;
  if (got.status !== tx.status)
    return `transaction ${got.id}: status ${statusName(got.status)}, the model ${statusName(tx.status)}`;
  return undefined;
}

function listMismatch(
  state: AccountState,
  pageSize: number | undefined,
  got: readonly TransactionValue[],
  names: TransactionNames,
): string | undefined {
  const all = state.transactions;
  const prefixOk = pageSize !== undefined && got.length === pageSize;
  if (got.length > all.length || (got.length < all.length && !prefixOk)) {
    return `the list has ${got.length} transactions, the model ${all.length}`;
  }
  for (let i = 0; i < got.length; i++) {
    const seen = got[i]!;
    const tx = all[i]!;
    if (names.keyOf(seen.id) !== tx.key)
      return `list position ${i} is ${seen.id}, the model has ${names.idOf(tx.key) ?? `an unnamed transaction (${tx.requestId})`}`;
    const why = transactionMismatch(tx, seen, names);
    if (why !== undefined) return `list position ${i}: ${why}`;
  }
  return undefined;
}

function describeObserved(seen: Observed): string {
  return seen.kind === "refused" ? seen.code : seen.kind === "ok" ? "a successful reply" : "no answer";
}

export function statusName(status: TransactionStatus): string {
  return TransactionStatus[status] ?? `status ${status}`;
}
