// Preloaded into the API nodes by `bench:fanout --profile` (NODE_OPTIONS=--import=…; node refuses --cpu-prof there):
// the V8 CPU profiler, written as a .cpuprofile (Chrome DevTools, speedscope) when the process exits. It starts with
// the process, or FANOUT_PROFILE_DELAY_S seconds later to leave out start-up and connection set-up.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.FANOUT_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  const start = () => session.post('Profiler.start');
  const delayS = Number(process.env.FANOUT_PROFILE_DELAY_S ?? 0);
  if (delayS > 0) setTimeout(start, delayS * 1000).unref();
  else start();
  process.once('exit', () => {
    // An in-process session answers synchronously, so this completes before the process is gone.
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `api-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
