/**
 * cdktf records a full stack trace for every token it creates (a `dependsOn` entry is one, and so is
 * every reference it makes while resolving one), only to quote it in an error message; with ts-node's
 * source-map support each trace costs a fraction of a millisecond, seconds for a full cluster. Traces
 * are switched off while cias builds and synthesizes its stacks.
 */
export function withoutTokenStackTraces<T>(run: () => T): T {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = () => '';
  try {
    return run();
  } finally {
    Error.prepareStackTrace = previous;
  }
}
