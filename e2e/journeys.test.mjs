// Browser journeys through the dashboard: headless Debian chromium driven by
// playwright-core, against the servers that run.sh starts:
//
// - LIVE: the real `amzsync serve` with `amzsync sim` as Amazon. A store is
//   added with the simulator's credentials, synced by the engine's workers,
//   broken by revoking its grant and mended with new credentials and a retry.
//   These journeys run in order: each starts where the one before left off.
// - SEEDED: the dashboard-demo example over a seeded database (30 days of
//   charts, several stores, failed tasks); no worker runs there, so those
//   journeys stop where a worker would take over.
//
// Elements are found by data-test; every wait is for a condition, none for time.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const SEEDED = { base: process.env.AMZSYNC_URL, token: process.env.AMZSYNC_TOKEN };
const LIVE = { base: process.env.LIVE_URL, token: process.env.LIVE_TOKEN };
const SIM = {
  base: process.env.SIM_URL,
  sellerId: process.env.SIM_SELLER_ID,
  spToken: process.env.SIM_SP_TOKEN,
  adsToken: process.env.SIM_ADS_TOKEN,
};
const SHOTS = process.env.SCREENSHOTS ?? "../target/e2e-screenshots";
assert.ok(SEEDED.base && SEEDED.token, "run through e2e/run.sh (AMZSYNC_URL and AMZSYNC_TOKEN)");
assert.ok(LIVE.base && LIVE.token && SIM.base && SIM.spToken, "run through e2e/run.sh (LIVE_URL, SIM_URL, …)");
mkdirSync(SHOTS, { recursive: true });

/** How long the engine may take for a sync of a few days against the simulator. */
const SYNC_TIMEOUT = 90_000;

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

