/**
 * SVG rendered in-process by Graphviz compiled to WebAssembly (@viz-js/viz, which ships its wasm
 * inside the package): no `dot` binary to install, identical output on every machine.
 */
import { instance, type Viz } from '@viz-js/viz';
import { CrlError } from '../../common/errors.js';
import type { Graph } from '../../common/graph.js';
import { toDot, type DotOptions } from './dot.js';

let viz: Promise<Viz> | undefined;

/** Renders DOT text to an SVG document (layout engine "dot"). */
export async function renderSvg(dot: string): Promise<string> {
  viz ??= instance();
  const result = (await viz).render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') {
    const why = result.errors.map((e) => e.message).join('; ');
    throw new CrlError('INTERNAL', `Graphviz could not render the graph: ${why}`);
  }
  return result.output;
}

/** SVG drawing of a graph (see `toDot` for the styling options). */
export async function graphToSvg(graph: Graph, options: DotOptions = {}): Promise<string> {
  return renderSvg(toDot(graph, options));
}
