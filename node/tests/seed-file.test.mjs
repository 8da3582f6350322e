// A seed of its own for this file, from a JSON file next to it (a file URL).
import { expect, test } from 'vitest';
import { WebClient } from '@slack/web-api';
import { useSlackEmulator } from 'slack-sessions/vitest';

const emulator = useSlackEmulator({ seed: new URL('./data/seed.json', import.meta.url) });

test("the seed's first admin token with admin.users:write is the helper's", async () => {
  expect(emulator.adminToken).toBe('xoxp-example-admin');
  const client = new WebClient(emulator.adminToken, { slackApiUrl: emulator.apiUrl });
  const r = await client.admin.users.session.list({});
  expect(r.active_sessions.map((s) => s.session_id).sort()).toEqual([1112275520242, 1112275520243]);
});

test('the demo org is not there', async () => {
  const client = new WebClient('xoxp-demo-admin', { slackApiUrl: emulator.apiUrl });
  await expect(client.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
});
