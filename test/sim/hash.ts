// A tiny 32-bit mixing hash (FNV-1a style over whole numbers). It fingerprints traces and
// application states cheaply; collisions only weaken a check, they never fail a correct run.

export const hashSeed = 0x811c9dc5;

/** Folds one 32-bit-ish number into a running hash. */
export function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x & 0xffff), 0x01000193);
  h = Math.imul(h ^ (x >>> 16) ^ Math.floor(x / 2 ** 32), 0x01000193);
  return h >>> 0;
}

/** Hash of a byte string, for entry data that is not one of our payload encodings. */
export function hashBytes(data: Uint8Array): number {
  let h = hashSeed;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}
