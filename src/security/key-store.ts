// The gateway's view of the API keys file: who a presented key is, fast, and a revoked key
// refused within a second.
//
// A key is verified against its stored scrypt hash once per process (a few milliseconds of the
// libuv pool); the SHA-256 digest of a key that verified is then kept in memory and later calls
// compare digests with timingSafeEqual (a microsecond). Calls presenting the same unverified
// key at once share one verification. The file is polled (apiKeysReloadPollMs); a change
// rebuilds the records and drops every remembered verification whose record is gone, revoked
// or re-hashed, so revocation takes effect at the next poll. Wrong secrets for one key id are
// budgeted (apiKeyWrongSecretsMax a window): past the budget that id is refused without a
// scrypt, so knowing a key id does not buy a stream of scrypts. A file that stops parsing is
// logged and the previous keys stay in force (failing open to "no keys" would lock everyone
// out; failing to "previous keys" keeps a revoked key alive only until the file is fixed).

import { createHash, timingSafeEqual } from "node:crypto";
import { LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import {
  apiKeyRejectedCacheEntriesMax,
  apiKeysReloadPollMs,
  apiKeyVerificationsInFlightMax,
  apiKeyWrongSecretsMax,
  apiKeyWrongSecretsWindowMs,
} from "./limits.js";
import { fileVersions } from "./file-version.js";
import { parseToken, readKeysFile, tokenMatches, type ApiRole, type KeyRecord } from "./api-keys.js";

export interface AuthenticatedKey {
  id: string;
  role: ApiRole;
  name: string;
}

/** Why a key was refused: the log line's reason, and the key id when the key named one. */
export class AuthenticationFailure extends LedgerError {
  constructor(
    readonly reason: "missing" | "malformed" | "unknown" | "revoked" | "wrong secret" | "locked" | "busy",
    readonly keyId: string | undefined,
    message: string,
  ) {
    super(reason === "busy" ? "RESOURCE_EXHAUSTED" : "UNAUTHENTICATED", message);
  }
}

interface Verified {
  digest: Buffer;
  record: KeyRecord;
}

function digestOf(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

export class ApiKeyStore {
  private records = new Map<string, KeyRecord>();
  private verified = new Map<string, Verified>();
  private readonly rejected = new Set<string>();
  private readonly verifying = new Map<string, Promise<boolean>>();
  /** Verifications queued or running per key id. */
  private readonly pendingById = new Map<string, number>();
  /** Wrong secrets per key id in the current window (see apiKeyWrongSecretsMax). */
  private readonly wrongSecrets = new Map<string, { count: number; sinceMs: number }>();
  private verificationsInFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private version = "";
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private lastError = "";
  /** scrypt verifications run so far (tests; each costs ~50 ms of the libuv pool). */
  verifications = 0;

  private constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Loads the keys file (throws an Error naming the problem) and starts polling it. */
  static async open(path: string, logger: Logger, pollMs = apiKeysReloadPollMs): Promise<ApiKeyStore> {
    const store = new ApiKeyStore(path, logger);
    store.version = await store.fileVersion();
    store.install((await readKeysFile(path)).keys);
    store.timer = setInterval(() => void store.check(), pollMs);
    store.timer.unref();
    return store;
  }

  /** Keys in force (not revoked). */
  get activeKeys(): number {
    let n = 0;
    for (const r of this.records.values()) if (r.revokedAt === undefined) n++;
    return n;
  }

  private fileVersion(): Promise<string> {
    return fileVersions([this.path]);
  }

  /** Reads the file again if it changed (the poll does this; tests call it to not wait). */
  async check(): Promise<void> {
    if (this.checking || this.timer === undefined) return;
    this.checking = true;
    try {
      const version = await this.fileVersion();
      if (version === this.version) return;
      this.version = version;
      let keys: KeyRecord[];
      try {
        keys = (await readKeysFile(this.path)).keys;
      } catch (e) {
        const message = (e as Error).message;
        if (message !== this.lastError)
          this.logger.error({ err: message }, "API keys file is not usable; the previous keys stay in force");
        this.lastError = message;
        return;
      }
      this.lastError = "";
      this.install(keys);
      this.logger.info({ keys: this.activeKeys, file: this.path }, "API keys reloaded");
    } finally {
      this.checking = false;
    }
  }

  private install(keys: KeyRecord[]): void {
    this.records = new Map(keys.map((k) => [k.id, k]));
    const kept = new Map<string, Verified>();
    for (const [id, v] of this.verified) {
      const now = this.records.get(id);
      // Same record (same hash, not revoked, same role): the verification still stands.
      if (now !== undefined && now.revokedAt === undefined && now.scrypt.hash === v.record.scrypt.hash)
        kept.set(id, { digest: v.digest, record: now });
    }
    this.verified = kept;
    this.rejected.clear();
    for (const id of this.wrongSecrets.keys()) if (!this.records.has(id)) this.wrongSecrets.delete(id);
  }

  /** Who the `authorization` metadata value names; throws AuthenticationFailure. */
  async authenticate(authorization: string | undefined): Promise<AuthenticatedKey> {
    if (authorization === undefined || authorization === "") {
      throw new AuthenticationFailure("missing", undefined, "no API key: send `authorization: Bearer <key>` metadata");
    }
    const bearer = /^Bearer (\S+)$/i.exec(authorization);
    const parsed = bearer === null ? undefined : parseToken(bearer[1]!);
    if (parsed === undefined)
      throw new AuthenticationFailure(
        "malformed",
        undefined,
        "the authorization metadata is not `Bearer <API key>` with a key of the form lk_<id>_<secret>",
      );
    const record = this.records.get(parsed.id);
    if (record === undefined)
      throw new AuthenticationFailure("unknown", parsed.id, `API key ${parsed.id} is not known`);
    if (record.revokedAt !== undefined)
      throw new AuthenticationFailure("revoked", parsed.id, `API key ${parsed.id} was revoked`);
    const digest = digestOf(parsed.token);
    const known = this.verified.get(parsed.id);
    if (known !== undefined) {
      if (timingSafeEqual(known.digest, digest)) return this.answer(known.record);
      throw new AuthenticationFailure("wrong secret", parsed.id, `API key ${parsed.id}: wrong secret`);
    }
    const digestHex = digest.toString("hex");
    if (this.rejected.has(digestHex))
      throw new AuthenticationFailure("wrong secret", parsed.id, `API key ${parsed.id}: wrong secret`);
    this.refuseIfLocked(parsed.id);
    const ok = await this.verifyOnce(record, parsed.token, digestHex);
    // The file may have changed while scrypt ran: judge by the record in force now.
    const current = this.records.get(parsed.id);
    if (current === undefined || current.revokedAt !== undefined || current.scrypt.hash !== record.scrypt.hash) {
      throw new AuthenticationFailure("revoked", parsed.id, `API key ${parsed.id} was revoked`);
    }
    if (!ok) {
      if (this.rejected.size >= apiKeyRejectedCacheEntriesMax)
        this.rejected.delete(this.rejected.values().next().value!);
      this.rejected.add(digestHex);
      this.noteWrongSecret(parsed.id);
      throw new AuthenticationFailure("wrong secret", parsed.id, `API key ${parsed.id}: wrong secret`);
    }
    this.wrongSecrets.delete(parsed.id);
    this.verified.set(parsed.id, { digest, record: current });
    return this.answer(current);
  }

  /** An id that saw too many wrong secrets lately is refused without a scrypt (until its window ends). */
  private refuseIfLocked(id: string, nowMs = Date.now()): void {
    const w = this.wrongSecrets.get(id);
    if (w === undefined) return;
    if (nowMs - w.sinceMs >= apiKeyWrongSecretsWindowMs) {
      this.wrongSecrets.delete(id);
      return;
    }
    if (w.count < apiKeyWrongSecretsMax) return;
    const retryS = Math.ceil((w.sinceMs + apiKeyWrongSecretsWindowMs - nowMs) / 1000);
    throw new AuthenticationFailure("locked", id, `API key ${id}: too many wrong secrets lately; retry in ${retryS} s`);
  }

  private noteWrongSecret(id: string, nowMs = Date.now()): void {
    const w = this.wrongSecrets.get(id);
    if (w === undefined || nowMs - w.sinceMs >= apiKeyWrongSecretsWindowMs)
      this.wrongSecrets.set(id, { count: 1, sinceMs: nowMs });
    else w.count++;
  }

  private answer(r: KeyRecord): AuthenticatedKey {
    return { id: r.id, role: r.role, name: r.name };
  }

  /** One scrypt per distinct presented key at a time, at most apiKeyVerificationsInFlightMax at once. */
  private verifyOnce(record: KeyRecord, token: string, digestHex: string): Promise<boolean> {
    let pending = this.verifying.get(digestHex);
    if (pending === undefined) {
      // One key id may hold only as many places in the queue as it may fail verifications: a
      // burst of made-up secrets for it cannot fill the queue ahead of other keys.
      const queued = this.pendingById.get(record.id) ?? 0;
      if (queued >= apiKeyWrongSecretsMax)
        throw new AuthenticationFailure(
          "busy",
          record.id,
          `API key ${record.id}: too many verifications of it pending; retry`,
        );
      this.pendingById.set(record.id, queued + 1);
      pending = this.withSlot(() => {
        // Again here: a burst of made-up secrets all passed the first look before any failed.
        this.refuseIfLocked(record.id);
        this.verifications++;
        return tokenMatches(record, token);
      }).finally(() => {
        this.verifying.delete(digestHex);
        const left = (this.pendingById.get(record.id) ?? 1) - 1;
        if (left === 0) this.pendingById.delete(record.id);
        else this.pendingById.set(record.id, left);
      });
      this.verifying.set(digestHex, pending);
    }
    return pending;
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.verificationsInFlight >= apiKeyVerificationsInFlightMax) {
      // A bounded queue: past it, a burst of distinct unverified keys is refused (retryable)
      // instead of queueing without end. A finishing verification hands its slot over.
      if (this.waiting.length >= apiKeyRejectedCacheEntriesMax)
        throw new AuthenticationFailure("busy", undefined, "too many API keys awaiting verification; retry");
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.verificationsInFlight++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.verificationsInFlight--;
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
