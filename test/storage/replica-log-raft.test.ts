// ReplicaLog as the Storage of real RawNodes: a driver that persists every Ready in one synced
// batch (with the applied index), and restarts that reload the log into new RawNodes.

import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RawNode } from "../../src/raft/raw-node.js";
import { MessageType } from "../../src/raft/types.js";
import type { Entry, Message, RaftConfig } from "../../src/raft/types.js";
import { DbWriter } from "../../src/storage/db-writer.js";
import type { LedgerDb } from "../../src/storage/ledger-store.js";
import { ReplicaLog } from "../../src/storage/replica-log.js";
import { testRaftConfig } from "../raft/support/cluster.js";
import { autoCleanup } from "../support/cleanup.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

/** Ready rounds a drive may take before the test deems the core stuck. */
const driveRoundsMax = 200;

let dir: string;
let db: LedgerDb;

async function openDb(): Promise<LedgerDb> {
  const opened = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await opened.open();
  return opened;
}

beforeEach(async () => {
  dir = await makeTempDir("replica-log-raft-");
  db = await openDb();
});

afterEach(async () => {
  await db.close();
});

interface Replica {
  id: number;
  node: RawNode;
  log: ReplicaLog;
  applied: Entry[];
}

const text = (e: Entry): string => new TextDecoder().decode(e.data);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function config(id: number, voters: number[], applied: number): RaftConfig {
  return testRaftConfig(id, { peers: voters, applied });
}

async function start(id: number, voters: number[]): Promise<Replica> {
  const log = await ReplicaLog.load(db, id, voters);
  return { id, node: new RawNode(config(id, voters, log.applied()), log), log, applied: [] };
}

/**
 * One driver turn for every replica with a Ready: everything persisted in ONE synced batch
 * (entries, hard states, snapshots, applied indexes), then messages handed to `send`, then
 * advance. A snapshot message is taken as delivered in full (reportSnapshot ok).
 */
async function turn(replicas: Replica[], send: (m: Message) => void): Promise<boolean> {
  const ready = replicas.filter((r) => r.node.hasReady()).map((r) => ({ r, rd: r.node.ready() }));
  if (ready.length === 0) return false;
  const batch = db.batch();
  for (const { r, rd } of ready) {
    r.log.persistReady(rd, batch, rd.snapshot === undefined ? {} : { generation: r.log.generation() + 1 });
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    if (last !== undefined) r.log.setApplied(last.index, batch);
  }
  await batch.write({ sync: true });
  for (const { r, rd } of ready) {
    for (const m of rd.messages) {
      send(m);
      if (m.type === MessageType.Snapshot) r.node.reportSnapshot(m.to, true);
    }
    r.applied.push(...rd.committedEntries);
    r.node.advance(rd);
  }
  return true;
}

async function drive(replicas: Replica[], deliver: (m: Message) => boolean = () => true): Promise<void> {
  const byId = new Map(replicas.map((r) => [r.id, r]));
  let inFlight: Message[] = [];
  for (let round = 0; ; round++) {
    if (round === driveRoundsMax) throw new Error(`Readys did not settle within ${driveRoundsMax} rounds`);
    const progressed = await turn(replicas, (m) => inFlight.push(m));
    const delivering = inFlight;
    inFlight = [];
    for (const m of delivering) if (deliver(m)) byId.get(m.to)?.node.step(m);
    if (!progressed && delivering.length === 0) return;
  }
}

async function compactAndClean(r: Replica, index: number): Promise<void> {
  const batch = db.batch();
  r.log.compact(index, batch);
  const writer = new DbWriter(db);
  void writer.write(batch, { sync: true });
  for (const range of r.log.pendingCleanup()) void writer.clear(range);
  await writer.close();
  r.log.cleanupDone();
}

