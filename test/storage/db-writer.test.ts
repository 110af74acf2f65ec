// DbWriter on a real classic-level database: jobs run strictly in submission order, the first
// failure is final (the node must stop), and close drains the queue and then refuses.

import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DbWriter } from "../../src/storage/db-writer.js";
import type { LedgerDb } from "../../src/storage/ledger-store.js";
import { autoCleanup } from "../support/cleanup.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

let db: LedgerDb;
let writer: DbWriter;

const key = Uint8Array.of(1);
const keyAt = (i: number): Uint8Array => Uint8Array.of(2, i >> 8, i & 0xff);

function batchPut(k: Uint8Array, value: number): ReturnType<LedgerDb["batch"]> {
  return db.batch().put(k, Uint8Array.of(value >> 8, value & 0xff));
}

async function sampleValue(k: Uint8Array): Promise<number | undefined> {
  const v = await db.get(k);
  return v === undefined ? undefined : ((v[0] as number) << 8) | (v[1] as number);
}

beforeEach(async () => {
  const dir = await makeTempDir("db-writer-");
  db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  writer = new DbWriter(db);
});

afterEach(async () => {
  await writer.close();
  await db.close();
});

describe("DbWriter", () => {
  it("runs many concurrent submissions in submission order: the last write wins", async () => {
    const n = 300;
    const finished: number[] = [];
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      // Alternate synced and unsynced writes, and a clear now and then, all without awaiting.
      const job =
        i % 10 === 9
          ? writer.clear({ gte: key, lt: Uint8Array.of(1, 0) })
          : writer.write(batchPut(key, i), { sync: i % 2 === 0 });
      jobs.push(job.then(() => void finished.push(i)));
    }
    expect(writer.queuedJobs()).toBe(n);
    await Promise.all(jobs);
    expect(finished).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(await sampleValue(key)).toBeUndefined(); // job 299 is a clear
    expect(writer.queuedJobs()).toBe(0);
  });

  it("a clear lands after the batch submitted before it and before the one after", async () => {
    void writer.write(batchPut(keyAt(1), 1).put(keyAt(2), Uint8Array.of(0, 2)), { sync: false });
    void writer.clear({ gte: keyAt(0), lt: keyAt(2) });
    const last = writer.write(batchPut(keyAt(0), 7), { sync: true });
    await last;
    expect([await sampleValue(keyAt(0)), await sampleValue(keyAt(1)), await sampleValue(keyAt(2))]).toEqual([
      7,
      undefined,
      2,
    ]);
  });

  it("a failed write is final: its own promise rejects, the owner is told once, and every later job is refused untouched", async () => {
    const failures: unknown[] = [];
    const w = new DbWriter(db, (e) => failures.push(e));
    const spent = batchPut(key, 1);
    await spent.write();
    const before = w.write(batchPut(keyAt(0), 1), { sync: false });
    const failing = w.write(spent, { sync: true }); // a chained batch can be written once only
    const queuedAfter = w.write(batchPut(key, 2), { sync: true });
    await expect(before).resolves.toBeUndefined();
    await expect(failing).rejects.toThrow();
    await expect(queuedAfter).rejects.toThrow(/failed earlier/);
    await expect(w.write(batchPut(key, 3), { sync: true })).rejects.toThrow(/nothing more is written/);
    await expect(w.clear({ gte: key, lt: keyAt(0) })).rejects.toThrow(/failed earlier/);
    expect(w.failed).toBe(true);
    expect(failures).toHaveLength(1);
    expect(await sampleValue(key)).toBe(1);
    expect(await sampleValue(keyAt(0))).toBe(1);
  });

  it("idle resolves once every queued job, including ones queued meanwhile, has ended", async () => {
    let ended = 0;
    for (let i = 0; i < 20; i++) void writer.write(batchPut(keyAt(i), i), { sync: false }).then(() => void ended++);
    const idle = writer.idle();
    void writer.write(batchPut(key, 5), { sync: false }).then(() => void ended++);
    await idle;
    expect(ended).toBe(21);
    expect(writer.queuedJobs()).toBe(0);
    expect(await sampleValue(key)).toBe(5);
  });

  it("close waits for the queued jobs, then refuses new ones with an Error", async () => {
    const queued = Array.from({ length: 10 }, (_, i) => writer.write(batchPut(keyAt(i), i), { sync: true }));
    await writer.close();
    expect(writer.queuedJobs()).toBe(0);
    for (const [i, job] of queued.entries()) {
      await expect(job).resolves.toBeUndefined();
      expect(await sampleValue(keyAt(i))).toBe(i);
    }
    await expect(writer.write(batchPut(key, 1), { sync: true })).rejects.toThrow(/closed/);
    await expect(writer.clear({ gte: key })).rejects.toThrow(/closed/);
    expect(await sampleValue(key)).toBeUndefined();
  });
});
