// NodeService.propose checks a batch's size bounds (command count, entry bytes) from the lengths
// alone, before it decodes any command: a broken gateway's huge batch of tiny commands is refused
// at once, applied=no. The commands here do not decode, so a check that decoded first would
// answer "commands[0] is not a valid ..." instead of naming the limit.

import { systemClock } from "../../src/base/clock.js";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { nodePendingProposalsMax, proposalEntryBytesMax } from "../../src/node/limits.js";
import { ProposeRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import type { NodeHost } from "../../src/node/node-host.js";
import type { Replica } from "../../src/node/replica.js";
import { createNodeService } from "../../src/node/node-service.js";
import type { HandlerContext } from "../../src/transport/grpc-service.js";
import { ledgerRejection } from "../support/rejection.js";

const shardId = "shard-00";
const ctx: HandlerContext = { deadlineMs: Date.now() + 60_000, signal: new AbortController().signal, peer: "test" };

/** A host as far as propose reaches before its checks: the shard's replica, which must never be
 * asked about a command (that would mean one was decoded) nor be asked to lead. */
function service() {
  const asked: string[] = [];
  const replica = {
    refusal: () => {
      asked.push("refusal");
      return undefined;
    },
    get isLeader(): boolean {
      asked.push("isLeader");
      return true;
    },
  } as unknown as Replica;
  const host = {
    replicaOf: (id: string) => (id === shardId ? replica : undefined),
    nodeId: "node01",
    clock: systemClock,
  } as unknown as NodeHost;
  return { impl: createNodeService(host, createLogger({ name: "propose-limits", level: "silent" })).impl, asked };
}

describe("NodeService.propose batch bounds", () => {
  it("a batch of more than nodePendingProposalsMax commands is refused by count, applied=no, before any command is decoded", async () => {
    const { impl, asked } = service();
    const junk = new Uint8Array([0xff]);
    const commands = Array.from({ length: nodePendingProposalsMax + 1 }, () => junk);
    const e = await ledgerRejection(impl.propose(create(ProposeRequestSchema, { shardId, commands }), ctx));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain(`a batch of ${nodePendingProposalsMax + 1} commands exceeds nodePendingProposalsMax`);
    expect(e.details.applied).toBe("no");
    expect(asked).toEqual([]);
  });

  it("a batch whose entry would pass proposalEntryBytesMax is refused by size, applied=no, before any command is decoded", async () => {
    const { impl, asked } = service();
    const count = 100;
    const big = new Uint8Array(Math.ceil(proposalEntryBytesMax / count) + 1).fill(0xff);
    const commands = Array.from({ length: count }, () => big);
    const e = await ledgerRejection(impl.propose(create(ProposeRequestSchema, { shardId, commands }), ctx));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain("proposalEntryBytesMax");
    expect(e.details.applied).toBe("no");
    expect(asked).toEqual([]);
  });

  it("a batch within both bounds is decoded and its bad command named (the bounds do not hide the per-command checks)", async () => {
    const { impl } = service();
    const e = await ledgerRejection(
      impl.propose(create(ProposeRequestSchema, { shardId, commands: [new Uint8Array([0xff])] }), ctx),
    );
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain("commands[0] is not a valid ledger.core.v1.Command");
    expect(e.details.applied).toBe("no");
  });
});
