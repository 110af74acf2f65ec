// Who a certificate says its holder is. Every certificate the cluster CA issues names one
// principal in its subject: the role in OU (node, gateway or admin), the name in CN (a node id,
// a gateway's name, an operator's name), and O = ledger-cluster. A receiver takes the sender's
// identity from the verified certificate of the TLS connection, never from a field of a message.

import type { PeerCertificate } from "node:tls";

export const certRoles = ["node", "gateway", "admin"] as const;
/** node: a cluster node (Raft traffic, forwarded proposals); gateway: a gateway's calls to the
 * nodes; admin: an operator's tools (dev status, admin calls) talking to the nodes directly. */
export type CertRole = (typeof certRoles)[number];

export interface PeerIdentity {
  role: CertRole;
  name: string;
}

/** The organisation every principal certificate carries: a certificate of another O (say, a
 * public server certificate from the same CA bundle) names no principal of ours. */
export const certOrganization = "ledger-cluster";

/** Names are ids of nodes and gateways: short, and safe in a file name and a log line. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function isCertRole(text: string): text is CertRole {
  return (certRoles as readonly string[]).includes(text);
}

/** Why `name` cannot name a principal, or undefined when it can. */
export function principalNameProblem(name: string): string | undefined {
  if (!namePattern.test(name)) return "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";
  return undefined;
}

export function describeIdentity(id: PeerIdentity): string {
  return `${id.role} ${id.name}`;
}

/** The X.500 subject for a principal's certificate. */
export function subjectFor(id: PeerIdentity): string {
  return `CN=${id.name}, OU=${id.role}, O=${certOrganization}`;
}

/** One value of a subject attribute; several (or none) name no principal. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * The principal a peer certificate names, or undefined when it names none of ours (another
 * organisation, an unknown role, a malformed name). Node's PeerCertificate gives the subject as
 * an object of attributes; a repeated attribute comes as an array and is refused.
 */
export function identityOfCertificate(cert: Pick<PeerCertificate, "subject"> | undefined): PeerIdentity | undefined {
  const subject = cert?.subject;
  if (subject === undefined) return undefined;
  const org = single(subject.O);
  const role = single(subject.OU);
  const name = single(subject.CN);
  if (org !== certOrganization || role === undefined || name === undefined) return undefined;
  if (!isCertRole(role) || principalNameProblem(name) !== undefined) return undefined;
  return { role, name };
}

/** Parses the subject string of node:crypto's X509Certificate ("CN=a\nOU=node\nO=x") the same way. */
export function identityOfSubjectText(subject: string): PeerIdentity | undefined {
  const attributes: Record<string, string | string[]> = {};
  for (const line of subject.split("\n")) {
    const eq = line.indexOf("=");
    if (eq <= 0) return undefined;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const prior = attributes[key];
    attributes[key] = prior === undefined ? value : ([] as string[]).concat(prior, value);
  }
  return identityOfCertificate({ subject: attributes as unknown as PeerCertificate["subject"] });
}
