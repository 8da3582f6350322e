'use strict';
// `slack-sessions/jest`: an emulator per test file (jest gives each file its own globals and
// modules, so there is nothing to share across files), reset before each test, and a failed
// test's request journal printed after it.
//
//   const { useSlackEmulator } = require('slack-sessions/jest');
//   const emulator = useSlackEmulator();            // or useSlackEmulator({ seed })

const { useEmulator } = require('./helpers.cjs');

// jest-circus keeps its state under a symbol of this description on the test file's global;
// `currentlyRunningTest.errors` holds the test's failures by the time afterEach hooks run. Jest
// has no public "did this test fail" for hooks; if that internal moves, only the printing of
// the journal stops (the rest does not depend on it).
function currentTestErrors() {
  const sym = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === 'JEST_STATE_SYMBOL');
  const test = sym && globalThis[sym] && globalThis[sym].currentlyRunningTest;
  return test && Array.isArray(test.errors) ? test.errors : null;
}

function useSlackEmulator(options = {}) {
  // jest's globals; a hook function that takes an argument would be given jest's `done`
  // callback, so the helper's hook, which takes the runner's context, is wrapped in one that
  // takes none.
  const hooks = { beforeAll, afterAll, beforeEach: (fn, timeout) => beforeEach(() => fn(undefined), timeout) };
  let journal = null;
  afterEach(async () => {
    const errors = currentTestErrors();
    const pending = journal;
    journal = null;
    if (pending && errors && errors.length > 0) {
      const test = expect.getState().currentTestName;
      console.error(`${test}: ${await pending()}`);
    }
  });
  return useEmulator(hooks, options, {
    shared: false,
    onFailure(_context, read) {
      journal = read;
    },
  });
}

module.exports = { useSlackEmulator };
