// A node's disk in the simulator: the node's real storage code runs on memory-level (through
// abstract-level, as classic-level in production), and this wrapper models what LevelDB
// promises about durability. A write becomes visible when it completes; it is durable only once
// a synced write (or a later one) completes, since LevelDB's log is sequential. A crash keeps
// everything synced plus a prefix of the unsynced writes (the OS may have flushed some), each
// batch whole or not at all (a log record is checksummed).
//
// Storage faults: a write may fail before it changes anything, or fail in its sync after its
// data reached the cache (visible, not durable). Either must stop the node: a write asked of a
// disk that has failed is recorded as a violation (the node went on after a failed write).

import { MemoryLevel } from "memory-level";
import type { KeyRange } from "../../src/storage/ledger-keys.js";
import type { LedgerDb } from "../../src/storage/ledger-store.js";
import type { Owner, SimWorld } from "./world.js";

type DiskOp =
  | { kind: "put"; key: string; value: Uint8Array }
  | { kind: "del"; key: string }
  | { kind: "clear"; range: { gte?: string; gt?: string; lt?: string } };

export interface DiskFaults {
  /** Chance that one write fails (before or after its data reached the cache). */
  writeFailure: number;
  /** Sabotage: a sync makes nothing durable (a crash may lose acknowledged writes). */
  fsyncLies?: boolean;
}

export interface DiskStats {
  writes: number;
  syncs: number;
  failures: number;
  crashes: number;
  unsyncedLost: number;
}

/** Every simulated storage failure's message contains this. */
export const simulatedIoError = "simulated I/O error";

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

function inRange(key: string, r: { gte?: string; gt?: string; lt?: string }): boolean {
  // Hex encoding keeps byte order, so hex strings compare as the keys do.
  if (r.gte !== undefined && key < r.gte) return false;
  if (r.gt !== undefined && key <= r.gt) return false;
  if (r.lt !== undefined && key >= r.lt) return false;
  return true;
}

/** The product's frames of the current stack (the simulator's own are left out). */
function callers(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  return `\n${frames
    .filter((f) => f.includes("/src/"))
    .slice(0, 8)
    .join("\n")}`;
}

export class SimDisk {
  /** What survives any crash. */
  private readonly durable = new Map<string, Uint8Array>();
  /** Completed writes not yet covered by a sync, oldest first: each survives a crash or not. */
  private unsynced: DiskOp[][] = [];
  private failed = false;
  /** Off once the run heals: recovery and the healthy stretch run on good disks. */
  faultsOn = true;
  /** Where the failed write was asked (the stack of its caller), for the violation's report. */
  private failedAt = "";
  readonly stats: DiskStats = { writes: 0, syncs: 0, failures: 0, crashes: 0, unsyncedLost: 0 };

  constructor(
    private readonly world: SimWorld,
    readonly name: string,
    private readonly faults: DiskFaults,
    private readonly onViolation: (what: string) => void,
  ) {}

