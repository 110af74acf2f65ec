// The simulator's wire formats: client payloads and read contexts are unique positive integers
// encoded in 4 little-endian bytes (small entries keep the simulation fast), the leader's empty
// entry is payload 0, and the application state travels in snapshots as 12 bytes.

import type { ConfChange } from "../../src/raft/conf-change.js";
import type { ConfState } from "../../src/raft/types.js";
import { mix } from "./hash.js";
import { SafetyViolation } from "./violation.js";

/** Payload id of an entry without data (the empty entry a new leader appends). */
export const noopPayload = 0;

export function encodeId(id: number): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = id & 0xff;
  b[1] = (id >>> 8) & 0xff;
  b[2] = (id >>> 16) & 0xff;
  b[3] = (id >>> 24) & 0xff;
  return b;
}

export function decodeId(b: Uint8Array): number {
  if (b.length === 0) return noopPayload;
  if (b.length !== 4) throw new SafetyViolation("entry-data", `an entry carries ${b.length} bytes nobody proposed`);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** Conf change payloads sit above every client payload: one id per (type, replica), and the
 * simulation never repeats a change (replica ids are never reused). */
const confPayloadBase = 0xf000_0000;

export function confPayload(cc: ConfChange): number {
  return confPayloadBase + cc.type * 0x10000 + cc.replicaId;
}

/** The change a conf payload stands for; undefined for a client payload. */
export function confChangeOfPayload(payload: number): ConfChange | undefined {
  if (payload < confPayloadBase) return undefined;
  const rest = payload - confPayloadBase;
  return { type: Math.floor(rest / 0x10000), replicaId: rest % 0x10000 };
}

/** What a replica's state machine holds: how far it has applied and a hash of everything
 * applied, and the membership as of that index once a conf change or snapshot set it. */
export interface AppState {
  readonly applied: number;
  readonly hash: number;
  readonly conf?: ConfState;
}

export function encodeAppState(s: AppState): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, s.applied % 2 ** 32, true);
  v.setUint32(4, Math.floor(s.applied / 2 ** 32), true);
  v.setUint32(8, s.hash, true);
  return b;
}

export function decodeAppState(b: Uint8Array): AppState {
  if (b.length !== 12)
    throw new SafetyViolation("snapshot-data", `a snapshot carries ${b.length} bytes, not an application state`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { applied: v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32, hash: v.getUint32(8, true) };
}

/** The application state's hash after applying one more entry (the same function everywhere). */
export function nextAppHash(hash: number, term: number, payload: number): number {
  return mix(mix(hash, term), payload);
}
