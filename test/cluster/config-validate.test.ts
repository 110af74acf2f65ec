// Every rule of the cluster config, one rejection per row: the mutation and the exact one-line
// message it must produce (naming the field path and the problem).

import { describe, expect, it } from "vitest";
import { generateClusterConfig, parseClusterConfig, type ClusterConfig } from "../../src/cluster/config.js";
import { LedgerError } from "../../src/base/errors.js";

// 3 nodes, 4 shards: bounds 0..1073741823, 1073741824..2147483647, 2147483648..3221225471,
// 3221225472..4294967295; replicas 1..12 round-robin.
function validConfig(): ClusterConfig {
  return generateClusterConfig({ nodes: 3, shards: 4, replicationFactor: 3, basePort: 7000 });
}

// The mutations reach into the JSON freely, as a hand-edited file would.
// biome-ignore lint/suspicious/noExplicitAny: the mutations reach into untyped JSON on purpose.
type Mutable = Record<string, any>;

const cases: [string, (c: Mutable) => unknown, string][] = [
  ["a top level that is not an object", () => [], "the top level must be an object, got an array"],
  [
    "an unknown top-level field",
    (c) => ({ ...c, extra: 1 }),
    "extra is not a known field (expected version, nodes, shards)",
  ],
  ["a missing version", (c) => ({ nodes: c.nodes, shards: c.shards }), "version is missing"],
  [
    "a version that is a string",
    (c) => ({ ...c, version: "1" }),
    'version must be an integer in [1, 9007199254740991], got string "1"',
  ],
  ["version 0", (c) => ({ ...c, version: 0 }), "version must be an integer in [1, 9007199254740991], got number 0"],
  ["nodes that is not an array", (c) => ({ ...c, nodes: {} }), "nodes must be an array, got an object"],
  ["no nodes", (c) => ({ ...c, nodes: [] }), "nodes must not be empty"],
  ["a node id that is a number", (c) => void (c.nodes[1].id = 2), "nodes[1].id must be a string, got number 2"],
  [
    "a node id with a space",
    (c) => void (c.nodes[1].id = "node 2"),
    'nodes[1].id "node 2" is not a valid id (1 to 64 letters, digits, "-" or "_")',
  ],
  ["a node without an address", (c) => void delete c.nodes[2].address, "nodes[2].address is missing"],
  [
    "an address without a port",
    (c) => void (c.nodes[0].address = "127.0.0.1"),
    'nodes[0].address: address "127.0.0.1" has no port: expected host:port',
  ],
  [
    "an address with port 70000",
    (c) => void (c.nodes[0].address = "127.0.0.1:70000"),
    'nodes[0].address: address "127.0.0.1:70000": port 70000 is out of range 1..65535',
  ],
  [
    "an address with a bad host",
    (c) => void (c.nodes[0].address = "no_such host:7000"),
    'nodes[0].address: address "no_such host:7000": host "no_such host" is not a valid hostname or IP address (bad label "no_such host")',
  ],
  [
    "a duplicate node id",
    (c) => void (c.nodes[2].id = "node01"),
    'nodes[2].id "node01" duplicates nodes[0].id (node ids must be unique)',
  ],
  [
    "a duplicate node address",
    (c) => void (c.nodes[1].address = "127.0.0.1:7000"),
    "nodes[1].address 127.0.0.1:7000 duplicates nodes[0].address (node addresses must be unique)",
  ],
  ["no shards", (c) => ({ ...c, shards: [] }), "shards must not be empty"],
  [
    "an unknown shard field",
    (c) => void (c.shards[1].leader = "node01"),
    "shards[1].leader is not a known field (expected id, lowerBound, upperBound, replicas)",
  ],
  [
    "a fractional bound",
    (c) => void (c.shards[1].lowerBound = 1.5),
    "shards[1].lowerBound must be an integer in [0, 4294967295], got number 1.5",
  ],
  [
    "a negative bound",
    (c) => void (c.shards[0].lowerBound = -1),
    "shards[0].lowerBound must be an integer in [0, 4294967295], got number -1",
  ],
  [
    "a bound past 2^32-1",
    (c) => void (c.shards[3].upperBound = 2 ** 32),
    "shards[3].upperBound must be an integer in [0, 4294967295], got number 4294967296",
  ],
  [
    "a bound given as a string",
    (c) => void (c.shards[2].upperBound = "3221225471"),
    'shards[2].upperBound must be an integer in [0, 4294967295], got string "3221225471"',
  ],
  [
    "a shard whose lower bound exceeds its upper bound",
    (c) => void Object.assign(c.shards[1], { lowerBound: 1073741824, upperBound: 1073741823 }),
    "shards[1].lowerBound 1073741824 is greater than shards[1].upperBound 1073741823",
  ],
  [
    "a first shard not starting at 0",
    (c) => void (c.shards[0].lowerBound = 1),
    "shards[0].lowerBound is 1 but the first shard must start at 0",
  ],
  [
    "overlapping shards",
    (c) => void (c.shards[2].lowerBound = 2147483647),
    "shards[2].lowerBound 2147483647 overlaps shards[1] (ends at 2147483647)",
  ],
  [
    "a gap between shards",
    (c) => void (c.shards[2].lowerBound = 2147483649),
    "shards[2].lowerBound 2147483649 leaves a gap after shards[1] (ends at 2147483647)",
  ],
  [
    "shards out of order",
    (c) => void ([c.shards[1], c.shards[2]] = [c.shards[2], c.shards[1]]),
    "shards[1].lowerBound 2147483648 leaves a gap after shards[0] (ends at 1073741823)",
  ],
  [
    "a last shard not ending at 2^32-1",
    (c) => void (c.shards[3].upperBound = 4294967294),
    "shards[3].upperBound is 4294967294 but the last shard must end at 4294967295",
  ],
  [
    "a duplicate shard id",
    (c) => void (c.shards[1].id = "shard-00"),
    'shards[1].id "shard-00" duplicates shards[0].id (shard ids must be unique)',
  ],
  ["a shard with no replicas", (c) => void (c.shards[0].replicas = []), "shards[0].replicas must not be empty"],
  [
    "replica id 0",
    (c) => void (c.shards[0].replicas[0].id = 0),
    "shards[0].replicas[0].id must be an integer in [1, 9007199254740991], got number 0",
  ],
  [
    "an unknown replica field",
    (c) => void (c.shards[0].replicas[0].role = "voter"),
    "shards[0].replicas[0].role is not a known field (expected id, nodeId)",
  ],
  [
    "a replica on an unknown node",
    (c) => void (c.shards[0].replicas[1].nodeId = "node09"),
    'shards[0].replicas[1].nodeId "node09" is not a node of the config',
  ],
  [
    "two replicas of a shard on one node",
    (c) => void (c.shards[0].replicas[1].nodeId = "node01"),
    'shards[0].replicas[1].nodeId "node01" already hosts shards[0].replicas[0] (a shard\'s replicas must be on distinct nodes)',
  ],
  [
    "a replica id used by two shards",
    (c) => void (c.shards[1].replicas[0].id = 1),
    "shards[1].replicas[0].id 1 duplicates shards[0].replicas[0].id (replica ids must be unique)",
  ],
];

