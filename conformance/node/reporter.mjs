// node:test reporter: one JSON line per matrix cell ([method/case] test names) for
// matrix.py. Used beside the spec reporter.
export default async function* cells(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const m = /^\[([^/\]]+)\/([^\]]+)\]/.exec(event.data.name);
    if (!m || event.data.nesting !== 0) continue;
    const entry = {
      sdk: 'node',
      method: m[1],
      case: m[2],
      test: event.data.name,
      outcome: event.type === 'test:pass' && !event.data.skip && !event.data.todo ? 'pass' : 'fail',
      detail: '',
    };
    if (event.type === 'test:fail') {
      const err = event.data.details?.error;
      const cause = err?.cause ?? err;
      entry.detail = String(cause?.message ?? cause ?? 'failed').slice(0, 2000);
    } else if (event.data.skip || event.data.todo) {
      entry.detail = 'skipped (a skipped case counts as a failure)';
    }
    yield `${JSON.stringify(entry)}\n`;
  }
}
