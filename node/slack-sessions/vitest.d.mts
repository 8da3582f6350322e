import type { Emulator, StartOptions } from './index.mjs';

/**
 * Registers vitest hooks for this file: an emulator per worker and options (started in
 * `beforeAll`), reset before each test (seed state, rate-limit buckets, fault rules, journal),
 * and a failed test's request journal printed with its output. The handle stands for the
 * `Emulator` from the first hook on.
 */
export declare function useSlackEmulator(options?: StartOptions): Emulator;
