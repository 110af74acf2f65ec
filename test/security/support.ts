// Helpers of the security tests: raw gRPC calls to a node with chosen credentials (a peer's,
// none, a stranger's), and certificates of a second, untrusted CA.

import { ChannelCredentials } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "../../src/base/logger.js";
import { createCa, issueCertificate, type PemPair } from "../../src/security/cert-issue.js";
import type { CertRole } from "../../src/security/identity.js";
import { principalPaths } from "../../src/security/tls-files.js";
import { TlsWatcher } from "../../src/security/tls-watcher.js";
import { tlsTransport, type TransportSecurity } from "../../src/security/transport-security.js";
import { NodeService, ReplicaStatesRequestSchema, type MessagesRequest } from "../../src/gen/ledger/node/v1/node_pb.js";
import type { ChannelSecurity } from "../../src/transport/channel-security.js";
import { createUnaryClient } from "../../src/transport/grpc-service.js";
import { sendRaftBatch } from "../support/raw-raft.js";
import { fromServiceError } from "../../src/transport/status.js";

/** The transport of principal `name` from a secrets dir (closed by the caller). */
export async function principalTransport(secretsDir: string, role: CertRole, name: string): Promise<TransportSecurity> {
  return tlsTransport(
    await TlsWatcher.open(principalPaths(secretsDir, name), { role, name }, createLogger({ name, level: "silent" })),
  );
}

/** Calls NodeService.ReplicaStates on `address` with the given channel; resolves with the
 * node id it answered with, or the error code it failed with. */
export async function replicaStatesAs(
  address: string,
  channel: ChannelSecurity,
): Promise<{ ok: true; nodeId: string } | { ok: false; code: string; message: string }> {
  const client = createUnaryClient(NodeService, address, {
    defaultDeadlineMs: 5_000,
    credentials: channel.credentials,
    channel: channel.options,
  });
  try {
    const reply = await client.replicaStates(create(ReplicaStatesRequestSchema, {}));
    return { ok: true, nodeId: reply.nodeId };
  } catch (e) {
    const error = fromServiceError(e);
    return { ok: false, code: error.code, message: error.message };
  } finally {
    client.close();
  }
}

/** A Raft batch sent with `channel`: its stream's final status ("OK" or the error code). */
export function sendRaftBatchAs(address: string, channel: ChannelSecurity, request: MessagesRequest): Promise<string> {
  return sendRaftBatch(address, request, channel);
}

/** A channel with TLS that trusts `ca` and presents no client certificate. */
export function withoutClientCertificate(ca: Buffer, serverName: string): ChannelSecurity {
  return {
    credentials: ChannelCredentials.createSsl(ca, null, null, { checkServerIdentity: () => undefined }),
    options: { "grpc.ssl_target_name_override": serverName },
  };
}

/** A channel presenting `pair` and trusting `ca`, not checking the server's name. */
export function presenting(ca: Buffer, pair: PemPair, serverName: string): ChannelSecurity {
  return {
    credentials: ChannelCredentials.createSsl(ca, Buffer.from(pair.keyPem), Buffer.from(pair.certPem), {
      checkServerIdentity: () => undefined,
    }),
    options: { "grpc.ssl_target_name_override": serverName },
  };
}

/** A principal certificate of another CA: well-formed, naming a cluster node, but not trusted. */
export async function strangerCertificate(role: CertRole, name: string): Promise<PemPair> {
  const ca = await createCa({ commonName: "an attacker's CA", validDays: 30 });
  return issueCertificate(ca, { identity: { role, name }, validDays: 30 });
}

/** Writes a pair as <dir>/<name>.crt and .key. */
export async function writePair(dir: string, name: string, pair: PemPair): Promise<void> {
  await writeFile(join(dir, `${name}.key`), pair.keyPem, { mode: 0o600 });
  await writeFile(join(dir, `${name}.crt`), pair.certPem);
}
