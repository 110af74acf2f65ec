// `dev status`: asks every node of the cluster config for its replicas' states (the admin call
// NodeService.ReplicaStates, all nodes in parallel, each bounded by --timeout-ms) and prints a
// table of shards by replicas (status-table.ts). `--watch` redraws it until SIGINT/SIGTERM.
//
// Exit codes: 0 when at least one node answered: a down node is part of the picture (shown in
// the table and named under it), not a failure of the command; 1 when no node answered (or the
// config cannot be loaded); 2 for bad flags. With --watch: 0 on Ctrl-C, whatever was shown.

import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  devStatusIntervalMsDefault,
  devStatusIntervalMsMax,
  devStatusIntervalMsMin,
  devStatusTimeoutMsDefault,
  devStatusTimeoutMsMax,
} from "./limits.js";
import { loadClusterConfig, type ClusterConfig, type NodeId } from "../../src/cluster/config.js";
import { NodeService, ReplicaStatesRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { describeFailure } from "../../src/ops/shard-view.js";
import { createUnaryClient, type UnaryClient } from "../../src/transport/grpc-service.js";
import { integerArg } from "./arg-parsers.js";
import { CliFailure, writeLine, type DevIo } from "./io.js";
import { addNodeSecurityOptions, operatorTransport, type DevSecurityOptions } from "./security-options.js";
import { buildStatusView, renderStatus, type NodeAnswer, type StatusView } from "./status-table.js";

export interface StatusOptions extends DevSecurityOptions {
  clusterConfig: string;
  watch: boolean;
  intervalMs: number;
  timeoutMs: number;
}

type AdminClient = UnaryClient<typeof NodeService>;

/** Clear the screen and home the cursor, so a watched table redraws in place. */
const clearScreen = "\x1b[H\x1b[2J";

/** Without this a channel to a down node backs off for up to two minutes, and --watch would
 * keep showing a restarted node down long after it came back. */
const adminChannel = { "grpc.initial_reconnect_backoff_ms": 200, "grpc.max_reconnect_backoff_ms": 1_000 };

async function askNode(client: AdminClient, timeoutMs: number, stop: AbortSignal): Promise<NodeAnswer> {
  // The call's own deadline bounds it; the guard below bounds it too, should a deadline ever be
  // missed (a hung node must not stall a refresh).
  const guard = new AbortController();
  const onStop = (): void => guard.abort();
  stop.addEventListener("abort", onStop, { once: true });
  const call = client
    .replicaStates(create(ReplicaStatesRequestSchema, {}), { deadlineMs: Date.now() + timeoutMs, signal: guard.signal })
    .then((reply): NodeAnswer => ({ ok: true, replicas: reply.replicas }))
    .catch((e: unknown): NodeAnswer => ({ ok: false, reason: describeFailure(e) }));
  const timer = sleep(timeoutMs + 500, undefined, { signal: guard.signal }).then(
    (): NodeAnswer => ({ ok: false, reason: `no answer within ${timeoutMs} ms` }),
    (): NodeAnswer => ({ ok: false, reason: "cancelled" }),
  );
  try {
    return await Promise.race([call, timer]);
  } finally {
    guard.abort();
    stop.removeEventListener("abort", onStop);
  }
}

/** One round: every node asked in parallel; resolves within about timeoutMs. */
export async function gatherStatus(
  config: ClusterConfig,
  clients: ReadonlyMap<NodeId, AdminClient>,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<StatusView> {
  const answers = await Promise.all(
    config.nodes.map(async (node) => [node.id, await askNode(clients.get(node.id)!, timeoutMs, stop)] as const),
  );
  return buildStatusView(config, new Map(answers));
}

function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** Runs the command; `stop` ends --watch (the CLI aborts it on SIGINT/SIGTERM). */
export async function runStatus(options: StatusOptions, io: DevIo, stop: AbortSignal): Promise<void> {
  const config = await loadClusterConfig(options.clusterConfig);
  const security = await operatorTransport(options);
  const clients = new Map(
    config.nodes.map((n) => {
      const channel = security.channelTo({ role: "node", name: n.id });
      return [
        n.id,
        createUnaryClient(NodeService, n.address, {
          defaultDeadlineMs: options.timeoutMs,
          credentials: channel.credentials,
          channel: { ...channel.options, ...adminChannel },
        }),
      ];
    }),
  );
  try {
    if (!options.watch) {
      const view = await gatherStatus(config, clients, options.timeoutMs, stop);
      if (view.nodesUp === 0) {
        throw new CliFailure(
          `no node answered: ${view.down.map((d) => `${d.nodeId} at ${d.address} (${d.reason})`).join("; ")}`,
        );
      }
      for (const line of renderStatus(view)) writeLine(io.stdout, line);
      return;
    }
    const tty = isTty(io.stdout);
    // Sequential by construction: the next refresh starts interval-ms after the previous one
    // has printed, so refreshes never overlap however slow a node is.
    while (!stop.aborted) {
      const view = await gatherStatus(config, clients, options.timeoutMs, stop);
      if (stop.aborted) break;
      const lines = renderStatus(view);
      if (tty) io.stdout.write(clearScreen);
      else lines.unshift(`--- ${new Date().toISOString()} ---`);
      io.stdout.write(`${lines.join("\n")}\n`);
      await sleep(options.intervalMs, undefined, { signal: stop }).catch(() => undefined);
    }
  } finally {
    for (const client of clients.values()) client.close();
    security.close();
  }
}

export function registerStatus(program: Command, io: DevIo): void {
  const command = program
    .command("status")
    .description(
      "print a table of shards by replicas (role, term, applied index, lag, leader) from every node's admin API",
    )
    .option("--cluster-config <file>", "the cluster config naming the nodes", "cluster_config.json")
    .option("--watch", "redraw the table every --interval-ms until Ctrl-C", false)
    .option(
      "--interval-ms <ms>",
      `pause between refreshes with --watch (${devStatusIntervalMsMin}..${devStatusIntervalMsMax})`,
      integerArg(devStatusIntervalMsMin, devStatusIntervalMsMax),
      devStatusIntervalMsDefault,
    )
    .option(
      "--timeout-ms <ms>",
      `how long to wait for each node; a node silent this long is shown down (1..${devStatusTimeoutMsMax})`,
      integerArg(1, devStatusTimeoutMsMax),
      devStatusTimeoutMsDefault,
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 when at least one node answered (unreachable nodes are shown as down and named\n" +
        "under the table: information, not a failure); 1 when no node answered or the config cannot\n" +
        "be loaded; 2 for bad flags. With --watch, Ctrl-C exits 0.\n",
    );
  addNodeSecurityOptions(command).action(async (options: StatusOptions, command: Command) => {
    // A pause between refreshes means nothing for one table: say so rather than ignore it.
    if (!options.watch && command.getOptionValueSource("intervalMs") === "cli") {
      command.error("error: --interval-ms applies only with --watch", {
        exitCode: 2,
        code: "dev.status.intervalWithoutWatch",
      });
    }
    const stop = new AbortController();
    // Only --watch takes over Ctrl-C (to exit 0 after closing its channels); a one-shot run
    // keeps the default, immediate exit.
    const onSignal = (): void => stop.abort();
    const signals = options.watch ? (["SIGINT", "SIGTERM"] as const) : [];
    for (const signal of signals) process.on(signal, onSignal);
    try {
      await runStatus(options, io, stop.signal);
    } finally {
      for (const signal of signals) process.off(signal, onSignal);
    }
  });
}
