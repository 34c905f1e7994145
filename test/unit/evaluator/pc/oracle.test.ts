import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../common/random.js';
import { DSeparationTest } from '../../../../evaluator/ci/d-separation.js';
import { cpdagOfDag } from '../../../../evaluator/pc/cpdag.js';
import { pc, type PcOptions } from '../../../../evaluator/pc/pc.js';
import { randomDag } from '../../../../evaluator/pc/simulate.js';
import { cpdagOf, edgeList } from './cpdag.js';
import { graphOf } from './helpers.js';

/** PC on the d-separation oracle of `dag`, as sorted edge text. */
function pcOnOracle(dag: ReturnType<typeof randomDag>, options: PcOptions = {}): string[] {
  return edgeList(pc(new DSeparationTest(dag), options).graph.toGraph(dag.nodes));
}

// 50 seeded random DAGs of 5-30 nodes, expected degree 2-3.
const rng = new Rng('pc-oracle');
const dags = Array.from({ length: 50 }, () => randomDag(5 + rng.int(26), 2 + rng.uniform(), rng));

describe('PC with a d-separation oracle', () => {
  it('returns exactly the true CPDAG (Chickering) for 50 random DAGs of 5-30 nodes', () => {
    for (const dag of dags) expect(pcOnOracle(dag)).toEqual(edgeList(cpdagOf(dag)));
  });

  it('does so with the original (non-stable) skeleton search too', () => {
    for (const dag of dags.slice(0, 25))
      expect(pcOnOracle(dag, { stable: false })).toEqual(edgeList(cpdagOf(dag)));
  });

  it('does so with every collider rule and priority', () => {
    const small = dags.filter((d) => d.nodes.length <= 15).slice(0, 10);
    for (const dag of small) {
      const truth = edgeList(cpdagOf(dag));
      for (const ucPriority of [
        'overwrite',
        'bidirected',
        'existing',
        'stronger',
        'stronger-star',
      ] as const) {
        expect(pcOnOracle(dag, { ucPriority })).toEqual(truth);
      }
      expect(pcOnOracle(dag, { ucRule: 'maxp', ucPriority: 'rule-default' })).toEqual(truth);
      expect(pcOnOracle(dag, { ucRule: 'definite-maxp', ucPriority: 'rule-default' })).toEqual(truth);
    }
  });

  it('cpdagOfDag (Meek closure) agrees with Chickering on every DAG', () => {
    for (const dag of dags) expect(edgeList(cpdagOfDag(dag))).toEqual(edgeList(cpdagOf(dag)));
  });

  const v = ['a', 'b', 'c', 'd', 'e'];
  const cases: [string, string, string][] = [
    ['chain', 'a->b, b->c', 'a--b, b--c'],
    ['fork', 'b->a, b->c', 'a--b, b--c'],
    ['collider', 'a->b, c->b', 'a->b, c->b'],
    // R1: the collider at b forces b -> d (a, d not adjacent).
    ['Meek R1', 'a->b, c->b, b->d', 'a->b, c->b, b->d'],
    // R2: a -> c -> d with a --- d forces a -> d.
    ['Meek R2', 'a->c, b->c, c->d, a->d', 'a->c, b->c, c->d, a->d'],
    // R3: the kite a --- b, a --- c, b -> d <- c, a --- d forces a -> d.
    ['Meek R3', 'a->b, a->c, b->d, c->d, a->d', 'a--b, a--c, b->d, c->d, a->d'],
    ['diamond', 'a->b, a->c, b->d, c->d', 'a--b, a--c, b->d, c->d'],
    ['complete', 'a->b, a->c, b->c', 'a--b, a--c, b--c'],
    ['two components', 'a->b, c->d, e->d', 'a--b, c->d, e->d'],
  ];
  for (const [name, dag, cpdag] of cases) {
    it(`textbook case: ${name}`, () => {
      const truth = graphOf(v, dag);
      const expected = edgeList(graphOf(v, cpdag));
      expect(edgeList(cpdagOf(truth))).toEqual(expected);
      expect(pcOnOracle(truth)).toEqual(expected);
      expect(pcOnOracle(truth, { stable: false })).toEqual(expected);
    });
  }
});
