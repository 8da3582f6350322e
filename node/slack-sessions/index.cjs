'use strict';
// slack-sessions for Node: the emulator of Slack's admin.users.session.* Web API, started from
// the binary that the platform package (@slack-sessions/linux-x64, ...) carries.
//
// `startEmulator()` runs `slack-sessions serve` on a free loopback port and drives its control
// plane (/_emulator/) over HTTP. Lifetime: the server runs with `--exit-on-stdin-close` and its
// standard input is a pipe whose write end only this process holds (libuv opens it close-on-exec):
// when Node exits, however it exits (SIGKILL, a crash, a worker thread terminated), the kernel
// closes the pipe and the server shuts down. A seed object reaches the server on that same pipe
// (`--seed -`), so its tokens are never written to a file that a killed process would leave
// behind; with the default `db: ':memory:'` nothing of the emulator is on disk at all.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { fileURLToPath } = require('node:url');

/** The admin token of the demo org (`serve --demo`): an org owner with every scope. */
const DEMO_ADMIN_TOKEN = 'xoxp-demo-admin';

/** The environment variable that names the binary to run, overriding every search. */
const BINARY_ENV = 'SLACK_SESSIONS_BIN';

// The platform packages, as esbuild ships its binaries: each is an optional dependency of this
// package that npm installs only on its own os/cpu. Only linux-x64 is built today; darwin-arm64,
// darwin-x64, linux-arm64 and win32-x64 would be added here and in package.json.
const PLATFORM_PACKAGES = {
  'linux x64': '@slack-sessions/linux-x64',
};

const UNIT_EFFECTS = new Set(['empty_body', 'non_json', 'truncated_json', 'reset_connection']);
const VALUED_EFFECTS = new Set(['error', 'rate_limited', 'http_status', 'latency_ms']);
const DEVICE_FIELDS = {
  client: 'client',
  sessionId: 'session_id',
  deviceHardware: 'device_hardware',
  os: 'os',
  osVersion: 'os_version',
  slackClientVersion: 'slack_client_version',
  ip: 'ip',
};
const ADMIN_ROLES = new Set(['admin', 'owner', 'primary_owner']);
// The line `serve` prints once it listens: "slack-sessions emulator listening on http://…/api/".
const LISTENING = /listening on (https?:\/\/\S+?)\/api\/?(?:\s|$)/;
const STOP_GRACE_MS = 3000;
const TAIL_LINES = 400;

/** Anything that went wrong with the emulator process or its control plane. */
class EmulatorError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'EmulatorError';
  }
}

