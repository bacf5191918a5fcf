// guidance.js - the C guidance codes (vf_guidance, values pinned) with stable keys and default
// English messages. A UI translates by key: pass { messages: { too_dark: '...' } }.

/** The C guidance codes by value (vf_guidance). */
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
  // not C codes: the prompts of the active challenge (docs/CHALLENGE.md; left/right are the
  // person's own), and states of the flow
  challenge_left: 'Slowly turn your head to your left',
  challenge_right: 'Slowly turn your head to your right',
  challenge_up: 'Slowly look up',
  challenge_down: 'Slowly look down',
  challenge_centre: 'Look straight at the camera',
  challenge_hold: 'Keep looking at the camera',
  challenge_light: 'The screen will change colour for a few seconds',
  loading: 'Loading…',
  starting: 'Starting the camera…',
  analyzing: 'Checking…',
  sending: 'Sending…',
  done: 'Done',
  start: 'Start',
  cancel: 'Cancel',
  progress: 'Verification progress',
  camera_denied: 'Camera access was denied. Allow the camera and try again.',
  camera_missing: 'No camera was found.',
  error: 'Something went wrong. Please try again.',
});

/** The challenge prompt keys (onGuidance during the active challenge, with code -1). */
export const CHALLENGE_KEYS = Object.freeze(['challenge_left', 'challenge_right', 'challenge_up', 'challenge_down', 'challenge_centre',
  'challenge_hold']);

/** Key of a guidance code ('unknown' outside the table). */
export function guidanceKey(code) { return GUIDANCE_KEYS[code] || 'unknown'; }

/** Message for a key or code, from `messages` first, then the defaults. */
export function guidanceMessage(keyOrCode, messages = {}) {
  const key = typeof keyOrCode === 'number' ? guidanceKey(keyOrCode) : keyOrCode;
  return (messages && messages[key]) || DEFAULT_MESSAGES[key] || key;
}
