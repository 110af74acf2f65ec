// A secured cluster as `npm start` runs it (real node and gateway processes with TLS and API
// keys from secrets made by `dev secrets init`), attacked as the issue describes: without a
// certificate, with a stranger's or an expired one, with another node's certificate, and with
// API keys of each role, a revoked one and none; and a node's certificate rotated under load.

import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AdminClient, LedgerClient } from "../../src/client/index.js";
import { isLedgerError } from "../../src/base/errors.js";
import { createAccountCommand, getAccountQuery } from "../../src/gateway/core-requests.js";
import { CommandSchema } from "../../src/gen/ledger/core/v1/core_pb.js";
import { MessagesRequestSchema, ReadConsistency } from "../../src/gen/ledger/node/v1/node_pb.js";
import { MessageType as PbMessageType } from "../../src/gen/raft/v1/raft_pb.js";
import { apiRoles, roleAllows, type ApiRole } from "../../src/security/api-keys.js";
import { issueCertificate } from "../../src/security/cert-issue.js";
import { caCertPath, caKeyPath, principalPaths } from "../../src/security/tls-files.js";
import { createKey, revokeKey } from "../../src/security/key-admin.js";
import { devInProcess } from "../cli/dev-in-process.js";
import { encodeProposal } from "../../src/node/proposal-envelope.js";
import { insecureChannel } from "../../src/transport/channel-security.js";
import { ConcurrentWriters } from "../support/concurrent-writers.js";
import { decodeQueryResult, useCluster, type TestCluster } from "../support/cluster-processes.js";
import { accountIn } from "../node/support/in-process-cluster.js";
import { parseExposition, samplesOf } from "../metrics/exposition.js";
import { startTsProcess } from "../support/processes.js";
import {
  presenting,
  principalTransport,
  replicaStatesAs,
  sendRaftBatchAs,
  strangerCertificate,
  withoutClientCertificate,
} from "./support.js";

const { running, reported } = useCluster({ shards: 2, http: true });

function secretsOf(c: TestCluster): NonNullable<TestCluster["secrets"]> {
  if (c.secrets === undefined) throw new Error("the cluster runs without secrets");
  return c.secrets;
}

/** The code a promise rejects with, or "OK". */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (isLedgerError(e)) return e.code;
    throw e;
  }
}

async function scrape(c: TestCluster, nodeId: string): Promise<ReturnType<typeof parseExposition>> {
  const reply = await fetch(`http://${c.httpAddress(nodeId)}/metrics`);
  return parseExposition(await reply.text());
}