describe("ReplicaLog under a real RawNode", () => {
  it("a single-voter group recovers term, commit, applied index and log after a restart and keeps going", async () => {
    let r = await start(1, [1]);
    r.node.campaign();
    await drive([r]);
    for (let i = 0; i < 30; i++) {
      r.node.propose(bytes(`p${i}`));
      if (i % 7 === 6) await drive([r]);
    }
    await drive([r]);
    const compactedThrough = r.log.applied() - 5;
    await compactAndClean(r, compactedThrough);
    for (let i = 30; i < 33; i++) r.node.propose(bytes(`p${i}`));
    await drive([r]);

    const before = r.node.status();
    expect(before.softState.role).toBe("leader");
    expect(before.hardState.commit).toBe(before.lastIndex);
    expect(r.applied.filter((e) => e.data.length > 0).map(text)).toEqual(Array.from({ length: 33 }, (_, i) => `p${i}`));
    const logBefore = r.log.entries(r.log.firstIndex(), r.log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);

    await db.close();
    db = await openDb();
    r = await start(1, [1]);
    const after = r.node.status();
    expect(after.hardState).toEqual(before.hardState);
    expect(after.lastIndex).toBe(before.lastIndex);
    expect(after.applied).toBe(before.applied);
    expect(r.log.firstIndex()).toBe(compactedThrough + 1);
    expect(r.log.pendingCleanup()).toEqual([]);
    expect(r.log.entries(r.log.firstIndex(), r.log.lastIndex() + 1, Number.MAX_SAFE_INTEGER)).toEqual(logBefore);

    // Nothing applied before the restart is applied again; new proposals commit after an election.
    r.node.campaign();
    await drive([r]);
    r.node.propose(bytes("after restart"));
    await drive([r]);
    const st = r.node.status();
    expect(st.hardState.term).toBe(before.hardState.term + 1);
    expect(st.hardState.commit).toBe(before.lastIndex + 2); // the new leader's empty entry, then the proposal
    expect(r.applied.map(text)).toEqual(["", "after restart"]);
  });

  it("a lagging follower installs the leader's snapshot from a Ready, and every replica reloads to the same state", async () => {
    const voters = [1, 2, 3];
    const replicas = await Promise.all(voters.map((id) => start(id, voters)));
    const [leader, , lagging] = replicas as [Replica, Replica, Replica];
    const cutOff = (m: Message): boolean => m.to !== 3 && m.from !== 3;
    leader.node.campaign();
    await drive(replicas);
    // Replica 3 lags: it misses everything past this point until the leader compacts.
    const lagLast = lagging.log.lastIndex();
    for (let i = 0; i < 12; i++) leader.node.propose(bytes(`x${i}`));
    await drive(replicas, cutOff);
    await compactAndClean(leader, leader.log.applied());
    for (const r of replicas) for (let i = 0; i < 3; i++) r.node.tick(); // heartbeats reach 3 again
    await drive(replicas);

    expect(lagging.log.snapshotMetadata().index).toBe(leader.log.snapshotMetadata().index);
    expect(lagging.log.snapshotMetadata().index).toBeGreaterThan(lagLast);
    expect(lagging.log.generation()).toBe(1);
    expect(lagging.log.applied()).toBe(leader.log.applied());
    expect(lagging.log.pendingCleanup().length).toBeGreaterThan(0); // generation 0 and the old log
    leader.node.propose(bytes("after snapshot"));
    await drive(replicas);

    const expected = replicas.map((r) => ({
      status: r.node.status(),
      log: r.log.entries(r.log.firstIndex(), r.log.lastIndex() + 1, 1 << 30),
    }));
    expect(expected[2]?.status.lastIndex).toBe(expected[0]?.status.lastIndex);
    expect(expected[2]?.status.hardState.commit).toBe(expected[0]?.status.hardState.commit);
    expect(lagging.applied.map(text).at(-1)).toBe("after snapshot");

    await db.close();
    db = await openDb();
    for (const [i, id] of voters.entries()) {
      const r = await start(id, voters);
      const st = r.node.status();
      expect(st.hardState).toEqual(expected[i]?.status.hardState);
      expect([st.lastIndex, st.applied]).toEqual([expected[i]?.status.lastIndex, expected[i]?.status.applied]);
      expect(r.log.entries(r.log.firstIndex(), r.log.lastIndex() + 1, 1 << 30)).toEqual(expected[i]?.log);
    }
  });
});
