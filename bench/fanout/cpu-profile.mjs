// Preloaded into the API nodes by `bench:fanout --profile` (NODE_OPTIONS=--import=…; node refuses --cpu-prof there):
// the V8 CPU profiler from the first line, written as a .cpuprofile (Chrome DevTools, speedscope) when the process exits.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.FANOUT_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    // An in-process session answers synchronously, so this completes before the process is gone.
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `api-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
