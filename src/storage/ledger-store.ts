// The ledger state in LevelDB: applies commands through the pure core and serves queries.
// Writes never go to the database from here: they are appended to the caller's chained batch,
// so the caller can add its own entries (e.g. the Raft applied index) and write everything
// atomically, synced or not. Contract: the batch of one applyCommands call is written (or
// dropped, and batchDropped() called) before the next applyCommands call on the same prefix,
// because reads go to the DB and hot account records are kept as the applies left them.

import type { AbstractLevel } from "abstract-level";
import { ledgerHotAccountsMax, ledgerPrefetchSyncKeysMax } from "./limits.js";
import type {
  AccountRecord,
  Command,
  CommandResult,
  Query,
  QueryResult,
  TransactionRecord,
} from "../gen/ledger/core/v1/core_pb.js";
import { runQuery, type LedgerReader } from "../ledger/queries.js";
import { applyCommand, recordsNeeded } from "../ledger/core.js";
import { encodeUint64BE, readUint64BE } from "../ledger/ids.js";
import type { LedgerWrite, RecordRef } from "../ledger/view.js";
import { accountRecordKey, creationIndexKey, creationIndexRangeAfter, transactionRecordKey } from "./ledger-keys.js";
import { PrefetchedView } from "./prefetched-view.js";
import { HotAccounts } from "./hot-accounts.js";
import {
  decodeAccountRecord,
  decodeTransactionRecord,
  encodeAccountRecord,
  encodeTransactionRecord,
} from "./record-codec.js";

/** An abstract-level database opened with keyEncoding and valueEncoding 'view': classic-level
 * (LevelDB) in production, memory-level in the simulator, the same storage code over both. */
export type LedgerDb = AbstractLevel<string | Buffer | Uint8Array, Uint8Array, Uint8Array>;

/** A LevelDB snapshot (`db.snapshot()`): a fixed point in time to read from. */
export type DbSnapshot = ReturnType<LedgerDb["snapshot"]>;
interface ReadOptions {
  snapshot?: DbSnapshot;
}

/** What the store needs of a chained batch (`db.batch()`); never the array form (STACK.md). */
export interface BatchSink {
  put(key: Uint8Array, value: Uint8Array): unknown;
}

export class LedgerStore {
  private readonly prefix: Uint8Array;
  /**
   * Account records as the applies left them, for the next apply's prefetch only (queries read
   * the database, which lags the applies until the loop's write lands). Exact because every
   * change to this prefix's records goes through applyCommands; a snapshot install switches to
   * a new LedgerStore, with an empty cache.
   */
  private readonly hot: HotAccounts;

  constructor(
    private readonly db: LedgerDb,
    prefix: Uint8Array,
    hotAccountsMax = ledgerHotAccountsMax,
  ) {
    this.prefix = prefix.slice();
    this.hot = new HotAccounts(hotAccountsMax);
  }

  /** Applies `commands` in order (each sees the ones before), appends their writes to `batch`
   * and returns one result per command. If the core throws, nothing has been added to `batch`. */
  async applyCommands(commands: readonly Command[], batch: BatchSink): Promise<CommandResult[]> {
    const view = await this.prefetch(commands);
    const results: CommandResult[] = [];
    // Keyed by record identity so a record changed by several commands is put once, in the
    // position of its first write (Map order is insertion order: deterministic).
    const pending = new Map<string, LedgerWrite>();
    for (const command of commands) {
      const { result, writes } = applyCommand(view, command);
      view.absorb(writes);
      for (const write of writes) pending.set(writeIdentity(write), write);
      results.push(result);
    }
    for (const write of pending.values()) this.putWrite(batch, write);
    return results;
  }

  /** The batch of the last applyCommands will not be written: forget what it cached. */
  batchDropped(): void {
    this.hot.clear();
  }

  /**
   * Runs a query (src/ledger/queries.ts). With `snapshot` (a LevelDB snapshot taken when the read
   * began) every record of the answer comes from that one point in time, even while commands are
   * applied or the replica's state is replaced; without it each record is read at its own moment.
   */
  query(query: Query, snapshot?: DbSnapshot): Promise<QueryResult> {
    return runQuery(this.reader(snapshot === undefined ? {} : { snapshot }), query);
  }

