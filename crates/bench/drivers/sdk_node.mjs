// Drives Node @slack/web-api against the emulator; prints one JSON line of figures.
// usage: node sdk_node.mjs URL TOKEN MODE SECONDS [CONCURRENCY]
// MODE: seq (await one call after another), conc (CONCURRENCY workers), walk (paginate, limit 1000).
import { createRequire } from 'node:module';
const require = createRequire(process.env.SDK_NODE_MODULES + '/');
const { WebClient, LogLevel } = require('@slack/web-api');

const [url, token, mode, secondsArg, concArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const conc = Number(concArg || 32);
const MAX_CALLS = 200000;
const client = new WebClient(token, { slackApiUrl: url, logLevel: LogLevel.ERROR, retryConfig: { retries: 0 } });
const now = () => performance.now() / 1000;
const user = ['W00000001'];

if (mode === 'seq') {
  let calls = 0;
  const start = now();
  while (now() - start < seconds && calls < MAX_CALLS) {
    await client.admin.users.session.getSettings({ user_ids: user });
    calls += 1;
  }
  console.log(JSON.stringify({ calls, seconds: now() - start }));
} else if (mode === 'conc') {
  let calls = 0;
  const start = now();
  const worker = async () => {
    while (now() - start < seconds && calls < MAX_CALLS) {
      await client.admin.users.session.getSettings({ user_ids: user });
      calls += 1;
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  console.log(JSON.stringify({ calls, seconds: now() - start }));
} else if (mode === 'walk') {
  let sessions = 0;
  const start = now();
  for await (const page of client.paginate('admin.users.session.list', { limit: 1000 })) {
    sessions += page.active_sessions.length;
    if (now() - start > 300) break;
  }
  console.log(JSON.stringify({ sessions, seconds: now() - start }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
