// guidance.js - the C guidance codes (vf_guidance, values pinned) with stable keys and default
// English messages. A UI translates by key: pass { messages: { too_dark: '...' } }.

export const GUIDANCE_KEYS = Object.freeze(['ok', 'no_face', 'multiple_faces', 'too_far', 'too_close', 'off_center',
  'occluded', 'turn_head', 'tilt_head', 'eyes_closed', 'too_dark', 'too_bright', 'uneven_light', 'glare', 'blurry',
  'hold_still']);

export const DEFAULT_MESSAGES = Object.freeze({
  ok: 'Hold it there',
  no_face: 'Look at the camera',
  multiple_faces: 'Only one person in the picture',
  too_far: 'Move closer',
  too_close: 'Move back a little',
  off_center: 'Center your face in the oval',
  occluded: 'Remove anything covering your face',
  turn_head: 'Look straight at the camera',
  tilt_head: 'Keep your head straight',
  eyes_closed: 'Keep your eyes open',
  too_dark: 'Find more light',
  too_bright: 'Too much light; avoid direct light',
  uneven_light: 'Light your face evenly',
  glare: 'Avoid reflections on your face or glasses',
  blurry: 'Hold the camera steady',
  hold_still: 'Hold still',
  // not C codes: the head-turn challenge of adaptive liveness, and states of the flow
  turn_left: 'Turn your head slightly to your left',
  turn_right: 'Turn your head slightly to your right',
  loading: 'Loading…',
  starting: 'Starting the camera…',
  analyzing: 'Checking…',
  sending: 'Sending…',
  done: 'Done',
  start: 'Start',
  cancel: 'Cancel',
  camera_denied: 'Camera access was denied. Allow the camera and try again.',
  camera_missing: 'No camera was found.',
  error: 'Something went wrong. Please try again.',
});

/** Key of a guidance code ('unknown' outside the table). */
export function guidanceKey(code) { return GUIDANCE_KEYS[code] || 'unknown'; }

/** Message for a key or code, from `messages` first, then the defaults. */
export function guidanceMessage(keyOrCode, messages = {}) {
  const key = typeof keyOrCode === 'number' ? guidanceKey(keyOrCode) : keyOrCode;
  return (messages && messages[key]) || DEFAULT_MESSAGES[key] || key;
}
