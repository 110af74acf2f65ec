// The LedgerView the store hands to the core: records prefetched from LevelDB for a batch of
// commands, overlaid with the writes of the commands applied so far, so a later command in the
// batch sees an earlier one's effects before anything is written.

import { assert } from "../base/assert.js";
import type { AccountRecord, TransactionRecord } from "../gen/ledger/core/v1/core_pb.js";
import type { LedgerView, LedgerWrite } from "../ledger/view.js";

export class PrefetchedView implements LedgerView {
  private readonly accounts = new Map<bigint, AccountRecord | undefined>();
  private readonly transactions = new Map<string, TransactionRecord | undefined>();

  setAccount(accountId: bigint, record: AccountRecord | undefined): void {
    this.accounts.set(accountId, record);
  }

  setTransaction(accountId: bigint, localId: bigint, record: TransactionRecord | undefined): void {
    this.transactions.set(`${accountId}/${localId}`, record);
  }

  getAccount(accountId: bigint): AccountRecord | undefined {
    // A read of something not prefetched means recordsNeeded is incomplete: the core would
    // take "absent" for "not loaded" and diverge from a replica with a warmer cache.
    assert(this.accounts.has(accountId), `account ${accountId} read by the core but not prefetched`);
    return this.accounts.get(accountId);
  }

  getTransaction(accountId: bigint, localId: bigint): TransactionRecord | undefined {
    const key = `${accountId}/${localId}`;
    assert(this.transactions.has(key), `transaction ${key} read by the core but not prefetched`);
    return this.transactions.get(key);
  }

  absorb(writes: readonly LedgerWrite[]): void {
    for (const write of writes) {
      if (write.kind === "account") this.setAccount(write.record.id, write.record);
      else if (write.kind === "transaction")
        this.setTransaction(write.record.accountId, write.record.localId, write.record);
    }
  }
}
