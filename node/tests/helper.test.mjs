// `slack-sessions/vitest` as a user would: @slack/web-api's WebClient against the helper's
// emulator (the demo org), state reset before each test, faults, the journal, sign-ins.
import { describe, expect, test } from 'vitest';
import { WebClient, ErrorCode } from '@slack/web-api';
import { useSlackEmulator } from 'slack-sessions/vitest';

const emulator = useSlackEmulator();

const ORG = 'E0DEMO0001';
const ENG = 'T0DEMOENG1';
const USER = 'W0DEMO0005';

function client(options = {}) {
  return new WebClient(emulator.adminToken, { slackApiUrl: emulator.apiUrl, ...options });
}

async function sessionsOf(user) {
  const r = await client().admin.users.session.list({ user_id: user, team_id: ORG });
  return r.active_sessions;
}

test('WebClient reaches the emulator with the demo admin token', async () => {
  expect(emulator.adminToken).toBe('xoxp-demo-admin');
  expect(emulator.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  expect(emulator.controlUrl).toBe(emulator.apiUrl.replace(/api\/$/, '_emulator/'));
  const auth = await client().auth.test();
  expect(auth.ok).toBe(true);
  expect(auth.enterprise_id).toBe(ORG);
  expect((await sessionsOf(USER)).length).toBeGreaterThan(0);
});

// The two tests below run in this order: the second sees the seed again although the first
// signed the user out.
describe('each test starts from the seed', () => {
  test('a reset signs the user out', async () => {
    await client().admin.users.session.reset({ user_id: USER });
    expect(await sessionsOf(USER)).toEqual([]);
    await emulator.addFault({ method: 'auth.test', effect: { error: 'internal_error' } });
  });

  test('the next test has the sessions back, no fault and an empty journal', async () => {
    expect(await emulator.requests()).toEqual([]);
    expect((await sessionsOf(USER)).length).toBeGreaterThan(0);
    expect((await client().auth.test()).ok).toBe(true);
  });
});

test('a rate-limit fault is absorbed by the SDK retry', async () => {
  await emulator.addFault({ method: 'admin.users.session.list', effect: { rate_limited: 1 }, times: 1 });
  const rateLimited = [];
  const web = client();
  web.on('rate_limited', (seconds) => rateLimited.push(seconds));
  const started = Date.now();
  const r = await web.admin.users.session.list({ limit: 5 });
  expect(r.ok).toBe(true);
  expect(rateLimited).toEqual([1]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(900); // it waited Retry-After
  const calls = await emulator.requests({ method: 'admin.users.session.list' });
  expect(calls.map((c) => c.status)).toEqual([429, 200]);
  expect(calls[0].fault).toBeTruthy();
});

test('an error fault reaches the caller as a platform error', async () => {
  const rule = await emulator.addFault({ method: 'admin.users.session.getSettings', effect: { error: 'internal_error' }, times: 1 });
  expect(rule.id).toBeTypeOf('number');
  const err = await client()
    .admin.users.session.getSettings({ user_ids: [USER] })
    .catch((e) => e);
  expect(err.code).toBe(ErrorCode.PlatformError);
  expect(err.data.error).toBe('internal_error');
  // `times: 1`: the next call is served normally.
  expect((await client().admin.users.session.getSettings({ user_ids: [USER] })).ok).toBe(true);
  await emulator.addFault({ effect: 'non_json' });
  await emulator.clearFaults();
  expect((await client().auth.test()).ok).toBe(true);
});

test('the journal records each call, without the token', async () => {
  await client().admin.users.session.reset({ user_id: USER, mobile_only: true });
  await client().admin.users.session.list({ limit: 3 });
  const all = await emulator.requests();
  expect(all.map((e) => e.method)).toEqual(['admin.users.session.reset', 'admin.users.session.list']);
  const [reset] = await emulator.requests({ method: 'admin.users.session.reset' });
  expect(reset.args.user_id).toBe(USER);
  expect(reset.status).toBe(200);
  expect(reset.org_id).toBe(ORG);
  expect(JSON.stringify(all)).not.toContain(emulator.adminToken);
  expect(await emulator.requests({ after: all[0].id })).toEqual([all[1]]);
});

test('a simulated sign-in, then an invalidate through the SDK', async () => {
  const id = await emulator.signIn({ userId: USER, teamId: ENG, client: 'mobile', ip: '198.51.100.99', os: 'iOS' });
  expect(id).toBeTypeOf('number');
  const mine = (await sessionsOf(USER)).find((s) => s.session_id === id);
  expect(mine.created).toMatchObject({ ip: '198.51.100.99', os: 'iOS' });
  await client().admin.users.session.invalidate({ session_id: id, team_id: ENG });
  expect((await sessionsOf(USER)).some((s) => s.session_id === id)).toBe(false);
  const [invalidate] = await emulator.requests({ method: 'admin.users.session.invalidate' });
  expect(invalidate.status).toBe(200);
  await expect(emulator.signIn({ userId: 'W0NOSUCHUSER', teamId: ENG })).rejects.toThrow(/user/);
});

test('state() and loadState() round-trip the whole state', async () => {
  const state = await emulator.state();
  const org = state.orgs.find((o) => o.id === ORG);
  const before = org.sessions.length;
  org.sessions = org.sessions.filter((s) => s.user_id !== USER);
  await emulator.loadState(state);
  expect(await sessionsOf(USER)).toEqual([]);
  const again = await emulator.state();
  expect(again.orgs.find((o) => o.id === ORG).sessions.length).toBeLessThan(before);
});
