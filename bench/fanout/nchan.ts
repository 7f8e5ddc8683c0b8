import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listensOn, spawnProcess, waitUntil, type ManagedProcess } from '../../scripts/processes.ts';
import { nginxBinary } from '../../scripts/stack.ts';

// The reference: nchan (the pub/sub module inside nginx, Debian libnginx-mod-nchan) in an nginx of its own, in its
// own -p prefix on loopback. POST /pub/<channel> publishes; GET /sub/<channel> is an EventSource subscriber that gets
// the newest stored message first (as Orrery sends the latest snapshot on connect), then every new one.

export const NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';

export interface Nchan {
  port: number;
  proc: ManagedProcess;
  stop(): Promise<void>;
}

export function nchanConfig(o: { dir: string; port: number; workers: number; heartbeatS: number }): string {
  return `load_module ${NCHAN_MODULE};
user nobody nogroup;
worker_processes ${o.workers};
# This machine allows 20000 open files per process.
worker_rlimit_nofile 20000;
master_process on;
daemon off;
pid ${o.dir}/nginx.pid;
error_log stderr warn;

events {
    worker_connections 19000;
    multi_accept on;
}

http {
    access_log off;
    client_body_temp_path ${o.dir}/client_body_temp;
    proxy_temp_path ${o.dir}/proxy_temp;
    fastcgi_temp_path ${o.dir}/fastcgi_temp;
    uwsgi_temp_path ${o.dir}/uwsgi_temp;
    scgi_temp_path ${o.dir}/scgi_temp;
    # Message bodies stay in memory.
    client_body_buffer_size 128k;
    client_max_body_size 128k;
    keepalive_requests 1000000;
    tcp_nodelay on;
    nchan_shared_memory_size 256m;

    server {
        # reuseport: the kernel spreads connections evenly over the workers.
        listen 127.0.0.1:${o.port} backlog=4096 reuseport;

        location ~ ^/pub/([A-Za-z0-9_-]+)$ {
            nchan_publisher;
            nchan_channel_id $1;
            nchan_message_buffer_length 10;
            nchan_message_timeout 300s;
        }

        location ~ ^/sub/([A-Za-z0-9_-]+)$ {
            nchan_subscriber eventsource;
            nchan_channel_id $1;
            nchan_subscriber_first_message -1;
            # Same keep-alive comment period as Orrery's HEARTBEAT_MS.
            nchan_eventsource_ping_interval ${o.heartbeatS};
        }
    }
}
`;
}

export async function startNchan(o: { workers: number; heartbeatS: number; echo?: boolean }): Promise<Nchan> {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-nchan-'));
  // Workers run as nobody and must reach their temp directories under the prefix.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nchanConfig({ dir, port, workers: o.workers, heartbeatS: o.heartbeatS }));
  const proc = spawnProcess('nchan', nginxBinary(), ['-p', `${dir}/`, '-c', conf, '-e', 'stderr'], { echo: o.echo });
  const stop = async (): Promise<void> => {
    // SIGTERM is nginx's fast shutdown (SIGQUIT would wait for every open stream).
    await proc.stop('SIGTERM', 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(`nchan nginx on port ${port}`, async () => listensOn(proc.pid, port), { proc, timeoutMs: 15_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, proc, stop };
}
