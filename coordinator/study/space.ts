/**
 * The search space of a hyperparameter study: which params a trial sets, over which ranges, and which
 * params only matter under a parent's value (a hidden width only when the model is an MLP). Samplers
 * and the grid read a space that `validateSpace` accepted; errors name the field
 * (`space.params[2].low`) so a user can fix the study file without reading code.
 */
import { invalidArgument } from '../../common/errors.js';

export type ParamValue = number | string | boolean;

/** Active only when `param` is active and its value is in `in`. */
export interface Condition {
  param: string;
  in: ParamValue[];
}

export type ParamSpec =
  | { name: string; type: 'float'; low: number; high: number; log?: boolean; step?: number; when?: Condition }
  | { name: string; type: 'int'; low: number; high: number; log?: boolean; step?: number; when?: Condition }
  | { name: string; type: 'categorical'; choices: ParamValue[]; when?: Condition };

export type NumericParamSpec = Extract<ParamSpec, { type: 'float' | 'int' }>;

/** A condition refers to an earlier param, so params can be decided in order. */
export interface SearchSpace {
  params: ParamSpec[];
}

/** Only the active params. */
export type ParamAssignment = Record<string, ParamValue>;

export type Direction = 'minimize' | 'maximize';

/** A grid this big is a typo in a step, not a study anyone will run. */
export const MAX_GRID_POINTS = 1_000_000;

/**
 * Throws INVALID_ARGUMENT naming the first offending field. `log` and `step` do not combine (an
 * even step is uneven in log space; Optuna refuses it too) except `step: 1` on an int. A range that
 * is not a whole number of steps ends at the last step at or below `high`, as in Optuna.
 */
export function validateSpace(space: SearchSpace, field = 'space'): void {
  if (typeof space !== 'object' || space === null || !Array.isArray(space.params)) {
    throw invalidArgument('expected a list of params', { field: `${field}.params` });
  }
  const earlier = new Map<string, ParamSpec>();
  space.params.forEach((p, i) => {
    const at = `${field}.params[${i}]`;
    if (typeof p !== 'object' || p === null) throw invalidArgument('expected a param object', { field: at });
    if (typeof p.name !== 'string' || p.name === '') {
      throw invalidArgument('a param needs a non-empty name', { field: `${at}.name` });
    }
    if (earlier.has(p.name))
      throw invalidArgument(`duplicate param name "${p.name}"`, { field: `${at}.name` });
    if (p.type === 'float' || p.type === 'int') validateNumeric(p, at);
    else if (p.type === 'categorical') validateChoices(p.choices, `${at}.choices`);
    else {
      const type: unknown = (p as { type: unknown }).type;
      throw invalidArgument(`unknown type ${JSON.stringify(type)}; expected float, int or categorical`, {
        field: `${at}.type`,
      });
    }
    if (p.when !== undefined) validateCondition(p.when, earlier, p.name, `${at}.when`);
    earlier.set(p.name, p);
  });
}

function validateNumeric(p: NumericParamSpec, at: string): void {
  for (const key of ['low', 'high'] as const) {
    const v = p[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw invalidArgument(`must be a finite number, got ${JSON.stringify(v)}`, { field: `${at}.${key}` });
    }
    if (p.type === 'int' && !Number.isInteger(v)) {
      throw invalidArgument(`an int param needs integer bounds, got ${v}`, { field: `${at}.${key}` });
    }
  }
  if (!(p.low < p.high)) {
    throw invalidArgument(`low (${p.low}) must be below high (${p.high})`, { field: `${at}.low` });
  }
  if (p.log !== undefined && typeof p.log !== 'boolean') {
    throw invalidArgument('must be true or false', { field: `${at}.log` });
  }
  if (p.log === true && p.low <= 0) {
    throw invalidArgument(`a log-scaled param needs low > 0, got ${p.low}`, { field: `${at}.low` });
  }
  if (p.step !== undefined) {
    if (typeof p.step !== 'number' || !Number.isFinite(p.step) || p.step <= 0) {
      throw invalidArgument(`step must be a positive number, got ${JSON.stringify(p.step)}`, {
        field: `${at}.step`,
      });
    }
    if (p.type === 'int' && !Number.isInteger(p.step)) {
      throw invalidArgument(`an int param needs an integer step, got ${p.step}`, { field: `${at}.step` });
    }
    if (p.log === true && !(p.type === 'int' && p.step === 1)) {
      throw invalidArgument('log and step do not combine: equal steps are unequal in log space', {
        field: `${at}.step`,
      });
    }
  }
}

