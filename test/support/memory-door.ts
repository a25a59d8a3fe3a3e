// A door over bytes held in memory (`mem://`): a real implementation of FileDoor, as an
// object-storage door is over its client — listing by prefix, whole reads in chunks, ranges.
import type { DoorEntry, FileDoor } from '../../src/data/index.ts';

/** Files in memory under `mem://`: folder listing by prefix, whole reads in chunks, ranges. */
export function memoryDoor(files: Map<string, Buffer>): FileDoor {
  return {
    async stat(location) {
      const bytes = files.get(location);
      if (!bytes) throw Object.assign(new Error(`${location}: no such object`), { code: 'ENOENT' });
      return { bytes: bytes.length, modifiedMs: 1_700_000_000_000 };
    },
    async list(folder) {
      const prefix = folder.endsWith('/') ? folder : `${folder}/`;
      const names = new Map<string, DoorEntry>();
      for (const [key, bytes] of files) {
        if (!key.startsWith(prefix)) continue;
        const [name, ...rest] = key.slice(prefix.length).split('/');
        names.set(name!, rest.length > 0 ? { name: name!, kind: 'folder', bytes: 0, modifiedMs: 0 } : { name: name!, kind: 'file', bytes: bytes.length, modifiedMs: 1_700_000_000_000 });
      }
      if (names.size === 0) throw Object.assign(new Error(`${folder}: no such folder`), { code: 'ENOENT' });
      return [...names.values()];
    },
    async *chunks(location, chunkBytes) {
      const bytes = files.get(location);
      if (!bytes) throw Object.assign(new Error(`${location}: no such object`), { code: 'ENOENT' });
      for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes);
    },
    async range(location, start, end) {
      const bytes = files.get(location)!;
      const slice = bytes.subarray(start, Math.min(end, bytes.length));
      return slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.length) as ArrayBuffer;
    },
    join: (folder, name) => `${folder.replace(/\/$/, '')}/${name}`,
  };
}

