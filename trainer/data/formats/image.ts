/**
 * PNG and JPEG images as channels-last 8-bit arrays, for cohorts stored one image per participant.
 * The channel count is the image's own (grayscale 1, colour 3; alpha is dropped), never what the
 * decoder expands it to, so a colour image in a grayscale cohort is an error rather than a silent
 * conversion. Nothing is resized: a size that differs from the manifest is an error naming the file.
 * 16-bit PNGs are scaled to 8 bits (pngjs's rescaling), the range every image modality shares.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { CrlError, invalidArgument } from '../../../common/errors.js';
import { replaceAtomically } from './npy.js';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface DecodedImage extends ImageShape {
  /** Row-major, channels last: height * width * channels bytes. */
  data: Uint8Array;
}

/** jpeg-js refuses to allocate beyond this; generous for medical images, fatal for a corrupt header. */
const JPEG_MAX_MEMORY_MB = 1024;
const JPEG_MAX_MEGAPIXELS = 100;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What the file's header declares. */
interface Head {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** An image as decoded: RGBA pixels plus the channel count the file itself declares. */
interface Raw {
  height: number;
  width: number;
  channels: 1 | 3;
  rgba: Uint8Array;
}

export function decodeImageFile(file: string, expect?: ImageShape): DecodedImage {
  const raw = decodeRaw(file, expect);
  const channels = expect?.channels ?? raw.channels;
  const data = new Uint8Array(raw.height * raw.width * channels);
  pack(raw, channels, data, 0);
  return { height: raw.height, width: raw.width, channels, data };
}

/**
 * Decodes `file` straight into `out` from `offset` as float values 0..255, channels last; the
 * image must have the shape `expect` (the batch layout depends on it).
 */
export function decodeImageInto(file: string, expect: ImageShape, out: Float32Array, offset: number): void {
  const size = expect.height * expect.width * expect.channels;
  if (offset < 0 || offset + size > out.length) {
    throw new RangeError(
      `output holds ${out.length} values; an image of ${size} from offset ${offset} does not fit`,
    );
  }
  pack(decodeRaw(file, expect), expect.channels, out, offset);
}

/** Writes a 1- or 3-channel 8-bit image as PNG (grayscale or RGB), via a temporary file. */
export function encodePng(file: string, img: DecodedImage): void {
  const { height, width, channels, data } = img;
  if (channels !== 1 && channels !== 3) {
    throw invalidArgument(`cannot write a ${channels}-channel PNG (1 or 3 channels)`, { file });
  }
  if (data.length !== height * width * channels) {
    throw invalidArgument(
      `image data has ${data.length} bytes, ${height}x${width}x${channels} needs ${height * width * channels}`,
      {
        file,
      },
    );
  }
  const colorType = channels === 1 ? 0 : 2;
  const png = new PNG({
    width,
    height,
    colorType,
    inputColorType: colorType,
    inputHasAlpha: false,
    bitDepth: 8,
  });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const bytes = PNG.sync.write(png, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: false,
    bitDepth: 8,
  });
  replaceAtomically(file, (tmp) => writeFileSync(tmp, bytes));
}

// ---------------------------------------------------------------------------------------------

function decodeRaw(file: string, expect: ImageShape | undefined): Raw {
  const ext = extname(file).toLowerCase();
  if (ext !== '.png' && ext !== '.jpg' && ext !== '.jpeg') {
    throw invalidArgument(`unsupported image extension "${ext}" (supported: .png, .jpg, .jpeg)`, { file });
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw invalidArgument(`cannot read image: ${(err as Error).message}`, { file }, err);
  }
  // The size and channel count are in the first bytes, so a mismatch is reported without decoding.
  const head = ext === '.png' ? pngHeader(bytes, file) : jpegHeader(bytes, file);
  if (expect !== undefined) checkShape(head, expect, file, undefined);
  let raw: Raw;
  try {
    raw = ext === '.png' ? decodePng(bytes, head.channels) : decodeJpg(bytes, head.channels);
  } catch (err) {
    if (err instanceof CrlError) throw err;
    const what = ext === '.png' ? 'PNG' : 'JPEG';
    throw invalidArgument(
      `cannot decode ${what}: ${err instanceof Error ? err.message : String(err)}`,
      { file },
      err,
    );
  }
  if (raw.height !== head.height || raw.width !== head.width) {
    throw invalidArgument(
      `decoded to ${raw.height}x${raw.width}, its header says ${head.height}x${head.width}`,
      {
        file,
      },
    );
  }
  if (expect !== undefined) checkShape(raw, expect, file, raw.rgba);
  return raw;
}

