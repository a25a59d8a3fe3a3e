// Skill over the naive baseline as people read it: a signed percentage.

/** "+1.2%" / "−3.4%" for a skill. */
export function formatSkill(value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)}%`;
}
