// What a query means, once, over any store of ledger records: the LevelDB store (src/storage) and
// the in-memory one (MemoryLedger, for tests and simulations) both answer through runQuery, so
// the not-found rules and the page rules cannot drift apart. Pure: the reader does the reading
// (synchronously or not), this decides what to read and what the answer is.

import { create } from "@bufbuild/protobuf";
import { assert } from "../base/assert.js";
import { pageSizeMax } from "./limits.js";
import {
  CoreErrorCode,
  CoreErrorSchema,
  QueryResultSchema,
  TransactionPageSchema,
  type AccountRecord,
  type ListTransactions,
  type Query,
  type QueryResult,
  type TransactionRecord,
} from "../gen/ledger/core/v1/core_pb.js";
import { formatAccountId, formatTransactionId } from "./ids.js";

type MaybeAsync<T> = T | Promise<T>;

/** The reads a query needs from a store of ledger records (one consistent point in time). */
export interface LedgerReader {
  account(accountId: bigint): MaybeAsync<AccountRecord | undefined>;
  transaction(accountId: bigint, localId: bigint): MaybeAsync<TransactionRecord | undefined>;
  /** Local ids of the account's transactions in creation order with seq > afterSeq, at most `count`. */
  creationOrder(accountId: bigint, afterSeq: bigint, count: number): MaybeAsync<readonly bigint[]>;
  /** The transactions of `localIds`, in that order (undefined where one is missing). */
  transactions(accountId: bigint, localIds: readonly bigint[]): MaybeAsync<readonly (TransactionRecord | undefined)[]>;
}

export async function runQuery(reader: LedgerReader, query: Query): Promise<QueryResult> {
  const { kind } = query;
  switch (kind.case) {
    case "getAccount": {
      const account = await reader.account(kind.value.accountId);
      if (account === undefined) return notFound(`account ${formatAccountId(kind.value.accountId)} not found`);
      return create(QueryResultSchema, { kind: { case: "account", value: account } });
    }
    case "getTransaction": {
      const record = await reader.transaction(kind.value.accountId, kind.value.localId);
      if (record === undefined) return notFound(`transaction ${formatTransactionId(kind.value)} not found`);
      return create(QueryResultSchema, { kind: { case: "transaction", value: record } });
    }
    case "listTransactions":
      return listTransactions(reader, kind.value);
    case undefined:
      assert(false, "empty query");
  }
}

async function listTransactions(reader: LedgerReader, list: ListTransactions): Promise<QueryResult> {
  const { accountId, afterSeq, limit } = list;
  assert(
    limit >= 1 && limit <= pageSizeMax,
    `list limit ${limit} outside 1..${pageSizeMax} (the service validates it)`,
  );
  const account = await reader.account(accountId);
  if (account === undefined) return notFound(`account ${formatAccountId(accountId)} not found`);
  // One entry more than a page tells whether another page follows, from the same point in time.
  const localIds = await reader.creationOrder(accountId, afterSeq, limit + 1);
  const records = await reader.transactions(accountId, localIds.slice(0, limit));
  const transactions = records.map((record) => {
    assert(record !== undefined, `creation index of account ${formatAccountId(accountId)} names a missing transaction`);
    return record;
  });
  const last = transactions.at(-1);
  const nextAfterSeq = localIds.length > limit && last !== undefined ? last.seq : 0n;
  return create(QueryResultSchema, {
    kind: { case: "page", value: create(TransactionPageSchema, { transactions, nextAfterSeq }) },
  });
}

function notFound(message: string): QueryResult {
  return create(QueryResultSchema, {
    kind: { case: "error", value: create(CoreErrorSchema, { code: CoreErrorCode.NOT_FOUND, message }) },
  });
}