describe("parseClusterConfig rejects", () => {
  it.each(cases)("%s", (_name, mutate, message) => {
    const config: Mutable = structuredClone(validConfig());
    const json = mutate(config) ?? config;
    let thrown: unknown;
    try {
      parseClusterConfig(json);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LedgerError);
    expect((thrown as LedgerError).code).toBe("INVALID_ARGUMENT");
    expect((thrown as LedgerError).message).toBe(`cluster config: ${message}`);
  });
});

describe("parseClusterConfig accepts", () => {
  it("a valid config and returns an equal copy that does not alias the input", () => {
    const json = structuredClone(validConfig());
    const parsed = parseClusterConfig(json);
    expect(parsed).toEqual(json);
    json.shards[0]!.replicas[0]!.nodeId = "node02";
    expect(parsed.shards[0]!.replicas[0]!.nodeId).toBe("node01");
  });

  it("uneven replica counts, hostnames and bracketed IPv6 addresses", () => {
    const json = {
      version: 7,
      nodes: [
        { id: "a", address: "ledger-a.internal:7000" },
        { id: "b", address: "[::1]:7001" },
      ],
      shards: [
        { id: "low", lowerBound: 0, upperBound: 9, replicas: [{ id: 5, nodeId: "b" }] },
        {
          id: "high",
          lowerBound: 10,
          upperBound: 4294967295,
          replicas: [
            { id: 6, nodeId: "a" },
            { id: 9, nodeId: "b" },
          ],
        },
      ],
    };
    expect(parseClusterConfig(json)).toEqual(json);
  });
});
