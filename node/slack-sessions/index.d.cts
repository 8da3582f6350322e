/** A seed object, in the shape of `slack-sessions serve --seed FILE` (see the README). */
export interface Seed {
  orgs: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** What `seed` accepts: a seed object, or the path or file URL of a seed file (JSON). */
export type SeedLike = Seed | string | URL;

/**
 * A fault effect in the control plane's encoding: `{ error: 'internal_error' }` (HTTP 200
 * `ok:false`), `{ rate_limited: 5 }` (HTTP 429, `Retry-After: 5`), `{ http_status: 503 }`,
 * `{ latency_ms: 300 }`, or `'empty_body'`, `'non_json'`, `'truncated_json'` (the call is
 * executed), `'reset_connection'`.
 */
export type Effect =
  | 'empty_body'
  | 'non_json'
  | 'truncated_json'
  | 'reset_connection'
  | { error: string }
  | { rate_limited: number }
  | { http_status: number }
  | { latency_ms: number };

export interface StartOptions {
  /** Omitted: the demo org (admin token `xoxp-demo-admin`). An object is handed to the server on its standard input, never written to disk. */
  seed?: SeedLike | null;
  /** `'off'` (default: functional tests), `'slack'` (Slack's tiers) or `'scale=N'` (windows N times shorter). */
  rateLimits?: 'off' | 'slack' | `scale=${number}`;
  /** `':memory:'` (default) or the path of a SQLite file (a file that holds state is kept as it is). */
  db?: string;
  /** The executable to run; default: `SLACK_SESSIONS_BIN`, the platform package's binary, then `PATH`. */
  binary?: string;
  /** How long to wait for the server to answer, in ms (default 30000). */
  startupTimeoutMs?: number;
  /** Delay before a queued `resetBulk` job runs, in ms (the binary's default: 250). */
  bulkDelayMs?: number;
  /** Seed of the random source behind fault probabilities. */
  faultSeed?: number;
  /** More `serve` arguments, appended as given. */
  args?: string[];
  /** The server's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface FaultRule {
  /** Only this Web API method (e.g. `'admin.users.session.list'`); default every method. */
  method?: string;
  effect: Effect;
  /** Affect this many calls, then the rule goes (at least 1); default: every call. */
  times?: number;
  /** Chance in [0, 1] that a matching call is affected (seeded, repeatable). */
  probability?: number;
  /** Only calls made with this token. */
  token?: string;
  /** Only calls whose token belongs to this org, or to the org of this team. */
  team?: string;
}

/** One API call in the request journal. */
export interface JournalEntry {
  id: number;
  at_ms: number;
  method: string;
  org_id?: string | null;
  user_id?: string | null;
  /** The call's arguments (the token is never kept). */
  args: Record<string, unknown>;
  status: number;
  error?: string | null;
  fault?: unknown;
  duration_us: number;
  [key: string]: unknown;
}

export interface SignIn {
  userId: string;
  /** A workspace id, or the org id (an org-level session). */
  teamId: string;
  client?: 'web' | 'desktop' | 'mobile';
  sessionId?: number;
  deviceHardware?: string;
  os?: string;
  osVersion?: string;
  slackClientVersion?: string;
  ip?: string;
}

/** A running emulator (from `startEmulator`). */
export declare class Emulator {
  private constructor();
  /** The server's root URL, e.g. `http://127.0.0.1:40123/`. */
  readonly url: string;
  /** Base URL of the Web API, ending with `/api/`: `@slack/web-api`'s `slackApiUrl`. */
  readonly apiUrl: string;
  /** Base URL of the control plane, ending with `/_emulator/`. */
  readonly controlUrl: string;
  /** `xoxp-demo-admin` for the demo org, else the seed's first active admin user token (throws if it has none). */
  readonly adminToken: string;
  readonly rateLimits: string;
  /** The server's process id. */
  readonly pid: number;
  /** Whether the server process is alive. */
  readonly running: boolean;
  /** The last lines the server wrote on standard error (its log). */
  readonly stderr: string;
  /** `GET /_emulator/health`: version and counts. */
  health(): Promise<Record<string, unknown>>;
  /** Back to the seed: state, rate-limit buckets, no fault rules, an empty journal. */
  reset(): Promise<void>;
  /** Adds a fault rule after the existing ones; resolves to the rule as stored, with its `id`. */
  addFault(rule: FaultRule): Promise<FaultRule & { id: number }>;
  /** Removes every fault rule. */
  clearFaults(): Promise<void>;
  /** The request journal, oldest first (every page). */
  requests(filter?: { method?: string; after?: number }): Promise<JournalEntry[]>;
  /** Simulates a sign-in; resolves to the new session's id. */
  signIn(signIn: SignIn): Promise<number>;
  /** The whole state, in the seed's shape. */
  state(): Promise<Seed>;
  /** Replaces the whole state (what `reset()` restores is unchanged). */
  loadState(state: Seed): Promise<void>;
  /** Stops the server (standard input closed, SIGKILL after 3 s); idempotent. */
  stop(): Promise<void>;
}

/** Anything that went wrong with the emulator process or its control plane. */
export declare class EmulatorError extends Error {}

/** The emulator did not start; the message holds the binary's own (e.g. the seed entry at fault). */
export declare class StartError extends EmulatorError {
  readonly exitCode: number | null;
  readonly stderr: string;
}

/** A /_emulator/ control route answered with an error. */
export declare class ControlError extends EmulatorError {
  readonly route: string;
  readonly status: number;
  /** e.g. `invalid_fault`, `user_not_found`. */
  readonly code: string;
  readonly detail: string;
}

/** Starts the emulator on a free loopback port; resolves once it answers. */
export declare function startEmulator(options?: StartOptions): Promise<Emulator>;

/** The first active admin user token of a seed (`admin.users:write` first), or null. */
export declare function adminTokenOf(seed: Seed): string | null;

/** Journal entries as text, one call a line. */
export declare function formatJournal(entries: JournalEntry[]): string;

/** The `slack-sessions` executable that `startEmulator` runs. */
export declare function findBinary(): string;

export declare const DEMO_ADMIN_TOKEN: 'xoxp-demo-admin';
export declare const BINARY_ENV: 'SLACK_SESSIONS_BIN';
