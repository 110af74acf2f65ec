// A follower's linearizable read waits for its leader to confirm a read point. When leadership
// moves before that confirmation, the old leader will never answer: the follower must fail the
// read at once (UNAVAILABLE, safe to retry) instead of holding it until the confirmation timeout
// (found by the whole-cluster simulator: a read hung for seconds after a failover).

import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { getAccountQuery } from "../../src/gateway/core-requests.js";
import { MessageType } from "../../src/raft/index.js";
import { cleanUpEverything } from "../support/cleanup.js";
import { InProcessCluster, accountIn, waitFor } from "./support/in-process-cluster.js";

let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  await cleanUpEverything();
});

describe("follower reads across a leader change", () => {
  it("a follower's unconfirmed read fails with UNAVAILABLE as soon as it learns of a new leader", async () => {
    const c = (cluster = await InProcessCluster.start({ shards: 1 }));
    const shardId = c.config.shards[0]?.id ?? "";
    const leader = (await c.waitForStableLeaders()).get(shardId) ?? "";
    const [follower, third] = c.nodeIds.filter((id) => id !== leader) as [string, string];

    // The leader never sees the follower's ReadIndex requests (as if they were lost).
    const leaderHost = c.host(leader);
    const deliver = leaderHost.deliver.bind(leaderHost);
    let swallowed = 0;
    leaderHost.deliver = (from, messages) => {
      const kept = messages.filter((m) => m.message.type !== MessageType.ReadIndex || from !== follower);
      swallowed += messages.length - kept.length;
      deliver(from, kept);
    };

    const followerHost = c.host(follower);
    const replica = followerHost.replicaOf(shardId);
    const read = followerHost.read(replica, getAccountQuery(accountIn(c.config, shardId)), false, Date.now() + 30_000);
    const outcome = read.then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor("the leader to swallow the follower's ReadIndex", undefined, async () =>
      swallowed > 0 ? true : undefined,
    );

    leaderHost.transferLeadership(leaderHost.replicaOf(shardId), third);
    const error = await outcome;
    expect(error).toBeInstanceOf(LedgerError);
    expect((error as LedgerError).code).toBe("UNAVAILABLE");
    // Failed because the leader changed, not by the confirmation timeout.
    expect((error as LedgerError).message).toMatch(/the leader changed before the read was confirmed/);
  });
});
