/**
 * Row readers for the array-shaped modalities (time series and images): an NPY array read by
 * row with positioned reads, or one file per participant decoded when a batch needs it. Each
 * checks shapes against the manifest and names the offending file.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { invalidArgument } from '../../../common/errors.js';
import { decodeImageInto } from '../formats/image.js';
import { NpyRows, readNpy } from '../formats/npy.js';
import type { RowReader } from '../rows/stream-block.js';

/** An [n, ...rowShape] NPY array. */
export function npyArrayReader(file: string, rowShape: readonly number[]): RowReader {
  const npy = NpyRows.open(file);
  const got = npy.rowShape;
  if (got.length !== rowShape.length || got.some((v, i) => v !== rowShape[i])) {
    npy.close();
    throw invalidArgument(`rows have shape [${got.join(', ')}], the manifest says [${rowShape.join(', ')}]`, {
      file,
    });
  }
  return {
    rows: npy.n,
    width: npy.rowSize,
    read: (sourceRows, out) => npy.readRows(sourceRows, out, 0),
    where: (row) => ({ file, row }),
    close: () => npy.close(),
  };
}

const EXTENSIONS: Record<string, readonly string[]> = {
  png: ['.png'],
  jpeg: ['.jpg', '.jpeg'],
  npy: ['.npy'],
};

/** Files of a per-participant directory and the participant IDs their names give, sorted by ID. */
export function participantFiles(dir: string, format: string): { ids: string[]; files: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw invalidArgument(`cannot list the per-participant directory: ${(err as Error).message}`, {
      file: dir,
    });
  }
  const exts = EXTENSIONS[format] ?? [];
  const pairs = names
    .filter((f) => exts.includes(extname(f).toLowerCase()) && !f.startsWith('.'))
    .map((f) => ({ id: f.slice(0, f.length - extname(f).length), file: join(dir, f) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (pairs.length === 0) {
    throw invalidArgument(`has no ${exts.join('/')} files (one per participant, named by ID)`, { file: dir });
  }
  for (let i = 1; i < pairs.length; i++) {
    if (pairs[i]?.id === pairs[i - 1]?.id) {
      throw invalidArgument(`participant ${pairs[i]?.id} has two files`, { file: pairs[i]?.file ?? dir });
    }
  }
  return { ids: pairs.map((p) => p.id), files: pairs.map((p) => p.file) };
}

/** One PNG/JPEG per participant, [H, W, C], values 0..255. */
export function imageFilesReader(
  files: readonly string[],
  ids: readonly string[],
  shape: { height: number; width: number; channels: number },
): RowReader {
  const width = shape.height * shape.width * shape.channels;
  return {
    rows: files.length,
    width,
    read: (sourceRows, out) => {
      sourceRows.forEach((r, i) => decodeImageInto(files[r] as string, shape, out, i * width));
    },
    where: (row) => ({ file: files[row] as string, participant: ids[row] as string }),
    close: () => {},
  };
}

/** One [T, C] NPY per participant. */
export function seriesFilesReader(
  files: readonly string[],
  ids: readonly string[],
  rowShape: readonly [number, number],
): RowReader {
  const width = rowShape[0] * rowShape[1];
  return {
    rows: files.length,
    width,
    read: (sourceRows, out) => {
      sourceRows.forEach((r, i) => {
        const file = files[r] as string;
        const { header, data } = readNpy(file);
        const s = header.shape;
        if (s.length !== 2 || s[0] !== rowShape[0] || s[1] !== rowShape[1]) {
          throw invalidArgument(
            `participant ${ids[r]}: series of shape [${s.join(', ')}], the manifest says [${rowShape.join(', ')}] (length, channels)`,
            { file },
          );
        }
        out.set(data, i * width);
      });
    },
    where: (row) => ({ file: files[row] as string, participant: ids[row] as string }),
    close: () => {},
  };
}

/** Fails early with a clear message when a manifest path is missing. */
export function mustExist(path: string, what: string): void {
  try {
    statSync(path);
  } catch {
    throw invalidArgument(`${what} does not exist`, { file: path });
  }
}
