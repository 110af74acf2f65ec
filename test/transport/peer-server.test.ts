import { ChannelCredentials, Client, Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import {
  MessagesRequestSchema,
  RaftTransportService,
  type MessagesRequest,
  type ShardMessage,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import type * as pb from "../../src/gen/raft/v1/raft_pb.js";
import { channelOptions, methodPath } from "../../src/transport/grpc-service.js";
import { messageToProto } from "../../src/transport/raft-codec.js";
import { serverWarningsPerStreamMax } from "../../src/transport/peer-server.js";
import { Closers, configVersion, heartbeat, startTransportServer, type TransportServer } from "./peer-harness.js";

const closers = new Closers();
afterEach(() => closers.closeAll());

/** A peer that writes whatever bytes it is given on the Messages stream. */
function rawPeer(address: string): ClientDuplexStream<Buffer, unknown> {
  const client = closers.add(new Client(address, ChannelCredentials.createInsecure(), channelOptions), (c) =>
    c.close(),
  );
  const stream = client.makeBidiStreamRequest(
    methodPath(RaftTransportService.method.messages),
    (b: Buffer) => b,
    (b: Buffer) => b,
    new Metadata(),
    {},
  );
  stream.on("error", () => undefined); // the tests below look at the server, not at this peer
  closers.add(stream, (s) => s.cancel());
  return stream;
}

function encode(from: string, version: number, messages: ShardMessage[]): Buffer {
  const req: MessagesRequest = {
    $typeName: "ledger.node.v1.MessagesRequest",
    fromNodeId: from,
    configVersion: version,
    messages,
  };
  return Buffer.from(toBinary(MessagesRequestSchema, req));
}

function shardMessage(shardId: string, message: pb.Message | undefined): ShardMessage {
  return { $typeName: "ledger.node.v1.ShardMessage", shardId, message };
}

const good = (commit: number) => shardMessage("s01", messageToProto(heartbeat(1, 2, commit)));

async function start(): Promise<TransportServer> {
  return closers.add(await startTransportServer(), (s) => s.stop());
}

describe("peer server against bad peers", () => {
  it("drops a batch from an unknown node, logs it, and keeps serving", async () => {
    const server = await start();
    const peer = rawPeer(server.address);
    peer.write(encode("n9", configVersion, [good(1)]));
    expect(await server.log.waitFor("unknown node")).toMatchObject({ level: "warn", from: "n9" });
    peer.write(encode("n1", configVersion, [good(2)]));
    const batches = await server.waitForBatches(1);
    expect(batches.map((b) => [b.from, b.messages[0]!.message.commit])).toEqual([["n1", 2]]);
    expect(server.stats.batchesDropped).toBe(1);
  });

  it("drops a batch with another config version, logs both versions, and keeps serving", async () => {
    const server = await start();
    const peer = rawPeer(server.address);
    peer.write(encode("n1", configVersion + 1, [good(1)]));
    expect(await server.log.waitFor("another config version")).toMatchObject({
      theirs: configVersion + 1,
      ours: configVersion,
    });
    peer.write(encode("n1", configVersion, [good(2)]));
    const batches = await server.waitForBatches(1);
    expect(batches[0]!.messages.map((m) => m.message.commit)).toEqual([2]);
  });

  it("drops only the malformed messages of a batch, logging each with its field", async () => {
    const server = await start();
    const peer = rawPeer(server.address);
    const badType = { ...messageToProto(heartbeat(1, 2, 5)), type: 99 as pb.MessageType };
    const hugeTerm = { ...messageToProto(heartbeat(1, 2, 6)), term: 1n << 60n };
    peer.write(
      encode("n1", configVersion, [
        good(1),
        shardMessage("s02", badType),
        shardMessage("s03", undefined),
        shardMessage("s04", hugeTerm),
        good(7),
      ]),
    );
    const batches = await server.waitForBatches(1);
    expect(batches[0]!.messages.map((m) => m.message.commit)).toEqual([1, 7]);
    const dropped = server.log.lines.filter((l) => l.msg === "malformed raft message dropped");
    expect(dropped.map((l) => [l.shardId, l.err])).toEqual([
      ["s02", "messages[1].message.type is not a known MessageType: 99"],
      ["s03", "messages[2].message is missing"],
      ["s04", expect.stringMatching(/^messages\[3\]\.message\.term is 1152921504606846976, above 2\^53-1/)],
    ]);
    expect(server.stats.messagesDropped).toBe(3);
  });

  it("survives bytes that are not a MessagesRequest at all and serves other peers", async () => {
    const server = await start();
    const garbage = rawPeer(server.address);
    const failed = new Promise<Error>((resolve) => garbage.on("error", resolve));
    garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    // INVALID_ARGUMENT naming the request type (grpc-js alone would answer INTERNAL "Error deserializing request").
    expect((await failed).message).toMatch(
      /^3 INVALID_ARGUMENT: request is not a valid ledger\.node\.v1\.MessagesRequest: /,
    );
    const peer = rawPeer(server.address);
    peer.write(encode("n3", configVersion, [good(3)]));
    const batches = await server.waitForBatches(1);
    expect(batches.map((b) => b.from)).toEqual(["n3"]);
  });

  it("logs at most serverWarningsPerStreamMax drops per stream, then counts them", async () => {
    const server = await start();
    const peer = rawPeer(server.address);
    for (let i = 0; i < serverWarningsPerStreamMax + 5; i++) peer.write(encode("n9", configVersion, [good(i)]));
    peer.write(encode("n1", configVersion, [good(100)]));
    await server.waitForBatches(1);
    expect(server.stats.batchesDropped).toBe(serverWarningsPerStreamMax + 5);
    expect(server.log.lines.filter((l) => l.msg.includes("unknown node"))).toHaveLength(serverWarningsPerStreamMax);
    expect(server.log.lines.filter((l) => l.msg.includes("counted, not logged"))).toHaveLength(1);
  });
});
