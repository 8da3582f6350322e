// The seven methods through @slack/web-api: success in its own encoding (JSON-array
// strings, true/false), the state change, and every error path.

import assert from 'node:assert/strict';
import {
  METHODS, T, T_A1, T_A2, T_B, UNKNOWN_SESSION, UNKNOWN_USER, answer, call, cell,
  client, expectError, listUser, listableSessionIds, seedSessionIdsOf, simulateLogin, waitUntil,
} from './lib.mjs';

const USERS = {
  a: 'W0ATARGET', c: 'U0CUSER', unknown: UNKNOWN_USER, foreign: 'W0BUSER', bot: 'W0ABOT', primary: 'W0APRIMARY',
};

function args(method, who = 'a') {
  const user = USERS[who];
  switch (method) {
    case 'invalidate':
      return {
        a: { session_id: '1112275520243', team_id: T_A1 },
        c: { session_id: '1112275540001', team_id: 'T0CONFC01' },
        unknown: { session_id: String(UNKNOWN_SESSION), team_id: T_A1 },
        foreign: { session_id: '1112275530001', team_id: T_A1 },
        primary: { session_id: '1112275520270', team_id: T_A1 },
      }[who];
    case 'reset':
      return { user_id: user };
    case 'resetBulk':
    case 'getSettings':
      return { user_ids: who === 'a' ? [user, 'W0ATARGET2'] : [user] };
    case 'list':
      return {};
    case 'setSettings':
      return { user_ids: [who === 'a' ? 'W0ATARGET3' : user], duration: 2592000, desktop_app_browser_quit: true };
    case 'clearSettings':
      return { user_ids: [user] };
    default:
      throw new Error(method);
  }
}

const scopeOf = (m) => (m === 'list' || m === 'getSettings' ? 'admin.users:read' : 'admin.users:write');

async function settings(token, users) {
  return call(token, 'getSettings', { user_ids: users });
}

// ------------------------------------------------------------------ common cases

