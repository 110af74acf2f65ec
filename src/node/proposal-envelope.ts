// The bytes of a Raft log entry that carries ledger commands. Two formats share one header:
//
//   version 1, one command:
//     [version 1B = 1][proposer epoch 4B BE][proposal number 8B BE][encoded ledger.core.v1.Command]
//   version 2, a batch applied in order, each command independently:
//     [version 1B = 2][proposer epoch 4B BE][proposal number 8B BE][count 4B BE]
//     then count times: [length 4B BE][encoded ledger.core.v1.Command]
//
// The header lets the node that proposed an entry find the caller waiting for it when the
// entry is applied (every replica applies it; only the proposer answers). The epoch is drawn at
// process start, so numbers from an earlier run of the same node never match a new waiter. The
// commands stay opaque bytes: the proposer does not re-encode what the gateway encoded.
// Version 1 stays readable for ever: logs on disk hold it. An empty entry is the no-op a new
// leader appends; it carries no command.

const singleVersion = 1;
const batchVersion = 2;
export const envelopeHeaderBytes = 13;
/** The batch format's count field, and each command's length prefix. */
const countBytes = 4;
const lengthBytes = 4;

export interface ProposalTag {
  epoch: number; // u32, non-zero
  number: number; // safe integer
}

function writeHeader(out: Uint8Array, view: DataView, version: number, tag: ProposalTag): void {
  out[0] = version;
  view.setUint32(1, tag.epoch);
  view.setBigUint64(5, BigInt(tag.number));
}

export function encodeProposal(tag: ProposalTag, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(envelopeHeaderBytes + command.length);
  writeHeader(out, new DataView(out.buffer), singleVersion, tag);
  out.set(command, envelopeHeaderBytes);
  return out;
}

/** The size of the batch entry `encodeBatchProposal` would build, without building it. */
export function batchProposalBytes(commands: readonly Uint8Array[]): number {
  let bytes = envelopeHeaderBytes + countBytes;
  for (const c of commands) bytes += lengthBytes + c.length;
  return bytes;
}

export function encodeBatchProposal(tag: ProposalTag, commands: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(batchProposalBytes(commands));
  const view = new DataView(out.buffer);
  writeHeader(out, view, batchVersion, tag);
  view.setUint32(envelopeHeaderBytes, commands.length);
  let at = envelopeHeaderBytes + countBytes;
  for (const c of commands) {
    view.setUint32(at, c.length);
    out.set(c, at + lengthBytes);
    at += lengthBytes + c.length;
  }
  return out;
}

export type DecodedEntry =
  | { kind: "noop" }
  | { kind: "command"; tag: ProposalTag; command: Uint8Array }
  | { kind: "batch"; tag: ProposalTag; commands: Uint8Array[] }
  | { kind: "invalid"; why: string };

/** Decodes an entry; the commands are views over `data` (no copy). Never throws. */
export function decodeEntryData(data: Uint8Array): DecodedEntry {
  if (data.length === 0) return { kind: "noop" };
  if (data.length < envelopeHeaderBytes)
    return {
      kind: "invalid",
      why: `entry of ${data.length} bytes is shorter than the ${envelopeHeaderBytes}-byte header`,
    };
  const version = data[0];
  if (version !== singleVersion && version !== batchVersion)
    return { kind: "invalid", why: `unknown entry format version ${version}` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = { epoch: view.getUint32(1), number: Number(view.getBigUint64(5)) };
  if (version === singleVersion) return { kind: "command", tag, command: data.subarray(envelopeHeaderBytes) };
  return decodeBatch(data, view, tag);
}

function decodeBatch(data: Uint8Array, view: DataView, tag: ProposalTag): DecodedEntry {
  if (data.length < envelopeHeaderBytes + countBytes) {
    return {
      kind: "invalid",
      why: `batch entry of ${data.length} bytes is shorter than its ${envelopeHeaderBytes + countBytes}-byte header`,
    };
  }
  const count = view.getUint32(envelopeHeaderBytes);
  // Every command costs at least its length prefix: a count that cannot fit is corrupt, and is
  // refused before anything is allocated for it.
  if (count === 0 || count > (data.length - envelopeHeaderBytes - countBytes) / lengthBytes) {
    return {
      kind: "invalid",
      why: `batch entry of ${data.length} bytes cannot hold the ${count} commands it announces`,
    };
  }
  const commands: Uint8Array[] = new Array<Uint8Array>(count);
  let at = envelopeHeaderBytes + countBytes;
  for (let i = 0; i < count; i++) {
    if (at + lengthBytes > data.length)
      return { kind: "invalid", why: `batch entry ends inside the length of command ${i} of ${count}` };
    const length = view.getUint32(at);
    at += lengthBytes;
    if (length > data.length - at)
      return {
        kind: "invalid",
        why: `batch entry's command ${i} of ${count} announces ${length} bytes; ${data.length - at} remain`,
      };
    commands[i] = data.subarray(at, at + length);
    at += length;
  }
  if (at !== data.length)
    return { kind: "invalid", why: `batch entry has ${data.length - at} bytes after its ${count} commands` };
  return { kind: "batch", tag, commands };
}
