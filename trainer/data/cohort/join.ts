/**
 * The participant join: which row of each modality's files belongs to which participant. A row is
 * never matched by position once IDs exist, and every inconsistency (a duplicated ID, an ID the
 * participants list does not know, a listed participant with no data at all) is an error naming the
 * file and the participant, because a silent misalignment would corrupt every latent downstream.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../../common/errors.js';

export interface ModalityKeys {
  name: string;
  /** File or directory the IDs came from, for messages. */
  file: string;
  /** Participant ID of each source row, in row order. */
  ids: readonly string[];
}

export interface ParticipantJoin {
  /** Participant IDs in cohort order. */
  ids: string[];
  /** Per modality, participant index -> source row, or -1 where the participant lacks it. */
  rowOf: Int32Array[];
}

export function joinParticipants(
  modalities: readonly ModalityKeys[],
  participants?: { file: string; ids: readonly string[] },
): ParticipantJoin {
  const index = new Map<string, number>();
  const ids: string[] = [];
  if (participants !== undefined) {
    participants.ids.forEach((id, i) => {
      const seen = index.get(id);
      if (seen !== undefined) {
        throw invalidArgument(`participant ${id} is listed twice (lines ${seen + 1} and ${i + 1})`, {
          file: participants.file,
        });
      }
      index.set(id, i);
      ids.push(id);
    });
  }
  const rowOfMaps = modalities.map((mod) => {
    const rows = new Map<string, number>();
    mod.ids.forEach((id, r) => {
      const seen = rows.get(id);
      if (seen !== undefined) {
        throw invalidArgument(
          `participant ${id} appears twice in modality ${mod.name} (rows ${seen + 1} and ${r + 1})`,
          { file: mod.file },
        );
      }
      rows.set(id, r);
      if (!index.has(id)) {
        if (participants !== undefined) {
          throw invalidArgument(
            `participant ${id} (row ${r + 1} of modality ${mod.name}) is not in the participants list ${participants.file}`,
            { file: mod.file },
          );
        }
        index.set(id, ids.length);
        ids.push(id);
      }
    });
    return rows;
  });
  const rowOf = rowOfMaps.map(() => new Int32Array(ids.length).fill(-1));
  rowOfMaps.forEach((rows, m) => {
    const out = rowOf[m] as Int32Array;
    for (const [id, r] of rows) out[index.get(id) as number] = r;
  });
  if (participants !== undefined) {
    for (let p = 0; p < ids.length; p++) {
      if (rowOf.every((r) => (r[p] as number) < 0)) {
        throw invalidArgument(`participant ${ids[p]} has no data in any modality`, {
          file: participants.file,
          line: p + 1,
        });
      }
    }
  }
  return { ids, rowOf };
}

/** A file of participant IDs (see `parseIdLines`); an unreadable file is an error naming it. */
export function readIdFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalidArgument(`cannot read participant IDs: ${(err as Error).message}`, { file }, err);
  }
  return parseIdLines(text, file);
}

/** One ID per line (blank lines at the end ignored; blank lines inside are errors). */
export function parseIdLines(text: string, file: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l).trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, i) => {
    if (l === '') throw invalidArgument('empty participant ID', { file, line: i + 1 });
  });
  return lines;
}
