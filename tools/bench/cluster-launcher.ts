// The bench's own cluster: 3 node processes and a gateway on free loopback ports, a generated
// cluster config and data dirs in a new temp dir, each process's output in a log file (not the
// terminal). Ready once every shard has a leader (the nodes' admin API) and the gateway accepts
// connections. stop() ends exactly these processes, by pid (SIGTERM, then SIGKILL after a
// grace period), and removes the temp dir; if our own process exits without it, an exit hook
// SIGKILLs them so no server outlives the bench.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import {
  formatClusterConfig,
  generateClusterConfig,
  parseClusterConfig,
  type ClusterConfig,
} from "../../src/cluster/config.js";
import { NodeService, ReplicaRole, ReplicaStatesRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { createUnaryClient } from "../../src/transport/grpc-service.js";
import { LedgerClient } from "../../src/client/index.js";
import {
  benchClusterStartMsMax,
  benchLeaderPollMs,
  benchLogTailLines,
  benchNodes,
  benchStopGraceMs,
} from "./limits.js";
import { freePorts } from "../../src/transport/free-ports.js";
import { initSecrets } from "../../src/security/dev-secrets.js";
import { ledgerClientSecurity, operatorTransport, type DevSecurityOptions } from "../dev/security-options.js";
import type { TransportSecurity } from "../../src/security/transport-security.js";

/** The repository: the nearest directory above this module with a package.json (this module
 * runs from tools/bench/ under tsx and from dist/tools/bench/ compiled). */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("the bench runs from inside the repository (no package.json found above it)");
    dir = up;
  }
  return dir;
}

const repoRoot = findRepoRoot();

