// startEmulator() on its own: start-up errors carry the binary's message, stop() stops, the
// CommonJS entry point is the same module, and the package's launcher runs the binary.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { expect, test } from 'vitest';
import { WebClient } from '@slack/web-api';
import { ControlError, Emulator, StartError, startEmulator } from 'slack-sessions';

const require = createRequire(import.meta.url);

function refuses(url) {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

test('a seed that is not valid rejects with the entry at fault', async () => {
  const seed = {
    orgs: [{ id: 'E1', name: 'x', teams: [{ id: 'T1', name: 't' }], users: [], sessions: [{ session_id: 1, user_id: 'W9', team_id: 'T1' }] }],
  };
  const err = await startEmulator({ seed }).catch((e) => e);
  expect(err).toBeInstanceOf(StartError);
  expect(err.message).toContain('orgs[0].sessions[0]');
  expect(err.message).toContain('W9');
  expect(err.exitCode).not.toBe(0);
  expect(err.stderr).toContain('W9');
});

test('a missing seed file is named', async () => {
  const err = await startEmulator({ seed: '/nonexistent/seed.json' }).catch((e) => e);
  expect(err).toBeInstanceOf(StartError);
  expect(err.message).toContain('/nonexistent/seed.json');
});

test('a wrong SLACK_SESSIONS_BIN is refused before anything runs', async () => {
  const saved = process.env.SLACK_SESSIONS_BIN;
  process.env.SLACK_SESSIONS_BIN = '/nonexistent/slack-sessions';
  try {
    await expect(startEmulator()).rejects.toThrow(/SLACK_SESSIONS_BIN.*not an executable/);
  } finally {
    if (saved === undefined) delete process.env.SLACK_SESSIONS_BIN;
    else process.env.SLACK_SESSIONS_BIN = saved;
  }
});

test('options reach the server; stop() stops it and can be called twice', async () => {
  const emulator = await startEmulator({ rateLimits: 'slack' });
  expect(emulator.rateLimits).toBe('slack');
  expect(emulator.running).toBe(true);
  const answer = await fetch(`${emulator.apiUrl}auth.test`, { method: 'POST', headers: { authorization: `Bearer ${emulator.adminToken}` } });
  expect(answer.headers.get('x-slack-sessions-rate-limits')).toBe('slack');
  await emulator.stop();
  expect(emulator.running).toBe(false);
  expect(await refuses(emulator.url)).toBe(true);
  await emulator.stop();
  await expect(emulator.health()).rejects.toThrow(/exited/);
});

test('control-plane errors are ControlErrors with the code', async () => {
  const emulator = await startEmulator();
  try {
    const err = await emulator.signIn({ userId: 'W0NOSUCHUSER', teamId: 'T0DEMOENG1' }).catch((e) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.code).toBeTruthy();
    await expect(emulator.addFault({ effect: 'no_such_effect' })).rejects.toThrow(TypeError);
    await expect(emulator.addFault({ effect: { rate_limited: 1 }, times: 0 })).rejects.toThrow(TypeError);
    await expect(emulator.signIn({ userId: 'W0DEMO0005', teamId: 'T0DEMOENG1', colour: 'red' })).rejects.toThrow(/colour/);
  } finally {
    await emulator.stop();
  }
});

test('require() gets the same module as import', async () => {
  const cjs = require('slack-sessions');
  expect(cjs.Emulator).toBe(Emulator);
  expect(cjs.startEmulator).toBe(startEmulator);
  const emulator = await cjs.startEmulator();
  try {
    const auth = await new WebClient(emulator.adminToken, { slackApiUrl: emulator.apiUrl }).auth.test();
    expect(auth.ok).toBe(true);
  } finally {
    await emulator.stop();
  }
});

test("the package's launcher runs the binary (npx slack-sessions ...)", () => {
  const out = execFileSync('node_modules/.bin/slack-sessions', ['--version'], { encoding: 'utf8' });
  expect(out).toMatch(/^slack-sessions \d+\.\d+\.\d+/);
});
