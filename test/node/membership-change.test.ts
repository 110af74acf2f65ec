// A membership change through the real node: the leader's NodeHost proposes it, answers once it
// is applied and written, every replica applies it, the shard keeps committing with the voters
// left, a restarted node comes back with the new membership, and a second change while one is
// pending, or one that does not fit, is refused with the reason.

import { describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import { ConfChangeType } from "../../src/raft/index.js";
import { clusterPerTest } from "./support/cluster-per-test.js";
import { accountIn, replicaIdOn, testTimestamp, waitFor } from "./support/in-process-cluster.js";

const startCluster = clusterPerTest();

const shardId = "shard-00";

describe("a membership change through the node", () => {
  it("removes a follower: applied everywhere, writes go on with two voters, and a restart keeps it", async () => {
    const c = await startCluster({ shards: 1 });
    const leader = await c.waitForLeader(shardId);
    const follower = c.nodeIds.find((n) => n !== leader) as string;
    const removed = replicaIdOn(c, shardId, follower);
    const host = c.host(leader);
    // A new leader first commits an entry of its term; until then a change is refused.
    const cs = await waitFor("the change to be accepted", undefined, async () => {
      try {
        return await host.changeMembership(
          host.replicaOf(shardId),
          { type: ConfChangeType.Remove, replicaId: removed },
          Date.now() + 5_000,
        );
      } catch (e) {
        if (e instanceof LedgerError && e.code === "FAILED_PRECONDITION") return undefined;
        throw e;
      }
    });
    expect(cs.voters).not.toContain(removed);
    expect(cs.voters).toHaveLength(2);
    for (const n of c.nodeIds) {
      await waitFor(`${n} to apply the removal`, undefined, async () =>
        c.host(n).replicaOf(shardId).raw.confState().voters.includes(removed) ? undefined : true,
      );
    }
    // Writes still commit with the two voters left.
    const account = accountIn(c.config, shardId);
    const created = await c.proposeOn(leader, shardId, createAccountCommand(testTimestamp, account, ""));
    expect(created.result.kind.case).toBe("account");
    // The removed replica's node restarts knowing it is no voter (the log rebuilt it).
    await c.restartNode(follower);
    expect(c.host(follower).replicaOf(shardId).raw.confState().voters).toEqual(cs.voters);
    await c.restartNode(leader);
    expect(c.host(leader).replicaOf(shardId).raw.confState().voters).toEqual(cs.voters);
  });

  it("refuses a change on a node that does not lead, and one that does not fit, naming why", async () => {
    const c = await startCluster({ shards: 1 });
    const leader = await c.waitForLeader(shardId);
    const follower = c.nodeIds.find((n) => n !== leader) as string;
    const f = c.host(follower);
    await expect(
      f.changeMembership(f.replicaOf(shardId), { type: ConfChangeType.Remove, replicaId: 1 }, Date.now() + 5_000),
    ).rejects.toMatchObject({ code: "NOT_LEADER" });
    const host = c.host(leader);
    const voter = replicaIdOn(c, shardId, leader);
    const refusal = await waitFor("a refusal for its reason, not for the new term", undefined, async () => {
      try {
        await host.changeMembership(
          host.replicaOf(shardId),
          { type: ConfChangeType.AddVoter, replicaId: voter },
          Date.now() + 5_000,
        );
        throw new Error("adding an existing voter was accepted");
      } catch (e) {
        if (e instanceof LedgerError && /is already a voter/.test(e.message)) return e;
        if (e instanceof LedgerError && e.code === "FAILED_PRECONDITION") return undefined;
        throw e;
      }
    });
    expect(refusal.code).toBe("FAILED_PRECONDITION");
    expect(refusal.message).toMatch(new RegExp(`AddVoter ${voter}: ${voter} is already a voter; not applied`));
  });
});
