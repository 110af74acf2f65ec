// The entry format a node proposes: header (version, proposer epoch, proposal number) + the
// command bytes, which must travel untouched.

import { describe, expect, it } from "vitest";
import { decodeEntryData, encodeProposal, envelopeHeaderBytes } from "../../src/node/proposal-envelope.js";

describe("proposal envelope", () => {
  it("round trips the tag and the command bytes", () => {
    const command = new Uint8Array([1, 2, 3, 250, 0, 7]);
    const tag = { epoch: 0xfedc_ba98, number: Number.MAX_SAFE_INTEGER };
    const decoded = decodeEntryData(encodeProposal(tag, command));
    expect(decoded.kind).toBe("command");
    if (decoded.kind !== "command") return;
    expect(decoded.tag).toEqual(tag);
    expect([...decoded.command]).toEqual([...command]);
  });

  it("puts the header in front: version 1, epoch and number big-endian", () => {
    const bytes = encodeProposal({ epoch: 0x01020304, number: 0x0506 }, new Uint8Array([9]));
    expect(bytes.length).toBe(envelopeHeaderBytes + 1);
    expect([...bytes]).toEqual([1, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 5, 6, 9]);
  });

  it("decodes an empty entry (a new leader's no-op) as noop", () => {
    expect(decodeEntryData(new Uint8Array(0))).toEqual({ kind: "noop" });
  });

  it("decodes a command of zero bytes after a full header as a command, not a noop", () => {
    const decoded = decodeEntryData(encodeProposal({ epoch: 1, number: 1 }, new Uint8Array(0)));
    expect(decoded.kind).toBe("command");
  });

  it("reports data shorter than the header as invalid", () => {
    for (let n = 1; n < envelopeHeaderBytes; n++) {
      const decoded = decodeEntryData(new Uint8Array(n).fill(1));
      expect(decoded.kind, `${n} bytes`).toBe("invalid");
      if (decoded.kind === "invalid") expect(decoded.why).toContain(`${n} bytes`);
    }
  });

  it("reports an unknown format version as invalid", () => {
    const bytes = encodeProposal({ epoch: 1, number: 1 }, new Uint8Array([1, 2]));
    for (const v of [0, 3, 255]) {
      bytes[0] = v;
      const decoded = decodeEntryData(bytes);
      expect(decoded.kind).toBe("invalid");
      if (decoded.kind === "invalid") expect(decoded.why).toContain(`version ${v}`);
    }
  });

  it("does not change the caller's command bytes when encoding", () => {
    const command = new Uint8Array([5, 4, 3, 2, 1]);
    const copy = Uint8Array.from(command);
    encodeProposal({ epoch: 42, number: 7 }, command);
    expect(command).toEqual(copy);
  });

  it("decodes the command as a view over the entry, without copying", () => {
    const entry = encodeProposal({ epoch: 42, number: 7 }, new Uint8Array([10, 20, 30]));
    const decoded = decodeEntryData(entry);
    if (decoded.kind !== "command") throw new Error(`expected a command, got ${decoded.kind}`);
    expect(decoded.command.buffer).toBe(entry.buffer);
    expect(decoded.command.byteOffset).toBe(entry.byteOffset + envelopeHeaderBytes);
    expect([...decoded.command]).toEqual([10, 20, 30]);
  });

  it("decodes an entry that sits at an offset inside a larger buffer", () => {
    const entry = encodeProposal({ epoch: 3, number: 99 }, new Uint8Array([8, 8]));
    const big = new Uint8Array(entry.length + 5);
    big.set(entry, 5);
    const decoded = decodeEntryData(big.subarray(5));
    expect(decoded).toEqual({ kind: "command", tag: { epoch: 3, number: 99 }, command: new Uint8Array([8, 8]) });
  });
});
