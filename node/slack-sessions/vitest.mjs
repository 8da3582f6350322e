// `slack-sessions/vitest`: one emulator per worker, reset before each test, a seed per file, and
// a failed test's request journal printed with its output.
//
//   import { useSlackEmulator } from 'slack-sessions/vitest';
//   const emulator = useSlackEmulator();            // or useSlackEmulator({ seed })
//
// "Per worker": the emulator is kept, by options, for the life of the vitest worker. Under
// vitest's default isolation each test file has a fresh worker (so an emulator of its own); with
// `isolate: false` (or a single fork) the files of a worker share it. It ends with the worker
// (its standard input closes), never outliving the run.
import { beforeAll, beforeEach } from 'vitest';
import helpers from './helpers.cjs';

export function useSlackEmulator(options = {}) {
  return helpers.useEmulator({ beforeAll, beforeEach }, options, {
    shared: true,
    onFailure(context, journal) {
      context.onTestFailed(async () => {
        console.error(`${context.task.name}: ${await journal()}`);
      });
    },
  });
}