for (const method of METHODS) {
  cell(method, 'success', async () => {
    const r = await call(T.ADMIN, method, args(method));
    assert.equal(r.ok, true);
    if (method === 'list') {
      assert.ok(r.active_sessions.length > 0);
      assert.equal(r.response_metadata.next_cursor, '');
    }
    if (method === 'getSettings') {
      assert.ok(Array.isArray(r.session_settings) && Array.isArray(r.no_settings_applied));
    }
  });

  cell(method, 'owner_allowed', async () => {
    assert.equal((await call(T.OWNER, method, args(method))).ok, true);
  });

  cell(method, 'not_authed', async () => {
    await expectError(undefined, method, 'not_authed', args(method));
  });

  for (const [kase, token] of [
    ['invalid_auth', T.UNKNOWN],
    ['token_revoked', T.REVOKED],
    ['token_expired', T.EXPIRED],
    ['account_inactive', T.DELETED],
    ['not_allowed_token_type', T.BOT],
    ['not_an_admin', T.MEMBER],
  ]) {
    cell(method, kase, async () => {
      await expectError(token, method, kase, args(method));
    });
  }

  cell(method, 'missing_scope', async () => {
    const needed = scopeOf(method);
    const token = needed === 'admin.users:read' ? T.WRITEONLY : T.READONLY;
    const data = await expectError(token, method, 'missing_scope', args(method));
    assert.equal(data.needed, needed);
    assert.equal(typeof data.provided, 'string');
    assert.deepEqual(data.provided.split(','), [needed === 'admin.users:read' ? 'admin.users:write' : 'admin.users:read']);
  });

  cell(method, 'feature_not_enabled', async () => {
    await expectError(T.C_ADMIN, method, 'feature_not_enabled', args(method, 'c'));
  });

  cell(method, 'invalid_arguments', async () => {
    const bad = {
      invalidate: { session_id: 'not-a-number', team_id: T_A1 },
      reset: {},
      resetBulk: { user_ids: [] },
      list: { limit: 'many' },
      getSettings: { user_ids: [] },
      setSettings: { user_ids: [], duration: 86400 },
      clearSettings: { user_ids: [] },
    }[method];
    const data = await expectError(T.ADMIN, method, 'invalid_arguments', bad);
    const msgs = data.response_metadata?.messages ?? [];
    assert.ok(msgs.length > 0 && msgs.every((m) => m.startsWith('[ERROR]')), JSON.stringify(data));
  });

  if (method !== 'list') {
    cell(method, 'user_not_found', async () => {
      if (method === 'invalidate') {
        // Only the current form names a user; the typed binding takes team_id, so use apiCall.
        try {
          await client(T.ADMIN).apiCall('admin.users.session.invalidate', {
            user_id: UNKNOWN_USER,
            session_id: '1112275520243',
          });
          assert.fail('expected user_not_found');
        } catch (e) {
          assert.equal(e.data?.error, 'user_not_found', String(e));
        }
        return;
      }
      await expectError(T.ADMIN, method, 'user_not_found', args(method, 'unknown'));
    });
  }

  cell(method, 'tenant_isolation', async () => {
    const bBefore = await listUser(T.B_ADMIN, 'W0BUSER');
    const norm = (x, from, to) => {
      let s = JSON.stringify(x);
      from.forEach((f, i) => {
        s = s.split(f).join(to[i]);
      });
      return JSON.parse(s);
    };
    if (method === 'list') {
      const foreign = await answer(T.ADMIN, method, { team_id: T_B, user_id: 'W0BUSER' });
      const unknown = await answer(T.ADMIN, method, { team_id: 'T0NOSUCHTEAM', user_id: UNKNOWN_USER });
      assert.deepEqual(strip(norm(foreign, [T_B, 'W0BUSER'], ['T0NOSUCHTEAM', UNKNOWN_USER])), strip(unknown));
      const whole = await call(T.ADMIN, method, {});
      assert.deepEqual(whole.active_sessions.filter((s) => s.user_id === 'W0BUSER' || s.team_id === T_B), []);
    } else if (method === 'invalidate') {
      const foreign = await answer(T.ADMIN, method, args(method, 'foreign'));
      const unknown = await answer(T.ADMIN, method, args(method, 'unknown'));
      assert.equal(foreign.error, 'session_not_found', JSON.stringify(foreign));
      assert.deepEqual(strip(foreign), strip(unknown));
    } else {
      const foreign = await answer(T.ADMIN, method, args(method, 'foreign'));
      const unknown = await answer(T.ADMIN, method, args(method, 'unknown'));
      assert.notEqual(foreign.ok, true, JSON.stringify(foreign));
      assert.deepEqual(strip(norm(foreign, ['W0BUSER'], [UNKNOWN_USER])), strip(unknown));
    }
    assert.deepEqual(await listUser(T.B_ADMIN, 'W0BUSER'), bBefore);
    const b = await settings(T.B_ADMIN, ['W0BUSER']);
    assert.deepEqual(b.session_settings, [{ user_id: 'W0BUSER', duration: 43200, desktop_app_browser_quit: true }]);
  });
}

// Node adds response_metadata.scopes / acceptedScopes from headers; compare bodies only.
function strip(x) {
  const { response_metadata, ...rest } = x;
  if (!response_metadata) return rest;
  const { scopes, acceptedScopes, retryAfter, ...rm } = response_metadata;
  return Object.keys(rm).length ? { ...rest, response_metadata: rm } : rest;
}

// ------------------------------------------------------------------ state changes

cell('invalidate', 'state', async () => {
  const before = await listUser(T.ADMIN, 'W0ATARGET');
  assert.ok(before.includes(1112275520243));
  await call(T.ADMIN, 'invalidate', args('invalidate'));
  assert.deepEqual(await listUser(T.ADMIN, 'W0ATARGET'), before.filter((s) => s !== 1112275520243));
});

