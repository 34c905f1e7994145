import { describe, expect, it } from 'vitest';
import { CrlError } from '../../../../common/errors.js';
import { Rng } from '../../../../common/random.js';
import { DSeparationTest } from '../../../../evaluator/ci/d-separation.js';
import { FisherZTest } from '../../../../evaluator/ci/fisher-z.js';
import { Background, parseBackground } from '../../../../evaluator/pc/background.js';
import { pc } from '../../../../evaluator/pc/pc.js';
import { randomLinearSem, sampleLinearSem } from '../../../../evaluator/pc/simulate.js';
import { edgeList } from './cpdag.js';
import { graphOf } from './helpers.js';

const v = ['age', 'sex', 'z1_1', 'z1_2', 'z2_1', 'bmi'];

function rejects(raw: unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    parseBackground(raw, v, 'bk.json');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CrlError);
  expect((caught as CrlError).code).toBe('INVALID_ARGUMENT');
  expect((caught as Error).message).toMatch(/^bk\.json/);
  expect((caught as Error).message).toMatch(pattern);
}

describe('background knowledge: parsing and validation', () => {
  it('resolves names and globs, tiers forbid edges against their order', () => {
    const bk = parseBackground(
      {
        forbidden: [['*', 'age']],
        required: [['sex', 'z1_1']],
        tiers: [['age', 'sex'], ['z1_*'], ['z2_*', 'bmi']],
      },
      v,
    );
    expect(bk.isForbidden(2, 0)).toBe(true); // z1_1 -> age (listed, and tier)
    expect(bk.isForbidden(5, 1)).toBe(true); // bmi -> sex (tier 2 -> tier 0)
    expect(bk.isForbidden(1, 5)).toBe(false);
    expect(bk.isForbidden(2, 3)).toBe(false); // within a tier: allowed unless forbiddenWithin
    expect(bk.isRequired(1, 2)).toBe(true);
    expect(bk.isBanned(0, 1)).toBe(false);
  });

  it('forbiddenWithin bans edges inside a tier (causal-learn tier semantics)', () => {
    const bk = parseBackground({ tiers: [{ nodes: ['z1_*'], forbiddenWithin: true }] }, v);
    expect(bk.isBanned(2, 3)).toBe(true);
  });

  it('rejects unknown variables, empty globs, bad shapes and unknown fields, naming them', () => {
    rejects({ forbidden: [['agee', 'bmi']] }, /unknown variable "agee"/);
    rejects({ tiers: [['z9_*']] }, /pattern "z9_\*" matches no variable/);
    rejects({ forbidden: [['age']] }, /an edge is \[from, to\]/);
    rejects({ forbiden: [] }, /unknown field "forbiden"/);
    rejects([], /must be a JSON object/);
    rejects({ required: [['age', 'age']] }, /self-loop/);
  });

  it('rejects contradictions, naming the edge', () => {
    rejects(
      { forbidden: [['age', 'bmi']], required: [['age', 'bmi']] },
      /"age" -> "bmi" is required but also listed as forbidden/,
    );
    rejects(
      {
        required: [
          ['age', 'bmi'],
          ['bmi', 'age'],
        ],
      },
      /both "age" -> "bmi" and "bmi" -> "age" are required/,
    );
    rejects({ required: [['bmi', 'age']], tiers: [['age'], ['bmi']] }, /forbidden by the tiers/);
    rejects(
      {
        required: [
          ['age', 'sex'],
          ['sex', 'bmi'],
          ['bmi', 'age'],
        ],
      },
      /directed cycle "age" -> "sex" -> "bmi" -> "age"/,
    );
    rejects({ tiers: [['age'], ['age', 'bmi']] }, /"age" is in tiers 0 and 1/);
  });
});

describe('background knowledge in PC', () => {
  // True DAG: age -> z1_1 -> z2_1 <- z1_2, sex -> z1_2, z2_1 -> bmi, age -> bmi.
  const dag = graphOf(v, 'age->z1_1, z1_1->z2_1, z1_2->z2_1, sex->z1_2, z2_1->bmi, age->bmi');

  it('tiers in the true causal order orient edges the data alone leave undirected', () => {
    const plain = pc(new DSeparationTest(dag)).graph;
    expect(plain.isUndirected(0, 2)).toBe(true); // age --- z1_1 without knowledge
    const bk = Background.fromSpec({ tiers: [['age', 'sex'], ['z1_*'], ['z2_*'], ['bmi']] }, v);
    const g = pc(new DSeparationTest(dag), { background: bk }).graph;
    expect(edgeList(g.toGraph(v))).toEqual(edgeList(dag));
  });

  it('a required edge is kept and oriented even where the CI tests would remove it', () => {
    const bk = Background.fromSpec({ required: [['sex', 'bmi']] }, v);
    const g = pc(new DSeparationTest(dag), { background: bk }).graph;
    expect(g.isDirected(1, 5)).toBe(true);
  });

  it('a banned pair is never adjacent; a forbidden direction is never output', () => {
    const bk = Background.fromSpec(
      {
        forbidden: [
          ['age', 'z1_1'],
          ['z1_1', 'age'],
          ['bmi', '*'],
        ],
      },
      v,
    );
    const g = pc(new DSeparationTest(dag), { background: bk }).graph;
    expect(g.adjacent(0, 2)).toBe(false);
    for (let j = 0; j < v.length; j++) expect(g.isDirected(5, j)).toBe(false);
  });

  it('"age has no parents" holds on noisy data too', () => {
    const rng = new Rng(4);
    const data = sampleLinearSem(randomLinearSem(dag, rng), 300, rng);
    const bk = Background.fromSpec({ forbidden: [['*', 'age']] }, v);
    const g = pc(new FisherZTest(data), { background: bk }).graph;
    for (let j = 1; j < v.length; j++) {
      expect(g.isDirected(j, 0)).toBe(false);
      expect(g.isUndirected(j, 0)).toBe(false);
    }
  });

  it('refuses knowledge built for other variables', () => {
    const bk = Background.fromSpec({}, ['a', 'b']);
    expect(() => pc(new DSeparationTest(dag), { background: bk })).toThrow(/different variables/);
  });
});
