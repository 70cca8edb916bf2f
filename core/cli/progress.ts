// Progress for long work on a terminal (one line, rewritten in place); nothing at all when
// stderr is not a terminal, where the JSON logs are the record.
import type { Host } from '../delivery/host.ts';

export function startProgress(host: Host, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => undefined;
  const started = Date.now();
  const draw = () => {
    const s = host.stats();
    const done = s.succeeded + s.failed + s.duplicate + s.superseded;
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    stream.write(
      `\r\x1b[K${done} done (${s.succeeded} ok, ${s.duplicate} duplicate, ${s.superseded} superseded, ${s.failed} failed, ${s.deferred} left for later), ` +
        `${s.inFlight} in flight, ${s.backlog} waiting · ${rate.toFixed(0)}/s`,
    );
  };
  const timer = setInterval(draw, 200);
  return () => {
    clearInterval(timer);
    draw();
    stream.write('\n');
  };
}
