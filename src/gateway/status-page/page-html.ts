// The status page itself: one self-contained HTML document (styles and script inline, nothing
// fetched from elsewhere: operators often look at it from machines without internet access).
// The script (page-script.ts) fills the placeholders below from /status.json. Element ids and
// data-* attributes are the page's contract with tests and scrapers; the texts are for people.

import { statusPageScript } from "./page-script.js";

const styles = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2125; background: #fafbfc; }
  h1 { font-size: 1.4em; margin: 0 0 .2em; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  table { border-collapse: collapse; background: #fff; }
  th, td { border: 1px solid #d5d9de; padding: .25em .6em; text-align: left; vertical-align: top; }
  th { background: #eef1f4; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .up { color: #176b2c; }
  .down, .no-leader, .missing { color: #b3261e; font-weight: 600; }
  .leader { font-weight: 600; }
  .muted { color: #68717a; }
  #problem { background: #fde7e5; border: 1px solid #b3261e; color: #7a1a14; padding: .5em .8em; }
  #summary { font-size: 1.05em; }
  #insecure { background: #fff4ce; border: 1px solid #b06000; color: #5c3300; padding: .5em .8em; font-weight: 600; }
`;

/** The page, asking for status.json every refreshMs and giving up on one request after fetchTimeoutMs. */
export function statusPageHtml(options: { refreshMs: number; fetchTimeoutMs: number }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ledger cluster status</title>
<style>${styles}</style>
</head>
<body data-status="loading" data-refresh-ms="${options.refreshMs}" data-fetch-timeout-ms="${options.fetchTimeoutMs}">
<h1>Ledger cluster status</h1>
<p id="refreshed" class="muted">Loading…</p>
<p id="problem" role="alert" hidden></p>
<p id="insecure" role="alert" hidden>This cluster runs without TLS and API keys (--insecure): anyone who can reach its ports can read and change the ledger.</p>
<p id="summary"></p>
<h2>Nodes</h2>
<table id="nodes">
<thead><tr><th>Node</th><th>Address</th><th>State</th><th>Leads</th></tr></thead>
<tbody></tbody>
</table>
<h2>Shards</h2>
<p class="muted">Per replica: role, applied index, and how many entries it has still to apply to catch up with its leader (lag).</p>
<table id="shards">
<thead><tr><th>Shard</th><th>Leader</th><th>Term</th></tr></thead>
<tbody></tbody>
</table>
<h2>Requests</h2>
<p id="rates"></p>
<table id="rates-by-method">
<thead><tr><th>Method</th><th>Calls/s</th><th>Errors/s</th></tr></thead>
<tbody></tbody>
</table>
<p id="codes" class="muted"></p>
<script>${statusPageScript}</script>
</body>
</html>
`;
}
