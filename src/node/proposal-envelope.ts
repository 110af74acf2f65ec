// The bytes of a Raft log entry that carries a ledger command:
//
//   [version 1B = 1][proposer epoch 4B BE][proposal number 8B BE][encoded ledger.core.v1.Command]
//
// The header lets the node that proposed an entry find the caller waiting for it when the
// entry is applied (every replica applies it; only the proposer answers). The epoch is drawn at
// process start, so numbers from an earlier run of the same node never match a new waiter. The
// command stays opaque bytes: the proposer does not re-encode what the gateway encoded.
// An empty entry is the no-op a new leader appends; it carries no command.

const version = 1;
export const envelopeHeaderBytes = 13;

export interface ProposalTag {
  epoch: number; // u32, non-zero
  number: number; // safe integer
}

export function encodeProposal(tag: ProposalTag, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(envelopeHeaderBytes + command.length);
  const view = new DataView(out.buffer);
  out[0] = version;
  view.setUint32(1, tag.epoch);
  view.setBigUint64(5, BigInt(tag.number));
  out.set(command, envelopeHeaderBytes);
  return out;
}

export type DecodedEntry = { kind: "noop" } | { kind: "command"; tag: ProposalTag; command: Uint8Array } | { kind: "invalid"; why: string };

export function decodeEntryData(data: Uint8Array): DecodedEntry {
  if (data.length === 0) return { kind: "noop" };
  if (data.length < envelopeHeaderBytes) return { kind: "invalid", why: `entry of ${data.length} bytes is shorter than the ${envelopeHeaderBytes}-byte header` };
  if (data[0] !== version) return { kind: "invalid", why: `unknown entry format version ${data[0]}` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = { epoch: view.getUint32(1), number: Number(view.getBigUint64(5)) };
  return { kind: "command", tag, command: data.subarray(envelopeHeaderBytes) };
}
