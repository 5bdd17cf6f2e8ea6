/**
 * The drill's data on MooseFS: files of random bytes written through a node's /mnt/mfs with their
 * SHA-256 taken from the very bytes handed to the file (`tee`), then read back on another node and
 * compared file by file.
 */
import type { Lab } from './lab';

export interface DrillDataSpec {
  /** Directory under the MooseFS mount, e.g. `/mnt/mfs/cias-drill/<run>`. */
  readonly dir: string;
  /** @default 4 */
  readonly largeFiles?: number;
  /** @default 64 */
  readonly largeFileMiB?: number;
  /** @default 300 */
  readonly smallFiles?: number;
  /** Small files are 1..smallFileMaxKiB KiB. @default 10 */
  readonly smallFileMaxKiB?: number;
}

export interface ChecksummedFile {
  /** Relative to the data directory. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface DataCheck {
  readonly node: string;
  readonly filesChecked: number;
  readonly bytesChecked: number;
  /** Files whose content differs from what was written. */
  readonly mismatched: readonly string[];
  /** Files that could not be read back at all. */
  readonly missing: readonly string[];
  readonly seconds: number;
}

/** `sha256 bytes path` lines into records. */
export function parseManifest(text: string): ChecksummedFile[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const match = /^([0-9a-f]{64}) (\d+) (.+)$/.exec(line);
      if (!match) throw new Error(`not a manifest line: ${line}`);
      return { sha256: match[1], bytes: Number(match[2]), path: match[3] };
    });
}

const WRITE_SCRIPT = String.raw`
set -euo pipefail
dir=$1 large=$2 mib=$3 small=$4 maxkib=$5
mkdir -p "$dir/large" "$dir/small"
cd "$dir"
# put <relative path> <bytes>: random bytes into the file, their checksum from the same stream.
put() {
  head -c "$2" /dev/urandom | tee "$1" | sha256sum | awk -v bytes="$2" -v file="$1" '{ print $1, bytes, file }'
}
for ((i = 1; i <= large; i++)); do put "large/file-$i.bin" $((mib * 1048576)); done
for ((i = 1; i <= small; i++)); do put "small/file-$i.bin" $((1024 + RANDOM % ((maxkib - 1) * 1024 + 1))); done
`;

/** Writes the data set through `node`'s MooseFS mount; returns what was written. */
export function writeDataSet(lab: Lab, node: string, spec: DrillDataSpec): ChecksummedFile[] {
  const result = lab.exec(
    node,
    [
      'bash',
      '-c',
      WRITE_SCRIPT,
      'cias-drill-write',
      spec.dir,
      String(spec.largeFiles ?? 4),
      String(spec.largeFileMiB ?? 64),
      String(spec.smallFiles ?? 300),
      String(spec.smallFileMaxKiB ?? 10),
    ],
    { timeoutMs: 600_000 },
  );
  return parseManifest(result.stdout);
}

/** Writes one more file of `bytes` random bytes under `dir` through `node`. */
export function writeOneFile(lab: Lab, node: string, dir: string, relativePath: string, bytes: number): ChecksummedFile {
  const script = String.raw`set -euo pipefail; cd "$1"; mkdir -p "$(dirname "$2")"; head -c "$3" /dev/urandom | tee "$2" | sha256sum | awk -v bytes="$3" -v file="$2" '{ print $1, bytes, file }'`;
  const [file] = parseManifest(lab.exec(node, ['bash', '-c', script, 'cias-drill-put', dir, relativePath, String(bytes)], { timeoutMs: 120_000 }).stdout);
  return file;
}

const READ_SCRIPT = String.raw`
set -uo pipefail
cd "$1" || exit 1
shift
for file in "$@"; do
  if size=$(stat -c %s "$file" 2>/dev/null) && sum=$(sha256sum <"$file" 2>/dev/null); then
    printf '%s %s %s\n' "$(cut -d' ' -f1 <<<"$sum")" "$size" "$file"
  fi
done
`;

/** Reads every file of `expected` back through `node`'s mount and compares size and checksum. */
export function verifyDataSet(lab: Lab, node: string, dir: string, expected: readonly ChecksummedFile[]): DataCheck {
  const started = process.hrtime.bigint();
  const read = new Map<string, ChecksummedFile>();
  // Batches keep the argument list short.
  for (let index = 0; index < expected.length; index += 200) {
    const batch = expected.slice(index, index + 200).map((file) => file.path);
    const result = lab.exec(node, ['bash', '-c', READ_SCRIPT, 'cias-drill-read', dir, ...batch], { timeoutMs: 600_000, allowFailure: true });
    for (const file of parseManifest(result.stdout)) read.set(file.path, file);
  }
  const missing: string[] = [];
  const mismatched: string[] = [];
  let bytesChecked = 0;
  for (const file of expected) {
    const got = read.get(file.path);
    if (!got) missing.push(file.path);
    else if (got.sha256 !== file.sha256 || got.bytes !== file.bytes) mismatched.push(file.path);
    else bytesChecked += got.bytes;
  }
  return {
    node,
    filesChecked: expected.length,
    bytesChecked,
    mismatched,
    missing,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

export function dataIntact(check: DataCheck): boolean {
  return check.mismatched.length === 0 && check.missing.length === 0;
}