cell('reset', 'state', async () => {
  await call(T.ADMIN, 'reset', { user_id: 'W0ATARGET' });
  assert.deepEqual(await listUser(T.ADMIN, 'W0ATARGET'), []);
  assert.deepEqual(await listUser(T.ADMIN, 'W0ATARGET2'), seedSessionIdsOf('W0ATARGET2'));
});

cell('resetBulk', 'state', async () => {
  await call(T.ADMIN, 'resetBulk', { user_ids: ['W0ATARGET', 'W0ATARGET2'] });
  const gone = await waitUntil(
    async () => (await listUser(T.ADMIN, 'W0ATARGET')).length === 0 && (await listUser(T.ADMIN, 'W0ATARGET2')).length === 0,
  );
  assert.ok(gone, "resetBulk's sessions still listed 3 s after ok");
  assert.deepEqual(await listUser(T.ADMIN, 'W0ATARGET3'), seedSessionIdsOf('W0ATARGET3'));
});

cell('list', 'state', async () => {
  const r = await call(T.ADMIN, 'list', { team_id: T_A1, user_id: 'W0ATARGET' });
  const got = Object.fromEntries(r.active_sessions.map((s) => [s.session_id, s]));
  assert.deepEqual(Object.keys(got).map(Number).sort(), [1112275520242, 1112275520243, 1112275520244]);
  const s = got[1112275520242];
  assert.equal(s.user_id, 'W0ATARGET');
  assert.equal(s.team_id, T_A1);
  assert.equal(s.created.os, 'OS X');
  assert.equal(s.recent.device_hardware, 'Apple M2');
});

cell('getSettings', 'state', async () => {
  const r = await settings(T.ADMIN, ['W0ATARGET', 'W0ATARGET2', 'W0ANOSESS']);
  const got = Object.fromEntries(r.session_settings.map((s) => [s.user_id, s]));
  assert.equal(got.W0ATARGET.duration, 86400);
  assert.equal(got.W0ATARGET.desktop_app_browser_quit, true);
  assert.equal(got.W0ATARGET2.duration, 28800);
  assert.equal(got.W0ATARGET2.desktop_app_browser_quit, false);
  assert.deepEqual(r.no_settings_applied, ['W0ANOSESS']);
});

cell('setSettings', 'state', async () => {
  await call(T.ADMIN, 'setSettings', { user_ids: ['W0ATARGET3', 'W0ANOSESS'], duration: 2592000, desktop_app_browser_quit: true });
  const r = await settings(T.ADMIN, ['W0ATARGET3', 'W0ANOSESS']);
  const got = Object.fromEntries(r.session_settings.map((s) => [s.user_id, s]));
  for (const u of ['W0ATARGET3', 'W0ANOSESS']) {
    assert.equal(got[u].duration, 2592000);
    assert.equal(got[u].desktop_app_browser_quit, true);
  }
  assert.deepEqual(r.no_settings_applied, []);
});

cell('clearSettings', 'state', async () => {
  await call(T.ADMIN, 'clearSettings', { user_ids: ['W0ATARGET'] });
  const r = await settings(T.ADMIN, ['W0ATARGET', 'W0ATARGET2']);
  assert.deepEqual(r.no_settings_applied, ['W0ATARGET']);
  assert.deepEqual(r.session_settings.map((s) => s.user_id), ['W0ATARGET2']);
});

// ------------------------------------------------------------------ invalidate

cell('invalidate', 'current_form', async () => {
  // The typed binding declares team_id; the runtime sends what it is given.
  const r = await call(T.ADMIN, 'invalidate', { user_id: 'W0ATARGET', session_id: '1112275520244' });
  assert.equal(r.ok, true);
  const left = await listUser(T.ADMIN, 'W0ATARGET');
  assert.ok(!left.includes(1112275520244) && left.includes(1112275520243));
});

cell('invalidate', 'session_not_found', async () => {
  await expectError(T.ADMIN, 'invalidate', 'session_not_found', args('invalidate', 'unknown'));
});

