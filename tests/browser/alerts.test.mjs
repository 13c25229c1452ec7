// The alert inbox in Chromium: an alert posted the way Alertmanager posts it
// appears without a reload; a responder acknowledges it, declares an incident
// from it with the form prefilled, and takes command of an incident a
// critical alert declared by itself. The inbox also works without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWheelhouse, openBrowser, waitFor, artifactsDir } from './harness.mjs';

const EMAIL = 'oncall@example.com';
const PASSWORD = 'correct horse battery staple';

let wheelhouse;
let browser;
let token;

before(async () => {
  wheelhouse = await startWheelhouse();
  wheelhouse.addUser(EMAIL, 'responder', PASSWORD);
  token = wheelhouse.createToken('alertmanager', 'alerts');
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await wheelhouse?.stop();
});

function delivery(fingerprint, severity, labels, summary) {
  return {
    version: '4',
    groupKey: `{}:{alertname="${labels.alertname}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'wheelhouse',
    groupLabels: { alertname: labels.alertname },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com',
    alerts: [
      {
        status: 'firing',
        labels: { ...labels, severity },
        annotations: { summary, runbook_url: 'https://runbooks.example.com/crashloop' },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.com/graph',
        fingerprint,
      },
    ],
  };
}

async function post(body) {
  const response = await fetch(`${wheelhouse.baseUrl}/api/v1/alerts/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text);
}

async function signIn(context) {
  const page = await context.newPage();
  await page.goto(`${wheelhouse.baseUrl}/login`);
  await page.fill('input[name=email]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${wheelhouse.baseUrl}/`), page.click('button[type=submit]')]);
  return page;
}

test('an alert arrives live, is acknowledged, and an incident is declared from it prefilled', async () => {
  const context = await browser.newContext();
  const page = await signIn(context);
  await page.goto(`${wheelhouse.baseUrl}/alerts`);
  await page.locator('#no-alerts').waitFor();
  await page.evaluate(() => (window.__sameDocument = true));

  await post(delivery('f00d0001', 'warning', { alertname: 'KubeDeploymentReplicasMismatch', namespace: 'shop', deployment: 'checkout' }, 'checkout has 1 of 3 replicas'));
  const row = page.locator('li.alert', { hasText: 'KubeDeploymentReplicasMismatch' });
  await row.waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the alert appeared without a reload');
  assert.match(await row.textContent(), /Checkout/);
  assert.match(await row.textContent(), /checkout has 1 of 3 replicas/);
  assert.equal(await row.getByRole('link', { name: 'Runbook' }).getAttribute('href'), 'https://runbooks.example.com/crashloop');
  await page.screenshot({ path: join(artifactsDir, 'alert-inbox.png'), fullPage: true });

  await row.getByRole('button', { name: 'Acknowledge' }).click();
  await waitFor('the acknowledgement', async () => /Acknowledged by oncall@example.com/.test(await row.textContent()));

  await Promise.all([page.waitForURL(/\/incidents\/new\?alerts=/), row.getByRole('link', { name: 'Declare with details…' }).click()]);
  assert.match(await page.locator('#title').inputValue(), /^Checkout: checkout has 1 of 3 replicas/);
  assert.equal(await page.locator('input[name=severity][value=SEV3]').isChecked(), true, 'a warning suggests SEV3');
  assert.equal(await page.locator('input[name=components][value="service/2"]').isChecked(), true);
  await Promise.all([page.waitForURL(/\/incidents\/\d+$/), page.getByRole('button', { name: 'Declare' }).click()]);
  await waitFor('the alert on the timeline', async () => /Alert KubeDeploymentReplicasMismatch \(warning\) firing/.test(await page.locator('body').textContent()));
  await context.close();
});

test('a critical alert declares an incident by itself, and a responder takes command', async () => {
  const context = await browser.newContext();
  const page = await signIn(context);
  const report = await post(delivery('f00d0002', 'critical', { alertname: 'KubePodCrashLooping', namespace: 'search', deployment: 'suggest' }, 'suggest is crash looping'));
  const incident = report.declared[0];
  assert.ok(incident, JSON.stringify(report));
  await page.goto(`${wheelhouse.baseUrl}/`);
  await waitFor('the dashboard to flag it', async () => /nobody commands it yet/.test(await page.locator('#active-incidents').textContent()));
  await page.goto(`${wheelhouse.baseUrl}/incidents/${incident}`);
  assert.equal(await page.locator('[data-field=commander]').textContent(), 'nobody yet');
  await page.getByRole('button', { name: 'Take command' }).click();
  await waitFor('the commander', async () => (await page.locator('[data-field=commander]').textContent()) === EMAIL);
  await context.close();
});

test('the inbox works without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await signIn(context);
  await post(delivery('f00d0003', 'warning', { alertname: 'KubeNodeNotReady', node: 'worker-4' }, 'worker-4 is not ready'));
  await page.goto(`${wheelhouse.baseUrl}/alerts`);
  const row = page.locator('li.alert', { hasText: 'KubeNodeNotReady' });
  assert.match(await row.textContent(), /worker-4/);
  await row.locator('summary', { hasText: 'Silence…' }).click();
  await row.locator('input[name=reason]').fill('worker-4 is being replaced');
  await Promise.all([page.waitForURL(/\/alerts/), row.getByRole('button', { name: 'Silence' }).click()]);
  assert.equal(await page.locator('li.alert', { hasText: 'KubeNodeNotReady' }).count(), 0, 'silenced alerts leave the default view');
  await page.goto(`${wheelhouse.baseUrl}/alerts?include_silenced=1`);
  assert.match(await page.locator('li.alert', { hasText: 'KubeNodeNotReady' }).textContent(), /worker-4 is being replaced/);
  await context.close();
});
