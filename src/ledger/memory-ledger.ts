// A whole ledger state in memory: a LedgerView that also absorbs the core's writes. Used by
// unit tests and usable by simulations; the durable state lives in src/storage/ledger-store.ts.

import type { AccountRecord, Command, CommandResult, TransactionRecord } from "../gen/ledger/core/v1/core_pb.js";
import { assert } from "../base/assert.js";
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

  /** The account's transactions in creation order, after `afterSeq`, at most `limit`. */
  listTransactions(accountId: bigint, afterSeq: bigint, limit: number): TransactionRecord[] {
    const count = this.accounts.get(accountId)?.transactionCount ?? 0n;
    const page: TransactionRecord[] = [];
    for (let seq = afterSeq + 1n; seq <= count && page.length < limit; seq++) {
      const localId = this.creationIndex.get(`${accountId}/${seq}`);
      assert(localId !== undefined, `creation index of account ${accountId} has no seq ${seq}`);
      const record = this.getTransaction(accountId, localId);
      assert(record !== undefined, `creation index of account ${accountId} names a missing transaction`);
      page.push(record);
    }
    return page;
  }
}
