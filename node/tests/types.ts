// Compiled (not run) by node/run with `tsc --noEmit`: the ES module types as a TypeScript user
// meets them.
import { ControlError, StartError, startEmulator, type Emulator, type JournalEntry } from 'slack-sessions';
import { useSlackEmulator } from 'slack-sessions/vitest';

export async function usesTheTypes(): Promise<string> {
  const emu: Emulator = await startEmulator({ seed: { orgs: [] }, rateLimits: 'scale=60', db: ':memory:' });
  const urls: string[] = [emu.apiUrl, emu.adminToken, emu.controlUrl];
  await emu.reset();
  const rule = await emu.addFault({ method: 'auth.test', effect: { rate_limited: 1 }, times: 1 });
  const id: number = rule.id;
  await emu.clearFaults();
  const entries: JournalEntry[] = await emu.requests({ method: 'auth.test' });
  const session: number = await emu.signIn({ userId: 'W1', teamId: 'T1', ip: '203.0.113.1' });
  await emu.loadState(await emu.state());
  await emu.stop();
  // @ts-expect-error: an effect is one of the documented shapes
  await emu.addFault({ effect: { explode: true } });
  const helper: Emulator = useSlackEmulator({ seed: new URL('file:///seed.json') });
  const e: unknown = null;
  if (e instanceof StartError) return e.stderr;
  if (e instanceof ControlError) return e.code;
  return `${urls.join()}${id}${entries.length}${session}${helper.apiUrl}`;
}
