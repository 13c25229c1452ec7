// The incident room in Chromium: the commander declares from the Checkout
// tile, and a second responder with the room open sees the note and the
// status change arrive without a reload.
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
  wheelhouse.addUser('ops@example.com', 'responder', PASSWORD);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await wheelhouse?.stop();
});

async function signIn(email) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);
  return page;
}

test('a declared incident runs in a room that updates live for everyone in it', async () => {
  const ic = await signIn('ic@example.com');
  const checkout = ic.locator('article.tile', { has: ic.getByRole('heading', { name: 'Checkout', exact: true }) });
  await waitFor('the Checkout tile', async () => (await checkout.count()) === 1);
  await checkout.getByRole('link', { name: 'Declare an incident' }).click();
  await ic.waitForURL(/\/incidents\/new\?component=/);
  const box = ic.locator('input[name=components]:checked');
  await waitFor('the Checkout component to be pre-selected', async () => (await box.count()) === 1);
  await ic.fill('input[name=title]', 'Checkout returns errors');
  await ic.check('input[name=severity][value=SEV2]');
  await ic.selectOption('select[name=category]', 'application_failure');
  await ic.fill('textarea[name=summary]', 'Card payments fail for some customers.');
  await Promise.all([ic.waitForURL(/\/incidents\/\d+$/), ic.click('form.declare button[type=submit]')]);
  const room = ic.url();
  assert.match(await ic.locator('[data-field=commander]').textContent(), /ic@example\.com/);
  assert.match(await ic.locator('.affected').textContent(), /Checkout/);

  const ops = await signIn('ops@example.com');
  await ops.goto(room);
  await ops.locator('#timeline').waitFor();
  await ops.evaluate(() => (window.__sameDocument = true));

  await ic.fill('textarea[name=text]', 'Rolling back checkout to v41');
  await Promise.all([ic.waitForURL(room), ic.click('form.note button[type=submit]')]);
  await waitFor('the note to reach the other responder', async () =>
    /Rolling back checkout to v41/.test(await ops.locator('#timeline').textContent()),
  );

  await Promise.all([ic.waitForURL(room), ic.click('button[name=status][value=identified]')]);
  await waitFor('the status change to reach the other responder', async () =>
    (await ops.locator('[data-field=status]').textContent()) === 'identified',
  );
  assert.equal(await ops.evaluate(() => window.__sameDocument), true, 'no page load happened');

  // A refused move is explained: the operations responder holds no role yet.
  await Promise.all([ops.waitForLoadState('load'), ops.click('button[name=status][value=monitoring]')]);
  await waitFor('the refusal', async () => (await ops.locator('#refusal').count()) === 1);
  assert.match(await ops.locator('#refusal').textContent(), /Only the incident commander or communications lead/);
  await ic.screenshot({ path: join(artifactsDir, 'incident-room.png'), fullPage: true });
});
