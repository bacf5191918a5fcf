// models.js - where the engine's models are and how they are kept: the URL of each (named by its
// SHA-256, so the server lets the browser cache it for good) and the Cache API entry the worker
// keeps it in.
// preload.js (a classic script, no imports) repeats MODEL_CACHE and modelCacheKey: change both
export const MODEL_CACHE = 'veriface-models-v1';

/** models/roles.json: the roles the worker loads (the C table vf_model_roles, with sha256 and bytes). */
export const rolesUrl = (baseUrl) => new URL('models/roles.json', baseUrl).href;

/** A role's URL: the integrator's override, else models/<file>?v=<sha256>. */
export function modelUrl(baseUrl, role, overrides = {}) {
  return overrides[role.name] || new URL(`models/${role.file}${role.sha256 ? `?v=${role.sha256}` : ''}`, baseUrl).href;
}

/** The Cache API key of a model: its hash, whatever URL it came from. */
export const modelCacheKey = (origin, sha256) => `${origin}/__veriface__/models/sha256/${sha256}`;
