// API keys: what a client presents (a bearer token in the `authorization` metadata) and what
// the keys file stores about it. A key is `lk_<id>_<secret>`: the id (12 hex characters) is not
// secret and names the key in logs and in `dev keys revoke`; the secret is 32 random bytes. The
// file stores, per key, its id, role, a label, and a salted scrypt hash of the whole key, never
// the key itself. Revoked keys stay in the file (with the time of revocation) for the record.

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { open, rename, stat, unlink } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import {
  apiKeyHashBytes,
  apiKeySaltBytes,
  apiKeyScryptN,
  apiKeyScryptP,
  apiKeyScryptR,
  apiKeysFileBytesMax,
  apiKeysMax,
} from "./limits.js";
import { readBoundedFile } from "./tls-files.js";

export const apiRoles = ["read", "write", "admin"] as const;
/** read: Get and List calls; write: read, plus creates, settle and cancel; admin: write, plus
 * the admin API. Each role includes the ones before it. */
export type ApiRole = (typeof apiRoles)[number];

export function isApiRole(text: string): text is ApiRole {
  return (apiRoles as readonly string[]).includes(text);
}

/** Whether a key of role `has` may make a call that needs `needs`. */
export function roleAllows(has: ApiRole, needs: ApiRole): boolean {
  return apiRoles.indexOf(has) >= apiRoles.indexOf(needs);
}

const keyIdPattern = /^[0-9a-f]{12}$/;
const tokenPattern = /^lk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const labelCharsMax = 100;

export interface ParsedToken {
  id: string;
  token: string;
}

/** The key id of a well-formed key, or undefined. */
export function parseToken(text: string): ParsedToken | undefined {
  const m = tokenPattern.exec(text);
  return m === null ? undefined : { id: m[1]!, token: text };
}

export interface KeyRecord {
  id: string;
  role: ApiRole;
  /** A label for people ("billing service", "alice's laptop"). */
  name: string;
  createdAt: string;
  /** Set once revoked: the key is refused from then on. */
  revokedAt?: string;
  scrypt: { n: number; r: number; p: number; salt: string; hash: string };
}

export interface KeysFile {
  version: 1;
  keys: KeyRecord[];
}

