export const EXIT_OK = 0;
/** The input (cluster.yaml, a VMID, a plan) is wrong. */
export const EXIT_BAD_INPUT = 1;
/** The command line is wrong. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {}
