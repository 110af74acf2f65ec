// Public API calls with raw request bytes, as any client could put them on the wire (for
// requests our own client would refuse to encode, e.g. strings that are not valid UTF-8).

import { Metadata, type Client, type ServiceError } from "@grpc/grpc-js";

/** One LedgerService unary call carrying `bytes` as the request; `decode` reads the reply. */
export function rawLedgerCall<T>(
  client: Client,
  method: string,
  bytes: Uint8Array,
  decode: (b: Buffer) => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/ledger.v1.LedgerService/${method}`,
      (b: Buffer) => b,
      decode,
      Buffer.from(bytes),
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (e: ServiceError | null, value?: T) => (e ? reject(e) : resolve(value!)),
    );
  });
}

/** `bytes` with every occurrence of `marker` (ASCII) overwritten by 0xff bytes: same length, invalid UTF-8. */
export function corruptUtf8(bytes: Uint8Array, marker: string): Uint8Array {
  const out = Buffer.from(bytes);
  let at = out.indexOf(marker, 0, "latin1");
  if (at < 0) throw new Error("marker not found");
  for (; at >= 0; at = out.indexOf(marker, at, "latin1")) out.fill(0xff, at, at + marker.length);
  return Uint8Array.from(out);
}
