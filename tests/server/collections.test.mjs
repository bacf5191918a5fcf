// collections.test.mjs - face collections and 1:N duplicate search (issue 13 item 5) on real faces:
// the same person of ../shared/data/faces-lfw under another external_face_id is flagged
// review / duplicate.identity and a different person is not; search by image, face id and
// session; deletes; two server processes on one store see each other's changes; bad input 4xx.
import * as h from './harness.mjs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

h.requireData({ pad: false });
const LFW = join(h.env.data, 'faces-lfw');
if (!existsSync(join(LFW, 'pairs.csv'))) { console.log(`SKIP: ${LFW} absent`); process.exit(77); }
const img = (p) => readFileSync(join(LFW, p));
const GUL = ['Abdullah_Gul/Abdullah_Gul_0001.jpg', 'Abdullah_Gul/Abdullah_Gul_0006.jpg', 'Abdullah_Gul/Abdullah_Gul_0007.jpg',
  'Abdullah_Gul/Abdullah_Gul_0012.jpg'];
const BRODY = ['Abdullah/Abdullah_0001.jpg', 'Abdullah/Abdullah_0004.jpg'];   // another person

let S, S2;
before(async () => {
  S = await h.startServer({ limits: { per_ip_rate: 0, per_session_per_min: 0 } });
  S2 = await h.startServer({ limits: { per_ip_rate: 0 } }, { threads: 1, db: S.db });   // a second instance, one store
});
after(async () => {
  await S2?.stop(); await S?.stop();
  S2?.cleanup(); S?.cleanup();
});

