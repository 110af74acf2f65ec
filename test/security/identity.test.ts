// Principals named by certificates: the subject format every issued certificate carries, and
// refusal of subjects that name no principal of ours.

import { describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { createCa, issueCertificate } from "../../src/security/cert-issue.js";
import {
  identityOfCertificate,
  identityOfSubjectText,
  principalNameProblem,
  subjectFor,
} from "../../src/security/identity.js";

describe("principal identities", () => {
  it("round-trip through an issued certificate's subject", async () => {
    const ca = await createCa({ commonName: "test", validDays: 1 });
    for (const identity of [
      { role: "node", name: "node01" },
      { role: "gateway", name: "gw-eu.1" },
      { role: "admin", name: "alice" },
    ] as const) {
      const pair = await issueCertificate(ca, { identity, validDays: 1 });
      expect(identityOfSubjectText(new X509Certificate(pair.certPem).subject)).toEqual(identity);
    }
  });

  it.each([
    ["another organisation", { CN: "node01", OU: "node", O: "acme" }],
    ["no organisation", { CN: "node01", OU: "node" }],
    ["an unknown role", { CN: "node01", OU: "root", O: "ledger-cluster" }],
    ["two names", { CN: ["node01", "node02"], OU: "node", O: "ledger-cluster" }],
    ["two roles", { CN: "node01", OU: ["node", "admin"], O: "ledger-cluster" }],
    ["a name with a slash", { CN: "../node01", OU: "node", O: "ledger-cluster" }],
    ["an empty name", { CN: "", OU: "node", O: "ledger-cluster" }],
  ])("name no principal for a subject with %s", (_what, subject) => {
    expect(identityOfCertificate({ subject: subject as never })).toBeUndefined();
  });

  it("names the subject a principal certificate gets", () => {
    expect(subjectFor({ role: "node", name: "node07" })).toBe("CN=node07, OU=node, O=ledger-cluster");
  });

  it("takes names that fit a file name and a log line only", () => {
    expect(principalNameProblem("node01")).toBeUndefined();
    expect(principalNameProblem("a".repeat(64))).toMatch(/1-63/);
    expect(principalNameProblem("node 01")).toMatch(/letters, digits/);
    expect(principalNameProblem(".hidden")).toMatch(/starting with a letter or digit/);
  });
});
