// The cluster map's state machine: every command either fits (the version goes up by one) or is
// refused with its reason and leaves the map as it was; a whole replica move runs through it;
// replica ids are never reused.

import { describe, expect, it } from "vitest";
import { applyMapCommand, type ClusterMap, type MapCommand, mapFromConfig } from "../../src/cluster/cluster-map.js";
import { generateClusterConfig } from "../../src/cluster/config-generate.js";

const start = (): ClusterMap =>
  mapFromConfig(generateClusterConfig({ nodes: 3, shards: 4, replicationFactor: 3, basePort: 7000 }));

/** Applies `cmds` in order; every one must fit. */
function run(map: ClusterMap, ...cmds: MapCommand[]): ClusterMap {
  let m = map;
  for (const c of cmds) {
    const r = applyMapCommand(m, c);
    if ("refused" in r) throw new Error(`${c.kind} refused: ${r.refused}`);
    expect(r.map.version).toBe(m.version + 1);
    m = r.map;
  }
  return m;
}

function refusal(map: ClusterMap, cmd: MapCommand): string {
  const r = applyMapCommand(map, cmd);
  if (!("refused" in r)) throw new Error(`${cmd.kind} was not refused`);
  return r.refused;
}

describe("the cluster map", () => {
  it("starts from the config: every replica a voter, the next id past the highest", () => {
    const m = start();
    expect(m.version).toBe(1);
    expect(m.shards.flatMap((s) => s.replicas).every((r) => r.role === "voter")).toBe(true);
    expect(m.nextReplicaId).toBe(13);
  });

  it("runs a whole move: add the node, a learner on it, promote, make it preferred, remove the old one", () => {
    let m = run(start(), { kind: "add-node", nodeId: "node04", address: "10.0.0.4:7000" });
    const shard = m.shards[0]!;
    const old = shard.replicas[0]!;
    const added = applyMapCommand(m, { kind: "add-learner", shardId: shard.id, nodeId: "node04" });
    if ("refused" in added) throw new Error(added.refused);
    expect(added.replicaId).toBe(13);
    m = added.map;
    expect(m.shards[0]!.replicas.at(-1)).toEqual({ id: 13, nodeId: "node04", role: "learner" });
    m = run(
      m,
      { kind: "promote", shardId: shard.id, replicaId: 13 },
      { kind: "set-preferred", shardId: shard.id, replicaId: 13 },
      { kind: "remove-replica", shardId: shard.id, replicaId: old.id },
    );
    expect(m.shards[0]!.replicas.map((r) => [r.id, r.nodeId, r.role])).toEqual([
      [13, "node04", "voter"],
      [2, "node02", "voter"],
      [3, "node03", "voter"],
    ]);
    expect(m.version).toBe(6);
    // A later learner gets a new id, never a removed one.
    const again = applyMapCommand(m, { kind: "add-learner", shardId: shard.id, nodeId: "node01" });
    expect("replicaId" in again && again.replicaId).toBe(14);
  });

  it("refuses what does not fit, naming why, and changes nothing", () => {
    const m = start();
    const shard = m.shards[1]!;
    const cases: [MapCommand, RegExp][] = [
      [{ kind: "add-node", nodeId: "node01", address: "x:1" }, /node "node01" is already in the map/],
      [{ kind: "add-node", nodeId: "node09", address: m.nodes[0]!.address.toUpperCase() }, /already node "node01"'s/],
      [{ kind: "remove-node", nodeId: "node09" }, /node "node09" is not in the map/],
      [
        { kind: "remove-node", nodeId: "node02" },
        /still hosts replicas of shard-00, shard-01, shard-02, shard-03: move them first/,
      ],
      [{ kind: "add-learner", shardId: "nope", nodeId: "node01" }, /shard "nope" is not in the map/],
      [{ kind: "add-learner", shardId: shard.id, nodeId: "node09" }, /node "node09" is not in the map/],
      [{ kind: "add-learner", shardId: shard.id, nodeId: "node01" }, /already has a replica on node01/],
      [{ kind: "promote", shardId: shard.id, replicaId: 99 }, /has no replica 99/],
      [{ kind: "promote", shardId: shard.id, replicaId: shard.replicas[0]!.id }, /is already a voter/],
      [
        { kind: "set-preferred", shardId: shard.id, replicaId: shard.replicas[1]!.id },
        /is already shard-01's preferred leader/,
      ],
    ];
    for (const [cmd, why] of cases) {
      expect(refusal(m, cmd)).toMatch(why);
    }
    expect(applyMapCommand(m, { kind: "remove-node", nodeId: "node09" })).not.toHaveProperty("map");
  });

  it("allows one learner per shard at a time, and no preferred-leader change while it is there", () => {
    const m = run(
      start(),
      { kind: "add-node", nodeId: "node04", address: "a:1" },
      { kind: "add-node", nodeId: "node05", address: "b:1" },
    );
    const shard = m.shards[0]!;
    const one = run(m, { kind: "add-learner", shardId: shard.id, nodeId: "node04" });
    expect(refusal(one, { kind: "add-learner", shardId: shard.id, nodeId: "node05" })).toMatch(
      /already has learner 13 on node04: one move at a time per shard/,
    );
    expect(refusal(one, { kind: "set-preferred", shardId: shard.id, replicaId: shard.replicas[1]!.id })).toMatch(
      /move in progress/,
    );
    expect(refusal(one, { kind: "set-preferred", shardId: shard.id, replicaId: 13 })).toMatch(
      /is a learner: it cannot lead/,
    );
  });

  it("never removes a shard's last voter", () => {
    let m = start();
    const shard = m.shards[2]!;
    const [a, b, c] = shard.replicas;
    m = run(
      m,
      { kind: "remove-replica", shardId: shard.id, replicaId: a!.id },
      { kind: "remove-replica", shardId: shard.id, replicaId: b!.id },
    );
    expect(refusal(m, { kind: "remove-replica", shardId: shard.id, replicaId: c!.id })).toMatch(
      /is the only voter of shard-02/,
    );
  });
});
