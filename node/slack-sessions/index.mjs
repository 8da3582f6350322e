// The ES module entry point: the same objects as the CommonJS one (index.cjs), so a program that
// mixes `import` and `require` gets one Emulator class, not two.
import cjs from './index.cjs';

export const {
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
} = cjs;
