import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { minimalChildEnv } from '../../src/config/env.js';

export const CLI = fileURLToPath(new URL('../../bin/mvfleet.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mvfleet <args>` as a child process, with only the given variables set besides
 * PATH and HOME, so the machine's environment cannot leak into a test.
 */
export function runCli(args: string[], env: Record<string, string> = {}, options: { timeoutMs?: number; cwd?: string } = {}) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...minimalChildEnv(), LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mvfleet ${args.join(' ')} did not exit within ${options.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
