// Shared helpers for the Node suite: the emulator's control plane, the seed, and
// "call method M through @slack/web-api" with errors turned into plain data.
// The SDK is configured only through its public options (slackApiUrl, logger, fetch,
// rejectRateLimitedCalls); no SDK file is changed.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient } from '@slack/web-api';

const here = dirname(fileURLToPath(import.meta.url));
export const SEED = JSON.parse(readFileSync(join(here, '..', 'seed.json'), 'utf8'));
export const [ORG_A, ORG_B, ORG_C] = SEED.orgs;

export const EMU_URL = (process.env.EMU_URL || '').replace(/\/$/, '');
export const EMU_RL_URL = (process.env.EMU_RL_URL || '').replace(/\/$/, '');
export const apiUrl = (base = EMU_URL) => `${base}/api/`;

export const T = {
  ADMIN: 'xoxp-conf-a-admin',
  OWNER: 'xoxp-conf-a-owner',
  PRIMARY: 'xoxp-conf-a-primary',
  MEMBER: 'xoxp-conf-a-member',
  READONLY: 'xoxp-conf-a-readonly',
  WRITEONLY: 'xoxp-conf-a-writeonly',
  BOT: 'xoxb-conf-a-bot',
  REVOKED: 'xoxp-conf-a-revoked',
  EXPIRED: 'xoxp-conf-a-expired',
  DELETED: 'xoxp-conf-a-deleted',
  UNKNOWN: 'xoxp-conf-no-such-token',
  B_ADMIN: 'xoxp-conf-b-admin',
  C_ADMIN: 'xoxp-conf-c-admin',
  RL: 'xoxp-conf-a-rl-node',
};
export const T_A1 = 'T0CONFA01';
export const T_A2 = 'T0CONFA02';
export const T_B = 'T0CONFB01';
export const UNKNOWN_USER = 'W0NOSUCHUSER';
export const UNKNOWN_SESSION = 1112275599999;

// A quiet logger that remembers what the SDK logged.
export function recordingLogger() {
  const logged = { debug: [], info: [], warn: [], error: [] };
  let level = 'info';
  const logger = {
    logged,
    debug: (...a) => logged.debug.push(a.join(' ')),
    info: (...a) => logged.info.push(a.join(' ')),
    warn: (...a) => logged.warn.push(a.join(' ')),
    error: (...a) => logged.error.push(a.join(' ')),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
  return logger;
}

export function client(token, options = {}) {
  return new WebClient(token, { slackApiUrl: apiUrl(options.base), logger: recordingLogger(), ...options });
}

export async function control(path, payload = {}, base = EMU_URL) {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = await r.json();
  assert.equal(r.status, 200, `control ${path}: ${JSON.stringify(body)}`);
  assert.notEqual(body.ok, false, `control ${path}: ${JSON.stringify(body)}`);
  return body;
}

export const resetEmulator = () => control('/_emulator/reset');

export async function simulateLogin(user_id, team_id, kind = 'web') {
  const out = await control('/_emulator/sessions', { user_id, team_id, client: kind });
  assert.equal(typeof out.session_id, 'number', JSON.stringify(out));
  return out.session_id;
}

const METHOD_NAMES = ['invalidate', 'reset', 'resetBulk', 'list', 'getSettings', 'setSettings', 'clearSettings'];
export { METHOD_NAMES as METHODS };

// Calls admin.users.session.<method> through the SDK's method binding.
export async function call(token, method, args = {}, options = {}) {
  const c = client(token, options);
  return c.admin.users.session[method](args);
}

// An ok:false answer as data: { error, data }. Fails if the call succeeded.
export async function callError(token, method, args = {}) {
  try {
    const r = await call(token, method, args);
    assert.fail(`expected an error, got ${JSON.stringify(r)}`);
  } catch (e) {
    if (e.code !== 'slack_webapi_platform_error') throw e;
    assert.equal(e.data.ok, false);
    return e.data;
  }
}

export async function expectError(token, method, code, args) {
  const data = await callError(token, method, args);
  assert.equal(data.error, code, JSON.stringify(data));
  return data;
}

// The answer either way, for comparisons.
export async function answer(token, method, args) {
  try {
    return await call(token, method, args);
  } catch (e) {
    if (e.code !== 'slack_webapi_platform_error') throw e;
    return e.data;
  }
}

// The user's session ids through the SDK's own paginate().
export async function listUser(token, user) {
  const c = client(token);
  const ids = [];
  for await (const page of c.paginate('admin.users.session.list', { limit: 1000 })) {
    for (const s of page.active_sessions) if (s.user_id === user) ids.push(s.session_id);
  }
  return ids.sort((a, b) => a - b);
}

export function seedSessionIdsOf(user, org = ORG_A) {
  return org.sessions
    .filter((s) => s.user_id === user)
    .map((s) => s.session_id)
    .sort((a, b) => a - b);
}

export function listableSessionIds(org = ORG_A) {
  const bots = new Set(org.users.filter((u) => u.is_bot).map((u) => u.id));
  return org.sessions
    .filter((s) => !bots.has(s.user_id))
    .map((s) => s.session_id)
    .sort((a, b) => a - b);
}

export async function waitUntil(pred, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// One matrix cell: the test's name carries [method/case] for the reporter.
// Every cell starts from the seed unless noReset.
export function cell(method, kase, fn, { noReset = false } = {}) {
  test(`[${method}/${kase}]`, async () => {
    if (!noReset) await resetEmulator();
    await fn();
  });
}
