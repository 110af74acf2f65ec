// Where a process's TLS files are and what makes them usable. A secrets directory holds the
// cluster CA (ca.crt, and ca.key where certificates are issued) and one certificate and key per
// principal, named after it (node01.crt / node01.key, gateway.crt, admin.crt, ...). Loading
// checks everything a handshake would otherwise discover late and obscurely: the key belongs to
// the certificate, the CA bundle issued it, it is valid now, and it names the expected principal.

import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { tlsFileBytesMax } from "./limits.js";
import { describeIdentity, identityOfSubjectText, type CertRole, type PeerIdentity } from "./identity.js";

/** Where `npm start`, the dev CLI and every process look by default (under the git-ignored data dir). */
export const defaultSecretsDir = "./data/secrets";

export interface TlsFilePaths {
  ca: string;
  cert: string;
  key: string;
}

export function caCertPath(secretsDir: string): string {
  return join(secretsDir, "ca.crt");
}

export function caKeyPath(secretsDir: string): string {
  return join(secretsDir, "ca.key");
}

/** The files of principal `name` (a node id, "gateway", "admin") in a secrets directory. */
export function principalPaths(secretsDir: string, name: string): TlsFilePaths {
  return { ca: caCertPath(secretsDir), cert: join(secretsDir, `${name}.crt`), key: join(secretsDir, `${name}.key`) };
}

/** What a process presents and trusts, checked. Buffers are what grpc-js takes. */
export interface TlsMaterial {
  caPem: Buffer;
  certPem: Buffer;
  keyPem: Buffer;
  identity: PeerIdentity;
  notAfter: Date;
  serial: string;
}

export interface ExpectedPrincipal {
  role: CertRole;
  /** Checked when given (a node's certificate must name that node). */
  name?: string;
}

/** Reads a file of at most tlsFileBytesMax bytes; errors name the file. */
export async function readBoundedFile(path: string, what: string, maxBytes = tlsFileBytesMax): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    throw new Error(
      `${what} ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes)
      throw new Error(`${what} ${path}: ${size} bytes, more than the ${maxBytes} a PEM file may have`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle; at least one. */
export function parseCertificates(pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString("latin1").match(pemBlock) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new Error(`${what}: certificate ${i + 1} does not parse: ${(e as Error).message}`);
    }
  });
}

/** Why `cert` is not valid at `now`, or undefined when it is. */
export function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  if (now < new Date(cert.validFrom)) return `is not valid before ${new Date(cert.validFrom).toISOString()}`;
  if (now > new Date(cert.validTo)) return `expired on ${new Date(cert.validTo).toISOString()}`;
  return undefined;
}

/** Reads and checks a process's TLS files; throws an Error naming the file and the problem. */
export async function loadTlsMaterial(
  paths: TlsFilePaths,
  expected: ExpectedPrincipal,
  now = new Date(),
): Promise<TlsMaterial> {
  // Read in parallel, but report the first problem in a fixed order (CA, certificate, key):
  // with several files missing, the message must not depend on which read failed first.
  const reads = await Promise.allSettled([
    readBoundedFile(paths.ca, "CA certificate"),
    readBoundedFile(paths.cert, "certificate"),
    readBoundedFile(paths.key, "private key"),
  ]);
  const pems: Buffer[] = [];
  for (const r of reads) {
    if (r.status === "rejected") throw r.reason;
    pems.push(r.value);
  }
  const [caPem, certPem, keyPem] = pems as [Buffer, Buffer, Buffer];
  return checkTlsMaterial(paths, { caPem, certPem, keyPem }, expected, now);
}

export function checkTlsMaterial(
  paths: TlsFilePaths,
  pems: { caPem: Buffer; certPem: Buffer; keyPem: Buffer },
  expected: ExpectedPrincipal,
  now: Date,
): TlsMaterial {
  const cas = parseCertificates(pems.caPem, `CA certificate ${paths.ca}`);
  for (const ca of cas)
    if (!ca.ca)
      throw new Error(`CA certificate ${paths.ca}: ${ca.subject.replace(/\n/g, ", ")} is not a CA certificate`);
  const [cert] = parseCertificates(pems.certPem, `certificate ${paths.cert}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(pems.keyPem);
  } catch (e) {
    throw new Error(`private key ${paths.key} does not parse: ${(e as Error).message}`);
  }
  if (!cert!.checkPrivateKey(key))
    throw new Error(`private key ${paths.key} does not belong to certificate ${paths.cert}`);
  if (!cas.some((ca) => cert!.checkIssued(ca) && cert!.verify(ca.publicKey))) {
    throw new Error(`certificate ${paths.cert} was not issued by the CA in ${paths.ca}`);
  }
  const problem = validityProblem(cert!, now);
  if (problem !== undefined) throw new Error(`certificate ${paths.cert} ${problem}`);
  const identity = identityOfSubjectText(cert!.subject);
  if (identity === undefined)
    throw new Error(
      `certificate ${paths.cert} names no principal (its subject must be CN=<name>, OU=<node|gateway|admin>, O=ledger-cluster)`,
    );
  if (identity.role !== expected.role || (expected.name !== undefined && identity.name !== expected.name)) {
    const want =
      expected.name === undefined
        ? `a ${expected.role}`
        : describeIdentity({ role: expected.role, name: expected.name });
    throw new Error(`certificate ${paths.cert} names ${describeIdentity(identity)}, expected ${want}`);
  }
  return { ...pems, identity, notAfter: new Date(cert!.validTo), serial: cert!.serialNumber };
}
