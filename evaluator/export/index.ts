/** Graph export: Graphviz DOT and in-process SVG, nodes coloured by modality. */
export { toDot, type DotOptions } from './dot.js';
export { groupColours, MODALITY_COLOURS, modalityGroup, OTHER_COLOUR, OTHER_GROUP } from './palette.js';
export { graphToSvg, renderSvg } from './svg.js';
