// Text into HTML and SVG: the five characters that could open markup, escaped.
export const escapeHtml = (value: unknown): string =>
  String(value ?? '-').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
