// A seed per file under jest: this file's emulator has its own org.
const path = require('node:path');
const { WebClient } = require('@slack/web-api');
const { useSlackEmulator } = require('slack-sessions/jest');

const emulator = useSlackEmulator({ seed: path.join(__dirname, '..', 'data', 'seed.json') });

test("the seed's admin token and sessions", async () => {
  expect(emulator.adminToken).toBe('xoxp-example-admin');
  const r = await new WebClient(emulator.adminToken, { slackApiUrl: emulator.apiUrl }).admin.users.session.list({});
  expect(r.active_sessions).toHaveLength(2);
});
