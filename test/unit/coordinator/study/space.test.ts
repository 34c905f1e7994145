import { describe, expect, it } from 'vitest';
import {
  gridOf,
  isActive,
  validateSpace,
  type ParamSpec,
  type SearchSpace,
} from '../../../../coordinator/study/space.js';
import { errorOf } from '../../../helpers/errors.js';

const model: SearchSpace = {
  params: [
    { name: 'model', type: 'categorical', choices: ['linear', 'mlp'] },
    { name: 'hidden', type: 'int', low: 16, high: 48, step: 16, when: { param: 'model', in: ['mlp'] } },
    { name: 'dropout', type: 'float', low: 0, high: 0.2, step: 0.1, when: { param: 'hidden', in: [48] } },
    { name: 'lr', type: 'float', low: 0.1, high: 0.3, step: 0.1 },
  ],
};

function fieldOf(params: unknown[]): string | undefined {
  return errorOf(() => validateSpace({ params } as SearchSpace)).where.field;
}

describe('validateSpace', () => {
  it('accepts a conditional space', () => {
    expect(() => validateSpace(model)).not.toThrow();
  });

  it.each([
    [[{ name: 'a', type: 'float', low: 1, high: 1 }], 'space.params[0].low'],
    [[{ name: 'a', type: 'float', low: 0, high: 1, log: true }], 'space.params[0].low'],
    [[{ name: 'a', type: 'int', low: 0.5, high: 3 }], 'space.params[0].low'],
    [[{ name: 'a', type: 'int', low: 0, high: 3.5 }], 'space.params[0].high'],
    [[{ name: 'a', type: 'float', low: 0, high: Infinity }], 'space.params[0].high'],
    [[{ name: 'a', type: 'float', low: 0, high: 1, step: 0 }], 'space.params[0].step'],
    [[{ name: 'a', type: 'int', low: 0, high: 4, step: 1.5 }], 'space.params[0].step'],
    [[{ name: 'a', type: 'float', low: 1, high: 10, log: true, step: 1 }], 'space.params[0].step'],
    [[{ name: 'a', type: 'categorical', choices: [] }], 'space.params[0].choices'],
    [[{ name: 'a', type: 'categorical', choices: ['x', 'y', 'x'] }], 'space.params[0].choices[2]'],
    [[{ name: 'a', type: 'categorical', choices: [null] }], 'space.params[0].choices[0]'],
    [[{ name: 'a', type: 'bool' }], 'space.params[0].type'],
    [[{ name: '', type: 'categorical', choices: [1] }], 'space.params[0].name'],
    [
      [
        { name: 'a', type: 'categorical', choices: [1] },
        { name: 'a', type: 'categorical', choices: [2] },
      ],
      'space.params[1].name',
    ],
  ])('names the field of a bad param %#', (params, field) => {
    expect(fieldOf(params)).toBe(field);
  });

  it('names a condition that refers to a later or unknown param, or a value the parent never takes', () => {
    const later = [
      { name: 'a', type: 'int', low: 0, high: 3, when: { param: 'b', in: [1] } },
      { name: 'b', type: 'int', low: 0, high: 3 },
    ];
    expect(fieldOf(later)).toBe('space.params[0].when.param');
    const self = [{ name: 'a', type: 'int', low: 0, high: 3, when: { param: 'a', in: [1] } }];
    expect(fieldOf(self)).toBe('space.params[0].when.param');
    const a = { name: 'a', type: 'int', low: 0, high: 4, step: 2 };
    expect(
      fieldOf([a, { name: 'b', type: 'categorical', choices: [1], when: { param: 'a', in: [2, 3] } }]),
    ).toBe('space.params[1].when.in[1]');
    expect(fieldOf([a, { name: 'b', type: 'categorical', choices: [1], when: { param: 'a', in: [] } }])).toBe(
      'space.params[1].when.in',
    );
    const c = { name: 'c', type: 'categorical', choices: ['x', true] };
    expect(
      fieldOf([c, { name: 'd', type: 'int', low: 0, high: 1, when: { param: 'c', in: ['true'] } }]),
    ).toBe('space.params[1].when.in[0]');
  });

  it('prefixes fields with the caller-given path', () => {
    const err = errorOf(() =>
      validateSpace({ params: [{ name: 'a', type: 'int', low: 3, high: 1 }] }, 'study.space'),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.where.field).toBe('study.space.params[0].low');
  });
});

describe('isActive', () => {
  const hidden = model.params[1] as ParamSpec;
  it('needs the parent present with a listed value', () => {
    expect(isActive(hidden, { model: 'mlp' })).toBe(true);
    expect(isActive(hidden, { model: 'linear' })).toBe(false);
    expect(isActive(hidden, {})).toBe(false);
    expect(isActive(model.params[0] as ParamSpec, {})).toBe(true);
  });
});

describe('gridOf', () => {
  it('expands conditional params only under their active parents, first param slowest', () => {
    const grid = gridOf(model);
    const lrs = [0.1, 0.2, 0.3];
    const expected = [
      ...lrs.map((lr) => ({ model: 'linear', lr })),
      ...lrs.map((lr) => ({ model: 'mlp', hidden: 16, lr })),
      ...lrs.map((lr) => ({ model: 'mlp', hidden: 32, lr })),
      ...[0, 0.1, 0.2].flatMap((dropout) => lrs.map((lr) => ({ model: 'mlp', hidden: 48, dropout, lr }))),
    ];
    expect(grid).toEqual(expected);
    // Steps are rounded, so 0.1 + 2·0.1 is exactly 0.3.
    expect(grid.some((p) => p.lr === 0.3)).toBe(true);
  });

  it('steps ints by 1 by default, also log ints, and ends at the last step at or below high', () => {
    expect(
      gridOf({ params: [{ name: 'n', type: 'int', low: 1, high: 4, log: true }] }).map((p) => p.n),
    ).toEqual([1, 2, 3, 4]);
    expect(
      gridOf({ params: [{ name: 'n', type: 'int', low: 0, high: 7, step: 3 }] }).map((p) => p.n),
    ).toEqual([0, 3, 6]);
  });

  it('is deterministic and has no duplicate points', () => {
    const a = gridOf(model);
    expect(gridOf(model)).toEqual(a);
    expect(new Set(a.map((p) => JSON.stringify(p))).size).toBe(a.length);
  });

  it('refuses a float without a step, naming it', () => {
    const err = errorOf(() =>
      gridOf({
        params: [
          { name: 'a', type: 'int', low: 0, high: 2 },
          { name: 'lr', type: 'float', low: 0, high: 1 },
        ],
      }),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.where.field).toBe('space.params[1].step');
    expect(err.message).toContain('"lr"');
  });

  it('refuses a grid too large to enumerate', () => {
    const err = errorOf(() =>
      gridOf({
        params: [
          { name: 'a', type: 'int', low: 0, high: 999 },
          { name: 'b', type: 'int', low: 0, high: 999 },
          { name: 'c', type: 'int', low: 0, high: 9 },
        ],
      }),
    );
    expect(err.where.field).toBe('space.params');
  });

  it('has one empty point for an empty space', () => {
    expect(gridOf({ params: [] })).toEqual([{}]);
  });
});
