// A small, fast, seeded PRNG (sfc32) so that everything random in the pure cores (election
// jitter) and in simulations is reproducible from one seed. Never Math.random in src/raft.

export interface Prng {
  /** Uniform integer in [0, 2^32). */
  nextU32(): number;
  /** Uniform integer in [0, n) for 0 < n <= 2^32. */
  intBelow(n: number): number;
  /** Uniform float in [0, 1). */
  float(): number;
}

export function seededPrng(seed: number): Prng {
  // Spread the seed over the state with splitmix32 so that nearby seeds diverge at once.
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const nextU32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) nextU32();
  return {
    nextU32,
    intBelow(n: number): number {
      if (!(n > 0 && n <= 2 ** 32)) throw new RangeError(`intBelow: n out of range: ${n}`);
      return Math.floor((nextU32() / 2 ** 32) * n);
    },
    float(): number {
      return nextU32() / 2 ** 32;
    },
  };
}
