/**
 * The model's parameters, keyed by stable names (`enc/x1/dense0/kernel`, `flow/w1`, `adjacency/logits`)
 * so checkpoints and optimizer state are matched by name, never by position. Initial values are
 * drawn from the project's seeded `Rng` in JavaScript, one stream per name, so a seed gives the same
 * initial values on every backend and whichever subset of the model a process builds.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../common/random.js';

export type Init =
  | { kind: 'glorot'; fanIn: number; fanOut: number }
  | { kind: 'constant'; value: number }
  | { kind: 'values'; values: Float32Array };

export interface NamedParam {
  name: string;
  variable: tf.Variable;
}

let instances = 0;

export class ParamStore {
  private readonly byName = new Map<string, tf.Variable>();
  private readonly order: string[] = [];
  /** tfjs variable names are global to the engine: this prefix keeps two models apart. */
  private readonly prefix = `crl${++instances}`;

  constructor(private readonly rng: Rng) {}

  add(name: string, shape: number[], init: Init): tf.Variable {
    if (this.byName.has(name)) throw new Error(`parameter ${name} defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (init.kind === 'values') {
      if (init.values.length !== size)
        throw new Error(`parameter ${name}: ${init.values.length} values for ${size}`);
      values = init.values;
    } else if (init.kind === 'constant') {
      values = new Float32Array(size).fill(init.value);
    } else {
      // One stream per parameter name: a trainer that builds only its own modalities' encoders
      // draws exactly the values the whole model would give them.
      const rng = this.rng.fork(name);
      const limit = Math.sqrt(6 / (init.fanIn + init.fanOut));
      values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = (2 * rng.uniform() - 1) * limit;
    }
    const variable = tf.variable(tf.tensor(values, shape, 'float32'), true, `${this.prefix}/${name}`);
    this.byName.set(name, variable);
    this.order.push(name);
    return variable;
  }

  get(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (v === undefined) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** Parameters in definition order. */
  list(): NamedParam[] {
    return this.order.map((name) => ({ name, variable: this.get(name) }));
  }

  /** The stable name of a tfjs variable name (as keyed by `tf.variableGrads`). */
  nameOf(tfName: string): string {
    return tfName.startsWith(`${this.prefix}/`) ? tfName.slice(this.prefix.length + 1) : tfName;
  }

  dispose(): void {
    for (const v of this.byName.values()) v.dispose();
    this.byName.clear();
    this.order.length = 0;
  }
}
