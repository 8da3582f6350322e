// Compiled (not run) by node/run: the CommonJS types.
import slackSessions = require('slack-sessions');
import jestHelper = require('slack-sessions/jest');

export async function usesTheCommonJsTypes(): Promise<string> {
  const emu: slackSessions.Emulator = await slackSessions.startEmulator();
  const helper: slackSessions.Emulator = jestHelper.useSlackEmulator({ seed: 'seed.json' });
  return emu.apiUrl + helper.adminToken + slackSessions.formatJournal([]);
}
