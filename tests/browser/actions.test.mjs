// Containment in Chromium: the commander previews and confirms a cordon in
// the incident room; /cluster shows the node cordoned; the action and its
// undo appear on the timeline.
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
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await wheelhouse?.stop();
});

test('the commander cordons a node from the incident room and undoes it', async () => {
  const page = await browser.newPage();
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', 'ic@example.com');
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);

  await page.goto(`${wheelhouse.baseUrl}/incidents/new`);
  await page.fill('input[name=title]', 'worker-3 flaps');
  await page.check('input[name=severity][value=SEV3]');
  await page.selectOption('select[name=category]', 'infrastructure_node');
  await Promise.all([page.waitForURL(/\/incidents\/\d+$/), page.click('form.declare button[type=submit]')]);
  const room = page.url();

  await page.selectOption('select[name=action]', 'cordon');
  await waitFor('worker-3 in the node picker', async () => (await page.locator('select[name=node] option[value=worker-3]').count()) === 1);
  await page.selectOption('select[name=node]', 'worker-3');
  await Promise.all([page.waitForURL(/\/incidents\/\d+#action-\d+$/), page.click('form.plan button[type=submit]')]);
  const item = page.locator('.action-list > li').first();
  assert.equal(await item.getAttribute('data-status'), 'previewed');
  assert.match(await item.locator('.preview').textContent(), /would be cordoned/);

  await Promise.all([page.waitForLoadState('load'), item.getByRole('button', { name: 'Confirm and run' }).click()]);
  await waitFor('the cordon to succeed', async () => (await page.locator('.action-list > li').first().getAttribute('data-status')) === 'succeeded');

  const cluster = await browser.newPage({ storageState: await page.context().storageState() });
  await cluster.goto(`${wheelhouse.baseUrl}/cluster`);
  await waitFor('worker-3 to show as cordoned', async () =>
    (await cluster.locator('tr[data-node=worker-3] .scheduling').textContent()) === 'Cordoned',
  );

  await page.goto(room);
  await Promise.all([
    page.waitForLoadState('load'),
    page.locator('.action-list > li').first().getByRole('button', { name: /Undo: uncordon node worker-3/ }).click(),
  ]);
  await waitFor('the undo', async () => (await page.locator('.action-list > li').first().getAttribute('data-status')) === 'undone');
  const timeline = await page.locator('#timeline').textContent();
  assert.match(timeline, /Action #\d+ done: cordon node worker-3/);
  assert.match(timeline, /Undo: uncordon node worker-3/);
  assert.match(timeline, /Action #\d+ undone: cordon node worker-3/);
  await cluster.reload();
  await waitFor('worker-3 schedulable again', async () =>
    (await cluster.locator('tr[data-node=worker-3] .scheduling').textContent()) === 'Schedulable',
  );
  await page.screenshot({ path: join(artifactsDir, 'incident-actions.png'), fullPage: true });
});
