// Registering one partition: hash, (validate), and record it in one transaction.
//
// A path's newest version is what the registry believes the path holds: the same content
// again is `unchanged` (a re-check: the marker touched, a rescan) and records nothing; other
// content is a new version, which supersedes the registered one (when it registers) and
// any rejected ones (always: a fixed partition leaves no rejection behind). Content equal
// to another path's registered partition is registered too, flagged as a `duplicate` copy.
//
// Several daemons may watch the same data dir. A transaction-scoped advisory lock on the
// partition's path serialises them: the second one to arrive finds the row the first
// committed and records nothing (unchanged). The NOTIFY is sent inside the transaction,
// so Postgres delivers it only if the row commits.
import path from 'node:path';
import type { Logger } from '../core/log.ts';
import { adoptUnsourcedVersions, recordOutboxEvent, retirePartition, insertPartition, lockPartitionPath, notify, nextPartitionVersion, CHANNELS, findLatestPartitionVersion, findRegisteredCopyElsewhere, findRegisteredPartition, supersedeRejectedVersions, removeWaitingPartition, recordEvent, supersedePartition, type Partition, type Registry } from '../registry/index.ts';
import { DataFileError, describeAnomaly, doorFor } from '../data/index.ts';
import { coerceError } from '../core/errors.ts';
import { isInside } from './find-complete-partitions.ts';
import { FileChangedWhileReadError, hashPartition, validatePartition, type ValidationRules } from './inspect-partition.ts';
import { parsePartitionPath } from './partition-path.ts';
import { checkAgainstSchemas, type SchemaCheck, type SchemaVerdict } from './schema-check.ts';


export type RegistrationOutcome =
  /** `superseded`: the versions it replaced (the registered one, rejected ones); `copyOf`: a registered partition at another path with the same content. */
  | { kind: 'registered'; partition: Partition; superseded: Partition[]; copyOf: Partition | undefined }
  | { kind: 'rejected'; partition: Partition; superseded: Partition[] }
  /** Registered content held back: it broke the schema of a lineage in validation.mode block. */
  | { kind: 'quarantined'; partition: Partition; superseded: Partition[] }
  | { kind: 'unchanged'; partition: Partition }
  | { kind: 'vanished'; path: string; reason: string };

export interface RegisterOptions {
  db: Registry;
  /** The data root (absolute), the partition's source: its rows are that source's. */
  root: string;
  /** The partition directory relative to the root. */
  relativePath: string;
  /** When the partition became complete (marker mtime, or last change in stable mode). */
  arrivedAt: Date;
  rules: ValidationRules;
  log: Logger;
  /** When the watcher noticed it (default now). */
  detectedAt?: Date;
  /** The lineages reading this source, whose schemas the partition is checked against (none: not checked). */
  checks?: readonly SchemaCheck[];
}

/** The partition went away or is still being written while it was read: record nothing, look again later. Decided by kind, never by message text. */
function isVanished(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || error instanceof FileChangedWhileReadError;
}

/** A rejection as the registry keeps it: the file relative to the data root, then where and what (from the error's fields, not its message). */
function rejectionText(error: DataFileError, root: string): string {
  const prefix = `${root.replace(/\/$/, '')}/`;
  const file = path.isAbsolute(error.file) && isInside(root, error.file) ? path.relative(root, error.file) : error.file.startsWith(prefix) ? error.file.slice(prefix.length) : error.file;
  const place = [file, error.line !== undefined ? `line ${error.line}` : '', error.column !== undefined ? `column ${error.column}` : ''].filter(Boolean).join(', ');
  // Binary junk can put NUL and control bytes into the message; Postgres text refuses NUL.
  return `${place}: ${error.detail}`.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
}

/**
 * Registers one partition version, or says why not. Why one long function: the outcome is
 * one transaction whose steps read each other's results in the order the registry needs
 * (lock the path, check for a racing registration, number the version, retire and
 * supersede, record the events and notify at commit); the slow parts (hash, validation,
 * the schema check) run before it, outside the lock.
 */
