// The relations the security and peer-input limits promise each other (src/security/limits.ts,
// src/raft/limits.ts, src/ledger/limits.ts).

import { describe, expect, it } from "vitest";
import { quotedInputCharsMax } from "../../src/base/limits.js";
import { gatewayDeadlineDefaultMs, gatewayDeadlineMsMax } from "../../src/gateway/limits.js";
import { commandTimestampAheadMsMax, commandTimestampBehindMsMax } from "../../src/ledger/limits.js";
import { raftTermJumpMax, raftTermMax } from "../../src/raft/limits.js";
import { apiKeysReloadPollMs, authorizationValueCharsMax, certReloadPollMs } from "../../src/security/limits.js";
import { newApiKey } from "../../src/security/api-keys.js";

describe("security limits", () => {
  it("revoke a key within a second with room to spare, and pick up a rotated certificate within one", () => {
    expect(apiKeysReloadPollMs * 4).toBeLessThanOrEqual(1_000);
    expect(certReloadPollMs).toBeLessThanOrEqual(1_000);
  });

  it("let the gateway retry a call for its whole capped deadline without its command going stale on the nodes", () => {
    expect(gatewayDeadlineDefaultMs).toBeLessThanOrEqual(gatewayDeadlineMsMax);
    // Skew may run either way; the command's age at the node is at most the retry time plus it.
    expect(gatewayDeadlineMsMax + commandTimestampAheadMsMax).toBeLessThan(commandTimestampBehindMsMax);
  });

  it("keep every accepted term, and one jump past it, a safe integer", () => {
    expect(raftTermMax + raftTermJumpMax).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(raftTermJumpMax).toBeGreaterThan(0);
  });

  it("keep a few quoted inputs in one error far below the 8 KiB of trailers a client takes", () => {
    // JSON escaping makes a character at most 6 (\u0001), plus quotes and the "... (N more)" note.
    expect(4 * (quotedInputCharsMax * 6 + 40)).toBeLessThan(8 * 1024 - 1024);
  });

  it("take a real authorization value: 'Bearer ' and a key", async () => {
    const { token } = await newApiKey("read", "limits");
    expect(`Bearer ${token}`.length).toBeLessThanOrEqual(authorizationValueCharsMax);
  });
});
