/** The dashboard page: server-rendered hono JSX with inline SVG charts (chart.tsx); no client script, refreshes itself. */
import { tokenUnits } from "../metrics.ts";
import { BarChart, LineChart } from "./chart.tsx";
import type { DashboardData } from "./data.ts";
import { BatchesSection } from "./batches.tsx";
import { age, mfi, num, seconds, timeRange } from "./format.ts";

const short = (s: string, n = 10) => (s.length > n + 2 ? `${s.slice(0, n)}…` : s);

const css = `body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;font-variant-numeric:tabular-nums}
td.num,th.num{text-align:right;white-space:nowrap}td.epoch,td.applet{white-space:nowrap}.kpi{display:inline-block;margin-right:2rem}.kpi b{font-size:1.3rem;display:block}.trap{color:#b00}
.state{font-weight:600}.state-pending{color:#6e7781}.state-proved{color:#0969da}.state-submitted{color:#8250df}.state-paid{color:#1a7f37}.state-failed{color:#cf222e}
.error{color:#cf222e;font-size:12px;display:block}.shown{color:#666;font-size:12px}
.banner{padding:.6rem 1rem;border-radius:6px;margin:1rem 0}.banner.ok{background:#dafbe1;color:#1a4d2e}.banner.bad{background:#ffebe9;color:#82071e}
.banner ul{margin:.3rem 0 0 1rem;padding:0}.charts{display:flex;gap:2rem;flex-wrap:wrap}.chart svg{background:#fafafa;border:1px solid #eee}
.legend{font-size:12px}footer{margin-top:2rem;color:#666}`;

/** Under a capped table: "latest 25 of 40 runs" and where the rest is. */
function Shown(p: { id: string; n: number; of: number; what: string }) {
  return (
    <p class="shown" id={p.id}>
      {p.n} of {p.of} {p.what}
      {p.n < p.of ? " shown (the first by registration, or the latest); the JSON API pages through the rest" : ""}
    </p>
  );
}

const STATES = ["pending", "proved", "submitted", "paid", "failed"] as const;
const STATE_COLOURS: Record<string, string> = {
  pending: "#6e7781",
  proved: "#0969da",
  submitted: "#8250df",
  paid: "#1a7f37",
  failed: "#cf222e",
};

/** The health banner: green when all checks pass and nothing waits too long, else what is wrong. */
function Health({ d }: { d: DashboardData }) {
  const h = d.health;
  return (
    <section id="health" class={`banner ${h.ok ? "ok" : "bad"}`} role="status">
      <b>{h.ok ? "All checks pass" : "Needs attention"}</b>
      {" · "}
      {Object.entries(h.checks)
        .map(([k, v]) => `${k}: ${v}`)
        .join(" · ")}
      {h.oldestPendingAt !== null ? ` · oldest pending claim ${age(d.now - h.oldestPendingAt)}` : ""}
      {h.problems.length > 0 ? (
        <ul>
          {h.problems.map((p) => (
            <li>{p}</li>
          ))}
        </ul>
      ) : (
        ""
      )}
    </section>
  );
}

