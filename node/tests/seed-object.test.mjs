// A seed object built in the test file: it reaches the server on its standard input.
import { expect, test } from 'vitest';
import { WebClient } from '@slack/web-api';
import { useSlackEmulator } from 'slack-sessions/vitest';

const seed = {
  orgs: [
    {
      id: 'E0NODE001',
      name: 'Node Corp',
      teams: [{ id: 'T0NODE001', name: 'Main' }],
      users: [
        { id: 'W0NODE001', name: 'ada', email: 'ada@example.com', role: 'owner', teams: ['T0NODE001'] },
        { id: 'W0NODE002', name: 'bob', email: 'bob@example.com', teams: ['T0NODE001'] },
      ],
      tokens: [{ token: 'xoxp-node-owner', user_id: 'W0NODE001', scopes: ['admin.users:read', 'admin.users:write'] }],
      sessions: [{ session_id: 42, user_id: 'W0NODE002', team_id: 'T0NODE001', client: 'web' }],
    },
  ],
};

const emulator = useSlackEmulator({ seed });

test('the seed object is the state', async () => {
  expect(emulator.adminToken).toBe('xoxp-node-owner');
  const client = new WebClient(emulator.adminToken, { slackApiUrl: emulator.apiUrl });
  await client.admin.users.session.reset({ user_id: 'W0NODE002' });
  expect((await client.admin.users.session.list({})).active_sessions).toEqual([]);
});

test('and reset() restores it', async () => {
  const client = new WebClient(emulator.adminToken, { slackApiUrl: emulator.apiUrl });
  expect((await client.admin.users.session.list({})).active_sessions.map((s) => s.session_id)).toEqual([42]);
});
