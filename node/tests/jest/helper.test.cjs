// `slack-sessions/jest` from CommonJS, as a jest user would: WebClient against the helper's
// emulator, a reset before each test, a fault absorbed by the SDK's retry, the journal.
const { WebClient } = require('@slack/web-api');
const { useSlackEmulator } = require('slack-sessions/jest');

const emulator = useSlackEmulator();
const USER = 'W0DEMO0005';

const client = () => new WebClient(emulator.adminToken, { slackApiUrl: emulator.apiUrl });
const sessionsOf = async (user) =>
  (await client().admin.users.session.list({ user_id: user, team_id: 'E0DEMO0001' })).active_sessions;

test('a reset signs the user out', async () => {
  await client().admin.users.session.reset({ user_id: USER });
  expect(await sessionsOf(USER)).toEqual([]);
});

test('the next test starts from the seed, with an empty journal', async () => {
  expect(await emulator.requests()).toEqual([]);
  expect((await sessionsOf(USER)).length).toBeGreaterThan(0);
});

test('a rate-limit fault is absorbed by the SDK retry, and journaled', async () => {
  await emulator.addFault({ method: 'auth.test', effect: { rate_limited: 1 }, times: 1 });
  expect((await client().auth.test()).ok).toBe(true);
  const calls = await emulator.requests({ method: 'auth.test' });
  expect(calls.map((c) => c.status)).toEqual([429, 200]);
});

test('a sign-in, then an invalidate', async () => {
  const id = await emulator.signIn({ userId: USER, teamId: 'T0DEMOENG1', ip: '203.0.113.250' });
  expect((await sessionsOf(USER)).some((s) => s.session_id === id)).toBe(true);
  await client().admin.users.session.invalidate({ session_id: id, team_id: 'T0DEMOENG1' });
  expect((await sessionsOf(USER)).some((s) => s.session_id === id)).toBe(false);
});
