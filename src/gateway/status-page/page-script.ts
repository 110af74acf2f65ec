// The status page's script, as served inline in the page. Plain browser JavaScript with no
// dependencies: every refreshMs it fetches status.json (one request at a time, each given up
// after fetchTimeoutMs), rebuilds the tables from it with DOM calls (text goes in as text, never
// as HTML: node errors are outside input), and keeps saying how old the shown data is. When a
// refresh fails the page says so and keeps the last data it had. Written without template
// literals so it can live in a TypeScript template string unescaped.

// biome-ignore lint/complexity/noUselessStringRaw: raw, so a backslash added to the script later stays a backslash.
export const statusPageScript = String.raw`
"use strict";
(function () {
  var body = document.body;
  var refreshMs = Number(body.dataset.refreshMs) || 1000;
  var fetchTimeoutMs = Number(body.dataset.fetchTimeoutMs) || 3000;
  var lastOkMs = null;

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, String(attrs[name]));
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function rate(x) {
    return x >= 100 ? x.toFixed(0) : x.toFixed(1);
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function renderSecurity(doc) {
    body.dataset.security = doc.security;
    document.getElementById("insecure").hidden = doc.security !== "insecure";
  }

  function renderSummary(doc) {
    var s = doc.summary;
    var summary = document.getElementById("summary");
    summary.dataset.nodesUp = s.nodesUp;
    summary.dataset.shardsWithLeader = s.shardsWithLeader;
    summary.replaceChildren(
      el("span", { class: s.nodesUp === s.nodes ? "up" : "down" }, s.nodesUp + " of " + s.nodes + " nodes up"),
      " · ",
      el("span", { class: s.shardsWithLeader === s.shards ? "up" : "down" }, s.shardsWithLeader + " of " + s.shards + " shards have a leader"),
      " · " + rate(doc.requests.callsPerSecond) + " requests/s"
    );
  }

  function renderNodes(doc) {
    var rows = doc.nodes.map(function (n) {
      var state = n.state === "up" ? el("td", { class: "up" }, "up") : el("td", { class: "down" }, "down: " + n.reason);
      return el("tr", { "data-node": n.id, "data-state": n.state, "data-leads": n.leads },
        el("td", {}, n.id),
        el("td", {}, n.address),
        state,
        n.state === "up" ? el("td", { class: "num" }, plural(n.leads, "shard")) : el("td", { class: "muted" }, "—"));
    });
    document.querySelector("#nodes tbody").replaceChildren(...rows);
  }

  /** leaderId: the shard's leader (null if none). A replica that says "leader" is not
   * necessarily it: a deposed leader keeps saying so until it hears of the newer term. */
  function replicaCell(r, nodeId, leaderId) {
    if (!r) return el("td", { class: "muted", "data-replica-node": nodeId, "data-state": "none" }, "—");
    var attrs = { "data-replica-node": nodeId, "data-state": r.state };
    if (r.state === "down") return el("td", Object.assign(attrs, { class: "down" }), "down");
    if (r.state === "missing") return el("td", Object.assign(attrs, { class: "missing" }), "not reported");
    var text = r.role + " · applied " + r.appliedIndex;
    var isShardLeader = leaderId !== null && nodeId === leaderId;
    if (!isShardLeader && r.lag !== undefined) text += " · lag " + r.lag;
    if (r.caughtUp === false) text += " · replaying";
    attrs["data-role"] = r.role;
    if (r.lag !== undefined) attrs["data-lag"] = r.lag;
    return el("td", Object.assign(attrs, { class: isShardLeader ? "leader" : "" }), text);
  }

  function renderShards(doc) {
    var head = el("tr", {}, el("th", {}, "Shard"), el("th", {}, "Leader"), el("th", {}, "Term"));
    doc.nodes.forEach(function (n) {
      head.append(el("th", {}, n.id));
    });
    document.querySelector("#shards thead").replaceChildren(head);
    var rows = doc.shards.map(function (s) {
      var row = el("tr", { "data-shard": s.id, "data-leader": s.leader || "" },
        el("td", {}, s.id),
        s.leader ? el("td", { class: "leader" }, s.leader) : el("td", { class: "no-leader" }, "no leader"),
        el("td", { class: "num" }, s.term || "—"));
      doc.nodes.forEach(function (n) {
        row.append(replicaCell(s.replicas.find(function (r) { return r.nodeId === n.id; }), n.id, s.leader || null));
      });
      return row;
    });
    var tbody = document.querySelector("#shards tbody");
    tbody.replaceChildren(...rows);
  }

  function renderRates(doc) {
    var r = doc.requests;
    var line = document.getElementById("rates");
    line.dataset.callsPerSecond = r.callsPerSecond;
    line.dataset.errorsPerSecond = r.errorsPerSecond;
    line.textContent = rate(r.callsPerSecond) + " calls/s over the last " + rate(r.windowSeconds) + " s; errors " +
      rate(r.errorsPerSecond) + "/s (" + (r.errorRatio * 100).toFixed(1) + "% of calls)";
    var rows = r.byMethod.map(function (m) {
      return el("tr", { "data-method": m.method, "data-calls-per-second": m.callsPerSecond },
        el("td", {}, m.method), el("td", { class: "num" }, rate(m.callsPerSecond)), el("td", { class: "num" }, rate(m.errorsPerSecond)));
    });
    if (rows.length === 0) rows = [el("tr", {}, el("td", { colspan: 3, class: "muted" }, "no calls in this window"))];
    var tbody = document.querySelector("#rates-by-method tbody");
    tbody.replaceChildren(...rows);
    document.getElementById("codes").textContent = r.byCode.length === 0 ? "" :
      "Status codes in this window: " + r.byCode.map(function (c) { return c.code + " " + c.calls; }).join(", ");
  }

  function showAge() {
    var line = document.getElementById("refreshed");
    if (lastOkMs === null) return;
    line.dataset.refreshedAt = lastOkMs;
    line.textContent = "Last refreshed at " + clock(lastOkMs) + " (" + Math.max(0, Math.round((Date.now() - lastOkMs) / 1000)) +
      " s ago); refreshes every " + refreshMs / 1000 + " s";
  }

  function showProblem(message) {
    var problem = document.getElementById("problem");
    body.dataset.status = message === null ? "ok" : "error";
    problem.hidden = message === null;
    if (message === null) return;
    problem.textContent = "Cannot refresh: " + message + ". " +
      (lastOkMs === null ? "No data yet." : "Showing the data from " + clock(lastOkMs) + ".");
  }

  /** The parsed status.json, or an Error whose message says in words what went wrong. */
  async function fetchStatus() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, fetchTimeoutMs);
    try {
      var response = await fetch("status.json", { cache: "no-store", signal: controller.signal });
      if (!response.ok) return new Error("the gateway answered HTTP " + response.status + ": " + (await response.text()).trim());
      return await response.json();
    } catch (e) {
      if (e && e.name === "AbortError") return new Error("no answer from the gateway within " + fetchTimeoutMs / 1000 + " s");
      return new Error("the gateway does not answer (" + (e && e.message ? e.message : String(e)) + ")");
    } finally {
      clearTimeout(timer);
    }
  }

  async function refresh() {
    try {
      var doc = await fetchStatus();
      if (doc instanceof Error) return showProblem(doc.message);
      try {
        renderSecurity(doc);
        renderSummary(doc);
        renderNodes(doc);
        renderShards(doc);
        renderRates(doc);
      } catch (e) {
        return showProblem("status.json is not what this page expects (" + (e && e.message ? e.message : String(e)) + ")");
      }
      lastOkMs = Date.now();
      showProblem(null);
    } finally {
      showAge();
      setTimeout(refresh, refreshMs);
    }
  }

  refresh();
  setInterval(showAge, 1000);
})();
`;
