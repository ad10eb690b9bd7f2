/**
 * GET / (a front page linking what a person can open), GET /favicon.svg and /favicon.ico, and the HTML answer a
 * browser gets instead of a JSON problem when the dashboard wants a token (a form that retries with ?token=).
 */
import { Hono } from "hono";

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1a7f37"/><path d="M7 23V9l5 8 4-6 4 6 5-8v14" fill="none" stroke="#fff" stroke-width="2.6" stroke-linejoin="round"/></svg>`;

const css = `body{font:15px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:36rem;color:#1f2328}
a{color:#0969da}li{margin:.4rem 0}input{font:inherit;padding:.3rem;width:20rem}button{font:inherit;padding:.3rem .8rem}`;

function Shell(p: { title: string; children: unknown }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{p.title}</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <style>{css}</style>
      </head>
      <body>{p.children}</body>
    </html>
  );
}

export function homeRoutes(opts: { dashboard: boolean; metrics: boolean }) {
  const app = new Hono();
  app.get("/", (c) => {
    const q = c.req.query("token") ? `?token=${encodeURIComponent(c.req.query("token")!)}` : "";
    return c.html(
      "<!doctype html>" +
        (
          <Shell title="machinefi gateway">
            <h1>machinefi gateway</h1>
            <p>Signed device readings in; durably stored; proved and paid on L1.</p>
            <ul id="links">
              {opts.dashboard ? (
                <li>
                  <a href={`/dashboard${q}`}>Dashboard</a>: devices, runs, claims, payouts, health
                </li>
              ) : (
                ""
              )}
              <li>
                <a href="/reference">API reference</a> (and <a href="/openapi.json">/openapi.json</a>)
              </li>
              {opts.metrics ? (
                <li>
                  <a href={`/metrics${q}`}>Metrics</a> (Prometheus)
                </li>
              ) : (
                ""
              )}
              <li>
                <a href="/readyz">Readiness</a>
              </li>
            </ul>
          </Shell>
        ).toString(),
    );
  });
  const icon = () =>
    new Response(FAVICON_SVG, { headers: { "content-type": "image/svg+xml", "cache-control": "max-age=86400" } });
  app.get("/favicon.svg", icon);
  app.get("/favicon.ico", icon);
  return app;
}

/** The 401 page for a browser: says what is needed and offers a form that reopens the page with ?token=. */
export function tokenFormPage(path: string, wrong: boolean): string {
  return (
    "<!doctype html>" +
    (
      <Shell title="machinefi: token needed">
        <h1>A token is needed</h1>
        <p id="why">
          {wrong ? "That token was not accepted. " : ""}
          This page needs the dashboard's viewer token (<code>MFI_DASHBOARD_TOKEN</code>) or an operator API key (
          <code>mfi gateway apikey &lt;name&gt;</code>).
        </p>
        <form method="get" action={path}>
          <input name="token" type="password" autocomplete="current-password" placeholder="token" required />{" "}
          <button type="submit">Open</button>
        </form>
        <p>
          <a href="/">home</a> · <a href="/reference">API reference</a>
        </p>
      </Shell>
    ).toString()
  );
}