describe("a node's internal services", () => {
  it(
    "refuse a client without a certificate, and plain TCP, on every node; a certificate of the cluster CA gets in",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      for (const nodeId of c.nodeIds) {
        const address = c.addressOf(nodeId);
        expect(
          await replicaStatesAs(address, withoutClientCertificate(secrets.ca, nodeId)),
          `${nodeId}, no client certificate`,
        ).toMatchObject({ ok: false, code: "UNAVAILABLE" });
        expect(await replicaStatesAs(address, insecureChannel), `${nodeId}, plain TCP`).toMatchObject({
          ok: false,
          code: "UNAVAILABLE",
        });
        expect(
          await sendRaftBatchAs(
            address,
            withoutClientCertificate(secrets.ca, nodeId),
            create(MessagesRequestSchema, { fromNodeId: "node01", configVersion: c.config.version }),
          ),
          `${nodeId} Messages`,
        ).toBe("UNAVAILABLE");
        expect(
          await replicaStatesAs(address, secrets.operator.channelTo({ role: "node", name: nodeId })),
          `${nodeId}, the operator's certificate`,
        ).toEqual({ ok: true, nodeId });
      }
    }),
    60_000,
  );

  it(
    "refuse a certificate of another CA and an expired certificate of the cluster CA",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      const address = c.addressOf("node02");
      const stranger = await strangerCertificate("node", "node01");
      expect(await replicaStatesAs(address, presenting(secrets.ca, stranger, "node02"))).toMatchObject({
        ok: false,
        code: "UNAVAILABLE",
      });
      const ca = {
        certPem: await readFile(caCertPath(secrets.dir), "utf8"),
        keyPem: await readFile(caKeyPath(secrets.dir), "utf8"),
      };
      const expired = await issueCertificate(ca, {
        identity: { role: "admin", name: "admin" },
        validDays: 1,
        notBefore: new Date(Date.now() - 10 * 86_400_000),
      });
      expect(new X509Certificate(expired.certPem).validTo).not.toBe("");
      expect(await replicaStatesAs(address, presenting(secrets.ca, expired, "node02"))).toMatchObject({
        ok: false,
        code: "UNAVAILABLE",
      });
      // The same principal with a valid certificate of the same CA gets in: the refusals are about trust and time.
      const valid = await issueCertificate(ca, { identity: { role: "admin", name: "admin" }, validDays: 1 });
      expect(await replicaStatesAs(address, presenting(secrets.ca, valid, "node02"))).toEqual({
        ok: true,
        nodeId: "node02",
      });
    }),
    60_000,
  );

  it(
    "take Raft traffic only from node certificates: a gateway's or an operator's gets PERMISSION_DENIED",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      const gateway = await principalTransport(secrets.dir, "gateway", "gateway");
      try {
        const batch = create(MessagesRequestSchema, { fromNodeId: "node02", configVersion: c.config.version });
        expect(
          await sendRaftBatchAs(c.addressOf("node01"), gateway.channelTo({ role: "node", name: "node01" }), batch),
        ).toBe("PERMISSION_DENIED");
        expect(
          await sendRaftBatchAs(
            c.addressOf("node01"),
            secrets.operator.channelTo({ role: "node", name: "node01" }),
            batch,
          ),
        ).toBe("PERMISSION_DENIED");
      } finally {
        gateway.close();
      }
    }),
    60_000,
  );

  // A forged APPEND at the current term with a valid command, claiming to come from the leader,
  // would make one follower commit what the others never saw. A node holding node02's
  // certificate therefore cannot send as node03: the batch is dropped and counted, and nothing
  // diverges.
  it(
    "drop a batch whose from_node_id is not the node its certificate names (counted), so a forged append changes nothing",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      const shardId = c.shardIds[0]!;
      const leader = await c.leaderOf(shardId);
      const shard = c.shard(shardId);
      const others = shard.replicas.filter((r) => r.nodeId !== leader).map((r) => r.nodeId);
      const [follower, attacker] = others as [string, string];
      // One write, so the entry at the commit index is of the current term.
      const now = (): bigint => BigInt(Date.now()) * 1_000_000n;
      await c.propose(leader, shardId, createAccountCommand(now(), accountIn(c.config, shardId), ""));
      const converged = (await c.waitForConvergence([shardId])).get(shardId)!;
      const state = (await c.replicaStates(follower)).find((r) => r.shardId === shardId)!;
      const commit = converged.appliedIndex;
      const forgedAccount = accountIn(c.config, shardId);
      const command = toBinary(CommandSchema, createAccountCommand(now(), forgedAccount, ""));
      const leaderReplica = shard.replicas.find((r) => r.nodeId === leader)!.id;
      const followerReplica = shard.replicas.find((r) => r.nodeId === follower)!.id;
      const append = {
        type: PbMessageType.APPEND,
        to: BigInt(followerReplica),
        from: BigInt(leaderReplica),
        term: state.term,
        logTerm: state.term,
        index: commit,
        commit: commit + 1n,
        entries: [
          { term: state.term, index: commit + 1n, type: 1, data: encodeProposal({ epoch: 1, number: 1 }, command) },
        ],
      };
      const mismatches = async (): Promise<number> =>
        samplesOf(await scrape(c, follower), "ledger_peer_identity_mismatches_total", { peer: attacker }).reduce(
          (sum, x) => sum + x.value,
          0,
        );
      const before = await mismatches();
      const asAttacker = await principalTransport(secrets.dir, "node", attacker);
      try {
        const forged = create(MessagesRequestSchema, {
          fromNodeId: leader,
          configVersion: c.config.version,
          messages: [{ shardId, message: append }],
        });
        expect(
          await sendRaftBatchAs(c.addressOf(follower), asAttacker.channelTo({ role: "node", name: follower }), forged),
        ).toBe("OK");
        // Honest about who sends, lying about the replica: the node drops what its sender's replicas did not send.
        const honest = create(MessagesRequestSchema, {
          fromNodeId: attacker,
          configVersion: c.config.version,
          messages: [{ shardId, message: append }],
        });
        expect(
          await sendRaftBatchAs(c.addressOf(follower), asAttacker.channelTo({ role: "node", name: follower }), honest),
        ).toBe("OK");
      } finally {
        asAttacker.close();
      }
      expect((await mismatches()) - before).toBe(1);
      const stale = await c.read(follower, shardId, getAccountQuery(forgedAccount), ReadConsistency.STALE);
      expect(decodeQueryResult(stale.result).kind.case, "the forged account on the follower").toBe("error");
      await c.propose(leader, shardId, createAccountCommand(now(), accountIn(c.config, shardId), ""));
      const again = (await c.waitForConvergence([shardId])).get(shardId)!;
      expect(again.appliedIndex).toBeGreaterThan(commit);
    }),
    90_000,
  );
});

