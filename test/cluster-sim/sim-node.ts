// One node of the simulated cluster: the real NodeHost and NodeService on the simulated clock,
// disk and network. Each start is a new incarnation (a new process) with an owner token; a
// crash kills the token, so the old incarnation's timers, writes and answers never happen, and
// the disk keeps only what LevelDB would have kept.

import { createLogger } from "../../src/base/logger.js";
import type { ClusterConfig, NodeId } from "../../src/cluster/config.js";
import type { NodeService } from "../../src/gen/ledger/node/v1/node_pb.js";
import { NodeHost } from "../../src/node/node-host.js";
import { createNodeService } from "../../src/node/node-service.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import type { UnaryImpl } from "../../src/transport/grpc-service.js";
import type { SimDisk } from "./sim-disk.js";
import type { SimNetwork } from "./sim-network.js";
import type { Owner, SimWorld } from "./world.js";

export type LogLevel = NonNullable<Parameters<typeof createLogger>[0]["level"]>;

export interface SimNodeOptions {
  world: SimWorld;
  config: ClusterConfig;
  nodeId: NodeId;
  disk: SimDisk;
  network: () => SimNetwork;
  tickMs: number;
  compactAfterEntries: number;
  /** Told when the node stops itself (a fatal error in its loop, such as a failed write). */
  onFatal: (nodeId: NodeId, error: unknown) => void;
  trace: (line: string) => void;
  /** The nodes' pino level: "silent" unless a replay asks for their logs. */
  logLevel: LogLevel;
}

export class SimNode {
  host: NodeHost | undefined;
  service: UnaryImpl<typeof NodeService> | undefined;
  owner: Owner;
  /** Called when this incarnation dies (calls it was holding break). */
  readonly onCrash = new Set<() => void>();
  incarnations = 0;
  private starting = false;

  constructor(private readonly o: SimNodeOptions) {
    this.owner = { name: o.nodeId, alive: false };
  }

  get nodeId(): NodeId {
    return this.o.nodeId;
  }

  get up(): boolean {
    return this.host !== undefined;
  }

  get busyStarting(): boolean {
    return this.starting;
  }

  /** Starts a new incarnation from what the disk kept. */
  async start(): Promise<void> {
    if (this.host !== undefined || this.starting) return;
    this.starting = true;
    this.incarnations++;
    const owner: Owner = { name: `${this.o.nodeId}#${this.incarnations}`, alive: true };
    this.owner = owner;
    const logger = createLogger({ name: owner.name, level: this.o.logLevel });
    try {
      const store = await this.o.disk.open(owner);
      const host = await NodeHost.open({
        config: this.o.config,
        nodeId: this.o.nodeId,
        security: insecureTransport(),
        dataDir: "",
        logger,
        clock: this.o.world.clockFor(owner),
        store,
        transport: this.o.network().transportFor(this.o.nodeId, owner),
        compactAfterEntries: this.o.compactAfterEntries,
      });
      if (!owner.alive) return; // crashed while loading
      const network = this.o.network();
      this.service = createNodeService(host, logger, {
        forwardTo: (nodeId) => network.nodeClient(this.o.nodeId, nodeId),
      }).impl;
      this.host = host;
      host.start((e) => {
        if (!owner.alive) return;
        this.o.trace(`${owner.name} stopped itself: ${String(e)}`);
        this.o.onFatal(this.o.nodeId, e);
      }, this.o.tickMs);
      this.o.trace(`${owner.name} started`);
    } catch (e) {
      // The process exits with the error (cmd/node.ts), and its supervisor starts it again.
      this.o.trace(`${owner.name} failed to start: ${String(e)}`);
      if (owner.alive) this.o.onFatal(this.o.nodeId, e);
    } finally {
      this.starting = false;
    }
  }

  /** Kills the process: no graceful close, no further timers, writes or answers. */
  crash(): void {
    if (!this.owner.alive) return;
    this.owner.alive = false;
    this.host = undefined;
    this.service = undefined;
    this.o.disk.crash();
    const broken = [...this.onCrash];
    this.onCrash.clear();
    for (const fn of broken) fn();
    this.o.trace(`${this.owner.name} crashed`);
  }
}