/** The emulator did not start: its binary is missing, it exited, or it did not answer in time. */
class StartError extends EmulatorError {
  constructor(message, { exitCode = null, stderr = '', cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StartError';
    /** The process's exit code, or null (still running, or never started). */
    this.exitCode = exitCode;
    /** What the process wrote on standard error (its `error: …` line names the cause). */
    this.stderr = stderr;
  }
}

/** A /_emulator/ control route answered with an error. */
class ControlError extends EmulatorError {
  constructor(route, status, code, detail) {
    super(`${route}: HTTP ${status} ${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'ControlError';
    this.route = route;
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The path of the `slack-sessions` executable: `SLACK_SESSIONS_BIN` if set, else the platform
 * package's binary. (Not PATH: there, `node_modules/.bin/slack-sessions` is this package's own
 * launcher.)
 */
function findBinary() {
  const name = process.platform === 'win32' ? 'slack-sessions.exe' : 'slack-sessions';
  const override = process.env[BINARY_ENV];
  if (override) {
    if (isExecutable(override)) return override;
    throw new StartError(`${BINARY_ENV}=${JSON.stringify(override)} is not an executable file`);
  }
  const platformPackage = PLATFORM_PACKAGES[`${process.platform} ${process.arch}`];
  if (platformPackage) {
    let manifest = null;
    try {
      manifest = require.resolve(`${platformPackage}/package.json`);
    } catch {
      // not installed: see below
    }
    const file = manifest && path.join(path.dirname(manifest), 'bin', name);
    if (file && isExecutable(file)) return file;
    if (file) throw new StartError(`${file} is missing or not executable: reinstall ${platformPackage}`);
  }
  const why = platformPackage
    ? `its platform package ${platformPackage} is not installed (npm skips optional dependencies ` +
      'with --omit=optional, and a lockfile made on another platform may lack it)'
    : `there is no platform package for ${process.platform}-${process.arch} yet`;
  throw new StartError(
    `the ${name} executable was not found: ${why}. Install slack-sessions again with its ` +
      `optional dependencies, or set ${BINARY_ENV} to the path of a ${name} binary ` +
      '(e.g. built with `cargo install --path crates/cli`).',
  );
}

/**
 * The first admin token of a seed, or null: the first token (orgs, then their tokens, in order)
 * of type user, state active, whose user is a non-deleted, non-bot admin, owner or primary owner
 * of that org, with the `admin.users:write` scope; else the first such with `admin.users:read`.
 */
function adminTokenOf(seed) {
  let readOnly = null;
  for (const org of (seed && seed.orgs) || []) {
    const users = new Map(((org && org.users) || []).map((u) => [u && u.id, u]));
    for (const token of (org && org.tokens) || []) {
      const secret = token && token.token;
      if (typeof secret !== 'string') continue;
      const kind = token.type || (secret.startsWith('xoxb-') ? 'bot' : 'user');
      if (kind !== 'user' || (token.state || 'active') !== 'active') continue;
      const user = users.get(token.user_id);
      if (!user || user.deleted || user.is_bot || !ADMIN_ROLES.has(user.role || 'member')) continue;
      const scopes = token.scopes || [];
      if (scopes.includes('admin.users:write')) return secret;
      if (readOnly === null && scopes.includes('admin.users:read')) readOnly = secret;
    }
  }
  return readOnly;
}

/** The journal entries as text, one call a line (what the test helpers print). */
function formatJournal(entries) {
  if (!entries || entries.length === 0) return '(no API calls)';
  return entries
    .map((e) => {
      const parts = [`#${e.id}`, String(e.method), `HTTP ${e.status}`];
      if (e.error) parts.push(`error=${e.error}`);
      if (e.fault) parts.push(`fault=${typeof e.fault === 'string' ? e.fault : JSON.stringify(e.fault)}`);
      if (e.user_id) parts.push(`user=${e.user_id}`);
      if (e.args && Object.keys(e.args).length) parts.push(JSON.stringify(e.args));
      if (typeof e.duration_us === 'number') parts.push(`${(e.duration_us / 1000).toFixed(1)} ms`);
      return parts.join('  ');
    })
    .join('\n');
}

/** Calls `onLine` with each line of `stream`, decoded as UTF-8. */
function eachLine(stream, onLine) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) onLine(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
}

/** One HTTP request to loopback (no proxy, no keep-alive); resolves to { status, text }. */
function request(verb, url, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers = { accept: 'application/json' };
    if (data) {
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = String(data.length);
    }
    const req = http.request(url, { method: verb, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

function seedPathOf(seed) {
  return seed instanceof URL ? fileURLToPath(seed) : String(seed);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null; // the binary reports it, with a better message
  }
}

/** A running emulator; see `startEmulator`. */
class Emulator {
  #child;
  #url;
  #adminToken;
  #rateLimits;
  #stderr;
  #exited;

  /** @internal use `startEmulator()` */
  constructor(child, url, adminToken, rateLimits, stderr, exited) {
    this.#child = child;
    this.#url = url;
    this.#adminToken = adminToken;
    this.#rateLimits = rateLimits;
    this.#stderr = stderr;
    this.#exited = exited;
  }

  /** The server's root URL, e.g. `http://127.0.0.1:40123/`. */
  get url() {
    return this.#url;
  }

  /** Base URL of the Web API, ending with `/api/`: `@slack/web-api`'s `slackApiUrl`. */
  get apiUrl() {
    return `${this.#url}api/`;
  }

  /** Base URL of the control plane, ending with `/_emulator/`. */
  get controlUrl() {
    return `${this.#url}_emulator/`;
  }

  /** An admin user token: `xoxp-demo-admin` for the demo org, else the seed's first admin token. */
  get adminToken() {
    if (this.#adminToken === null) {
      throw new EmulatorError(
        'the seed has no active user token of an admin or owner with the admin.users:write or admin.users:read scope',
      );
    }
    return this.#adminToken;
  }

  /** The `--rate-limits` mode the server runs with. */
  get rateLimits() {
    return this.#rateLimits;
  }

  /** The server's process id. */
  get pid() {
    return this.#child.pid;
  }

  /** Whether the server process is alive. */
  get running() {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines the server wrote on standard error (its log). */
  get stderr() {
    return this.#stderr.join('\n');
  }

  async #control(verb, route, { body, query, timeoutMs = 30000 } = {}) {
    const url = new URL(route, this.controlUrl);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const name = `${verb} /_emulator/${route}`;
    let answer;
    try {
      answer = await request(verb, url, body, timeoutMs);
    } catch (e) {
      if (!this.running) {
        const tail = this.#stderr.slice(-20).join('\n');
        throw new EmulatorError(
          `${name}: the emulator has exited (code ${this.#child.exitCode ?? this.#child.signalCode})` +
            (tail ? `; its standard error:\n${tail}` : ''),
          { cause: e },
        );
      }
      throw new EmulatorError(`${name}: cannot reach the emulator at ${this.#url}: ${e.message}`, { cause: e });
    }
    let json;
    try {
      json = JSON.parse(answer.text);
    } catch {
      json = undefined;
    }
    if (answer.status < 200 || answer.status > 299) {
      const code = (json && json.error) || 'http_error';
      const detail = json ? json.detail || '' : answer.text.slice(0, 500);
      throw new ControlError(name, answer.status, String(code), String(detail));
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw new EmulatorError(`${name}: the answer is not a JSON object: ${answer.text.slice(0, 200)}`);
    }
    if (json.ok === false) throw new ControlError(name, 200, String(json.error), String(json.detail || ''));
    return json;
  }

  /** `GET /_emulator/health`: version, counts of orgs, users, sessions, pending jobs. */
  health() {
    return this.#control('GET', 'health', { timeoutMs: 2000 });
  }

  /**
   * Makes the emulator as it was just after start: the seed's state, empty rate-limit buckets,
   * no fault rules, an empty request journal.
   */
  async reset() {
    await this.#control('POST', 'reset');
    await this.#control('DELETE', 'faults');
    await this.#control('DELETE', 'requests');
  }

  /**
   * Adds a fault rule after the existing ones (the first rule matching a call applies) and
   * returns it as stored, with its `id`.
   */
  async addFault({ method, effect, times, probability, token, team } = {}) {
    if (effect === undefined || effect === null) {
      throw new TypeError("addFault() needs an effect, e.g. { effect: { rate_limited: 1 } }");
    }
    if (typeof effect === 'string') {
      if (!UNIT_EFFECTS.has(effect)) {
        throw new TypeError(
          `unknown effect ${JSON.stringify(effect)}: one of ${[...UNIT_EFFECTS].join(', ')}, ` +
            `or an object with one of ${[...VALUED_EFFECTS].join(', ')}`,
        );
      }
    } else if (typeof effect !== 'object' || Object.keys(effect).length !== 1) {
      throw new TypeError(`effect must be a string or a one-key object, not ${JSON.stringify(effect)}`);
    }
    if (times !== undefined && times !== null && !(Number.isInteger(times) && times >= 1)) {
      throw new TypeError(`times must be an integer of at least 1 (or omitted: every call), not ${times}`);
    }
    const rule = { effect };
    for (const [k, v] of Object.entries({ method, times, probability, token, team })) {
      if (v !== undefined && v !== null) rule[k] = v;
    }
    const answer = await this.#control('POST', 'faults', { body: rule });
    return answer.fault || rule;
  }

  /** Removes every fault rule. */
  async clearFaults() {
    await this.#control('DELETE', 'faults');
  }

  /**
   * The request journal, oldest first: one entry per API call with `id`, `at_ms`, `method`,
   * `org_id`, `user_id`, `args` (the token is never kept), `status`, `error`, `fault`,
   * `duration_us`. `method` keeps only calls of that method, `after` only entries above that id.
   */
  async requests({ method, after = 0 } = {}) {
    const out = [];
    let cursor = after;
    for (;;) {
      const page = await this.#control('GET', 'requests', { query: { method, after: cursor } });
      const entries = (page.requests || []).filter((e) => Number(e.id) > cursor);
      out.push(...entries);
      const next = page.next_after;
      if (next === undefined || next === null || entries.length === 0 || Number(next) <= cursor) return out;
      cursor = Number(next);
    }
  }

  /**
   * Simulates a sign-in: adds a session for `userId` on `teamId` (a workspace or the org id)
   * and returns its id. Optional: `client` ('web', 'desktop' or 'mobile'; default web),
   * `sessionId`, `deviceHardware`, `os`, `osVersion`, `slackClientVersion`, `ip`.
   */
  async signIn({ userId, teamId, ...device } = {}) {
    if (typeof userId !== 'string' || typeof teamId !== 'string') {
      throw new TypeError('signIn() needs { userId, teamId }');
    }
    const body = { user_id: userId, team_id: teamId };
    for (const [k, v] of Object.entries(device)) {
      if (!(k in DEVICE_FIELDS)) {
        throw new TypeError(`signIn() got an unknown field ${k}; known: userId, teamId, ${Object.keys(DEVICE_FIELDS).join(', ')}`);
      }
      if (v !== undefined && v !== null) body[DEVICE_FIELDS[k]] = v;
    }
    const answer = await this.#control('POST', 'sessions', { body });
    return answer.session_id;
  }

  /** The whole state, in the seed file's shape (`{ orgs: [...] }`). */
  state() {
    return this.#control('GET', 'state');
  }

  /** Replaces the whole state (the seed that `reset()` restores is unchanged). */
  async loadState(state) {
    await this.#control('PUT', 'state', { body: state });
  }

  /**
   * Stops the server: closes its standard input (it shuts down on that), then kills it if it is
   * still running after 3 s. Resolves once it has exited; calling it again does nothing.
   */
  async stop() {
    const child = this.#child;
    if (this.running) {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
    }
  }
}

/**
 * Starts the emulator on a free loopback port and resolves once it answers.
 *
 * Options (all optional): `seed` (omitted: the demo org; an object in the seed file's shape; or
 * the path or file URL of a seed file), `rateLimits` ('off', the default, 'slack' or
 * 'scale=N'), `db` (':memory:', the default, or a SQLite file), `binary`, `startupTimeoutMs`
 * (30000), `bulkDelayMs`, `faultSeed`, `args` (more `serve` arguments), `env`.
 *
 * Rejects with a StartError carrying the binary's own message (e.g. the seed entry that is not
 * valid) if the server does not start.
 */
async function startEmulator(options = {}) {
  const {
    seed,
    rateLimits = 'off',
    db = ':memory:',
    binary,
    startupTimeoutMs = 30000,
    bulkDelayMs,
    faultSeed,
    args = [],
    env,
  } = options;
  const argv = ['serve', '--addr', '127.0.0.1:0', '--db', String(db), '--rate-limits', String(rateLimits)];
  argv.push('--exit-on-stdin-close');
  let input;
  let adminToken;
  if (seed === undefined || seed === null) {
    argv.push('--demo');
    adminToken = DEMO_ADMIN_TOKEN;
  } else if (typeof seed === 'string' || seed instanceof URL) {
    const file = seedPathOf(seed);
    argv.push('--seed', file);
    adminToken = adminTokenOf(readJson(file));
  } else if (typeof seed === 'object' && !Array.isArray(seed)) {
    input = JSON.stringify(seed);
    argv.push('--seed', '-');
    adminToken = adminTokenOf(seed);
  } else {
    throw new TypeError(`seed must be an object, a path or a file URL, not ${JSON.stringify(seed)}`);
  }
  if (bulkDelayMs !== undefined) argv.push('--bulk-delay-ms', String(bulkDelayMs));
  if (faultSeed !== undefined) argv.push('--fault-seed', String(faultSeed));
  argv.push(...args);
  const bin = binary ? String(binary) : findBinary();

  const stderr = [];
  const stdout = [];
  const child = spawn(bin, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: env || process.env, windowsHide: true });
  const exited = new Promise((resolve) => child.once('close', resolve));
  const spawnError = new Promise((resolve) => child.once('error', resolve));
  child.stdin.on('error', () => {}); // EPIPE if it exits before reading the seed: reported below
  if (input !== undefined) child.stdin.write(input); // and left open: its end stops the server

  const listening = new Promise((resolve) => {
    eachLine(child.stdout, (line) => {
      if (stdout.length < TAIL_LINES) stdout.push(line);
      const m = LISTENING.exec(line);
      if (m) resolve(`${m[1].replace(/\/$/, '')}/`);
    });
  });
  eachLine(child.stderr, (line) => {
    stderr.push(line);
    if (stderr.length > TAIL_LINES) stderr.shift();
  });

  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, startupTimeoutMs);
  });
  const failure = async (why, cause) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    const err = stderr.join('\n').trim();
    const out = stdout.join('\n').trim();
    const message = why + (err ? `; its standard error:\n${err}` : out ? `; its output:\n${out}` : '');
    return new StartError(message, { exitCode: child.exitCode, stderr: err, cause });
  };
  try {
    const first = await Promise.race([
      listening.then((url) => ({ url })),
      exited.then((code) => ({ exit: code })),
      spawnError.then((error) => ({ error })),
      timeout.then(() => ({ timeout: true })),
    ]);
    if (first.error) throw await failure(`cannot run ${bin}: ${first.error.message}`, first.error);
    if (first.timeout) throw await failure(`the emulator did not report its address within ${startupTimeoutMs} ms`);
    if (!first.url) throw await failure(`the emulator exited with code ${child.exitCode ?? child.signalCode} before listening`);
    const emulator = new Emulator(child, first.url, adminToken, String(rateLimits), stderr, exited);
    const deadline = Date.now() + startupTimeoutMs;
    for (let last; ; ) {
      if (Date.now() > deadline) throw await failure(`the emulator at ${first.url} did not answer (last error: ${last})`);
      if (!emulator.running) throw await failure(`the emulator exited with code ${child.exitCode} during start-up`);
      try {
        await emulator.health();
        break;
      } catch (e) {
        last = e.message;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // From here on the server does not keep Node alive: a forgotten emulator ends with it.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream.unref?.();
    return emulator;
  } finally {
    clearTimeout(timer);
  }
}

module.exports = {
  BINARY_ENV,
  ControlError,
  DEMO_ADMIN_TOKEN,
  Emulator,
  EmulatorError,
  StartError,
  adminTokenOf,
  findBinary,
  formatJournal,
  startEmulator,
};
