// What `dev status` and the gateway's status page agree on when they read the nodes' answers to
// ReplicaStates: role names, which replica leads a shard, a replica's lag behind it, and how a
// node's failure is told in one safe line. Pure (no I/O): both views build on it, so they cannot
// drift apart.

import { isLedgerError } from "../base/errors.js";
import { statusReasonCharsMax } from "./limits.js";
import type { NodeId } from "../cluster/config.js";
import { ReplicaRole, type ReplicaState } from "../gen/ledger/node/v1/node_pb.js";

export type RoleName = "leader" | "follower" | "candidate" | "pre-candidate" | "unknown";

const roleNames: Record<ReplicaRole, RoleName> = {
  [ReplicaRole.UNSPECIFIED]: "unknown",
  [ReplicaRole.FOLLOWER]: "follower",
  [ReplicaRole.PRE_CANDIDATE]: "pre-candidate",
  [ReplicaRole.CANDIDATE]: "candidate",
  [ReplicaRole.LEADER]: "leader",
};

export function roleName(role: ReplicaRole): RoleName {
  return roleNames[role] ?? "unknown";
}

/** One replica of a shard as seen in the answers: its state, or undefined when its node is down
 * or did not report it. */
export interface ObservedReplica {
  nodeId: NodeId;
  state: ReplicaState | undefined;
}

/**
 * The shard's leader as far as the answers can confirm it, or undefined.
 *
 * Answers arrive milliseconds apart, and a leader cut off from its peers keeps saying "leader"
 * until it hears of the next term. So a claim counts only if no live replica reports a higher
 * term: among claims the highest term wins, and a claim that some replica has moved past (it
 * follows a newer leader, perhaps one that is down, or stands in a newer election) is void.
 * The shard is then shown without a leader rather than naming the newer term's leader, which
 * nobody could reach to confirm.
 */
export function chooseLeader(
  replicas: readonly ObservedReplica[],
): { nodeId: NodeId; state: ReplicaState } | undefined {
  let leader: { nodeId: NodeId; state: ReplicaState } | undefined;
  let highestTerm = 0n;
  for (const { nodeId, state } of replicas) {
    if (state === undefined) continue;
    if (state.term > highestTerm) highestTerm = state.term;
    if (state.role !== ReplicaRole.LEADER) continue;
    if (leader === undefined || state.term > leader.state.term) leader = { nodeId, state };
  }
  return leader !== undefined && leader.state.term >= highestTerm ? leader : undefined;
}

/** Entries the leader has applied that the replica has not. Never negative: a follower can be a
 * step ahead of a leader that has just been elected and not yet applied. */
export function lagBehind(leaderApplied: bigint, applied: bigint): bigint {
  const behind = leaderApplied - applied;
  return behind > 0n ? behind : 0n;
}

/** grpc-js's words for a channel that cannot connect, around the cause an operator wants to see. */
const noConnection = /^No connection established\. Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s;

/** C0 and C1 control characters (whitespace is folded to spaces before this applies). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/g;

/** Shows control characters as escapes (`\x1b`): a node's error text is outside input, and an
 * escape sequence in it would clear or recolor the operator's terminal. */
export function escapeControlCharacters(text: string): string {
  return text.replace(controlCharacters, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Why a node gave no answer, in one short line safe to print: the error's code and the gist of
 * its message, control characters escaped, cut to maxChars (ending in "…" when cut). */
export function describeFailure(error: unknown, maxChars: number = statusReasonCharsMax): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = noConnection.exec(message)?.[1];
  const gist = cause === undefined ? message : `no connection (${cause})`;
  const text = isLedgerError(error) ? `${error.code}: ${gist}` : gist;
  const oneLine = escapeControlCharacters(text.replace(/\s+/g, " ").trim());
  return oneLine.length <= maxChars ? oneLine : `${oneLine.slice(0, maxChars - 1)}…`;
}
