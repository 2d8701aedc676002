/** One bar of a {@link barChart}. */
export interface Bar {
  label: string;
  value: number;
  /** Highlight (hilok's bars). */
  accent?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar chart as a standalone SVG string (no external tools or fonts): one bar per
 * entry, value printed at the end of the bar; non-finite values are drawn as "n/a".
 */
export function barChart(title: string, unit: string, bars: readonly Bar[], note = ''): string {
  const labelW = 210;
  const plotW = 360;
  const rowH = 26;
  const top = 44;
  const height = top + bars.length * rowH + (note ? 34 : 16);
  const width = labelW + plotW + 110;
  const max = Math.max(1e-9, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const w = Number.isFinite(b.value) ? Math.max(1, (b.value / max) * plotW) : 0;
    const text = Number.isFinite(b.value) ? `${b.value.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${unit}` : 'n/a';
    return [
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${b.accent ? '#d9480f' : '#868e96'}"/>`,
      `<text x="${labelW + w + 6}" y="${y + 17}">${esc(text)}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...rows,
    note ? `<text x="12" y="${height - 12}" font-size="11" fill="#555">${esc(note)}</text>` : '',
    '</svg>',
    '',
  ].join('\n');
}