/** The compiled entry point of `name` (node, gateway), as production runs it (npm run build). */
function entryPoint(name: string): string {
  const path = join(repoRoot, "dist", "cmd", `${name}.js`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build (npm run bench builds first)`);
  return path;
}

export interface LaunchOptions {
  shards: number;
  replicationFactor: number;
  /** Run every process with --insecure (no TLS, no API keys); by default the cluster runs as
   * `npm start` does, with secrets made in its temp dir. */
  insecure: boolean;
  /** Existing directory for the log files; the temp dir when absent. */
  logDir?: string;
  /** Existing directory where every server process writes a V8 CPU profile when it exits
   * (`node --cpu-prof`); no profiling when absent. */
  cpuProfDir?: string;
  /** Progress lines for a person (stderr). */
  say: (line: string) => void;
  signal?: AbortSignal;
}

interface Member {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  exit?: string;
}

export class OwnCluster {
  private readonly members: Member[] = [];
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private readonly exitHook = (): void => this.killNow();

  constructor(
    readonly dir: string,
    readonly logDir: string,
    readonly config: ClusterConfig,
    readonly gatewayAddress: string,
    private readonly nodeFlags: readonly string[] = [],
    /** The secrets directory the processes use (undefined with --insecure). */
    readonly secretsDir: string | undefined = undefined,
  ) {
    process.once("exit", this.exitHook);
  }

  /** How the bench's clients and tools reach this cluster: its secrets, or --insecure. */
  securityOptions(): DevSecurityOptions {
    return this.secretsDir === undefined
      ? { secretsDir: "", insecure: true }
      : { secretsDir: this.secretsDir, insecure: false };
  }

  /** Process name ("gateway", "node01", ...) -> pid, of those started. */
  get pids(): Map<string, number> {
    return new Map(this.members.map((m) => [m.name, m.child.pid!]));
  }

  /** Processes that exited without being asked to, with how. */
  get crashes(): string[] {
    return this.members
      .filter((m) => m.exit !== undefined && !this.stopping)
      .map((m) => `${m.name} (pid ${m.child.pid}) exited: ${m.exit}`);
  }

  start(name: string, args: string[]): void {
    const logFile = join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...this.nodeFlags, ...args], {
        cwd: repoRoot,
        stdio: ["ignore", fd, fd],
      });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    if (child.pid === undefined) throw new Error(`cannot start ${name}`);
    const member: Member = { name, child, logFile, exited: Promise.resolve() };
    member.exited = new Promise((done) => {
      child.once("exit", (code, signal) => {
        member.exit = signal !== null ? `signal ${signal}` : `code ${code}`;
        done();
      });
    });
    this.members.push(member);
  }

  /** The last lines of every process's log, for a failure report. */
  logTails(lines = benchLogTailLines): string {
    return this.members
      .map((m) => {
        let text: string;
        try {
          text = readFileSync(m.logFile, "utf8");
        } catch {
          text = "(no log)";
        }
        const tail = text.trimEnd().split("\n").slice(-lines).join("\n");
        return `----- ${m.name} (pid ${m.child.pid}, ${m.exit ?? "running"}) ${m.logFile} -----\n${tail}`;
      })
      .join("\n");
  }

  /** Stops every process (in parallel) and removes the temp dir; safe to call more than once. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async stopAll(): Promise<void> {
    this.stopping = true;
    try {
      await Promise.all(this.members.map((m) => this.stopOne(m)));
    } finally {
      process.off("exit", this.exitHook);
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  private async stopOne(m: Member): Promise<void> {
    if (m.exit !== undefined) return;
    signal(m.child.pid!, "SIGTERM");
    const late = await Promise.race([m.exited.then(() => false), sleep(benchStopGraceMs, true)]);
    if (late) {
      signal(m.child.pid!, "SIGKILL");
      await m.exited;
    }
  }

  /** The last resort of the exit hook: synchronous, so it works while the process exits. */
  private killNow(): void {
    for (const m of this.members) if (m.exit === undefined) signal(m.child.pid!, "SIGKILL");
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

async function configOnFreePorts(options: LaunchOptions, ports: number[]): Promise<ClusterConfig> {
  const generated = generateClusterConfig({
    nodes: benchNodes,
    shards: options.shards,
    replicationFactor: options.replicationFactor,
    basePort: 7000,
  });
  const nodes = generated.nodes.map((n, i) => ({ ...n, address: `127.0.0.1:${ports[i]}` }));
  return parseClusterConfig({ ...generated, nodes }, "bench cluster config");
}

/** "" when every shard has exactly one leader and every node answered; else why not yet. */
async function leadersMissing(config: ClusterConfig, operator: TransportSecurity): Promise<string> {
  const roles = new Map<string, number>(config.shards.map((s) => [s.id, 0]));
  for (const node of config.nodes) {
    const channel = operator.channelTo({ role: "node", name: node.id });
    const admin = createUnaryClient(NodeService, node.address, {
      defaultDeadlineMs: 2_000,
      credentials: channel.credentials,
      channel: channel.options,
    });
    try {
      const reply = await admin.replicaStates(create(ReplicaStatesRequestSchema, {}));
      for (const r of reply.replicas)
        if (r.role === ReplicaRole.LEADER) roles.set(r.shardId, (roles.get(r.shardId) ?? 0) + 1);
    } catch (e) {
      return `${node.id} does not answer (${(e as Error).message.split("\n")[0]})`;
    } finally {
      admin.close();
    }
  }
  const without = [...roles].filter(([, n]) => n !== 1).map(([id]) => id);
  return without.length === 0 ? "" : `shards without one leader: ${without.join(", ")}`;
}

async function waitUntilReady(cluster: OwnCluster, options: LaunchOptions, operator: TransportSecurity): Promise<void> {
  const deadline = Date.now() + benchClusterStartMsMax;
  for (;;) {
    if (options.signal?.aborted) throw new Error("interrupted while the cluster was starting");
    if (cluster.crashes.length > 0) throw new Error(`the cluster failed to start: ${cluster.crashes.join("; ")}`);
    const missing = await leadersMissing(cluster.config, operator);
    if (missing === "") break;
    if (Date.now() > deadline)
      throw new Error(`the cluster did not become ready within ${benchClusterStartMsMax} ms: ${missing}`);
    await sleep(benchLeaderPollMs);
  }
  const client = LedgerClient.connect(cluster.gatewayAddress, await ledgerClientSecurity(cluster.securityOptions()));
  try {
    await client.waitForReady(deadline);
  } finally {
    client.close();
  }
}

/** Starts the cluster and waits until it is ready; on any failure stops what it started. */
export async function launchCluster(options: LaunchOptions): Promise<OwnCluster> {
  const dir = await mkdtemp(join(tmpdir(), "ledger-bench-"));
  const ports = await freePorts(benchNodes + 1);
  const config = await configOnFreePorts(options, ports);
  const configPath = join(dir, "cluster_config.json");
  await writeFile(configPath, formatClusterConfig(config));
  const logDir = options.logDir !== undefined ? resolve(options.logDir) : dir;
  const profiling =
    options.cpuProfDir !== undefined ? ["--cpu-prof", "--cpu-prof-dir", resolve(options.cpuProfDir)] : [];
  const secretsDir = options.insecure ? undefined : join(dir, "secrets");
  if (secretsDir !== undefined) await initSecrets(secretsDir, config);
  const securityArgs = secretsDir === undefined ? ["--insecure"] : ["--secrets-dir", secretsDir];
  const cluster = new OwnCluster(dir, logDir, config, `127.0.0.1:${ports[benchNodes]}`, profiling, secretsDir);
  let operator: TransportSecurity | undefined;
  try {
    operator = await operatorTransport(cluster.securityOptions());
    for (const node of config.nodes) {
      cluster.start(node.id, [
        entryPoint("node"),
        "--node-id",
        node.id,
        "--cluster-config",
        configPath,
        "--data-dir",
        join(dir, node.id),
        ...securityArgs,
      ]);
    }
    cluster.start("gateway", [
      entryPoint("gateway"),
      "--port",
      String(ports[benchNodes]),
      "--host",
      "127.0.0.1",
      "--cluster-config",
      configPath,
      ...securityArgs,
    ]);
    options.say(
      `bench: started ${[...cluster.pids].map(([name, pid]) => `${name} pid ${pid}`).join(", ")}; ${secretsDir === undefined ? "INSECURE (no TLS, no API keys)" : "TLS and API keys on"}; temp dir ${dir}`,
    );
    await waitUntilReady(cluster, options, operator);
  } catch (e) {
    if (e instanceof Error) e.message += `\n${cluster.logTails()}`;
    await cluster.stop();
    throw e;
  } finally {
    operator?.close();
  }
  options.say(
    `bench: cluster ready (${config.shards.length} shards, RF ${options.replicationFactor}, gateway ${cluster.gatewayAddress}, logs in ${logDir})`,
  );
  return cluster;
}
