// Bounds of the protobuf 64-bit integer types. Money and counters are `bigint`, which never
// overflows by itself, so every value headed for an int64/uint64 field is range-checked here
// instead of wrapping silently on encode.

export const int64Min = -(1n << 63n);
export const int64Max = (1n << 63n) - 1n;
export const uint64Max = (1n << 64n) - 1n;

export function isInt64(value: bigint): boolean {
  return value >= int64Min && value <= int64Max;
}

export function isUint64(value: bigint): boolean {
  return value >= 0n && value <= uint64Max;
}
