// The entry format a node proposes: header (version, proposer epoch, proposal number) + the
// command bytes, which must travel untouched. A batch (version 2): header, count,
// length-prefixed commands. A batch round trips exactly; every corrupt or short batch decodes as
// "invalid" (never throws, never yields a partial batch), and version 1 entries still decode as
// before.

import { describe, expect, it } from "vitest";
import {
  batchProposalBytes,
  decodeEntryData,
  encodeBatchProposal,
  encodeProposal,
  envelopeHeaderBytes,
} from "../../src/node/proposal-envelope.js";

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

describe("batch proposal envelope", () => {
  const tag = { epoch: 0xfedc_ba98, number: 2 ** 40 + 7 };
  const commands = [
    new Uint8Array([1, 2, 3]),
    new Uint8Array(0),
    new Uint8Array([250, 0, 7, 9]),
    new Uint8Array(300).fill(5),
  ];

  function invalidWhy(data: Uint8Array): string {
    const decoded = decodeEntryData(data);
    if (decoded.kind !== "invalid") throw new Error(`expected invalid, got ${decoded.kind}`);
    return decoded.why;
  }

  it("round trips the tag and every command's bytes, in order", () => {
    const decoded = decodeEntryData(encodeBatchProposal(tag, commands));
    expect(decoded.kind).toBe("batch");
    if (decoded.kind !== "batch") return;
    expect(decoded.tag).toEqual(tag);
    expect(decoded.commands.map((c) => [...c])).toEqual(commands.map((c) => [...c]));
  });

  it("lays out version 2, epoch, number, count and each command's length big-endian", () => {
    const bytes = encodeBatchProposal({ epoch: 0x01020304, number: 0x0506 }, [
      new Uint8Array([9]),
      new Uint8Array([8, 7]),
    ]);
    expect([...bytes]).toEqual([2, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 5, 6, 0, 0, 0, 2, 0, 0, 0, 1, 9, 0, 0, 0, 2, 8, 7]);
    expect(bytes.length).toBe(batchProposalBytes([new Uint8Array([9]), new Uint8Array([8, 7])]));
  });

  it("decodes commands as views over the entry, also when the entry sits inside a larger buffer", () => {
    const entry = encodeBatchProposal(tag, commands);
    const big = new Uint8Array(entry.length + 11);
    big.set(entry, 11);
    const decoded = decodeEntryData(big.subarray(11));
    if (decoded.kind !== "batch") throw new Error(`expected a batch, got ${decoded.kind}`);
    for (const c of decoded.commands) expect(c.buffer).toBe(big.buffer);
    expect(decoded.commands.map((c) => [...c])).toEqual(commands.map((c) => [...c]));
  });

  it("still decodes a version 1 entry as one command", () => {
    const decoded = decodeEntryData(encodeProposal(tag, new Uint8Array([4, 5])));
    expect(decoded).toEqual({ kind: "command", tag, command: new Uint8Array([4, 5]) });
  });

  it("reports every truncation of a batch as invalid", () => {
    const entry = encodeBatchProposal(tag, commands);
    for (let n = envelopeHeaderBytes; n < entry.length; n++) {
      expect(decodeEntryData(entry.subarray(0, n)).kind, `${n} of ${entry.length} bytes`).toBe("invalid");
    }
  });

  it("reports trailing bytes after the last command as invalid", () => {
    const entry = encodeBatchProposal(tag, commands);
    const longer = new Uint8Array(entry.length + 3);
    longer.set(entry);
    expect(invalidWhy(longer)).toContain("3 bytes after");
  });

  it("reports a count of zero, or one the entry cannot hold, as invalid without allocating for it", () => {
    const entry = encodeBatchProposal(tag, [new Uint8Array([1])]);
    const view = new DataView(entry.buffer);
    view.setUint32(envelopeHeaderBytes, 0);
    expect(invalidWhy(entry)).toContain("0 commands");
    view.setUint32(envelopeHeaderBytes, 0xffff_ffff);
    expect(invalidWhy(entry)).toContain(`${0xffff_ffff} commands`);
  });

  it("reports a command length that runs past the end as invalid", () => {
    const entry = encodeBatchProposal(tag, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    new DataView(entry.buffer).setUint32(envelopeHeaderBytes + 4, 1_000);
    expect(invalidWhy(entry)).toContain("command 0 of 2 announces 1000 bytes");
  });

  it("decodes random corruptions of a batch as invalid or as a well-formed batch, never throwing", () => {
    const entry = encodeBatchProposal(tag, commands);
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let round = 0; round < 2_000; round++) {
      const copy = Uint8Array.from(entry);
      const at = envelopeHeaderBytes + (next() % (copy.length - envelopeHeaderBytes));
      copy[at] = next() & 0xff;
      const input = copy.subarray(0, copy.length - (next() % 3));
      const decoded = decodeEntryData(input);
      if (decoded.kind === "batch") {
        // Accepted only if the commands and their prefixes account for every byte.
        expect(decoded.commands.reduce((sum, c) => sum + 4 + c.length, envelopeHeaderBytes + 4)).toBe(input.length);
      } else {
        expect(decoded.kind).toBe("invalid");
      }
    }
  });
});
