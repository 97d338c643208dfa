'use strict'
// A dependency-free SVG bar chart of the benchmark targets: one bar per target, measured against
// its goal (ratio targets as "x", memory targets as MiB against their ceiling).

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function writeChart(file, results) {
  const rows = results.flatMap((r) => r.targets.filter((t) => t.target || t.max || t.maxRatio))
  const width = 900
  const rowH = 28
  const left = 380
  const height = 40 + rows.length * rowH + 20
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">crunchycone-storage vs Node baselines: measured / goal (bar reaching the line = target met)</text>`,
  ]
  const scale = (width - left - 170) / 2 // 1.0 (the goal) sits at the middle
  rows.forEach((t, i) => {
    const y = 40 + i * rowH
    // For ratios higher is better; for memory ceilings lower is better, so plot goal/measured.
    const score = t.max ? t.max / Math.max(t.value, 0.001) : t.maxRatio ? t.maxRatio / t.ratio : t.ratio / t.target
    const met = score >= 1
    const w = Math.min(score, 2) * scale
    const label = t.max
      ? `${t.value.toFixed(1)} MiB (≤ ${t.max})`
      : t.maxRatio
        ? `${t.ratio.toFixed(2)}x (≤ ${t.maxRatio}x)`
        : `${t.ratio.toFixed(2)}x (≥ ${t.target}x)`
    parts.push(
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${escape(t.name)}</text>`,
      `<rect x="${left}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${met ? '#2e8b57' : '#c0392b'}"/>`,
      `<text x="${left + w + 6}" y="${y + 17}">${escape(label)}</text>`,
    )
  })
  const goalX = left + scale
  parts.push(`<line x1="${goalX}" y1="34" x2="${goalX}" y2="${height - 14}" stroke="#333" stroke-dasharray="4 3"/>`)
  parts.push(`<text x="${goalX}" y="${height - 2}" text-anchor="middle">goal</text>`, '</svg>')
  require('node:fs').writeFileSync(file, parts.join('\n'))
}

module.exports = { writeChart }
