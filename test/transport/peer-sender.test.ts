import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { newMessage } from "../../src/raft/messages.js";
import { EntryType, MessageType, type Message } from "../../src/raft/types.js";
import { PeerSender, type OutgoingMessage, type PeerStreamState } from "../../src/transport/peer-sender.js";
import { findFreePort } from "../support/free-port.js";
import { grpcMessageBytesMax } from "../../src/transport/limits.js";
import { LedgerError } from "../../src/base/errors.js";
import type { SnapshotSink } from "../../src/transport/peer-server.js";
import type { SnapshotPairBytes } from "../../src/transport/snapshot-format.js";
import { peerConnectTimeoutMs, peerSnapshotsInFlightMax } from "../../src/transport/limits.js";
import { Closers, collectingLogger, configVersion, heartbeat, startTransportServer } from "./peer-harness.js";
import { insecureChannel } from "../../src/transport/channel-security.js";

const closers = new Closers();
afterEach(() => closers.closeAll());

interface Harness {
  sender: PeerSender;
  unreachable: [string, number][];
  log: ReturnType<typeof collectingLogger>;
  /** Resolves when the sender next enters `state` (at once if it is there). */
  reach(state: PeerStreamState): Promise<void>;
}

function newSender(address: string, onSnapshotDone?: (shardId: string, to: number, ok: boolean) => void): Harness {
  const unreachable: [string, number][] = [];
  const log = collectingLogger("peer-sender");
  const waiters: { state: PeerStreamState; resolve: () => void }[] = [];
  const sender = closers.add(
    new PeerSender({
      channel: insecureChannel,
      selfNodeId: "n1",
      configVersion,
      peerNodeId: "n2",
      address,
      logger: log.logger,
      onUnreachable: (shardId, to) => unreachable.push([shardId, to]),
      onSnapshotDone,
      onStateChange: (state) => {
        for (const w of waiters.splice(0)) w.state === state ? w.resolve() : waiters.push(w);
      },
    }),
    (s) => s.close(),
  );
  const reach = (state: PeerStreamState) =>
    sender.state === state ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ state, resolve }));
  return { sender, unreachable, log, reach };
}

function append(to: number, index: number): Message {
  return {
    ...newMessage(MessageType.Append, 1, to, 4),
    logTerm: 4,
    index,
    commit: index,
    entries: [{ term: 4, index: index + 1, type: EntryType.Normal, data: new TextEncoder().encode(`e${index + 1}`) }],
  };
}

function turn(i: number): OutgoingMessage[] {
  return [
    { shardId: "s01", message: append(2, i) },
    { shardId: "s02", message: heartbeat(1, 5, i) },
    { shardId: "s03", message: heartbeat(1, 8, i) },
  ];
}