  private reader(options: ReadOptions): LedgerReader {
    return {
      account: (accountId) => this.readAccount(accountId, options),
      transaction: (accountId, localId) => {
        const bytes = this.db.getSync(transactionRecordKey(this.prefix, accountId, localId), options);
        return bytes === undefined ? undefined : decodeTransactionRecord(bytes);
      },
      creationOrder: async (accountId, afterSeq, count) => {
        const entries = await this.db
          .iterator({ ...creationIndexRangeAfter(this.prefix, accountId, afterSeq), limit: count, ...options })
          .all();
        return entries.map(([, localIdBytes]) => readUint64BE(localIdBytes, 0));
      },
      transactions: async (accountId, localIds) => {
        if (localIds.length === 0) return [];
        const keys = localIds.map((localId) => transactionRecordKey(this.prefix, accountId, localId));
        const values = await this.db.getMany(keys, options);
        return values.map((bytes) => (bytes === undefined ? undefined : decodeTransactionRecord(bytes)));
      },
    };
  }

  // A point read is synchronous (getSync): a few microseconds from LevelDB's caches, against
  // about 50 us of CPU for an asynchronous get's trip through the thread pool (STACK.md costs;
  // measured with classic-level 3 on this machine).
  private async readAccount(accountId: bigint, options: ReadOptions = {}): Promise<AccountRecord | undefined> {
    const bytes = this.db.getSync(accountRecordKey(this.prefix, accountId), options);
    return bytes === undefined ? undefined : decodeAccountRecord(bytes);
  }

  /**
   * Reads every record the commands may need: a few keys (the usual loop turn) one by one with
   * getSync, which costs about a tenth of one asynchronous getMany; many keys (a large batch) in
   * one getMany, so a cold read of hundreds of records does not hold the event loop.
   */
  private async prefetch(commands: readonly Command[]): Promise<PrefetchedView> {
    const refs = new Map<string, RecordRef>();
    for (const command of commands) {
      for (const ref of recordsNeeded(command)) refs.set(refIdentity(ref), ref);
    }
    const view = new PrefetchedView();
    const wanted: RecordRef[] = [];
    for (const ref of refs.values()) {
      const hot = ref.kind === "account" ? this.hot.get(ref.accountId) : undefined;
      if (hot !== undefined) view.setAccount(ref.accountId, hot);
      else wanted.push(ref);
    }
    const keys = wanted.map((ref) => this.refKey(ref));
    const values =
      keys.length <= ledgerPrefetchSyncKeysMax ? keys.map((key) => this.db.getSync(key)) : await this.db.getMany(keys);
    wanted.forEach((ref, i) => {
      const bytes = values[i];
      if (ref.kind === "account") {
        const record = bytes === undefined ? undefined : decodeAccountRecord(bytes);
        if (record !== undefined) this.hot.set(record.id, record);
        view.setAccount(ref.accountId, record);
      } else {
        const record: TransactionRecord | undefined = bytes === undefined ? undefined : decodeTransactionRecord(bytes);
        view.setTransaction(ref.accountId, ref.localId, record);
      }
    });
    return view;
  }

  private refKey(ref: RecordRef): Uint8Array {
    return ref.kind === "account"
      ? accountRecordKey(this.prefix, ref.accountId)
      : transactionRecordKey(this.prefix, ref.accountId, ref.localId);
  }

  private putWrite(batch: BatchSink, write: LedgerWrite): void {
    switch (write.kind) {
      case "account":
        batch.put(accountRecordKey(this.prefix, write.record.id), encodeAccountRecord(write.record));
        this.hot.set(write.record.id, write.record);
        return;
      case "transaction":
        batch.put(
          transactionRecordKey(this.prefix, write.record.accountId, write.record.localId),
          encodeTransactionRecord(write.record),
        );
        return;
      case "creationIndex":
        batch.put(creationIndexKey(this.prefix, write.accountId, write.seq), encodeUint64BE(write.localId));
        return;
    }
  }
}

function refIdentity(ref: RecordRef): string {
  return ref.kind === "account" ? `a/${ref.accountId}` : `t/${ref.accountId}/${ref.localId}`;
}

function writeIdentity(write: LedgerWrite): string {
  switch (write.kind) {
    case "account":
      return `a/${write.record.id}`;
    case "transaction":
      return `t/${write.record.accountId}/${write.record.localId}`;
    case "creationIndex":
      return `i/${write.accountId}/${write.seq}`;
  }
}