async function call(srv, method, path, body, { apiKey = h.API_KEY, form = false } = {}) {
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  let payload;
  if (form) {
    payload = new FormData();
    for (const [k, v] of Object.entries(body)) {
      if (Buffer.isBuffer(v)) payload.append(k, new Blob([v], { type: 'image/jpeg' }), 'x.jpg'); else payload.append(k, String(v));
    }
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(srv.base + path, { method, headers, body: payload });
  return { status: res.status, body: await res.json() };
}
const b64 = (p) => img(p).toString('base64');
const similarity = async (a, b) => (await call(S, 'POST', '/v1/faces:compare', { image_a: b64(a), image_b: b64(b) })).body.similarity;

test('duplicate identities on faces-lfw: the same person under another id -> review, another person -> approve', async () => {
  // the threshold between this embedder's scores of these photos: the policy is tested, not the embedder
  let same = await similarity(BRODY[0], BRODY[1]), other = -1;
  for (let i = 0; i < GUL.length; i++) {
    for (let j = i + 1; j < GUL.length; j++) same = Math.min(same, await similarity(GUL[i], GUL[j]));
    for (const b of BRODY) other = Math.max(other, await similarity(GUL[i], b));
  }
  assert.ok(same > other + 0.05, `same person ${same}, different ${other}`);
  const threshold = (same + other) / 2;
  const c = await call(S, 'POST', '/v1/collections', { name: 'onboarding', dedupe_threshold: threshold });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const cid = c.body.collection_id;
  assert.match(cid, /^[0-9a-f]{32}$/);
  const faces = `/v1/collections/${cid}/faces`;

  const alice = await call(S, 'POST', faces, { external_face_id: 'alice', image: b64(GUL[0]) });
  assert.equal(alice.status, 201, JSON.stringify(alice.body));
  assert.equal(alice.body.decision, 'approve');
  assert.deepEqual(alice.body.reasons, []);
  // the same person again under her own id: not a duplicate identity
  const again = await call(S, 'POST', faces, { external_face_id: 'alice', image: b64(GUL[2]) });
  assert.equal(again.body.decision, 'approve', JSON.stringify(again.body));
  // the same person as "bob" (multipart): flagged, and alice is named as the duplicate
  const bob = await call(S, 'POST', faces, { external_face_id: 'bob', image: img(GUL[1]) }, { form: true });
  assert.equal(bob.status, 201, JSON.stringify(bob.body));
  assert.equal(bob.body.decision, 'review');
  assert.deepEqual(bob.body.reasons, ['duplicate.identity']);
  assert.deepEqual(bob.body.duplicates.map((d) => d.external_face_id), ['alice', 'alice']);
  assert.ok(bob.body.duplicates[0].similarity >= threshold);
  // a different person: not flagged
  const carol = await call(S, 'POST', faces, { external_face_id: 'carol', image: b64(BRODY[0]) });
  assert.equal(carol.body.decision, 'approve', JSON.stringify(carol.body));
  assert.deepEqual(carol.body.duplicates, []);

  // search by image, with the policy for a newcomer "dave" and for alice herself
  const q = { image: b64(GUL[3]), max_faces: 5, threshold: -1 };
  const dave = await call(S, 'POST', `/v1/collections/${cid}/search`, { ...q, external_face_id: 'dave' });
  assert.equal(dave.status, 200, JSON.stringify(dave.body));
  assert.equal(dave.body.faces.length, 4);
  assert.deepEqual(dave.body.faces.slice(0, 3).map((f) => f.external_face_id).sort(), ['alice', 'alice', 'bob']);
  assert.equal(dave.body.faces[3].external_face_id, 'carol');
  for (let i = 1; i < 4; i++) assert.ok(dave.body.faces[i].similarity <= dave.body.faces[i - 1].similarity);
  assert.equal(dave.body.decision, 'review');
  assert.deepEqual(dave.body.reasons, ['duplicate.identity']);
  const brody = await call(S, 'POST', `/v1/collections/${cid}/search`, { image: b64(BRODY[1]), external_face_id: 'carol' });
  assert.equal(brody.body.decision, 'approve', JSON.stringify(brody.body));
  assert.deepEqual(brody.body.faces.map((f) => f.external_face_id), ['carol'], 'the default threshold is the dedupe threshold');
  const one = await call(S, 'POST', `/v1/collections/${cid}/search`, { ...q, max_faces: 1 });
  assert.equal(one.body.faces.length, 1);
  assert.equal(one.body.decision, undefined, 'no external_face_id: hits only');
  const none = await call(S, 'POST', `/v1/collections/${cid}/search`, { ...q, threshold: 0.999 });
  assert.deepEqual(none.body.faces, []);

  // search by face id: bob's own face is left out, alice's are found, bob is a duplicate of alice
  const byFace = await call(S, 'POST', `/v1/collections/${cid}/search`, { face_id: bob.body.face_id });
  assert.equal(byFace.status, 200, JSON.stringify(byFace.body));
  assert.ok(!byFace.body.faces.some((f) => f.face_id === bob.body.face_id));
  assert.ok(byFace.body.faces.some((f) => f.face_id === alice.body.face_id));
  assert.equal(byFace.body.decision, 'review');

  // the second instance sees the same collection (the store is the truth); a delete there ...
  const info = await call(S2, 'GET', `/v1/collections/${cid}`);
  assert.equal(info.status, 200, JSON.stringify(info.body));
  assert.equal(info.body.faces, 4);
  const del = await call(S2, 'DELETE', `${faces}/${alice.body.face_id}`);
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.equal((await call(S2, 'DELETE', `${faces}/${alice.body.face_id}`)).status, 404, 'deleted once');
  // ... is seen by the first, and a face added on the first is found by the second
  const after = await call(S, 'POST', `/v1/collections/${cid}/search`, q);
  assert.ok(!after.body.faces.some((f) => f.face_id === alice.body.face_id), 'deleted face not found');
  const erin = await call(S, 'POST', faces, { external_face_id: 'erin', image: b64(BRODY[1]) });
  assert.equal(erin.body.decision, 'review', 'Brody again under another id');
  const s2 = await call(S2, 'POST', `/v1/collections/${cid}/search`, { image: b64(BRODY[0]) });
  assert.ok(s2.body.faces.some((f) => f.face_id === erin.body.face_id), JSON.stringify(s2.body));
  assert.equal((await call(S, 'GET', `/v1/collections/${cid}`)).body.faces, 4);
  // the deleted face's embedding is gone from the store, its row stays as the change others read
  const row = h.sql(S.db, `SELECT CASE WHEN embedding IS NULL THEN 1 ELSE 0 END, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM faces WHERE face_id='${alice.body.face_id}'`);
  assert.deepEqual(row, [[1, 1]]);
  assert.ok(h.sql(S.db, "SELECT count(*) FROM audit WHERE route='collections_face_add' AND decision='review'")[0][0] >= 2);
});

test('past collections.ivf_min an instance searches an IVF index, rebuilt from the store, and still finds the duplicate', async () => {
  // a third instance on the same store that turns a collection of 40 faces into an inverted file
  const S3 = await h.startServer({ limits: { per_ip_rate: 0 }, collections: { ivf_min: 40 } }, { threads: 1, db: S.db });
  try {
    const cid = (await call(S, 'POST', '/v1/collections', {})).body.collection_id;
    const people = readdirSync(LFW).filter((d) => d !== GUL[0].split('/')[0] && existsSync(join(LFW, d)) && statSync(join(LFW, d)).isDirectory())
      .slice(0, 44);
    let added = 0;
    for (const d of people) {
      const r = await call(S, 'POST', `/v1/collections/${cid}/faces`, { external_face_id: d, image: b64(join(d, readdirSync(join(LFW, d))[0])) });
      if (r.status === 201) added++; else assert.equal(r.body.error.code, 'no_face', JSON.stringify(r.body));
    }
    assert.ok(added >= 40, `${added} faces`);
    const gul = await call(S, 'POST', `/v1/collections/${cid}/faces`, { external_face_id: 'gul', image: b64(GUL[0]) });
    assert.equal(gul.status, 201);
    // its first use answers from a flat index while the IVF one is built in the background
    let info3 = (await call(S3, 'GET', `/v1/collections/${cid}`)).body;
    for (let t = 0; t < 300 && info3.index_building; t++) {
      await new Promise((r) => setTimeout(r, 100));
      info3 = (await call(S3, 'GET', `/v1/collections/${cid}`)).body;
    }
    assert.equal(info3.index, 'ivf', JSON.stringify(info3));
    assert.equal(info3.index_building, false);
    assert.equal(info3.faces, added + 1);
    assert.equal((await call(S, 'GET', `/v1/collections/${cid}`)).body.index, 'flat', 'the first instance keeps its exact index');
    for (const srv of [S, S3]) {
      const r = await call(srv, 'POST', `/v1/collections/${cid}/search`, { image: b64(GUL[1]), external_face_id: 'impostor', max_faces: 1, threshold: -1 });
      assert.equal(r.body.faces[0].face_id, gul.body.face_id, JSON.stringify(r.body));
    }
    // a delete on the flat instance reaches the IVF one
    assert.equal((await call(S, 'DELETE', `/v1/collections/${cid}/faces/${gul.body.face_id}`)).status, 200);
    const r3 = await call(S3, 'POST', `/v1/collections/${cid}/search`, { image: b64(GUL[1]), max_faces: 5, threshold: -1 });
    assert.ok(!r3.body.faces.some((f) => f.face_id === gul.body.face_id));
    assert.equal((await call(S3, 'GET', `/v1/collections/${cid}`)).body.faces, added);
  } finally { await S3.stop(); S3.cleanup(); }
});

test('the default dedupe threshold is the embedder band strong', async () => {
  const c = await call(S, 'POST', '/v1/collections', {});
  assert.equal(c.status, 201);
  const t = c.body.dedupe_threshold;
  const cmp = await call(S, 'POST', '/v1/faces:compare', { image_a: b64(GUL[0]), image_b: b64(GUL[0]) });
  assert.equal(cmp.body.band, 'strong');
  assert.ok(t > 0.3 && t < 0.95, `threshold ${t}`);
  assert.equal(c.body.model, cmp.body.model);
});

test('bad requests: 4xx with their codes', async () => {
  const cid = (await call(S, 'POST', '/v1/collections', {})).body.collection_id;
  const faces = `/v1/collections/${cid}/faces`, search = `/v1/collections/${cid}/search`;
  const cases = [
    [await call(S, 'POST', '/v1/collections', {}, { apiKey: null }), 401, 'unauthorized'],
    [await call(S, 'POST', '/v1/collections', { dedupe_threshold: 2 }), 400, 'bad_schema'],
    [await call(S, 'POST', '/v1/collections', { colour: 'red' }), 400, 'bad_schema'],
    [await call(S, 'POST', '/v1/collections', '{"name":'), 400, 'bad_json'],
    [await call(S, 'GET', `/v1/collections/${'0'.repeat(32)}`), 404, 'unknown_collection'],
    [await call(S, 'POST', faces, { image: b64(GUL[0]) }), 400, 'bad_schema'],                          // no external_face_id
    [await call(S, 'POST', faces, { external_face_id: 'x'.repeat(129), image: b64(GUL[0]) }), 400, 'bad_schema'],
    [await call(S, 'POST', faces, { external_face_id: 'a' }), 400, 'bad_schema'],                        // no image or session
    [await call(S, 'POST', faces, { external_face_id: 'a', image: b64(GUL[0]), session_id: '0'.repeat(32) }), 400, 'bad_schema'],
    [await call(S, 'POST', faces, { external_face_id: 'a', face_id: '0'.repeat(32) }), 400, 'bad_schema'],
    [await call(S, 'POST', faces, { external_face_id: 'a', image: 'not base64!' }), 400, 'bad_base64'],
    [await call(S, 'POST', faces, { external_face_id: 'a', image: Buffer.from('no image').toString('base64') }), 422, 'corrupt_image'],
    [await call(S, 'POST', faces, { external_face_id: 'a', session_id: '0'.repeat(32) }), 404, 'unknown_session'],
    [await call(S, 'POST', search, { image: b64(GUL[0]), max_faces: 0 }), 400, 'bad_schema'],
    [await call(S, 'POST', search, { image: b64(GUL[0]), max_faces: 101 }), 400, 'bad_schema'],
    [await call(S, 'POST', search, { image: b64(GUL[0]), max_faces: 2.5 }), 400, 'bad_schema'],
    [await call(S, 'POST', search, { image: b64(GUL[0]), threshold: 'high' }), 400, 'bad_schema'],
    [await call(S, 'POST', search, { face_id: '0'.repeat(32) }), 404, 'unknown_face'],
    [await call(S, 'POST', search, {}), 400, 'bad_schema'],
    [await call(S, 'DELETE', `${faces}/${'0'.repeat(32)}`), 404, 'unknown_face'],
    [await call(S, 'PUT', faces, {}), 405, 'method_not_allowed'],
    [await call(S, 'POST', `/v1/collections/${cid}/other`, {}), 404, 'not_found'],
  ];
  for (const [i, [r, status, code]] of cases.entries()) {
    assert.equal(r.status, status, `case ${i}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, `case ${i}: ${JSON.stringify(r.body)}`);
  }
  // an empty collection answers no hits
  const empty = await call(S, 'POST', search, { image: b64(GUL[0]), external_face_id: 'z' });
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.body.faces, []);
  assert.equal(empty.body.decision, 'approve');
});

test('faces from sessions: a decided capture is added; a second capture of the same person under another id -> review', async (t) => {
  if (!existsSync(join(h.env.padModels, 'minifasnet-v2.vfm'))) { t.skip('PAD models absent: no session is approved'); return; }
  const config = (await h.createSession(S, await h.newKey())).body.config;
  const live = (start) => h.simulate(config, ['--mjpeg', h.MJPEG(), '--start', String(start), '--max', '40']);
  async function decided(sim) {
    const key = await h.newKey();
    const s = (await h.createSession(S, key)).body;
    const r = await h.postResult(S, s.session_id, h.buildPackage(s, sim), key);
    assert.equal(r.decision, 'approve', JSON.stringify(r.detail?.reasons));
    return s.session_id;
  }
  const cid = (await call(S, 'POST', '/v1/collections', {})).body.collection_id;
  const pending = (await h.createSession(S, await h.newKey())).body.session_id;
  const np = await call(S, 'POST', `/v1/collections/${cid}/faces`, { external_face_id: 'p', session_id: pending });
  assert.equal(np.status, 409);
  assert.equal(np.body.error.code, 'session_not_final');

  const first = await decided(live(60));
  const add = await call(S, 'POST', `/v1/collections/${cid}/faces`, { external_face_id: 'video-person', session_id: first });
  assert.equal(add.status, 201, JSON.stringify(add.body));
  assert.equal(add.body.decision, 'approve');
  assert.equal(add.body.session_id, first);
  const second = await decided(live(85));
  const dup = await call(S2, 'POST', `/v1/collections/${cid}/search`, { session_id: second, external_face_id: 'someone-else' });
  assert.equal(dup.status, 200, JSON.stringify(dup.body));
  assert.equal(dup.body.decision, 'review');
  assert.deepEqual(dup.body.reasons, ['duplicate.identity']);
  assert.equal(dup.body.faces[0].session_id, first);
  const same = await call(S, 'POST', `/v1/collections/${cid}/search`, { session_id: second, external_face_id: 'video-person' });
  assert.equal(same.body.decision, 'approve');
  // a different person of faces-lfw is not this one
  const lfw = await call(S, 'POST', `/v1/collections/${cid}/search`, { image: b64(BRODY[0]), external_face_id: 'brody' });
  assert.equal(lfw.body.decision, 'approve', JSON.stringify(lfw.body));
  assert.deepEqual(lfw.body.faces, []);
});
