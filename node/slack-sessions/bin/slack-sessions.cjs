#!/usr/bin/env node
'use strict';
// `npx slack-sessions serve --demo` (or any other command): runs the platform package's binary
// with these arguments, in this terminal.
const { spawnSync } = require('node:child_process');
const { findBinary } = require('../index.cjs');

let binary;
try {
  binary = findBinary();
} catch (e) {
  console.error(`slack-sessions: ${e.message}`);
  process.exit(1);
}
const run = spawnSync(binary, process.argv.slice(2), { stdio: 'inherit' });
if (run.error) {
  console.error(`slack-sessions: cannot run ${binary}: ${run.error.message}`);
  process.exit(1);
}
if (run.signal) process.kill(process.pid, run.signal); // Ctrl-C reached both: end as it did
process.exit(run.status ?? 1);
