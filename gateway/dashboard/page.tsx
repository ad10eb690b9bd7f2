/** The dashboard page: server-rendered hono JSX with inline SVG sparkline charts; no client script, refreshes itself. */
import type { DashboardData } from "./data.ts";

const short = (s: string, n = 10) => (s.length > n + 2 ? `${s.slice(0, n)}…` : s);

const css = `body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;font-variant-numeric:tabular-nums}
.kpi{display:inline-block;margin-right:2rem}.kpi b{font-size:1.3rem;display:block}.trap{color:#b00}.state-paid{color:#070}.state-failed{color:#b00}
.charts{display:flex;gap:2rem;flex-wrap:wrap}svg{background:#fafafa;border:1px solid #eee}`;

/** A polyline over the series, scaled to the box; the max is written in the corner so the chart has a scale. */
export function Spark(p: { id: string; title: string; points: number[]; width?: number; height?: number }) {
  const w = p.width ?? 360;
  const h = p.height ?? 90;
  const max = Math.max(1, ...p.points);
  const step = p.points.length > 1 ? w / (p.points.length - 1) : w;
  const pts = p.points.map((v, i) => `${(i * step).toFixed(1)},${(h - 4 - (v / max) * (h - 18)).toFixed(1)}`).join(" ");
  return (
    <figure>
      <figcaption>{p.title}</figcaption>
      <svg id={p.id} width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={p.title}>
        <polyline points={pts} fill="none" stroke="#2563eb" stroke-width="2" />
        <text x="4" y="12" font-size="10" fill="#666">
          max {max}
        </text>
      </svg>
    </figure>
  );
}

/** Under a capped table: "latest 25 of 40 runs" and where the rest is. */
function Shown(p: { id: string; n: number; of: number; what: string }) {
  return (
    <p class="shown" id={p.id}>
      {p.n} of {p.of} {p.what}
      {p.n < p.of ? " shown (the first by registration, or the latest); the JSON API pages through the rest" : ""}
    </p>
  );
}

export function DashboardPage({ d, refreshSeconds }: { d: DashboardData; refreshSeconds: number }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        {refreshSeconds > 0 ? <meta http-equiv="refresh" content={String(refreshSeconds)} /> : null}
        <title>machinefi dashboard</title>
        <style>{css}</style>
      </head>
      <body>
        <h1>machinefi</h1>
        <section id="summary">
          <span class="kpi">
            <b id="kpi-devices">{d.devicesTotal}</b>devices
          </span>
          <span class="kpi">
            <b id="kpi-readings">{d.readingsTotal}</b>readings
          </span>
          <span class="kpi">
            <b id="kpi-rps">{d.readingsPerSecond.toFixed(2)}</b>readings/s (last minute)
          </span>
          <span class="kpi">
            <b id="kpi-runs">{d.runCounts.runs}</b>runs ({d.runCounts.trapped} trapped)
          </span>
          <span class="kpi">
            <b id="kpi-paid">{d.claimCounts.paid ?? 0}</b>claims paid
          </span>
        </section>
        <section class="charts">
          <Spark
            id="chart-readings"
            title="readings per minute (last hour)"
            points={d.readingsSeries.map((s) => s.n)}
          />
          <Spark
            id="chart-rewards"
            title="total reward paid (last hour)"
            points={d.rewardSeries.map((s) => Number(s.total))}
          />
        </section>
        <h2>Devices</h2>
        <table id="devices">
          <thead>
            <tr>
              <th>device</th>
              <th>owner</th>
              <th>readings</th>
              <th>last seq</th>
              <th>last ts</th>
              <th>last values</th>
            </tr>
          </thead>
          <tbody>
            {d.devices.map((x) => (
              <tr data-device={x.deviceId}>
                <td title={x.deviceId}>
                  {short(x.deviceId)}
                  {x.key === "revoked" ? <span class="key-revoked"> (key revoked or rotated)</span> : ""}
                </td>
                <td title={x.owner}>{short(x.owner)}</td>
                <td>{x.readings}</td>
                <td>{x.lastSeq ?? "–"}</td>
                <td>{x.lastTs ? new Date(x.lastTs).toISOString() : "–"}</td>
                <td>{x.lastValues.join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="devices-shown" n={d.devices.length} of={d.devicesTotal} what="devices" />
        <h2>Applet runs</h2>
        <table id="runs">
          <thead>
            <tr>
              <th>run</th>
              <th>applet</th>
              <th>device</th>
              <th>epoch</th>
              <th>readings</th>
              <th>fuel</th>
              <th>trap</th>
            </tr>
          </thead>
          <tbody>
            {d.runs.map((r) => (
              <tr data-run={String(r.id)}>
                <td>#{r.id}</td>
                <td title={r.imageId}>{short(r.imageId)}</td>
                <td title={r.deviceId}>{short(r.deviceId)}</td>
                <td>{r.epoch}</td>
                <td>{r.readings}</td>
                <td>{r.fuelUsed}</td>
                <td class={r.trap ? "trap" : ""}>{r.trap ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="runs-shown" n={d.runs.length} of={d.runCounts.runs} what="runs" />
        <h2>Claims</h2>
        <p id="claim-counts">
          {Object.entries(d.claimCounts)
            .map(([k, v]) => `${k} ${v}`)
            .join(" · ")}
        </p>
        <table id="claims">
          <thead>
            <tr>
              <th>claim</th>
              <th>run</th>
              <th>device</th>
              <th>output</th>
              <th>state</th>
              <th>tx</th>
              <th>reward</th>
              <th>gas</th>
            </tr>
          </thead>
          <tbody>
            {d.claims.map((c) => (
              <tr data-claim={String(c.id)} data-state={c.state}>
                <td>#{c.id}</td>
                <td>#{c.runId}</td>
                <td title={c.deviceId}>{short(c.deviceId)}</td>
                <td>{c.output}</td>
                <td class={`state-${c.state}`} title={c.error ?? ""}>
                  {c.state}
                </td>
                <td title={c.txHash ?? ""}>{c.txHash ? short(c.txHash, 14) : ""}</td>
                <td>{c.reward ?? ""}</td>
                <td>{c.gasUsed ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="claims-shown" n={d.claims.length} of={d.claimsTotal} what="claims" />
        <h2>Payouts per owner</h2>
        <table id="payouts">
          <thead>
            <tr>
              <th>owner</th>
              <th>claims paid</th>
              <th>reward</th>
            </tr>
          </thead>
          <tbody>
            {d.payouts.map((p) => (
              <tr>
                <td>{p.owner}</td>
                <td>{p.claims}</td>
                <td>{p.reward}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="payouts-shown" n={d.payouts.length} of={d.payoutOwners} what="owners" />
        <p>
          <a href="/metrics">metrics</a> · <a href="/reference">API reference</a> · <a href="/dashboard.json">JSON</a>
        </p>
      </body>
    </html>
  );
}
