// Runs the real `freshet` binary in a child process on this test's Node.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FRESHET_BIN = fileURLToPath(new URL('../../bin/freshet.mjs', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Where a command runs when a test names no folder: a temp folder of this test process,
 * never the checkout (a relative default such as .freshet/serving would land there).
 */
let scratchCwd: string | undefined;
function defaultCwd(): string {
  scratchCwd ??= fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-cli-cwd-'));
  return scratchCwd;
}

/** A clean environment: no DATABASE_URL or FRESHET_* from the caller unless given. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, FRESHET_LOG__FORMAT: 'json', FRESHET_HTTP__PORT: '0' };
  return { ...env, ...extra };
}

export function runFreshet(args: string[], { env = cleanEnv(), cwd = defaultCwd() }: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [FRESHET_BIN, ...args], { env, cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Starts a long-running `freshet` (the daemon) and collects its JSON log lines. */
export function spawnFreshet(args: string[], { env = cleanEnv(), cwd = defaultCwd() }: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const child: ChildProcess = spawn(process.execPath, [FRESHET_BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let buffer = '';
  let stderrText = '';
  const waiters: Array<{ match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrText += chunk.toString();
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    stderr: () => stderrText,
    /** Resolves with the first log line (past or future) whose msg contains `text`; rejects after `ms`. */
    waitForLog(text: string, ms = 60_000): Promise<Record<string, unknown>> {
      const match = (line: Record<string, unknown>): boolean => String(line.msg ?? '').includes(text);
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line containing "${text}" within ${ms} ms; stderr:\n${stderrText}`)), ms);
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}
