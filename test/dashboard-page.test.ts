/**
 * The dashboard as a person sees it, in headless Chromium with the internet blocked: a browser without a token gets
 * the token form (not JSON), then the page with rewards in MFI, epochs as UTC time ranges, applet names, claim ages,
 * right-aligned numbers, coloured states, errors inline, "25 of 30" under the capped devices table, a health banner,
 * ingest split by transport, charts with a time axis, bar charts of fuel per applet and proving time per circuit, footer links that keep ?token=; a front page at / and a favicon. A screenshot is taken
 * (build/screenshots/dashboard.png) and checked to be the full page.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packEpoch } from "../device-sdk/index.ts";
import { startGateway, type RunningGateway } from "../gateway/index.ts";
import { openStore, type AppletSpec, type RunOutcome } from "../store/index.ts";
import { CHROMIUM, offlineBrowser } from "./browser.ts";

const TOKEN = "viewer-secret";
const applet: AppletSpec = {
  imageId: `0x${"a".repeat(64)}`,
  name: "energy-sum",
  wasm: new Uint8Array([0, 97, 115, 109]),
  rewardPerUnit: 1n,
};
const outcome: RunOutcome = {
  inputDigest: "00",
  journal: new Uint8Array(0),
  journalDigest: "00",
  fuelUsed: 123_456n,
  stateRoot: "00",
  state: new Uint8Array(0),
  claims: [],
};
const EPOCH_START = Date.UTC(2026, 0, 1, 10, 0);

// Paid ten minutes ago: the charts' window starts at that minute (no readings before it).
const PAID_AT = Date.now() - 10 * 60_000;

let gw: RunningGateway;
let store: ReturnType<typeof openStore>;
beforeAll(async () => {
  store = openStore(":memory:");
  const w = store.worker;
  for (let i = 1; i <= 30; i++)
    await store.insertDevice({
      deviceId: BigInt(i),
      publicKey: { x: BigInt(i), y: 1n },
      owner: `0x${String(i).padStart(40, "0")}`,
      chainId: 31337n,
      registry: "0x0",
      signature: { R8x: 1n, R8y: 2n, S: 3n },
      registeredAt: 0,
    });
  await w.upsertApplet(applet, 0, 0);
  const now = Date.now();
  for (let i = 1; i <= 3; i++)
    await w.recordRun({
      applet,
      deviceId: BigInt(i),
      epoch: packEpoch({ startMs: BigInt(EPOCH_START), lengthMs: 300_000n }),
      readings: [{ seq: 1n } as never],
      stateBefore: undefined,
      outcome,
      claims: [{ deviceId: BigInt(i), output: 1234n }],
      now: now - 5 * 60_000,
    });
  const [c1, c2] = (await w.listClaims(10)).reverse();
  const receipt = JSON.stringify({ seal: { circuit: "applet_aaaa_k16" } });
  await w.markProved(c1!.id, receipt, "{}", 2400, now);
  await w.markSubmitted(c1!.id, "0x" + "ab".repeat(32), now);
  await w.markPaid(c1!.id, { reward: 24_000_000_000_000_000n, gasUsed: 301_234n }, PAID_AT);
  await w.markProved(c2!.id, receipt, "{}", 2000, now);
  await w.markFailed(c2!.id, "PayoutVault_StaleEpoch: the epoch is not closed on chain", 1, now);
  gw = await startGateway({ store, workerStatus: store.worker, verifyWorkers: 0, dashboardAuth: { token: TOKEN } });
  // One refused HTTP post: the ingest-by-transport table counts it.
  await fetch(`${gw.url}/v1/devices/1/readings/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
});
afterAll(async () => {
  await gw?.close();
  await store?.close();
});

describe("the dashboard in a browser", () => {
  it("answers JSON clients with a problem, and has a front page and a favicon", async () => {
    const json = await fetch(`${gw.url}/dashboard`);
    expect(json.status).toBe(401);
    expect(json.headers.get("content-type")).toMatch(/problem\+json/);
    const home = await (await fetch(`${gw.url}/?token=${TOKEN}`)).text();
    expect(home).toContain(`href="/dashboard?token=${TOKEN}"`);
    expect(home).toContain('href="/reference"');
    expect(home).toContain(`href="/metrics?token=${TOKEN}"`);
    const icon = await fetch(`${gw.url}/favicon.ico`);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(await icon.text()).toMatch(/^<svg/);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    `shows readable values, health and capped tables${existsSync(CHROMIUM) ? "" : ` (skipped: ${CHROMIUM} missing)`}`,
    async () => {
      const { browser, blocked } = await offlineBrowser();
      try {
        const page = await browser.newPage();
        await page.setViewportSize({ width: 1280, height: 900 });
        // No token: an HTML page with a form, not raw JSON.
        const first = await page.goto(`${gw.url}/dashboard`);
        expect(first?.status()).toBe(401);
        expect(await page.textContent("h1")).toBe("A token is needed");
        await page.fill("input[name=token]", TOKEN);
        await Promise.all([page.waitForURL(/\/dashboard\?token=/), page.click("button[type=submit]")]);
        expect(await page.title()).toBe("machinefi dashboard");

        expect(await page.textContent("#kpi-devices")).toBe("30");
        expect(await page.textContent("#devices-shown")).toMatch(/^25 of 30 devices/);
        expect(await page.locator("#devices tbody tr").count()).toBe(25);
        expect(await page.textContent("#kpi-reward")).toBe("0.024 MFI");
        expect(await page.textContent("#kpi-oldest")).toMatch(/^5 min$/);
        // Health: the failed claim is named in the banner.
        expect(await page.getAttribute("#health", "class")).toContain("bad");
        expect(await page.textContent("#health")).toMatch(/database: ok/);

        const paid = page.locator('#claims tr[data-state="paid"]');
        expect(await paid.locator("td.reward").textContent()).toBe("0.024 MFI");
        expect(await paid.locator("td.applet").textContent()).toBe("energy-sum");
        expect(await paid.locator("td.epoch").textContent()).toBe("2026-01-01 10:00–10:05");
        expect(await paid.locator("td.age").textContent()).toBe("5 min");
        expect(await paid.locator("td.num").last().textContent()).toBe("301,234");
        const failed = page.locator('#claims tr[data-state="failed"]');
        expect(await failed.locator(".error").textContent()).toMatch(/PayoutVault_StaleEpoch/);
        expect(await failed.locator(".error").isVisible()).toBe(true);
        // Numbers right-aligned; states coloured.
        const style = (sel: string, prop: string) =>
          page
            .locator(sel)
            .first()
            .evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), prop);
        expect(await style("#claims td.reward", "text-align")).toBe("right");
        expect(await style("#runs td.num", "text-align")).toBe("right");
        expect(await style('#claims tr[data-state="paid"] td.state', "color")).toBe("rgb(26, 127, 55)");
        expect(await style('#claims tr[data-state="failed"] td.state', "color")).toBe("rgb(207, 34, 46)");
        expect(await page.textContent("#runs tbody tr td.applet")).toBe("energy-sum");
        // Fuel per applet.
        expect(await page.locator("#applets tbody tr td").allTextContents()).toEqual([
          "energy-sum",
          "3",
          "0",
          "370,368",
          "123,456",
        ]);
        expect(await page.textContent("#runs tbody tr td.epoch")).toBe("2026-01-01 10:00–10:05");

        // Charts: a time axis with HH:MM ticks.
        // The window fits the data: from the payout's minute to the last complete minute before the page was built.
        const built = Date.parse(
          /built (\S+ \S+) UTC/.exec((await page.textContent("footer"))!)![1]!.replace(" ", "T") + "Z",
        );
        const minutes = Math.floor(built / 60_000) - Math.floor(PAID_AT / 60_000);
        expect((await page.getAttribute("#chart-readings polyline", "points"))?.split(" ")).toHaveLength(minutes);
        expect((await page.getAttribute("#chart-rewards polyline", "points"))?.split(" ")).toHaveLength(minutes);
        const ticks = await page.locator("#chart-readings text.tick").allTextContents();
        expect(ticks).toHaveLength(5);
        for (const t of ticks) expect(t).toMatch(/^\d\d:\d\d$/);
        expect(ticks[0]).toBe(new Date(Math.floor(PAID_AT / 60_000) * 60_000).toISOString().slice(11, 16));

        // Ingest by transport (this gateway's counters): the refused post above is HTTP's.
        expect(await page.locator('#transports tr[data-transport="http"] td').allTextContents()).toEqual([
          "HTTP",
          "0",
          "–",
          "0",
          "1",
        ]);
        expect(await page.locator('#transports tr[data-transport="mqtt"] td').allTextContents()).toEqual([
          "MQTT",
          "0",
          "–",
          "0",
          "0",
        ]);

        // Fuel per applet and proving time per circuit: a bar each, its value written beside it, the axis labelled.
        const fuel = page.locator('#chart-fuel [data-bar="energy-sum"]');
        expect(await fuel.locator(".bar-value").textContent()).toBe("123,456");
        expect(Number(await fuel.locator("rect.bar").getAttribute("width"))).toBeGreaterThan(100);
        expect(await page.textContent("#chart-fuel .axis-label")).toBe("fuel per run (metered Wasm instructions)");
        expect(await page.locator("#chart-fuel text.tick").allTextContents()).toEqual(["0", "123k"]);
        const proving = page.locator("#chart-proving g[data-bar]");
        expect(await proving.getAttribute("data-bar")).toBe("energy-sum K=16");
        expect(await proving.locator(".bar-value").textContent()).toBe("2.2 s");
        expect(await page.textContent("#chart-proving .axis-label")).toBe("seconds per proof");
        expect(await page.textContent("#proving tbody td")).toBe("energy-sum K=16");

        // Footer links keep the token.
        expect(await page.getAttribute("footer a[href^='/metrics']", "href")).toBe(`/metrics?token=${TOKEN}`);
        expect(await page.getAttribute("footer a[href^='/dashboard.json']", "href")).toBe(
          `/dashboard.json?token=${TOKEN}`,
        );

        const png = await page.screenshot({ fullPage: true });
        mkdirSync(join("build", "screenshots"), { recursive: true });
        writeFileSync(join("build", "screenshots", "dashboard.png"), png);
        // A PNG of the whole page: 1280 wide, taller than the viewport (25 device rows and more).
        expect(png.subarray(1, 4).toString()).toBe("PNG");
        expect(png.readUInt32BE(16)).toBe(1280);
        expect(png.readUInt32BE(20)).toBeGreaterThan(900);
        expect(blocked).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
