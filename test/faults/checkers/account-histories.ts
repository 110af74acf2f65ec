// Splits a history into per-account sub-histories (P-compositionality: the ledger is a set of
// independent accounts, so the history is linearizable iff every account's part is) and names
// every transaction: all creates with one request_id are one transaction (the core derives its
// id from the request_id), whose id comes from the runner, a reply, or `transactionIdOf`.

import { TransactionStatus } from "../../../src/gen/ledger/v1/ledger_pb.js";
import { accountOf, type History, type HistoryOp } from "../history.js";
import type { AccountCall, AccountOp, Observed, TransactionNames } from "./account-model.js";

/** Refusals that answer a question about the state (checked against the model); any other
 * failure code only means "not applied" and the op is left out. */
const stateRefusals = new Set(["NOT_FOUND", "FAILED_PRECONDITION", "ALREADY_EXISTS"]);

export interface AccountHistory {
  readonly accountId: string;
  readonly ops: AccountOp[];
  readonly times: { invokeMs: number; returnMs: number }[];
  readonly names: TransactionNames;
  /** No create-account in the history: the account existed, empty, before it began. */
  readonly initiallyExists: boolean;
  /** Ids read back that no create is known to have made, while some create's id is unknown. */
  readonly unattributedIds: string[];
  /** key -> keys that every linearization creates before it (see creationOrder). */
  readonly createdAfter: ReadonlyMap<number, ReadonlySet<number>>;
}

export interface Partition {
  readonly accounts: Map<string, AccountHistory>;
  /** History indices of ops whose account is unknown (an unanswered create-account). */
  readonly unplaced: number[];
}

/** Maps a (accountId, requestId) to the transaction id the gateway derives for it. */
export type TransactionIdOf = (accountId: string, requestId: string) => string;

/**
 * `finalStatus`: per account, the status of every transaction stored at the end. An unknown
 * create whose id is not among them never took effect (transactions are never deleted), so it
 * is left out of the search instead of being tried at every point; so is an unknown settle or
 * cancel of a transaction that does not end SETTLED or CANCELLED.
 */
export function partitionByAccount(
  history: History,
  transactionIdOf?: TransactionIdOf,
  finalStatus?: ReadonlyMap<string, ReadonlyMap<string, TransactionStatus>>,
): Partition {
  const accountOfRequest = new Map<string, string>();
  for (const op of history) {
    const id = accountOf(op);
    if (op.kind === "create-account" && id !== undefined && op.requestId) accountOfRequest.set(op.requestId, id);
  }
  const builders = new Map<string, Builder>();
  const unplaced: number[] = [];
  history.forEach((op, index) => {
    const accountId =
      accountOf(op) ?? (op.kind === "create-account" && op.requestId ? accountOfRequest.get(op.requestId) : undefined);
    if (accountId === undefined) {
      unplaced.push(index);
      return;
    }
    let builder = builders.get(accountId);
    if (builder === undefined)
      builders.set(accountId, (builder = new Builder(accountId, transactionIdOf, finalStatus?.get(accountId))));
    builder.add(op, index);
  });
  const accounts = new Map<string, AccountHistory>();
  for (const [id, builder] of builders) accounts.set(id, builder.build());
  return { accounts, unplaced };
}

/** The key of the transaction a create makes: one per request_id, else one per op. */
export function createKey(op: HistoryOp, index: number): string {
  return op.requestId ? `request:${op.requestId}` : `op:${index}`;
}

class Builder {
  private readonly entries: { op: HistoryOp; index: number }[] = [];
  private readonly keys = new Map<string, number>();
  private readonly idOfKey = new Map<number, string>();
  private readonly keyOfId = new Map<string, number>();

  constructor(
    private readonly accountId: string,
    private readonly transactionIdOf: TransactionIdOf | undefined,
    private readonly finalStatus: ReadonlyMap<string, TransactionStatus> | undefined,
  ) {}

  add(op: HistoryOp, index: number): void {
    this.entries.push({ op, index });
    if (op.kind !== "create-transaction") return;
    const key = this.keyOf(createKey(op, index));
    const ids = [op.transactionId, op.outcome === "ok" ? op.transaction?.id : undefined];
    if (op.requestId && this.transactionIdOf) ids.push(this.transactionIdOf(this.accountId, op.requestId));
    for (const id of ids) {
      if (id === undefined) continue;
      if (!this.idOfKey.has(key)) this.idOfKey.set(key, id);
      if (!this.keyOfId.has(id)) this.keyOfId.set(id, key);
    }
  }

