// A failed test's request journal is printed, by both helpers: each runs on a fixture file in a
// process of its own (one failing test after a list call, one passing test after auth.test).
import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';

function run(bin, args) {
  const r = spawnSync(`node_modules/.bin/${bin}`, args, {
    encoding: 'utf8',
    env: { ...process.env, CI: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
    timeout: 120000,
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

for (const [runner, args] of [
  ['vitest', ['run', '--config', 'tests/fixtures/vitest.config.mjs']],
  ['jest', ['--config', 'tests/fixtures/jest.config.cjs']],
]) {
  test(`${runner}: the failing test's journal is printed, the passing test's is not`, () => {
    const { status, output } = run(runner, args);
    expect(status, output).toBe(1);
    expect(output).toMatch(/fails after listing: slack emulator requests:\n.*#\d+\s+admin\.users\.session\.list\s+HTTP 200/);
    expect(output).toContain('"limit":"2"');
    expect(output).not.toMatch(/passes after auth\.test: slack emulator requests/);
    expect(output).not.toMatch(/auth\.test\s+HTTP 200/);
  });
}
