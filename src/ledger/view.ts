// What the pure core reads and what it asks to be written. The core never touches storage: the
// caller prefetches the records that `recordsNeeded` names, serves them through a synchronous
// LedgerView, and persists the semantic writes the core returns (the store encodes the keys).

import type { AccountRecord, CommandResult, TransactionRecord } from "../gen/ledger/core/v1/core_pb.js";

/** A synchronous read of the records one command needs. Returned records must not be mutated. */
export interface LedgerView {
  getAccount(accountId: bigint): AccountRecord | undefined;
  getTransaction(accountId: bigint, localId: bigint): TransactionRecord | undefined;
}

/** A record the caller must prefetch before applying a command. */
export type RecordRef =
  | { readonly kind: "account"; readonly accountId: bigint }
  | { readonly kind: "transaction"; readonly accountId: bigint; readonly localId: bigint };

/** One semantic write: a whole record (put) or one entry of an account's creation-order index. */
export type LedgerWrite =
  | { readonly kind: "account"; readonly record: AccountRecord }
  | { readonly kind: "transaction"; readonly record: TransactionRecord }
  | { readonly kind: "creationIndex"; readonly accountId: bigint; readonly seq: bigint; readonly localId: bigint };

/** The core's answer to one command: the reply value and the writes that make it so. */
export interface ApplyOutcome {
  readonly result: CommandResult;
  readonly writes: readonly LedgerWrite[];
}