describe("API keys on the gateway", () => {
  it(
    "give a key of each role exactly what the role allows; no key, an unknown or a malformed one get UNAUTHENTICATED; health needs none",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      const keysFile = join(secrets.dir, "api-keys.json");
      const keys: Record<ApiRole, string> = {
        read: (await createKey(keysFile, "read", "role test: read")).token,
        write: (await createKey(keysFile, "write", "role test: write")).token,
        admin: secrets.adminKey,
      };
      const existing = await c.gatewayClient().createAccount({ requestId: "roles-existing" });
      // The gateway picks up new keys from the file within a poll, and a poll may land between the
      // two writes of the file: wait until each new key works, not only the first.
      for (const role of ["read", "write"] as const) {
        const reader = LedgerClient.connect(c.gatewayAddress, c.clientSecurity(keys[role]));
        try {
          await waitUntil(
            async () => (await outcome(reader.getAccount(existing.id))) === "OK",
            10_000,
            `the new ${role} key to be accepted`,
          );
        } finally {
          reader.close();
        }
      }
      const calls: Record<ApiRole, (key: string) => Promise<unknown>> = {
        read: (key) => withLedger(c, key, (l) => l.getAccount(existing.id)),
        write: (key) => withLedger(c, key, (l) => l.createAccount()),
        admin: (key) => withAdmin(c, key, (a) => a.clusterStatus()),
      };
      const seen: string[] = [];
      for (const has of apiRoles) {
        for (const needs of apiRoles) {
          const got = await outcome(calls[needs](keys[has]));
          seen.push(`${has} key, ${needs} call: ${got}`);
          expect(got, `${has} key, ${needs} call`).toBe(roleAllows(has, needs) ? "OK" : "PERMISSION_DENIED");
        }
      }
      expect(seen).toHaveLength(9);
      const noKey = LedgerClient.connect(c.gatewayAddress, { tls: { ca: secrets.ca } });
      try {
        expect(await outcome(noKey.getAccount(existing.id))).toBe("UNAUTHENTICATED");
        // Health answers without a key: load balancers probe it.
        await noKey.waitForReady(Date.now() + 5_000);
      } finally {
        noKey.close();
      }
      expect(await outcome(calls.read(`lk_000000000000_${"A".repeat(43)}`))).toBe("UNAUTHENTICATED");
      expect(await outcome(calls.read("not-a-key"))).toBe("UNAUTHENTICATED");
      expect(await outcome(calls.read(keys.read.slice(0, -1) + (keys.read.endsWith("A") ? "B" : "A")))).toBe(
        "UNAUTHENTICATED",
      );
    }),
    90_000,
  );

  it(
    "refuse a revoked key within a second of the revocation",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      const keysFile = join(secrets.dir, "api-keys.json");
      const { id, token } = await createKey(keysFile, "write", "revocation test");
      const client = LedgerClient.connect(c.gatewayAddress, c.clientSecurity(token));
      try {
        await waitUntil(
          async () => (await outcome(client.createAccount())) === "OK",
          10_000,
          "the new key to be accepted",
        );
        await revokeKey(keysFile, id);
        const revokedAt = Date.now();
        let code = "OK";
        while (code === "OK" && Date.now() - revokedAt < 5_000) code = await outcome(client.createAccount());
        const elapsedMs = Date.now() - revokedAt;
        expect(code).toBe("UNAUTHENTICATED");
        expect(elapsedMs, "from the revocation to the first refusal").toBeLessThan(1_000);
      } finally {
        client.close();
      }
    }),
    60_000,
  );
});

