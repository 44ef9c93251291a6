import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testEnv } from './test-server';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as an operator runs it (compiled by `pretest`), against the test database. */
export function cli(...args: string[]): Promise<CliResult> {
  return run(process.execPath, ['dist/src/cli/cli.js', ...args], { env: { ...process.env, ...testEnv() } as NodeJS.ProcessEnv }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}
