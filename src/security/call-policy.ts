// Who may call what. Public API calls need an API key whose role covers the method; internal
// (node) calls need a client certificate whose role covers it. Both tables fail closed: a
// method missing from them needs the highest role (public API) or is refused (internal).

import type { ApiRole } from "./api-keys.js";
import type { CertRole } from "./identity.js";

/** Methods anyone may call: health for probes and load balancers, reflection for generic
 * tools (it describes the public API, whose .proto files are public anyway). */
const openMethods = new Set([
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
  "/grpc.health.v1.Health/List",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
]);

const ledgerRoles: Record<string, ApiRole> = {
  GetAccount: "read",
  GetTransaction: "read",
  ListTransactions: "read",
  CreateAccount: "write",
  CreateTransaction: "write",
  CreateTransactions: "write",
  SettleTransaction: "write",
  CancelTransaction: "write",
};

/** "/ledger.v1.LedgerService/GetAccount" -> ["ledger.v1.LedgerService", "GetAccount"]. */
export function splitMethodPath(path: string): [service: string, method: string] {
  const slash = path.lastIndexOf("/");
  return [path.slice(1, Math.max(1, slash)), path.slice(slash + 1)];
}

/** The API key role a public method needs, or "open". */
export function requiredApiRole(path: string): ApiRole | "open" {
  if (openMethods.has(path)) return "open";
  const [service, method] = splitMethodPath(path);
  if (service === "ledger.v1.LedgerService") return ledgerRoles[method] ?? "admin";
  return "admin"; // the admin API, and anything not listed
}

const nodeServiceCallers: Record<string, readonly CertRole[]> = {
  // Gateways send calls; nodes forward proposals to their shard's leader; operators' tools may
  // call too (an admin is trusted with everything).
  Propose: ["gateway", "node", "admin"],
  Read: ["gateway", "node", "admin"],
  Calls: ["gateway", "admin"],
  // The admin API: the gateway serves it (AdminService, the status page), operators call it.
  ReplicaStates: ["gateway", "admin"],
  TransferLeadership: ["gateway", "admin"],
  TriggerSnapshot: ["gateway", "admin"],
};

/** Whether a caller with a certificate of `role` may call internal method `path`. */
export function certRoleMayCall(role: CertRole, path: string): boolean {
  if (openMethods.has(path)) return true;
  const [service, method] = splitMethodPath(path);
  // Only node certificates may carry Raft traffic and snapshots.
  if (service === "ledger.node.v1.RaftTransportService") return role === "node";
  if (service === "ledger.node.v1.NodeService") return nodeServiceCallers[method]?.includes(role) ?? false;
  return false;
}
