// A digest of one replica's ledger state, to compare replicas of a shard (tests, operators).
// Keys are hashed relative to the replica's prefix, so replicas with different ids and
// generations holding the same state hash equal. Each record is length-prefixed so that
// boundaries cannot shift between key and value.

import { createHash } from "node:crypto";
import type { LedgerDb } from "../storage/ledger-store.js";
import { prefixRange } from "../storage/ledger-keys.js";
import { ledgerPrefix } from "../storage/replica-keys.js";
import type { Replica } from "./replica.js";

/** Takes a DB snapshot at once (call it when the DB holds exactly the applied state), then scans. */
export async function hashReplicaState(db: LedgerDb, replica: Replica): Promise<Uint8Array> {
  const prefix = ledgerPrefix(replica.replicaId, replica.log.generation());
  const snapshot = db.snapshot();
  try {
    const hash = createHash("sha256");
    const lengths = new DataView(new ArrayBuffer(8));
    for await (const [key, value] of db.iterator({ ...prefixRange(prefix), snapshot })) {
      lengths.setUint32(0, key.length - prefix.length);
      lengths.setUint32(4, value.length);
      hash.update(new Uint8Array(lengths.buffer));
      hash.update(key.subarray(prefix.length));
      hash.update(value);
    }
    return new Uint8Array(hash.digest());
  } finally {
    await snapshot.close();
  }
}
