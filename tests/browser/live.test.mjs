// A dashboard open in Chromium changes a component's tile when a fault is
// injected into the drill cluster, without a reload, and changes it back
// when the fault is cleared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWheelhouse, openBrowser, waitFor, artifactsDir } from './harness.mjs';

const EMAIL = 'oncall@example.com';
const PASSWORD = 'correct horse battery staple';

let wheelhouse;
let browser;

before(async () => {
  wheelhouse = await startWheelhouse();
  wheelhouse.addUser(EMAIL, 'responder', PASSWORD);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await wheelhouse?.stop();
});

test('the dashboard shows a crash loop on the Checkout tile without a reload', async () => {
  const page = await browser.newPage();
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);

  const checkout = page.locator('article.tile', { has: page.getByRole('heading', { name: 'Checkout', exact: true }) });
  const status = () => checkout.locator('.badge').getAttribute('data-status');
  await waitFor('Checkout to be operational', async () => (await status()) === 'operational');
  assert.match(await page.locator('.connection').textContent(), /Connected to the cluster/);
  await page.evaluate(() => (window.__sameDocument = true));

  wheelhouse.drill('fault', 'crashloop', 'shop/checkout');
  await waitFor('the Checkout tile to show the outage', async () =>
    ['partial_outage', 'major_outage'].includes(await status()),
  );
  assert.match(await checkout.textContent(), /Partial outage|Major outage/);
  await checkout.locator('summary').click();
  assert.match(await checkout.locator('.reasons').textContent(), /CrashLoopBackOff/);
  await page.screenshot({ path: join(artifactsDir, 'dashboard-outage.png'), fullPage: true });

  wheelhouse.drill('clear', 'crashloop', 'shop/checkout');
  await waitFor('the Checkout tile to recover', async () => (await status()) === 'operational', 60_000);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no page load happened');
});