/** q: "?token=…" when the page was opened with one, so links to the other views keep it. */
export function DashboardPage({ d, refreshSeconds, q = "" }: { d: DashboardData; refreshSeconds: number; q?: string }) {
  const applet = (name: string | null, imageId: string) => name ?? short(imageId);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        {refreshSeconds > 0 ? <meta http-equiv="refresh" content={String(refreshSeconds)} /> : null}
        <title>machinefi dashboard</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <style>{css}</style>
      </head>
      <body>
        <h1>machinefi</h1>
        <Health d={d} />
        <section id="summary">
          <span class="kpi">
            <b id="kpi-devices">{num(d.devicesTotal)}</b>devices
          </span>
          <span class="kpi">
            <b id="kpi-readings">{num(d.readingsTotal)}</b>readings
          </span>
          <span class="kpi">
            <b id="kpi-rps">{d.readingsPerSecond.toFixed(2)}</b>readings/s (last minute)
          </span>
          <span class="kpi">
            <b id="kpi-runs">{num(d.runCounts.runs)}</b>runs ({num(d.runCounts.trapped)} trapped)
          </span>
          <span class="kpi">
            <b id="kpi-paid">{num(d.claimCounts.paid ?? 0)}</b>claims paid
          </span>
          <span class="kpi">
            <b id="kpi-reward">{mfi(d.rewardPaid) || "0 MFI"}</b>reward paid
          </span>
          <span class="kpi">
            <b id="kpi-oldest">{d.health.oldestPendingAt === null ? "none" : age(d.now - d.health.oldestPendingAt)}</b>
            oldest pending claim
          </span>
        </section>
        <section class="charts">
          <LineChart
            id="chart-readings"
            title="readings per minute (UTC; up to the last hour, from the first data)"
            t={d.readingsSeries.map((s) => s.t)}
            series={[{ name: "readings", colour: "#2563eb", values: d.readingsSeries.map((s) => s.n) }]}
          />
          <LineChart
            id="chart-rewards"
            title="total reward paid, MFI (UTC; same window)"
            t={d.rewardSeries.map((s) => s.t)}
            series={[
              { name: "MFI", colour: "#1a7f37", values: d.rewardSeries.map((s) => tokenUnits(BigInt(s.total))) },
            ]}
          />
          {d.claimsSeries.length > 1 ? (
            <LineChart
              id="chart-claims"
              title="claims by state (sampled each minute, UTC)"
              t={d.claimsSeries.map((s) => s.t)}
              series={STATES.map((st) => ({
                name: st,
                colour: STATE_COLOURS[st]!,
                values: d.claimsSeries.map((s) => s[st] ?? 0),
              }))}
            />
          ) : (
            <p id="chart-claims-empty" class="shown">
              claims by state: a line appears after two minutes of samples
            </p>
          )}
        </section>
        {d.transports ? (
          <>
            <h2>Ingest by transport</h2>
            <table id="transports" style="width:auto">
              <thead>
                <tr>
                  <th>transport</th>
                  <th class="num">readings stored</th>
                  <th class="num">share</th>
                  <th class="num">resent</th>
                  <th class="num">refused</th>
                </tr>
              </thead>
              <tbody>
                {d.transports.map((t) => {
                  const all = d.transports!.reduce((a, x) => a + x.readings, 0);
                  return (
                    <tr data-transport={t.transport}>
                      <td>{t.transport === "http" ? "HTTP" : t.transport === "mqtt" ? "MQTT" : t.transport}</td>
                      <td class="num">{num(t.readings)}</td>
                      <td class="num">{all ? `${Math.round((100 * t.readings) / all)} %` : "–"}</td>
                      <td class="num">{num(t.resent)}</td>
                      <td class={`num${t.rejected ? " trap" : ""}`}>{num(t.rejected)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <p class="shown">
              counted by this gateway process since it started; resent: readings a device sent again, answered with
              their original ack (/metrics: mfi_ingest_readings_total, mfi_ingest_resent_readings_total)
            </p>
          </>
        ) : (
          ""
        )}
        <h2>Devices</h2>
        <table id="devices">
          <thead>
            <tr>
              <th>device</th>
              <th>owner</th>
              <th class="num">readings</th>
              <th class="num">last seq</th>
              <th>last reading (UTC)</th>
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
                <td class="num">{num(x.readings)}</td>
                <td class="num">{x.lastSeq ?? "–"}</td>
                <td>
                  {x.lastTs
                    ? `${new Date(x.lastTs).toISOString().slice(0, 19).replace("T", " ")} (${age(d.now - x.lastTs)} ago)`
                    : "–"}
                </td>
                <td>{x.lastValues.join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="devices-shown" n={d.devices.length} of={d.devicesTotal} what="devices" />
        <h2>Applets</h2>
        <table id="applets">
          <thead>
            <tr>
              <th>applet</th>
              <th class="num">runs</th>
              <th class="num">trapped</th>
              <th class="num">fuel used</th>
              <th class="num">fuel per run</th>
            </tr>
          </thead>
          <tbody>
            {d.applets.map((a) => (
              <tr data-applet={a.imageId}>
                <td class="applet" title={a.imageId}>
                  {applet(a.name, a.imageId)}
                </td>
                <td class="num">{num(a.runs)}</td>
                <td class={`num${a.trapped ? " trap" : ""}`}>{num(a.trapped)}</td>
                <td class="num">{num(a.fuelUsed)}</td>
                <td class="num">{a.runs ? num(Math.round(a.fuelUsed / a.runs)) : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {d.applets.some((a) => a.runs > 0) ? (
          <BarChart
            id="chart-fuel"
            title="fuel per run, by applet (mean over all runs)"
            axis="fuel per run (metered Wasm instructions)"
            colour="#9a6700"
            bars={d.applets
              .filter((a) => a.runs > 0)
              .map((a) => {
                const perRun = Math.round(a.fuelUsed / a.runs);
                return {
                  label: applet(a.name, a.imageId),
                  value: perRun,
                  text: num(perRun),
                  title: `${a.name}: ${num(perRun)} fuel per run over ${num(a.runs)} runs (${num(a.fuelUsed)} in all)`,
                };
              })}
          />
        ) : (
          ""
        )}
        <h2>Applet runs</h2>
        <table id="runs">
          <thead>
            <tr>
              <th class="num">run</th>
              <th>applet</th>
              <th>device</th>
              <th>epoch (UTC)</th>
              <th class="num">readings</th>
              <th class="num">fuel</th>
              <th>trap</th>
            </tr>
          </thead>
          <tbody>
            {d.runs.map((r) => (
              <tr data-run={String(r.id)}>
                <td class="num">#{r.id}</td>
                <td class="applet" title={r.imageId}>
                  {applet(r.applet, r.imageId)}
                </td>
                <td title={r.deviceId}>{short(r.deviceId)}</td>
                <td class="epoch" title={`epoch ${r.epoch}`}>
                  {timeRange(r.epochStart, r.epochEnd)}
                </td>
                <td class="num">{num(r.readings)}</td>
                <td class="num">{num(r.fuelUsed)}</td>
                <td class={r.trap ? "trap" : ""}>{r.trap ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="runs-shown" n={d.runs.length} of={d.runCounts.runs} what="runs" />
        <h2>Claims</h2>
        <p id="claim-counts">
          {STATES.map((k) => (
            <span class={`state state-${k}`}>
              {k} {num(d.claimCounts[k] ?? 0)}{" "}
            </span>
          ))}
          <span class="shown"> pending → proved → submitted → paid | failed</span>
        </p>
        <table id="claims">
          <thead>
            <tr>
              <th class="num">claim</th>
              <th>applet</th>
              <th>device</th>
              <th>epoch (UTC)</th>
              <th class="num">output</th>
              <th>state</th>
              <th class="num">age</th>
              <th>tx</th>
              <th class="num">reward</th>
              <th class="num">gas</th>
            </tr>
          </thead>
          <tbody>
            {d.claims.map((c) => (
              <tr data-claim={String(c.id)} data-state={c.state}>
                <td class="num">#{c.id}</td>
                <td class="applet" title={c.imageId}>
                  {applet(c.applet, c.imageId)}
                </td>
                <td title={c.deviceId}>{short(c.deviceId)}</td>
                <td class="epoch">{timeRange(c.epochStart, c.epochEnd)}</td>
                <td class="num">{c.output}</td>
                <td class={`state state-${c.state}`}>
                  {c.state}
                  {c.error ? <span class="error">{c.error}</span> : ""}
                </td>
                <td class="num age">{c.createdAt ? age(d.now - c.createdAt) : ""}</td>
                <td title={c.txHash ?? ""}>{c.txHash ? short(c.txHash, 14) : ""}</td>
                <td class="num reward">{mfi(c.reward)}</td>
                <td class="num">{c.gasUsed === null ? "" : num(c.gasUsed)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="claims-shown" n={d.claims.length} of={d.claimsTotal} what="claims" />
        <BatchesSection batches={d.batches} now={d.now} />
        <h2>Payouts per owner</h2>
        <table id="payouts">
          <thead>
            <tr>
              <th>owner</th>
              <th class="num">claims paid</th>
              <th class="num">reward</th>
            </tr>
          </thead>
          <tbody>
            {d.payouts.map((p) => (
              <tr>
                <td>{p.owner}</td>
                <td class="num">{num(p.claims)}</td>
                <td class="num reward">{mfi(p.reward)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Shown id="payouts-shown" n={d.payouts.length} of={d.payoutOwners} what="owners" />
        {d.proving.length > 0 ? (
          <>
            <h2>Proving time per circuit</h2>
            <BarChart
              id="chart-proving"
              title="proving time, by circuit (mean per proof)"
              axis="seconds per proof"
              colour="#0969da"
              bars={d.proving.map((p) => ({
                label: p.applet ? `${p.applet} K=${p.k}` : p.circuit,
                value: p.meanMs / 1000,
                text: seconds(p.meanMs),
                title: `${p.circuit}: ${seconds(p.meanMs)} mean over ${num(p.proofs)} proof${p.proofs === 1 ? "" : "s"}`,
              }))}
            />
            <table id="proving">
              <thead>
                <tr>
                  <th>circuit</th>
                  <th class="num">proofs</th>
                  <th class="num">mean</th>
                </tr>
              </thead>
              <tbody>
                {d.proving.map((p) => (
                  <tr>
                    <td title={p.circuit}>{p.applet ? `${p.applet} K=${p.k}` : p.circuit}</td>
                    <td class="num">{num(p.proofs)}</td>
                    <td class="num">{seconds(p.meanMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          ""
        )}
        <footer>
          <a href={`/${q}`}>home</a> · <a href={`/metrics${q}`}>metrics</a> · <a href="/reference">API reference</a> ·{" "}
          <a href={`/dashboard.json${q}`}>JSON</a> · built{" "}
          {new Date(d.now).toISOString().slice(0, 19).replace("T", " ")} UTC
        </footer>
      </body>
    </html>
  );
}
