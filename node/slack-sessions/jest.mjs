// `slack-sessions/jest` for test files that jest runs as ES modules; see jest.cjs.
import cjs from './jest.cjs';

export const { useSlackEmulator } = cjs;
