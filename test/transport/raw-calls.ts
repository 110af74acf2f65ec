// gRPC calls that put raw bytes on the wire, as any client could (for requests our own code
// would never encode), and settle with the call's status instead of throwing: unary, client
// streaming and bidi. Also the raw forms test requests are made of.

import { type Client, Metadata, type ServiceError } from "@grpc/grpc-js";

export interface RawOutcome {
  /** gRPC status code (0: OK). */
  code: number;
  details: string;
  responses: Buffer[];
}

const deadlineMs = 20_000;
const identity = (b: Buffer): Buffer => b;

export function rawUnary(client: Client, path: string, bytes: Uint8Array): Promise<RawOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      Buffer.from(bytes),
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (e: ServiceError | null, value?: Buffer) =>
        resolve(
          e ? { code: e.code, details: e.details, responses: [] } : { code: 0, details: "", responses: [value!] },
        ),
    );
  });
}

/** A server-streaming call with one request; settles with the status. */
export function rawServerStream(client: Client, path: string, bytes: Uint8Array): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const responses: Buffer[] = [];
    const call = client.makeServerStreamRequest(path, identity, identity, Buffer.from(bytes), new Metadata(), {
      deadline: Date.now() + deadlineMs,
    });
    call.on("data", (b: Buffer) => responses.push(b));
    call.on("error", () => undefined); // the status below carries it
    call.on("status", (s: { code: number; details: string }) =>
      resolve({ code: s.code, details: s.details, responses }),
    );
  });
}

/** A client-streaming call: every message written, then the end of the stream. */
export function rawClientStream(client: Client, path: string, messages: Uint8Array[]): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(
      path,
      identity,
      identity,
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (e: ServiceError | null, value?: Buffer) =>
        resolve(
          e ? { code: e.code, details: e.details, responses: [] } : { code: 0, details: "", responses: [value!] },
        ),
    );
    for (const m of messages) call.write(Buffer.from(m));
    call.end();
  });
}

/** A bidi call: every message written, then the end of the stream; settles with the status. */
export function rawBidi(client: Client, path: string, messages: Uint8Array[]): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const responses: Buffer[] = [];
    const call = client.makeBidiStreamRequest(path, identity, identity, new Metadata(), {
      deadline: Date.now() + deadlineMs,
    });
    call.on("data", (b: Buffer) => responses.push(b));
    call.on("error", () => undefined); // the status below carries it
    call.on("status", (s: { code: number; details: string }) =>
      resolve({ code: s.code, details: s.details, responses }),
    );
    for (const m of messages) call.write(Buffer.from(m));
    call.end();
  });
}

/** Three bytes that are no protobuf message: a varint tag that never ends. */
export const junkBytes = Uint8Array.from([0xff, 0xff, 0xff]);

/** `count` start-group tags of field `fieldNo` in a row: groups nested `count` deep. */
export function startGroupRun(fieldNo: number, count: number): Uint8Array {
  const tag: number[] = [];
  for (let v = (fieldNo << 3) | 3; ; v >>>= 7) {
    if (v < 0x80) {
      tag.push(v);
      break;
    }
    tag.push((v & 0x7f) | 0x80);
  }
  const out = new Uint8Array(tag.length * count);
  for (let i = 0; i < count; i++) out.set(tag, i * tag.length);
  return out;
}
