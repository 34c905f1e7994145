/**
 * Checkpoints: `manifest.json` (architecture, loop state, one entry `{name, shape, dtype, group,
 * offset, length}` per tensor) and `weights.bin` (little-endian float32, entries back to back).
 * Parameters (group `model`) and Adam moments (group `optimizer`, named `<param>/m`, `<param>/v`)
 * are keyed by name, never by position. The parameters of the best evaluation so far (group
 * `best`, named `<param>/best`; present when the trainer keeps them) travel too, so a resumed run
 * ends on the same restored parameters as an uninterrupted one. Restoring into a model of another
 * architecture fails with the differences named.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CrlError, invalidArgument } from '../../common/errors.js';
import type { ModelConfig } from '../model/config.js';
import type { LoopState, Trainer } from './train.js';

export const CHECKPOINT_MANIFEST = 'manifest.json';
export const CHECKPOINT_WEIGHTS = 'weights.bin';

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  group: 'model' | 'optimizer' | 'best';
  /** Offset and length in float32 elements inside weights.bin. */
  offset: number;
  length: number;
}

export interface CheckpointManifest {
  format: 'crl-checkpoint';
  version: 1;
  model: ModelConfig;
  adamT: number;
  loop: LoopState;
  tensors: TensorEntry[];
}

export interface CheckpointFiles {
  manifest: string;
  weights: Uint8Array;
}

/** Serialises model parameters, optimizer moments and loop state. */
export function serializeCheckpoint(trainer: Trainer): CheckpointFiles {
  const tensors: TensorEntry[] = [];
  const blocks: Float32Array[] = [];
  let offset = 0;
  const push = (name: string, shape: number[], group: TensorEntry['group'], values: Float32Array): void => {
    tensors.push({ name, shape, dtype: 'float32', group, offset, length: values.length });
    blocks.push(values);
    offset += values.length;
  };
  const params = trainer.model.params.list();
  for (const p of params) push(p.name, p.variable.shape, 'model', p.variable.dataSync() as Float32Array);
  const shapes = new Map(params.map((p) => [p.name, p.variable.shape]));
  for (const mv of trainer.adam.momentValues()) {
    const shape = shapes.get(mv.name) ?? [mv.m.length];
    push(`${mv.name}/m`, shape, 'optimizer', mv.m);
    push(`${mv.name}/v`, shape, 'optimizer', mv.v);
  }
  for (const b of trainer.bestValues())
    push(`${b.name}/best`, shapes.get(b.name) ?? [b.values.length], 'best', b.values);
  const all = new Float32Array(offset);
  let at = 0;
  for (const b of blocks) {
    all.set(b, at);
    at += b.length;
  }
  const manifest: CheckpointManifest = {
    format: 'crl-checkpoint',
    version: 1,
    model: trainer.model.config,
    adamT: trainer.adam.t,
    loop: trainer.state,
    tensors,
  };
  return { manifest: `${JSON.stringify(manifest)}\n`, weights: new Uint8Array(all.buffer) };
}

export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  values: Float32Array;
}

export function readCheckpoint(dir: string): LoadedCheckpoint {
  const manifestFile = join(dir, CHECKPOINT_MANIFEST);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as CheckpointManifest;
  } catch (err) {
    throw new CrlError('NOT_FOUND', `cannot read the checkpoint manifest: ${(err as Error).message}`, {
      file: manifestFile,
    });
  }
  if (manifest.format !== 'crl-checkpoint' || manifest.version !== 1) {
    throw invalidArgument('not a crl checkpoint (format crl-checkpoint, version 1)', { file: manifestFile });
  }
  const bytes = readFileSync(join(dir, CHECKPOINT_WEIGHTS));
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { manifest, values: new Float32Array(copy.buffer) };
}

/**
 * Restores parameters, moments and loop state into `trainer`.
 *
 * @throws CrlError (FAILED_PRECONDITION) when the checkpoint's parameters differ in names or shapes
 *   from the trainer's model (another architecture)
 */
export function restoreCheckpoint(trainer: Trainer, ckpt: LoadedCheckpoint, label = 'checkpoint'): void {
  const entries = new Map(ckpt.manifest.tensors.map((e) => [e.name, e]));
  const params = trainer.model.params.list();
  const problems: string[] = [];
  for (const p of params) {
    const e = entries.get(p.name);
    if (e === undefined || e.group !== 'model') problems.push(`${p.name} is missing`);
    else if (e.shape.join('x') !== p.variable.shape.join('x')) {
      problems.push(
        `${p.name} has shape [${e.shape.join(', ')}], the model [${p.variable.shape.join(', ')}]`,
      );
    }
  }
  const known = new Set(params.map((p) => p.name));
  for (const e of ckpt.manifest.tensors) {
    if (e.group === 'model' && !known.has(e.name)) problems.push(`${e.name} is not in the model`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw new CrlError(
      'FAILED_PRECONDITION',
      `${label} was written by a different model architecture: ${shown}${more}`,
    );
  }
  const slice = (e: TensorEntry): Float32Array => {
    if (e.offset + e.length > ckpt.values.length)
      throw invalidArgument(`${label}: ${e.name} lies past weights.bin`);
    return ckpt.values.subarray(e.offset, e.offset + e.length);
  };
  tf.tidy(() => {
    for (const p of params) {
      const e = entries.get(p.name) as TensorEntry;
      p.variable.assign(tf.tensor(slice(e), p.variable.shape, 'float32'));
    }
  });
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const p of params) {
    const m = entries.get(`${p.name}/m`);
    const v = entries.get(`${p.name}/v`);
    if (m === undefined || v === undefined)
      throw invalidArgument(`${label}: no optimizer state for ${p.name}`);
    moments.set(p.name, { m: slice(m), v: slice(v) });
  }
  trainer.adam.setMoments(moments, ckpt.manifest.adamT);
  // The best copy is all or nothing: a checkpoint from a trainer without one (restoreBest off, or no
  // evaluation yet) clears this trainer's, so the restored state is exactly the saved one.
  const bestEntries = params.map((p) => entries.get(`${p.name}/best`));
  if (trainer.options.restoreBest && bestEntries.every((e) => e !== undefined && e.group === 'best')) {
    trainer.setBestValues(
      new Map(params.map((p, i) => [p.name, slice(bestEntries[i] as TensorEntry).slice()])),
    );
  } else {
    trainer.setBestValues(undefined);
  }
  trainer.setLoopState(ckpt.manifest.loop);
}
