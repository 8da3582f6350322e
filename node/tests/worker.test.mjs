// "One emulator per worker": two files in one vitest worker share it when files are not
// isolated, and get one each under vitest's default isolation; either way none is left running
// once vitest has exited.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop().trim().startsWith('Z');
  } catch {
    return false;
  }
}

async function deadWithin(pids, ms) {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

function pidsOf(...args) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'slack-sessions-pids-')), 'pids');
  const r = spawnSync('node_modules/.bin/vitest', ['run', '--config', 'tests/fixtures/shared.config.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, SLACK_SESSIONS_PIDS: file, NO_COLOR: '1' },
    timeout: 120000,
  });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const pids = fs.readFileSync(file, 'utf8').trim().split('\n');
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return pids;
}

test('files of one worker share the emulator without isolation', async () => {
  const pids = pidsOf('--no-isolate');
  expect(pids).toHaveLength(2);
  expect(new Set(pids).size).toBe(1);
  expect(await deadWithin(pids.map(Number), 5000)).toEqual([]);
});

test('under the default isolation each file has its own', async () => {
  const pids = pidsOf();
  expect(pids).toHaveLength(2);
  expect(new Set(pids).size).toBe(2);
  expect(await deadWithin(pids.map(Number), 5000)).toEqual([]);
});
