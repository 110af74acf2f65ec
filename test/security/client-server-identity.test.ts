// A public API client talks only to a gateway: a server presenting another principal's
// certificate of the same CA (a node's, an operator's), even one that carries the host name the
// client dials, is refused before the client sends its API key. (Found by the attack review of
// issue 12: a node's key holder could otherwise pose as the gateway and collect admin keys.)

import {
  Server,
  ServerCredentials,
  status,
  type Metadata,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { LedgerClient } from "../../src/client/index.js";
import { isLedgerError } from "../../src/base/errors.js";
import { issueCertificate, type PemPair } from "../../src/security/cert-issue.js";
import type { CertRole } from "../../src/security/identity.js";
import { caCertPath, caKeyPath } from "../../src/security/tls-files.js";
import { makeTestSecrets } from "../support/test-secrets.js";
import { autoCleanup } from "../support/cleanup.js";

autoCleanup("all");

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.forceShutdown();
});

/** A fake LedgerService presenting `pair` whose GetAccount records the authorization it got. */
async function fakeGateway(pair: PemPair, captured: string[]): Promise<number> {
  const server = new Server();
  servers.push(server);
  const pass = (b: Buffer): Buffer => b;
  server.addService(
    {
      getAccount: {
        path: "/ledger.v1.LedgerService/GetAccount",
        requestStream: false,
        responseStream: false,
        requestSerialize: pass,
        requestDeserialize: pass,
        responseSerialize: pass,
        responseDeserialize: pass,
      },
    },
    {
      getAccount: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        captured.push(String((call.metadata as Metadata).get("authorization")[0]));
        callback({ code: status.NOT_FOUND, details: "fake gateway" });
      },
    },
  );
  return new Promise((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      ServerCredentials.createSsl(
        null,
        [{ cert_chain: Buffer.from(pair.certPem), private_key: Buffer.from(pair.keyPem) }],
        false,
      ),
      (e, p) => (e ? reject(e) : resolve(p)),
    ),
  );
}

describe("a LedgerClient trusting the cluster CA", () => {
  it.each<[CertRole, string]>([
    ["node", "node01"],
    ["admin", "admin"],
  ])(
    "refuses a server presenting a %s certificate that names the dialled host, and never sends it the key",
    async (role, name) => {
      const secrets = await makeTestSecrets();
      const ca = {
        certPem: await readFile(caCertPath(secrets.dir), "utf8"),
        keyPem: await readFile(caKeyPath(secrets.dir), "utf8"),
      };
      const impostor = await issueCertificate(ca, {
        identity: { role, name },
        validDays: 1,
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
      });
      const gateway = await issueCertificate(ca, {
        identity: { role: "gateway", name: "gateway" },
        validDays: 1,
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
      });
      for (const [pair, expectKey] of [
        [impostor, false],
        [gateway, true],
      ] as const) {
        const captured: string[] = [];
        const port = await fakeGateway(pair, captured);
        for (const host of ["localhost", "127.0.0.1"]) {
          const client = LedgerClient.connect(`${host}:${port}`, { deadlineMs: 5_000, ...secrets.client() });
          try {
            const e = await client.getAccount("0123456789abcdef").then(
              () => undefined,
              (error: unknown) => error,
            );
            expect(
              isLedgerError(e) ? e.code : e,
              `${host}, ${expectKey ? "the gateway's" : `a ${role}'s`} certificate`,
            ).toBe(expectKey ? "NOT_FOUND" : "UNAVAILABLE");
          } finally {
            client.close();
          }
        }
        expect(captured).toEqual(expectKey ? [`Bearer ${secrets.adminKey}`, `Bearer ${secrets.adminKey}`] : []);
      }
    },
    60_000,
  );
});
