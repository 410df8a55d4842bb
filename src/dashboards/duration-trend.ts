import { html, type SafeHtml } from './html.js';
import type { DurationPoint } from './recent-durations.js';
import { formatDuration } from './format.js';

const WIDTH = 100;
const HEIGHT = 28;
const PAD = 3;

/**
 * A sparkline of refresh durations, oldest left: the line joins every attempt, red dots
 * mark failures, the last point is emphasised. The y axis starts at zero so a flat line
 * means "steady", not "zoomed into noise".
 */
export function durationTrend(points: readonly DurationPoint[]): SafeHtml {
  if (points.length === 0) return html`<span class="muted">no runs yet</span>`;
  const max = Math.max(...points.map((point) => point.duration_ms), 1);
  const step = points.length > 1 ? (WIDTH - 2 * PAD) / (points.length - 1) : 0;
  const xy = points.map((point, index) => ({
    x: points.length > 1 ? PAD + index * step : WIDTH / 2,
    y: HEIGHT - PAD - (point.duration_ms / max) * (HEIGHT - 2 * PAD),
    point,
  }));
  const line = xy.map(({ x, y }) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const last = xy[xy.length - 1]!;
  const min = Math.min(...points.map((point) => point.duration_ms));
  const label = `last ${points.length} runs: ${formatDuration(min)} – ${formatDuration(max)}, latest ${formatDuration(last.point.duration_ms)}`;
  return html`<svg class="trend" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${label}">
    <title>${label}</title>
    <polyline points="${line}" fill="none" stroke="#5b7fa6" stroke-width="1.5" stroke-linejoin="round"/>
    ${xy
      .filter(({ point }) => point.status === 'failed')
      .map(({ x, y }) => html`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2.5" fill="#c62828"/>`)}
    <circle cx="${last.x.toFixed(1)}" cy="${last.y.toFixed(1)}" r="2.5" fill="${last.point.status === 'failed' ? '#c62828' : '#1f4e79'}"/>
  </svg>`;
}