/**
 * The one conversion allowed: a colour image whose every pixel is gray (R = G = B, as written by
 * tools that save grayscale as RGB) may fill a 1-channel slot; it loses nothing. Anything else
 * that differs from the manifest is an error.
 */
function checkShape(got: ImageShape, expect: ImageShape, file: string, rgba: Uint8Array | undefined): void {
  const sizeOk = got.height === expect.height && got.width === expect.width;
  const grayAsColour = got.channels === 3 && expect.channels === 1;
  if (
    sizeOk &&
    (got.channels === expect.channels || (grayAsColour && (rgba === undefined || isGray(rgba))))
  ) {
    return;
  }
  const why = sizeOk && grayAsColour ? ' and not every pixel is gray (R = G = B)' : '';
  throw invalidArgument(
    `is ${got.height}x${got.width}x${got.channels}, the manifest says ${expect.height}x${expect.width}x${expect.channels}${why}`,
    { file },
  );
}

function isGray(rgba: Uint8Array): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  return true;
}

/** RGBA pixels to `channels` values per pixel (1: the red channel, equal to the gray level). */
function pack(raw: Raw, channels: number, out: Uint8Array | Float32Array, offset: number): void {
  const { rgba } = raw;
  const pixels = raw.height * raw.width;
  let o = offset;
  if (channels === 1) {
    for (let p = 0; p < pixels; p++) out[o++] = rgba[4 * p] as number;
  } else {
    for (let p = 0; p < pixels; p++) {
      const i = 4 * p;
      out[o++] = rgba[i] as number;
      out[o++] = rgba[i + 1] as number;
      out[o++] = rgba[i + 2] as number;
    }
  }
}

/** IHDR: width, height and colour type, at fixed offsets after the signature. */
function pngHeader(bytes: Uint8Array, file: string): Head {
  if (bytes.length < 26 || !PNG_SIGNATURE.equals(bytes.subarray(0, 8))) {
    throw invalidArgument('is not a PNG file (no PNG signature)', { file });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    channels: pngChannels(bytes[25] as number),
  };
}

/** Gray (0) and gray + alpha (4) are one channel; RGB (2), palette (3) and RGBA (6) three. */
function pngChannels(colorType: number): 1 | 3 {
  return colorType === 0 || colorType === 4 ? 1 : 3;
}

function decodePng(bytes: Buffer, channels: 1 | 3): Raw {
  const png = PNG.sync.read(bytes);
  return { height: png.height, width: png.width, channels, rgba: png.data };
}

/**
 * The frame header (SOFn): size and component count. jpeg-js always returns RGBA and does not say
 * how many components the file had, which decides 1 or 3 channels.
 */
function jpegHeader(bytes: Uint8Array, file: string): Head {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw invalidArgument('is not a JPEG file (no start-of-image marker)', { file });
  }
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = bytes[i + 1] as number;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // Markers without a length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    const len = ((bytes[i + 2] as number) << 8) | (bytes[i + 3] as number);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 10 > bytes.length) break;
      const height = ((bytes[i + 5] as number) << 8) | (bytes[i + 6] as number);
      const width = ((bytes[i + 7] as number) << 8) | (bytes[i + 8] as number);
      const components = bytes[i + 9] as number;
      // 4 components (CMYK / YCCK) become RGB.
      return { height, width, channels: components === 1 ? 1 : 3 };
    }
    if (marker === 0xda || marker === 0xd9) break; // scan data before any frame header
    i += 2 + len;
  }
  throw invalidArgument('JPEG has no frame header (SOF marker)', { file });
}

function decodeJpg(bytes: Buffer, channels: 1 | 3): Raw {
  const img = decodeJpeg(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxMemoryUsageInMB: JPEG_MAX_MEMORY_MB,
    maxResolutionInMP: JPEG_MAX_MEGAPIXELS,
  });
  return { height: img.height, width: img.width, channels, rgba: img.data };
}
