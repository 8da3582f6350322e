import type { Emulator, StartOptions } from './index.cjs';

/**
 * Registers jest hooks for this file: an emulator for the file (started in `beforeAll`, stopped
 * in `afterAll`), reset before each test (seed state, rate-limit buckets, fault rules, journal),
 * and a failed test's request journal printed after it. The handle stands for the `Emulator`
 * from the first hook on.
 */
export declare function useSlackEmulator(options?: StartOptions): Emulator;
