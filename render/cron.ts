/**
 * /etc/cron.d/cias: the periodic jobs of every node (SPEC §4, §5). The file is the same on every
 * node; the master-only jobs (VMID export, liveness) check for the VIP themselves and do nothing
 * elsewhere, so the cron file never changes when the master role moves.
 *
 * Debian cron rules (REFERENCE 5.1): a user field on every line, a file name of letters, digits,
 * `_` and `-` only (a dot makes cron skip it silently), a final newline (without it cron ignores
 * the whole file), no inherited PATH (the default /usr/bin:/bin lacks the sbin directories), and
 * `%` in a command means newline.
 */
import { CIAS_SBIN_DIR } from './scripts';

export interface CronParams {
  /** Copy of the newest gateway dump. @default '0 4 * * 1' (Monday 04:00) */
  readonly gatewayBackupCopy?: string;
  /** Uplink/power watchdog. @default '*\/3 * * * *' */
  readonly uplinkWatchdog?: string;
  /** Master exports the VMID list (SPEC: "periodically"). @default '*\/10 * * * *' */
  readonly vmidExport?: string;
  /** Master checks every node. @default '*\/5 * * * *' */
  readonly liveness?: string;
  /** User the jobs run as. @default 'root' */
  readonly user?: string;
}

export const CRON_D_PATH = '/etc/cron.d/cias';
export const CRON_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const DEFAULT_GATEWAY_BACKUP_COPY_SCHEDULE = '0 4 * * 1';
export const DEFAULT_UPLINK_WATCHDOG_SCHEDULE = '*/3 * * * *';
export const DEFAULT_VMID_EXPORT_SCHEDULE = '*/10 * * * *';
export const DEFAULT_LIVENESS_SCHEDULE = '*/5 * * * *';

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // 0 and 7 are both Sunday.
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function fieldValue(text: string, spec: FieldSpec): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index < 0) return undefined;
  return spec.name === 'month' ? index + 1 : index;
}

/** Problems of one cron field (`*`, `n`, `a-b`, lists, `/step`, month and day names), or none. */
function fieldProblems(field: string, spec: FieldSpec): string[] {
  const problems: string[] = [];
  for (const item of field.split(',')) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (match === null) {
      problems.push(`${spec.name} '${item}' is not cron syntax`);
      continue;
    }
    const [, range, step] = match;
    if (step !== undefined && (Number(step) < 1 || Number(step) > spec.max)) problems.push(`${spec.name} step '/${step}' is out of range`);
    if (range === '*') continue;
    const ends = range.split('-').map((part) => fieldValue(part, spec));
    if (ends.some((value) => value === undefined || value < spec.min || value > spec.max)) {
      problems.push(`${spec.name} '${range}' is outside ${spec.min}..${spec.max}`);
    } else if (ends.length === 2 && (ends[0] as number) > (ends[1] as number)) {
      problems.push(`${spec.name} range '${range}' runs backwards`);
    }
  }
  return problems;
}

/** Problems of a 5-field schedule; empty when cron accepts it. */
export function cronScheduleProblems(schedule: string): string[] {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return [`'${schedule}' has ${fields.length} fields, cron needs 5 (minute hour day-of-month month day-of-week)`];
  return fields.flatMap((field, i) => fieldProblems(field, FIELDS[i]));
}

/** The content of /etc/cron.d/cias. Throws on an invalid schedule or user. */
export function renderCronD(params: CronParams = {}): string {
  const user = params.user ?? 'root';
  const jobs: ReadonlyArray<readonly [string, string, string]> = [
    ['Monday 04:00 by default: local copy of the newest gateway backup (SPEC §4)', params.gatewayBackupCopy ?? DEFAULT_GATEWAY_BACKUP_COPY_SCHEDULE, 'cias-gateway-backup-copy'],
    ['uplink/power watchdog (SPEC §4)', params.uplinkWatchdog ?? DEFAULT_UPLINK_WATCHDOG_SCHEDULE, 'cias-uplink-watchdog'],
    ['master only (checks the VIP itself): export the VMID list (SPEC §5)', params.vmidExport ?? DEFAULT_VMID_EXPORT_SCHEDULE, 'cias-export-vmids'],
    ['master only (checks the VIP itself): node liveness, scenario 6 after silence (SPEC §5)', params.liveness ?? DEFAULT_LIVENESS_SCHEDULE, 'cias-liveness'],
  ];
  const problems: string[] = [];
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) problems.push(`user ${JSON.stringify(user)} is not a user name`);
  for (const [, schedule, command] of jobs) {
    for (const problem of cronScheduleProblems(schedule)) problems.push(`${command}: ${problem}`);
  }
  if (problems.length > 0) throw new Error(`invalid cron parameters:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

  const lines = [
    '# Managed by cias (render/cron.ts); local edits are overwritten on the next deploy.',
    '# Scripts log to syslog (tag cias) and /var/log/cias.log, so job output is discarded.',
    'SHELL=/bin/sh',
    `PATH=${CRON_PATH}`,
    'MAILTO=""',
    '# minute hour day-of-month month day-of-week user command',
  ];
  for (const [comment, schedule, command] of jobs) {
    lines.push(`# ${comment}`);
    lines.push(`${schedule.trim().split(/\s+/).join(' ')} ${user} ${CIAS_SBIN_DIR}/${command} >/dev/null 2>&1`);
  }
  return `${lines.join('\n')}\n`;
}
