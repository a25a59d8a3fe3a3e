// The NOTIFY channels of the registry. A notification is a wake-up hint only: whoever
// listens polls the tables for the truth, so a missed one costs latency, never work.

/** Channels freshet notifies on. */
export const CHANNELS = {
  /** A job became claimable (payload: its id); sent by a trigger on `jobs` (migration 0100). */
  jobs: 'freshet_jobs',
  /** A partition was registered (payload: its id); sent in the registering transaction. */
  partitions: 'freshet_partitions',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];
