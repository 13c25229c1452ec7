// From a red tile to a confirmed rollback in three clicks and no typing:
// after a bad release of checkout, the responder declares from the tile in
// one click (prefilled), the room shows the matched playbook with the
// rollback as its top suggestion (its parameters taken from the evidence
// captured at declaration), one click plans it and shows the dry run, the
// next confirms it, and the tile returns to operational.
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

test('a responder goes from the red Checkout tile to a confirmed rollback in three clicks', async () => {
  const page = await browser.newPage();
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', 'ic@example.com');
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);

  wheelhouse.drill('fault', 'crashloop', 'shop/checkout');
  const tile = page.locator('article.tile', { has: page.locator('h3', { hasText: /^Checkout$/ }) });
  await waitFor('the Checkout tile to turn red', async () => (await tile.locator('button', { hasText: 'Declare now' }).count()) === 1, 60_000);

  // From here on: clicks only, counted; nothing is typed.
  let clicks = 0;
  const click = async (locator, navigation) => {
    clicks += 1;
    await Promise.all([navigation ?? page.waitForLoadState('load'), locator.click()]);
  };

  await click(tile.locator('button', { hasText: 'Declare now' }), page.waitForURL(/\/incidents\/\d+$/));
  const room = page.url();
  assert.match(await page.locator('h1').textContent(), /Checkout: /);

  const top = page.locator('.guidance button.primary');
  await waitFor('the matched playbook and its top suggestion', async () => (await top.count()) === 1, 30_000);
  assert.match(await page.locator('.guidance .playbook').first().locator('h3').textContent(), /crash-looping/);
  assert.match(await top.textContent(), /^Roll back shop\/checkout from revision 2 to 1 \(image .*checkout:1\.14\.3 → .*checkout:1\.14\.2\)$/);

  await click(top, page.waitForURL(/#action-\d+$/));
  const action = page.locator('.action-list > li').first();
  assert.equal(await action.getAttribute('data-status'), 'previewed');
  assert.match(await action.locator('.preview').textContent(), /Dry run: 3 pod\(s\) affected/);

  await click(action.getByRole('button', { name: 'Confirm and run' }));
  await waitFor('the rollback to succeed', async () => (await page.locator('.action-list > li').first().getAttribute('data-status')) === 'succeeded');
  assert.equal(clicks, 3, 'tile → confirmed rollback');

  await page.screenshot({ path: join(artifactsDir, 'playbook-rollback.png'), fullPage: true });
  await page.goto(`${wheelhouse.baseUrl}/`);
  await waitFor('the Checkout tile back to operational', async () =>
    (await tile.locator('.badge').getAttribute('data-status')) === 'operational', 90_000);
  await page.goto(room);
  assert.match(await page.locator('#timeline').textContent(), /Evidence #\d+ captured from deployment shop\/checkout/);

  // The checklist: a tick is recorded on the timeline.
  const firstStep = page.locator('.guidance .playbook').first().locator('.checklist li').first();
  await Promise.all([page.waitForLoadState('load'), firstStep.getByRole('button', { name: 'Mark done' }).click()]);
  await waitFor('the tick on the timeline', async () => /Playbook crash-loop, step 1: done/.test(await page.locator('#timeline').textContent()));
  assert.equal(await page.locator('.guidance .playbook').first().locator('.checklist li').first().getAttribute('class'), 'done');
});
