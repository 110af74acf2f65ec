// Making certificates: the cluster CA and the principal certificates it issues (nodes,
// gateways, operators). ECDSA P-256 keys (fast to make and to handshake with) through
// node:crypto's WebCrypto; the X.509 encoding is @peculiar/x509's, never hand-written ASN.1.
// Used by the dev CLI (`dev secrets init`, `dev certs issue`) and by tests.

import "reflect-metadata"; // @peculiar/x509's dependency injection (tsyringe) needs it loaded first
import * as x509 from "@peculiar/x509";
import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import { certClockSkewMs } from "./limits.js";
import { subjectFor, type PeerIdentity } from "./identity.js";

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const dayMs = 86_400_000;

/** A certificate and its private key, both PEM. */
export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface ValidityOptions {
  validDays: number;
  /** Start of validity (default: now, less certClockSkewMs so a peer whose clock is slightly
   * behind does not refuse a fresh certificate). */
  notBefore?: Date;
}

function validity(o: ValidityOptions): { notBefore: Date; notAfter: Date } {
  const notBefore = o.notBefore ?? new Date(Date.now() - certClockSkewMs);
  return { notBefore, notAfter: new Date(notBefore.getTime() + o.validDays * dayMs) };
}

/** A positive 128-bit serial: unique without a registry. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString("hex");
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** A self-signed CA that may sign principal certificates only (path length 0). */
export async function createCa(options: ValidityOptions & { commonName: string }): Promise<PemPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${options.commonName}, O=ledger-cluster`,
    ...validity(options),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

export interface IssueOptions extends ValidityOptions {
  identity: PeerIdentity;
  /** Host names and addresses clients may dial this principal by (standard hostname checks:
   * the public API's clients). Cluster peers check the subject's identity instead. */
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
}

/** A principal's certificate and key, signed by `ca`; good for TLS servers and clients both. */
export async function issueCertificate(ca: PemPair, options: IssueOptions): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caDer = createPrivateKey(ca.keyPem).export({ type: "pkcs8", format: "der" });
  const caKey = await webcrypto.subtle.importKey("pkcs8", caDer, algorithm, false, ["sign"]);
  const keys = await newKeys();
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectFor(options.identity),
    issuer: caCert.subject,
    ...validity(options),
    signingKey: caKey as CryptoKey,
    publicKey: keys.publicKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}
