// Scheduled maintenance from the browser: a responder schedules a window on
// /maintenance with a cordon at its start and an uncordon at its end, lands
// on the window's page with both actions previewed, confirms the cordon, and
// the public status page lists the window as scheduled. A visitor subscribes
// from the status page and confirms through the link mailed to them (a real
// SMTP server). Plain form posts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWheelhouse, startSmtp, openBrowser, waitFor, artifactsDir } from './harness.mjs';

const PASSWORD = 'correct horse battery staple';

let wheelhouse;
let browser;
let smtp;

before(async () => {
  smtp = await startSmtp();
  wheelhouse = await startWheelhouse({ WHEELHOUSE_SMTP_URL: smtp.url, WHEELHOUSE_MAIL_FROM: 'status@example.com' });
  wheelhouse.addUser('ops@example.com', 'responder', PASSWORD);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await wheelhouse?.stop();
  smtp?.stop();
});

test('schedule a window with planned actions, confirm one, see it on the status page', async () => {
  const page = await browser.newPage();
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', 'ops@example.com');
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);

  await page.goto(`${wheelhouse.baseUrl}/maintenance`);
  assert.match(await page.locator('#no-windows').textContent(), /No maintenance is scheduled/);
  const form = page.locator('#schedule-form');
  await form.locator('input[name=title]').fill('Kernel upgrade on worker-1');
  await form.locator('textarea[name=description]').fill('worker-1 restarts once.');
  // The times come prefilled (an hour from now, for an hour).
  assert.match(await form.locator('input[name=starts_at]').inputValue(), /^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
  await form.locator('input[name=components][value="node/worker-1"]').check();
  await form.locator('select[name=start_action]').selectOption('cordon');
  await form.locator('select[name=start_node]').selectOption('worker-1');
  await form.locator('select[name=end_action]').selectOption('uncordon');
  await form.locator('select[name=end_node]').selectOption('worker-1');
  await Promise.all([page.waitForURL(/\/maintenance\/\d+$/), form.getByRole('button', { name: 'Schedule' }).click()]);

  assert.equal(await page.locator('#maintenance').getAttribute('data-state'), 'scheduled');
  assert.match(await page.locator('#window-components').textContent(), /worker-1/);
  const actions = page.locator('ul.planned-actions li');
  assert.equal(await actions.count(), 2);
  assert.match(await actions.nth(0).textContent(), /cordon.*planned.*Dry run:/s);
  await Promise.all([page.waitForURL(/#action-\d+$/), actions.nth(0).getByRole('button', { name: 'Confirm' }).click()]);
  assert.equal(await page.locator('ul.planned-actions li').nth(0).getAttribute('data-status'), 'confirmed');
  assert.match(await page.locator('#maintenance-log').textContent(), /Confirmed:/);
  await page.screenshot({ path: join(artifactsDir, 'maintenance-window.png'), fullPage: true });

  // The dashboard lists it; the public status page shows it as scheduled.
  await page.goto(`${wheelhouse.baseUrl}/`);
  assert.match(await page.locator('#maintenance-overview').textContent(), /Kernel upgrade on worker-1/);
  const status = await browser.newPage();
  await status.goto(`${wheelhouse.baseUrl}/status`);
  assert.match(await status.locator('#upcoming-maintenance').textContent(), /Kernel upgrade on worker-1.*worker-1 restarts once\./s);

  // A visitor subscribes from the status page and confirms through the mailed link.
  await status.fill('#subscribe input[name=email]', 'visitor@example.com');
  await Promise.all([status.waitForURL(/\/status\/subscribe$/), status.locator('#subscribe button[type=submit]').click()]);
  assert.match(await status.locator('h1').textContent(), /Check your inbox/);
  const mail = await waitFor('the confirmation mail', () => smtp.messages('visitor@example.com')[0]);
  assert.equal(mail.subject, 'Confirm your status subscription');
  const link = mail.body.match(/http:\S+\/status\/subscribe\/confirm\?token=\S+/)[0];
  await status.goto(link);
  await Promise.all([status.waitForLoadState('load'), status.getByRole('button', { name: 'Confirm' }).click()]);
  assert.match(await status.locator('h1').textContent(), /Subscribed/);
  await status.screenshot({ path: join(artifactsDir, 'status-subscribed.png') });
  await status.close();
});