  build(): AccountHistory {
    const ops: AccountOp[] = [];
    const times: { invokeMs: number; returnMs: number }[] = [];
    const readIds = new Set<string>();
    let initiallyExists = true;
    for (const { op, index } of this.entries) {
      if (op.kind === "create-account") initiallyExists = false;
      const observed = observe(op);
      if (observed === undefined || this.neverTookEffect(op, index, observed)) continue;
      ops.push({ call: this.call(op, index), observed, historyIndex: index });
      const complete = op.completeMs !== undefined && Number.isFinite(op.completeMs) ? op.completeMs : Infinity;
      times.push({ invokeMs: op.invokeMs, returnMs: observed.kind === "unknown" ? Infinity : complete });
      if (op.transactionId !== undefined && op.kind !== "create-transaction") readIds.add(op.transactionId);
      if (observed.kind === "ok")
        for (const t of [...(op.transactions ?? []), ...(op.transaction ? [op.transaction] : [])]) readIds.add(t.id);
    }
    const unnamed = [...this.keys.values()].some((key) => !this.idOfKey.has(key));
    const unattributedIds = unnamed ? [...readIds].filter((id) => !this.keyOfId.has(id)) : [];
    const names: TransactionNames = { keyOf: (id) => this.keyOfId.get(id), idOf: (key) => this.idOfKey.get(key) };
    const createdAfter = creationOrder(ops, names, [...this.keys.values()]);
    return { accountId: this.accountId, ops, times, names, initiallyExists, unattributedIds, createdAfter };
  }

  /** An unknown update the final state shows had no effect: the search need not try it. */
  private neverTookEffect(op: HistoryOp, index: number, observed: Observed): boolean {
    if (observed.kind !== "unknown" || this.finalStatus === undefined) return false;
    if (op.kind === "create-transaction") {
      const id = this.idOfKey.get(this.keyOf(createKey(op, index)));
      return id !== undefined && !this.finalStatus.has(id);
    }
    // Settled and cancelled are for good: a transaction that ends otherwise was never settled
    // (or cancelled) by this call; the call may only have been refused, which changes nothing.
    if (op.kind === "settle" || op.kind === "cancel") {
      const status = op.transactionId === undefined ? undefined : this.finalStatus.get(op.transactionId);
      return status !== (op.kind === "settle" ? TransactionStatus.SETTLED : TransactionStatus.CANCELLED);
    }
    return false;
  }

  private keyOf(name: string): number {
    let key = this.keys.get(name);
    if (key === undefined) this.keys.set(name, (key = this.keys.size));
    return key;
  }

  private call(op: HistoryOp, index: number): AccountCall {
    switch (op.kind) {
      case "create-account":
        return { type: "create-account", requestId: op.requestId ?? "" };
      case "create-transaction":
        return {
          type: "create-transaction",
          key: this.keyOf(createKey(op, index)),
          creator: index,
          amount: required(op.amount, op, index, "amount"),
          settled: required(op.settled, op, index, "settled"),
          requestId: op.requestId ?? "",
          description: op.description ?? "",
        };
      case "settle":
      case "cancel":
        return { type: op.kind, key: this.keyOfId.get(required(op.transactionId, op, index, "transactionId")) };
      case "get-transaction":
        return {
          type: "get-transaction",
          key: this.keyOfId.get(required(op.transactionId, op, index, "transactionId")),
        };
      case "get-account":
        return { type: "get-account" };
      case "list":
        return { type: "list", pageSize: op.pageSize };
    }
  }
}

function observe(op: HistoryOp): Observed | undefined {
  switch (op.outcome) {
    case "ok":
      return { kind: "ok", account: op.account, transaction: op.transaction, transactions: op.transactions };
    case "unknown":
      // An unknown read tells nothing; only an unknown update may have changed the state.
      return op.kind === "get-account" || op.kind === "get-transaction" || op.kind === "list"
        ? undefined
        : { kind: "unknown" };
    case "failed":
      return op.code !== undefined && stateRefusals.has(op.code) ? { kind: "refused", code: op.code } : undefined;
  }
}

function required<T>(value: T | undefined, op: HistoryOp, index: number, field: string): T {
  if (value === undefined) throw new Error(`history op #${index} (${op.kind}) has no ${field}`);
  return value;
}

/**
 * What the lists read tell about the creation order, which is append-only: a transaction listed
 * after another was created after it; a transaction missing from a complete list was created
 * (if ever) after every transaction in that list. Every linearization obeys this, so the search
 * may refuse any create that breaks it. Without it, the order of concurrent creates that no
 * balance tells apart would be searched in every permutation until the next list read.
 */
function creationOrder(
  ops: readonly AccountOp[],
  names: TransactionNames,
  allKeys: readonly number[],
): Map<number, Set<number>> {
  const after = new Map<number, Set<number>>();
  const add = (key: number, before: number): void => {
    if (key === before) return;
    let set = after.get(key);
    if (set === undefined) after.set(key, (set = new Set()));
    set.add(before);
  };
  for (const op of ops) {
    if (op.call.type !== "list" || op.observed.kind !== "ok") continue;
    const listed = (op.observed.transactions ?? []).map((t) => names.keyOf(t.id));
    if (listed.some((k) => k === undefined)) continue;
    const keys = listed as number[];
    for (let i = 1; i < keys.length; i++) add(keys[i]!, keys[i - 1]!);
    const complete = op.call.pageSize === undefined || keys.length < op.call.pageSize;
    const last = keys[keys.length - 1];
    if (!complete || last === undefined) continue;
    const inList = new Set(keys);
    for (const key of allKeys) if (!inList.has(key)) add(key, last);
  }
  return after;
}