describe("PeerSender", () => {
  it("delivers batches in order, one stream message per batch, over one stream per peer", async () => {
    const server = closers.add(await startTransportServer(), (s) => s.stop());
    const h = newSender(server.address);
    await h.reach("up");
    const turns = Array.from({ length: 50 }, (_, i) => turn(i));
    // In rounds of 10, fewer than grpc-js buffers, so that backpressure drops none of them.
    for (let round = 0; round < 5; round++) {
      for (const t of turns.slice(round * 10, round * 10 + 10)) h.sender.send(t);
      await server.waitForBatches(round * 10 + 10);
    }
    const batches = server.batches;
    expect(batches).toHaveLength(50);
    expect(batches.map((b) => b.from)).toEqual(Array(50).fill("n1"));
    expect(batches.map((b) => b.messages)).toEqual(turns);
    expect(server.stats.streamsOpened).toBe(1);
    expect(h.sender.streamsOpened).toBe(1);
    expect(h.unreachable).toEqual([]);
  });

  it("drops messages with onUnreachable once per (shard, replica) while the peer is down, then delivers once it is up", async () => {
    const port = await findFreePort();
    const h = newSender(`127.0.0.1:${port}`);
    h.sender.send([...turn(0), { shardId: "s01", message: heartbeat(1, 2, 0) }]);
    expect(h.unreachable).toEqual([
      ["s01", 2],
      ["s02", 5],
      ["s03", 8],
    ]);
    await h.reach("down");
    h.sender.send(turn(1));
    expect(h.unreachable).toHaveLength(6);
    expect(h.sender.batchesDropped).toBe(2);
    const server = closers.add(await startTransportServer({ port }), (s) => s.stop());
    await h.reach("up");
    h.sender.send(turn(2));
    const batches = await server.waitForBatches(1);
    expect(batches.map((b) => b.messages)).toEqual([turn(2)]);
    expect(server.stats.streamsOpened).toBe(1);
    expect(await h.log.waitFor("peer stream up")).toMatchObject({ level: "info", peer: "n2" });
  });

  it("reconnects after the peer restarts and logs each state change once", async () => {
    const port = await findFreePort();
    const first = await startTransportServer({ port });
    const h = newSender(first.address);
    await h.reach("up");
    h.sender.send(turn(0));
    await first.waitForBatches(1);

    first.stop();
    await h.reach("down");
    h.sender.send(turn(1));
    h.sender.send(turn(2));
    expect(h.unreachable).toHaveLength(6);

    const second = closers.add(await startTransportServer({ port }), (s) => s.stop());
    await h.reach("up");
    h.sender.send(turn(3));
    const batches = await second.waitForBatches(1);
    expect(batches.map((b) => b.messages)).toEqual([turn(3)]);
    expect(h.sender.streamsOpened).toBeGreaterThanOrEqual(2);
    const stateLines = h.log.lines.filter((l) => l.msg.startsWith("peer stream"));
    expect(stateLines.map((l) => l.msg)).toEqual(["peer stream up", "peer stream down", "peer stream up"]);
  });

  it("drops instead of queueing while the stream is full and tells the core", async () => {
    const server = closers.add(await startTransportServer(), (s) => s.stop());
    const h = newSender(server.address);
    await h.reach("up");
    // Big batches fill grpc-js's bounded write buffer long before the peer can read them all.
    const big = new Uint8Array(512 * 1024);
    const bigTurn: OutgoingMessage[] = [
      {
        shardId: "s01",
        message: { ...append(2, 0), entries: [{ term: 4, index: 1, type: EntryType.Normal, data: big }] },
      },
    ];
    let sent = 0;
    while (h.unreachable.length === 0 && sent < 1_000) {
      h.sender.send(bigTurn);
      sent++;
    }
    expect(h.unreachable).toEqual([["s01", 2]]);
    expect(sent).toBeLessThan(1_000);
    // Once the peer has read what was written, the stream drains and delivery goes on.
    await server.waitForBatches(sent - 1);
    h.sender.send(turn(9));
    const batches = await server.waitForBatches(sent);
    expect(batches.at(-1)!.messages).toEqual(turn(9));
  });

  it("refuses Snapshot messages on the message stream", async () => {
    const server = closers.add(await startTransportServer(), (s) => s.stop());
    const h = newSender(server.address);
    await h.reach("up");
    const snap = {
      ...newMessage(MessageType.Snapshot, 1, 2, 4),
      snapshot: {
        metadata: { index: 5, term: 4, confState: { voters: [1, 2], learners: [] } },
        data: new Uint8Array(),
      },
    };
    expect(() => h.sender.send([{ shardId: "s01", message: snap }])).toThrow(
      /Snapshot messages go through sendSnapshot/,
    );
  });

  it("splits a turn above the gRPC message limit into several stream messages, and drops a single message above it", async () => {
    const server = closers.add(await startTransportServer(), (s) => s.stop());
    const h = newSender(server.address);
    await h.reach("up");
    const withData = (shardId: string, bytes: number): OutgoingMessage => ({
      shardId,
      message: {
        ...append(2, 0),
        entries: [{ term: 4, index: 1, type: EntryType.Normal, data: new Uint8Array(bytes) }],
      },
    });
    const third = Math.floor(grpcMessageBytesMax / 3);
    h.sender.send([withData("s01", third), withData("s02", third), withData("s03", third), withData("s04", third)]);
    const batches = await server.waitForBatches(2);
    expect(batches.map((b) => b.messages.map((m) => m.shardId))).toEqual([
      ["s01", "s02"],
      ["s03", "s04"],
    ]);
    expect(h.unreachable).toEqual([]);

    h.sender.send([withData("s05", grpcMessageBytesMax)]);
    expect(h.unreachable).toEqual([["s05", 2]]);
    expect(await h.log.waitFor("exceeds the gRPC message limit")).toMatchObject({ level: "warn" });
  });

  it("sends snapshots on their own stream and reports each outcome to onSnapshotDone", async () => {
    const committed: number[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const sink = (hold: boolean): SnapshotSink => ({
      write: async () => {
        if (hold) await held;
      },
      commit: async () => void committed.push(1),
      abort: async () => undefined,
    });
    const server = closers.add(
      await startTransportServer({
        beginSnapshot: (_from, shardId) => {
          if (shardId === "refused") throw new LedgerError("FAILED_PRECONDITION", "no such shard");
          return sink(shardId.startsWith("held"));
        },
      }),
      (s) => s.stop(),
    );
    const done: [string, number, boolean][] = [];
    const h = newSender(server.address, (shardId, to, ok) => done.push([shardId, to, ok]));
    const snap = {
      ...newMessage(MessageType.Snapshot, 1, 2, 4),
      snapshot: {
        metadata: { index: 5, term: 4, confState: { voters: [1, 2], learners: [] } },
        data: new Uint8Array(),
      },
    };
    async function* some(): AsyncGenerator<SnapshotPairBytes> {
      for (let i = 1; i <= 3; i++) yield { key: Uint8Array.of(i), value: Uint8Array.of(i, i) };
    }
    const deadline = () => Date.now() + 20_000;
    await h.sender.sendSnapshot("s01", snap, some(), deadline());
    await expect(h.sender.sendSnapshot("refused", snap, some(), deadline())).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
    });
    expect(done).toEqual([
      ["s01", 2, true],
      ["refused", 2, false],
    ]);
    expect(committed).toHaveLength(1);

    // Beyond peerSnapshotsInFlightMax at once, the next is refused at once.
    const heldSends = Array.from({ length: peerSnapshotsInFlightMax }, (_, i) =>
      h.sender.sendSnapshot(`held${i}`, snap, some(), deadline()),
    );
    await expect(h.sender.sendSnapshot("s09", snap, some(), deadline())).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
    });
    release();
    await Promise.all(heldSends);
    expect(done.filter(([, , ok]) => ok)).toHaveLength(1 + peerSnapshotsInFlightMax);
    expect(done.at(-1 - peerSnapshotsInFlightMax)).toEqual(["s09", 2, false]);
  });

  it("gives up on a peer that accepts the connection but never answers, after peerConnectTimeoutMs", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    closers.add(silent, (s) => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => s.close(resolve));
    });
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    const h = newSender(`127.0.0.1:${port}`);
    h.sender.send(turn(0));
    expect(h.unreachable).toHaveLength(3);
    await h.reach("down");
    expect(Date.now() - started).toBeGreaterThanOrEqual(peerConnectTimeoutMs - 50);
    expect(await h.log.waitFor("peer stream down")).toMatchObject({ reason: "no answer from the peer" });
    await h.reach("connecting"); // and it tries again
  });
});
