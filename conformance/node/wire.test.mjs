// Wire-level checks through @slack/web-api: what it really sends (a loopback capture
// server), warnings reaching its logger, and unknown methods.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { T, apiUrl, cell, client, recordingLogger } from './lib.mjs';
import { WebClient } from '@slack/web-api';

async function withCapture(fn) {
  const requests = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      requests.push({
        path: req.url,
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        form: Object.fromEntries(new URLSearchParams(body)),
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end('{"ok":true}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${server.address().port}`, requests);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

cell('(wire)', 'encoding', async () => {
  await withCapture(async (base, requests) => {
    const c = client('xoxp-wire', { base });
    await c.admin.users.session.invalidate({ session_id: '1112275520243', team_id: 'T0CONFA01' });
    await c.admin.users.session.reset({ user_id: 'W0ATARGET', mobile_only: true, web_only: false });
    await c.admin.users.session.resetBulk({ user_ids: ['W0ATARGET', 'W0ATARGET2'] });
    await c.admin.users.session.setSettings({ user_ids: ['W0ATARGET'], duration: 86400, desktop_app_browser_quit: true });
    const [inv, reset, bulk, sets] = requests;
    for (const r of requests) {
      assert.equal(r.contentType, 'application/x-www-form-urlencoded');
      assert.equal(r.authorization, 'Bearer xoxp-wire');
      assert.ok(!('token' in r.form));
    }
    assert.deepEqual(inv.form, { session_id: '1112275520243', team_id: 'T0CONFA01' });
    assert.deepEqual(reset.form, { user_id: 'W0ATARGET', mobile_only: 'true', web_only: 'false' });
    assert.deepEqual(bulk.form, { user_ids: '["W0ATARGET","W0ATARGET2"]' });
    assert.deepEqual(sets.form, { user_ids: '["W0ATARGET"]', duration: '86400', desktop_app_browser_quit: 'true' });
  });
}, { noReset: true });

cell('(wire)', 'superfluous_charset', async () => {
  // Ask the SDK to send a charset on its form body: its `fetch` option wraps the real fetch.
  const withCharset = (url, init) => {
    const headers = { ...init.headers };
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === 'content-type' && headers[k] === 'application/x-www-form-urlencoded') {
        headers[k] = 'application/x-www-form-urlencoded; charset=utf-8';
      }
    }
    return fetch(url, { ...init, headers });
  };
  const logger = recordingLogger();
  const c = new WebClient(T.ADMIN, { slackApiUrl: apiUrl(), logger, fetch: withCharset });
  const r = await c.admin.users.session.getSettings({ user_ids: ['W0ATARGET'] });
  assert.equal(r.ok, true);
  // The SDK calls logger.warn once per response_metadata.warnings entry (via forEach,
  // so the entry comes first).
  assert.equal(logger.logged.warn.length, 1, JSON.stringify(logger.logged.warn));
  assert.equal(logger.logged.warn[0].split(' ')[0], 'superfluous_charset');
  assert.deepEqual(r.response_metadata.warnings, ['superfluous_charset']);
  assert.equal(r.warning, 'superfluous_charset');
  // Without the charset: no warning.
  const quiet = recordingLogger();
  const plain = new WebClient(T.ADMIN, { slackApiUrl: apiUrl(), logger: quiet });
  const r2 = await plain.admin.users.session.getSettings({ user_ids: ['W0ATARGET'] });
  assert.equal(r2.warning, undefined);
  assert.deepEqual(quiet.logged.warn, []);
});

cell('(wire)', 'unknown_method', async () => {
  await assert.rejects(
    client(T.ADMIN).apiCall('admin.users.session.nope', { user_id: 'W0ATARGET' }),
    (e) => e.code === 'slack_webapi_platform_error' && e.data.error === 'unknown_method',
  );
}, { noReset: true });
