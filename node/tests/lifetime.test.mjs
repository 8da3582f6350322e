// The emulator dies with the Node process that started it, whatever kills it, and leaves no
// file behind: a script holds an emulator (seeded with an object, from the main thread or a
// worker thread), is SIGKILLed, and the server must be gone within a few seconds while the
// script's working folder and TMPDIR stay empty.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const HOLD = fileURLToPath(new URL('./fixtures/hold.mjs', import.meta.url));

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (exited, not yet reaped) counts as dead.
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop().trim()[0] !== 'Z';
  } catch {
    return false;
  }
}

async function deadWithin(pid, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function filesUnder(dir) {
  return fs.readdirSync(dir, { recursive: true });
}

/** Runs fixtures/hold.mjs; resolves with the process and the server's pid and URL. */
function hold(mode, cwd, tmp, extra = []) {
  const child = spawn(process.execPath, [HOLD, mode, ...extra], {
    cwd,
    env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        const [pid, url] = line.split(' ');
        resolve({ child, server: Number(pid), url });
      }
    });
    child.once('exit', (code) => reject(new Error(`hold.mjs exited (${code}) before starting: ${err}`)));
  });
}

for (const mode of ['main', 'worker']) {
  test(`SIGKILL of the node process (emulator started from the ${mode} thread) leaves no server and no file`, async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'slack-sessions-cwd-'));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slack-sessions-tmp-'));
    try {
      const { child, server, url } = await hold(mode, cwd, tmp);
      expect(alive(server)).toBe(true);
      const health = await fetch(`${url}_emulator/health`);
      expect(health.status).toBe(200);
      expect(filesUnder(tmp)).toEqual([]); // the seed, tokens and all, never touched the disk
      expect(filesUnder(cwd)).toEqual([]);
      child.kill('SIGKILL');
      expect(await deadWithin(server, 5000)).toBe(true);
      expect(filesUnder(tmp)).toEqual([]);
      expect(filesUnder(cwd)).toEqual([]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('a forgotten emulator does not keep Node alive, and ends when Node exits', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'slack-sessions-cwd-'));
  try {
    const { child, server } = await hold('main', cwd, os.tmpdir(), ['--exit']);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(await deadWithin(server, 5000)).toBe(true);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
