/** PNG helpers: embed the manifest as a tEXt chunk, rasterise an SVG in the browser. */

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIG = [137, 80, 78, 71, 13, 10, 26, 10];

/** Insert a `tEXt` chunk (keyword, Latin-1 text; non-Latin-1 escaped as \uXXXX) right after IHDR. */
export function pngAddText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  for (let i = 0; i < 8; i++) if (png[i] !== SIG[i]) throw new Error('not a PNG file');
  const safe = text.replace(/[^\x20-\x7e\n]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const data = new Uint8Array(keyword.length + 1 + safe.length);
  for (let i = 0; i < keyword.length; i++) data[i] = keyword.charCodeAt(i);
  data[keyword.length] = 0;
  for (let i = 0; i < safe.length; i++) data[keyword.length + 1 + i] = safe.charCodeAt(i);
  const type = new Uint8Array([0x74, 0x45, 0x58, 0x74]); // tEXt
  const chunk = new Uint8Array(12 + data.length);
  const dv = new DataView(chunk.buffer);
  dv.setUint32(0, data.length);
  chunk.set(type, 4);
  chunk.set(data, 8);
  const crcIn = new Uint8Array(4 + data.length);
  crcIn.set(type, 0);
  crcIn.set(data, 4);
  dv.setUint32(8 + data.length, crc32(crcIn));
  const ihdrEnd = 8 + 12 + new DataView(png.buffer, png.byteOffset).getUint32(8);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/** Read every tEXt chunk (keyword → text). */
export function pngReadText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let p = 8;
  while (p + 12 <= png.length) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(png[p + 4], png[p + 5], png[p + 6], png[p + 7]);
    if (type === 'tEXt') {
      const d = png.subarray(p + 8, p + 8 + len);
      const z = d.indexOf(0);
      out[String.fromCharCode(...d.subarray(0, z))] = Array.from(d.subarray(z + 1), (b) => String.fromCharCode(b)).join('');
    }
    if (type === 'IEND') break;
    p += 12 + len;
  }
  return out;
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64.replace(/^data:[^,]*,/, ''));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Rasterise an SVG string to PNG bytes via an <img> and a canvas (browser / Electron renderer only). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const m = /viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg);
  const w = m ? Number(m[3]) : 800, h = m ? Number(m[4]) : 600;
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  const img = new Image();
  await new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('could not rasterise the SVG'));
    img.src = url;
  });
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil(w * scale);
  canvas.height = Math.ceil(h * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas available for PNG export');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return base64ToBytes(canvas.toDataURL('image/png'));
}
