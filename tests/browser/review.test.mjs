// After the incident: the commander resolves it from the room, opens the
// review, writes it, adds a follow-up, sends it for review and publishes it;
// the incident then shows as closed, and the follow-up is on the owner's
// dashboard. Every step is a plain form post, as without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWheelhouse, openBrowser, waitFor, artifactsDir } from './harness.mjs';

const PASSWORD = 'correct horse battery staple';

let wheelhouse;
let browser;

before(async () => {
  wheelhouse = await startWheelhouse();
  wheelhouse.addUser('ic@example.com', 'responder', PASSWORD);
  wheelhouse.addUser('owner@example.com', 'responder', PASSWORD);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await wheelhouse?.stop();
});

async function signIn(page, email) {
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);
}

test('resolve, write the review, add a follow-up, publish: the incident is closed', async () => {
  const page = await browser.newPage();
  await signIn(page, 'ic@example.com');
  await page.goto(`${wheelhouse.baseUrl}/incidents/new`);
  await page.fill('input[name=title]', 'Checkout answers 500');
  await page.check('input[name=severity][value=SEV2]');
  await page.selectOption('select[name=category]', 'application_failure');
  await Promise.all([page.waitForURL(/\/incidents\/\d+$/), page.click('form.declare button[type=submit]')]);
  const room = page.url();

  await Promise.all([page.waitForLoadState('load'), page.locator('button[name=status][value=resolved]').click()]);
  await waitFor('the review link', async () => (await page.locator('#review-link a').count()) === 1);
  assert.match(await page.locator('#review-link').textContent(), /Post-incident review \(draft\)/);
  await Promise.all([page.waitForURL(/\/review$/), page.locator('#review-link a').click()]);

  // The key times are computed, not typed.
  assert.match(await page.locator('tr[data-time=declared] td').first().textContent(), /UTC$/);
  assert.match(await page.locator('tr[data-time=resolved] td').first().textContent(), /UTC$/);

  await page.fill('textarea[name=summary]', 'Checkout answered 500 for twenty minutes after release 1.4.');
  await page.fill('textarea[name=trigger]', 'Release 1.4 shipped a broken image tag.');
  await page.locator('select[name=factor_kind]').first().selectOption('change');
  await page.locator('input[name=factor_text]').first().fill('No canary for checkout');
  await Promise.all([page.waitForURL(/#sections$/), page.getByRole('button', { name: 'Save the review' }).click()]);
  assert.equal(await page.locator('textarea[name=summary]').inputValue(), 'Checkout answered 500 for twenty minutes after release 1.4.');
  assert.match(await page.locator('#revisions').textContent(), /#1 .* ic@example\.com — Summary, Trigger, Contributing factors/);

  const followUps = page.locator('form.follow-up-form');
  await followUps.locator('input[name=title]').fill('Alert when a rollout stalls');
  await followUps.locator('select[name=owner]').selectOption('owner@example.com');
  await followUps.locator('input[name=due]').fill('2030-01-15');
  await followUps.locator('input[name=link]').fill('https://tracker.example/OPS-12');
  await Promise.all([page.waitForURL(/#follow-ups$/), followUps.getByRole('button', { name: 'Add the follow-up' }).click()]);
  const row = page.locator('table.follow-ups tbody tr').first();
  assert.match(await row.textContent(), /Alert when a rollout stalls.*owner@example\.com.*2030-01-15/s);

  await Promise.all([page.waitForURL(/#review-state$/), page.getByRole('button', { name: 'Send for review' }).click()]);
  assert.match(await page.locator('#review-state').textContent(), /in review/);
  await Promise.all([page.waitForURL(/#review-state$/), page.getByRole('button', { name: 'Publish and close the incident' }).click()]);
  assert.match(await page.locator('#review-state').textContent(), /Review published · incident closed/);
  assert.equal(await page.locator('textarea[name=summary]').count(), 0, 'a published review is read, not edited');
  await page.screenshot({ path: join(artifactsDir, 'review-published.png'), fullPage: true });

  await page.goto(room);
  await waitFor('the room to show the incident closed', async () => (await page.locator('[data-field=closed]').count()) === 1);
  assert.match(await page.locator('#timeline').textContent(), /Closed: the post-incident review is published/);

  const markdown = await (await page.request.get(`${room}/review.md`)).text();
  assert.match(markdown, /## Follow-ups[\s\S]*\| Alert when a rollout stalls \| owner@example\.com \| 2030-01-15 \| Open \|/);

  const owner = await browser.newPage();
  await signIn(owner, 'owner@example.com');
  await waitFor('the follow-up on its owner\'s dashboard', async () =>
    /Alert when a rollout stalls/.test(await owner.locator('#my-follow-ups').textContent().catch(() => '')));
});