  /**
   * A database holding what is durable, for a new incarnation of the node owned by `owner`:
   * its writes take virtual time and never complete once the owner is dead.
   */
  async open(owner: Owner): Promise<LedgerDb> {
    this.failed = false;
    const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const load = db.batch();
    for (const [key, value] of [...this.durable].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      load.put(Buffer.from(key, "hex"), value);
    await load.write();
    this.instrument(db as unknown as LedgerDb, owner);
    return db as unknown as LedgerDb;
  }

  /** The process died: keep the synced state and a random prefix of what was not synced. */
  crash(): void {
    this.stats.crashes++;
    const kept = this.world.random.intBelow(this.unsynced.length + 1);
    for (const ops of this.unsynced.slice(0, kept)) this.applyDurably(ops);
    this.stats.unsyncedLost += this.unsynced.length - kept;
    this.unsynced = [];
  }

  private instrument(db: LedgerDb, owner: Owner): void {
    const originalBatch = db.batch.bind(db) as () => ReturnType<LedgerDb["batch"]>;
    const originalClear = db.clear.bind(db);
    // Records a write's operations; runs `apply` (the real write) when its virtual time is up.
    const perform = (ops: DiskOp[], sync: boolean, apply: () => Promise<void>): Promise<void> => {
      if (this.failed) {
        this.onViolation(
          `${this.name} was asked to write again after a failed write.\nThe failed write was asked at:${this.failedAt}\nThe next write was asked at:${callers()}`,
        );
        return Promise.reject(new Error(`${this.name}: ${simulatedIoError} (the disk failed earlier)`));
      }
      this.stats.writes++;
      const roll = this.world.random.float();
      const fails = this.faultsOn && roll < this.faults.writeFailure;
      const failsInSync = fails && sync && this.world.random.intBelow(2) === 0;
      const latencyMs = sync ? 0.1 + this.world.random.float() * 2 : 0.02;
      if (fails) this.failedAt = callers();
      return new Promise<void>((resolve, reject) => {
        this.world.at(
          latencyMs,
          () => {
            if (fails && !failsInSync) {
              this.failed = true;
              this.stats.failures++;
              reject(new Error(`${this.name}: ${simulatedIoError} in a write`));
              return;
            }
            apply().then(() => {
              if (!owner.alive) return; // the process died meanwhile: this write never returns
              this.unsynced.push(ops);
              if (failsInSync) {
                // The data is in the cache (visible) but its sync failed: not durable.
                this.failed = true;
                this.stats.failures++;
                reject(new Error(`${this.name}: ${simulatedIoError} in fsync`));
                return;
              }
              if (sync && this.faults.fsyncLies !== true) {
                this.stats.syncs++;
                for (const pending of this.unsynced) this.applyDurably(pending);
                this.unsynced = [];
              }
              resolve();
            }, reject);
          },
          owner,
        );
      });
    };

    // Reads that go to the thread pool in LevelDB (getMany, iterators) take virtual time here,
    // so a query's awaits can interleave with the loop's writes as they do in production; one
    // in twenty is slow (a cold block, a busy pool).
    const readLatency = (): Promise<void> => {
      const r = this.world.random;
      return this.world.sleep(r.intBelow(20) === 0 ? 2 + r.float() * 20 : 0.01 + r.float() * 0.2, owner);
    };
    const originalGetMany = db.getMany.bind(db) as (...args: unknown[]) => Promise<unknown>;
    db.getMany = (async (...args: unknown[]) => {
      await readLatency();
      return originalGetMany(...args);
    }) as typeof db.getMany;
    const originalIterator = db.iterator.bind(db) as (...args: unknown[]) => ReturnType<LedgerDb["iterator"]>;
    db.iterator = ((...args: unknown[]) => {
      const it = originalIterator(...args);
      const all = it.all.bind(it);
      it.all = (async (...a: unknown[]) => {
        await readLatency();
        return (all as (...x: unknown[]) => Promise<unknown>)(...a);
      }) as typeof it.all;
      return it;
    }) as typeof db.iterator;

    db.batch = ((...args: unknown[]) => {
      if (args.length > 0) throw new Error("the simulator's disk supports only chained batches");
      const real = originalBatch();
      const ops: DiskOp[] = [];
      const put = real.put.bind(real);
      const del = real.del.bind(real);
      const write = real.write.bind(real);
      real.put = (key: Uint8Array, value: Uint8Array) => {
        ops.push({ kind: "put", key: hex(key), value: value.slice() });
        return put(key, value);
      };
      real.del = (key: Uint8Array) => {
        ops.push({ kind: "del", key: hex(key) });
        return del(key);
      };
      real.write = ((options?: { sync?: boolean }) =>
        perform(ops, options?.sync === true, () => write(options ?? {}))) as typeof real.write;
      return real;
    }) as typeof db.batch;

    db.clear = ((range: KeyRange = {}) => {
      const r: { gte?: string; gt?: string; lt?: string } = {};
      if (range.gte !== undefined) r.gte = hex(range.gte);
      if (range.gt !== undefined) r.gt = hex(range.gt);
      if (range.lt !== undefined) r.lt = hex(range.lt);
      return perform([{ kind: "clear", range: r }], false, () => originalClear(range));
    }) as typeof db.clear;
  }

  private applyDurably(ops: DiskOp[]): void {
    for (const op of ops) {
      if (op.kind === "put") this.durable.set(op.key, op.value);
      else if (op.kind === "del") this.durable.delete(op.key);
      else for (const key of [...this.durable.keys()]) if (inRange(key, op.range)) this.durable.delete(key);
    }
  }
}
