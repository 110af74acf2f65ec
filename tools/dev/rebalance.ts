// `dev rebalance --dry-run`: prints the replica moves and preferred-leader changes that would
// even out a cluster map over its nodes (src/cluster/rebalance.ts), or with --remove-node the
// plan that drains one node first. It reads the map from a cluster config file. Carrying a plan
// out needs the replicated cluster map, which is not built yet, so the command only plans:
// --dry-run is required rather than implied, so that scripts written now keep meaning the same
// once running a plan exists.

import type { Command } from "commander";
import { loadClusterConfig } from "../../src/cluster/config.js";
import { planNodeDrain, planRebalance, type RebalancePlan } from "../../src/cluster/rebalance.js";
import { CliFailure, writeLine, type DevIo } from "./io.js";

interface RebalanceOptions {
  clusterConfig: string;
  dryRun?: boolean;
  removeNode?: string;
}

export function formatPlan(plan: RebalancePlan): string[] {
  const lines: string[] = [];
  const counts = (m: Map<string, number>): string => [...m].map(([id, n]) => `${id}=${n}`).join(" ");
  lines.push(`replicas per node now:   ${counts(plan.replicasBefore)}`);
  lines.push(`replicas per node after: ${counts(plan.replicasAfter)}`);
  if (plan.moves.length === 0) lines.push("no replica moves needed");
  plan.moves.forEach((m, i) => {
    lines.push(`move ${i + 1}/${plan.moves.length}: ${m.shardId} replica ${m.from} -> ${m.to}`);
  });
  if (plan.leaders.length === 0) lines.push("no preferred-leader changes needed");
  for (const l of plan.leaders) lines.push(`preferred leader: ${l.shardId} -> ${l.nodeId}`);
  return lines;
}

export function registerRebalance(program: Command, io: DevIo): void {
  program
    .command("rebalance")
    .description(
      "plan replica moves and preferred leaders that spread the shards evenly over the nodes of a cluster config (--dry-run: prints the plan)",
    )
    .option("--cluster-config <file>", "the cluster config (map) to plan for", "cluster_config.json")
    .option("--dry-run", "print the plan and change nothing (required: running a plan is not built yet)")
    .option("--remove-node <id>", "plan moving every replica off this node first")
    .action(async (options: RebalanceOptions, command: Command) => {
      if (options.dryRun !== true)
        return command.error(
          "error: --dry-run is required: carrying out a plan needs the replicated cluster map, which this version does not have",
        );
      const config = await loadClusterConfig(options.clusterConfig);
      let plan: RebalancePlan;
      try {
        plan = options.removeNode === undefined ? planRebalance(config) : planNodeDrain(config, options.removeNode);
      } catch (e) {
        throw new CliFailure(`rebalance: ${(e as Error).message}`);
      }
      for (const line of formatPlan(plan)) writeLine(io.stdout, line);
    });
}
