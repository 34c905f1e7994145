import { describe, expect, it } from 'vitest';
import { Background } from '../../../../evaluator/pc/background.js';
import { applyMeekRules } from '../../../../evaluator/pc/meek.js';
import { Pdag } from '../../../../evaluator/pc/pdag.js';
import { edgeList } from './cpdag.js';
import { graphOf } from './helpers.js';

const v = ['a', 'b', 'c', 'd', 'e'];
const pdag = (spec: string): Pdag => Pdag.fromGraph(graphOf(v, spec));
const text = (g: Pdag): string[] => edgeList(g.toGraph(v));
const expected = (spec: string): string[] => edgeList(graphOf(v, spec));

describe("Meek's rules", () => {
  it('R1: a -> b --- c with a, c not adjacent orients b -> c, and propagates', () => {
    expect(text(applyMeekRules(pdag('a->b, b--c, c--d')))).toEqual(expected('a->b, b->c, c->d'));
  });

  it('R1 leaves a shielded triple alone', () => {
    expect(text(applyMeekRules(pdag('a->b, b--c, a--c')))).toEqual(expected('a->b, b--c, a--c'));
  });

  it('R2: a -> b -> c with a --- c orients a -> c', () => {
    expect(text(applyMeekRules(pdag('a->b, b->c, a--c')))).toEqual(expected('a->b, b->c, a->c'));
  });

  it('R3: the kite orients its diagonal into the collider', () => {
    expect(text(applyMeekRules(pdag('a--b, a--c, b->d, c->d, a--d')))).toEqual(
      expected('a--b, a--c, b->d, c->d, a->d'),
    );
  });

  it('R4 (only when enabled): a --- b, a --- d, d -> c -> b, a ~ c, d not adjacent b', () => {
    const g = pdag('a--b, a--d, d->c, c->b, a--c');
    expect(text(applyMeekRules(g))).toEqual(expected('a--b, a--d, d->c, c->b, a--c'));
    expect(text(applyMeekRules(g, { r4: true }))).toEqual(expected('a->b, a--d, d->c, c->b, a--c'));
  });

  it('never makes an orientation the background knowledge forbids', () => {
    const bk = Background.fromSpec({ forbidden: [['b', 'c']] }, v);
    expect(text(applyMeekRules(pdag('a->b, b--c'), { background: bk }))).toEqual(expected('a->b, b--c'));
  });

  it('is a fixpoint: applying it twice changes nothing', () => {
    const once = applyMeekRules(pdag('a->b, b--c, c--d, b--d, d--e'));
    expect(applyMeekRules(once).equals(once)).toBe(true);
  });
});
