// A bounded map of decoded account records, least recently used out first (a Map keeps
// insertion order: a hit moves its key to the end, and the first key is the coldest). Records
// are frozen on the way in: the core never mutates a record it read (it clones), and a frozen
// one makes any code that tried fail loudly instead of making this cache disagree with disk.

import { assert } from "../base/assert.js";
import type { AccountRecord } from "../gen/ledger/core/v1/core_pb.js";

export class HotAccounts {
  private readonly records = new Map<bigint, AccountRecord>();

  constructor(private readonly max: number) {
    assert(Number.isInteger(max) && max >= 0, `hot account cache size ${max}`);
  }

  get size(): number {
    return this.records.size;
  }

  get(accountId: bigint): AccountRecord | undefined {
    const record = this.records.get(accountId);
    if (record !== undefined) {
      this.records.delete(accountId);
      this.records.set(accountId, record);
    }
    return record;
  }

  clear(): void {
    this.records.clear();
  }

  set(accountId: bigint, record: AccountRecord): void {
    if (this.max === 0) return;
    this.records.delete(accountId);
    this.records.set(accountId, Object.freeze(record));
    if (this.records.size > this.max) {
      const coldest = this.records.keys().next();
      if (coldest.done !== true) this.records.delete(coldest.value);
    }
  }
}
