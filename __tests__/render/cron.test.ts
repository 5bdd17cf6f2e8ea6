import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CRON_D_PATH, CRON_PATH, cronScheduleProblems, renderCronD } from '../../render/cron';
import { nodeScripts } from '../../render/scripts';

interface CronJob {
  readonly schedule: string[];
  readonly user: string;
  readonly command: string;
}

/** The job lines of a cron.d file: 5 schedule fields, the user, then the command. */
function jobs(text: string): CronJob[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#') && !/^[A-Z_]+=/.test(line))
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      return { schedule: fields.slice(0, 5), user: fields[5], command: fields.slice(6).join(' ') };
    });
}

describe('renderCronD', () => {
  const text = renderCronD();

  it('has the environment cron.d files need and ends with a newline', () => {
    const lines = text.split('\n');
    expect(lines).toContain('SHELL=/bin/sh');
    expect(lines).toContain(`PATH=${CRON_PATH}`);
    expect(CRON_PATH.split(':')).toEqual(expect.arrayContaining(['/usr/local/sbin', '/usr/sbin', '/sbin']));
    expect(lines).toContain('MAILTO=""');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(false);
  });

  it('has one line per job with the SPEC defaults, a user field and an installed command', () => {
    const parsed = jobs(text);
    expect(parsed.map((job) => [job.schedule.join(' '), job.command.split(' ')[0]])).toEqual([
      ['0 4 * * 1', '/usr/local/sbin/cias-gateway-backup-copy'],
      ['*/3 * * * *', '/usr/local/sbin/cias-uplink-watchdog'],
      ['*/10 * * * *', '/usr/local/sbin/cias-export-vmids'],
      ['*/5 * * * *', '/usr/local/sbin/cias-liveness'],
    ]);
    const installed = new Set(nodeScripts.map((s) => s.installPath));
    for (const job of parsed) {
      expect(job.schedule).toHaveLength(5);
      expect(cronScheduleProblems(job.schedule.join(' '))).toEqual([]);
      expect(job.user).toBe('root');
      expect(installed.has(job.command.split(' ')[0])).toBe(true);
      // % would be a newline to cron.
      expect(job.command).not.toContain('%');
    }
  });

  it('takes the schedules and the user as parameters', () => {
    const custom = jobs(renderCronD({ gatewayBackupCopy: '30 5 * * mon', uplinkWatchdog: '*/2 * * * *', vmidExport: '0 * * * *', liveness: '*/7  *  * * *', user: 'cias' }));
    expect(custom.map((job) => job.schedule.join(' '))).toEqual(['30 5 * * mon', '*/2 * * * *', '0 * * * *', '*/7 * * * *']);
    expect(custom.every((job) => job.user === 'cias')).toBe(true);
  });

  it('rejects schedules cron would reject, naming each problem', () => {
    expect(() => renderCronD({ uplinkWatchdog: '*/3 * * *', liveness: '61 * * * *' })).toThrow(
      /cias-uplink-watchdog: '\*\/3 \* \* \*' has 4 fields[\s\S]*cias-liveness: minute '61' is outside 0..59/,
    );
    expect(cronScheduleProblems('0 4 * * 1-0')).toEqual(["day of week range '1-0' runs backwards"]);
    expect(cronScheduleProblems('0 4 * foo *')).toEqual(["month 'foo' is outside 1..12"]);
    expect(cronScheduleProblems('0 4 * * */0')).toEqual(["day of week step '/0' is out of range"]);
    expect(cronScheduleProblems('0,30 8-18/2 1-15 jan-jun sun,sat')).toEqual([]);
    expect(() => renderCronD({ user: 'root; rm' })).toThrow('is not a user name');
  });

  it('installs under a file name Debian cron reads (no dot)', () => {
    expect(CRON_D_PATH).toBe('/etc/cron.d/cias');
    expect(basename(CRON_D_PATH)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('Debian cron runs the rendered file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-cron-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Every job every minute; /usr/local/sbin is replaced (in a private mount namespace) by stand-ins
  // that record which user and PATH cron gave them. cron ignores a whole file it cannot parse, so
  // one marker per job proves the file was accepted line by line. Jobs first run at the next minute
  // boundary; the wait allows two, since cron wakes late on a loaded machine.
  it('runs every job as root with the file\'s PATH', () => {
    const crond = join(dir, 'cron.d');
    const sbin = join(dir, 'sbin');
    const out = join(dir, 'out');
    for (const d of [crond, sbin, out]) mkdirSync(d);
    const every = '* * * * *';
    writeFileSync(join(crond, basename(CRON_D_PATH)), renderCronD({ gatewayBackupCopy: every, uplinkWatchdog: every, vmidExport: every, liveness: every }));
    const commands = jobs(renderCronD()).map((job) => basename(job.command.split(' ')[0]));
    for (const command of commands) {
      writeFileSync(join(sbin, command), `#!/bin/sh\necho "$(id -un) $PATH" >${out}/${command}\n`);
      chmodSync(join(sbin, command), 0o755);
    }
    const markers = commands.map((c) => `[ -e ${out}/${c} ]`).join(' && ');
    const script = [
      `mount --bind ${crond} /etc/cron.d`,
      `mount --bind ${sbin} /usr/local/sbin`,
      'mount -t tmpfs tmpfs /run',
      'cron -f -L 15 & cron_pid=$!',
      `for i in $(seq 130); do if ${markers}; then break; fi; sleep 1; done`,
      'kill "$cron_pid"; wait "$cron_pid" 2>/dev/null || true',
    ].join('\n');
    // A PID namespace: when its first process ends, cron cannot outlive the test.
    const result = spawnSync('unshare', ['--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', '-c', script], { encoding: 'utf8', timeout: 150_000 });
    expect(result.error).toBeUndefined();
    for (const command of commands) {
      const marker = join(out, command);
      expect(existsSync(marker)).toBe(true);
      expect(readFileSync(marker, 'utf8').trim()).toBe(`root ${CRON_PATH}`);
    }
  }, 160_000);
});