function validateChoices(choices: unknown, at: string): void {
  if (!Array.isArray(choices) || choices.length === 0) {
    throw invalidArgument('a categorical param needs a non-empty list of choices', { field: at });
  }
  choices.forEach((c: unknown, j) => {
    if (!isParamValue(c)) {
      throw invalidArgument(
        `a choice must be a string, a boolean or a finite number, got ${JSON.stringify(c)}`,
        {
          field: `${at}[${j}]`,
        },
      );
    }
    if (choices.indexOf(c) !== j)
      throw invalidArgument(`duplicate choice ${JSON.stringify(c)}`, { field: `${at}[${j}]` });
  });
}

function validateCondition(when: Condition, earlier: Map<string, ParamSpec>, self: string, at: string): void {
  if (typeof when !== 'object' || when === null || typeof when.param !== 'string') {
    throw invalidArgument('a condition needs the name of the param it depends on', { field: `${at}.param` });
  }
  const parent = earlier.get(when.param);
  if (parent === undefined) {
    throw invalidArgument(
      when.param === self
        ? `"${self}" cannot depend on itself`
        : `"${when.param}" is not a param listed before "${self}"`,
      { field: `${at}.param` },
    );
  }
  if (!Array.isArray(when.in) || when.in.length === 0) {
    throw invalidArgument('a condition needs a non-empty list of parent values', { field: `${at}.in` });
  }
  when.in.forEach((v, j) => {
    if (!canTake(parent, v)) {
      throw invalidArgument(`"${when.param}" never takes the value ${JSON.stringify(v)}`, {
        field: `${at}.in[${j}]`,
      });
    }
  });
}

function isParamValue(v: unknown): v is ParamValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Whether `p` can ever be assigned `v` (by a sampler or the grid). */
export function canTake(p: ParamSpec, v: ParamValue): boolean {
  if (p.type === 'categorical') return p.choices.includes(v);
  if (typeof v !== 'number' || v < p.low || v > p.high) return false;
  if (p.type === 'int' && !Number.isInteger(v)) return false;
  const step = stepOf(p);
  if (step === undefined) return true;
  const k = (v - p.low) / step;
  return Math.abs(k - Math.round(k)) < 1e-9 && Math.round(k) < levelCount(p, step);
}

export function isActive(p: ParamSpec, assignment: ParamAssignment): boolean {
  if (p.when === undefined) return true;
  // The assignment holds only active params, so an inactive parent is simply absent.
  const parent = assignment[p.when.param];
  return parent !== undefined && p.when.in.includes(parent);
}

/** The grid step of a numeric param: its `step`, 1 for an int without one, none for a continuous float. */
export function stepOf(p: NumericParamSpec): number | undefined {
  return p.step ?? (p.type === 'int' ? 1 : undefined);
}

/** How many values low, low+step, … ≤ high there are; the slack absorbs float error in (high-low)/step. */
export function levelCount(p: NumericParamSpec, step: number): number {
  return Math.floor((p.high - p.low) / step + 1e-9) + 1;
}

/** The k-th value on a stepped param's grid, rounded so 0.1 + 2·0.1 reads 0.3 and matches a condition. */
export function levelValue(p: NumericParamSpec, step: number, k: number): number {
  if (p.type === 'int') return p.low + k * step;
  return Math.min(p.high, Number((p.low + k * step).toPrecision(15)));
}

function gridValues(p: ParamSpec, at: string): ParamValue[] {
  if (p.type === 'categorical') return [...p.choices];
  const step = stepOf(p);
  if (step === undefined) {
    throw invalidArgument(`float param "${p.name}" needs a step to be gridded`, { field: `${at}.step` });
  }
  const count = levelCount(p, step);
  if (count > MAX_GRID_POINTS) {
    throw invalidArgument(`"${p.name}" alone has ${count} grid values (over ${MAX_GRID_POINTS})`, {
      field: `${at}.step`,
    });
  }
  return Array.from({ length: count }, (_, k) => levelValue(p, step, k));
}

/**
 * Every point of the grid: categorical params take each choice, numeric params each step (an int
 * without a step steps by 1, also when log-scaled: log only shapes how samplers draw). A conditional
 * param varies only under the parent values that activate it. Order: the first param varies slowest,
 * each param's values ascend in their listed order.
 */
export function gridOf(space: SearchSpace, field = 'space'): ParamAssignment[] {
  validateSpace(space, field);
  let points: ParamAssignment[] = [{}];
  space.params.forEach((p, i) => {
    const values = gridValues(p, `${field}.params[${i}]`);
    const next: ParamAssignment[] = [];
    for (const point of points) {
      if (!isActive(p, point)) {
        next.push(point);
        continue;
      }
      for (const v of values) next.push({ ...point, [p.name]: v });
      if (next.length > MAX_GRID_POINTS) {
        throw invalidArgument(`the grid has more than ${MAX_GRID_POINTS} points`, {
          field: `${field}.params`,
        });
      }
    }
    points = next;
  });
  return points;
}