function deriveHash(
  token: string,
  salt: Buffer,
  params: { n: number; r: number; p: number },
  bytes: number,
): Promise<Buffer> {
  // maxmem: scrypt needs 128 * N * r bytes; node's default cap (32 MiB) is just above N=2^14.
  const maxmem = 256 * params.n * params.r;
  return new Promise((resolve, reject) =>
    scrypt(token, salt, bytes, { N: params.n, r: params.r, p: params.p, maxmem }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
}

/** A new key of `role`: the token to hand out once, and the record to store. */
export async function newApiKey(
  role: ApiRole,
  name: string,
  now = new Date(),
): Promise<{ token: string; record: KeyRecord }> {
  const id = randomBytes(6).toString("hex");
  const token = `lk_${id}_${randomBytes(32).toString("base64url")}`;
  const salt = randomBytes(apiKeySaltBytes);
  const params = { n: apiKeyScryptN, r: apiKeyScryptR, p: apiKeyScryptP };
  const hash = await deriveHash(token, salt, params, apiKeyHashBytes);
  return {
    token,
    record: {
      id,
      role,
      name,
      createdAt: now.toISOString(),
      scrypt: { ...params, salt: salt.toString("base64"), hash: hash.toString("base64") },
    },
  };
}

/** Whether `token` is the key `record` was made for; constant time in the hash comparison. */
export async function tokenMatches(record: KeyRecord, token: string): Promise<boolean> {
  const expected = Buffer.from(record.scrypt.hash, "base64");
  const derived = await deriveHash(token, Buffer.from(record.scrypt.salt, "base64"), record.scrypt, expected.length);
  return derived.length === expected.length && timingSafeEqual(derived, expected);
}

// ---- the keys file ----

function fail(path: string, field: string, why: string): never {
  throw new Error(`keys file ${path}: ${field} ${why}`);
}

function str(v: unknown, path: string, field: string, maxChars: number): string {
  if (typeof v !== "string") fail(path, field, "must be a string");
  if (v.length > maxChars) fail(path, field, `is longer than ${maxChars} characters`);
  return v;
}

function isoTime(v: unknown, path: string, field: string): string {
  const s = str(v, path, field, 40);
  if (Number.isNaN(Date.parse(s))) fail(path, field, "must be an ISO 8601 time");
  return s;
}

function int(v: unknown, path: string, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    fail(path, field, `must be an integer from ${min} to ${max}`);
  return v;
}

function base64(v: unknown, path: string, field: string, minBytes: number, maxBytes: number): string {
  const s = str(v, path, field, 200);
  const bytes = Buffer.from(s, "base64");
  if (bytes.toString("base64") !== s || bytes.length < minBytes || bytes.length > maxBytes)
    fail(path, field, `must be ${minBytes}-${maxBytes} bytes in base64`);
  return s;
}

function parseRecord(v: unknown, path: string, at: string): KeyRecord {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, at, "must be an object");
  const o = v as Record<string, unknown>;
  const id = str(o.id, path, `${at}.id`, 12);
  if (!keyIdPattern.test(id)) fail(path, `${at}.id`, "must be 12 lowercase hex characters");
  const role = str(o.role, path, `${at}.role`, 10);
  if (!isApiRole(role)) fail(path, `${at}.role`, `must be one of ${apiRoles.join(", ")}`);
  const s = o.scrypt;
  if (typeof s !== "object" || s === null) fail(path, `${at}.scrypt`, "must be an object");
  const sp = s as Record<string, unknown>;
  // Bounds keep a doctored file from making each verification take minutes or gigabytes.
  const record: KeyRecord = {
    id,
    role,
    name: str(o.name, path, `${at}.name`, labelCharsMax),
    createdAt: isoTime(o.createdAt, path, `${at}.createdAt`),
    scrypt: {
      n: int(sp.n, path, `${at}.scrypt.n`, 1024, 1 << 20),
      r: int(sp.r, path, `${at}.scrypt.r`, 1, 16),
      p: int(sp.p, path, `${at}.scrypt.p`, 1, 4),
      salt: base64(sp.salt, path, `${at}.scrypt.salt`, 8, 64),
      hash: base64(sp.hash, path, `${at}.scrypt.hash`, 16, 64),
    },
  };
  if (o.revokedAt !== undefined) record.revokedAt = isoTime(o.revokedAt, path, `${at}.revokedAt`);
  return record;
}

/** Parses and checks a keys file's text; throws an Error naming the file and the field. */
export function parseKeysFile(text: string, path: string): KeysFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(path, "content", `is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null) fail(path, "content", "must be a JSON object");
  const o = raw as Record<string, unknown>;
  if (o.version !== 1) fail(path, "version", "must be 1");
  if (!Array.isArray(o.keys)) fail(path, "keys", "must be an array");
  if (o.keys.length > apiKeysMax) fail(path, "keys", `has ${o.keys.length} keys, more than ${apiKeysMax}`);
  const keys = o.keys.map((k, i) => parseRecord(k, path, `keys[${i}]`));
  const seen = new Set<string>();
  for (const [i, k] of keys.entries()) {
    if (seen.has(k.id)) fail(path, `keys[${i}].id`, `${k.id} appears twice`);
    seen.add(k.id);
  }
  return { version: 1, keys };
}

export async function readKeysFile(path: string): Promise<KeysFile> {
  return parseKeysFile((await readBoundedFile(path, "keys file", apiKeysFileBytesMax)).toString("utf8"), path);
}

/**
 * Writes the keys file whole and atomically (a temp file in the same directory, synced, then
 * renamed over it), readable by its owner only: a reader never sees half a file.
 */
export async function writeKeysFile(path: string, file: KeysFile): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
}

export async function writeFileAtomically(path: string, content: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

/** A lock file older than this was left by a process that died mid-update. */
const keysFileLockStaleMs = 30_000;
/** How long an update waits for another one to finish. */
const keysFileLockWaitMs = 10_000;

/**
 * Read-modify-write of the keys file under a lock file beside it (created exclusively), so two
 * `dev keys` commands at once cannot lose each other's change. `update` gets the current file
 * (an empty one when there is none) and returns the new one.
 */
export async function updateKeysFile<T>(
  path: string,
  update: (file: KeysFile) => Promise<{ file: KeysFile; result: T }>,
): Promise<T> {
  const lock = `${path}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      await (await open(lock, "wx", 0o600)).close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > keysFileLockStaleMs) await unlink(lock).catch(() => undefined);
      else if (Date.now() - started > keysFileLockWaitMs)
        throw new Error(
          `keys file ${path} is locked by another update (${lock}); remove the lock file if no update is running`,
        );
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    let current: KeysFile;
    try {
      current = await readKeysFile(path);
    } catch (e) {
      if (!/no such file/.test((e as Error).message)) throw e;
      current = { version: 1, keys: [] };
    }
    const { file, result } = await update(current);
    if (file.keys.length > apiKeysMax)
      throw new Error(`keys file ${path} would hold ${file.keys.length} keys, more than ${apiKeysMax}`);
    await writeKeysFile(path, file);
    return result;
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}
