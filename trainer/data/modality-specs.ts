/**
 * The model's view of a dataset's modalities (kind, dims, latent and exogenous sizes) from its
 * manifest, checked against the truth the manifest lists: shared by `crl train`, the trainers and
 * the coordinator, which must all agree on the latent layout.
 */
import { invalidArgument } from '../../common/errors.js';
import type { ModalitySpec } from '../model/config.js';
import { manifestRowShape, type DatasetManifest } from './manifest.js';

/** `file` labels errors (the dataset directory or its manifest). */
export function modalitySpecsOf(manifest: DatasetManifest, file: string): ModalitySpec[] {
  return manifest.modalities.map((m, i): ModalitySpec => {
    const field = `modalities[${i}].latents`;
    const latents = m.latents ?? m.truth?.latents.length;
    if (latents === undefined)
      throw invalidArgument('has no latent size: set "latents" in dataset.json', { file, field });
    const truthK = m.truth?.latents.length;
    if (truthK !== undefined && truthK !== latents) {
      throw invalidArgument(
        `latents = ${latents} does not fit the ${truthK} truth latents listed for modality ${m.name}`,
        { file, field },
      );
    }
    const shape = manifestRowShape(m);
    const dims = shape.reduce((a, b) => a * b, 1);
    if (latents > dims) throw invalidArgument(`latents = ${latents} exceeds dims = ${dims}`, { file, field });
    return {
      name: m.name,
      kind: m.kind,
      dims,
      ...(m.kind === 'tabular' ? {} : { shape }),
      latents,
      exogenous: m.exogenous ?? m.truth?.exogenous.length ?? 0,
    };
  });
}
