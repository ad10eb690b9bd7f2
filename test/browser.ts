/**
 * Headless Chromium for the page tests (Debian's chromium via playwright-core), with every request that does not go
 * to this machine blocked and recorded: a page that needs the internet shows it in `blocked`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export async function offlineBrowser(): Promise<{ browser: BrowserContext; blocked: string[] }> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "mfi-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const blocked: string[] = [];
  await browser.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (/^(127\.0\.0\.1|localhost|\[::1\])$/.test(url.hostname) || url.protocol === "data:") return route.continue();
    blocked.push(url.href);
    return route.abort("internetdisconnected");
  });
  return { browser, blocked };
}
