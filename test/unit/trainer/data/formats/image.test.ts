import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  decodeImageFile,
  decodeImageInto,
  encodePng,
  type DecodedImage,
} from '../../../../../trainer/data/formats/image.js';
import { tempDir } from '../../../../helpers/tmp.js';

const dir = tempDir('crl-image-');
let counter = 0;
const path = (ext: string) => join(dir, `${counter++}${ext}`);

function image(height: number, width: number, channels: number, f: (i: number) => number): DecodedImage {
  const data = new Uint8Array(height * width * channels);
  for (let i = 0; i < data.length; i++) data[i] = f(i) & 255;
  return { height, width, channels, data };
}

/** A PNG written by pngjs itself with any colour type, from RGBA input. */
function pngOfType(colorType: 0 | 2 | 4 | 6, height: number, width: number, rgba: Uint8Array): string {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  const file = path('.png');
  writeFileSync(file, PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true }));
  return file;
}

/** A palette (colour type 3) PNG assembled chunk by chunk, since pngjs cannot write one. */
function palettePng(height: number, width: number, palette: number[][], indices: number[]): string {
  const chunk = (type: string, body: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([len, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const raw: number[] = [];
  for (let y = 0; y < height; y++) raw.push(0, ...indices.slice(y * width, (y + 1) * width));
  const file = path('.png');
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('PLTE', Buffer.from(palette.flat())),
      chunk('IDAT', deflateSync(Buffer.from(raw))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
  return file;
}

/** IPython's tests/2x2.jpg: a 2x2 one-component (grayscale) baseline JPEG, every pixel 128. */
const GRAY_JPEG =
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAACAAIBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/ACv/2Q==';

describe('PNG', () => {
  it('round-trips grayscale and RGB through encodePng, as colour types 0 and 2', () => {
    const gray = image(5, 7, 1, (i) => i * 37);
    const rgb = image(6, 4, 3, (i) => i * 11 + 3);
    for (const img of [gray, rgb]) {
      const file = path('.png');
      encodePng(file, img);
      expect(readFileSync(file)[25]).toBe(img.channels === 1 ? 0 : 2);
      expect(decodeImageFile(file)).toEqual(img);
      expect(decodeImageFile(file, img)).toEqual(img);
    }
  });

  it('decodes straight into a float batch at an offset', () => {
    const img = image(3, 2, 3, (i) => 255 - i * 9);
    const file = path('.png');
    encodePng(file, img);
    const out = new Float32Array(4 + img.data.length + 2).fill(-1);
    decodeImageInto(file, img, out, 4);
    expect(Array.from(out)).toEqual([-1, -1, -1, -1, ...img.data, -1, -1]);
    expect(() => decodeImageInto(file, img, new Float32Array(img.data.length), 1)).toThrow(RangeError);
  });

  it("counts the file's own channels: alpha is dropped, gray + alpha is one channel, a palette is three", () => {
    const rgba = Uint8Array.from([10, 20, 30, 255, 40, 50, 60, 0, 70, 70, 70, 128, 1, 2, 3, 4]);
    expect(decodeImageFile(pngOfType(6, 2, 2, rgba))).toEqual({
      height: 2,
      width: 2,
      channels: 3,
      data: Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 70, 70, 1, 2, 3]),
    });
    const grayA = Uint8Array.from([9, 9, 9, 255, 200, 200, 200, 17]);
    expect(decodeImageFile(pngOfType(4, 1, 2, grayA))).toEqual({
      height: 1,
      width: 2,
      channels: 1,
      data: Uint8Array.from([9, 200]),
    });
    const pal = palettePng(
      2,
      3,
      [
        [255, 0, 0],
        [0, 0, 255],
        [5, 5, 5],
      ],
      [0, 1, 2, 2, 1, 0],
    );
    expect(decodeImageFile(pal)).toEqual({
      height: 2,
      width: 3,
      channels: 3,
      data: Uint8Array.from([255, 0, 0, 0, 0, 255, 5, 5, 5, 5, 5, 5, 0, 0, 255, 255, 0, 0]),
    });
  });

  it('reads a 16-bit grayscale PNG as one 8-bit channel', () => {
    const rgba16 = Uint16Array.from([0, 0, 0, 65535, 65535, 65535, 65535, 65535, 32896, 32896, 32896, 65535]);
    const png = new PNG({ width: 3, height: 1 });
    png.data = Buffer.from(rgba16.buffer);
    const file = path('.png');
    writeFileSync(
      file,
      PNG.sync.write(png, { colorType: 0, inputColorType: 6, inputHasAlpha: true, bitDepth: 16 }),
    );
    expect(readFileSync(file)[24]).toBe(16);
    expect(decodeImageFile(file)).toEqual({
      height: 1,
      width: 3,
      channels: 1,
      data: Uint8Array.from([0, 255, 128]),
    });
  });

  it('rejects a size or channel count other than the manifest, naming the file', () => {
    const file = path('.png');
    encodePng(
      file,
      image(30, 28, 3, (i) => i),
    );
    expect(() => decodeImageFile(file, { height: 28, width: 28, channels: 1 })).toThrow(
      `${file}: is 30x28x3, the manifest says 28x28x1`,
    );
    expect(() =>
      decodeImageInto(file, { height: 30, width: 28, channels: 1 }, new Float32Array(840), 0),
    ).toThrow(`${file}: is 30x28x3, the manifest says 30x28x1 and not every pixel is gray (R = G = B)`);
    const gray = path('.png');
    encodePng(
      gray,
      image(4, 4, 1, (i) => i),
    );
    // Never expanded to colour.
    expect(() => decodeImageFile(gray, { height: 4, width: 4, channels: 3 })).toThrow(
      `${gray}: is 4x4x1, the manifest says 4x4x3`,
    );
  });

  it('accepts a colour image whose every pixel is gray where one channel is expected', () => {
    const file = path('.png');
    encodePng(
      file,
      image(2, 3, 3, (i) => Math.floor(i / 3) * 40),
    );
    expect(decodeImageFile(file, { height: 2, width: 3, channels: 1 })).toEqual({
      height: 2,
      width: 3,
      channels: 1,
      data: Uint8Array.from([0, 40, 80, 120, 160, 200]),
    });
  });

  it('rejects unsupported, mislabelled, corrupt and missing files, naming them', () => {
    const bmp = path('.bmp');
    writeFileSync(bmp, 'BM');
    expect(() => decodeImageFile(bmp)).toThrow(
      `${bmp}: unsupported image extension ".bmp" (supported: .png, .jpg, .jpeg)`,
    );
    const fake = path('.png');
    writeFileSync(fake, Buffer.from(GRAY_JPEG, 'base64'));
    expect(() => decodeImageFile(fake)).toThrow(`${fake}: is not a PNG file`);
    const good = path('.png');
    encodePng(
      good,
      image(8, 8, 3, (i) => i * 13),
    );
    const cut = path('.png');
    writeFileSync(cut, readFileSync(good).subarray(0, 45));
    expect(() => decodeImageFile(cut)).toThrow(`${cut}: cannot decode PNG`);
    const missing = path('.png');
    expect(() => decodeImageFile(missing)).toThrow(`${missing}: cannot read image`);
    expect(() =>
      encodePng(path('.png'), { height: 2, width: 2, channels: 4, data: new Uint8Array(16) }),
    ).toThrow(/cannot write a 4-channel PNG/);
    expect(() =>
      encodePng(path('.png'), { height: 2, width: 2, channels: 3, data: new Uint8Array(11) }),
    ).toThrow(/image data has 11 bytes, 2x2x3 needs 12/);
  });
});

describe('JPEG', () => {
  it('decodes a grayscale JPEG as one channel', () => {
    const file = path('.jpg');
    writeFileSync(file, Buffer.from(GRAY_JPEG, 'base64'));
    expect(decodeImageFile(file)).toEqual({
      height: 2,
      width: 2,
      channels: 1,
      data: Uint8Array.from([128, 128, 128, 128]),
    });
    expect(() => decodeImageFile(file, { height: 2, width: 2, channels: 3 })).toThrow(
      `${file}: is 2x2x1, the manifest says 2x2x3`,
    );
  });

  it('decodes a colour JPEG as three channels, close to what was encoded', () => {
    const h = 16;
    const w = 24;
    const rgba = new Uint8Array(h * w * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) rgba.set([8 * x, 12 * y, 100, 255], (y * w + x) * 4);
    }
    const file = path('.jpeg');
    writeFileSync(file, encodeJpeg({ width: w, height: h, data: rgba }, 100).data);
    const img = decodeImageFile(file);
    expect([img.height, img.width, img.channels]).toEqual([h, w, 3]);
    let worst = 0;
    for (let p = 0; p < h * w; p++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(img.data[p * 3 + c]! - rgba[p * 4 + c]!));
    }
    expect(worst).toBeLessThanOrEqual(8);
    expect(() => decodeImageFile(file, { height: 24, width: 16, channels: 3 })).toThrow(
      `${file}: is 16x24x3, the manifest says 24x16x3`,
    );
  });

  it('rejects a file that is not a JPEG and one that is cut short', () => {
    const png = path('.png');
    encodePng(
      png,
      image(2, 2, 1, () => 0),
    );
    const fake = path('.jpg');
    writeFileSync(fake, readFileSync(png));
    expect(() => decodeImageFile(fake)).toThrow(`${fake}: is not a JPEG file`);
    const noFrame = path('.jpg');
    writeFileSync(noFrame, Buffer.from(GRAY_JPEG, 'base64').subarray(0, 60));
    expect(() => decodeImageFile(noFrame)).toThrow(`${noFrame}: JPEG has no frame header`);
    const cut = path('.jpg');
    writeFileSync(cut, Buffer.from(GRAY_JPEG, 'base64').subarray(0, 200));
    expect(() => decodeImageFile(cut)).toThrow(`${cut}: cannot decode JPEG`);
  });
});
