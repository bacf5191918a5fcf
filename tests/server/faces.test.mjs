// faces.test.mjs - POST /v1/faces:compare on real faces of ../shared/data/faces-lfw: two photos of
// one person score above two people, JSON base64 and multipart give the same answer, and every bad
// input is a 4xx with its own code. A photo with a background face compares its subject.
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';

h.requireData({ pad: false });
export const LFW = join(h.env.data, 'faces-lfw');
if (!existsSync(join(LFW, 'pairs.csv'))) { console.log(`SKIP: ${LFW} absent`); process.exit(77); }
const img = (p) => readFileSync(join(LFW, p));

/** A grey PNG without any face (zlib and crc32 from node). */
export function greyPng(w = 96, hgt = 96) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(hgt, 4); ihdr[8] = 8; ihdr[9] = 0;   // 8-bit grey
  const raw = Buffer.alloc((w + 1) * hgt, 128);
  for (let y = 0; y < hgt; y++) raw[y * (w + 1)] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export async function compareJson(srv, a, b, { apiKey = h.API_KEY, contentType = 'application/json', raw = null } = {}) {
  const body = raw ?? JSON.stringify({ ...(a && { image_a: a.toString('base64') }), ...(b && { image_b: b.toString('base64') }) });
  const res = await fetch(srv.base + '/v1/faces:compare', { method: 'POST',
    headers: { 'Content-Type': contentType, ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}) }, body });
  return { status: res.status, body: await res.json() };
}

export async function compareForm(srv, parts, apiKey = h.API_KEY) {
  const fd = new FormData();
  for (const [name, bytes] of Object.entries(parts)) fd.append(name, new Blob([bytes], { type: 'image/jpeg' }), `${name}.jpg`);
  const res = await fetch(srv.base + '/v1/faces:compare', { method: 'POST', headers: { Authorization: `Bearer ${apiKey}` }, body: fd });
  return { status: res.status, body: await res.json() };
}

let S;
before(async () => { S = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1 }); });
after(async () => { await S?.stop(); S?.cleanup(); });

test('one person scores above two people; JSON and multipart agree', async () => {
  const a1 = img('Abel_Pacheco/Abel_Pacheco_0001.jpg'), a2 = img('Abel_Pacheco/Abel_Pacheco_0004.jpg');
  const other = img('Adrien_Brody/Adrien_Brody_0002.jpg');
  const same = await compareJson(S, a1, a2), diff = await compareJson(S, a1, other);
  assert.equal(same.status, 200, JSON.stringify(same.body));
  assert.equal(diff.status, 200, JSON.stringify(diff.body));
  assert.deepEqual(same.body.faces, { image_a: 1, image_b: 1 });
  assert.ok(same.body.similarity > diff.body.similarity + 0.1, `same ${same.body.similarity} vs different ${diff.body.similarity}`);
  assert.ok(['strong', 'weak', 'none'].includes(same.body.band) && diff.body.band === 'none', `${same.body.band} / ${diff.body.band}`);
  assert.match(same.body.model, /^[0-9a-f]{64}$/);
  const self = await compareJson(S, a1, a1);
  assert.ok(self.body.similarity > 0.999 && self.body.band === 'strong', JSON.stringify(self.body));
  const form = await compareForm(S, { image_a: a1, image_b: a2 });
  assert.equal(form.status, 200, JSON.stringify(form.body));
  assert.ok(Math.abs(form.body.similarity - same.body.similarity) < 1e-6, `multipart ${form.body.similarity} vs JSON ${same.body.similarity}`);
  assert.equal(h.sql(S.db, "SELECT count(*) FROM audit WHERE route='faces_compare' AND code='compared'")[0][0], 4, 'each compare audited');
  // a photo with a second, more confidently detected face behind the subject: the subject is compared
  const ridge = await compareJson(S, img('Tom_Ridge/Tom_Ridge_0018.jpg'), img('Tom_Ridge/Tom_Ridge_0022.jpg'));
  assert.deepEqual(ridge.body.faces, { image_a: 2, image_b: 1 }, JSON.stringify(ridge.body));
  assert.equal(ridge.body.band, 'strong', JSON.stringify(ridge.body));
  // the face each image was compared by, in image pixels: in 0018 (150x150) his, left of centre
  // (x 36-93), not the one at the lower right (x 103-145)
  const [x0, y0, x1, y1] = ridge.body.face_boxes.image_a;
  assert.ok(x1 - x0 > 40 && y1 - y0 > 40 && (x0 + x1) / 2 < 75, `image_a box ${ridge.body.face_boxes.image_a}`);
  assert.equal(ridge.body.face_boxes.image_b.length, 4);
});

test('bad input: clear 4xx codes', async () => {
  const a1 = img('Abel_Pacheco/Abel_Pacheco_0001.jpg');
  const cases = [
    [await compareJson(S, a1, a1, { apiKey: null }), 401, 'unauthorized'],
    [await compareJson(S, a1, a1, { apiKey: 'wrong-key-0123456789abcdef' }), 401, 'unauthorized'],
    [await compareJson(S, a1, null), 400, 'bad_schema'],
    [await compareJson(S, null, null, { raw: '{"image_a": 5, "image_b": "x"}' }), 400, 'bad_schema'],
    [await compareJson(S, null, null, { raw: '{"image_a": "###", "image_b": "###"}' }), 400, 'bad_base64'],
    [await compareJson(S, null, null, { raw: '[1,2]' }), 400, 'bad_json'],
    [await compareJson(S, null, null, { raw: '{"image_a": ' }), 400, 'bad_json'],
    [await compareJson(S, a1, a1, { contentType: 'text/plain' }), 415, 'unsupported_media_type'],
    [await compareJson(S, null, null, { contentType: 'multipart/form-data; boundary=zz', raw: '--zz\r\nno end' }), 400, 'bad_multipart'],
    [await compareJson(S, Buffer.from('not an image at all'), a1), 422, 'corrupt_image'],
    [await compareJson(S, a1, a1.subarray(0, 600)), 422, 'corrupt_image'],
    [await compareJson(S, a1, greyPng()), 422, 'no_face'],
    [await compareForm(S, { image_a: a1 }), 400, 'bad_schema'],
  ];
  for (const [i, [r, status, code]] of cases.entries()) {
    assert.equal(r.status, status, `case ${i}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, `case ${i}: ${JSON.stringify(r.body)}`);
  }
  const nf = cases[11][0].body.error.message;
  assert.match(nf, /image_b/, 'the message names the image');
  const get = await fetch(S.base + '/v1/faces:compare');
  assert.equal(get.status, 405);
});

test('an image over max_reference_bytes: 413 image_too_large', async () => {
  const small = await h.startServer({ limits: { per_ip_rate: 0, max_reference_bytes: 4096 } }, { threads: 1 });
  try {
    const a1 = img('Abel_Pacheco/Abel_Pacheco_0001.jpg');
    assert.ok(a1.length > 4096);
    const j = await compareJson(small, a1, a1);
    assert.equal(j.status, 413);
    assert.equal(j.body.error.code, 'image_too_large');
    const f = await compareForm(small, { image_a: a1, image_b: a1 });
    assert.equal(f.status, 413);
    assert.equal(f.body.error.code, 'image_too_large');
  } finally { await small.stop(); small.cleanup(); }
});
