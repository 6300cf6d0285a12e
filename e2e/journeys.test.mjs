// Browser journeys through the dashboard: headless Debian chromium driven by
// playwright-core, against the dashboard-demo server that run.sh starts.
// Elements are found by data-test; every wait is for a condition, none for time.
// No sync engine runs here: journeys stop where a worker would take over.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const BASE = process.env.AMZSYNC_URL;
const TOKEN = process.env.AMZSYNC_TOKEN;
const SHOTS = process.env.SCREENSHOTS ?? "../target/e2e-screenshots";
assert.ok(BASE && TOKEN, "run through e2e/run.sh (AMZSYNC_URL and AMZSYNC_TOKEN)");
mkdirSync(SHOTS, { recursive: true });

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
});

const el = (page, name) => page.locator(`[data-test="${name}"]`);

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** A fresh browser (no cookies) signed in as the demo user. */
async function signedIn(t, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: "en-US" });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${BASE}/`);
  await el(page, "token-input").fill(TOKEN);
  await el(page, "sign-in-button").click();
  await el(page, "user-name").waitFor();
  return page;
}

test("sign in, see the stores, add a store and see it", async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);

  await page.goto(`${BASE}/history`);
  await el(page, "sign-in-form").waitFor();
  assert.match(page.url(), /\/sign-in\?next=/, "signed out, a page sends you to sign in");
  await shot(page, "01-sign-in");
  await el(page, "token-input").fill("amzs_not-a-real-token");
  await el(page, "sign-in-button").click();
  await el(page, "sign-in-error").waitFor();

  await el(page, "token-input").fill(TOKEN);
  await el(page, "sign-in-button").click();
  await el(page, "history-table").waitFor();
  await el(page, "nav-stores").click();
  await el(page, "store").first().waitFor();
  const names = await el(page, "store-name").allTextContents();
  assert.ok(names.includes("Acme US") && names.includes("Acme EU"), `stores: ${names}`);
  await shot(page, "02-stores");

  await el(page, "add-store").click();
  await el(page, "store-name-input").fill("Café <Nord> GmbH");
  await el(page, "region-select").selectOption("eu");
  await el(page, "marketplaces-input").fill("DE, FR");
  await el(page, "seller-id-input").fill("A1E2ESELLER");
  await el(page, "sp-token-input").fill("Atzr|e2e-secret");
  await shot(page, "03-add-store");
  await el(page, "create-store-button").click();
  await el(page, "store-title").waitFor();
  assert.equal(await el(page, "store-title").textContent(), "Café <Nord> GmbH");
  assert.match(await el(page, "store-marketplaces").textContent(), /DE, FR/);
  assert.ok(!(await page.content()).includes("Atzr|e2e-secret"), "a secret is never shown back");

  await el(page, "nav-stores").click();
  await el(page, "store-name").filter({ hasText: "Café <Nord> GmbH" }).waitFor();
});

test("the store page shows charts and weeks of cover, and a sync button answers at once", async (t) => {
  const page = await signedIn(t);
  await el(page, "store-name").filter({ hasText: "Acme US" }).click();
  await el(page, "chart-sales").locator("svg").waitFor();
  assert.ok((await el(page, "chart-sales").locator("rect").count()) >= 28, "a bar per day");
  await el(page, "chart-acos").locator("polyline").first().waitFor();
  assert.ok((await el(page, "inventory-row").count()) === 3);
  await shot(page, "04-store-at-a-glance");

  // No engine runs: the new task stays pending, so the second click meets it.
  const card = el(page, "kind-card-business");
  await card.locator('[data-test="sync-button"]').click();
  await card.locator('[data-test="sync-status"][data-status="pending"]').waitFor();
  await card.locator('[data-test="sync-button"]').click();
  await el(page, "kind-card-business").locator('[data-test="sync-notice"]').filter({ hasText: "already running" }).waitFor();
  await shot(page, "05-sync-already-running");
});

test("history filters by status and shows a failure's details, and retry puts it back", async (t) => {
  const page = await signedIn(t);
  await el(page, "nav-history").click();
  await el(page, "history-table").waitFor();
  await el(page, "filter-status").selectOption("failed");
  await el(page, "filter-apply").click();
  await page.waitForURL(/status=failed/);
  const statuses = await el(page, "history-row").evaluateAll((rows) => rows.map((r) => r.dataset.status));
  assert.ok(statuses.length >= 2 && statuses.every((s) => s === "failed"), `statuses: ${statuses}`);
  await shot(page, "06-history-failed");

  await el(page, "filter-kind").selectOption("inventory");
  await el(page, "filter-apply").click();
  await page.waitForURL(/kind=inventory/);
  await el(page, "row-details").first().click();
  await el(page, "task-error-class").filter({ hasText: "Unauthorized" }).waitFor();
  assert.match(await el(page, "task-error-message").textContent(), /invalid_grant/);
  assert.equal(await el(page, "task-attempts").textContent(), "1");
  await shot(page, "07-task-failed");
  await el(page, "retry-button").click();
  await el(page, "task-status").filter({ hasText: "Pending" }).waitFor();
  await el(page, "task-notice").waitFor();
});

test("the re-authorization warning shows for a store whose grant was revoked", async (t) => {
  const page = await signedIn(t, { width: 390, height: 844 });
  const eu = el(page, "store").filter({ has: page.locator('[data-test="store-name"]', { hasText: "Acme EU" }) });
  await eu.locator('[data-test="needs-reauth"]').waitFor();
  const us = el(page, "store").filter({ has: page.locator('[data-test="store-name"]', { hasText: "Acme US" }) });
  assert.equal(await us.locator('[data-test="needs-reauth"]').count(), 0);
  await shot(page, "08-stores-phone-width");
  await eu.locator('[data-test="store-settings"]').click();
  await el(page, "needs-reauth").waitFor();
  await shot(page, "09-store-settings");
});

test("switching to Chinese changes the labels and is remembered", async (t) => {
  const page = await signedIn(t);
  assert.equal(await el(page, "nav-history").textContent(), "Sync history");
  await el(page, "switch-language").click();
  await el(page, "nav-history").filter({ hasText: "同步记录" }).waitFor();
  assert.equal(await page.locator("html").getAttribute("lang"), "zh-CN");
  await shot(page, "10-stores-zh");
  await el(page, "nav-history").click();
  await el(page, "filter-apply").filter({ hasText: "筛选" }).waitFor();
  await shot(page, "11-history-zh");
  await el(page, "switch-language").click();
  await el(page, "nav-history").filter({ hasText: "Sync history" }).waitFor();
});
