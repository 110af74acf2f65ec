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

export function settleTransactionCommand(timestamp: bigint, ref: TransactionId): Command {
  return create(CommandSchema, { timestamp, kind: { case: "settleTransaction", value: ref } });
}

export function cancelTransactionCommand(timestamp: bigint, ref: TransactionId): Command {
  return create(CommandSchema, { timestamp, kind: { case: "cancelTransaction", value: ref } });
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