export async function registerPartition(options: RegisterOptions): Promise<RegistrationOutcome> {
  const { db, root, relativePath, rules, log } = options;
  const source = root;
  const keys = parsePartitionPath(relativePath);
  if (!keys) throw new Error(`${relativePath} is not a Hive-style partition path (key=value segments)`);
  const dir = doorFor(root).join(root, relativePath);
  const detectedAt = options.detectedAt ?? new Date();

  let content;
  try {
    content = await hashPartition(dir);
  } catch (error) {
    if (isVanished(error)) return { kind: 'vanished', path: relativePath, reason: coerceError(error).message };
    throw error;
  }
  const latest = (await findLatestPartitionVersion(db, source, relativePath)) ?? (await adoptUnsourcedVersions(db, source, relativePath, content.sha256));
  if (latest?.sha256 === content.sha256) {
    await removeWaitingPartition(db, source, relativePath); // its marker came back, say
    return { kind: 'unchanged', partition: latest };
  }

  let rejection: string | null = null;
  let validation = null;
  try {
    validation = await validatePartition(dir, content.files, rules);
  } catch (error) {
    if (isVanished(error)) return { kind: 'vanished', path: relativePath, reason: coerceError(error).message };
    if (!(error instanceof DataFileError)) throw error;
    rejection = rejectionText(error, root); // the file named relative to the data root: what people see in the tree
  }
  // Against the lineages' schemas: outside the transaction (a schema may be inferred first).
  const verdict: SchemaVerdict = validation?.stats && validation.sample ? await checkAgainstSchemas(db, options.checks ?? [], validation.stats, validation.sample) : { anomalies: [], blocking: [], newValueShare: {} };
  const quarantine = verdict.blocking.length > 0 ? verdict.blocking.map((a) => `${a.lineage}: ${describeAnomaly(a)}`).join('; ') : null;

  return db.transaction().execute(async (trx) => {
    await lockPartitionPath(trx, source, relativePath);
    await removeWaitingPartition(trx, source, relativePath);
    const raced = await findLatestPartitionVersion(trx, source, relativePath);
    if (raced?.sha256 === content.sha256) return { kind: 'unchanged', partition: raced } as const;
    const version = await nextPartitionVersion(trx, source, relativePath);
    const current = await findRegisteredPartition(trx, source, relativePath);
    if (current && !rejection) await retirePartition(trx, current.id);
    const copyOf = rejection ? undefined : await findRegisteredCopyElsewhere(trx, source, relativePath, content.sha256);
    const row = await insertPartition(trx, {
      source,
      path: relativePath,
      keys: JSON.stringify(keys),
      version,
      sha256: content.sha256,
      files: JSON.stringify(content.files),
      row_count: validation?.rowCount ?? null,
      invalid_rows: validation?.invalidRows ?? null,
      schema: validation ? JSON.stringify(validation.schema) : null,
      stats: validation?.stats ? JSON.stringify({ ...validation.stats, ...(Object.keys(verdict.newValueShare).length ? { newValueShare: verdict.newValueShare } : {}) }) : null,
      anomalies: verdict.anomalies.length > 0 ? JSON.stringify(verdict.anomalies) : null,
      status: rejection ? 'rejected' : quarantine ? 'quarantined' : 'registered',
      error: rejection ?? quarantine,
      arrived_at: options.arrivedAt,
      detected_at: detectedAt,
    });
    const superseded = await supersedeRejectedVersions(trx, source, relativePath, row.id);
    if (current && !rejection) superseded.unshift(await supersedePartition(trx, current.id, row.id));
    for (const old of superseded) {
      await recordEvent(trx, {
        kind: 'partition.superseded',
        partition_id: old.id,
        message: `content of ${relativePath} changed: version ${old.version} superseded by version ${row.version}`,
        data: { path: relativePath, by: row.id, oldSha256: old.sha256, newSha256: row.sha256 },
      });
    }
    if (rejection) {
      await recordEvent(trx, { kind: 'partition.rejected', partition_id: row.id, message: rejection, data: { path: relativePath } });
      log.warn({ partition: row.id, path: relativePath, error: rejection }, 'partition rejected');
      return { kind: 'rejected', partition: row, superseded } as const;
    }
    if (quarantine) {
      await recordEvent(trx, { kind: 'partition.quarantined', partition_id: row.id, message: quarantine, data: { path: relativePath, anomalies: verdict.blocking } });
      for (const lineage of new Set(verdict.blocking.map((a) => a.lineage))) {
        const anomalies = verdict.blocking.filter((a) => a.lineage === lineage).map(({ lineage: _, ...a }) => a);
        await recordOutboxEvent(trx, 'quarantined', lineage, { partition: row.id, source, path: relativePath, version: row.version, rows: validation!.rowCount, anomalies });
      }
      log.warn({ partition: row.id, path: relativePath, anomalies: verdict.blocking.map(describeAnomaly) }, 'partition quarantined: it breaks its lineage\'s schema; freshet partitions accept|reject decides');
      return { kind: 'quarantined', partition: row, superseded } as const;
    }
    if (verdict.anomalies.length > 0) log.warn({ partition: row.id, path: relativePath, anomalies: verdict.anomalies.map((a) => `${a.lineage}: ${describeAnomaly(a)}`) }, 'partition registered with anomalies (validation.mode warn)');
    if (copyOf) log.warn({ partition: row.id, path: relativePath, sameContentAs: copyOf.path }, 'partition registered, but its content is the same as another partition\'s (a copy?)');
    await recordEvent(trx, {
      kind: 'partition.registered',
      partition_id: row.id,
      message: `registered ${relativePath} (${validation!.rowCount} rows)`,
      data: { path: relativePath, rows: validation!.rowCount, invalidRows: validation!.invalidRows },
    });
    await notify(trx, CHANNELS.partitions, JSON.stringify({ source, id: row.id })); // delivered at commit, so a listener never sees an uncommitted id
    log.info({ partition: row.id, path: relativePath, rows: validation!.rowCount, version: row.version }, 'partition registered');
    return { kind: 'registered', partition: row, superseded, copyOf } as const;
  });
}
