'use strict';
// What the vitest and jest helpers share: an emulator started in `beforeAll`, reset before each
// test, and a handle that the test file holds from its first line on.

const { formatJournal, startEmulator } = require('./index.cjs');

// Emulators kept for the life of the worker, by options (see `shared` below).
const KEPT = Symbol.for('slack-sessions.emulators');
const START_TIMEOUT_MS = 60000;

function keyOf(options) {
  const { seed = null, rateLimits = 'off', db = ':memory:', binary = null, ...rest } = options;
  const seedKey = seed instanceof URL ? seed.href : seed;
  return JSON.stringify([seedKey, rateLimits, db, binary, rest]);
}

/** One emulator per options and worker: started once, left running until the worker ends. */
function keptEmulator(options) {
  const kept = (globalThis[KEPT] ||= new Map());
  const key = keyOf(options);
  let started = kept.get(key);
  if (!started) {
    started = startEmulator(options);
    kept.set(key, started);
    started.catch(() => kept.delete(key)); // a bad seed fails each file that asks, not just the first
  }
  return started;
}

/**
 * Registers the hooks and returns a handle that stands for the emulator (every property and
 * method of Emulator) once `beforeAll` has started it.
 *
 * hooks: { beforeAll, beforeEach, afterAll } of the runner. shared: keep the emulator for the
 * worker's life (vitest), or stop it after the file (jest, whose files share no globals).
 * onFailure(context, journal): called before each test with the runner's test context and a
 * function that reads that test's journal as text; the runner prints it if the test fails.
 */
function useEmulator(hooks, options, { shared, onFailure }) {
  let current = null;
  hooks.beforeAll(async () => {
    current = shared ? await keptEmulator(options) : await startEmulator(options);
  }, START_TIMEOUT_MS);
  hooks.beforeEach(async (context) => {
    await handle.reset();
    onFailure(context, async () => {
      const entries = await current.requests();
      return `slack emulator requests:\n${formatJournal(entries)}`;
    });
  });
  if (!shared) {
    hooks.afterAll(async () => {
      const emulator = current;
      current = null;
      if (emulator) await emulator.stop();
    });
  }
  const handle = new Proxy(
    {},
    {
      get(_, name) {
        if (name === 'then' || typeof name === 'symbol') return undefined; // not a promise
        if (!current) {
          throw new Error(
            `slack-sessions: the emulator is not started yet (emulator.${name}): use it inside a test ` +
              'or hook; useSlackEmulator() starts it in beforeAll',
          );
        }
        const value = current[name];
        return typeof value === 'function' ? value.bind(current) : value;
      },
    },
  );
  return handle;
}

module.exports = { useEmulator };
