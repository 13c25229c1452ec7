// The public status page in Chromium: the communications lead publishes a
// public update from the incident room; a second, logged-out browser context
// on /status shows it with the component's status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWheelhouse, openBrowser, waitFor, artifactsDir } from './harness.mjs';

const PASSWORD = 'correct horse battery staple';

let wheelhouse;
let browser;

before(async () => {
  wheelhouse = await startWheelhouse();
  wheelhouse.addUser('comms@example.com', 'responder', PASSWORD);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await wheelhouse?.stop();
});

test('a public update published in the room appears on the logged-out status page', async () => {
  const comms = await (await browser.newContext()).newPage();
  await comms.goto(`${wheelhouse.baseUrl}/login`);
  await comms.fill('input[name=email]', 'comms@example.com');
  await comms.fill('input[name=password]', PASSWORD);
  await Promise.all([comms.waitForURL(`${wheelhouse.baseUrl}/`), comms.click('button[type=submit]')]);

  // Declared by the same person, who commands it and so may publish.
  const checkout = comms.locator('article.tile', { has: comms.getByRole('heading', { name: 'Checkout', exact: true }) });
  await waitFor('the Checkout tile', async () => (await checkout.count()) === 1);
  await checkout.getByRole('link', { name: 'Declare an incident' }).click();
  await comms.waitForURL(/\/incidents\/new/);
  await waitFor('the Checkout box', async () => (await comms.locator('input[name=components]:checked').count()) === 1);
  await comms.fill('input[name=title]', 'Checkout is slow');
  await comms.check('input[name=severity][value=SEV3]');
  await comms.selectOption('select[name=category]', 'application_failure');
  await Promise.all([comms.waitForURL(/\/incidents\/\d+$/), comms.click('form.declare button[type=submit]')]);

  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${wheelhouse.baseUrl}/status`);
  assert.match(await visitor.locator('#components').textContent(), /Checkout/);

  await comms.selectOption('form.update-render select[name=audience]', 'public');
  await comms.selectOption('form.update-render select[name=purpose]', 'identified');
  await comms.fill('form.update-render input[name=impact]', 'Paying takes longer than usual.');
  await Promise.all([comms.waitForLoadState('load'), comms.click('form.update-render button[type=submit]')]);
  const text = comms.locator('#update-text');
  await text.waitFor();
  assert.match(await text.inputValue(), /Paying takes longer than usual\./);
  assert.doesNotMatch(await text.inputValue(), /comms@example\.com/);
  await Promise.all([comms.waitForURL(/\/incidents\/\d+$/), comms.click('form.update-publish button[type=submit]')]);

  assert.equal(await comms.locator('#refusal').count(), 0, `publishing was refused at ${comms.url()}`);
  await waitFor('the update on the public page', async () => {
    await visitor.reload();
    return (await visitor.locator('#active-incidents').count()) === 1 &&
      /Paying takes longer than usual\./.test(await visitor.locator('#active-incidents').textContent());
  });
  const line = visitor.locator('li[data-component]', { hasText: 'Checkout' });
  assert.ok(['operational', 'degraded_performance', 'partial_outage', 'major_outage'].includes(await line.locator('.badge').getAttribute('data-status')));
  assert.match(await visitor.locator('#overall').textContent(), /disruption|outage|operational/i);
  assert.doesNotMatch(await visitor.content(), /comms@example\.com/);
  await visitor.setViewportSize({ width: 390, height: 844 });
  await visitor.screenshot({ path: join(artifactsDir, 'status-page-phone.png'), fullPage: true });
});
