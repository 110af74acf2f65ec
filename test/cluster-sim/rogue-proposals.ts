// Malformed proposals on the nodes' internal API, as a broken or outdated gateway would send
// them: a command with no kind, bytes that are no Command, a batch with one such command, a
// command for an account of another shard. Each must be refused (INVALID_ARGUMENT, or an
// error because the node is unreachable) and must never stop a node or reach the ledger.

import { create, toBinary } from "@bufbuild/protobuf";
import { isLedgerError } from "../../src/base/errors.js";
import type { ClusterConfig } from "../../src/cluster/config.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import { CommandSchema } from "../../src/gen/ledger/core/v1/core_pb.js";
import { ProposeRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import type { SimNetwork } from "./sim-network.js";
import type { SimWorld } from "./world.js";

const variants = ["no kind", "not a Command", "batch with a kindless command", "another shard's account"] as const;

export function sendRogueProposal(
  world: SimWorld,
  network: SimNetwork,
  config: ClusterConfig,
  violation: (what: string) => void,
  trace: (line: string) => void,
): void {
  const r = world.random;
  const node = config.nodes[r.intBelow(config.nodes.length)]!.id;
  const shard = config.shards[r.intBelow(config.shards.length)]!;
  const timestamp = BigInt(Math.floor(world.now)) * 1_000_000n;
  const variant = variants[r.intBelow(variants.length)]!;
  const kindless = toBinary(CommandSchema, create(CommandSchema, { timestamp }));
  const request = create(ProposeRequestSchema, { shardId: shard.id });
  switch (variant) {
    case "no kind":
      request.command = kindless;
      break;
    case "not a Command":
      request.command = Uint8Array.from({ length: 1 + r.intBelow(12) }, () => r.intBelow(256));
      break;
    case "batch with a kindless command": {
      const valid = createAccountCommand(timestamp, accountOnShard(config, shard.id, r.nextU32()), "");
      request.commands = [toBinary(CommandSchema, valid), kindless];
      break;
    }
    case "another shard's account": {
      const other = config.shards.find((s) => s.id !== shard.id);
      if (other === undefined) return; // one shard: no other to name
      request.command = toBinary(
        CommandSchema,
        createAccountCommand(timestamp, accountOnShard(config, other.id, r.nextU32()), ""),
      );
      break;
    }
  }
  trace(`rogue proposal to ${node} for ${shard.id}: ${variant}`);
  network
    .nodeClient("gateway", node)
    .propose(request, { deadlineMs: world.now + 2_000 })
    .then(
      () => violation(`${node} accepted a malformed proposal (${variant})`),
      (e: unknown) => {
        if (!isLedgerError(e)) violation(`${node} answered a malformed proposal with ${String(e)}`);
        else if (e.code !== "INVALID_ARGUMENT" && e.code !== "UNAVAILABLE" && e.code !== "DEADLINE_EXCEEDED")
          violation(`${node} answered a malformed proposal (${variant}) with ${e.code}: ${e.message}`);
      },
    );
}

/** An account id that routes to `shardId`, derived from `salt`. */
function accountOnShard(config: ClusterConfig, shardId: string, salt: number): bigint {
  for (let i = 0; ; i++) {
    const id = (BigInt(salt) << 20n) + BigInt(i) + 1n;
    if (shardForAccount(config, id).id === shardId) return id;
  }
}
