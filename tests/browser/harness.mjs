// Starts a real Wheelhouse binary on a free 127.0.0.1 port with its own SQLite
// file, creates accounts with its CLI, and opens Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const artifactsDir = join(repoRoot, 'test-artifacts');
const targetDir = process.env.CARGO_TARGET_DIR
  ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
  : join(repoRoot, 'target');
export const binary = process.env.WHEELHOUSE_BIN || join(targetDir, 'debug', 'wheelhouse');

/** Waits until `check()` returns a truthy value, or fails after `ms`. */
export async function waitFor(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A free loopback port, for a program that takes its port as a flag. */
async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A real SMTP server (Python's aiosmtpd, writing a Maildir) on a free port.
 * `messages(to)` parses what arrived for `to` with Python's email package.
 */
export async function startSmtp() {
  const dir = mkdtempSync(join(tmpdir(), 'wheelhouse-smtp-'));
  const port = await freePort();
  const child = spawn('python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', join(dir, 'maildir')], {
    stdio: 'ignore',
  });
  await waitFor('the SMTP server to listen', () => new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => { socket.end(); done(true); });
    socket.on('error', () => done(false));
  }));
  const parse = `
import email, email.policy, json, os, sys
out = []
new = os.path.join(sys.argv[1], 'new')
for name in sorted(os.listdir(new), key=lambda n: os.path.getmtime(os.path.join(new, n))):
    m = email.message_from_binary_file(open(os.path.join(new, name), 'rb'), policy=email.policy.default)
    out.append({"to": m["To"], "subject": m["Subject"], "body": m.get_body(('plain',)).get_content()})
print(json.dumps(out))
`;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages(to) {
      try {
        const all = JSON.parse(execFileSync('python3', ['-c', parse, join(dir, 'maildir')]).toString());
        return all.filter((m) => m.to.includes(to));
      } catch {
        return [];
      }
    },
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startWheelhouse(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wheelhouse-browser-'));
  const databaseUrl = `sqlite://${join(dir, 'wheelhouse.db')}`;
  const env = { ...process.env, WHEELHOUSE_LOG_FORMAT: 'json', WHEELHOUSE_CLUSTER: 'sim', ...extraEnv };
  const child = spawn(binary, ['--listen', '127.0.0.1:0', '--database-url', databaseUrl, 'serve'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const baseUrl = await waitFor('Wheelhouse to start listening', () => {
    if (child.exitCode !== null) throw new Error(`wheelhouse exited early:\n${log}`);
    const line = log.split('\n').find((l) => l.includes('"http.address"'));
    return line && `http://${JSON.parse(line)['http.address']}`;
  });
  return {
    baseUrl,
    log: () => log,
    /** The kubeconfig of the drill cluster Wheelhouse runs in-process. */
    drillKubeconfig() {
      const match = log.match(/--kubeconfig (\S+\.kubeconfig)/);
      if (!match) throw new Error(`no drill kubeconfig in the log:\n${log}`);
      return match[1];
    },
    /** Injects a drill fault through the CLI, over HTTPS, as a person would. */
    drill(...args) {
      return execFileSync(binary, ['drill', ...args, '--kubeconfig', this.drillKubeconfig()], { cwd: repoRoot, env }).toString();
    },
    /** Creates an API token with the CLI; returns the secret it prints once. */
    createToken(name, role) {
      const out = execFileSync(binary, ['token', 'create', '--name', name, '--role', role, '--database-url', databaseUrl], {
        cwd: repoRoot,
        env,
      }).toString();
      const match = out.match(/whk_[A-Za-z0-9_]+/);
      if (!match) throw new Error(`no token in:\n${out}`);
      return match[0];
    },
    addUser(email, role, password) {
      return execFileSync(binary, ['user', 'add', '--email', email, '--role', role, '--database-url', databaseUrl], {
        cwd: repoRoot,
        env,
        input: password,
      }).toString();
    },
    async stop() {
      child.kill('SIGTERM');
      await waitFor('Wheelhouse to stop', () => child.exitCode !== null || child.signalCode !== null, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function openBrowser() {
  mkdirSync(artifactsDir, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
