// Byte accounting for flow control: the payload of an entry is what costs memory and bandwidth,
// so every byte limit (append size, inflight bytes, uncommitted tail) counts data bytes only.

import type { Entry } from "./types.js";

export function entriesPayloadBytes(ents: readonly Entry[]): number {
  let bytes = 0;
  for (const e of ents) bytes += e.data.byteLength;
  return bytes;
}

/**
 * Keeps the longest prefix of `ents` whose payload fits in `maxBytes`, but always at least one
 * entry so that a single large entry still makes progress. Returns `ents` itself when all fit
 * (no copy on the common path), else a shorter copy: the input may belong to Storage.
 */
export function limitEntriesBytes(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length <= 1) return ents;
  let bytes = ents[0]?.data.byteLength ?? 0;
  let n = 1;
  while (n < ents.length) {
    bytes += ents[n]?.data.byteLength ?? 0;
    if (bytes > maxBytes) break;
    n++;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}