cell('invalidate', 'cannot_invalidate_primary_owner', async () => {
  await expectError(T.ADMIN, 'invalidate', 'cannot_invalidate_primary_owner', args('invalidate', 'primary'));
  assert.ok((await listUser(T.ADMIN, 'W0APRIMARY')).includes(1112275520270));
});

cell('invalidate', 'primary_owner_self', async () => {
  assert.equal((await call(T.PRIMARY, 'invalidate', args('invalidate', 'primary'))).ok, true);
  assert.ok(!(await listUser(T.ADMIN, 'W0APRIMARY')).includes(1112275520270));
});

cell('invalidate', 'simulated_login', async () => {
  const sid = await simulateLogin('W0ANOSESS', T_A2, 'desktop');
  assert.deepEqual(await listUser(T.ADMIN, 'W0ANOSESS'), [sid]);
  assert.equal((await call(T.ADMIN, 'invalidate', { session_id: String(sid), team_id: T_A2 })).ok, true);
  assert.deepEqual(await listUser(T.ADMIN, 'W0ANOSESS'), []);
});

// ------------------------------------------------------------------ reset / resetBulk

const KIND = {
  1112275520242: 'web', 1112275520243: 'desktop', 1112275520244: 'mobile', 1112275520245: 'web', 1112275520246: 'mobile',
};
const kinds = async () => (await listUser(T.ADMIN, 'W0ATARGET')).map((s) => KIND[s]).sort();

cell('reset', 'web_only', async () => {
  await call(T.ADMIN, 'reset', { user_id: 'W0ATARGET', web_only: true });
  assert.deepEqual(await kinds(), ['mobile', 'mobile']);
});

cell('reset', 'mobile_only', async () => {
  await call(T.ADMIN, 'reset', { user_id: 'W0ATARGET', mobile_only: true });
  assert.deepEqual(await kinds(), ['desktop', 'web', 'web']);
});

cell('reset', 'both_flags', async () => {
  await call(T.ADMIN, 'reset', { user_id: 'W0ATARGET', mobile_only: true, web_only: true });
  assert.deepEqual(await kinds(), []);
});

for (const method of ['reset', 'resetBulk']) {
  cell(method, 'cannot_reset_primary_owner', async () => {
    const a = method === 'reset' ? { user_id: 'W0APRIMARY' } : { user_ids: ['W0ATARGET3', 'W0APRIMARY'] };
    await expectError(T.ADMIN, method, 'cannot_reset_primary_owner', a);
    assert.deepEqual(await listUser(T.ADMIN, 'W0APRIMARY'), [1112275520270]);
  });
  cell(method, 'cannot_reset_bot', async () => {
    const a = method === 'reset' ? { user_id: 'W0ABOT' } : { user_ids: ['W0ATARGET3', 'W0ABOT'] };
    await expectError(T.ADMIN, method, 'cannot_reset_bot', a);
  });
}

cell('resetBulk', 'mobile_only', async () => {
  await call(T.ADMIN, 'resetBulk', { user_ids: ['W0ATARGET', 'W0ATARGET3'], mobile_only: true });
  assert.ok(await waitUntil(async () => JSON.stringify(await kinds()) === '["desktop","web","web"]'), String(await kinds()));
  assert.ok(await waitUntil(async () => JSON.stringify(await listUser(T.ADMIN, 'W0ATARGET3')) === '[1112275520260]'));
});

cell('resetBulk', 'too_many_users', async () => {
  const users = Array.from({ length: 1001 }, (_, i) => `W0APAGE${String(i % 50).padStart(3, '0')}`);
  await expectError(T.ADMIN, 'resetBulk', 'invalid_arguments', { user_ids: users });
});

// ------------------------------------------------------------------ list

cell('list', 'by_user_and_team', async () => {
  const r = await call(T.ADMIN, 'list', { team_id: T_A2, user_id: 'W0ATARGET' });
  assert.deepEqual(r.active_sessions.map((s) => [s.session_id, s.team_id]), [[1112275520245, T_A2]]);
  assert.equal(r.response_metadata.next_cursor, '');
});

