// Rate limits through @slack/web-api against the emulator started with
// --rate-limits scale=N ($EMU_RL_URL). This suite has its own token there.
// Every loop is bounded in calls and time.

import assert from 'node:assert/strict';
import { EMU_RL_URL, T, cell, client } from './lib.mjs';

const MAX_CALLS = 5000;
const MAX_MS = 60000;
const TIER2_BUDGET = 20 * Number(process.env.CONF_RL_SCALE || 10);

// Calls list until the SDK reports a rate limit; returns [calls, error].
async function exhaust(c) {
  const start = Date.now();
  for (let n = 1; n <= MAX_CALLS; n += 1) {
    try {
      await c.admin.users.session.list({ limit: 1 });
    } catch (e) {
      if (e.code === 'slack_webapi_rate_limited_error') return [n, e];
      throw e;
    }
    assert.ok(Date.now() - start < MAX_MS, 'no 429 within the time bound');
  }
  throw new Error(`no 429 after ${MAX_CALLS} calls`);
}

function rejecting() {
  const c = client(T.RL, { base: EMU_RL_URL, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const events = [];
  c.on('rate_limited', (retrySec, info) => events.push({ retrySec, url: info?.url }));
  return [c, events];
}

cell('list', 'ratelimit_429', async () => {
  const [c, events] = rejecting();
  const [n, e] = await exhaust(c);
  assert.ok(n > 20, `429 after only ${n} calls: budget not scaled?`);
  assert.ok(Number.isInteger(e.retryAfter) && e.retryAfter >= 1, `retryAfter=${e.retryAfter}`);
  assert.equal(events.length, 1);
  assert.equal(events[0].retrySec, e.retryAfter);
  assert.match(events[0].url, /admin\.users\.session\.list$/);
}, { noReset: true });

cell('list', 'ratelimit_recover', async () => {
  // Default client: on 429 it pauses its queue for Retry-After seconds and retries.
  const c = client(T.RL, { base: EMU_RL_URL });
  const events = [];
  c.on('rate_limited', (retrySec) => events.push(retrySec));
  const start = Date.now();
  let calls = 0;
  while (events.length === 0) {
    const r = await c.admin.users.session.list({ limit: 1 });
    assert.equal(r.ok, true);
    calls += 1;
    assert.ok(calls < MAX_CALLS && Date.now() - start < MAX_MS, `calls=${calls}`);
  }
  assert.ok(events.every((s) => Number.isInteger(s) && s >= 1), JSON.stringify(events));
  assert.ok(c.logger.logged.info.some((l) => l.includes('rate limiting')), 'the SDK logs the pause');
  // Right after: a concurrent burst still all succeeds (the queue paused and resumed).
  const burst = await Promise.all(Array.from({ length: 30 }, () => c.admin.users.session.list({ limit: 1 })));
  assert.ok(burst.every((r) => r.ok === true));
}, { noReset: true });

cell('list', 'ratelimit_independent', async () => {
  const [c] = rejecting();
  await exhaust(c);
  // Same token, another method.
  assert.equal((await c.admin.users.session.getSettings({ user_ids: ['W0ATARGET'] })).ok, true);
  // Another workspace's token, same method.
  const b = client(T.B_ADMIN, { base: EMU_RL_URL, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  assert.equal((await b.admin.users.session.list({ limit: 1 })).ok, true);
  // The exhausted budget is still (nearly) exhausted: a fresh one would allow 20*N calls,
  // while only a few tokens can have refilled meanwhile.
  const [n] = await exhaust(c);
  assert.ok(n < TIER2_BUDGET / 2, `${n} calls passed: the budget looks reset`);
}, { noReset: true });
