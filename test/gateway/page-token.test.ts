// Page tokens: round trip, and strict rejection of anything this service did not issue for
// the account being listed.

import { describe, expect, it } from "vitest";
import { decodePageToken, encodePageToken } from "../../src/gateway/page-token.js";
import type { LedgerError } from "../../src/base/errors.js";

const account = 0x0123456789abcdefn;
const base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function rejection(token: string, accountId = account): LedgerError | undefined {
  try {
    decodePageToken(token, accountId);
    return undefined;
  } catch (e) {
    return e as LedgerError;
  }
}

describe("page tokens", () => {
  it("round-trip the position for the account they were issued for", () => {
    for (const afterSeq of [1n, 100n, (1n << 64n) - 1n]) {
      expect(decodePageToken(encodePageToken({ accountId: account, afterSeq }), account)).toBe(afterSeq);
    }
  });

  it("treat the empty token as the first page", () => {
    expect(decodePageToken("", account)).toBe(0n);
  });

  it("are opaque URL-safe text", () => {
    expect(encodePageToken({ accountId: account, afterSeq: 7n })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("reject a token issued for another account, naming page_token", () => {
    const e = rejection(encodePageToken({ accountId: account, afterSeq: 5n }), account + 1n);
    expect(e?.code).toBe("INVALID_ARGUMENT");
    expect(e?.message).toMatch(/^page_token .*another account/);
  });

  it("reject every single-character change of a valid token", () => {
    const token = encodePageToken({ accountId: account, afterSeq: 42n });
    let changes = 0;
    for (let i = 0; i < token.length; i++) {
      for (const c of base64url) {
        if (c === token[i]) continue;
        const e = rejection(token.slice(0, i) + c + token.slice(i + 1));
        expect(e?.code, `change at ${i} to ${c}`).toBe("INVALID_ARGUMENT");
        changes++;
      }
    }
    expect(changes).toBe(token.length * 63);
  });

  it.each(["=", "A", "AAAA", "not a token", "%%%%%%%%%%%%%%%%%%%%%%%%%%%%"])("reject malformed %j", (token) => {
    expect(rejection(token)?.message).toMatch(/^page_token /);
  });

  it("reject a token with padding, truncation or extra characters", () => {
    const token = encodePageToken({ accountId: account, afterSeq: 3n });
    for (const bad of [`${token}=`, token.slice(0, -1), `${token}A`, ` ${token}`]) {
      expect(rejection(bad)?.code).toBe("INVALID_ARGUMENT");
    }
  });
});
