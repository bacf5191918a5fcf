// overlay.js - from a frame's pixels to where they show on the page: the box a <video> or <img>
// draws its content in (object-fit and object-position as computed by the engine, border and
// padding, a mirroring transform), relative to an overlay element such as a canvas laid over it.
// Face boxes and landmarks are in frame pixels (the frame the worker analysed, scaled to fit the
// session's max size): scale them from that size, not from the element's.

const px = (v) => parseFloat(v) || 0;

/** One object-position component: '50%', '10px', 'left'... as an offset into `free` px. */
function position(token, free) {
  if (!token) return free / 2;
  if (token.endsWith('%')) return (px(token) / 100) * free;
  if (token === 'left' || token === 'top') return 0;
  if (token === 'right' || token === 'bottom') return free;
  if (token === 'center') return free / 2;
  return px(token);
}

/**
 * A mapping from frame pixels (frameW x frameH) to CSS pixels in `relativeTo`'s border box (or the
 * viewport): { x(fx), y(fy), box: { left, top, width, height } of the displayed frame, scale }.
 * mirror: the element is shown flipped left-right (default: read from its computed transform).
 */
export function frameToElement(media, frameW, frameH, { relativeTo = null, mirror } = {}) {
  const cs = getComputedStyle(media);
  const r = media.getBoundingClientRect();
  const base = relativeTo ? relativeTo.getBoundingClientRect() : { left: 0, top: 0 };
  const left = r.left - base.left + px(cs.borderLeftWidth) + px(cs.paddingLeft);
  const top = r.top - base.top + px(cs.borderTopWidth) + px(cs.paddingTop);
  const cw = r.width - px(cs.borderLeftWidth) - px(cs.paddingLeft) - px(cs.borderRightWidth) - px(cs.paddingRight);
  const ch = r.height - px(cs.borderTopWidth) - px(cs.paddingTop) - px(cs.borderBottomWidth) - px(cs.paddingBottom);
  const fit = cs.objectFit || 'fill';
  let sx = cw / frameW, sy = ch / frameH;
  if (fit === 'contain') sx = sy = Math.min(sx, sy);
  else if (fit === 'cover') sx = sy = Math.max(sx, sy);
  else if (fit === 'none') sx = sy = 1;
  else if (fit === 'scale-down') sx = sy = Math.min(1, sx, sy);
  const w = frameW * sx, h = frameH * sy;
  const [px0, py0] = (cs.objectPosition || '50% 50%').split(/\s+/);
  const ox = position(px0, cw - w), oy = position(py0, ch - h);
  if (mirror === undefined) mirror = /^matrix\(-/.test(cs.transform || '');
  return {
    scale: sx,
    x: (fx) => left + (mirror ? cw - (ox + fx * sx) : ox + fx * sx),
    y: (fy) => top + oy + fy * sy,
    box: { left: left + (mirror ? cw - ox - w : ox), top: top + oy, width: w, height: h },
  };
}
