// A whole ledger state in memory: a LedgerView that also absorbs the core's writes. Used by
// unit tests and usable by simulations; the durable state lives in src/storage/ledger-store.ts.

import type {
  AccountRecord,
  Command,
  CommandResult,
  Query,
  QueryResult,
  TransactionRecord,
} from "../gen/ledger/core/v1/core_pb.js";
import { assert } from "../base/assert.js";
import { runQuery, type LedgerReader } from "./queries.js";
import { applyCommand } from "./core.js";
import type { LedgerView, LedgerWrite } from "./view.js";

export class MemoryLedger implements LedgerView {
  private readonly accounts = new Map<bigint, AccountRecord>();
  private readonly transactions = new Map<string, TransactionRecord>();
  /** `${accountId}/${seq}` -> localId, the creation-order index. */
  private readonly creationIndex = new Map<string, bigint>();

  getAccount(accountId: bigint): AccountRecord | undefined {
    return this.accounts.get(accountId);
  }

  getTransaction(accountId: bigint, localId: bigint): TransactionRecord | undefined {
    return this.transactions.get(`${accountId}/${localId}`);
  }

  applyWrites(writes: readonly LedgerWrite[]): void {
    for (const write of writes) {
      switch (write.kind) {
        case "account":
          this.accounts.set(write.record.id, write.record);
          break;
        case "transaction":
          this.transactions.set(`${write.record.accountId}/${write.record.localId}`, write.record);
          break;
        case "creationIndex":
          this.creationIndex.set(`${write.accountId}/${write.seq}`, write.localId);
          break;
      }
    }
  }

  /** Applies one command through the core and keeps its writes. */
  apply(command: Command): { result: CommandResult; writes: readonly LedgerWrite[] } {
    const outcome = applyCommand(this, command);
    this.applyWrites(outcome.writes);
    return outcome;
  }

  /** The account's transactions in creation order after `afterSeq`, at most `limit` (tests). */
  listTransactions(accountId: bigint, afterSeq: bigint, limit: number): TransactionRecord[] {
    const localIds = this.reader.creationOrder(accountId, afterSeq, limit) as readonly bigint[];
    return localIds.map((localId) => {
      const record = this.getTransaction(accountId, localId);
      assert(record !== undefined, `creation index of account ${accountId} names a missing transaction`);
      return record;
    });
  }

  /** Runs a query over the records held (src/ledger/queries.ts). */
  query(query: Query): Promise<QueryResult> {
    return runQuery(this.reader, query);
  }

  private readonly reader: LedgerReader = {
    account: (accountId) => this.getAccount(accountId),
    transaction: (accountId, localId) => this.getTransaction(accountId, localId),
    creationOrder: (accountId, afterSeq, count) => {
      const localIds: bigint[] = [];
      for (let seq = afterSeq + 1n; localIds.length < count; seq++) {
        const localId = this.creationIndex.get(`${accountId}/${seq}`);
        if (localId === undefined) break;
        localIds.push(localId);
      }
      return localIds;
    },
    transactions: (accountId, localIds) => localIds.map((localId) => this.getTransaction(accountId, localId)),
  };
}
