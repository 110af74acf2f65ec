// One real node in the test process (its NodeHost over LevelDB in a temp dir, and the node's gRPC
// server from startNodeServer, without TLS) whose two peers of a 3-node config never start: enough
// for calls that are answered before any Raft work (a bad shard id, undecodable bytes, health).

import { Client, credentials } from "@grpc/grpc-js";
import { createLogger } from "../../src/base/logger.js";
import { generateClusterConfig, type ClusterConfig } from "../../src/cluster/config.js";
import { NodeHost } from "../../src/node/node-host.js";
import { startNodeServer, type NodeServer } from "../../src/node/node-server.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { findFreePort } from "../support/free-port.js";
import { makeTempDir } from "../support/temp-dirs.js";

export interface OneNode {
  config: ClusterConfig;
  nodeId: string;
  /** A node of the config that is not this one (a known peer). */
  peerId: string;
  address: string;
  /** A generic client of the node's address, closed by stop(). */
  client: Client;
  fatalErrors: unknown[];
  stop(): Promise<void>;
}

/** Ticks rarely: nothing here waits for an election. */
const tickMs = 100;

export async function startOneNode(): Promise<OneNode> {
  const generated = generateClusterConfig({ nodes: 3, shards: 2, replicationFactor: 3, basePort: 7000 });
  const nodes = [];
  for (const n of generated.nodes) nodes.push({ id: n.id, address: `127.0.0.1:${await findFreePort()}` });
  const config: ClusterConfig = { ...generated, nodes };
  const [self, peer] = nodes;
  if (self === undefined || peer === undefined) throw new Error("the generated config has fewer than two nodes");
  const logger = createLogger({ name: self.id, level: "silent" });
  const security = insecureTransport();
  const host = await NodeHost.open({
    config,
    nodeId: self.id,
    dataDir: await makeTempDir("one-node-"),
    logger,
    security,
  });
  let server: NodeServer;
  try {
    server = await startNodeServer(host, self.address, logger, { security });
  } catch (e) {
    await host.close();
    throw e;
  }
  const fatalErrors: unknown[] = [];
  host.start((e) => fatalErrors.push(e), tickMs);
  const client = new Client(self.address, credentials.createInsecure());
  return {
    config,
    nodeId: self.id,
    peerId: peer.id,
    address: self.address,
    client,
    fatalErrors,
    stop: async () => {
      client.close();
      await server.shutdown(0);
    },
  };
}
