// Limits of transport security and API keys: certificate validity and reloads, key hashing
// cost, and the bounds that keep a flood of made-up keys cheap. Units last in every name.

import { assert } from "../base/assert.js";
/** Certificates start being valid this long before they are made, so a peer whose clock is a
 * little behind the issuer's does not refuse a fresh one (Kerberos allows the same skew). */
export const certClockSkewMs = 5 * 60_000;
/** How often a process looks at its certificate, key and CA files for a rotation: a stat of
 * three files, cheap; a rotated certificate is in use for new connections within this long. */
export const certReloadPollMs = 1_000;
/** A process logs a warning at start and at each reload when its certificate expires sooner. */
export const certExpiryWarningDays = 30;
/** Validity of what `dev secrets init` and `dev certs issue` make: a development CA outlives
 * the clusters it is used for; principal certificates are meant to be rotated yearly. */
export const devCaValidDays = 3_650;
export const devCertValidDaysDefault = 365;
export const devCertValidDaysMax = 3_650;
/** A PEM file (certificate chain, key or CA bundle) larger than this is not one. */
export const tlsFileBytesMax = 1024 * 1024;
/** How often the gateway looks at the API keys file: a revoked key is refused within this plus
 * the time to read the file, well inside the second the issue promises. */
export const apiKeysReloadPollMs = 250;
/** scrypt cost of a stored API key hash: N=2^12, r=8 (4 MiB, ~8 ms here). A key's secret is
 * 256 random bits, so no hash cost makes guessing it from a leaked keys file any harder than it
 * already is; scrypt is defense in depth, and a low cost keeps a flood of made-up secrets cheap
 * (each unverified presentation costs one). Paid once per key and process, after which a
 * verified key is held as a SHA-256 digest. Stored per key, so older keys keep their cost. */
export const apiKeyScryptN = 4_096;
export const apiKeyScryptR = 8;
export const apiKeyScryptP = 1;
export const apiKeyHashBytes = 32;
export const apiKeySaltBytes = 16;
/** scrypt runs on the libuv pool (4 threads): bounding concurrent verifications keeps a flood
 * of made-up keys from starving LevelDB and file I/O of that pool. */
export const apiKeyVerificationsInFlightMax = 2;
/** Wrong secrets presented for one key id within apiKeyWrongSecretsWindowMs before that id is
 * refused without a scrypt until the window ends: whoever knows a key id (ids are not secret:
 * logs and errors name them) can otherwise make the gateway run a scrypt per made-up secret
 * and keep every key not yet verified waiting behind them. A verified key keeps working. */
export const apiKeyWrongSecretsMax = 8;
export const apiKeyWrongSecretsWindowMs = 60_000;
/** Digests of presented keys that failed verification, remembered so a client that keeps
 * sending the same wrong key costs one scrypt, not one per call. */
export const apiKeyRejectedCacheEntriesMax = 1_024;
/** Keys one keys file may hold (revoked ones included), and its size: bounds what a reload
 * parses; thousands of keys are far beyond a ledger's callers. */
export const apiKeysMax = 10_000;
export const apiKeysFileBytesMax = 4 * 1024 * 1024;
/** The `authorization` value is "Bearer " and a key of ~70 characters; longer is not one of ours. */
export const authorizationValueCharsMax = 256;

// Relations the values above must keep, checked when the module loads.
assert(Number.isInteger(Math.log2(apiKeyScryptN)), "scrypt's N is a power of two");
assert(devCertValidDaysDefault <= devCertValidDaysMax, "the default validity is an allowed one");
assert(devCertValidDaysMax <= devCaValidDays, "no certificate outlives its CA");