describe("the admin API through the dev CLI", () => {
  it(
    "snapshots a replica with the admin key, and is refused with PERMISSION_DENIED with a write key",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      const shardId = c.shardIds[1]!;
      const base = [
        "admin",
        "snapshot",
        "--shard",
        shardId,
        "--node",
        "node02",
        "--gateway",
        c.gatewayAddress,
        ...secrets.args,
      ];
      const ok = await devInProcess(base);
      expect(ok.code, ok.stderr.join("\n")).toBe(0);
      expect(BigInt(ok.stdout[0]!)).toBeGreaterThan(0n);
      const { token } = await createKey(join(secrets.dir, "api-keys.json"), "write", "admin CLI test");
      let refused = await devInProcess([...base, "--api-key", token]);
      // The new key may reach the gateway a poll after it was written.
      for (let i = 0; i < 40 && refused.stderr[0]?.startsWith("error: UNAUTHENTICATED") === true; i++) {
        await new Promise((r) => setTimeout(r, 50));
        refused = await devInProcess([...base, "--api-key", token]);
      }
      expect(refused.code).toBe(1);
      expect(refused.stderr[0]).toMatch(
        /^error: PERMISSION_DENIED: API key [0-9a-f]{12} has role write; TriggerSnapshot needs admin$/,
      );
    }),
    60_000,
  );
});

describe("certificate rotation", () => {
  it(
    "replaces a node's certificate under load without a failed call: new connections get the new one",
    reported(async () => {
      const c = running();
      const secrets = secretsOf(c);
      const accounts = await Promise.all(
        [0, 1, 2, 3].map((i) => c.gatewayClient().createAccount({ requestId: `rotation-${i}` })),
      );
      const writers = new ConcurrentWriters(
        [c.gatewayClient(), c.gatewayClient()],
        accounts.map((a) => ({ id: a.id })),
        { requestIdPrefix: "rotation-", timeoutMs: 10_000, retryPauseMs: 100 },
      );
      try {
        await writers.waitForAcks(() => true, 20, 30_000);
        const oldSerial = new X509Certificate(await readFile(principalPaths(secrets.dir, "node01").cert)).serialNumber;
        const issue = startTsProcess(
          "cmd/dev.ts",
          ["certs", "issue", "--role", "node", "--name", "node01", "--secrets-dir", secrets.dir],
          { name: "dev certs issue" },
        );
        expect((await issue.waitForExit(30_000)).code, issue.report()).toBe(0);
        const newSerial = new X509Certificate(await readFile(principalPaths(secrets.dir, "node01").cert)).serialNumber;
        expect(newSerial).not.toBe(oldSerial);
        const node01 = c.nodeProcess("node01")!;
        const reloaded = await node01.waitForJson(
          (e) => e.msg === "TLS certificate reloaded; new connections use it" && e.serial === newSerial,
          15_000,
        );
        expect(reloaded.previousSerial).toBe(oldSerial);
        expect(
          await servedSerial(
            c.addressOf("node01"),
            secrets.ca,
            await readFile(principalPaths(secrets.dir, "admin").cert),
            await readFile(principalPaths(secrets.dir, "admin").key),
          ),
        ).toBe(normalSerial(newSerial));
        const acked = writers.acks.length;
        await writers.waitForAcks(() => true, acked + 20, 30_000);
      } finally {
        await writers.stop();
      }
      expect(writers.failures, "failed calls during the rotation").toEqual([]);
      // Every acknowledged +1 is in its account's balance.
      const reader = c.gatewayClient();
      for (const a of accounts) {
        const acks = writers.acks.filter((w) => w.accountId === a.id).length;
        expect((await reader.getAccount(a.id)).settledBalance, a.id).toBe(BigInt(acks));
      }
    }),
    120_000,
  );
});

async function withLedger<T>(c: TestCluster, key: string, fn: (l: LedgerClient) => Promise<T>): Promise<T> {
  const client = LedgerClient.connect(c.gatewayAddress, c.clientSecurity(key));
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function withAdmin<T>(c: TestCluster, key: string, fn: (a: AdminClient) => Promise<T>): Promise<T> {
  const client = AdminClient.connect(c.gatewayAddress, c.clientSecurity(key));
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The serial number of the certificate a fresh TLS connection to `address` is served. */
function servedSerial(address: string, ca: Buffer, cert: Buffer, key: Buffer): Promise<string> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    Number(address.slice(address.lastIndexOf(":") + 1)),
  ];
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host, port, ca, cert, key, servername: "node01", ALPNProtocols: ["h2"], checkServerIdentity: () => undefined },
      () => {
        const serial = normalSerial(socket.getPeerCertificate().serialNumber);
        socket.destroy();
        resolve(serial);
      },
    );
    socket.once("error", reject);
  });
}

/** Serial numbers as node prints them differ in case and leading zeros between APIs. */
function normalSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+/, "");
}