/** A fresh browser (no cookies) signed in to `server` with its token. */
async function signedIn(t, server, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: "en-US" });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.base}/`);
  await el(page, "token-input").fill(server.token);
  await el(page, "sign-in-button").click();
  await el(page, "user-name").waitFor();
  return page;
}

/** A call to the simulator's control API; the answer's JSON, if any. */
async function simControl(path, body) {
  const response = await fetch(`${SIM.base}/_sim/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `POST /_sim/${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Records, in the page, every status the kind card shows from now on (the
 * dashboard's script replaces the card as the task moves), and whether a
 * progress bar was among them. Read it back with `seenStatuses`.
 */
async function watchCard(page, kind) {
  await page.evaluate((testId) => {
    const seen = { statuses: [], progress: [] };
    window.__cardWatch = seen;
    const record = () => {
      const card = document.querySelector(`[data-test="${testId}"]`);
      const status = card?.querySelector('[data-test="sync-status"]')?.dataset.status;
      if (status && seen.statuses[seen.statuses.length - 1] !== status) seen.statuses.push(status);
      const progress = card?.querySelector('[data-test="sync-progress"]');
      if (progress) seen.progress.push(progress.textContent.replace(/\s+/g, " ").trim());
    };
    new MutationObserver(record).observe(document.body, { childList: true, subtree: true, attributes: true });
    record();
  }, `kind-card-${kind}`);
}

/**
 * Clicks a kind card's "Sync now", waits for the new task to show (at once:
 * the answer is the card), then for the card to reach success or failure by
 * itself. Returns every status the card showed, its progress texts and the
 * final status.
 */
async function syncNow(page, kind, screenshot) {
  const card = () => el(page, `kind-card-${kind}`);
  const status = (which) =>
    card().locator(`[data-test="sync-status"]:is(${which.map((s) => `[data-status="${s}"]`).join(", ")})`);
  await watchCard(page, kind);
  await card().locator('[data-test="sync-button"]').click();
  await page.waitForFunction(() => window.__cardWatch.statuses.some((s) => s === "pending" || s === "running"));
  if (screenshot) await shot(page, screenshot);
  await status(["success", "failed"]).waitFor({ timeout: SYNC_TIMEOUT });
  const watched = await page.evaluate(() => window.__cardWatch);
  return { ...watched, final: await card().locator('[data-test="sync-status"]').getAttribute("data-status") };
}

/** What the live journeys hand on to each other. */
const live = { storeName: "Sim store (US)", storeId: null, failedTask: null };

describe("the real binary, with the simulator as Amazon", () => {
  test("sign in, add a store, sync business reports to success, see the history row and a chart", async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
    t.after(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);

    await page.goto(`${LIVE.base}/`);
    await el(page, "sign-in-form").waitFor();
    await el(page, "token-input").fill(LIVE.token);
    await el(page, "sign-in-button").click();
    await el(page, "user-name").filter({ hasText: "e2e" }).waitFor();
    await el(page, "no-stores").waitFor();
    await shot(page, "live-01-no-stores");

    await el(page, "add-store").click();
    await el(page, "store-name-input").fill(live.storeName);
    await el(page, "region-select").selectOption("na");
    await el(page, "marketplaces-input").fill("US");
    await el(page, "seller-id-input").fill(SIM.sellerId);
    await el(page, "sp-token-input").fill(SIM.spToken);
    await el(page, "ads-token-input").fill(SIM.adsToken);
    await shot(page, "live-02-add-store");
    await el(page, "create-store-button").click();
    await el(page, "store-title").filter({ hasText: live.storeName }).waitFor();
    live.storeId = new URL(page.url()).pathname.split("/").pop();
    assert.match(live.storeId, /^\d+$/, `store page: ${page.url()}`);
    assert.ok(!(await page.content()).includes(SIM.spToken), "a secret is never shown back");
    const business = el(page, "kind-card-business");
    await business.locator('[data-test="sync-status"]').waitFor();
    const never = await business.locator('[data-test="last-sync"]').textContent();
    assert.match(never, /^never$/i);

    const watched = await syncNow(page, "business", "live-03-sync-started");
    const card = el(page, "kind-card-business");
    const error = await card.locator('[data-test="sync-error"]').allTextContents();
    assert.equal(watched.final, "success", `error: ${error}`);
    // Watched live: the card went through the task's states on its own.
    assert.deepEqual(watched.statuses.slice(0, 1), ["never"], `statuses seen: ${watched.statuses}`);
    const between = watched.statuses.slice(1, -1);
    assert.ok(
      between.length >= 1 && between.every((s) => s === "pending" || s === "running"),
      `statuses seen: ${watched.statuses}`,
    );
    if (between.includes("running")) assert.ok(watched.progress.length > 0, "a running task shows its progress");
    const records = Number((await card.locator('[data-test="records-synced"]').textContent()).trim().split(/\s/)[0]);
    assert.ok(records > 0, `records synced: ${records}`);
    assert.notEqual(await card.locator('[data-test="last-sync"]').textContent(), never);
    await shot(page, "live-04-sync-succeeded");

    // The charts are drawn on the server: the page as loaded now has the data.
    await page.reload();
    await el(page, "chart-sales").locator("svg").waitFor();
    assert.ok((await el(page, "chart-sales").locator("rect").count()) > 0, "bars of daily sales");
    assert.equal(await el(page, "chart-sales").locator('[data-test="no-data"]').count(), 0);
    await shot(page, "live-05-store-with-data");

    await el(page, "nav-history").click();
    const row = el(page, "history-row").filter({ hasText: live.storeName });
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    assert.equal(await row.getAttribute("data-status"), "success");
    assert.equal(await row.locator('[data-test="row-kind"]').textContent(), "Sales & traffic");
    await shot(page, "live-06-history");
  });

  test("a revoked grant fails with its error and asks for re-authorization; new credentials and a retry mend it", async (t) => {
    assert.ok(live.storeId, "needs the store of the journey before");
    await simControl("grants/revoke", { refresh_token: SIM.spToken });

    const page = await signedIn(t, LIVE);
    await el(page, "store-name").filter({ hasText: live.storeName }).click();
    await el(page, "store-title").waitFor();
    const business = el(page, "kind-card-business");
    const watched = await syncNow(page, "business");
    assert.equal(watched.final, "failed", `statuses seen: ${watched.statuses}`);
    await business.locator('[data-test="sync-error"]').waitFor();
    await shot(page, "live-07-sync-failed");

    // The warning is part of the page, not of the card: it shows on the next load.
    await page.reload();
    await el(page, "needs-reauth").waitFor();
    await el(page, "nav-stores").click();
    const store = el(page, "store").filter({ has: page.locator('[data-test="store-name"]', { hasText: live.storeName }) });
    await store.locator('[data-test="needs-reauth"]').waitFor();
    await shot(page, "live-08-stores-needs-reauth");

    await el(page, "nav-history").click();
    await el(page, "filter-status").selectOption("failed");
    await el(page, "filter-apply").click();
    await page.waitForURL(/status=failed/);
    await el(page, "history-row").first().waitFor();
    assert.equal(await el(page, "history-row").count(), 1);
    await el(page, "row-details").click();
    await el(page, "task-error-class").waitFor();
    live.failedTask = page.url();
    const errorClass = await el(page, "task-error-class").textContent();
    const message = await el(page, "task-error-message").textContent();
    assert.match(errorClass, /unauthori[sz]ed/i, `error class: ${errorClass}`);
    assert.match(message, /invalid_grant|revoked/i, `error message: ${message}`);
    await shot(page, "live-09-task-failed");

    // New credentials: the seller authorizes the application again (the same
    // seller and marketplaces as `amzsync sim` made), which gives a new
    // refresh token, entered on the settings page (write-only).
    const grant = await simControl("sellers", {
      seller_id: SIM.sellerId,
      marketplaces: ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"].map((id) => ({ marketplace_id: id, sku_count: 10 })),
    });
    assert.notEqual(grant.refresh_token, SIM.spToken);
    await page.goto(`${LIVE.base}/stores/${live.storeId}/settings`);
    await el(page, "needs-reauth").waitFor();
    // "Verify" asks Amazon: the revoked SP-API grant fails, the Ads one works.
    await el(page, "verify-button").click();
    await el(page, "verify-result").waitFor();
    assert.equal(await el(page, "verify-result").getAttribute("data-valid"), "false");
    await el(page, "verify-sp-api").and(page.locator('[data-status="failed"]')).waitFor();
    assert.match(await el(page, "verify-sp-api").textContent(), /Unauthorized[\s\S]*invalid_grant/);
    assert.equal(await el(page, "verify-advertising").getAttribute("data-status"), "valid");
    await el(page, "verify-profiles").filter({ hasText: "US" }).waitFor();
    await shot(page, "live-10-verify-revoked");

    await el(page, "sp-token-input").fill(grant.refresh_token);
    await el(page, "save-credentials").click();
    await el(page, "saved").waitFor();
    assert.ok(!(await page.content()).includes(grant.refresh_token), "a secret is never shown back");
    await el(page, "verify-button").click();
    await el(page, "verify-result").and(page.locator('[data-valid="true"]')).waitFor();
    assert.equal(await el(page, "verify-sp-api").getAttribute("data-status"), "valid");
    await shot(page, "live-11-credentials-saved-and-verified");

    await page.goto(live.failedTask);
    await el(page, "retry-button").click();
    await el(page, "task-notice").waitFor();
    // The store page follows the retried task live.
    await page.goto(`${LIVE.base}/stores/${live.storeId}`);
    await el(page, "kind-card-business")
      .locator('[data-test="sync-status"][data-status="success"]')
      .waitFor({ timeout: SYNC_TIMEOUT });
    await page.goto(live.failedTask);
    await el(page, "task-status").filter({ hasText: "Success" }).waitFor();
    assert.equal(await el(page, "task-error-class").count(), 0);
    await shot(page, "live-12-task-retried");
    await page.goto(`${LIVE.base}/stores/${live.storeId}`);
    await el(page, "store-title").waitFor();
    assert.equal(await el(page, "needs-reauth").count(), 0, "mended: no re-authorization warning");
  });

  test("switching to Chinese changes the store page's labels", async (t) => {
    assert.ok(live.storeId, "needs the store of the first journey");
    const page = await signedIn(t, LIVE);
    await page.goto(`${LIVE.base}/stores/${live.storeId}`);
    const button = el(page, "kind-card-business").locator('[data-test="sync-button"]');
    const english = await button.textContent();
    await el(page, "switch-language").click();
    await el(page, "nav-history").filter({ hasText: "同步记录" }).waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), "zh-CN");
    assert.notEqual(await button.textContent(), english);
    await shot(page, "live-13-store-zh");
    await el(page, "switch-language").click();
    await el(page, "nav-history").filter({ hasText: "Sync history" }).waitFor();
  });
});

describe("the seeded dashboard-demo server", () => {
  test("sign in, see the stores, add a store and see it", async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);

    await page.goto(`${SEEDED.base}/history`);
    await el(page, "sign-in-form").waitFor();
    assert.match(page.url(), /\/sign-in\?next=/, "signed out, a page sends you to sign in");
    await shot(page, "01-sign-in");
    await el(page, "token-input").fill("amzs_not-a-real-token");
    await el(page, "sign-in-button").click();
    await el(page, "sign-in-error").waitFor();

    await el(page, "token-input").fill(SEEDED.token);
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
    const page = await signedIn(t, SEEDED);
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
    const page = await signedIn(t, SEEDED);
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
    const page = await signedIn(t, SEEDED, { width: 390, height: 844 });
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
    const page = await signedIn(t, SEEDED);
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
});
