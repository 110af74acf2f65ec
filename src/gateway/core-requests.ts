// Builders for the core's commands and queries. Everything non-deterministic (ids, the clock)
// is already chosen by the caller: these values travel inside the replicated command.

import { create } from "@bufbuild/protobuf";
import { CommandSchema, QuerySchema, type Command, type Query } from "../gen/ledger/core/v1/core_pb.js";
import type { TransactionId } from "../ledger/ids.js";

export function createAccountCommand(timestamp: bigint, accountId: bigint, requestId: string): Command {
  return create(CommandSchema, { timestamp, kind: { case: "createAccount", value: { accountId, requestId } } });
}

export interface NewTransaction {
  accountId: bigint;
  localId: bigint;
  amount: bigint;
  description: string;
  settled: boolean;
  requestId: string;
}

export function createTransactionCommand(timestamp: bigint, t: NewTransaction): Command {
  return create(CommandSchema, { timestamp, kind: { case: "createTransaction", value: t } });
}

/** `attemptId` names the call (the same in each of its retries; 0: none): a retry of the call
 * that finished the transaction gets the record back instead of a refusal. */
export function settleTransactionCommand(timestamp: bigint, ref: TransactionId, attemptId = 0n): Command {
  return create(CommandSchema, {
    timestamp,
    kind: { case: "settleTransaction", value: { accountId: ref.accountId, localId: ref.localId, attemptId } },
  });
}

/** See settleTransactionCommand for `attemptId`. */
export function cancelTransactionCommand(timestamp: bigint, ref: TransactionId, attemptId = 0n): Command {
  return create(CommandSchema, {
    timestamp,
    kind: { case: "cancelTransaction", value: { accountId: ref.accountId, localId: ref.localId, attemptId } },
  });
}

export function getAccountQuery(accountId: bigint): Query {
  return create(QuerySchema, { kind: { case: "getAccount", value: { accountId } } });
}

export function getTransactionQuery(ref: TransactionId): Query {
  return create(QuerySchema, { kind: { case: "getTransaction", value: ref } });
}

export function listTransactionsQuery(accountId: bigint, afterSeq: bigint, limit: number): Query {
  return create(QuerySchema, { kind: { case: "listTransactions", value: { accountId, afterSeq, limit } } });
}