cell('list', 'missing_team', async () => {
  await expectError(T.ADMIN, 'list', 'missing_team', { user_id: 'W0ATARGET' });
});

cell('list', 'missing_user', async () => {
  await expectError(T.ADMIN, 'list', 'missing_user', { team_id: T_A1 });
});

cell('list', 'invalid_cursor', async () => {
  await expectError(T.ADMIN, 'list', 'invalid_cursor', { cursor: 'bm90LWEtY3Vyc29y!!', limit: 10 });
});

cell('list', 'pagination', async () => {
  const c = client(T.ADMIN);
  const ids = [];
  let pages = 0;
  for await (const page of c.paginate('admin.users.session.list', { limit: 50 })) {
    pages += 1;
    assert.ok(page.active_sessions.length <= 50);
    ids.push(...page.active_sessions.map((s) => s.session_id));
    assert.ok(pages < 100);
  }
  assert.equal(new Set(ids).size, ids.length, 'a session came back twice');
  assert.deepEqual(ids.sort((a, b) => a - b), listableSessionIds());
  assert.ok(pages >= 10, `pages=${pages}`);
});

cell('list', 'bots_not_listed', async () => {
  const ids = new Set((await call(T.ADMIN, 'list', {})).active_sessions.map((s) => s.session_id));
  assert.ok(!ids.has(1112275520299));
  assert.ok(ids.has(1112275520242));
});

cell('list', 'recent_omitted', async () => {
  const byId = Object.fromEntries((await call(T.ADMIN, 'list', {})).active_sessions.map((s) => [s.session_id, s]));
  assert.ok('recent' in byId[1112275520242]);
  assert.ok(!('recent' in byId[1112275520243]), JSON.stringify(byId[1112275520243]));
});

cell('list', 'simulated_login', async () => {
  const sid = await simulateLogin('W0ATARGET3', T_A2, 'mobile');
  const r = await call(T.ADMIN, 'list', { team_id: T_A2, user_id: 'W0ATARGET3' });
  assert.deepEqual(
    r.active_sessions.map((s) => s.session_id).sort((a, b) => a - b),
    [1112275520260, 1112275520261, sid].sort((a, b) => a - b),
  );
});

// ------------------------------------------------------------------ settings

cell('getSettings', 'no_settings_applied', async () => {
  const r = await settings(T.ADMIN, ['W0ATARGET3', 'W0ANOSESS']);
  assert.deepEqual(r.session_settings, []);
  assert.deepEqual([...r.no_settings_applied].sort(), ['W0ANOSESS', 'W0ATARGET3']);
});

for (const method of ['getSettings', 'setSettings', 'clearSettings']) {
  cell(method, 'bots_not_allowed', async () => {
    const a = { user_ids: ['W0ABOT'] };
    if (method === 'setSettings') a.duration = 86400;
    await expectError(T.ADMIN, method, 'bots_not_allowed', a);
  });
}

cell('setSettings', 'at_least_one_setting', async () => {
  await expectError(T.ADMIN, 'setSettings', 'at_least_one_session_setting_required', { user_ids: ['W0ATARGET3'] });
});

cell('setSettings', 'duration_bounds', async () => {
  for (const bad of [100, 315569521]) {
    await expectError(T.ADMIN, 'setSettings', 'invalid_arguments', { user_ids: ['W0ATARGET3'], duration: bad });
  }
  assert.equal((await call(T.ADMIN, 'setSettings', { user_ids: ['W0ATARGET3'], duration: 315569520 })).ok, true);
  assert.equal((await settings(T.ADMIN, ['W0ATARGET3'])).session_settings[0].duration, 315569520);
});

cell('setSettings', 'quit_only', async () => {
  await call(T.ADMIN, 'setSettings', { user_ids: ['W0ATARGET'], desktop_app_browser_quit: false });
  const r = await settings(T.ADMIN, ['W0ATARGET']);
  assert.deepEqual(r.session_settings, [{ user_id: 'W0ATARGET', duration: 86400, desktop_app_browser_quit: false }]);
});

