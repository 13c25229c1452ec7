// A responder signs in, sees the dashboard with their name, uses the hydrated
// user menu without a page load, and signs out — in real headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWheelhouse, openBrowser, waitFor, artifactsDir } from './harness.mjs';

const EMAIL = 'responder@example.com';
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

test('a responder signs in, sees the hydrated dashboard, and signs out', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/login')) problems.push(`${r.status()} for ${r.url()}`);
  });
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error' && !/dbus|Failed to load resource/i.test(text)) problems.push(`console: ${text}`);
  });

  // Signed out, the dashboard sends us to sign in.
  await page.goto(`${wheelhouse.baseUrl}/`);
  assert.match(new URL(page.url()).pathname, /^\/login$/);
  await page.fill('input[name=email]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);

  // The dashboard shows who is signed in and the drill banner.
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  assert.equal(await page.locator('.user-email').textContent(), EMAIL);
  assert.match(await page.locator('.drill-banner').textContent(), /Drill cluster/);

  // Hydrated: the user menu opens on click, without a page load.
  await page.evaluate(() => (window.__sameDocument = true));
  const toggle = page.locator('.user-menu-toggle');
  await waitFor('the user menu to respond (hydration)', async () => {
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    return (await toggle.getAttribute('aria-expanded')) === 'true';
  }).catch((e) => {
    throw new Error(`${e.message}; problems seen: ${JSON.stringify(problems)}`);
  });
  assert.equal(await page.locator('#user-menu-panel').isVisible(), true);
  assert.match(await page.locator('#user-menu-panel').textContent(), /Signed in as responder@example.com/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no full page load happened');

  await page.screenshot({ path: join(artifactsDir, 'dashboard.png'), fullPage: true });

  // Signing out returns to the sign-in page; the dashboard is closed again.
  await Promise.all([page.waitForURL(/\/login$/), page.getByRole('button', { name: 'Sign out' }).click()]);
  await page.goto(`${wheelhouse.baseUrl}/`);
  assert.match(new URL(page.url()).pathname, /^\/login$/);

  assert.deepEqual(problems, [], 'no script errors or CSP violations');
});

test('the sign-in page works with JavaScript off', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', EMAIL);
  await page.fill('input[name=password]', 'a wrong password');
  await page.click('button[type=submit]');
  assert.match(await page.locator('.form-error').textContent(), /Wrong e-mail address or password/);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);
  assert.equal(await page.locator('.user-email').textContent(), EMAIL);
  await context.close();
});
