// Changes to the API keys file: a new key (returned once, stored as a salted hash) and a
// revocation (the key stays in the file, marked). Both under the file's update lock.

import { newApiKey, updateKeysFile, type ApiRole } from "./api-keys.js";

/** Revoking an id the file does not hold. */
export class UnknownKeyError extends Error {
  override name = "UnknownKeyError";
}

/** Makes a key of `role` in `path`; returns the key (the only time it is known in full). */
export async function createKey(path: string, role: ApiRole, name: string): Promise<{ id: string; token: string }> {
  return updateKeysFile(path, async (file) => {
    const { token, record } = await newApiKey(role, name);
    return { file: { ...file, keys: [...file.keys, record] }, result: { id: record.id, token } };
  });
}

export async function revokeKey(path: string, id: string): Promise<{ role: ApiRole; name: string; already: boolean }> {
  return updateKeysFile(path, async (file) => {
    const record = file.keys.find((k) => k.id === id);
    if (record === undefined) throw new UnknownKeyError(`no key ${id} in ${path} (see \`dev keys list\`)`);
    const already = record.revokedAt !== undefined;
    const keys = file.keys.map((k) => (k.id === id && !already ? { ...k, revokedAt: new Date().toISOString() } : k));
    return { file: { ...file, keys }, result: { role: record.role, name: record.name, already } };
  });
}
