/**
 * Reads the pixels of a PNG, as browsers' screenshots write them (8-bit RGB or RGBA, not interlaced), so
 * a test can check what a page actually drew. Pure: no I/O. The format: https://www.w3.org/TR/png-3/
 */
import { inflateSync } from 'node:zlib';

/** A decoded image: `pixel(x, y)` is [red, green, blue] (alpha is ignored: screenshots are opaque). */
export interface Pixels {
  readonly width: number;
  readonly height: number;
  pixel(x: number, y: number): readonly [number, number, number];
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decode `png`; throws on anything but 8-bit RGB or RGBA without interlacing. */
export function decodePng(png: Buffer): Pixels {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, color, , , interlace] = body.subarray(8, 13);
      channels = color === 2 ? 3 : color === 6 ? 4 : 0;
      if (depth !== 8 || channels === 0 || interlace !== 0)
        throw new Error(`unsupported PNG: depth ${depth}, color type ${color}, interlace ${interlace}`);
    } else if (type === 'IDAT') {
      data.push(body);
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const image = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw.readUInt8(y * (stride + 1));
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? image.readUInt8(y * stride + i - channels) : 0;
      const up = y > 0 ? image.readUInt8((y - 1) * stride + i) : 0;
      const upLeft = y > 0 && i >= channels ? image.readUInt8((y - 1) * stride + i - channels) : 0;
      image[y * stride + i] = (row.readUInt8(i) + predict(filter, left, up, upLeft)) & 0xff;
    }
  }
  return {
    width,
    height,
    pixel(x, y) {
      const at = y * stride + x * channels;
      return [image.readUInt8(at), image.readUInt8(at + 1), image.readUInt8(at + 2)];
    },
  };
}

/** The PNG filter's predictor of a byte from its neighbours (section 7.3). */
function predict(filter: number, left: number, up: number, upLeft: number): number {
  switch (filter) {
    case 0:
      return 0;
    case 1:
      return left;
    case 2:
      return up;
    case 3:
      return Math.floor((left + up) / 2);
    case 4: {
      const p = left + up - upLeft;
      const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
      return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
    }
    default:
      throw new Error(`unknown PNG filter ${filter}`);
  }
}
