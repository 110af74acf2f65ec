// Who may call what: every public method has the role the issue gives it, every admin method
// needs admin, and anything unlisted fails closed; on the nodes only node certificates carry
// Raft traffic.

import { describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/ledger/admin/v1/admin_pb.js";
import { NodeService, RaftTransportService } from "../../src/gen/ledger/node/v1/node_pb.js";
import { LedgerService } from "../../src/gen/ledger/v1/ledger_pb.js";
import { certRoleMayCall, requiredApiRole } from "../../src/security/call-policy.js";
import { methodPath } from "../../src/transport/grpc-service.js";

describe("API key roles per public method", () => {
  it("are read for Get and List calls, write for every other LedgerService call, admin for the AdminService", () => {
    for (const m of LedgerService.methods) {
      expect(requiredApiRole(methodPath(m)), m.name).toBe(/^(Get|List)/.test(m.name) ? "read" : "write");
    }
    for (const m of AdminService.methods) expect(requiredApiRole(methodPath(m)), m.name).toBe("admin");
  });

  it("leave health and reflection open and treat anything unlisted as admin", () => {
    expect(requiredApiRole("/grpc.health.v1.Health/Check")).toBe("open");
    expect(requiredApiRole("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")).toBe("open");
    expect(requiredApiRole("/ledger.v1.LedgerService/DropEverything")).toBe("admin");
    expect(requiredApiRole("/some.Other/Thing")).toBe("admin");
  });
});

describe("certificate roles per internal method", () => {
  it("let only nodes use the Raft transport", () => {
    for (const m of RaftTransportService.methods) {
      expect(
        [
          certRoleMayCall("node", methodPath(m)),
          certRoleMayCall("gateway", methodPath(m)),
          certRoleMayCall("admin", methodPath(m)),
        ],
        m.name,
      ).toEqual([true, false, false]);
    }
  });

  it("let gateways and operators use the NodeService, nodes only to forward proposals and reads", () => {
    for (const m of NodeService.methods) {
      const path = methodPath(m);
      expect(certRoleMayCall("gateway", path), m.name).toBe(true);
      expect(certRoleMayCall("admin", path), m.name).toBe(true);
      expect(certRoleMayCall("node", path), m.name).toBe(m.name === "Propose" || m.name === "Read");
    }
    expect(certRoleMayCall("admin", "/ledger.node.v1.NodeService/Unknown")).toBe(false);
    expect(certRoleMayCall("node", "/grpc.health.v1.Health/Check")).toBe(true);
  });
});
